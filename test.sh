#!/usr/bin/env bash
# Run the whole test suite: ./test.sh [pytest args]
# Sets up .venv with the test packages, installs Debian's chromium for the browser
# tests when it is missing, then runs pytest.
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

exec .venv/bin/python -m pytest "$@"
