//! Event decoding: the `args` JSON shape the store derives state from, pinned per event, and every
//! event of the four contracts round-trips through the decoder.
#![allow(clippy::unwrap_used)]

use alloy::dyn_abi::{DynSolType, DynSolValue};
use alloy::primitives::{Address, B256, Bytes, I256, U64, U256, address, b256};
use alloy::sol_types::SolEvent;
use lucid_chain::bindings::{ILucidAnchors, ILucidChunkStore, IPayoutRouterKYC, IPayoutRouterV0};
use lucid_chain::events::DecodeError;
use lucid_chain::{ContractKind, EventDecoder, RawLog};
use serde_json::{Value, json};

const ANCHORS: Address = address!("5FbDB2315678afecb367f032d93F642f64180aa3");
const STORE: Address = address!("e7f1725E7734CE288F8367e1Bb143E90bb3F0512");
const V0: Address = address!("9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0");
const KYC: Address = address!("Cf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9");
const TX: B256 = b256!("ABCDEF0000000000000000000000000000000000000000000000000000000001");
const BLOCK: B256 = b256!("00000000000000000000000000000000000000000000000000000000000000BB");

fn decoder() -> EventDecoder {
    EventDecoder::new(
        31337,
        [
            (ANCHORS, ContractKind::LucidAnchors),
            (STORE, ContractKind::LucidChunkStore),
            (V0, ContractKind::PayoutRouterV0),
            (KYC, ContractKind::PayoutRouterKYC),
        ],
    )
}

fn raw(address: Address, data: alloy::primitives::LogData, log_index: u64) -> RawLog {
    RawLog {
        address,
        topics: data.topics().to_vec(),
        data: data.data.clone(),
        block_number: U64::from(7),
        block_hash: BLOCK,
        transaction_hash: TX,
        log_index: U64::from(log_index),
        removed: false,
    }
}

#[test]
fn session_registered_args() {
    let sid = b256!("0123456789abcdef0123456789abcdef00000000000000000000000000000000");
    let owner = address!("70997970C51812dc3A010C7d01b50e0d17dc79C8");
    let ev = ILucidAnchors::SessionRegistered {
        sessionId: sid,
        owner,
        slot: 42,
        manifestHash: B256::repeat_byte(0xAA),
        merkleRoot: B256::repeat_byte(0xBB),
        startedAt: 1_704_067_200,
        chunkCount: 3,
    };
    let d = decoder()
        .decode(&raw(ANCHORS, ev.encode_log_data(), 5), 1_704_067_300)
        .unwrap();
    assert_eq!(d.event, "SessionRegistered");
    assert_eq!(d.block_time, 1_704_067_300);
    assert_eq!(
        d.args,
        json!({
            "sessionId": "0x0123456789abcdef0123456789abcdef00000000000000000000000000000000",
            "owner": "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
            "slot": 42,
            "manifestHash": format!("0x{}", "aa".repeat(32)),
            "merkleRoot": format!("0x{}", "bb".repeat(32)),
            "startedAt": 1_704_067_200u64,
            "chunkCount": 3
        })
    );
    let ce = d.to_chain_event();
    assert_eq!(
        ce.id,
        "31337:0xabcdef0000000000000000000000000000000000000000000000000000000001:5"
    );
    assert_eq!(ce.address, ANCHORS);
    assert_eq!(ce.block_number, 7);
    assert_eq!(ce.block_time, 1_704_067_300);
    assert_eq!(ce.block_hash, BLOCK);
    // The stored document: lower-case hex by construction.
    let doc = serde_json::to_value(&ce).unwrap();
    assert_eq!(
        doc["address"],
        json!("0x5fbdb2315678afecb367f032d93f642f64180aa3")
    );
    assert_eq!(doc["block_hash"], json!(format!("0x{}bb", "00".repeat(31))));
}

