#!/usr/bin/env node
// Generates the cross-language test vectors in tests/vectors/*.json from SPEC.md §2–§4 (v1.1: owner
// signatures of session anchors in anchors.json, payout plans in payout_plans.json).
//
// This is a third, independent implementation of the encodings (JavaScript with @noble/hashes,
// @noble/curves and the RFC 8785 reference `canonicalize`), so Solidity (Foundry) and Rust both check
// against something neither of them produced. Everything is derived from a fixed seed: re-running the
// script gives byte-identical files. `--check` regenerates in memory and fails if a committed file
// differs (the test command runs it).
//
//   node tools/gen-vectors.mjs           # write tests/vectors/*.json
//   node tools/gen-vectors.mjs --check   # verify the committed files are current
import { keccak_256 } from '@noble/hashes/sha3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { base58 } from '@scure/base';
import canonicalize from 'canonicalize';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'vectors');
const enc = new TextEncoder();

// ---------- bytes and ABI helpers ----------
const hex = (b) => '0x' + Buffer.from(b).toString('hex');
const unhex = (h) => Uint8Array.from(Buffer.from(h.replace(/^0x/, ''), 'hex'));
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
const keccak = (...parts) => keccak_256(concat(...parts));
/** uint<N> (N ≤ 256) as one ABI word. */
const u256 = (v) => {
  let x = BigInt(v);
  if (x < 0n) throw new Error('negative');
  const w = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) { w[i] = Number(x & 0xffn); x >>= 8n; }
  if (x !== 0n) throw new Error('overflow');
  return w;
};
const word = (h) => { const b = unhex(h); if (b.length > 32) throw new Error('word'); return concat(new Uint8Array(32 - b.length), b); };
const b32 = (h) => { const b = unhex(h); if (b.length !== 32) throw new Error('bytes32 ' + h); return b; };
const addrWord = (a) => { const b = unhex(a); if (b.length !== 20) throw new Error('address ' + a); return word(a); };
/** abi.encode(string s, uint32 a, address b): head (offset, a, b) then tail (length, padded data). */
const abiStringUintAddr = (s, a, b) => {
  const data = enc.encode(s);
  const padded = concat(data, new Uint8Array((32 - (data.length % 32)) % 32));
  return concat(u256(96), u256(a), addrWord(b), u256(data.length), padded);
};

