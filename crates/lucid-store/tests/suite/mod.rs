//! The conformance suite: one body per test, run against every backend.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::{Address, B256, FixedBytes, U256};
use futures::TryStreamExt;
use lucid_core::models::*;
use lucid_store::*;
use serde_json::{Value, json};

use crate::harness::{Ctx, Raw};

pub fn h32(n: u64) -> B256 {
    B256::from(U256::from(n))
}
pub fn addr(n: u64) -> Address {
    Address::from_word(h32(n))
}
pub fn hx(x: &impl std::fmt::LowerHex) -> String {
    format!("{x:#x}")
}
pub fn uuid(n: u64) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", n >> 16, n)
}
pub fn uuid_bytes32(n: u64) -> String {
    let u = uuid(n).replace('-', "");
    format!("0x{u}{}", "0".repeat(32))
}
pub fn sig64(n: u8) -> CompactSig {
    FixedBytes::repeat_byte(n)
}
pub fn sig65(n: u8) -> Sig65 {
    FixedBytes::repeat_byte(n)
}

/// A submission of session `n` (3 chunks, owner `owner`).
pub fn submission(n: u64, owner: u64, started_at: u64, received_at: u64) -> SessionSubmission {
    SessionSubmission {
        id: uuid(n),
        owner_addr: addr(owner),
        started_at,
        manifest_hash: h32(n + 1),
        merkle_root: h32(n + 2),
        chunk_count: 3,
        owner_sig: sig64(0x51),
        received_at,
        chunks: (0..3).map(|i| entry(n, i)).collect(),
    }
}

pub fn entry(n: u64, idx: u32) -> ChunkEntry {
    ChunkEntry {
        idx,
        chunk_hash: h32(n * 1000 + u64::from(idx)),
        size: 1 << 20,
    }
}

pub fn event(chain: u64, block: u64, log: u64, name: &str, args: Value) -> ChainEvent {
    let tx = h32(chain * 1_000_000 + block * 100 + log / 10);
    ChainEvent {
        id: ChainEvent::make_id(chain, &tx, log),
        chain_id: chain,
        address: addr(0xa1),
        event: name.into(),
        block_number: block,
        block_hash: h32(block),
        block_time: 1_704_067_200 + block * 12,
        tx_hash: tx,
        log_index: log,
        args,
    }
}

/// `SessionRegistered` for the submission's content.
pub fn registered(
    chain: u64,
    block: u64,
    log: u64,
    s: &SessionSubmission,
    slot: u64,
) -> ChainEvent {
    let b = format!("0x{}{}", s.id.replace('-', ""), "0".repeat(32));
    event(
        chain,
        block,
        log,
        "SessionRegistered",
        json!({
            "sessionId": b, "owner": hx(&s.owner_addr), "slot": slot,
            "manifestHash": hx(&s.manifest_hash), "merkleRoot": hx(&s.merkle_root),
            "startedAt": s.started_at, "chunkCount": s.chunk_count,
        }),
    )
}

pub fn stored(chain: u64, block: u64, log: u64, sess: u64, idx: u32, storer: u64) -> ChainEvent {
    let e = entry(sess, idx);
    event(
        chain,
        block,
        log,
        "ChunkStored",
        json!({
            "sessionId": uuid_bytes32(sess), "index": idx, "storer": hx(&addr(storer)),
            "chunkHash": hx(&e.chunk_hash), "size": e.size,
        }),
    )
}

pub fn slot_anchored(chain: u64, block: u64, log: u64, slot: u64, submitter: u64) -> ChainEvent {
    event(
        chain,
        block,
        log,
        "SlotAnchored",
        json!({"slot": slot, "submitter": hx(&addr(submitter)), "count": 1}),
    )
}

pub fn paid(chain: u64, block: u64, log: u64, p: &Payout) -> ChainEvent {
    event(
        chain,
        block,
        log,
        "Paid",
        json!({"payoutId": hx(&p.id), "to": hx(&p.to_evm), "amount": p.amount.to_string(), "period": p.period}),
    )
}

pub fn cp(chain: u64, block: u64) -> Checkpoint {
    Checkpoint {
        chain_id: chain,
        block_number: block,
        block_hash: h32(block),
    }
}

/// An event that derives nothing (`ChunkAnchored`) at `(chain, block, log)`.
pub fn inert(chain: u64, block: u64, log: u64) -> ChainEvent {
    event(
        chain,
        block,
        log,
        "ChunkAnchored",
        json!({"sessionId": uuid_bytes32(block), "index": log, "submitter": hx(&addr(1)), "chunkHash": hx(&h32(log))}),
    )
}

/// Blocks `[from, to]` of a chain, `per_block` events that derive nothing.
pub fn range(chain: u64, from: u64, to: u64, per_block: u64) -> BlockRange {
    let mut ev = Vec::new();
    for b in from..=to {
        for l in 0..per_block {
            ev.push(inert(chain, b, l));
        }
    }
    BlockRange::new(cp(chain, to), ev)
}

pub fn proof(n: u64, slot: u64) -> TaskProof {
    TaskProof {
        id: h32(0xbeef_0000 + n),
        node_id: addr(n % 5),
        slot,
        kind: ProofKind::RelayBandwidth,
        session_id: uuid(n),
        amount: 1 << 20,
        chunk_index: 0,
        digest: B256::ZERO,
        sig: sig65(0xab),
        ts: 1_700_000_000 + n,
    }
}

pub fn tally_row(epoch: u64, e: u64, rank: Option<u32>) -> TallyRow {
    TallyRow {
        epoch,
        entity_id: addr(e),
        credits: 100 - e,
        live_score: 500_000,
        rank,
        eligible: rank.is_some(),
    }
}

pub fn epoch_doc(epoch: u64, by: u64) -> Epoch {
    Epoch {
        id: epoch,
        epoch,
        seed: h32(epoch + 77),
        seed_block: 1000 + epoch,
        params_hash: h32(5),
        members: vec![addr(1), addr(2), addr(3)],
        rows: vec![
            tally_row(epoch, 1, Some(1)),
            tally_row(epoch, 2, Some(2)),
            tally_row(epoch, 3, None),
        ],
        tally_hash: h32(epoch * 10 + by),
        frozen_at: 1_800_000_000,
        frozen_by: addr(by),
    }
}

pub fn leader(slot: u64) -> LeaderSlot {
    LeaderSlot {
        id: slot,
        slot,
        epoch: slot / 720,
        primary: Some(addr(1)),
        fallbacks: vec![addr(2), addr(3)],
        plan_reason: PlanReason::Ranked,
        result: None,
    }
}

pub fn payout(n: u64, to: u64, period: u32) -> Payout {
    Payout {
        id: h32(0x9a00 + n + u64::from(period) * 1000),
        period,
        node_id: addr(100 + n),
        to_tron: format!("T{n:033}"),
        to_evm: addr(to),
        credits: 10 * n,
        carry_in: U256::from(n),
        gross: U256::from(50_000_000u64 + n),
        amount: U256::from(50_000_000u64),
        carry_out: U256::from(n),
        router: PayoutRouter::V0,
        leaf: Some(h32(0x1eaf + n)),
        proof: vec![h32(1), h32(2)],
        kyc_hash: None,
        kyc_expiry: None,
        kyc_sig: None,
        status: PayoutStatus::Planned,
        txid: None,
        created_at: 1_717_000_000,
    }
}

pub fn period_doc(p: u32, payouts: &[Payout]) -> Period {
    Period {
        id: p,
        period: p,
        pool: U256::from(50_000_000_000u64),
        inputs_hash: h32(p.into()),
        members: payouts.iter().map(|x| x.node_id).collect(),
        min_payout: U256::from(10_000_000u64),
        max_v0: U256::from(1_000_000_000u64),
        max_kyc: U256::from(5_000_000_000u64),
        root: Some(h32(0x2007)),
        total: payouts.iter().map(|x| x.amount).sum(),
        planned_at: 1_717_000_000,
    }
}

pub async fn all_events(s: &dyn Store, chain: Option<u64>) -> Vec<ChainEvent> {
    let q = EventQuery {
        chain_id: chain,
        event: None,
        from_block: 0,
        to_block: u64::MAX,
    };
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let p = s.events(&q, cursor.as_deref(), 7).await.unwrap();
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    out
}

pub async fn all_sessions(s: &dyn Store) -> Vec<Session> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let p = s
            .sessions(&SessionQuery::default(), cursor.as_deref(), 5)
            .await
            .unwrap();
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    out
}

/// Everything a reader can see, for "exactly the state before" comparisons.
pub async fn snapshot(s: &dyn Store, session_ids: &[u64], chains: &[u64], period: u32) -> Value {
    let mut chunks = Vec::new();
    for n in session_ids {
        chunks.push(serde_json::to_value(s.chunks_of_session(&uuid(*n)).await.unwrap()).unwrap());
    }
    let mut cps = Vec::new();
    for c in chains {
        cps.push(serde_json::to_value(s.checkpoint(*c).await.unwrap()).unwrap());
    }
    let params = Params::default();
    json!({
        "sessions": all_sessions(s).await,
        "pending": s.pending_sessions(1000).await.unwrap(),
        "chunks": chunks,
        "events": all_events(s, None).await,
        "schedule": s.schedule(0, 10_000, &params, Some(u64::MAX / 4)).await.unwrap(),
        "claims": s.slot_claims(0, 10_000).await.unwrap(),
        "payouts": s.payouts_of_period(period).await.unwrap(),
        "checkpoints": cps,
    })
}

// ------------------------------------------------------------------ tests

