#!/usr/bin/env bash
# Idempotent: creates <repo>/.venv with the SecantusDB MongoDB-compatible test server
# (SPEC tooling, see TOOLCHAIN.md). Fast and offline when already installed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PIN="SecantusDB==0.7.0b3"
if [ -x "$VENV/bin/secantusd-py" ] && [ -f "$VENV/.secantus-pin" ] && [ "$(cat "$VENV/.secantus-pin")" = "$PIN" ]; then
  exit 0
fi
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --pre "$PIN"
if [ ! -x "$VENV/bin/secantusd-py" ]; then
  echo "ensure-venv: $PIN installed but $VENV/bin/secantusd-py is missing" >&2
  exit 1
fi
echo "$PIN" > "$VENV/.secantus-pin"