#[test]
fn slot_chunk_and_payout_args() {
    let dec = decoder();
    let who = address!("3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");
    let slot = ILucidAnchors::SlotAnchored {
        slot: u64::MAX,
        submitter: who,
        count: 100,
    };
    let d = dec
        .decode(&raw(ANCHORS, slot.encode_log_data(), 0), 1)
        .unwrap();
    assert_eq!(
        d.args,
        json!({"slot": u64::MAX, "submitter": "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", "count": 100})
    );

    let stored = ILucidChunkStore::ChunkStored {
        sessionId: B256::repeat_byte(1),
        index: 9,
        storer: who,
        chunkHash: B256::repeat_byte(2),
        size: 16 << 20,
    };
    let d = dec
        .decode(&raw(STORE, stored.encode_log_data(), 1), 1)
        .unwrap();
    assert_eq!(d.event, "ChunkStored");
    assert_eq!(d.args["index"], json!(9));
    assert_eq!(d.args["size"], json!(16u64 << 20));
    assert_eq!(
        d.args["storer"],
        json!("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc")
    );

    let big = U256::from(10).pow(U256::from(30)) + U256::from(7);
    let paid = IPayoutRouterV0::Paid {
        payoutId: B256::repeat_byte(3),
        to: who,
        amount: big,
        period: 24_300,
    };
    let d = dec.decode(&raw(V0, paid.encode_log_data(), 2), 1).unwrap();
    assert_eq!(d.args["amount"], json!("1000000000000000000000000000007"));
    assert_eq!(d.args["period"], json!(24_300));

    let kyc = IPayoutRouterKYC::PaidKYC {
        payoutId: B256::repeat_byte(3),
        to: who,
        amount: U256::from(10_000_000u64),
        period: 1,
        kycHash: B256::repeat_byte(4),
    };
    let d = dec.decode(&raw(KYC, kyc.encode_log_data(), 3), 1).unwrap();
    assert_eq!(d.args["amount"], json!("10000000"));
    assert_eq!(d.args["kycHash"], json!(format!("0x{}", "04".repeat(32))));

    let skipped = IPayoutRouterV0::PayoutSkipped {
        payoutId: B256::ZERO,
        to: who,
        reason: 2,
    };
    let d = dec
        .decode(&raw(V0, skipped.encode_log_data(), 4), 1)
        .unwrap();
    assert_eq!(d.args["reason"], json!(2));

    let root = IPayoutRouterV0::PeriodRootSet {
        period: 5,
        root: B256::repeat_byte(9),
        total: U256::from(123u64),
    };
    let d = dec.decode(&raw(KYC, root.encode_log_data(), 5), 1).unwrap();
    assert_eq!(d.contract, ContractKind::PayoutRouterKYC);
    assert_eq!(d.args["total"], json!("123"));
}

#[test]
fn unknown_and_malformed_logs_are_errors() {
    let dec = decoder();
    let slot = ILucidAnchors::SlotAnchored {
        slot: 1,
        submitter: Address::ZERO,
        count: 1,
    };
    // Another contract.
    let mut l = raw(ANCHORS, slot.encode_log_data(), 0);
    l.address = Address::repeat_byte(7);
    assert!(matches!(
        dec.decode(&l, 1),
        Err(DecodeError::UnknownContract { .. })
    ));
    // An anchors event logged by the chunk store is not one of its events.
    let l = raw(STORE, slot.encode_log_data(), 0);
    assert!(matches!(
        dec.decode(&l, 1),
        Err(DecodeError::UnknownEvent { .. })
    ));
    // No topics at all.
    let mut l = raw(ANCHORS, slot.encode_log_data(), 0);
    l.topics.clear();
    assert!(matches!(
        dec.decode(&l, 1),
        Err(DecodeError::UnknownEvent { .. })
    ));
    // Truncated data, missing topic.
    let mut l = raw(ANCHORS, slot.encode_log_data(), 0);
    l.data = Bytes::from(vec![0u8; 5]);
    assert!(matches!(
        dec.decode(&l, 1),
        Err(DecodeError::Malformed { .. })
    ));
    let mut l = raw(ANCHORS, slot.encode_log_data(), 0);
    l.topics.pop();
    assert!(matches!(
        dec.decode(&l, 1),
        Err(DecodeError::Malformed { .. })
    ));
}

