#!/usr/bin/env bash
# Run the whole test suite: ./test.sh [pytest args]
# Sets up .venv with the test packages, installs Debian's chromium for the browser
# tests when it is missing, starts a throwaway PostgreSQL cluster, Redis and
# SeaweedFS's S3 server (scripts/test_services.sh), then runs pytest twice: on SQLite, then with
# PHOPY_TEST_DATABASE=postgresql (every test on its own fresh PostgreSQL
# database). PHOPY_TEST_DATABASES="sqlite" (or "postgresql") runs one pass only.
# Exits non-zero when either pass fails.
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh requirements-dev.txt

# Thai font so Thai pages render in the screenshots (phones have their own).
if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/tlwg ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "==> Installing Debian's chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-thai-tlwg >/dev/null) \
      || echo "Could not install chromium: browser tests will skip." >&2
  elif command -v sudo >/dev/null; then
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-thai-tlwg >/dev/null) \
      || echo "Could not install chromium: browser tests will skip." >&2
  fi
fi

# CI tests both face engines: fetch every model into one cache shared by test runs.
export FACE_MODEL_DIR="${FACE_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/phopy/models}"
.venv/bin/python -m phopy.faces.models --all --dir "$FACE_MODEL_DIR"

. scripts/test_services.sh
trap stop_test_services EXIT
trap 'exit 130' INT TERM
start_test_redis
start_test_s3

status=0
for database in ${PHOPY_TEST_DATABASES:-sqlite postgresql}; do
  if [ "$database" = "postgresql" ]; then
    start_test_postgres || { status=1; continue; }
  fi
  echo "==> Test pass on $database"
  rc=0
  PHOPY_TEST_DATABASE="$database" .venv/bin/python -m pytest "$@" || rc=$?
  if [ "$rc" = "5" ]; then rc=0; fi  # nothing collected in this pass (a -k filter)
  if [ "$rc" != "0" ]; then
    echo "==> Test pass on $database FAILED (pytest exit $rc)" >&2
    status=$rc
  fi
done
exit "$status"