// ---------- deterministic randomness (keccak counter mode) ----------
let counter = 0n;
const rand32 = (label) => keccak(enc.encode('lucid.vectors.v1:' + label + ':'), u256(counter++));
const randInt = (label, lo, hi) => { // inclusive
  const r = BigInt(hex(rand32(label)));
  return Number(BigInt(lo) + (r % BigInt(hi - lo + 1)));
};
const randAddr = (label) => hex(rand32(label).slice(12));
const privKey = (label) => { // a valid secp256k1 scalar
  for (;;) { const k = rand32(label); if (secp256k1.utils.isValidSecretKey(k)) return k; }
};
const addressOf = (sk) => hex(keccak_256(secp256k1.getPublicKey(sk, false).slice(1)).slice(12));
const uuidV4 = (label) => {
  const b = rand32(label).slice(0, 16);
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
/** SPEC §2: the 16 UUID bytes followed by 16 zero bytes. */
const sessionIdBytes32 = (uuid) => hex(concat(unhex(uuid.replace(/-/g, '')), new Uint8Array(16)));
/** 65-byte r‖s‖v, v ∈ {27, 28}, over a 32-byte digest (no further hashing), low-s (RFC 6979). */
const signDigest = (digest, sk) => {
  const sig = secp256k1.sign(digest, sk, { prehash: false, format: 'recovered' });
  const parsed = secp256k1.Signature.fromBytes(sig, 'recovered');
  const out = concat(u256(parsed.r), u256(parsed.s), Uint8Array.of(27 + parsed.recovery));
  // self-check: recovery gives the signer back
  const pub = parsed.recoverPublicKey(digest).toBytes(false);
  if (hex(keccak_256(pub.slice(1)).slice(12)) !== addressOf(sk)) throw new Error('recovery self-check');
  return out;
};

// ---------- SPEC §2: leaves, tree, proofs, digest, manifest ----------
const MiB = 1 << 20;
const leafOf = (sid32, index, chunkHash, size) =>
  keccak(keccak(b32(sid32), u256(index), b32(chunkHash), u256(size)));
const cmp = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const pairHash = (a, b) => (cmp(a, b) <= 0 ? keccak(a, b) : keccak(b, a));
/** Levels bottom-up; an odd last node moves up unchanged. */
const levelsOf = (leaves) => {
  const levels = [leaves];
  while (levels.at(-1).length > 1) {
    const cur = levels.at(-1), next = [];
    for (let i = 0; i < cur.length; i += 2) next.push(i + 1 < cur.length ? pairHash(cur[i], cur[i + 1]) : cur[i]);
    levels.push(next);
  }
  return levels;
};
const proofOf = (levels, i) => {
  const proof = [];
  for (let l = 0; l < levels.length - 1; l++) {
    const sib = i ^ 1;
    if (sib < levels[l].length) proof.push(levels[l][sib]); // else: moved up alone, level skipped
    i >>= 1;
  }
  return proof;
};
/** OpenZeppelin MerkleProof.processProof, as an independent check of the proofs. */
const processProof = (proof, leaf) => proof.reduce((h, p) => pairHash(h, p), leaf);
const anchorDigest = (a) => keccak(b32(a.sessionId), b32(a.manifestHash), b32(a.merkleRoot), addrWord(a.owner),
  u256(a.startedAt), u256(a.chunkCount));

function session(name, chunkCount, opts = {}) {
  const sessionId = uuidV4(name + ':id');
  const sid32 = sessionIdBytes32(sessionId);
  const chunks = [];
  for (let i = 0; i < chunkCount; i++) {
    let size = randInt(name + ':size', 1, 16 * MiB);
    if (opts.sizes) size = opts.sizes[i % opts.sizes.length];
    chunks.push({ index: i, chunkHash: hex(rand32(name + ':chunk')), size });
  }
  const leaves = chunks.map((c) => leafOf(sid32, c.index, c.chunkHash, c.size));
  const levels = levelsOf(leaves);
  const root = levels.at(-1)[0];
  const proofs = leaves.map((_, i) => proofOf(levels, i));
  proofs.forEach((p, i) => { if (cmp(processProof(p, leaves[i]), root) !== 0) throw new Error('proof self-check'); });
  const owner = randAddr(name + ':owner');
  const startedAt = randInt(name + ':t', 1704067200, 1830000000);
  const manifest = {
    sessionId, owner, startedAt, chunkCount, merkleRoot: hex(root), codec: 'lucid-rdp/1+zstd+xchacha20poly1305',
    recorderVersion: '1.4.2',
    participants: Array.from({ length: randInt(name + ':p', 1, 3) },
      () => hex(secp256k1.getPublicKey(privKey(name + ':pk'), true))),
    ...(opts.extra ?? {}),
  };
  const manifestJcs = canonicalize(manifest);
  const manifestHash = hex(keccak(enc.encode(manifestJcs)));
  const anchor = { sessionId: sid32, manifestHash, merkleRoot: hex(root), owner, startedAt, chunkCount };
  return {
    name, sessionId, sessionIdBytes32: sid32, chunks, leaves: leaves.map(hex), root: hex(root),
    proofs: proofs.map((p) => p.map(hex)), anchor, digest: hex(anchorDigest(anchor)), manifest, manifestJcs, manifestHash,
  };
}

function merkleVectors() {
  const sessions = [
    session('one-chunk', 1),
    session('two-chunks', 2),
    session('three-chunks-odd', 3),
    session('four-chunks', 4),
    session('five-chunks-odd-carry', 5),
    session('seven-chunks', 7),
    session('eight-chunks', 8, { sizes: [1, 16 * MiB, MiB, 4096] }),
    session('nine-chunks-long-carry', 9),
    session('sixteen-chunks', 16),
    session('thirty-three-chunks', 33),
    session('manifest-extra-fields', 6, {
      extra: { 'x-site': 'Zürich-α', note: 'line\nbreak "quoted" \u0001', weights: [3, 1, 2], nested: { b: 1, a: [true, null] } },
    }),
  ];
  return { spec: 'SPEC.md §2', count: sessions.length, sessions };
}

// ---------- SPEC §4: task proofs (EIP-712, domain without verifyingContract) ----------
const KINDS = ['relay_bandwidth', 'storage_availability', 'validation_signature', 'uptime_beacon'];
const POOT_DOMAIN_TYPE = 'EIP712Domain(string name,string version,uint256 chainId)';
const TASK_TYPE = 'TaskProof(address nodeId,uint64 slot,uint8 kind,bytes32 sessionId,uint64 amount,uint32 chunkIndex,bytes32 digest)';
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const ZERO32 = hex(new Uint8Array(32));

function taskProofVectors() {
  const chainId = 31337;
  const typeHash = keccak(enc.encode(TASK_TYPE));
  const domainSeparator = keccak(keccak(enc.encode(POOT_DOMAIN_TYPE)), keccak(enc.encode('LucidPoOT')), keccak(enc.encode('1')), u256(chainId));
  const structHashOf = (p) => keccak(typeHash, addrWord(p.nodeId), u256(p.slot), u256(p.kind), b32(p.sessionIdBytes32),
    u256(p.amount), u256(p.chunkIndex), b32(p.digest));
  const nodes = Array.from({ length: 4 }, (_, i) => privKey('node' + i));
  const proofs = [];
  const make = (sk, kind, fields) => {
    const sessionId = fields.sessionId ?? NIL_UUID;
    const p = {
      nodeId: addressOf(sk), slot: fields.slot, kind, sessionIdBytes32: sessionId === NIL_UUID ? ZERO32 : sessionIdBytes32(sessionId),
      amount: fields.amount ?? 0, chunkIndex: fields.chunkIndex ?? 0, digest: fields.digest ?? ZERO32,
    };
    const structHash = structHashOf(p);
    const signingHash = keccak(Uint8Array.of(0x19, 0x01), domainSeparator, structHash);
    const sig = signDigest(signingHash, sk);
    const json = { nodeId: p.nodeId, slot: p.slot, type: KINDS[kind], sessionId, amount: p.amount, chunkIndex: p.chunkIndex, digest: p.digest, sig: hex(sig) };
    return { json, privateKey: hex(sk), ...p, structHash: hex(structHash), signingHash: hex(signingHash), sig: hex(sig) };
  };
  const slot0 = 503000; // a slot in 2025-11
  for (let i = 0; i < nodes.length; i++) {
    const sk = nodes[i];
    proofs.push(make(sk, 0, { slot: slot0 + i, sessionId: uuidV4('tp-relay' + i), amount: randInt('amt', 1, 64 * MiB) }));
    proofs.push(make(sk, 1, { slot: slot0 + i, sessionId: uuidV4('tp-store' + i), chunkIndex: randInt('ci', 0, 1000), digest: hex(rand32('chunkhash')) }));
    proofs.push(make(sk, 2, { slot: slot0 + i + 1, sessionId: uuidV4('tp-val' + i), digest: hex(rand32('manifesthash')) }));
    proofs.push(make(sk, 3, { slot: slot0 + i + 2 }));
  }
  proofs.push(make(nodes[0], 3, { slot: 0 })); // slot 0 edge
  proofs.push(make(nodes[1], 0, { slot: 2 ** 40, sessionId: uuidV4('tp-big'), amount: 2 ** 52 })); // large but JSON-safe numbers

  // Invalid proofs, each with the reason a validator must give.
  const invalid = [];
  const good = make(nodes[2], 0, { slot: slot0 + 9, sessionId: uuidV4('tp-inv'), amount: 1000 });
  invalid.push({ reason: 'signature_mismatch', json: { ...good.json, amount: 1001 } }); // tampered after signing
  const other = make(nodes[3], 0, { slot: slot0 + 9, sessionId: good.json.sessionId, amount: 1000 });
  invalid.push({ reason: 'signature_mismatch', json: { ...good.json, sig: other.json.sig } }); // another node's signature
  const beaconWithAmount = make(nodes[2], 3, { slot: slot0 + 9, amount: 5 }); // signed, but unused field set
  invalid.push({ reason: 'unused_field_nonzero', json: beaconWithAmount.json });
  const relayWithDigest = make(nodes[2], 0, { slot: slot0 + 9, sessionId: uuidV4('tp-inv2'), amount: 7, digest: hex(rand32('d')) });
  invalid.push({ reason: 'unused_field_nonzero', json: relayWithDigest.json });
  const future = make(nodes[2], 3, { slot: slot0 + 100000 });
  invalid.push({ reason: 'future_slot', currentSlot: slot0 + 99999, json: future.json });
  invalid.push({ reason: 'malformed_signature', json: { ...good.json, sig: good.json.sig.slice(0, 130) } });
  invalid.push({ reason: 'malformed_signature', json: { ...good.json, sig: good.json.sig.slice(0, 130) + '1d' } }); // v = 29
  invalid.push({ reason: 'unknown_type', json: { ...good.json, type: 'mining' } });
  return {
    spec: 'SPEC.md §4', chainId, domainType: POOT_DOMAIN_TYPE, taskType: TASK_TYPE, typeHash: hex(typeHash),
    domainSeparator: hex(domainSeparator), currentSlot: slot0 + 99999, count: proofs.length, proofs, invalidCount: invalid.length, invalid,
  };
}

// ---------- SPEC §3: KYC attestations (EIP-712 with verifyingContract) ----------
const KYC_DOMAIN_TYPE = 'EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)';
const KYC_TYPE = 'KycAttestation(address to,bytes32 kycHash,uint64 expiry)';

function kycVectors() {
  const chainId = 31338;
  const router = randAddr('kyc-router');
  const typeHash = keccak(enc.encode(KYC_TYPE));
  const domainSeparator = keccak(keccak(enc.encode(KYC_DOMAIN_TYPE)), keccak(enc.encode('LucidPayoutKYC')), keccak(enc.encode('1')),
    u256(chainId), addrWord(router));
  const attestations = [];
  for (let i = 0; i < 6; i++) {
    const sk = privKey('compliance' + (i % 2));
    const to = randAddr('kyc-to');
    const kycHash = hex(rand32('kyc-hash'));
    const expiry = i === 5 ? 2n ** 64n - 1n : BigInt(randInt('kyc-exp', 1800000000, 1900000000));
    const structHash = keccak(typeHash, addrWord(to), b32(kycHash), u256(expiry));
    const digest = keccak(Uint8Array.of(0x19, 0x01), domainSeparator, structHash);
    const sig = signDigest(digest, sk);
    attestations.push({ to, kycHash, expiry: expiry.toString(), signerPrivateKey: hex(sk), signer: addressOf(sk),
      structHash: hex(structHash), digest: hex(digest), sig: hex(sig) });
  }
  return { spec: 'SPEC.md §3', chainId, router, domainType: KYC_DOMAIN_TYPE, kycType: KYC_TYPE, typeHash: hex(typeHash),
    domainSeparator: hex(domainSeparator), count: attestations.length, attestations };
}

// ---------- SPEC §3/§4: payout ids and TRON addresses ----------
const tronOf = (evm) => {
  const payload = concat(Uint8Array.of(0x41), unhex(evm));
  return base58.encode(concat(payload, sha256(sha256(payload)).slice(0, 4)));
};
function payoutIdVectors() {
  const rows = [];
  const months = [[2024, 1], [2024, 12], [2026, 11], [2099, 6]];
  for (const [y, m] of months) {
    for (let i = 0; i < 2; i++) {
      const to = randAddr('payee');
      const period = y * 12 + m - 1;
      rows.push({ year: y, month: m, period, to, toTron: tronOf(to), payoutId: hex(keccak(abiStringUintAddr('lucid.payout.v1', period, to))) });
    }
  }
  const zero = '0x' + '00'.repeat(20);
  rows.push({ year: 2025, month: 1, period: 2025 * 12, to: zero, toTron: tronOf(zero), payoutId: hex(keccak(abiStringUintAddr('lucid.payout.v1', 2025 * 12, zero))) });
  return { spec: 'SPEC.md §3 payoutId, §4 TRON base58check', count: rows.length, payoutIds: rows };
}


// ---------- SPEC §3 v1.1: owner signatures of session anchors (EIP-712, EIP-2098 compact) ----------
const ANCHOR_DOMAIN_TYPE = 'EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)';
const ANCHOR_TYPE = 'SessionAnchor(bytes32 sessionId,bytes32 manifestHash,bytes32 merkleRoot,address owner,uint64 startedAt,uint32 chunkCount)';
const SECP_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function anchorVectors() {
  const chainId = 31337;
  const anchors = randAddr('anchors-contract');
  const typeHash = keccak(enc.encode(ANCHOR_TYPE));
  const domainSeparator = keccak(keccak(enc.encode(ANCHOR_DOMAIN_TYPE)), keccak(enc.encode('LucidAnchors')), keccak(enc.encode('1')),
    u256(chainId), addrWord(anchors));
  const sessions = [];
  for (let i = 0; i < 6; i++) {
    const sk = privKey('anchor-owner' + i);
    const owner = addressOf(sk);
    const chunkCount = i === 5 ? 2 ** 32 - 1 : randInt('anchor-cc', 1, 5000);
    const anchor = {
      sessionId: sessionIdBytes32(uuidV4('anchor-sid' + i)), manifestHash: hex(rand32('anchor-manifest')),
      merkleRoot: hex(rand32('anchor-root')), owner,
      startedAt: i === 5 ? (2n ** 64n - 1n).toString() : randInt('anchor-t', 1704067200, 1830000000), chunkCount,
    };
    const structHash = keccak(typeHash, b32(anchor.sessionId), b32(anchor.manifestHash), b32(anchor.merkleRoot),
      addrWord(owner), u256(anchor.startedAt), u256(anchor.chunkCount));
    const signingHash = keccak(Uint8Array.of(0x19, 0x01), domainSeparator, structHash);
    const sig65 = signDigest(signingHash, sk);
    const r = sig65.slice(0, 32), s = sig65.slice(32, 64), yParity = sig65[64] - 27;
    if (BigInt(hex(s)) > SECP_N / 2n) throw new Error('high s from signer');
    const vs = Uint8Array.from(s); vs[0] |= yParity << 7;
    const compact = hex(concat(r, vs));
    // the malleable twin (n − s, other parity) recovers the same key with ecrecover; SPEC §3 refuses it
    const highS = { r: hex(r), s: hex(u256(SECP_N - BigInt(hex(s)))), v: 27 + (1 - yParity) };
    sessions.push({ privateKey: hex(sk), anchor, digest: hex(anchorDigest(anchor)), structHash: hex(structHash),
      signingHash: hex(signingHash), sig65: hex(sig65), ownerSig: compact, ownerSigWords: [hex(r), hex(vs)], highS });
  }
  // Refused: the signature of session 0 over session 1's content, and session 0's with one field changed.
  const s0 = sessions[0], s1 = sessions[1];
  const invalid = [
    { reason: 'signature_of_other_session', anchor: s1.anchor, ownerSig: s0.ownerSig },
    { reason: 'content_changed_after_signing', anchor: { ...s0.anchor, merkleRoot: hex(rand32('anchor-forged-root')) }, ownerSig: s0.ownerSig },
    { reason: 'parity_flipped', anchor: s0.anchor,
      ownerSig: hex(concat(unhex(s0.ownerSigWords[0]), (() => { const v = unhex(s0.ownerSigWords[1]); v[0] ^= 0x80; return v; })())) },
  ];
  return { spec: 'SPEC.md §3 (v1.1 owner signatures)', chainId, verifyingContract: anchors, domainType: ANCHOR_DOMAIN_TYPE,
    anchorType: ANCHOR_TYPE, typeHash: hex(typeHash), domainSeparator: hex(domainSeparator), count: sessions.length, sessions,
    invalidCount: invalid.length, invalid };
}

// ---------- SPEC §3/§4 v1.1: payout plans (router leaves, period roots, proofs) ----------
const payoutLeafOf = (router, period, to, amount) => keccak(keccak(addrWord(router), u256(period), addrWord(to), u256(amount)));

function payoutPlanVectors() {
  const routerV0 = randAddr('router-v0');
  const routerKyc = randAddr('router-kyc');
  const plans = [];
  const sizes = [[2026, 1, 1], [2026, 2, 2], [2026, 3, 3], [2026, 4, 5], [2027, 12, 9]];
  for (const [y, m, n] of sizes) {
    const period = y * 12 + m - 1;
    const payouts = [];
    for (let i = 0; i < n; i++) {
      const kycRouter = randInt('plan-router', 0, 2) === 0;
      payouts.push({ router: kycRouter ? routerKyc : routerV0, to: randAddr('plan-to'),
        amount: BigInt(randInt('plan-amount', 10, 5000)) * 1000000n + BigInt(randInt('plan-micro', 0, 999999)) });
    }
    payouts.sort((a, b) => cmp(unhex(a.to), unhex(b.to))); // by recipient as a 20-byte number
    const leaves = payouts.map((p) => payoutLeafOf(p.router, period, p.to, p.amount));
    const levels = levelsOf(leaves);
    const root = levels.at(-1)[0];
    const proofs = leaves.map((_, i) => proofOf(levels, i));
    proofs.forEach((p, i) => { if (cmp(processProof(p, leaves[i]), root) !== 0) throw new Error('plan proof self-check'); });
    const total = payouts.reduce((t, p) => t + p.amount, 0n);
    plans.push({
      year: y, month: m, period, root: hex(root), total: total.toString(),
      payouts: payouts.map((p, i) => ({ router: p.router, to: p.to, toTron: tronOf(p.to), amount: p.amount.toString(),
        payoutId: hex(keccak(abiStringUintAddr('lucid.payout.v1', period, p.to))), leaf: hex(leaves[i]),
        proof: proofs[i].map(hex) })),
    });
  }
  return { spec: 'SPEC.md §3 payout leaves, §4 plans', routerV0, routerKyc, count: plans.length, plans };
}

// ---------- output ----------
const files = {
  'merkle.json': merkleVectors(),
  'task_proofs.json': taskProofVectors(),
  'kyc.json': kycVectors(),
  'payout_ids.json': payoutIdVectors(),
  // v1.1 files come last so the older files keep their bytes (one shared random counter).
  'anchors.json': anchorVectors(),
  'payout_plans.json': payoutPlanVectors(),
};
const check = process.argv.includes('--check');
let stale = 0;
mkdirSync(OUT, { recursive: true });
for (const [name, obj] of Object.entries(files)) {
  const text = JSON.stringify(obj, null, 2) + '\n';
  const path = join(OUT, name);
  if (check) {
    let cur = '';
    try { cur = readFileSync(path, 'utf8'); } catch { /* missing */ }
    if (cur !== text) { console.error(`stale: tests/vectors/${name} (run: node tools/gen-vectors.mjs)`); stale++; }
  } else {
    writeFileSync(path, text);
    console.log(`wrote tests/vectors/${name}`);
  }
}
if (check) {
  if (stale) process.exit(1);
  console.log(`tests/vectors: ${Object.keys(files).length} files current`);
}
