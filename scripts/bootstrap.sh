#!/usr/bin/env bash
# Shared set-up for start.sh and test.sh: .venv, packages, .env, database.
# Usage: scripts/bootstrap.sh [requirements-file]
set -euo pipefail
cd "$(dirname "$0")/.."
REQS="${1:-requirements-local.txt}"
PY="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  echo "==> Creating .venv"
  "$PY" -m venv .venv
fi
STAMP=".venv/.installed-$(cat "$REQS" requirements-*.txt 2>/dev/null | sha256sum | cut -c1-16)-$(basename "$REQS")"
if [ ! -f "$STAMP" ]; then
  echo "==> Installing $REQS (first run takes a minute)"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r "$REQS"
  # face_recognition pins the dlib *source* package; we use the dlib-bin wheel instead.
  .venv/bin/pip install -q --no-deps "face_recognition>=1.3.0"
  touch "$STAMP"
fi

# .env from .env.example when missing; a hand-written one without a real
# SECRET_KEY (none, or the example's placeholder) gets one, its other lines kept.
.venv/bin/python -m phopy.envfile .env --example .env.example
