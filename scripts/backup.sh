#!/usr/bin/env bash
# Back up Phopy while it runs: ./scripts/backup.sh [--out DIR]  (default: ./backups)
# One dated archive: the database (SQLite online backup API, or pg_dump when
# DATABASE_URL is postgresql://…), the data folder, and a manifest of counts and checksums.
set -euo pipefail
umask 077   # archives and restored files hold password hashes and face data: this user only
cd "$(dirname "$0")/.."   # settings: the environment, else .env (read by phopy.config)
exec .venv/bin/python -m phopy.backup create "$@"
