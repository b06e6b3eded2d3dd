//! The conformance suite: one body per test, run against every backend.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeSet;

use lucid_core::models::*;
use lucid_store::*;
use serde_json::json;

use crate::harness::{Ctx, Raw};

pub fn h32(n: u64) -> String {
    format!("0x{n:064x}")
}
pub fn addr(n: u64) -> String {
    format!("0x{n:040x}")
}
pub fn uuid(n: u64) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", n >> 16, n)
}
fn uuid_bytes32(n: u64) -> String {
    let u = uuid(n).replace('-', "");
    format!("0x{u}{}", "0".repeat(32))
}

pub fn session(n: u64, owner: u64, started_at: u64, status: SessionStatus) -> Session {
    Session {
        id: uuid(n),
        owner_addr: addr(owner),
        started_at,
        manifest_hash: h32(n + 1),
        merkle_root: h32(n + 2),
        chunk_count: 3,
        status,
        slot: None,
        anchor_txid: None,
        block_number: None,
        block_hash: None,
        gas_used: None,
    }
}

pub fn chunk(sess: u64, idx: u32) -> Chunk {
    Chunk {
        id: Chunk::make_id(&uuid(sess), idx),
        session_id: uuid(sess),
        idx,
        chunk_hash: h32(1000 + u64::from(idx)),
        size: 1 << 20,
        storers: vec![addr(7)],
    }
}

pub fn event(chain: u64, block: u64, log: u64, name: &str, args: serde_json::Value) -> ChainEvent {
    let tx = h32(chain * 1_000_000 + block * 100 + log / 10);
    ChainEvent {
        id: ChainEvent::make_id(chain, &tx, log),
        chain_id: chain,
        address: addr(0xa1),
        event: name.into(),
        block_number: block,
        block_hash: h32(block),
        tx_hash: tx,
        log_index: log,
        args,
    }
}

pub fn cp(chain: u64, block: u64) -> Checkpoint {
    Checkpoint {
        chain_id: chain,
        block_number: block,
        block_hash: h32(block),
    }
}

/// Blocks `[from, to]` of a chain, `per_block` plain events each.
pub fn range(chain: u64, from: u64, to: u64, per_block: u64) -> BlockRange {
    let mut ev = Vec::new();
    for b in from..=to {
        for l in 0..per_block {
            ev.push(event(
                chain,
                b,
                l,
                "SlotAnchored",
                json!({"slot": b, "count": 1}),
            ));
        }
    }
    BlockRange::events(cp(chain, to), ev)
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
        digest: h32(0),
        sig: format!("0x{}", "ab".repeat(65)),
        ts: 1_700_000_000_000,
    }
}

pub fn tally(epoch: u64, e: u64, rank: Option<u32>) -> WorkTally {
    WorkTally {
        id: WorkTally::make_id(epoch, &addr(e)),
        epoch,
        entity_id: addr(e),
        credits: 100 - e,
        live_score: 500_000,
        rank,
        eligible: rank.is_some(),
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
        id: h32(0x9a00 + n),
        period,
        to_tron: format!("T{n:033}"),
        to_evm: addr(to),
        amount: "123456789012345678901234567890".into(),
        router: PayoutRouter::V0,
        status: PayoutStatus::Planned,
        txid: None,
        created_at: 1_717_000_000,
    }
}

