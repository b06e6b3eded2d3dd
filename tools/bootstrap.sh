#!/usr/bin/env bash
# Installs the pinned npm toolchain (forge, anvil, cast, solc, OpenZeppelin, forge-std, just, the vector
# generator's libraries) when node_modules is missing or older than package-lock.json. Fast no-op otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
want=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.lucid-lock-sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x node_modules/.bin/forge ]; then
  exit 0
fi
echo "bootstrap: installing the pinned npm toolchain…" >&2
# Not `npm ci`: the registry reachable here serves only the linux-x64 builds of forge/anvil/cast/just, so
# the lock file cannot list the other platforms' optional packages and `npm ci` rejects it as out of
# sync. `npm install` installs exactly the locked versions (integrity-checked) and leaves the lock as is.
npm install --no-audit --no-fund --loglevel=error >&2
echo "$want" > "$stamp"
