#!/usr/bin/env bash
# Line coverage of contracts/src; fails when under the threshold (default 95%).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
min=${COVERAGE_MIN:-95}
out=$(FOUNDRY_PROFILE=default forge coverage --report summary --no-match-coverage '(contracts/test|script)/' --ir-minimum 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -E '^\|' || true
total=$(echo "$out" | grep -E '^\| Total' | awk -F'|' '{print $3}' | grep -oE '[0-9]+\.[0-9]+' | head -n 1)
[ -n "$total" ] || { echo "coverage: no total line"; echo "$out" | tail -20; exit 1; }
echo "contracts/src line coverage: $total% (minimum $min%)"
awk -v t="$total" -v m="$min" 'BEGIN { exit !(t >= m) }'