async fn all_events(s: &dyn Store, chain: u64) -> Vec<ChainEvent> {
    let mut v = Vec::new();
    for name in ["SlotAnchored", "SessionRegistered", "ChunkStored", "Paid"] {
        v.extend(
            s.events(&EventQuery {
                chain_id: Some(chain),
                event: name.into(),
                from_block: 0,
                to_block: u64::MAX,
            })
            .await
            .unwrap(),
        );
    }
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

// ------------------------------------------------------------------ tests

pub async fn idempotent_rewrites(c: Ctx) {
    let s = &*c.store;
    let sessions: Vec<Session> = (0..5)
        .map(|i| session(i, 1, 1000 + i, SessionStatus::Pending))
        .collect();
    let chunks: Vec<Chunk> = (0..3).map(|i| chunk(0, i)).collect();
    let proofs: Vec<TaskProof> = (0..10).map(|i| proof(i, 5)).collect();
    let tallies = vec![
        tally(3, 1, Some(1)),
        tally(3, 2, Some(2)),
        tally(3, 3, None),
    ];
    let sched: Vec<LeaderSlot> = (10..15).map(leader).collect();
    let pays = vec![payout(1, 9, 24_300), payout(2, 9, 24_301)];
    let r = range(1, 1, 3, 4);
    for round in 0..2 {
        s.put_sessions(&sessions).await.unwrap();
        s.put_chunks(&chunks).await.unwrap();
        let out = s.put_proofs(&proofs).await.unwrap();
        if round == 0 {
            assert_eq!(
                out,
                ProofBatchOutcome {
                    inserted: 10,
                    duplicates: 0
                }
            );
        } else {
            assert_eq!(
                out,
                ProofBatchOutcome {
                    inserted: 0,
                    duplicates: 10
                }
            );
        }
        s.put_tally(&tallies).await.unwrap();
        s.put_schedule(&sched).await.unwrap();
        s.put_payouts(&pays).await.unwrap();
        s.write_block_range(&r).await.unwrap();
        s.put_checkpoint(&cp(2, 42)).await.unwrap();

        for x in &sessions {
            assert_eq!(s.session(&x.id).await.unwrap().as_ref(), Some(x));
        }
        assert_eq!(s.chunks_of_session(&uuid(0)).await.unwrap(), chunks);
        assert_eq!(s.proofs_in_slots(0, 100).await.unwrap().len(), 10);
        for p in &proofs {
            assert_eq!(s.proof(&p.id).await.unwrap().as_ref(), Some(p));
        }
        assert_eq!(s.tally_by_rank(3).await.unwrap(), tallies);
        assert_eq!(s.schedule(0, 100).await.unwrap(), sched);
        assert_eq!(s.payouts_by_recipient(&addr(9), None).await.unwrap(), pays);
        assert_eq!(
            s.payout(&pays[0].id).await.unwrap().as_ref(),
            Some(&pays[0])
        );
        let mut want = r.events.clone();
        want.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(all_events(s, 1).await, want);
        assert_eq!(s.checkpoint(1).await.unwrap(), Some(cp(1, 3)));
        assert_eq!(s.checkpoint(2).await.unwrap(), Some(cp(2, 42)));
        assert_eq!(s.checkpoint(3).await.unwrap(), None);
    }
    // an exact duplicate proof is accepted once: a replay with a later `ts` keeps the first one
    let mut later = proofs[0].clone();
    later.ts += 99;
    let out = s.put_proofs(&[later]).await.unwrap();
    assert_eq!(out.duplicates, 1);
    assert_eq!(
        s.proof(&proofs[0].id).await.unwrap().unwrap().ts,
        proofs[0].ts
    );
    // an upsert replaces
    let mut changed = sessions[0].clone();
    changed.status = SessionStatus::Failed;
    s.put_sessions(std::slice::from_ref(&changed))
        .await
        .unwrap();
    assert_eq!(s.session(&changed.id).await.unwrap(), Some(changed));
}

pub async fn queries(c: Ctx) {
    let s = &*c.store;
    let mut ss = Vec::new();
    for i in 0..6 {
        let st = if i % 2 == 0 {
            SessionStatus::Anchored
        } else {
            SessionStatus::Pending
        };
        ss.push(session(i, 1, 100 + i, st));
    }
    ss.push(session(50, 2, 999, SessionStatus::Anchored));
    s.put_sessions(&ss).await.unwrap();
    let p = s
        .sessions_by_owner(&addr(1), Some(SessionStatus::Anchored), None, 10)
        .await
        .unwrap();
    let ids: Vec<_> = p.items.iter().map(|x| x.id.clone()).collect();
    assert_eq!(ids, vec![uuid(4), uuid(2), uuid(0)]);
    assert_eq!(p.next_cursor, None);
    let all = s
        .sessions_by_owner(&addr(1), None, None, 100)
        .await
        .unwrap();
    assert_eq!(all.items.len(), 6);
    assert!(
        all.items
            .windows(2)
            .all(|w| w[0].started_at >= w[1].started_at)
    );
    assert!(
        s.sessions_by_owner(&addr(1), None, Some("garbage"), 5)
            .await
            .is_err()
    );

    let mut chunks: Vec<Chunk> = (0..4).rev().map(|i| chunk(1, i)).collect();
    s.put_chunks(&chunks).await.unwrap();
    chunks.reverse();
    assert_eq!(s.chunks_of_session(&uuid(1)).await.unwrap(), chunks);
    assert!(s.chunks_of_session(&uuid(2)).await.unwrap().is_empty());

    let mut r = range(1, 10, 20, 2);
    r.events
        .push(event(1, 15, 7, "ChunkStored", json!({"index": 1})));
    s.write_block_range(&r).await.unwrap();
    s.write_block_range(&range(2, 10, 20, 1)).await.unwrap();
    let q = |chain, from, to| EventQuery {
        chain_id: chain,
        event: "SlotAnchored".into(),
        from_block: from,
        to_block: to,
    };
    let ev = s.events(&q(Some(1), 12, 14)).await.unwrap();
    assert_eq!(ev.len(), 6);
    assert!(
        ev.windows(2)
            .all(|w| (w[0].block_number, w[0].log_index) < (w[1].block_number, w[1].log_index))
    );
    assert_eq!(s.events(&q(None, 12, 14)).await.unwrap().len(), 9);
    let cs = s
        .events(&EventQuery {
            chain_id: Some(1),
            event: "ChunkStored".into(),
            from_block: 0,
            to_block: 100,
        })
        .await
        .unwrap();
    assert_eq!(cs.len(), 1);
    assert_eq!(cs[0].args, json!({"index": 1}));

    s.put_tally(&[
        tally(4, 3, None),
        tally(4, 2, Some(2)),
        tally(4, 1, Some(1)),
        tally(5, 1, Some(1)),
    ])
    .await
    .unwrap();
    let t = s.tally_by_rank(4).await.unwrap();
    let ranks: Vec<_> = t.iter().map(|x| x.rank).collect();
    assert_eq!(ranks, vec![Some(1), Some(2), None]);

    s.put_schedule(&(0..30).map(leader).collect::<Vec<_>>())
        .await
        .unwrap();
    let sch = s.schedule(10, 20).await.unwrap();
    assert_eq!(
        sch.iter().map(|x| x.slot).collect::<Vec<_>>(),
        (10..20).collect::<Vec<_>>()
    );
    let mut done = leader(31);
    done.result = Some(SlotResult {
        winner: Some(addr(2)),
        reason: ResultReason::Fallback,
        txid: Some(h32(5)),
    });
    done.primary = None;
    done.plan_reason = PlanReason::NoEligibleLeader;
    s.put_schedule(std::slice::from_ref(&done)).await.unwrap();
    assert_eq!(s.schedule(31, 32).await.unwrap(), vec![done]);

    s.put_payouts(&[payout(1, 9, 100), payout(2, 9, 101), payout(3, 8, 100)])
        .await
        .unwrap();
    assert_eq!(
        s.payouts_by_recipient(&addr(9), Some(100)).await.unwrap(),
        vec![payout(1, 9, 100)]
    );
    assert_eq!(
        s.payouts_by_recipient(&addr(9), None).await.unwrap().len(),
        2
    );
    assert!(
        s.payouts_by_recipient(&addr(7), None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.proof(&h32(1)).await.unwrap(), None);
}

pub async fn pagination_stability(c: Ctx) {
    let s = &*c.store;
    // 30 sessions, with ties on started_at
    let orig: Vec<Session> = (0..30)
        .map(|i| session(i, 1, 1000 + i / 3, SessionStatus::Anchored))
        .collect();
    s.put_sessions(&orig).await.unwrap();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut extra = 100;
    loop {
        let page = s
            .sessions_by_owner(&addr(1), None, cursor.as_deref(), 7)
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|x| x.id.clone()));
        // inserts during paging: newer sessions, one tied with the cursor position, older ones
        let last_t = page.items.last().map(|x| x.started_at).unwrap_or(0);
        s.put_sessions(&[
            session(extra, 1, 5000 + extra, SessionStatus::Anchored),
            session(extra + 1, 1, last_t, SessionStatus::Anchored),
            session(extra + 2, 1, 10, SessionStatus::Anchored),
        ])
        .await
        .unwrap();
        extra += 3;
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let uniq: BTreeSet<_> = seen.iter().cloned().collect();
    assert_eq!(uniq.len(), seen.len(), "a session was returned twice");
    for o in &orig {
        assert!(uniq.contains(&o.id), "session {} skipped", o.id);
    }
    // the order seen is newest first
    let all = s
        .sessions_by_owner(&addr(1), None, None, 1000)
        .await
        .unwrap();
    let pos = |id: &String| all.items.iter().position(|x| &x.id == id).unwrap();
    assert!(seen.windows(2).all(|w| pos(&w[0]) < pos(&w[1])));
}

pub async fn rollback_to_block(c: Ctx) {
    let s = &*c.store;
    let chain = 31337;
    // sessions waiting to be anchored, a chunk, a schedule, a payout
    s.put_sessions(&[
        session(1, 1, 100, SessionStatus::Pending),
        session(2, 1, 101, SessionStatus::Pending),
    ])
    .await
    .unwrap();
    s.put_chunks(&[chunk(1, 0)]).await.unwrap();
    s.put_schedule(&[leader(50), leader(51)]).await.unwrap();
    let mut pay = payout(1, 9, 100);
    pay.status = PayoutStatus::Sent;
    pay.txid = Some(h32(777));
    s.put_payouts(std::slice::from_ref(&pay)).await.unwrap();

    for b in 1..=10u64 {
        let mut r = range(chain, b, b, 2);
        let tx = r.events[0].tx_hash.clone();
        if b == 5 || b == 8 {
            let n = if b == 5 { 1 } else { 2 };
            let mut se = session(n, 1, 99 + n, SessionStatus::Anchored);
            se.slot = Some(50);
            se.anchor_txid = Some(tx.clone());
            se.block_number = Some(b);
            se.block_hash = Some(h32(b));
            se.gas_used = Some(60_000);
            r.sessions.push(se);
            r.events.push(event(
                chain,
                b,
                2,
                "SessionRegistered",
                json!({"sessionId": uuid_bytes32(n)}),
            ));
        }
        if b == 9 {
            let storer = addr(0x55);
            r.events.push(event(
                chain,
                b,
                3,
                "ChunkStored",
                json!({"sessionId": uuid_bytes32(1), "index": 0, "storer": storer, "chunkHash": h32(1000), "size": 1048576}),
            ));
            r.chunk_storers.push(ChunkStorer {
                session_id: uuid(1),
                idx: 0,
                chunk_hash: h32(1000),
                size: 1 << 20,
                storer,
            });
            r.slot_results.push(SlotOutcome {
                slot: 51,
                result: SlotResult {
                    winner: Some(addr(1)),
                    reason: ResultReason::Primary,
                    txid: Some(tx.clone()),
                },
            });
            r.slot_results.push(SlotOutcome {
                slot: 50,
                result: SlotResult {
                    winner: None,
                    reason: ResultReason::Missed,
                    txid: None,
                },
            });
        }
        if b == 10 {
            let mut p = pay.clone();
            p.status = PayoutStatus::Paid;
            p.txid = Some(tx.clone());
            r.payouts.push(p);
        }
        s.write_block_range(&r).await.unwrap();
        // another chain at the same heights must be untouched
        s.write_block_range(&range(7, b, b, 1)).await.unwrap();
    }
    assert_eq!(
        s.session(&uuid(2)).await.unwrap().unwrap().status,
        SessionStatus::Anchored
    );
    assert_eq!(
        s.chunks_of_session(&uuid(1)).await.unwrap()[0].storers,
        vec![addr(7), addr(0x55)]
    );
    assert!(s.schedule(51, 52).await.unwrap()[0].result.is_some());
    assert_eq!(
        s.payout(&pay.id).await.unwrap().unwrap().status,
        PayoutStatus::Paid
    );

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
    assert_eq!(rep.events_deleted, 3 * 2 + 2);
    assert_eq!(rep.sessions_reset, 1);
    assert_eq!(rep.storers_removed, 1);
    assert_eq!(rep.slot_results_cleared, 1);
    assert_eq!(rep.payouts_reset, 1);
    assert_eq!(s.checkpoint(chain).await.unwrap(), Some(cp(chain, 7)));
    let left = all_events(s, chain).await;
    assert!(left.iter().all(|e| e.block_number < 8));
    assert_eq!(left.len(), 7 * 2 + 1);
    assert_eq!(all_events(s, 7).await.len(), 10);
    assert_eq!(s.checkpoint(7).await.unwrap(), Some(cp(7, 10)));
    // derived state
    let s2 = s.session(&uuid(2)).await.unwrap().unwrap();
    assert_eq!(s2.status, SessionStatus::Pending);
    assert_eq!(
        (s2.anchor_txid, s2.block_number, s2.slot),
        (None, None, None)
    );
    assert_eq!(
        s.session(&uuid(1)).await.unwrap().unwrap().status,
        SessionStatus::Anchored
    );
    assert_eq!(
        s.chunks_of_session(&uuid(1)).await.unwrap()[0].storers,
        vec![addr(7)]
    );
    assert!(s.schedule(51, 52).await.unwrap()[0].result.is_none());
    // slot 50's result came with no tx: it stays
    assert!(s.schedule(50, 51).await.unwrap()[0].result.is_some());
    assert_eq!(
        s.payout(&pay.id).await.unwrap().unwrap().status,
        PayoutStatus::Sent
    );
    // a second rollback is a no-op; rolling back to genesis removes the checkpoint
    assert_eq!(
        s.rollback(chain, 8, Some(&cp(chain, 7)))
            .await
            .unwrap()
            .events_deleted,
        0
    );
    s.rollback(chain, 0, None).await.unwrap();
    assert_eq!(s.checkpoint(chain).await.unwrap(), None);
    assert!(all_events(s, chain).await.is_empty());
    assert_eq!(
        s.session(&uuid(1)).await.unwrap().unwrap().status,
        SessionStatus::Pending
    );
}

pub async fn checkpoint_atomicity(c: Ctx) {
    let s = &*c.store;
    let chain = 5;
    let a = range(chain, 1, 5, 10);
    let mut b = range(chain, 6, 10, 10);
    b.sessions.push({
        let mut x = session(3, 1, 5, SessionStatus::Anchored);
        x.anchor_txid = Some(b.events[0].tx_hash.clone());
        x
    });
    s.write_block_range(&a).await.unwrap();
    s.inject_fault(Some(Fault::BeforeCheckpoint));
    let err = s.write_block_range(&b).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Injected(Fault::BeforeCheckpoint)),
        "{err}"
    );
    // the crash left the checkpoint at the end of A
    assert_eq!(s.checkpoint(chain).await.unwrap(), Some(cp(chain, 5)));
    let after_crash = all_events(s, chain).await;
    if c.atomic_ranges {
        assert_eq!(
            after_crash.len(),
            50,
            "a transactional range write must leave nothing behind"
        );
        assert_eq!(s.session(&uuid(3)).await.unwrap(), None);
    } else {
        // data first, checkpoint last: the data may be there, the checkpoint is not
        assert!(after_crash.len() >= 50);
    }
    // the indexer resumes from the checkpoint: replays B (twice, for good measure)
    for _ in 0..2 {
        s.write_block_range(&b).await.unwrap();
        assert_eq!(s.checkpoint(chain).await.unwrap(), Some(cp(chain, 10)));
        let mut want: Vec<_> = a.events.iter().chain(b.events.iter()).cloned().collect();
        want.sort_by(|x, y| x.id.cmp(&y.id));
        assert_eq!(all_events(s, chain).await, want);
        assert_eq!(
            s.session(&uuid(3)).await.unwrap().as_ref(),
            Some(&b.sessions[0])
        );
    }
}

