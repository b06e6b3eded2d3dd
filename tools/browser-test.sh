#!/usr/bin/env bash
# Headless-Chromium test of the operator dashboard (tests/browser/dashboard.mjs).
#
#   tools/browser-test.sh URL SESSION_ID [SCREENSHOT]   the dashboard served by a running indexer (the real test);
#                                                       SESSION_ID `auto`: a session from the API's SessionRegistered events
#   tools/browser-test.sh --fixture [SCREENSHOT]        against tests/browser/fixture-server.mjs, a canned-JSON
#                                                       stand-in for the indexer's API: for developing the page only
#
# Installs what it needs when missing: Debian `chromium` (apt-get; as root, or with passwordless sudo) and
# the pinned npm toolchain including `playwright-core` (tools/bootstrap.sh). CHROMIUM=/path overrides the
# browser. The screenshot (default target/browser/dashboard.png) is the test artifact; on failure a
# `-failure.png` next to it shows what the page looked like.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() { echo "usage: tools/browser-test.sh URL SESSION_ID|auto [SCREENSHOT] | --fixture [SCREENSHOT]" >&2; exit 2; }
[ $# -ge 1 ] || usage

export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$CHROMIUM" != /usr/bin/chromium ]; then echo "browser-test: CHROMIUM=$CHROMIUM is not executable" >&2; exit 1; fi
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null && sudo -n true 2>/dev/null \
      || { echo "browser-test: /usr/bin/chromium is missing; install it as root: apt-get update && apt-get install -y chromium" >&2; exit 1; }
    sudo=(sudo -n)
  fi
  echo "browser-test: installing Debian chromium (apt-get)…" >&2
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >&2
  [ -x /usr/bin/chromium ] || { echo "browser-test: apt-get did not install /usr/bin/chromium" >&2; exit 1; }
fi

# playwright-core is a pinned devDependency: bootstrap installs the lock file's versions when they changed.
tools/bootstrap.sh
[ -f node_modules/playwright-core/package.json ] \
  || { echo "browser-test: node_modules/playwright-core is missing after tools/bootstrap.sh" >&2; exit 1; }

if [ "$1" = --fixture ]; then
  shot="${2:-target/browser/dashboard-fixture.png}"
  out=$(mktemp -t lucid-fixture.XXXXXX)
  node tests/browser/fixture-server.mjs --port 0 >"$out" 2>&1 &
  fixture=$!
  trap 'kill "$fixture" 2>/dev/null || true; rm -f "$out"' EXIT
  url=""; session=""
  for _ in $(seq 100); do
    url=$(sed -n 's/^fixture: listening on //p' "$out"); session=$(sed -n 's/^fixture: session //p' "$out")
    [ -n "$url" ] && [ -n "$session" ] && break
    kill -0 "$fixture" 2>/dev/null || { cat "$out" >&2; echo "browser-test: the fixture server exited" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$url" ] || { cat "$out" >&2; echo "browser-test: the fixture server did not start" >&2; exit 1; }
  echo "browser-test: FIXTURE run (canned JSON, not the indexer) at $url" >&2
  node tests/browser/dashboard.mjs "$url" "$session" "$shot"
else
  [ $# -ge 2 ] || usage
  node tests/browser/dashboard.mjs "$1" "$2" "${3:-target/browser/dashboard.png}"
fi
