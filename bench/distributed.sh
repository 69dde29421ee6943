#!/usr/bin/env bash
# Embedded runner vs Celery, and search on PostgreSQL: bench/distributed.sh [--persons N ...]
# Starts a throwaway PostgreSQL and Redis (as ./test.sh does), runs bench/distributed.py,
# stops them. Results: bench/RESULTS.md ("Distributed") and bench/distributed.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements-dev.txt
. scripts/test_services.sh
trap stop_test_services EXIT
trap 'exit 130' INT TERM
start_test_postgres
start_test_redis
[ -n "${PHOPY_TEST_REDIS_URL:-}" ] || { echo "Redis is needed" >&2; exit 1; }
.venv/bin/python -m bench.distributed "$@"