pub async fn unique_index_violations(c: Ctx) {
    let s = &*c.store;
    s.put_chunks(&[chunk(1, 0)]).await.unwrap();
    let mut bad = chunk(1, 0);
    bad.id = "someone-else:0".into();
    match s.put_chunks(&[bad]).await {
        Err(StoreError::Duplicate { collection, key }) => {
            assert_eq!(collection, "chunks");
            assert!(!key.is_empty());
        }
        other => panic!("expected Duplicate, got {other:?}"),
    }
    s.put_tally(&[tally(1, 1, Some(1))]).await.unwrap();
    let mut bad = tally(1, 1, Some(1));
    bad.id = "1:other".into();
    assert!(
        matches!(s.put_tally(&[bad]).await, Err(StoreError::Duplicate { ref collection, .. }) if collection == "work_tally")
    );
    // the store keeps working and the original rows are intact
    assert_eq!(
        s.chunks_of_session(&uuid(1)).await.unwrap(),
        vec![chunk(1, 0)]
    );
    assert_eq!(
        s.tally_by_rank(1).await.unwrap(),
        vec![tally(1, 1, Some(1))]
    );
    s.put_chunks(&[chunk(1, 1)]).await.unwrap();
    // numbers beyond the stored 64-bit range are a typed error, not a wrap-around
    let mut big = proof(1, 1);
    big.amount = u64::MAX;
    assert!(matches!(
        s.put_proofs(&[big]).await,
        Err(StoreError::OutOfRange { .. })
    ));
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
            for k in 0..4u64 {
                s.write_block_range(&range(100 + w, k * 5 + 1, k * 5 + 5, 3))
                    .await
                    .unwrap();
                // every writer also writes the same shared range and the same sessions
                s.write_block_range(&range(99, 1, 3, 3)).await.unwrap();
                s.put_sessions(&[
                    session(w * 10 + k, 1, k, SessionStatus::Pending),
                    session(999, 2, 1, SessionStatus::Pending),
                ])
                .await
                .unwrap();
                let part = &proofs[(k as usize * 10)..(k as usize * 10 + 10)];
                inserted += s.put_proofs(part).await.unwrap().inserted;
            }
            inserted
        }));
    }
    let mut inserted = 0;
    for t in tasks {
        inserted += t.await.unwrap();
    }
    let s = &*store;
    assert_eq!(
        inserted, 40,
        "each proof is inserted exactly once across writers"
    );
    assert_eq!(s.proofs_in_slots(0, 100).await.unwrap().len(), 40);
    for w in 0..6u64 {
        assert_eq!(s.checkpoint(100 + w).await.unwrap(), Some(cp(100 + w, 20)));
        assert_eq!(all_events(s, 100 + w).await.len(), 60);
    }
    assert_eq!(all_events(s, 99).await.len(), 9);
    assert_eq!(
        s.sessions_by_owner(&addr(1), None, None, 100)
            .await
            .unwrap()
            .items
            .len(),
        24
    );
    assert!(s.session(&uuid(999)).await.unwrap().is_some());
}

