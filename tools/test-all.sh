#!/usr/bin/env bash
# The README's test command (./dev test → just test → here). Runs every suite even when one fails,
# then prints one summary line `N passed, N failed` and exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/.bin:$PATH"
: "${FOUNDRY_PROFILE:=default}"; export FOUNDRY_PROFILE
logs=$(mktemp -d -t lucid-test.XXXXXX)
passed=0; failed=0; broken=()

# run NAME CMD...: runs a step, tees its output to a log, records failure.
run() {
  local name=$1; shift
  local t0=$SECONDS
  echo "━━ $name: $*"
  if "$@" 2>&1 | tee "$logs/$name.log"; then
    echo "━━ $name: ok ($((SECONDS - t0)) s)"
  else
    echo "━━ $name: FAILED ($((SECONDS - t0)) s)"; broken+=("$name")
  fi
}
# count NAME PASS FAIL: adds a runner's own counts to the summary.
count() { passed=$((passed + ${2:-0})); failed=$((failed + ${3:-0})); }

# Disk: a clean run needs about 4 GiB next to the clone (target/ 2.5 GiB, .venv, node_modules, forge's
# out/). A full disk fails a build midway with "No space left on device", so say it up front.
free_kib() { df -Pk . | awk 'NR == 2 { print $4 }'; }
echo "test-all: $(($(free_kib) / 1024)) MiB free for $PWD"
if [ "$(free_kib)" -lt $((4 * 1024 * 1024)) ]; then
  echo "test-all: warning: less than 4 GiB free; a clean build of the tests needs about 4 GiB" >&2
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  # nextest runs the end-to-end tests in their serial groups (.config/nextest.toml); install it like the
  # rest of the toolchain instead of stopping.
  echo "test-all: cargo-nextest is missing; installing it (cargo install cargo-nextest --locked, a few minutes once)…" >&2
  cargo install cargo-nextest --locked >&2 || { echo "test-all: could not install cargo-nextest" >&2; exit 1; }
fi
run venv tools/ensure-venv.sh
run vectors node tools/gen-vectors.mjs --check
# Bootstrap's `npm install` must leave the committed lock file as it is (README: commands leave the tree clean).
run lockfile git diff --exit-code --stat -- package-lock.json
# TRON transactions: tronweb builds the vectors, tronpy re-derives them (the Rust builder is checked by nextest).
run tron-vectors node tools/gen-tron-vectors.mjs --check
run tronpy .venv/bin/python tools/check-tron-vectors.py
# Monitoring: Prometheus alert rules (promtool unit tests) and the Grafana dashboard JSON (docs/ops).
run ops tools/ops/check.sh

# Contracts. slither first: it runs `forge clean` and a build without tests before analysing.
run slither tools/slither.sh
# Unit, fuzz, invariant and vector tests (FOUNDRY_PROFILE=ci in CI: 1,000 fuzz runs).
run forge forge test
line=$(grep -E 'tests passed, [0-9]+ failed' "$logs/forge.log" | tail -n 1)
count forge "$(sed -E 's/.* ([0-9]+) tests passed.*/\1/' <<<"$line")" "$(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$line")"
[ -n "$line" ] || broken+=("forge-no-summary")
run gas-snapshot forge snapshot --check --tolerance 1 --no-match-test 'testFuzz|invariant'
run coverage tools/coverage.sh

# Rust: formatting, lints, then every test of the workspace (SQLite and MongoDB store backends).
run forgefmt forge fmt --check
run rustfmt cargo fmt --all --check
run clippy cargo clippy --workspace --all-targets --locked -- -D warnings
run nextest cargo nextest run --workspace --no-fail-fast --locked
line=$(grep -E '[0-9]+ tests? run: ' "$logs/nextest.log" | tail -n 1)
count nextest "$(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line")" "$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)"
[ -n "$line" ] || broken+=("nextest-no-summary")

echo
echo "test-all: $(du -sh target 2>/dev/null | cut -f1) in target/, $(($(free_kib) / 1024)) MiB free"
if [ ${#broken[@]} -gt 0 ]; then
  echo "failed steps: ${broken[*]} (logs in $logs)"
  [ "$failed" -gt 0 ] || failed=${#broken[@]}
fi
echo "$passed passed, $failed failed"
[ ${#broken[@]} -eq 0 ]
