#!/usr/bin/env bash
# Run Phopy: ./start.sh  →  http://127.0.0.1:5000 (SQLite + files under ./instance).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh requirements-local.txt
# Everything Phopy writes (database with password hashes and face data, photos)
# is for this user only.
umask 077
# Settings from .env fill in what the environment does not already say: the
# command line wins (PORT=8000 PHOPY_DATA_DIR=/x ./start.sh). Parsed by
# python-dotenv, the same reader the app uses.
eval "$(.venv/bin/python - <<'PY'
import os, shlex
from dotenv import dotenv_values
for key, value in dotenv_values(".env").items():
    if key.isidentifier() and value is not None and key not in os.environ:
        if key == "PUBLIC_BASE_URL" and value == "http://127.0.0.1:5000":
            continue  # the old shipped default: let the address follow PORT instead
        print(f"export {key}={shlex.quote(value)}")
PY
)"

.venv/bin/flask --app app init-db

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
export HOST PORT  # the QR address follows them when PUBLIC_BASE_URL is not set
if [ "${LOCALTUNNEL:-0}" = "1" ] || [ "${LOCALTUNNEL:-}" = "true" ]; then
  if command -v npx >/dev/null; then
    echo "==> Starting localtunnel for port $PORT"
    export TRUST_PROXY_HEADERS=1
    npx --yes localtunnel --port "$PORT" ${LOCALTUNNEL_SUBDOMAIN:+--subdomain "$LOCALTUNNEL_SUBDOMAIN"} &
  else
    echo "LOCALTUNNEL is on but npx is missing: install Node.js to use it." >&2
  fi
fi

if [ "${FLASK_DEBUG:-0}" = "1" ]; then
  exec .venv/bin/flask --app phopy.wsgi run --debug --host "$HOST" --port "$PORT"
fi
# One worker process with threads: the job runner in it and the selfie pool use
# every core through their own face-engine processes. More web workers are safe too: tasks are
# claimed atomically in the database.
# Searches wait for the selfie pool in their own threads (at most SEARCH_QUEUE_SIZE,
# 64 by default), so there are threads to spare for pages meanwhile.
exec .venv/bin/gunicorn --bind "$HOST:$PORT" --workers "${WEB_WORKERS:-1}" --threads "${WEB_THREADS:-80}" \
  --timeout 120 --access-logfile - phopy.wsgi:app
