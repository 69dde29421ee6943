#!/usr/bin/env bash
# Many machines (issue 20): bench/storage.sh [--photos N] [--workers N] [--face-processes N]
# Starts a throwaway PostgreSQL, Redis and SeaweedFS S3 (as ./test.sh does), runs
# bench/storage.py, stops them. Results: bench/RESULTS.md ("Many machines") and
# bench/results_storage.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements-dev.txt
export FACE_MODEL_DIR="${FACE_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/phopy/models}"
.venv/bin/python -m phopy.faces.models --dir "$FACE_MODEL_DIR"
. scripts/test_services.sh
trap stop_test_services EXIT
trap 'exit 130' INT TERM
start_test_postgres
start_test_redis
start_test_s3
[ -n "${PHOPY_TEST_REDIS_URL:-}" ] || { echo "Redis is needed" >&2; exit 1; }
[ "${PHOPY_TEST_S3_SERVER:-}" = "seaweedfs" ] || { echo "SeaweedFS is needed" >&2; exit 1; }
.venv/bin/python -m bench.storage "$@"
