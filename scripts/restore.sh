#!/usr/bin/env bash
# Restore a backup into an EMPTY data folder (PHOPY_DATA_DIR) and database (DATABASE_URL),
# then verify every checksum and row count: ./scripts/restore.sh backups/phopy-backup-….tar.gz
set -euo pipefail
umask 077   # archives and restored files hold password hashes and face data: this user only
cd "$(dirname "$0")/.."   # settings: the environment, else .env (read by phopy.config)
exec .venv/bin/python -m phopy.backup restore "$@"
