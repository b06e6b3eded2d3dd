#!/usr/bin/env bash
# Gas per anchored session as real transactions: starts a throwaway anvil (default hardfork of the
# installed anvil), runs script/GasAnchors.s.sol with --broadcast, reads each anchorBatch receipt's gasUsed
# with `cast receipt`, prints gas per session for batches of 1, 10 and 100 sessions (8 chunks each),
# then stops that anvil. Usage: tools/gas-anchors.sh [port]   (default 8599)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.bin:$PATH"
PORT="${1:-8599}"
RPC="http://127.0.0.1:$PORT"
anvil --port "$PORT" --silent &
ANVIL_PID=$!
trap 'kill "$ANVIL_PID" 2>/dev/null || true' EXIT
for _ in $(seq 50); do cast chain-id --rpc-url "$RPC" >/dev/null 2>&1 && break; sleep 0.2; done
forge script script/GasAnchors.s.sol:GasAnchors --rpc-url "$RPC" --broadcast --slow >/dev/null
RUN="broadcast/GasAnchors.s.sol/$(cast chain-id --rpc-url "$RPC")/run-latest.json"
echo "anvil $(cast rpc --rpc-url "$RPC" web3_clientVersion | tr -d '"'), hardfork: anvil default"
printf '%-10s %-12s %-14s %s\n' sessions gasUsed gas/session calldata-bytes
# Every anchorBatch receipt: sessions = number of logs - 1 (SessionRegistered per session + SlotAnchored).
for h in $(jq -r '.transactions[] | select(.function // "" | startswith("anchorBatch")) | .hash' "$RUN"); do
  gas=$(cast receipt --rpc-url "$RPC" "$h" gasUsed)
  n=$(( $(cast receipt --rpc-url "$RPC" "$h" logs --json | jq length) - 1 ))
  input=$(cast tx --rpc-url "$RPC" "$h" input)
  printf '%-10s %-12s %-14s %s\n' "$n" "$gas" "$((gas / n))" "$(( (${#input} - 2) / 2 ))"
done