/// Replaying block ranges and batches changes nothing.
pub async fn idempotent_rewrites(c: Ctx) {
    let s = &*c.store;
    let sub = submission(1, 1, 1000, 2000);
    let proofs: Vec<TaskProof> = (0..10).map(|i| proof(i, 5)).collect();
    let sched: Vec<LeaderSlot> = (10..15).map(leader).collect();
    let mut r = range(1, 1, 3, 4);
    r.events.push(registered(1, 3, 50, &sub, 10));
    r.events.push(stored(1, 3, 51, 1, 0, 9));
    r.events.push(slot_anchored(1, 3, 52, 10, 1));
    let mut first = None;
    for round in 0..3 {
        let out = s.submit_session(&sub).await.unwrap();
        assert_eq!(
            out,
            if round == 0 {
                SubmitOutcome::Inserted
            } else {
                SubmitOutcome::Duplicate
            }
        );
        let out = s.put_proofs(&proofs).await.unwrap();
        assert_eq!(out.inserted + out.duplicates, 10);
        assert_eq!(out.inserted, if round == 0 { 10 } else { 0 });
        let po = s.put_plans(&sched).await.unwrap();
        assert_eq!(po.inserted, if round == 0 { 5 } else { 0 });
        s.write_block_range(&r).await.unwrap();
        s.put_events(&r.events, &r.session_gas).await.unwrap();
        s.put_checkpoint(&cp(2, 42)).await.unwrap();
        let snap = snapshot(s, &[1], &[1, 2], 0).await;
        match &first {
            None => first = Some(snap),
            Some(f) => assert_eq!(&snap, f, "round {round} changed the store"),
        }
    }
    let got = s.session(&uuid(1)).await.unwrap().unwrap();
    assert_eq!(got.status, SessionStatus::Anchored);
    assert_eq!(got.slot, Some(10));
    assert_eq!(got.owner_sig, Some(sig64(0x51)));
    assert_eq!(got.received_at, Some(2000));
    assert_eq!(s.checkpoint(1).await.unwrap(), Some(cp(1, 3)));
    assert_eq!(s.checkpoint(2).await.unwrap(), Some(cp(2, 42)));
    assert_eq!(s.checkpoint(3).await.unwrap(), None);
    assert_eq!(all_events(s, Some(1)).await.len(), 12 + 3);
    assert_eq!(s.count_events(Some(1)).await.unwrap(), 15);
    assert_eq!(s.count_events(Some(2)).await.unwrap(), 0);
    assert_eq!(s.count_events(None).await.unwrap(), 15);
    // an exact duplicate proof is accepted once: a replay with a later `ts` keeps the first one
    let mut later = proofs[0].clone();
    later.ts += 99;
    assert_eq!(s.put_proofs(&[later]).await.unwrap().duplicates, 1);
    assert_eq!(
        s.proof(&proofs[0].id).await.unwrap().unwrap().ts,
        proofs[0].ts
    );
    // the reporting insert names exactly the items already stored (mixed batch), keeps their
    // first `ts`, and stores the new ones
    let fresh = [proof(90, 1), proof(91, 1)];
    let mut later = proofs[0].clone();
    later.ts += 7;
    let mixed = vec![fresh[0].clone(), later, fresh[1].clone(), proofs[3].clone()];
    assert_eq!(s.put_proofs_reporting(&mixed).await.unwrap(), vec![1, 3]);
    assert_eq!(
        s.proof(&proofs[0].id).await.unwrap().unwrap().ts,
        proofs[0].ts
    );
    for p in &fresh {
        assert_eq!(s.proof(&p.id).await.unwrap().as_ref(), Some(p));
    }
    assert_eq!(
        s.put_proofs_reporting(&mixed).await.unwrap(),
        vec![0, 1, 2, 3]
    );
    assert!(s.put_proofs_reporting(&[]).await.unwrap().is_empty());
    // numbers beyond the stored 64-bit range are a typed error, not a wrap-around
    let mut big = proof(99, 1);
    big.slot = u64::MAX;
    assert!(matches!(
        s.put_proofs(&[big]).await,
        Err(StoreError::OutOfRange { .. })
    ));
}

