#!/usr/bin/env bash
# Static analysis of contracts/src with slither. Fails on any High or Medium finding; the exclusions in
# slither.config.json are justified there. forge builds through tools/solc (solcjs), so slither needs no
# native solc.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
tools/ensure-venv.sh
exec .venv/bin/slither . --config-file slither.config.json --fail-medium
