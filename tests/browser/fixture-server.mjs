#!/usr/bin/env node
// FIXTURE FOR DEVELOPING THE DASHBOARD PAGE — not the indexer, and not what the test command checks.
//
// A small Node HTTP server that serves indexer/dashboard/index.html at `/` and canned, deterministic
// JSON in the shapes of the indexer's API (issue 8 "API", SPEC §5 field names), with a chain clock
// that runs 20× faster than the wall clock (as `./dev up` moves chain time), so the page shows live,
// changing data. The real system is tested by running tests/browser/dashboard.mjs against the real
// `lucid-indexer` (the integrator wires that into the test command).
//
// Usage: node tests/browser/fixture-server.mjs [--port N] [--variant a|b]
//   --port 0 (default) picks a free port. Prints, on stdout:
//     fixture: listening on http://127.0.0.1:PORT/
//     fixture: session <uuid>            (an anchored session with a chunk list, for the search test)
//   --variant a (default): the shapes of the indexer's API as built in indexer/src/api.rs: camelCase status
//     without chain time, `{items, nextCursor}` lists, `owner` required by /v1/sessions and `recipient` by
//     /v1/payouts, /v1/sessions/{id} as {session, anchoring, sessionAnchor, sessionAnchorTuple}.
//   --variant b: other plausible shapes (snake_case status keyed by chain name with chain time, bare
//     arrays, a flat session document): checks the page's tolerant accessors.
//   --fail PATH: every request whose path starts with PATH answers HTTP 500 (the browser test must fail).
import http from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const PAGE = path.resolve(here, '../../indexer/dashboard/index.html');

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt; };
const PORT = Number(opt('--port', process.env.FIXTURE_PORT ?? '0'));
const VARIANT = opt('--variant', process.env.FIXTURE_VARIANT ?? 'a');
// --fail PATH: answer 500 for requests whose path starts with PATH (to check that the browser test notices).
const FAIL = opt('--fail', undefined);
if (!['a', 'b'].includes(VARIANT)) { console.error(`fixture: unknown --variant ${VARIANT} (a or b)`); process.exit(2); }

const GENESIS = 1704067200, SLOT = 120, SPEED = 20, HISTORY = 400;
const NODES = [
  '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
  '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc',
  '0x90f79bf6eb2c4f870365e785982e1f101e93b906',
];
const OWNERS = [
  '0x15d34aaf54267db7d7c367839aaf71a00a2c6a65', '0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc',
  '0x976ea74026e726554db657fa54763abd0c3a0aa9', '0x14dc79964da2c08b23698b3d3cc7ca32193d9955',
];
export const KNOWN_SESSION = 'c0ffee00-1234-4abc-8def-0123456789ab';
const ANCHORS = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
const b32 = (id) => '0x' + id.replace(/-/g, '') + '0'.repeat(32);

