#!/usr/bin/env bash
# ./dev up — runs the whole system locally on the embedded default store and prints what happens:
#   1. two anvil chains: on-system (chain id 31337) and payment (31338, standing in for TRON's TVM);
#   2. deploys both contract sets with script/Deploy.s.sol;
#   3. a sample workload: signed PoOT task proofs from simulated nodes → credits and the leader schedule,
#      three recorded sessions chunked and anchored in one batch by the keeper, a chunk registration
#      proven against the anchor, a non-KYC and a KYC payout in USDT;
#   4. a query of what the chains now hold.
# Ports: ONSYS_PORT (default 8545), PAYMENT_PORT (8546). KEEP_RUNNING=1 leaves the chains up afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PWD/.bin:$PATH"

ONSYS_PORT=${ONSYS_PORT:-8545}
PAYMENT_PORT=${PAYMENT_PORT:-8546}
ONSYS=http://127.0.0.1:$ONSYS_PORT
PAYMENT=http://127.0.0.1:$PAYMENT_PORT
state=.lucid/up
rm -rf "$state" && mkdir -p "$state"

say() { printf '\n\033[1m▶ %s\033[0m\n' "$*"; }
die() { echo "up: $*" >&2; exit 1; }

pids=()
cleanup() {
  if [ "${KEEP_RUNNING:-0}" != 1 ]; then
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  fi
}
trap cleanup EXIT INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_rpc() {
  for _ in $(seq 1 100); do cast chain-id --rpc-url "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "no JSON-RPC answer at $1 (see $state/*.log)"
}

say "Starting two chains"
port_free "$ONSYS_PORT" || die "port $ONSYS_PORT is busy (set ONSYS_PORT)"
port_free "$PAYMENT_PORT" || die "port $PAYMENT_PORT is busy (set PAYMENT_PORT)"
anvil --port "$ONSYS_PORT" --chain-id 31337 >"$state/anvil-onsystem.log" 2>&1 & pids+=($!)
anvil --port "$PAYMENT_PORT" --chain-id 31338 >"$state/anvil-payment.log" 2>&1 & pids+=($!)
wait_rpc "$ONSYS"; wait_rpc "$PAYMENT"
echo "on-system chain $ONSYS (chain id $(cast chain-id --rpc-url "$ONSYS")), payment chain $PAYMENT (chain id $(cast chain-id --rpc-url "$PAYMENT"))"

# anvil's well-known development keys: 0 deployer/admin, 1 keeper, 2 compliance signer, 3..5 node operators.
DEPLOYER_PK=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
KEEPER_PK=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
SIGNER_PK=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
DEPLOYER=$(cast wallet address --private-key $DEPLOYER_PK)
KEEPER=$(cast wallet address --private-key $KEEPER_PK)
SIGNER=$(cast wallet address --private-key $SIGNER_PK)

say "Building lucid-keeper"
cargo build --quiet --locked -p lucid-keeper
KEEPER_BIN=target/debug/lucid-keeper

say "Deploying (forge script script/Deploy.s.sol)"
deploy() { # deploy CHAIN RPC
  PRIVATE_KEY=$DEPLOYER_PK KEEPER_ADDRESS=$KEEPER COMPLIANCE_SIGNER=$SIGNER DEPLOY_CHAIN=$1 TRON_NETWORK=local \
    forge script script/Deploy.s.sol:Deploy --rpc-url "$2" --broadcast >"$state/deploy-$1.log" 2>&1 \
    || { tail -30 "$state/deploy-$1.log"; die "deploying $1 failed"; }
  grep -E '^\s+(LucidAnchors|LucidChunkStore|USDT|PayoutRouter)' "$state/deploy-$1.log" | sed 's/^ */  /'
}
deploy onsystem "$ONSYS"
deploy payment "$PAYMENT"
jq_addr() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
ANCHORS=$(jq_addr deployments/31337.json LucidAnchors)
CHUNKS=$(jq_addr deployments/31337.json LucidChunkStore)
USDT=$(jq_addr deployments/31338.json USDT)
V0=$(jq_addr deployments/31338.json PayoutRouterV0)
KYC=$(jq_addr deployments/31338.json PayoutRouterKYC)

say "Nodes send signed task proofs; the keeper computes credits and the leader schedule"
SLOT=$(cast call "$ANCHORS" 'currentSlot()(uint64)' --rpc-url "$ONSYS" | cut -d' ' -f1) # cast appends " [7.6e5]"
EPOCH=$((SLOT / 720))
SEED=$(cast block latest --field hash --rpc-url "$ONSYS")
"$KEEPER_BIN" simulate --nodes 6 --epoch "$EPOCH" --chain-id 31337 --seed "$SEED" >"$state/proofs.jsonl"
echo "$(wc -l <"$state/proofs.jsonl") signed proofs from 6 simulated nodes for the window before epoch $EPOCH"
"$KEEPER_BIN" credits --proofs "$state/proofs.jsonl" --epoch "$EPOCH" --seed "$SEED" --chain-id 31337 >"$state/credits.json"
python3 - "$state/credits.json" <<'EOF'
import json, sys
rows = sorted(json.load(open(sys.argv[1])), key=lambda r: (r["rank"] is None, r["rank"] or 0))
for r in rows:
    print(f'  {r["entityId"]}  credits {r["credits"]:>6}  liveScore {r["liveScore"]:>7} ppm  rank {r["rank"]}')
EOF
"$KEEPER_BIN" schedule --proofs "$state/proofs.jsonl" --epoch "$EPOCH" --seed "$SEED" --chain-id 31337 \
  --from-slot $((EPOCH * 720)) --to-slot $((EPOCH * 720 + 3)) >"$state/schedule.json"
python3 - "$state/schedule.json" <<'EOF'
import json, sys
for s in json.load(open(sys.argv[1])):
    print(f'  slot {s["slot"]}: primary {s["primary"]}, fallbacks {len(s["fallbacks"])}, {s["planReason"]}')
EOF

# Only the current slot or the one before may be anchored (SPEC §3): read it again after the slow steps above.
SLOT=$(cast call "$ANCHORS" 'currentSlot()(uint64)' --rpc-url "$ONSYS" | cut -d' ' -f1)
say "Three sessions are recorded, chunked and anchored in one batch (slot $SLOT)"
batch=""
sigs=""
for n in 1 2 3; do
  python3 - "$state/session$n.json" "$n" <<'EOF'
import json, sys, uuid, hashlib, os
n = int(sys.argv[2])
chunks = []
for i in range(4 + 2 * n):
    ciphertext = os.urandom(1024 + i)  # stands in for an encrypted chunk; chunkHash is its BLAKE3 in production
    chunks.append({"index": i, "chunkHash": "0x" + hashlib.blake2s(ciphertext).hexdigest(), "size": len(ciphertext)})
json.dump({"sessionId": str(uuid.uuid4()), "chunks": chunks}, open(sys.argv[1], "w"))
EOF
  "$KEEPER_BIN" merkle --chunks "$state/session$n.json" >"$state/merkle$n.json"
  read -r SID SID32 ROOT COUNT < <(python3 - "$state/session$n.json" "$state/merkle$n.json" <<'EOF'
import json, sys, uuid
s = json.load(open(sys.argv[1])); m = json.load(open(sys.argv[2]))
print(s["sessionId"], "0x" + uuid.UUID(s["sessionId"]).hex + "00" * 16, m["root"], len(s["chunks"]))
EOF
)
  MANIFEST=$(cast keccak "manifest-of-$SID")
  OWNER_PK=$(cast keccak "owner-$n")
  OWNER=$(cast wallet address --private-key "$OWNER_PK")
  STARTED=$(($(date +%s) - 600))
  echo "  session $SID: $COUNT chunks, merkleRoot $ROOT"
  echo "$SID32 $MANIFEST $ROOT $OWNER $STARTED $COUNT" >>"$state/anchors.txt"
  batch+="${batch:+,}($SID32,$MANIFEST,$ROOT,$OWNER,$STARTED,$COUNT)"
  # The session's owner signs it (SPEC §3: EIP-712 SessionAnchor, domain LucidAnchors/1/chain/contract);
  # the keeper can anchor it only exactly as signed. cast signs r‖s‖v; the contract takes EIP-2098 [r, vs].
  python3 - "$state/typed$n.json" "$SID32" "$MANIFEST" "$ROOT" "$OWNER" "$STARTED" "$COUNT" "$ANCHORS" <<'EOF'
import json, sys
f, sid, manifest, root, owner, started, count, anchors = sys.argv[1:]
json.dump({
  "types": {
    "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                     {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
    "SessionAnchor": [{"name": "sessionId", "type": "bytes32"}, {"name": "manifestHash", "type": "bytes32"},
                      {"name": "merkleRoot", "type": "bytes32"}, {"name": "owner", "type": "address"},
                      {"name": "startedAt", "type": "uint64"}, {"name": "chunkCount", "type": "uint32"}]},
  "primaryType": "SessionAnchor",
  "domain": {"name": "LucidAnchors", "version": "1", "chainId": 31337, "verifyingContract": anchors},
  "message": {"sessionId": sid, "manifestHash": manifest, "merkleRoot": root, "owner": owner,
              "startedAt": int(started), "chunkCount": int(count)}}, open(f, "w"))
EOF
  SIG65=$(cast wallet sign --data --from-file "$state/typed$n.json" --private-key "$OWNER_PK")
  SIG=$(python3 -c "import sys; h=sys.argv[1][2:]; r,s,v=h[:64],int(h[64:128],16),int(h[128:],16); print('[0x'+r+',0x'+format(s|((v-27)<<255),'064x')+']')" "$SIG65")
  sigs+="${sigs:+,}$SIG"
done
tx=$(cast send "$ANCHORS" 'anchorBatch(uint64,(bytes32,bytes32,bytes32,address,uint64,uint32)[],bytes32[2][])' "$SLOT" "[$batch]" "[$sigs]" \
  --private-key $KEEPER_PK --rpc-url "$ONSYS" --json)
python3 -c "import json,sys; r=json.loads(sys.argv[1]); print(f'  anchorBatch tx {r[\"transactionHash\"]}: status {int(r[\"status\"],16)}, gas {int(r[\"gasUsed\"],16)} ({int(r[\"gasUsed\"],16)//3} per session)')" "$tx"

say "A storage node's chunk is registered, proven against the anchor"
read -r SID32 MANIFEST ROOT OWNER STARTED COUNT < <(head -n 1 "$state/anchors.txt")
read -r HASH SIZE PROOF < <(python3 - "$state/session1.json" "$state/merkle1.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1])); m = json.load(open(sys.argv[2]))
c = s["chunks"][2]
print(c["chunkHash"], c["size"], "[" + ",".join(m["proofs"][2]) + "]")
EOF
)
cast send "$CHUNKS" 'registerChunk((bytes32,bytes32,bytes32,address,uint64,uint32),uint32,bytes32,uint64,bytes32[])' \
  "($SID32,$MANIFEST,$ROOT,$OWNER,$STARTED,$COUNT)" 2 "$HASH" "$SIZE" "$PROOF" \
  --private-key $KEEPER_PK --rpc-url "$ONSYS" >/dev/null
echo "  chunk 2 of session 1: replicas = $(cast call "$CHUNKS" 'replicas(bytes32,uint32)(uint16)' "$SID32" 2 --rpc-url "$ONSYS")"

say "Monthly payout in USDT on the payment chain"
usdt() { python3 -c "import sys; print(f'{int(sys.argv[1].split()[0])/1e6:,.2f} USDT')" "$1"; }
for router in "$V0" "$KYC"; do
  cast send "$USDT" 'approve(address,uint256)' "$router" 20000000000 --private-key $DEPLOYER_PK --rpc-url "$PAYMENT" >/dev/null
  cast send "$router" 'fund(uint256)' 20000000000 --private-key $DEPLOYER_PK --rpc-url "$PAYMENT" >/dev/null
done
echo "  funded both routers with 20,000.00 USDT each"
PERIOD=$(( $(date -u +%Y) * 12 + 10#$(date -u +%m) - 1 ))
NODE_A=$(cast wallet address --private-key "$(cast keccak node-operator-a)")
NODE_B=$(cast wallet address --private-key "$(cast keccak node-operator-b)")
AMOUNT_A=250000000
AMOUNT_B=1200000000
# The period's plan (SPEC §3/§4): one Merkle tree over both routers' leaves
# keccak256(keccak256(abi.encode(router, period, to, amount))); the treasurer (the deployer on a local chain) sets
# its root and total on both routers. Then anyone may execute a planned payout with its proof.
leaf() { cast keccak "$(cast keccak "$(cast abi-encode 'f(address,uint32,address,uint256)' "$1" "$PERIOD" "$2" "$3")")"; }
LEAF_A=$(leaf "$V0" "$NODE_A" $AMOUNT_A)
LEAF_B=$(leaf "$KYC" "$NODE_B" $AMOUNT_B)
PLAN_ROOT=$(cast keccak "$(python3 -c "import sys; a,b=sorted([sys.argv[1][2:],sys.argv[2][2:]], key=lambda h:int(h,16)); print('0x'+a+b)" "$LEAF_A" "$LEAF_B")")
PLAN_TOTAL=$((AMOUNT_A + AMOUNT_B))
for router in "$V0" "$KYC"; do
  cast send "$router" 'setPeriodRoot(uint32,bytes32,uint256)' "$PERIOD" "$PLAN_ROOT" $PLAN_TOTAL --private-key $DEPLOYER_PK --rpc-url "$PAYMENT" >/dev/null
done
echo "  treasurer set period $PERIOD's plan root $PLAN_ROOT (2 payouts, total $(usdt $PLAN_TOTAL)) on both routers"
PID_A=$(cast call "$V0" 'payoutId(uint32,address)(bytes32)' "$PERIOD" "$NODE_A" --rpc-url "$PAYMENT")
cast send "$V0" 'disburse(uint32,address,uint256,bytes32[])' "$PERIOD" "$NODE_A" $AMOUNT_A "[$LEAF_B]" --private-key $KEEPER_PK --rpc-url "$PAYMENT" >/dev/null
echo "  V0 paid $NODE_A $(usdt "$(cast call "$USDT" 'balanceOf(address)(uint256)' "$NODE_A" --rpc-url "$PAYMENT")") (payoutId $PID_A)"
if cast send "$V0" 'disburse(uint32,address,uint256,bytes32[])' "$PERIOD" "$NODE_A" $AMOUNT_A "[$LEAF_B]" --private-key $KEEPER_PK --rpc-url "$PAYMENT" >/dev/null 2>&1; then
  die "a payoutId paid twice"
fi
echo "  retrying the same payoutId is refused (AlreadyPaid): each payoutId pays once"
KYC_HASH=$(cast keccak "kyc-record-of-node-b")
EXPIRY=$(($(date +%s) + 30 * 86400))
DIGEST=$(cast call "$KYC" 'attestationDigest(address,bytes32,uint64)(bytes32)' "$NODE_B" "$KYC_HASH" "$EXPIRY" --rpc-url "$PAYMENT")
SIG=$(cast wallet sign --no-hash --private-key $SIGNER_PK "$DIGEST")
cast send "$KYC" 'disburseKYC(uint32,address,uint256,bytes32[],bytes32,uint64,bytes)' "$PERIOD" "$NODE_B" $AMOUNT_B "[$LEAF_A]" "$KYC_HASH" "$EXPIRY" "$SIG" \
  --private-key $KEEPER_PK --rpc-url "$PAYMENT" >/dev/null
echo "  KYC router paid $NODE_B $(usdt "$(cast call "$USDT" 'balanceOf(address)(uint256)' "$NODE_B" --rpc-url "$PAYMENT")") against a compliance attestation"

say "Query: what the chains hold now"
while read -r SID32 MANIFEST ROOT OWNER STARTED COUNT; do
  echo "  anchorDigest($SID32) = $(cast call "$ANCHORS" 'anchorDigest(bytes32)(bytes32)' "$SID32" --rpc-url "$ONSYS")"
done <"$state/anchors.txt"
echo "  SessionRegistered events on the on-system chain: $(cast logs --from-block 0 --address "$ANCHORS" \
  'SessionRegistered(bytes32 indexed,address indexed,uint64 indexed,bytes32,bytes32,uint64,uint32)' --rpc-url "$ONSYS" --json \
  | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
echo "  slot $SLOT submitter: $(cast call "$ANCHORS" 'slotSubmitter(uint64)(address)' "$SLOT" --rpc-url "$ONSYS") (keeper $KEEPER)"
echo "  V0 router: $(usdt "$(cast call "$V0" 'totalPaid()(uint256)' --rpc-url "$PAYMENT")") paid; KYC router: $(usdt "$(cast call "$KYC" 'totalPaid()(uint256)' --rpc-url "$PAYMENT")") paid"
echo
echo "done. State and logs in $state/; deployments in deployments/31337.json and deployments/31338.json."
[ "${KEEP_RUNNING:-0}" = 1 ] && echo "chains left running (KEEP_RUNNING=1): $ONSYS $PAYMENT; pids ${pids[*]}"
exit 0
