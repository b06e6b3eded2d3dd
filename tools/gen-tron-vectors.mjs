#!/usr/bin/env node
// Generates tests/vectors/tron.json: TriggerSmartContract transactions built and signed fully
// offline by tronweb 6.x (`txLocal: true` with a fixed block header), the reference the Rust builder
// (crates/lucid-payout/tests/tron_vectors.rs) and tronpy (tools/check-tron-vectors.py) must match
// byte for byte: raw_data bytes, txid = sha256(raw_data), and the 65-byte signature.
//
// Keys, reference blocks and timestamps are fixed, so re-running gives a byte-identical file.
//
//   node tools/gen-tron-vectors.mjs           # write tests/vectors/tron.json
//   node tools/gen-tron-vectors.mjs --check   # verify the committed file is current
import { TronWeb } from 'tronweb';
import { sha256 } from '@noble/hashes/sha2.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'tests', 'vectors', 'tron.json');
const enc = new TextEncoder();
const hex = (b) => Buffer.from(b).toString('hex');

// No network: the host is never contacted with txLocal and a full block header.
const tronWeb = new TronWeb({ fullHost: 'http://127.0.0.1:9' });

/** A fixed private key from a label: sha256("lucid.tron.vector." + label). */
const keyOf = (label) => hex(sha256(enc.encode('lucid.tron.vector.' + label)));
const addrOf = (pk) => tronWeb.address.fromPrivateKey(pk);
const word = (label) => '0x' + hex(sha256(enc.encode(label)));

const USDT = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t';
const ROUTER = addrOf(keyOf('router')); // any valid address stands for a router here
const payer = keyOf('payer');
const other = keyOf('other');

const cases = [
  {
    name: 'usdt-transfer',
    pk: payer,
    contract: USDT,
    selector: 'transfer(address,uint256)',
    params: [
      { type: 'address', value: addrOf(keyOf('recipient-1')) },
      { type: 'uint256', value: '1234567890' },
    ],
    block: { ref_block_bytes: '4c2a', ref_block_hash: '1f0e3d2c5b4a6978', timestamp: 1893456000000, expiration: 1893456060000 },
    feeLimit: 30_000_000,
  },
  {
    name: 'router-disburse',
    pk: payer,
    contract: ROUTER,
    selector: 'disburse(uint32,address,uint256,bytes32[])',
    params: [
      { type: 'uint32', value: 24321 },
      { type: 'address', value: addrOf(keyOf('recipient-2')) },
      { type: 'uint256', value: '50000000' },
      { type: 'bytes32[]', value: [word('proof-0'), word('proof-1')] },
    ],
    block: { ref_block_bytes: '00ff', ref_block_hash: '0011223344556677', timestamp: 1893456001234, expiration: 1893456061234 },
    feeLimit: 150_000_000,
  },
  {
    name: 'router-disburse-kyc',
    pk: other,
    contract: ROUTER,
    selector: 'disburseKYC(uint32,address,uint256,bytes32[],bytes32,uint64,bytes)',
    params: [
      { type: 'uint32', value: 24322 },
      { type: 'address', value: addrOf(keyOf('recipient-3')) },
      { type: 'uint256', value: '5000000000' },
      { type: 'bytes32[]', value: [word('proof-a')] },
      { type: 'bytes32', value: word('kyc') },
      { type: 'uint64', value: '1896134400' },
      { type: 'bytes', value: '0x' + 'ab'.repeat(65) },
    ],
    block: { ref_block_bytes: 'ffff', ref_block_hash: 'ffeeddccbbaa9988', timestamp: 1900000000000, expiration: 1900000060000 },
    feeLimit: 1_000_000_000,
  },
  {
    name: 'with-call-value',
    pk: other,
    contract: USDT,
    selector: 'approve(address,uint256)',
    params: [
      { type: 'address', value: ROUTER },
      { type: 'uint256', value: '115792089237316195423570985008687907853269984665640564039457584007913129639935' },
    ],
    callValue: 1_000_000,
    block: { ref_block_bytes: '0001', ref_block_hash: '8000000000000001', timestamp: 1893456002000, expiration: 1893542400000 },
    feeLimit: 1,
  },
];

async function build(c) {
  const owner = addrOf(c.pk);
  const { transaction } = await tronWeb.transactionBuilder.triggerSmartContract(
    c.contract,
    c.selector,
    { txLocal: true, blockHeader: c.block, feeLimit: c.feeLimit, callValue: c.callValue ?? 0 },
    c.params,
    owner,
  );
  const signed = await tronWeb.trx.sign(transaction, c.pk);
  // Self-checks: txid = sha256(raw_data bytes); the data field = selector ‖ ABI arguments.
  if (hex(sha256(Buffer.from(signed.raw_data_hex, 'hex'))) !== signed.txID) throw new Error(`${c.name}: txid`);
  const value = signed.raw_data.contract[0].parameter.value;
  return {
    name: c.name,
    privateKey: c.pk,
    owner,
    ownerHex: tronWeb.address.toHex(owner),
    contract: c.contract,
    contractHex: tronWeb.address.toHex(c.contract),
    functionSelector: c.selector,
    data: value.data,
    callValue: c.callValue ?? 0,
    feeLimit: c.feeLimit,
    refBlockBytes: c.block.ref_block_bytes,
    refBlockHash: c.block.ref_block_hash,
    timestamp: c.block.timestamp,
    expiration: c.block.expiration,
    rawData: signed.raw_data,
    rawDataHex: signed.raw_data_hex,
    txid: signed.txID,
    signature: signed.signature[0],
  };
}

const doc = {
  spec: 'TRON TriggerSmartContract offline building (issue 10): raw_data protobuf, txid = sha256(raw_data), 65-byte r‖s‖v signature (v = 27/28)',
  generator: `tools/gen-tron-vectors.mjs with tronweb ${TronWeb.version}`,
  vectors: [],
};
for (const c of cases) doc.vectors.push(await build(c));
const text = JSON.stringify(doc, null, 2) + '\n';

if (process.argv.includes('--check')) {
  const old = readFileSync(OUT, 'utf8');
  if (old !== text) {
    console.error('tests/vectors/tron.json is stale: run node tools/gen-tron-vectors.mjs');
    process.exit(1);
  }
  console.log(`tests/vectors/tron.json is current (${doc.vectors.length} vectors)`);
} else {
  writeFileSync(OUT, text);
  console.log(`wrote tests/vectors/tron.json (${doc.vectors.length} vectors)`);
}