pub async fn malformed_documents(c: Ctx) {
    let s = &*c.store;
    s.put_sessions(&[
        session(1, 1, 10, SessionStatus::Pending),
        session(2, 1, 11, SessionStatus::Pending),
    ])
    .await
    .unwrap();
    s.put_chunks(&[chunk(1, 0)]).await.unwrap();
    s.write_block_range(&range(1, 1, 1, 1)).await.unwrap();
    s.put_tally(&[tally(1, 1, Some(1))]).await.unwrap();
    s.put_schedule(&[leader(1)]).await.unwrap();
    s.put_payouts(&[payout(1, 9, 1)]).await.unwrap();
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
                "UPDATE leader_schedule SET \"planReason\" = NULL".into(),
                "UPDATE payouts SET router = 'v9'".into(),
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
                (
                    "leader_schedule",
                    doc! {},
                    doc! {"planReason": mongodb::bson::Bson::Null},
                ),
                ("payouts", doc! {}, doc! {"router": "v9"}),
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
        s.sessions_by_owner(&addr(1), None, None, 10).await,
        "sessions",
    );
    is_malformed(s.chunks_of_session(&uuid(1)).await, "chunks");
    is_malformed(
        s.events(&EventQuery {
            chain_id: None,
            event: "SlotAnchored".into(),
            from_block: 0,
            to_block: 10,
        })
        .await,
        "events",
    );
    is_malformed(s.tally_by_rank(1).await, "work_tally");
    is_malformed(s.schedule(0, 10).await, "leader_schedule");
    is_malformed(s.payout(&payout(1, 9, 1).id).await, "payouts");
    is_malformed(s.proofs_in_slots(0, 10).await, "task_proofs");
    is_malformed(s.checkpoint(9).await, "checkpoints");
}

