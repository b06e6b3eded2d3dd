#!/usr/bin/env bash
# Installs the pinned npm toolchain (forge, anvil, cast, solc, OpenZeppelin, forge-std, just, the vector
# generator's libraries) when node_modules is missing or older than package-lock.json. Fast no-op otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
want=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.lucid-lock-sha256
# The npm packages' `bin` entries are Node wrappers that drop the tool's exit code (a failing `forge test`
# would exit 0), so the project runs the native binaries they ship, linked into .bin/.
link_native() {
  mkdir -p .bin
  local t
  for t in forge anvil cast; do ln -sfn "../node_modules/@foundry-rs/$t-linux-amd64/bin/$t" ".bin/$t"; done
  ln -sfn ../node_modules/rust-just-linux-x64/bin/just .bin/just
  for t in forge anvil cast just; do [ -x ".bin/$t" ] || { echo "bootstrap: .bin/$t is missing (unsupported platform?)" >&2; exit 1; }; done
}
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .bin/forge ]; then
  exit 0
fi
echo "bootstrap: installing the pinned npm toolchain…" >&2
# Not `npm ci`: the registry reachable here has no builds of `just` for other platforms, so the lock file
# cannot list all of rust-just's optional packages and `npm ci` rejects it as out of sync. `npm install`
# installs exactly the locked versions (integrity-checked). The committed lock is npm's own output for this
# package.json (a fixed point: `npm install` rewrites it byte for byte), so the work tree stays clean; the
# test command checks that (`lockfile` step). After changing package.json, commit the lock npm writes.
npm install --no-audit --no-fund --loglevel=error >&2
link_native
echo "$want" > "$stamp"