const sha = (s) => createHash('sha256').update(s).digest('hex');
const h32 = (s) => '0x' + sha(s);
const uuid = (s) => { const h = sha(s); return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16], 16) % 4]}${h.slice(17, 20)}-${h.slice(20, 32)}`; };
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58check(hex) {
  const payload = Buffer.from(hex, 'hex');
  const check = createHash('sha256').update(createHash('sha256').update(payload).digest()).digest().subarray(0, 4);
  let n = BigInt('0x' + Buffer.concat([payload, check]).toString('hex'));
  let out = '';
  while (n > 0n) { out = B58[Number(n % 58n)] + out; n /= 58n; }
  return out;
}
const tron = (evm) => base58check('41' + evm.slice(2));

// Chain clock: starts at wall time and runs SPEED× faster; the chains have HISTORY slots of past.
const wall0 = Date.now() / 1000;
const chain0 = Math.floor(wall0);
const genesisBlockTime = chain0 - HISTORY * SLOT;
const chainNow = () => Math.floor(chain0 + (Date.now() / 1000 - wall0) * SPEED);
const slotOf = (t) => Math.floor((t - GENESIS) / SLOT);
const start = (s) => GENESIS + SLOT * s;
const firstSlot = slotOf(genesisBlockTime) + 1;
const blockAt = (t) => 1 + (t - genesisBlockTime);                 // one on-system block per chain second
const payBlockAt = (t) => 1 + Math.floor((t - genesisBlockTime) / 3); // payment chain: one block per 3 s

function plan(s) {
  const epoch = Math.floor(s / 720);
  const rot = (s + epoch) % 3;
  const primary = NODES[rot];
  return { _id: s, slot: s, epoch, primary, fallbacks: [NODES[(rot + 1) % 3], NODES[(rot + 2) % 3]], planReason: s % 720 < 3 ? 'cooldown_relaxed' : 'ranked' };
}
function outcome(s) {
  const p = plan(s);
  if (s % 17 === 0) return { reason: 'missed', winner: null, delay: null };
  if (s % 29 === 0) return { reason: 'unscheduled', winner: p.fallbacks[1], delay: 1 };
  if (s % 37 === 0) return { reason: 'late', winner: p.primary, delay: SLOT + 4 };
  if (s % 11 === 0) return { reason: 'fallback', winner: p.fallbacks[0], delay: 6 };
  return { reason: 'primary', winner: p.primary, delay: 2 };
}
const sessionsIn = (s) => (outcome(s).winner ? 1 + (s % 4) : 0);
// The known session is the first of a slot a little before the fixture started (one with sessions).
let KNOWN_SLOT = firstSlot + HISTORY - 5;
while (sessionsIn(KNOWN_SLOT) === 0 || outcome(KNOWN_SLOT).reason === 'late') KNOWN_SLOT--;
const gasOf = (n) => 48000 + 27500 * n + (n > 2 ? 1200 : 0);

// Everything below is recomputed per request from the chain clock (deterministic per slot).
function world() {
  const now = chainNow();
  const cur = slotOf(now);
  const slots = [];
  const sessions = [];
  const events = [];
  for (let s = firstSlot; s <= cur + 720; s++) {
    const p = plan(s);
    const row = { ...p, result: null };
    const o = outcome(s);
    const done = o.delay === null ? s < cur : now >= start(s) + o.delay;
    if (s <= cur && done) {
      const txid = o.winner ? h32(`tx:${s}`) : null;
      const bt = o.winner ? start(s) + o.delay : null;
      row.result = { winner: o.winner, reason: o.reason, txid, block_time: bt };
      if (o.winner) {
        const n = sessionsIn(s);
        const bn = blockAt(bt);
        const ev = (name, logIndex, args) => ({ _id: `31337:${txid}:${logIndex}`, chain_id: 31337, address: ANCHORS, event: name,
          block_number: bn, block_hash: h32(`block:${bn}`), block_time: bt, tx_hash: txid, log_index: logIndex, args });
        for (let i = 0; i < n; i++) {
          const id = (s === KNOWN_SLOT && i === 0) ? KNOWN_SESSION : uuid(`session:${s}:${i}`);
          const doc = session(id, s, i, { status: 'anchored', slot: s, anchor_txid: txid, block_number: bn, block_hash: h32(`block:${bn}`), gas_used: Math.floor(gasOf(n) / n) }, bt);
          sessions.push(doc);
          events.push(ev('SessionRegistered', i, { sessionId: b32(id), owner: doc.owner_addr, slot: s, manifestHash: doc.manifest_hash,
            merkleRoot: doc.merkle_root, startedAt: doc.started_at, chunkCount: doc.chunk_count }));
        }
        events.push(ev('SlotAnchored', n, { slot: s, submitter: o.winner, count: n }));
      }
    }
    slots.push(row);
  }
  // Two sessions waiting for the next slot.
  for (let i = 0; i < 2; i++) sessions.push(session(uuid(`pending:${cur}:${i}`), cur, 10 + i, { status: 'pending', slot: null, anchor_txid: null, block_number: null, block_hash: null, gas_used: null }, now));
  return { now, cur, slots, sessions, events };
}
function session(id, s, i, anch, t) {
  const owner = OWNERS[(s + i) % OWNERS.length];
  const chunkCount = id === KNOWN_SESSION ? 4 : 1 + ((s * 7 + i) % 6);
  return { _id: id, owner_addr: owner, started_at: t - 90 - i * 7, manifest_hash: h32(`manifest:${id}`), merkle_root: h32(`root:${id}`),
    chunk_count: chunkCount, owner_sig: '0x' + sha(`sig1:${id}`) + sha(`sig2:${id}`), received_at: t - 60, ...anch };
}
function chunks(s) {
  const out = [];
  for (let i = 0; i < s.chunk_count; i++) {
    out.push({ _id: `${s._id}:${i}`, session_id: s._id, idx: i, chunk_hash: h32(`chunk:${s._id}:${i}`), size: 1 + ((i * 977 + 4096) % (1 << 20)),
      storers: s.status === 'anchored' ? NODES.filter((_, k) => (k + i) % 3 !== 2) : [] });
  }
  return out;
}
function payouts(now) {
  const d = new Date(now * 1000);
  const cur = d.getUTCFullYear() * 12 + d.getUTCMonth();
  const out = [];
  for (const [period, statuses] of [[cur - 1, ['paid', 'paid', 'rolled_over']], [cur - 2, ['paid', 'paid', 'paid']]]) {
    NODES.forEach((n, k) => {
      const st = statuses[k];
      const gross = 1000n * 1000000n * BigInt(3 - k) + 123456n * BigInt(period % 7 + 1);
      const rolled = st === 'rolled_over';
      out.push({ _id: h32(`payout:${period}:${n}`), period, node_id: n, to_tron: tron(n), to_evm: n, credits: 1000 * (3 - k),
        carry_in: '0', gross: gross.toString(), amount: rolled ? '0' : gross.toString(), carry_out: rolled ? gross.toString() : '0',
        router: k === 0 ? 'kyc' : 'v0', status: st, txid: st === 'paid' ? h32(`tron:${period}:${n}`).slice(2) : null, created_at: now - 86400 });
    });
  }
  return out;
}

/* ── HTTP ── */
class HttpError extends Error { constructor(status, code, message) { super(message); this.status = status; this.code = code; } }
const bad = (m) => new HttpError(400, 'bad_request', m);
function uint(q, name, { required = false, max = Number.MAX_SAFE_INTEGER } = {}) {
  const v = q.get(name);
  if (v === null || v === '') { if (required) throw bad(`${name} is required`); return undefined; }
  if (!/^\d{1,16}$/.test(v) || Number(v) > max) throw bad(`${name} must be an unsigned integer ≤ ${max}`);
  return Number(v);
}
function page(list, q) {
  const limit = uint(q, 'limit', { max: 1000 }) ?? 100;
  const off = q.get('cursor') ? Number(Buffer.from(q.get('cursor'), 'base64url').toString()) : 0;
  if (!Number.isInteger(off) || off < 0) throw bad('bad cursor');
  const items = list.slice(off, off + limit);
  const next = off + limit < list.length ? Buffer.from(String(off + limit)).toString('base64url') : null;
  return VARIANT === 'b' ? items : { items, nextCursor: next };
}
function status(w) {
  const head = blockAt(w.now), payHead = payBlockAt(w.now), cp = head - (w.now % 3);
  if (VARIANT === 'b') {
    return { on_system: { chain_id: 31337, head, checkpoint: cp, lag: head - cp, confirmations: 0, last_reorg: { block: head - 1500, depth: 2, at: w.now - 1500 },
      events: w.events.length, head_time: w.now },
    payment: { chain_id: 31338, head: payHead, checkpoint: payHead, lag: 0, confirmations: 0, last_reorg: null, events: 17 },
    chain_time: w.now, slot_now: w.cur, genesis_time: GENESIS };
  }
  return { chains: [
    { chainId: 31337, role: 'onsystem', head, checkpoint: cp, lag: head - cp, confirmations: 0, eventsIndexed: w.events.length, blocksIndexed: cp,
      reorgs: 3, lastReorg: { fromBlock: head - 1500, depth: 2, at: w.now - 1500 }, halted: null, lastError: null },
    { chainId: 31338, role: 'payment', head: payHead, checkpoint: payHead, lag: 0, confirmations: 0, eventsIndexed: 17, blocksIndexed: payHead,
      reorgs: 0, lastReorg: null, halted: null, lastError: null },
  ] };
}
function route(method, url) {
  if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', 'read-only fixture');
  const p = url.pathname, q = url.searchParams;
  if (FAIL && p.startsWith(FAIL)) throw new HttpError(500, 'injected', `fault injected for ${FAIL}`);
  if (p === '/' || p === '/index.html') return { html: readFileSync(PAGE) };
  if (p === '/health') return { json: { status: 'ok' } };
  if (p === '/ready') return { json: { ready: true, reasons: [] } };
  const w = world();
  if (p === '/v1/status') return { json: status(w) };
  if (p === '/v1/slots') {
    const from = uint(q, 'from', { required: true }), to = uint(q, 'to', { required: true });
    if (to < from) throw bad('to < from');
    if (to - from > 1000) throw bad('at most 1000 slots per request');
    return { json: page(w.slots.filter((s) => s.slot >= from && s.slot <= to), new URLSearchParams({ limit: '1000' })) };
  }
  let m = /^\/v1\/slots\/(\d+)$/.exec(p);
  if (m) { const s = w.slots.find((x) => x.slot === Number(m[1])); if (!s) throw new HttpError(404, 'not_found', 'no plan for this slot'); return { json: s }; }
  if (p === '/v1/sessions') {
    const owner = q.get('owner'), st = q.get('status');
    if (!owner) throw bad('owner is required');
    if (!/^0x[0-9a-fA-F]{40}$/.test(owner)) throw bad('owner must be an address');
    if (st && !['pending', 'anchored', 'conflict', 'failed'].includes(st)) throw bad('unknown status');
    const list = w.sessions.filter((s) => (!owner || s.owner_addr === owner.toLowerCase()) && (!st || s.status === st))
      .sort((a, b) => b.started_at - a.started_at || a._id.localeCompare(b._id));
    return { json: page(list, q) };
  }
  m = /^\/v1\/sessions\/([^/]+)(\/chunks)?$/.exec(p);
  if (m) {
    const id = decodeURIComponent(m[1]);
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) throw bad('session id must be a lower-case UUID');
    const s = w.sessions.find((x) => x._id === id);
    if (!s) throw new HttpError(404, 'not_found', `no session ${id}`);
    if (m[2]) return { json: page(chunks(s), q) };
    const { owner_sig: _sig, ...pub } = s;
    const anchor = { sessionId: b32(id), manifestHash: s.manifest_hash, merkleRoot: s.merkle_root,
      owner: s.owner_addr, startedAt: s.started_at, chunkCount: s.chunk_count };
    if (VARIANT === 'b') return { json: pub };
    return { json: { session: pub,
      anchoring: s.status === 'anchored' ? { slot: s.slot, txHash: s.anchor_txid, blockNumber: s.block_number, blockHash: s.block_hash } : null,
      sessionAnchor: anchor, sessionAnchorTuple: [anchor.sessionId, anchor.manifestHash, anchor.merkleRoot, anchor.owner, anchor.startedAt, anchor.chunkCount] } };
  }
  if (p === '/v1/payouts') {
    const r = q.get('recipient'); const period = uint(q, 'period', { max: 2 ** 32 - 1 });
    if (!r) throw bad('recipient is required');
    if (!/^(T[1-9A-HJ-NP-Za-km-z]{33}|0x[0-9a-fA-F]{40})$/.test(r)) throw bad('recipient must be a T… or 0x… address');
    const list = payouts(w.now).filter((x) => (period === undefined || x.period === period) && (x.to_tron === r || x.to_evm === r.toLowerCase()));
    return { json: VARIANT === 'b' ? list : { recipient: list[0]?.to_evm ?? r.toLowerCase(), items: list } };
  }
  if (p === '/v1/events') {
    const chainId = uint(q, 'chainId'), from = uint(q, 'fromBlock'), to = uint(q, 'toBlock'), ev = q.get('event');
    if (ev && !['SessionRegistered', 'SlotAnchored', 'ChunkAnchored', 'ChunkStored', 'PeriodRootSet', 'Paid', 'PaidKYC', 'PayoutSkipped'].includes(ev)) throw bad(`unknown event ${ev}`);
    const list = w.events.filter((e) => (chainId === undefined || e.chain_id === chainId) && (!ev || e.event === ev) &&
      (from === undefined || e.block_number >= from) && (to === undefined || e.block_number <= to))
      .sort((a, b) => a.block_number - b.block_number || a.log_index - b.log_index);
    return { json: page(list, q) };
  }
  throw new HttpError(404, 'not_found', `no route ${p}`);
}

const server = http.createServer((req, res) => {
  let out;
  try { out = route(req.method, new URL(req.url, 'http://fixture')); }
  catch (e) {
    const st = e instanceof HttpError ? e.status : 500;
    out = { status: st, json: { error: { code: e.code ?? 'internal', message: e.message } } };
  }
  if (out.html) { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }); res.end(out.html); return; }
  res.writeHead(out.status ?? 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(out.json));
});
server.listen(PORT, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`fixture: listening on http://127.0.0.1:${port}/\nfixture: session ${KNOWN_SESSION}\nfixture: variant ${VARIANT}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