/// Field names exactly as SPEC §5, and the SPEC indexes, in the backend's own terms.
pub async fn schema_field_names(c: Ctx) {
    let s = &*c.store;
    s.put_sessions(&[session(1, 1, 10, SessionStatus::Pending)])
        .await
        .unwrap();
    s.put_chunks(&[chunk(1, 0)]).await.unwrap();
    s.write_block_range(&range(1, 1, 1, 1)).await.unwrap();
    s.put_proofs(&[proof(1, 1)]).await.unwrap();
    s.put_tally(&[tally(1, 1, Some(1))]).await.unwrap();
    s.put_schedule(&[leader(1)]).await.unwrap();
    s.put_payouts(&[payout(1, 9, 1)]).await.unwrap();
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
                "status",
                "slot",
                "anchor_txid",
                "block_number",
                "block_hash",
                "gas_used",
            ],
        ),
        (
            "chunks",
            vec!["_id", "session_id", "idx", "chunk_hash", "size", "storers"],
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
            "leader_schedule",
            vec![
                "_id",
                "slot",
                "epoch",
                "primary",
                "fallbacks",
                "planReason",
                "result",
            ],
        ),
        (
            "payouts",
            vec![
                "_id",
                "period",
                "to_tron",
                "to_evm",
                "amount",
                "router",
                "status",
                "txid",
                "created_at",
            ],
        ),
        ("checkpoints", vec!["_id", "block_number", "block_hash"]),
    ];
    for (coll, fields) in spec {
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
                d.keys().cloned().collect()
            }
        };
        assert_eq!(got, want, "fields of {coll}");
    }
    if let Raw::Mongo(m) = &c.raw {
        let ix = |coll: &'static str| async move {
            m.database()
                .collection::<mongodb::bson::Document>(coll)
                .list_index_names()
                .await
                .unwrap()
        };
        assert!(ix("chunks").await.contains(&"session_id_idx".to_string()));
        assert!(ix("task_proofs").await.contains(&"slot_nodeId".to_string()));
        assert!(
            ix("work_tally")
                .await
                .contains(&"epoch_entityId".to_string())
        );
        assert!(ix("payouts").await.contains(&"period_to_evm".to_string()));
    }
}

/// `ChunkStored` appends a new storer after the known ones (MongoDB `$addToSet` order) and adds
/// each storer once; a chunk first seen on chain is created.
pub async fn storers_keep_order(c: Ctx) {
    let s = &*c.store;
    s.put_chunks(&[chunk(1, 0)]).await.unwrap();
    let stored = |idx: u32, storer: u64| ChunkStorer {
        session_id: uuid(1),
        idx,
        chunk_hash: h32(1000 + u64::from(idx)),
        size: 1 << 20,
        storer: addr(storer),
    };
    let mut r = range(1, 1, 1, 1);
    r.chunk_storers = vec![stored(0, 9), stored(0, 1), stored(0, 9), stored(1, 3)];
    for _ in 0..2 {
        s.write_block_range(&r).await.unwrap();
        let got = s.chunks_of_session(&uuid(1)).await.unwrap();
        assert_eq!(got[0].storers, vec![addr(7), addr(9), addr(1)]);
        let mut new = chunk(1, 1);
        new.storers = vec![addr(3)];
        assert_eq!(got[1], new);
    }
}
