#!/usr/bin/env bash
# Creates .venv with the Python test tools when missing: SecantusDB (MongoDB wire-protocol test server)
# and slither (static analysis). Fast no-op when the pinned versions are already installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
req=tools/python-requirements.txt
want=$(sha256sum "$req" | cut -d' ' -f1)
stamp=.venv/.lucid-req-sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/secantusd-py ]; then
  exit 0
fi
echo "ensure-venv: installing Python test tools into .venv…" >&2
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check --pre -r "$req" >&2
for t in secantusd-py slither schemathesis; do
  [ -x ".venv/bin/$t" ] || { echo "ensure-venv: installed $req but .venv/bin/$t is missing" >&2; exit 1; }
done
echo "$want" > "$stamp"