fn sample(t: &DynSolType, seed: u8) -> DynSolValue {
    match t {
        DynSolType::Address => DynSolValue::Address(Address::repeat_byte(seed | 0xA0)),
        DynSolType::Bool => DynSolValue::Bool(seed % 2 == 1),
        DynSolType::FixedBytes(n) => DynSolValue::FixedBytes(B256::repeat_byte(seed | 0xC0), *n),
        DynSolType::Uint(bits) => {
            let v = if *bits >= 64 {
                U256::from(u64::MAX)
            } else {
                (U256::from(1) << *bits) - U256::from(1)
            };
            DynSolValue::Uint(v, *bits)
        }
        DynSolType::Int(bits) => DynSolValue::Int(I256::try_from(-5).unwrap(), *bits),
        DynSolType::Bytes => DynSolValue::Bytes(vec![seed, 0xFF]),
        DynSolType::String => DynSolValue::String(format!("s{seed}")),
        other => panic!("no sample for {other}"),
    }
}

/// Every event of every contract: encode sample values, decode, check keys and JSON types.
#[test]
fn every_event_round_trips_with_solidity_names() {
    let dec = decoder();
    let mut seen = 0;
    for (kind, address) in [
        (ContractKind::LucidAnchors, ANCHORS),
        (ContractKind::LucidChunkStore, STORE),
        (ContractKind::PayoutRouterV0, V0),
        (ContractKind::PayoutRouterKYC, KYC),
    ] {
        for abi in kind.abis() {
            for ev in abi.events() {
                let mut topics = vec![ev.selector()];
                let mut body = Vec::new();
                for (i, p) in ev.inputs.iter().enumerate() {
                    let t: DynSolType = p.ty.parse().unwrap();
                    let v = sample(&t, i as u8);
                    if p.indexed {
                        let word = v
                            .as_word()
                            .unwrap_or_else(|| alloy::primitives::keccak256(v.abi_encode_packed()));
                        topics.push(word);
                    } else {
                        body.push(v);
                    }
                }
                let data = DynSolValue::Tuple(body).abi_encode_params();
                let l = RawLog {
                    address,
                    topics,
                    data: data.into(),
                    block_number: U64::from(1),
                    block_hash: BLOCK,
                    transaction_hash: TX,
                    log_index: U64::from(0),
                    removed: false,
                };
                let d = dec
                    .decode(&l, 99)
                    .unwrap_or_else(|e| panic!("{}.{}: {e}", kind.name(), ev.name));
                assert_eq!(d.event, ev.name);
                let obj = d.args.as_object().unwrap();
                assert_eq!(obj.len(), ev.inputs.len(), "{}", ev.name);
                for p in &ev.inputs {
                    let v = &obj[&p.name];
                    let ok = match p.ty.as_str() {
                        "address" => v
                            .as_str()
                            .is_some_and(|s| s.len() == 42 && s == s.to_lowercase()),
                        t if t.starts_with("bytes") && t != "bytes" => v
                            .as_str()
                            .is_some_and(|s| s.starts_with("0x") && s == s.to_lowercase()),
                        "uint256" | "int256" => {
                            matches!(v, Value::String(s) if s.parse::<i128>().is_ok() || s.chars().all(|c| c.is_ascii_digit()))
                        }
                        t if t.starts_with("uint") || t.starts_with("int") => v.is_number(),
                        "bool" => v.is_boolean(),
                        _ => true,
                    };
                    assert!(ok, "{}.{}: {} = {v}", ev.name, p.name, p.ty);
                }
                seen += 1;
            }
        }
    }
    assert!(seen >= 20, "only {seen} events");
}