/// Insert-if-absent submissions: duplicate keeps the first signature, different content is a
/// typed Conflict that writes nothing; a re-put never wipes storers.
pub async fn submissions_insert_if_absent(c: Ctx) {
    let s = &*c.store;
    let sub = submission(1, 1, 1000, 2000);
    assert_eq!(
        s.submit_session(&sub).await.unwrap(),
        SubmitOutcome::Inserted
    );
    let want = sub.to_session();
    assert_eq!(s.session(&sub.id).await.unwrap().as_ref(), Some(&want));
    // same digest, another signature and time: duplicate, the first kept
    let mut again = sub.clone();
    again.owner_sig = sig64(0x77);
    again.received_at = 9999;
    assert_eq!(
        s.submit_session(&again).await.unwrap(),
        SubmitOutcome::Duplicate
    );
    assert_eq!(s.session(&sub.id).await.unwrap().as_ref(), Some(&want));
    // another digest: Conflict, nothing written (not even its chunks)
    let mut other = submission(1, 1, 1000, 3000);
    other.merkle_root = h32(0xdead);
    other.chunks = vec![ChunkEntry {
        idx: 2,
        chunk_hash: h32(0xbad),
        size: 7,
    }];
    match s.submit_session(&other).await {
        Err(StoreError::Conflict { collection, id, .. }) => {
            assert_eq!(collection, "sessions");
            assert_eq!(id, sub.id);
        }
        r => panic!("expected Conflict, got {r:?}"),
    }
    assert_eq!(s.session(&sub.id).await.unwrap().as_ref(), Some(&want));
    // storers learnt from the chain survive any re-put of the chunk list
    s.write_block_range(&BlockRange::new(
        cp(1, 5),
        vec![
            registered(1, 4, 0, &sub, 3),
            stored(1, 5, 0, 1, 0, 9),
            stored(1, 5, 1, 1, 0, 8),
            stored(1, 5, 2, 1, 2, 9),
        ],
    ))
    .await
    .unwrap();
    for _ in 0..2 {
        s.submit_session(&sub).await.unwrap();
        let ch = s.chunks_of_session(&sub.id).await.unwrap();
        assert_eq!(ch.len(), 3);
        assert_eq!(ch[0].storers, vec![addr(9), addr(8)]);
        assert!(ch[1].storers.is_empty());
        assert_eq!(ch[2].storers, vec![addr(9)]);
        assert_eq!(ch[0].chunk_hash, entry(1, 0).chunk_hash);
        assert_eq!(ch[0].id, Chunk::make_id(&sub.id, 0));
    }
    // a submission without chunks, then with them: the list is added, storers untouched
    let mut bare = submission(2, 1, 1001, 2001);
    bare.chunks.clear();
    s.submit_session(&bare).await.unwrap();
    assert!(s.chunks_of_session(&bare.id).await.unwrap().is_empty());
    assert_eq!(
        s.submit_session(&submission(2, 1, 1001, 2002))
            .await
            .unwrap(),
        SubmitOutcome::Duplicate
    );
    assert_eq!(s.chunks_of_session(&bare.id).await.unwrap().len(), 3);
    // bad chunk lists are refused
    let mut bad = submission(3, 1, 1, 1);
    bad.chunks.push(entry(3, 1));
    assert!(matches!(
        s.submit_session(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    let mut bad = submission(3, 1, 1, 1);
    bad.chunks[0].idx = 3;
    assert!(matches!(
        s.submit_session(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(s.session(&uuid(3)).await.unwrap(), None);
}

/// Anchoring status comes from `SessionRegistered`: same digest anchored, another digest
/// conflict, a session known only from the chain shows up and can be adopted by a submission.
pub async fn anchoring_from_events(c: Ctx) {
    let s = &*c.store;
    let a = submission(1, 1, 1000, 2000);
    let b = submission(2, 1, 1001, 2001);
    let chain_only = submission(3, 4, 1002, 0);
    s.submit_session(&a).await.unwrap();
    s.submit_session(&b).await.unwrap();
    let mut b_other = b.clone();
    b_other.manifest_hash = h32(0xfeed);
    let ev = vec![
        registered(1, 7, 0, &a, 33),
        registered(1, 7, 1, &b_other, 33),
        registered(1, 7, 2, &chain_only, 33),
        slot_anchored(1, 7, 3, 33, 1),
    ];
    s.write_block_range(&BlockRange::new(cp(1, 7), ev.clone()))
        .await
        .unwrap();
    let sa = s.session(&a.id).await.unwrap().unwrap();
    assert_eq!(sa.status, SessionStatus::Anchored);
    assert_eq!(
        (sa.slot, sa.anchor_txid, sa.block_number, sa.block_hash),
        (Some(33), Some(ev[0].tx_hash), Some(7), Some(h32(7)))
    );
    assert_eq!(sa.owner_sig, Some(sig64(0x51)));
    let sb = s.session(&b.id).await.unwrap().unwrap();
    assert_eq!(sb.status, SessionStatus::Conflict);
    assert_eq!(sb.manifest_hash, b.manifest_hash, "the submission is kept");
    let sc = s.session(&chain_only.id).await.unwrap().unwrap();
    assert_eq!(sc.status, SessionStatus::Anchored);
    assert_eq!((sc.owner_sig, sc.received_at), (None, None));
    assert_eq!(sc.owner_addr, addr(4));
    assert!(s.pending_sessions(10).await.unwrap().is_empty());
    let by_owner = s
        .sessions(
            &SessionQuery {
                owner: Some(addr(4)),
                status: Some(SessionStatus::Anchored),
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(by_owner.items, vec![sc.clone()]);
    // the owner submits it afterwards: adopted (signature and time taken), still anchored
    let mut late = chain_only.clone();
    late.received_at = 5000;
    assert_eq!(
        s.submit_session(&late).await.unwrap(),
        SubmitOutcome::Inserted
    );
    let sc2 = s.session(&late.id).await.unwrap().unwrap();
    assert_eq!(sc2.status, SessionStatus::Anchored);
    assert_eq!(
        (sc2.owner_sig, sc2.received_at),
        (Some(sig64(0x51)), Some(5000))
    );
    // another digest for a chain-known session is refused
    let mut forged = submission(9, 1, 1, 1);
    forged.id = uuid(1);
    assert!(matches!(
        s.submit_session(&forged).await,
        Err(StoreError::Conflict { .. })
    ));
    // a non-UUID bytes32 session id is kept as its hex
    let raw = event(
        1,
        8,
        0,
        "SessionRegistered",
        json!({"sessionId": hx(&h32(0xabc)), "owner": hx(&addr(1)), "slot": 34,
               "manifestHash": hx(&h32(1)), "merkleRoot": hx(&h32(2)), "startedAt": 5, "chunkCount": 1}),
    );
    s.write_block_range(&BlockRange::new(cp(1, 8), vec![raw]))
        .await
        .unwrap();
    assert!(s.session(&hx(&h32(0xabc))).await.unwrap().is_some());
}

/// The keeper's batch: pending sessions by received_at, then id.
pub async fn pending_batch_order(c: Ctx) {
    let s = &*c.store;
    for (n, received) in [(5u64, 30u64), (1, 10), (3, 20), (2, 20), (4, 5)] {
        s.submit_session(&submission(n, 1, 100 + n, received))
            .await
            .unwrap();
    }
    let got: Vec<String> = s
        .pending_sessions(10)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(got, vec![uuid(4), uuid(1), uuid(2), uuid(3), uuid(5)]);
    assert_eq!(s.pending_sessions(2).await.unwrap().len(), 2);
    // anchoring one removes it from the batch
    s.put_events(
        &[registered(1, 1, 0, &submission(2, 1, 102, 20), 1)],
        &BTreeMap::new(),
    )
    .await
    .unwrap();
    let got: Vec<String> = s
        .pending_sessions(10)
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.id)
        .collect();
    assert_eq!(got, vec![uuid(4), uuid(1), uuid(3), uuid(5)]);
}

pub async fn queries(c: Ctx) {
    let s = &*c.store;
    for i in 0..6 {
        s.submit_session(&submission(i, 1, 100 + i, 1))
            .await
            .unwrap();
    }
    s.submit_session(&submission(50, 2, 999, 1)).await.unwrap();
    // anchor the even ones
    let ev: Vec<ChainEvent> = (0..6)
        .filter(|i| i % 2 == 0)
        .map(|i| registered(1, 1, i, &submission(i, 1, 100 + i, 1), 1))
        .collect();
    s.write_block_range(&BlockRange::new(cp(1, 1), ev))
        .await
        .unwrap();
    let p = s
        .sessions(
            &SessionQuery {
                owner: Some(addr(1)),
                status: Some(SessionStatus::Anchored),
            },
            None,
            10,
        )
        .await
        .unwrap();
    let ids: Vec<_> = p.items.iter().map(|x| x.id.clone()).collect();
    assert_eq!(ids, vec![uuid(4), uuid(2), uuid(0)]);
    assert_eq!(p.next_cursor, None);
    let all = s
        .sessions(
            &SessionQuery {
                owner: Some(addr(1)),
                status: None,
            },
            None,
            100,
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 6);
    assert_eq!(
        s.sessions_by_owner(&addr(1), None, None, 100)
            .await
            .unwrap(),
        all
    );
    assert!(
        all.items
            .windows(2)
            .all(|w| w[0].started_at >= w[1].started_at)
    );
    assert_eq!(all_sessions(s).await.len(), 7);
    for bad in ["garbage", "1", "x:y"] {
        assert!(matches!(
            s.sessions(&SessionQuery::default(), Some(bad), 5).await,
            Err(StoreError::Invalid(_))
        ));
    }
    for bad in ["garbage", "1:2", "1:2:3:4", "a:b:c"] {
        let q = EventQuery {
            chain_id: None,
            event: None,
            from_block: 0,
            to_block: 9,
        };
        assert!(matches!(
            s.events(&q, Some(bad), 5).await,
            Err(StoreError::Invalid(_))
        ));
    }

    // events by chain, name and block range, in (chain, block, log) order
    let mut r = range(1, 10, 20, 2);
    r.events.push(slot_anchored(1, 15, 7, 99, 2));
    s.write_block_range(&r).await.unwrap();
    s.write_block_range(&range(2, 10, 20, 1)).await.unwrap();
    let q = |chain, event: Option<&str>, from, to| EventQuery {
        chain_id: chain,
        event: event.map(str::to_owned),
        from_block: from,
        to_block: to,
    };
    let ev = s
        .events(&q(Some(1), Some("ChunkAnchored"), 12, 14), None, 100)
        .await
        .unwrap()
        .items;
    assert_eq!(ev.len(), 6);
    assert!(
        ev.windows(2)
            .all(|w| (w[0].block_number, w[0].log_index) < (w[1].block_number, w[1].log_index))
    );
    assert_eq!(
        s.events(&q(None, Some("ChunkAnchored"), 12, 14), None, 100)
            .await
            .unwrap()
            .items
            .len(),
        9
    );
    let sa = s
        .events(&q(Some(1), Some("SlotAnchored"), 0, 100), None, 100)
        .await
        .unwrap()
        .items;
    assert_eq!(sa.len(), 1);
    assert_eq!(sa[0].args["slot"], 99);
    assert_eq!(sa[0].block_time, 1_704_067_200 + 15 * 12);
    // limit is capped, never zero
    assert_eq!(
        s.events(&q(None, None, 0, 100), None, 0)
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // payouts by recipient
    let pays = vec![payout(1, 9, 100), payout(3, 8, 100)];
    s.put_period_plan(&period_doc(100, &pays), &pays)
        .await
        .unwrap();
    let p101 = vec![payout(2, 9, 101)];
    s.put_period_plan(&period_doc(101, &p101), &p101)
        .await
        .unwrap();
    assert_eq!(
        s.payouts_by_recipient(&addr(9), Some(100)).await.unwrap(),
        vec![payout(1, 9, 100)]
    );
    assert_eq!(
        s.payouts_by_recipient(&addr(9), None).await.unwrap(),
        vec![payout(1, 9, 100), payout(2, 9, 101)]
    );
    assert!(
        s.payouts_by_recipient(&addr(7), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.proof(&h32(1)).await.unwrap(), None);
    assert_eq!(s.session("nope").await.unwrap(), None);
}

/// Keyset pages of sessions, events and proofs neither repeat nor skip while rows are inserted.
pub async fn pagination_stability(c: Ctx) {
    let s = &*c.store;
    // sessions, with ties on started_at
    for i in 0..30 {
        s.submit_session(&submission(i, 1, 1000 + i / 3, i))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut extra = 100;
    let q = SessionQuery {
        owner: Some(addr(1)),
        status: None,
    };
    loop {
        let page = s.sessions(&q, cursor.as_deref(), 7).await.unwrap();
        seen.extend(page.items.iter().map(|x| x.id.clone()));
        // inserts during paging: newer sessions, one tied with the cursor position, older ones
        let last_t = page.items.last().map(|x| x.started_at).unwrap_or(0);
        for (n, t) in [(extra, 5000 + extra), (extra + 1, last_t), (extra + 2, 10)] {
            s.submit_session(&submission(n, 1, t, 0)).await.unwrap();
        }
        extra += 3;
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let uniq: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(uniq.len(), seen.len(), "a session was returned twice");
    for i in 0..30 {
        assert!(uniq.contains(&uuid(i)), "session {i} skipped");
    }

    // proofs over a slot range, with a ts filter, while more arrive
    let proofs: Vec<TaskProof> = (0..60).map(|i| proof(i, 10 + i % 6)).collect();
    s.put_proofs(&proofs).await.unwrap();
    let pq = ProofQuery {
        from_slot: 11,
        to_slot: 15,
        max_ts: Some(1_700_000_050),
    };
    let want: BTreeSet<B256> = proofs
        .iter()
        .filter(|p| (11..15).contains(&p.slot) && p.ts <= 1_700_000_050)
        .map(|p| p.id)
        .collect();
    let mut got = Vec::new();
    let mut cursor: Option<String> = None;
    let mut n = 1000;
    loop {
        let page = s.proofs_page(&pq, cursor.as_deref(), 4).await.unwrap();
        assert!(page.items.len() <= 4);
        got.extend(page.items.iter().cloned());
        // a proof in the middle of the range and one after ts: neither may disturb the paging
        let mut a = proof(n, 12);
        a.ts = 1_700_000_000;
        let mut b = proof(n + 1, 13);
        b.ts = 1_800_000_000;
        s.put_proofs(&[a, b]).await.unwrap();
        n += 2;
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let ids: Vec<B256> = got.iter().map(|p| p.id).collect();
    let uniq: BTreeSet<B256> = ids.iter().copied().collect();
    assert_eq!(uniq.len(), ids.len(), "a proof was returned twice");
    assert!(want.is_subset(&uniq), "a proof was skipped");
    assert!(got.iter().all(|p| p.ts <= 1_700_000_050));
    let keys: Vec<_> = got.iter().map(|p| (p.slot, p.node_id, p.id)).collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "(slot, nodeId, id) order"
    );
    // the stream gives the same as the pages, one page in memory at a time
    let streamed: Vec<TaskProof> = s
        .proofs_stream(
            ProofQuery {
                from_slot: 0,
                to_slot: 100,
                max_ts: None,
            },
            3,
        )
        .try_collect()
        .await
        .unwrap();
    let total = s
        .proofs_page(
            &ProofQuery {
                from_slot: 0,
                to_slot: 100,
                max_ts: None,
            },
            None,
            10_000,
        )
        .await
        .unwrap();
    assert_eq!(streamed, total.items);
    assert!(streamed.len() > 60);
    assert!(matches!(
        s.proofs_page(&pq, Some("1:2"), 3).await,
        Err(StoreError::Invalid(_))
    ));

    // events: while a cursor pages through chain 3, rows are inserted before its position (an
    // earlier block, and its own block at a lower log index: `put_events` writes out of block
    // order, as a keeper recording its own transactions does), after it (its block at a higher log
    // index, the next block, and the indexer's next block range) and on chains outside the query.
    // Keyset pages must hold every row of the start exactly once and in order, every row inserted
    // after the position before the next read, and nothing inserted before it.
    let chain = 3;
    // blocks 2, 4, …, 20 with logs 10, 20, 30: free positions on both sides of every row (logs stay
    // below 100 so that `event`'s transaction hashes stay distinct)
    let at_start: Vec<ChainEvent> = (1..=10)
        .flat_map(|b| [10, 20, 30].map(|l| inert(chain, 2 * b, l)))
        .collect();
    s.write_block_range(&BlockRange::new(cp(chain, 20), at_start.clone()))
        .await
        .unwrap();
    let eq = EventQuery {
        chain_id: Some(chain),
        event: None,
        from_block: 0,
        to_block: 1000,
    };
    let key = |e: &ChainEvent| (e.chain_id, e.block_number, e.log_index);
    let mut taken: BTreeSet<(u64, u64, u64)> = at_start.iter().map(key).collect();
    /// An event at the first free log index of `block` among `logs` (then taken).
    fn take(
        taken: &mut BTreeSet<(u64, u64, u64)>,
        chain: u64,
        block: u64,
        logs: impl IntoIterator<Item = u64>,
    ) -> Option<ChainEvent> {
        let l = logs
            .into_iter()
            .find(|&l| taken.insert((chain, block, l)))?;
        Some(inert(chain, block, l))
    }
    let (mut before, mut after, mut elsewhere) = (Vec::new(), Vec::new(), Vec::new());
    let mut seen: Vec<ChainEvent> = Vec::new();
    let mut cursor: Option<String> = None;
    let (mut pages, mut next_block) = (0, 21);
    loop {
        let page = s.events(&eq, cursor.as_deref(), 4).await.unwrap();
        assert!(page.items.len() <= 4);
        seen.extend(page.items.iter().cloned());
        pages += 1;
        // inserts only while another read follows (and for the first pages, so that paging ends)
        let Some(c) = page.next_cursor else { break };
        cursor = Some(c);
        if pages > 6 {
            continue;
        }
        let last = page.items.last().unwrap();
        let (b, l) = (last.block_number, last.log_index);
        let early: Vec<ChainEvent> = [
            take(&mut taken, chain, b, (0..l).rev()),
            take(&mut taken, chain, b - 1, 0..100),
        ]
        .into_iter()
        .flatten()
        .collect();
        let late: Vec<ChainEvent> = [
            take(&mut taken, chain, b, l + 1..100),
            take(&mut taken, chain, b + 1, 5..100),
        ]
        .into_iter()
        .flatten()
        .collect();
        let other: Vec<ChainEvent> = [
            take(&mut taken, chain - 1, b, l..100),
            take(&mut taken, chain + 1, 1, 0..100),
        ]
        .into_iter()
        .flatten()
        .collect();
        assert_eq!((early.len(), late.len(), other.len()), (2, 2, 2));
        let mut out_of_order: Vec<ChainEvent> = [&early[..], &late[..], &other[..]].concat();
        out_of_order.reverse();
        s.put_events(&out_of_order, &BTreeMap::new()).await.unwrap();
        // the indexer goes on writing later blocks meanwhile
        let next = range(chain, next_block, next_block, 1);
        assert!(taken.insert(key(&next.events[0])));
        s.write_block_range(&next).await.unwrap();
        next_block += 1;
        before.extend(early);
        after.extend(late);
        after.extend(next.events);
        elsewhere.extend(other);
    }
    assert!(pages > 7, "{pages} pages");
    let keys: Vec<_> = seen.iter().map(key).collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "pages out of (chain, block, log) order, or an event returned twice: {keys:?}"
    );
    let ids: BTreeSet<&str> = seen.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), seen.len(), "an event was returned twice");
    let start_ids: BTreeSet<&str> = at_start.iter().map(|e| e.id.as_str()).collect();
    let got_start: Vec<_> = seen
        .iter()
        .filter(|e| start_ids.contains(e.id.as_str()))
        .map(key)
        .collect();
    assert_eq!(
        got_start,
        at_start.iter().map(key).collect::<Vec<_>>(),
        "the events of the start, each once and in order"
    );
    for e in &after {
        assert!(
            ids.contains(e.id.as_str()),
            "{:?}, inserted after the cursor, was skipped",
            key(e)
        );
    }
    for e in before.iter().chain(&elsewhere) {
        assert!(
            !ids.contains(e.id.as_str()),
            "{:?}, inserted before the cursor or on another chain, was returned",
            key(e)
        );
    }
    assert_eq!(seen.len(), at_start.len() + after.len());
    let mut returned: Vec<ChainEvent> = [&at_start[..], &after[..]].concat();
    returned.sort_by_key(key);
    assert_eq!(
        seen, returned,
        "the pages are the events of the start and those inserted after"
    );
    // what was inserted before the cursor is stored all the same: a new paging returns everything
    let mut want: Vec<ChainEvent> = [&at_start[..], &before[..], &after[..]].concat();
    want.sort_by_key(key);
    assert_eq!(all_events(s, Some(chain)).await, want);
}

/// The rollback contract: exactly the state before the range, whatever derived from it.
pub async fn rollback_restores_exactly(c: Ctx) {
    let s = &*c.store;
    let chain = 31337;
    let pay_chain = 31338;
    let params = Params::default();
    // before the range: submissions, a storer, plans, a planned payout submitted by the executor
    let a = submission(1, 1, 100, 10); // anchored in the range
    let b = submission(2, 1, 101, 11); // conflict in the range
    let x = submission(3, 1, 102, 12); // anchored before the range, storers around it
    for sub in [&a, &b, &x] {
        s.submit_session(sub).await.unwrap();
    }
    let pay = payout(1, 9, 700);
    s.put_period_plan(
        &period_doc(700, std::slice::from_ref(&pay)),
        std::slice::from_ref(&pay),
    )
    .await
    .unwrap();
    s.mark_payout_submitted(&pay.id, &h32(777)).await.unwrap();
    s.put_plans(&[leader(50), leader(51)]).await.unwrap();
    let before_blocks: Vec<ChainEvent> = vec![
        registered(chain, 3, 0, &x, 40),
        stored(chain, 4, 0, 3, 0, 0x55),
        slot_anchored(chain, 4, 1, 40, 1),
    ];
    s.write_block_range(&BlockRange::new(cp(chain, 7), before_blocks))
        .await
        .unwrap();
    s.write_block_range(&range(7, 1, 7, 1)).await.unwrap();
    let sessions = [1, 2, 3, 4];
    let snap_before = snapshot(s, &sessions, &[chain, 7, pay_chain], 700).await;

    // the range: blocks 8..=10 of `chain`, and the payment chain's block 8
    let mut b_other = b.clone();
    b_other.merkle_root = h32(0x0f0f);
    let only_chain = submission(4, 6, 103, 0);
    let ev = vec![
        registered(chain, 8, 0, &a, 50),
        registered(chain, 8, 1, &b_other, 50),
        slot_anchored(chain, 8, 2, 50, 1),
        // a storer already present before the range registers again? no: another storer of the
        // same chunk, and a chunk known only from ChunkStored
        stored(chain, 9, 0, 3, 0, 0x66),
        stored(chain, 9, 1, 3, 2, 0x55),
        stored(chain, 9, 2, 1, 1, 0x77),
        registered(chain, 10, 0, &only_chain, 51),
        stored(chain, 10, 1, 4, 0, 0x88),
        slot_anchored(chain, 10, 2, 51, 2),
        // a second SlotAnchored of slot 50 by its owner: the claim stays the first one
        slot_anchored(chain, 10, 3, 50, 1),
    ];
    for chunk in [&ev[..3], &ev[3..6], &ev[6..]] {
        let last = chunk.last().unwrap().block_number;
        s.write_block_range(&BlockRange::new(cp(chain, last), chunk.to_vec()))
            .await
            .unwrap();
    }
    s.write_block_range(&BlockRange::new(
        cp(pay_chain, 8),
        vec![paid(pay_chain, 8, 0, &pay)],
    ))
    .await
    .unwrap();
    // another chain at the same heights must be untouched by the rollback
    s.write_block_range(&range(7, 8, 10, 1)).await.unwrap();

    // the range's derived state is visible
    assert_eq!(
        s.session(&a.id).await.unwrap().unwrap().status,
        SessionStatus::Anchored
    );
    assert_eq!(
        s.session(&b.id).await.unwrap().unwrap().status,
        SessionStatus::Conflict
    );
    assert!(s.session(&only_chain.id).await.unwrap().is_some());
    let xc = s.chunks_of_session(&x.id).await.unwrap();
    assert_eq!(xc[0].storers, vec![addr(0x55), addr(0x66)]);
    assert_eq!(xc[2].storers, vec![addr(0x55)]);
    let ac = s.chunks_of_session(&a.id).await.unwrap();
    assert_eq!(ac[1].storers, vec![addr(0x77)]);
    let oc = s.chunks_of_session(&only_chain.id).await.unwrap();
    assert_eq!(oc.len(), 1, "a chunk known only from ChunkStored");
    assert_eq!(oc[0].storers, vec![addr(0x88)]);
    assert_eq!(oc[0].chunk_hash, entry(4, 0).chunk_hash);
    let sched = s.schedule(50, 52, &params, None).await.unwrap();
    let r50 = sched[0].result.clone().unwrap();
    assert_eq!(r50.winner, Some(addr(1)));
    assert_eq!(
        r50.txid,
        Some(ev[2].tx_hash),
        "the first SlotAnchored owns the slot"
    );
    assert_eq!(sched[1].result.as_ref().unwrap().winner, Some(addr(2)));
    let p = s.payout(&pay.id).await.unwrap().unwrap();
    assert_eq!(p.status, PayoutStatus::Paid);
    assert_eq!(p.txid, Some(paid(pay_chain, 8, 0, &pay).tx_hash));

    // bad arguments
    assert!(matches!(
        s.rollback(chain, 8, Some(&cp(chain, 8))).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.rollback(chain, 8, Some(&cp(7, 7))).await,
        Err(StoreError::Invalid(_))
    ));

    let rep = s.rollback(chain, 8, Some(&cp(chain, 7))).await.unwrap();
    assert_eq!(rep.events_deleted, 10);
    assert_eq!(rep.derived_deleted, 10);
    assert_eq!(rep.sessions_changed, 3);
    let rep = s.rollback(pay_chain, 8, None).await.unwrap();
    assert_eq!((rep.events_deleted, rep.derived_deleted), (1, 1));
    // the other chain keeps its blocks 8..=10: roll those back too for the comparison
    assert_eq!(all_events(s, Some(7)).await.len(), 10);
    assert_eq!(s.checkpoint(7).await.unwrap(), Some(cp(7, 10)));
    s.rollback(7, 8, Some(&cp(7, 7))).await.unwrap();
    let snap_after = snapshot(s, &sessions, &[chain, 7, pay_chain], 700).await;
    assert_eq!(snap_after, snap_before, "rollback must restore exactly");
    // spelled out
    let sa = s.session(&a.id).await.unwrap().unwrap();
    assert_eq!(sa, a.to_session());
    assert_eq!(
        s.session(&b.id).await.unwrap().unwrap().status,
        SessionStatus::Pending
    );
    assert_eq!(
        s.session(&x.id).await.unwrap().unwrap().status,
        SessionStatus::Anchored
    );
    assert_eq!(s.session(&only_chain.id).await.unwrap(), None);
    assert!(
        s.chunks_of_session(&only_chain.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.chunks_of_session(&x.id).await.unwrap()[0].storers,
        vec![addr(0x55)]
    );
    let p = s.payout(&pay.id).await.unwrap().unwrap();
    assert_eq!(
        (p.status, p.txid),
        (PayoutStatus::Submitted, Some(h32(777)))
    );
    assert!(
        s.schedule(50, 52, &params, None).await.unwrap()[0]
            .result
            .is_none()
    );
    assert_eq!(s.checkpoint(pay_chain).await.unwrap(), None);
    // a second rollback is a no-op; rolling back to genesis removes everything of the chain
    assert_eq!(
        s.rollback(chain, 8, Some(&cp(chain, 7))).await.unwrap(),
        RollbackReport::default()
    );
    s.rollback(chain, 0, None).await.unwrap();
    assert_eq!(s.checkpoint(chain).await.unwrap(), None);
    assert!(all_events(s, Some(chain)).await.is_empty());
    assert_eq!(
        s.session(&x.id).await.unwrap().unwrap().status,
        SessionStatus::Pending
    );
    assert!(s.slot_claims(0, 1000).await.unwrap().is_empty());
}

/// A crash between a range's data and its checkpoint.
pub async fn checkpoint_atomicity(c: Ctx) {
    let s = &*c.store;
    let chain = 5;
    let sub = submission(3, 1, 5, 5);
    s.submit_session(&sub).await.unwrap();
    let a = range(chain, 1, 5, 10);
    let mut b = range(chain, 6, 10, 10);
    b.events.push(registered(chain, 10, 50, &sub, 3));
    s.write_block_range(&a).await.unwrap();
    let before = snapshot(s, &[3], &[chain], 0).await;
    s.inject_fault(Some(Fault::BeforeCheckpoint));
    let err = s.write_block_range(&b).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Injected(Fault::BeforeCheckpoint)),
        "{err}"
    );
    // the crash left the checkpoint at the end of A
    assert_eq!(s.checkpoint(chain).await.unwrap(), Some(cp(chain, 5)));
    if c.atomic_ranges {
        assert_eq!(
            snapshot(s, &[3], &[chain], 0).await,
            before,
            "a transactional range write must leave nothing behind"
        );
    } else {
        // data first, checkpoint last: the data may be there, the checkpoint is not
        assert!(all_events(s, Some(chain)).await.len() >= 50);
    }
    // the indexer resumes from the checkpoint: replays B (twice, for good measure)
    for _ in 0..2 {
        s.write_block_range(&b).await.unwrap();
        assert_eq!(s.checkpoint(chain).await.unwrap(), Some(cp(chain, 10)));
        let mut want: Vec<_> = a.events.iter().chain(b.events.iter()).cloned().collect();
        want.sort_by_key(|e| (e.block_number, e.log_index));
        assert_eq!(all_events(s, Some(chain)).await, want);
        assert_eq!(
            s.session(&sub.id).await.unwrap().unwrap().status,
            SessionStatus::Anchored
        );
    }
}

/// A store fault in the middle of a rollback leaves a consistent store, and a retry succeeds.
pub async fn rollback_fault_then_retry(c: Ctx) {
    let s = &*c.store;
    let chain = 9;
    let a = submission(1, 1, 100, 1);
    s.submit_session(&a).await.unwrap();
    s.put_plans(&[leader(60)]).await.unwrap();
    s.write_block_range(&range(chain, 1, 4, 2)).await.unwrap();
    let before = snapshot(s, &[1], &[chain], 0).await;
    s.write_block_range(&BlockRange::new(
        cp(chain, 6),
        vec![
            registered(chain, 5, 0, &a, 60),
            stored(chain, 5, 1, 1, 0, 3),
            slot_anchored(chain, 6, 0, 60, 1),
        ],
    ))
    .await
    .unwrap();
    let tip = snapshot(s, &[1], &[chain], 0).await;
    s.inject_fault(Some(Fault::MidRollback));
    let err = s.rollback(chain, 5, Some(&cp(chain, 4))).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Injected(Fault::MidRollback)),
        "{err}"
    );
    // the checkpoint never moves before the rollback is complete
    assert_eq!(s.checkpoint(chain).await.unwrap(), Some(cp(chain, 6)));
    if c.atomic_ranges {
        assert_eq!(
            snapshot(s, &[1], &[chain], 0).await,
            tip,
            "a transactional rollback that fails changes nothing"
        );
    } else {
        // without transactions the derived state is already rolled back; the events are not
        assert_eq!(
            s.session(&a.id).await.unwrap().unwrap().status,
            SessionStatus::Pending
        );
        assert_eq!(all_events(s, Some(chain)).await.len(), 8 + 3);
    }
    let rep = s.rollback(chain, 5, Some(&cp(chain, 4))).await.unwrap();
    assert_eq!(rep.events_deleted, 3);
    assert_eq!(snapshot(s, &[1], &[chain], 0).await, before);
    // and the indexer re-indexes the canonical blocks
    s.write_block_range(&BlockRange::new(
        cp(chain, 6),
        vec![registered(chain, 6, 0, &a, 60)],
    ))
    .await
    .unwrap();
    assert_eq!(
        s.session(&a.id).await.unwrap().unwrap().block_number,
        Some(6)
    );
}

/// Derived events whose arguments do not decode are refused and nothing of the range is written.
pub async fn bad_events_refused(c: Ctx) {
    let s = &*c.store;
    let mut bad = vec![
        event(1, 2, 0, "SessionRegistered", json!({"sessionId": "0x12"})),
        event(1, 2, 0, "ChunkStored", json!({"index": 1})),
        event(
            1,
            2,
            0,
            "SlotAnchored",
            json!({"slot": "x", "submitter": hx(&addr(1))}),
        ),
        event(
            1,
            2,
            0,
            "SlotAnchored",
            json!({"slot": 1, "submitter": "0xzz"}),
        ),
        event(
            1,
            2,
            0,
            "Paid",
            json!({"payoutId": hx(&h32(1)), "to": hx(&addr(1)), "amount": "01", "period": 1}),
        ),
        event(
            1,
            2,
            0,
            "ChunkStored",
            json!({"sessionId": uuid_bytes32(1), "index": 5_000_000_000u64, "storer": hx(&addr(1)), "chunkHash": hx(&h32(1)), "size": 1}),
        ),
    ];
    let mut wrong_id = range(1, 2, 2, 1).events.pop().unwrap();
    wrong_id.id = "1:0x00:0".into();
    bad.push(wrong_id);
    for e in bad {
        let r = s
            .write_block_range(&BlockRange::new(
                cp(1, 2),
                vec![range(1, 1, 1, 1).events[0].clone(), e.clone()],
            ))
            .await;
        assert!(matches!(r, Err(StoreError::Invalid(_))), "{e:?}: {r:?}");
    }
    // a range with another chain's event
    let r = s
        .write_block_range(&BlockRange::new(cp(2, 2), range(1, 1, 1, 1).events))
        .await;
    assert!(matches!(r, Err(StoreError::Invalid(_))));
    assert!(all_events(s, None).await.is_empty());
    assert_eq!(s.checkpoint(1).await.unwrap(), None);
    // upper-case hex in arguments is normalised
    let mut e = stored(1, 3, 0, 1, 0, 0xabcdef);
    e.args["storer"] = json!(hx(&addr(0xabcdef)).to_uppercase().replace("0X", "0x"));
    s.write_block_range(&BlockRange::new(cp(1, 3), vec![e]))
        .await
        .unwrap();
    assert_eq!(
        s.chunks_of_session(&uuid(1)).await.unwrap()[0].storers,
        vec![addr(0xabcdef)]
    );
}

/// Epochs: first writer wins, every writer gets the stored document, work_tally follows it.
pub async fn epochs_first_writer_wins(c: Ctx) {
    let store = c.store.clone();
    let mut tasks = Vec::new();
    for by in 1..=4u64 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.insert_epoch(&epoch_doc(7, by)).await.unwrap()
        }));
    }
    let mut outs = Vec::new();
    for t in tasks {
        outs.push(t.await.unwrap());
    }
    assert_eq!(outs.iter().filter(|o| o.inserted).count(), 1);
    let stored = outs[0].epoch.clone();
    assert!(outs.iter().all(|o| o.epoch == stored));
    let s = &*store;
    assert_eq!(s.epoch(7).await.unwrap(), Some(stored.clone()));
    // a later writer with other content gets the first document, unchanged
    let late = s.insert_epoch(&epoch_doc(7, 9)).await.unwrap();
    assert!(!late.inserted);
    assert_eq!(late.epoch, stored);
    let tally = s.tally_by_rank(7).await.unwrap();
    assert_eq!(
        tally.iter().map(|t| t.row()).collect::<Vec<_>>(),
        stored.rows
    );
    assert_eq!(tally[0].id, WorkTally::make_id(7, &addr(1)));
    assert_eq!(
        tally.iter().map(|t| t.rank).collect::<Vec<_>>(),
        vec![Some(1), Some(2), None]
    );
    assert_eq!(s.epoch(8).await.unwrap(), None);
    let mut bad = epoch_doc(9, 1);
    bad.id = 10;
    assert!(matches!(
        s.insert_epoch(&bad).await,
        Err(StoreError::Invalid(_))
    ));
}

/// Plans are insert-if-absent and never change; results come from claims and chain time.
pub async fn plans_and_results(c: Ctx) {
    let s = &*c.store;
    let params = Params::default();
    let plans: Vec<LeaderSlot> = (100..110).map(leader).collect();
    let out = s.put_plans(&plans).await.unwrap();
    assert_eq!(out.inserted, 10);
    let mut changed = leader(105);
    changed.primary = Some(addr(9));
    let mut with_result = leader(101);
    with_result.result = Some(SlotResult {
        winner: None,
        reason: ResultReason::Missed,
        txid: None,
        block_time: None,
    });
    let out = s
        .put_plans(&[changed, with_result, leader(100), leader(110)])
        .await
        .unwrap();
    assert_eq!(
        out,
        PlanOutcome {
            inserted: 1,
            identical: 2,
            differing: vec![105]
        }
    );
    assert_eq!(s.plans(105, 106).await.unwrap(), vec![leader(105)]);
    assert_eq!(s.plans(100, 111).await.unwrap().len(), 11);
    // claims: slot 100 by the primary in time; 101 by fallback 1 early; 102 by fallback 1 in
    // time; 103 late; 104 none
    let start = |sl: u64| params.slot_start(sl).unwrap();
    let claim = |slot: u64, who: u64, t: u64, log: u64| {
        let mut e = slot_anchored(1, 1 + log, log, slot, who);
        e.block_time = t;
        e
    };
    let ev = vec![
        claim(100, 1, start(100) + 1, 0),
        claim(101, 2, start(101) + 4, 1),
        claim(102, 2, start(102) + 5, 2),
        claim(103, 1, start(104), 3),
        claim(106, 7, start(106) + 30, 4),
    ];
    s.write_block_range(&BlockRange::new(cp(1, 10), ev))
        .await
        .unwrap();
    let reasons = |v: Vec<LeaderSlot>| -> Vec<Option<ResultReason>> {
        v.into_iter().map(|p| p.result.map(|r| r.reason)).collect()
    };
    assert_eq!(
        reasons(
            s.schedule(100, 108, &params, Some(start(105)))
                .await
                .unwrap()
        ),
        vec![
            Some(ResultReason::Primary),
            Some(ResultReason::Unscheduled),
            Some(ResultReason::Fallback),
            Some(ResultReason::Late),
            None,
            None,
            Some(ResultReason::Unscheduled),
            None,
        ]
    );
    assert_eq!(
        reasons(
            s.schedule(104, 105, &params, Some(start(106)))
                .await
                .unwrap()
        ),
        vec![Some(ResultReason::Missed)]
    );
    let claims = s.slot_claims(100, 110).await.unwrap();
    assert_eq!(
        claims.iter().map(|c| c.slot).collect::<Vec<_>>(),
        vec![100, 101, 102, 103, 106]
    );
    assert_eq!(claims[0].submitter, addr(1));
}

/// Periods, payouts and their life cycle.
pub async fn payouts_lifecycle(c: Ctx) {
    let s = &*c.store;
    let chain = 31338;
    let mut v: Vec<Payout> = (1..=3).map(|i| payout(i, 10 + i, 600)).collect();
    v[2].status = PayoutStatus::RolledOver;
    v[2].amount = U256::ZERO;
    v[2].leaf = None;
    v[2].proof.clear();
    let per = period_doc(600, &v);
    s.put_period_plan(&per, &v).await.unwrap();
    assert_eq!(s.period(600).await.unwrap(), Some(per.clone()));
    assert_eq!(s.payouts_of_period(600).await.unwrap(), v);
    // a corrected plan while nothing is submitted or paid: replaces the old one entirely
    let v2: Vec<Payout> = vec![payout(1, 11, 600), payout(4, 14, 600)];
    let per2 = period_doc(600, &v2);
    s.put_period_plan(&per2, &v2).await.unwrap();
    assert_eq!(s.payouts_of_period(600).await.unwrap(), v2);
    assert_eq!(s.period(600).await.unwrap(), Some(per2.clone()));
    // submitted
    let sub = s
        .mark_payout_submitted(&v2[0].id, &h32(0x71))
        .await
        .unwrap();
    assert_eq!(
        (sub.status, sub.txid),
        (PayoutStatus::Submitted, Some(h32(0x71)))
    );
    // a rebuilt transaction after expiry gets its txid recorded
    s.mark_payout_submitted(&v2[0].id, &h32(0x72))
        .await
        .unwrap();
    assert_eq!(
        s.payout(&v2[0].id).await.unwrap().unwrap().txid,
        Some(h32(0x72))
    );
    // no re-plan once something is submitted
    assert!(matches!(
        s.put_period_plan(&per2, &v2).await,
        Err(StoreError::Conflict { .. })
    ));
    // paid from the event; the payment's tx is the txid
    let e = paid(chain, 3, 0, &v2[1]);
    s.write_block_range(&BlockRange::new(cp(chain, 3), vec![e.clone()]))
        .await
        .unwrap();
    let p = s.payout(&v2[1].id).await.unwrap().unwrap();
    assert_eq!((p.status, p.txid), (PayoutStatus::Paid, Some(e.tx_hash)));
    assert!(matches!(
        s.mark_payout_submitted(&v2[1].id, &h32(1)).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        s.mark_payout_submitted(&h32(0xdead), &h32(1)).await,
        Err(StoreError::NotFound { .. })
    ));
    // a paid period can never be re-planned, even after the submitted one is gone
    let mut v3 = v2.clone();
    v3.remove(0);
    assert!(matches!(
        s.put_period_plan(&period_doc(600, &v3), &v3).await,
        Err(StoreError::Conflict { .. })
    ));
    // a rolled-over payout cannot be submitted
    let mut ro = payout(5, 15, 601);
    ro.status = PayoutStatus::RolledOver;
    ro.carry_out = U256::from(999u64);
    s.put_period_plan(
        &period_doc(601, std::slice::from_ref(&ro)),
        std::slice::from_ref(&ro),
    )
    .await
    .unwrap();
    assert!(matches!(
        s.mark_payout_submitted(&ro.id, &h32(1)).await,
        Err(StoreError::Conflict { .. })
    ));
    // plans must be of their period and planned / rolled over
    let mut wrong = payout(6, 16, 602);
    assert!(matches!(
        s.put_period_plan(
            &period_doc(603, std::slice::from_ref(&wrong)),
            std::slice::from_ref(&wrong)
        )
        .await,
        Err(StoreError::Invalid(_))
    ));
    wrong.status = PayoutStatus::Paid;
    assert!(matches!(
        s.put_period_plan(
            &period_doc(602, std::slice::from_ref(&wrong)),
            std::slice::from_ref(&wrong)
        )
        .await,
        Err(StoreError::Invalid(_))
    ));
    // carries: the latest period before the given one, per node
    let mut later = payout(1, 11, 605);
    later.carry_out = U256::from(4242u64);
    s.put_period_plan(
        &period_doc(605, std::slice::from_ref(&later)),
        std::slice::from_ref(&later),
    )
    .await
    .unwrap();
    // a payout id of another period is refused (payoutId hashes the period)
    let mut moved = later.clone();
    moved.id = v2[1].id;
    assert!(matches!(
        s.put_period_plan(
            &period_doc(605, std::slice::from_ref(&moved)),
            std::slice::from_ref(&moved)
        )
        .await,
        Err(StoreError::Conflict { .. })
    ));
    let carries = s.latest_carries(606).await.unwrap();
    assert_eq!(carries.get(&addr(101)), Some(&U256::from(4242u64)));
    assert_eq!(carries.get(&addr(104)), Some(&U256::from(4u64)));
    assert_eq!(carries.get(&addr(105)), Some(&U256::from(999u64)));
    let carries = s.latest_carries(605).await.unwrap();
    assert_eq!(carries.get(&addr(101)), Some(&U256::from(1u64)));
    assert!(s.latest_carries(600).await.unwrap().is_empty());
    // a KYC payout keeps its attestation fields
    let mut k = payout(7, 17, 610);
    k.router = PayoutRouter::Kyc;
    k.kyc_hash = Some(h32(0x6b));
    k.kyc_expiry = Some(1_900_000_000);
    k.kyc_sig = Some(vec![1u8, 2, 3].into());
    s.put_period_plan(
        &period_doc(610, std::slice::from_ref(&k)),
        std::slice::from_ref(&k),
    )
    .await
    .unwrap();
    assert_eq!(s.payout(&k.id).await.unwrap(), Some(k));
}

pub async fn payout_addresses(c: Ctx) {
    let s = &*c.store;
    let pa = |node: u64, rec: u64, from: u64| PayoutAddress {
        id: PayoutAddress::make_id(&addr(node), from),
        node_id: addr(node),
        recipient: addr(rec),
        valid_from: from,
        sig: sig65(node as u8),
    };
    assert_eq!(
        s.put_payout_address(&pa(1, 50, 100)).await.unwrap(),
        SubmitOutcome::Inserted
    );
    assert_eq!(
        s.put_payout_address(&pa(1, 50, 100)).await.unwrap(),
        SubmitOutcome::Duplicate
    );
    assert_eq!(
        s.put_payout_address(&pa(1, 51, 200)).await.unwrap(),
        SubmitOutcome::Inserted
    );
    assert_eq!(
        s.put_payout_address(&pa(1, 50, 300)).await.unwrap(),
        SubmitOutcome::Inserted,
        "a node may name its own recipient again"
    );
    // another node naming the same recipient: refused
    assert!(matches!(
        s.put_payout_address(&pa(2, 50, 400)).await,
        Err(StoreError::Conflict { .. })
    ));
    // the same _id with other content: refused
    assert!(matches!(
        s.put_payout_address(&pa(1, 52, 100)).await,
        Err(StoreError::Conflict { .. })
    ));
    let mut bad = pa(3, 60, 1);
    bad.id = "x".into();
    assert!(matches!(
        s.put_payout_address(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        s.payout_addresses_of_node(&addr(1)).await.unwrap(),
        vec![pa(1, 50, 100), pa(1, 51, 200), pa(1, 50, 300)]
    );
    assert_eq!(
        s.payout_addresses_by_recipient(&addr(50)).await.unwrap(),
        vec![pa(1, 50, 100), pa(1, 50, 300)]
    );
    assert!(
        s.payout_addresses_of_node(&addr(2))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn concurrent_writers(c: Ctx) {
    let store = c.store.clone();
    let proofs: Vec<TaskProof> = (0..40).map(|i| proof(i, 9)).collect();
    let mut tasks = Vec::new();
    for w in 0..6u64 {
        let s = store.clone();
        let proofs = proofs.clone();
        tasks.push(tokio::spawn(async move {
            let mut inserted = 0;
            let mut dup_subs = 0;
            for k in 0..4u64 {
                s.write_block_range(&range(100 + w, k * 5 + 1, k * 5 + 5, 3))
                    .await
                    .unwrap();
                // every writer also writes the same shared range and submits the same session
                let shared = submission(999, 2, 1, 1);
                let mut r = range(99, 1, 3, 3);
                r.events.push(registered(99, 3, 50, &shared, 1));
                s.write_block_range(&r).await.unwrap();
                s.submit_session(&submission(w * 10 + k, 1, k, k))
                    .await
                    .unwrap();
                if s.submit_session(&shared).await.unwrap() == SubmitOutcome::Duplicate {
                    dup_subs += 1;
                }
                let part = &proofs[(k as usize * 10)..(k as usize * 10 + 10)];
                inserted += s.put_proofs(part).await.unwrap().inserted;
            }
            (inserted, dup_subs)
        }));
    }
    let mut inserted = 0;
    let mut dups = 0;
    for t in tasks {
        let (i, d) = t.await.unwrap();
        inserted += i;
        dups += d;
    }
    let s = &*store;
    assert_eq!(
        inserted, 40,
        "each proof is inserted exactly once across writers"
    );
    assert_eq!(dups, 6 * 4 - 1, "the shared session is inserted once");
    for w in 0..6u64 {
        assert_eq!(s.checkpoint(100 + w).await.unwrap(), Some(cp(100 + w, 20)));
        assert_eq!(all_events(s, Some(100 + w)).await.len(), 60);
    }
    assert_eq!(all_events(s, Some(99)).await.len(), 10);
    let shared = s.session(&uuid(999)).await.unwrap().unwrap();
    assert_eq!(shared.status, SessionStatus::Anchored);
    assert_eq!(shared.owner_sig, Some(sig64(0x51)));
    assert_eq!(
        s.sessions(
            &SessionQuery {
                owner: Some(addr(1)),
                status: None
            },
            None,
            100
        )
        .await
        .unwrap()
        .items
        .len(),
        24
    );
}

pub async fn malformed_documents(c: Ctx) {
    let s = &*c.store;
    s.submit_session(&submission(1, 1, 10, 1)).await.unwrap();
    s.submit_session(&submission(2, 1, 11, 1)).await.unwrap();
    s.write_block_range(&range(1, 1, 1, 1)).await.unwrap();
    s.insert_epoch(&epoch_doc(1, 1)).await.unwrap();
    s.put_plans(&[leader(1)]).await.unwrap();
    let v = vec![payout(1, 9, 1)];
    s.put_period_plan(&period_doc(1, &v), &v).await.unwrap();
    s.put_proofs(&[proof(1, 1)]).await.unwrap();
    s.put_checkpoint(&cp(9, 9)).await.unwrap();

    match &c.raw {
        Raw::Sqlite(q) => {
            for sql in [
                format!(
                    "UPDATE sessions SET status = 'bogus' WHERE \"_id\" = '{}'",
                    uuid(1)
                ),
                format!(
                    "UPDATE sessions SET started_at = 'yesterday' WHERE \"_id\" = '{}'",
                    uuid(2)
                ),
                "UPDATE chunks SET size = -5".into(),
                "UPDATE events SET args = '{not json'".into(),
                "UPDATE work_tally SET eligible = 7".into(),
                "UPDATE epochs SET members = '[\"nope\"]'".into(),
                "UPDATE leader_schedule SET \"planReason\" = NULL".into(),
                "UPDATE payouts SET router = 'v9'".into(),
                "UPDATE periods SET pool = '-1'".into(),
                "UPDATE task_proofs SET \"type\" = 'teleport'".into(),
                "UPDATE checkpoints SET block_number = 1.5".into(),
            ] {
                q.execute_raw(&sql).await.unwrap();
            }
        }
        Raw::Mongo(m) => {
            use mongodb::bson::{Document, doc};
            let db = m.database();
            let edits: Vec<(&str, Document, Document)> = vec![
                ("sessions", doc! {"_id": uuid(1)}, doc! {"status": "bogus"}),
                (
                    "sessions",
                    doc! {"_id": uuid(2)},
                    doc! {"started_at": "yesterday"},
                ),
                ("chunks", doc! {}, doc! {"size": -5_i64}),
                ("events", doc! {}, doc! {"log_index": "x"}),
                ("work_tally", doc! {}, doc! {"eligible": 7_i64}),
                ("epochs", doc! {}, doc! {"members": ["nope"]}),
                (
                    "leader_schedule",
                    doc! {},
                    doc! {"planReason": mongodb::bson::Bson::Null},
                ),
                ("payouts", doc! {}, doc! {"router": "v9"}),
                ("periods", doc! {}, doc! {"pool": "-1"}),
                ("task_proofs", doc! {}, doc! {"type": "teleport"}),
                ("checkpoints", doc! {}, doc! {"block_number": 1.5_f64}),
            ];
            for (coll, filter, set) in edits {
                db.collection::<Document>(coll)
                    .update_many(filter, doc! {"$set": set})
                    .await
                    .unwrap();
            }
        }
    }
    fn is_malformed<T: std::fmt::Debug>(r: Result<T>, coll: &str) {
        match r {
            Err(StoreError::Malformed {
                collection,
                id,
                reason,
            }) => {
                assert_eq!(collection, coll);
                assert!(!id.is_empty() && !reason.is_empty());
            }
            other => panic!("expected Malformed in {coll}, got {other:?}"),
        }
    }
    is_malformed(s.session(&uuid(1)).await, "sessions");
    is_malformed(s.session(&uuid(2)).await, "sessions");
    is_malformed(
        s.sessions(&SessionQuery::default(), None, 10).await,
        "sessions",
    );
    is_malformed(s.chunks_of_session(&uuid(1)).await, "chunks");
    is_malformed(
        s.events(
            &EventQuery {
                chain_id: None,
                event: None,
                from_block: 0,
                to_block: 10,
            },
            None,
            10,
        )
        .await,
        "events",
    );
    is_malformed(s.tally_by_rank(1).await, "work_tally");
    is_malformed(s.epoch(1).await, "epochs");
    is_malformed(s.plans(0, 10).await, "leader_schedule");
    is_malformed(s.payout(&payout(1, 9, 1).id).await, "payouts");
    is_malformed(s.period(1).await, "periods");
    is_malformed(
        s.proofs_page(
            &ProofQuery {
                from_slot: 0,
                to_slot: 10,
                max_ts: None,
            },
            None,
            10,
        )
        .await,
        "task_proofs",
    );
    is_malformed(s.checkpoint(9).await, "checkpoints");
}

/// Field names exactly as SPEC §5, and the SPEC indexes, in the backend's own terms.
pub async fn schema_field_names(c: Ctx) {
    let s = &*c.store;
    let sub = submission(1, 1, 10, 1);
    s.submit_session(&sub).await.unwrap();
    let v = vec![payout(1, 9, 1)];
    s.put_period_plan(&period_doc(1, &v), &v).await.unwrap();
    s.write_block_range(&BlockRange::new(
        cp(1, 2),
        vec![
            registered(1, 1, 0, &sub, 1),
            stored(1, 1, 1, 1, 0, 5),
            slot_anchored(1, 1, 2, 1, 1),
            paid(1, 2, 0, &v[0]),
        ],
    ))
    .await
    .unwrap();
    s.put_proofs(&[proof(1, 1)]).await.unwrap();
    s.insert_epoch(&epoch_doc(1, 1)).await.unwrap();
    s.put_plans(&[leader(1)]).await.unwrap();
    s.put_payout_address(&PayoutAddress {
        id: PayoutAddress::make_id(&addr(1), 5),
        node_id: addr(1),
        recipient: addr(2),
        valid_from: 5,
        sig: sig65(1),
    })
    .await
    .unwrap();
    let spec: Vec<(&str, Vec<&str>)> = vec![
        (
            "sessions",
            vec![
                "_id",
                "owner_addr",
                "started_at",
                "manifest_hash",
                "merkle_root",
                "chunk_count",
                "owner_sig",
                "status",
                "received_at",
                "slot",
                "anchor_txid",
                "block_number",
                "block_hash",
                "gas_used",
            ],
        ),
        // storers[] are assembled from chunk_storers when read
        (
            "chunks",
            vec!["_id", "session_id", "idx", "chunk_hash", "size"],
        ),
        (
            "events",
            vec![
                "_id",
                "chain_id",
                "address",
                "event",
                "block_number",
                "block_hash",
                "block_time",
                "tx_hash",
                "log_index",
                "args",
            ],
        ),
        (
            "task_proofs",
            vec![
                "_id",
                "nodeId",
                "slot",
                "type",
                "sessionId",
                "amount",
                "chunkIndex",
                "digest",
                "sig",
                "ts",
            ],
        ),
        (
            "work_tally",
            vec![
                "_id",
                "epoch",
                "entityId",
                "credits",
                "liveScore",
                "rank",
                "eligible",
            ],
        ),
        (
            "epochs",
            vec![
                "_id",
                "epoch",
                "seed",
                "seed_block",
                "params_hash",
                "members",
                "rows",
                "tally_hash",
                "frozen_at",
                "frozen_by",
            ],
        ),
        // result is assembled from slot_claims when read
        (
            "leader_schedule",
            vec!["_id", "slot", "epoch", "primary", "fallbacks", "planReason"],
        ),
        (
            "periods",
            vec![
                "_id",
                "period",
                "pool",
                "inputs_hash",
                "members",
                "min_payout",
                "max_v0",
                "max_kyc",
                "root",
                "total",
                "planned_at",
            ],
        ),
        (
            "payouts",
            vec![
                "_id",
                "period",
                "node_id",
                "to_tron",
                "to_evm",
                "credits",
                "carry_in",
                "gross",
                "amount",
                "carry_out",
                "router",
                "leaf",
                "proof",
                "kyc_hash",
                "kyc_expiry",
                "kyc_sig",
                "status",
                "txid",
                "created_at",
            ],
        ),
        (
            "payout_addresses",
            vec!["_id", "node_id", "recipient", "valid_from", "sig"],
        ),
        ("checkpoints", vec!["_id", "block_number", "block_hash"]),
    ];
    assert_eq!(spec.len(), collections::ALL.len());
    for (coll, fields) in spec {
        assert!(collections::ALL.contains(&coll));
        let want: BTreeSet<String> = fields.iter().map(|f| f.to_string()).collect();
        let got: BTreeSet<String> = match &c.raw {
            Raw::Sqlite(q) => q.column_names(coll).await.unwrap().into_iter().collect(),
            Raw::Mongo(m) => {
                use mongodb::bson::{Document, doc};
                let d = m
                    .database()
                    .collection::<Document>(coll)
                    .find_one(doc! {})
                    .await
                    .unwrap()
                    .unwrap_or_else(|| panic!("no document in {coll}"));
                // hex is stored as lower-case strings
                for (k, v) in &d {
                    if let mongodb::bson::Bson::String(s) = v
                        && s.starts_with("0x")
                    {
                        assert_eq!(s, &s.to_lowercase(), "{coll}.{k}");
                    }
                }
                d.keys().cloned().collect()
            }
        };
        assert_eq!(got, want, "fields of {coll}");
    }
    // the derived-state collections exist and are keyed by event id
    for coll in collections::derived::ALL {
        let n = match &c.raw {
            Raw::Sqlite(q) => q.column_names(coll).await.unwrap().len(),
            Raw::Mongo(m) => {
                use mongodb::bson::{Document, doc};
                let d = m
                    .database()
                    .collection::<Document>(coll)
                    .find_one(doc! {})
                    .await
                    .unwrap()
                    .unwrap_or_else(|| panic!("no document in {coll}"));
                let id = d.get_str("_id").unwrap();
                assert!(id.starts_with("1:0x"), "{coll} _id {id}");
                d.len()
            }
        };
        assert!(n > 4, "{coll}");
    }
    for (coll, name_part) in [
        ("chunks", "session_id"),
        ("task_proofs", "slot"),
        ("task_proofs", "ts"),
        ("work_tally", "epoch"),
        ("payouts", "period"),
        ("payout_addresses", "recipient"),
        ("sessions", "status"),
        ("session_anchorings", "chain"),
    ] {
        let names = match &c.raw {
            Raw::Sqlite(q) => q.index_names(coll).await.unwrap(),
            Raw::Mongo(m) => m
                .database()
                .collection::<mongodb::bson::Document>(coll)
                .list_index_names()
                .await
                .unwrap(),
        };
        assert!(
            names.iter().any(|n| n.contains(name_part)),
            "{coll}: no index on {name_part} in {names:?}"
        );
    }
}

/// `gas_used` of a session: the gas per session of its anchoring transaction, as the writer of the
/// range passed it ([`BlockRange::session_gas`]); derived with the anchoring, so a rollback takes
/// it away and a re-anchoring in another transaction brings that transaction's value. A later write
/// of the same events that knows the gas fills it in; a stored value is never overwritten.
pub async fn session_gas_from_receipts(c: Ctx) {
    let s = &*c.store;
    let a = submission(1, 1, 1000, 2000);
    let chain_only = submission(2, 4, 1001, 0);
    s.submit_session(&a).await.unwrap();
    let ev = vec![
        registered(1, 7, 0, &a, 33),
        registered(1, 7, 1, &chain_only, 33),
        slot_anchored(1, 7, 2, 33, 1),
    ];
    let tx = ev[0].tx_hash;
    assert_eq!(ev[1].tx_hash, tx, "one anchoring transaction");
    assert_eq!(lucid_store::gas_per_session(65_001, 2), Some(32_500));
    assert_eq!(lucid_store::gas_per_session(65_001, 0), None);
    let gas: BTreeMap<B256, u64> = [(tx, 32_500u64), (h32(0xdead), 1)].into();
    s.write_block_range(&BlockRange::new(cp(1, 7), ev.clone()).with_session_gas(gas.clone()))
        .await
        .unwrap();
    for id in [&a.id, &chain_only.id] {
        let got = s.session(id).await.unwrap().unwrap();
        assert_eq!(got.status, SessionStatus::Anchored);
        assert_eq!(got.gas_used, Some(32_500), "session {id}");
    }
    // listed the same way
    let page = s
        .sessions(&SessionQuery::default(), None, 10)
        .await
        .unwrap();
    assert!(page.items.iter().all(|x| x.gas_used == Some(32_500)));
    // a replay with another value changes nothing (the receipt of a stored tx does not change)
    s.write_block_range(
        &BlockRange::new(cp(1, 7), ev.clone()).with_session_gas([(tx, 1u64)].into()),
    )
    .await
    .unwrap();
    assert_eq!(
        s.session(&a.id).await.unwrap().unwrap().gas_used,
        Some(32_500)
    );
    // rollback: pending again (submitted) or gone (chain-only), gas_used with it
    s.rollback(1, 7, Some(&cp(1, 6))).await.unwrap();
    let back = s.session(&a.id).await.unwrap().unwrap();
    assert_eq!(back.status, SessionStatus::Pending);
    assert_eq!(back.gas_used, None);
    assert!(s.session(&chain_only.id).await.unwrap().is_none());
    // events without receipts: null, then filled by the indexer's range
    s.put_events(&ev, &BTreeMap::new()).await.unwrap();
    assert_eq!(s.session(&a.id).await.unwrap().unwrap().gas_used, None);
    assert_eq!(
        s.session(&chain_only.id).await.unwrap().unwrap().gas_used,
        None
    );
    s.write_block_range(&BlockRange::new(cp(1, 7), ev.clone()).with_session_gas(gas))
        .await
        .unwrap();
    for id in [&a.id, &chain_only.id] {
        assert_eq!(
            s.session(id).await.unwrap().unwrap().gas_used,
            Some(32_500),
            "session {id} after the fill-in"
        );
    }
    // events with their receipts' gas (the keeper recording its own transaction): the same
    // value, and the indexer's later range changes nothing
    s.rollback(1, 7, Some(&cp(1, 6))).await.unwrap();
    assert_eq!(s.session(&a.id).await.unwrap().unwrap().gas_used, None);
    s.put_events(&ev, &[(tx, 32_500u64)].into()).await.unwrap();
    for id in [&a.id, &chain_only.id] {
        assert_eq!(
            s.session(id).await.unwrap().unwrap().gas_used,
            Some(32_500),
            "session {id} recorded with its gas"
        );
    }
    s.write_block_range(
        &BlockRange::new(cp(1, 7), ev.clone()).with_session_gas([(tx, 32_500u64)].into()),
    )
    .await
    .unwrap();
    assert_eq!(
        s.session(&a.id).await.unwrap().unwrap().gas_used,
        Some(32_500)
    );
    // re-anchored in another block (a reorg): that transaction's value
    s.rollback(1, 7, Some(&cp(1, 6))).await.unwrap();
    let ev2 = vec![registered(1, 8, 10, &a, 34), slot_anchored(1, 8, 11, 34, 1)];
    s.write_block_range(
        &BlockRange::new(cp(1, 8), ev2.clone())
            .with_session_gas([(ev2[0].tx_hash, 40_000u64)].into()),
    )
    .await
    .unwrap();
    let re = s.session(&a.id).await.unwrap().unwrap();
    assert_eq!(
        (re.status, re.block_number, re.anchor_txid, re.gas_used),
        (
            SessionStatus::Anchored,
            Some(8),
            Some(ev2[0].tx_hash),
            Some(40_000)
        )
    );
}

/// `data_version` changes after every commit — through this store's own connections and through
/// another store on the same file (another process) — and stays put while nothing is written.
/// MongoDB cannot tell (`None`: read caches stay off).
pub async fn data_version_sees_every_commit(c: Ctx) {
    let s = &*c.store;
    let Some(url) = c.sqlite_url.clone() else {
        assert_eq!(s.data_version().await.unwrap(), None);
        return;
    };
    let v0 = s
        .data_version()
        .await
        .unwrap()
        .expect("SQLite files have a data version");
    assert_eq!(s.data_version().await.unwrap(), Some(v0), "nothing written");
    s.submit_session(&submission(1, 1, 1, 1)).await.unwrap();
    let v1 = s.data_version().await.unwrap().unwrap();
    assert_ne!(v1, v0, "a commit of this store's pool");
    assert_eq!(s.data_version().await.unwrap(), Some(v1));
    let other = lucid_store::open(Some(&url)).await.unwrap();
    other.write_block_range(&range(5, 1, 2, 2)).await.unwrap();
    let v2 = s.data_version().await.unwrap().unwrap();
    assert_ne!(v2, v1, "a commit of another store on the same file");
    s.rollback(5, 2, Some(&cp(5, 1))).await.unwrap();
    assert_ne!(
        s.data_version().await.unwrap().unwrap(),
        v2,
        "a rollback commits"
    );
    assert!(
        lucid_store::open(Some("sqlite::memory:"))
            .await
            .unwrap()
            .data_version()
            .await
            .unwrap()
            .is_none(),
        "in memory: not known"
    );
}
