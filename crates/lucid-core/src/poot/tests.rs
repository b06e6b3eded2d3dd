use super::*;
use crate::session::SessionId;
use alloy_sol_types::SolValue;
use proptest::prelude::*;

fn addr(i: u64) -> Address {
    let mut b = [0u8; 20];
    b[12..].copy_from_slice(&i.to_be_bytes());
    b[0] = 0xaa;
    Address::from(b)
}

fn sid(i: u64) -> SessionId {
    SessionId(uuid::Uuid::from_u128(u128::from(i) + 1))
}

fn relay(node: Address, slot: u64, s: u64, amount: u64) -> TaskProof {
    TaskProof {
        node_id: node,
        slot,
        kind: ProofKind::RelayBandwidth,
        session_id: sid(s),
        amount,
        chunk_index: 0,
        digest: B256::ZERO,
    }
}

fn storage(node: Address, slot: u64, s: u64, chunk: u32) -> TaskProof {
    TaskProof {
        node_id: node,
        slot,
        kind: ProofKind::StorageAvailability,
        session_id: sid(s),
        amount: 0,
        chunk_index: chunk,
        digest: B256::repeat_byte(chunk as u8 + 1),
    }
}

fn validation(node: Address, slot: u64, s: u64) -> TaskProof {
    TaskProof {
        kind: ProofKind::ValidationSignature,
        chunk_index: 0,
        ..storage(node, slot, s, 0)
    }
}

const MIB5: u64 = 5 * 1024 * 1024;

fn window(p: &Params, epoch: u64) -> Range<u64> {
    p.window(epoch).expect("window")
}

fn start_of(p: &Params, epoch: u64) -> u64 {
    p.epoch_start_slot(epoch).expect("start")
}

fn tally_for(p: &Params, epoch: u64) -> Tally {
    Tally::for_epoch(p, epoch).expect("window")
}

#[test]
fn work_formula() {
    assert_eq!(work_units(0, 0, MIB5), 0);
    assert_eq!(work_units(0, 1, MIB5), 1);
    assert_eq!(work_units(0, u128::from(MIB5), MIB5), 1);
    assert_eq!(work_units(0, u128::from(MIB5) + 1, MIB5), 2);
    assert_eq!(work_units(3, u128::from(MIB5) + 1, MIB5), 3);
    // W_t and sums saturate at 2^53 − 1 (SPEC §4).
    assert_eq!(work_units(1, u128::from(u64::MAX) * 4, 1), MAX_SAFE_INTEGER);
    assert_eq!(work_units(u64::MAX, 0, 1), MAX_SAFE_INTEGER);
    assert_eq!(add_credits(MAX_SAFE_INTEGER, 1), MAX_SAFE_INTEGER);
    assert_eq!(add_credits(u64::MAX, u64::MAX), MAX_SAFE_INTEGER);
    let p = Params::default();
    let mut t = tally_for(&p, 10);
    let a = addr(1);
    let s0 = window(&p, 10).start;
    // 2000 proofs of 2^64 − 1 bytes in each of 2 slots: W_t ≈ 7.0·10^15 < 2^53 each, the sum
    // (≈ 1.4·10^16) saturates.
    for i in 0..2000 {
        t.add(&relay(a, s0, i, u64::MAX));
        t.add(&relay(a, s0 + 1, i, u64::MAX));
    }
    assert!(t.work_at(&p, &a, s0) < MAX_SAFE_INTEGER);
    assert!(t.work_at(&p, &a, s0) > MAX_SAFE_INTEGER / 2);
    assert_eq!(t.totals(&p)[0].credits, MAX_SAFE_INTEGER);
    for i in 2000..3000 {
        t.add(&relay(a, s0, i, u64::MAX));
    }
    assert_eq!(t.work_at(&p, &a, s0), MAX_SAFE_INTEGER);
}

#[test]
fn tally_per_slot_work_and_duplicates() {
    let p = Params::default();
    let mut t = tally_for(&p, 10);
    let a = addr(1);
    let s0 = window(&p, 10).start;
    // Relay: two distinct proofs in one slot sum; an exact duplicate counts once.
    assert!(t.add(&relay(a, s0, 1, MIB5)));
    assert!(t.add(&relay(a, s0, 1, MIB5)));
    assert!(t.add(&relay(a, s0, 2, 1)));
    assert_eq!(t.work_at(&p, &a, s0), 2);
    // Storage + validation of the same session count one distinct session; S wins over B.
    t.add(&storage(a, s0 + 1, 7, 0));
    t.add(&storage(a, s0 + 1, 7, 1));
    t.add(&validation(a, s0 + 1, 7));
    t.add(&validation(a, s0 + 1, 8));
    t.add(&relay(a, s0 + 1, 9, 10));
    assert_eq!(t.work_at(&p, &a, s0 + 1), 2);
    // Out of window: ignored.
    assert!(!t.add(&relay(a, s0 - 1, 1, 1)));
    assert!(!t.add(&relay(a, start_of(&p, 10), 1, 1)));
    let tot = t.totals(&p);
    assert_eq!(tot.len(), 1);
    assert_eq!(tot[0].credits, 4);
    assert_eq!(tot[0].beacon_slots, 0);
}

#[test]
fn window_before_slot_zero_divides_by_window() {
    let p = Params::default();
    let mut t = tally_for(&p, 3);
    assert_eq!(t.range(), 0..2160);
    let a = addr(1);
    for s in 0..2160 {
        t.add(&TaskProof::beacon(a, s));
    }
    t.add(&relay(a, 0, 1, 1));
    let sc = t.scores(&p, 3, &B256::ZERO);
    assert_eq!(sc[0].live_score, 1_000_000 * 2160 / 5040);
    assert_eq!(sc[0].live_score, 428_571);
    assert!(sc[0].eligible);
    // Epoch 0 has an empty window: nothing counts.
    let mut t0 = tally_for(&p, 0);
    assert!(!t0.add(&TaskProof::beacon(a, 0)));
    assert_eq!(t0.node_count(), 0);
    // Epoch 1: 720 slots of beacons is 142857 ppm < D_MIN.
    let mut t1 = tally_for(&p, 1);
    for s in 0..720 {
        t1.add(&TaskProof::beacon(a, s));
    }
    t1.add(&relay(a, 5, 1, 1));
    let sc = t1.scores(&p, 1, &B256::ZERO);
    assert_eq!(sc[0].live_score, 142_857);
    assert!(!sc[0].eligible);
    assert_eq!(sc[0].rank, None);
}

#[test]
fn live_score_threshold_is_inclusive() {
    let p = Params::default();
    // 1008 of 5040 slots = exactly 200000 ppm = D_MIN_PPM.
    assert_eq!(live_score_ppm(1008, 5040), 200_000);
    assert_eq!(live_score_ppm(1007, 5040), 199_801);
    let tot = [
        NodeTotals {
            node: addr(1),
            credits: 1,
            beacon_slots: 1008,
        },
        NodeTotals {
            node: addr(2),
            credits: 1,
            beacon_slots: 1007,
        },
    ];
    let sc = score_nodes(&p, 9, &B256::ZERO, &tot);
    assert!(
        sc.iter()
            .find(|s| s.node == addr(1))
            .is_some_and(|s| s.eligible)
    );
    assert!(
        sc.iter()
            .find(|s| s.node == addr(2))
            .is_some_and(|s| !s.eligible)
    );
}

#[test]
fn beacons_without_work_are_listed_but_not_eligible() {
    let p = Params::default();
    let mut t = tally_for(&p, 10);
    let a = addr(1);
    for s in window(&p, 10) {
        t.add(&TaskProof::beacon(a, s));
    }
    let sc = t.scores(&p, 10, &B256::ZERO);
    assert_eq!(sc.len(), 1);
    assert_eq!(sc[0].credits, 0);
    assert_eq!(sc[0].live_score, 1_000_000);
    assert!(!sc[0].eligible);
    assert_eq!(sc[0].rank, None);
    assert!(ranked(&sc).is_empty());
}

#[test]
fn tie_key_is_abi_encode() {
    let seed = B256::repeat_byte(7);
    let a = addr(42);
    assert_eq!(tie_key(&seed, &a), keccak256((seed, a).abi_encode()));
}

#[test]
fn ranking_credits_desc_then_tie_key_asc() {
    let p = Params::default();
    let seed = B256::repeat_byte(3);
    let tot: Vec<NodeTotals> = (1..=6)
        .map(|i| NodeTotals {
            node: addr(i),
            credits: if i <= 4 { 10 } else { 20 },
            beacon_slots: 5040,
        })
        .collect();
    let sc = score_nodes(&p, 9, &seed, &tot);
    let r = ranked(&sc);
    assert_eq!(r.len(), 6);
    // The two 20-credit nodes first, each group ordered by tieKey ascending.
    let mut top = vec![addr(5), addr(6)];
    top.sort_by_key(|a| tie_key(&seed, a));
    let mut rest: Vec<Address> = (1..=4).map(addr).collect();
    rest.sort_by_key(|a| tie_key(&seed, a));
    top.extend(rest);
    assert_eq!(r, top);
    assert_eq!(sc[0].rank, Some(1));
    assert_eq!(sc[5].rank, Some(6));
    // Another seed gives another (deterministic) tie order for someone.
    let differs = (0..20u8).any(|b| ranked(&score_nodes(&p, 9, &B256::repeat_byte(b), &tot)) != r);
    assert!(differs);
}

fn params(cooldown: u64, fallbacks: usize) -> Params {
    crate::params::ParamValues {
        cooldown_slots: cooldown,
        max_fallbacks: fallbacks as u64,
        ..Default::default()
    }
    .build()
    .expect("valid")
}

fn sched(p: &Params, epoch: u64, r: Vec<Address>, prev: &[SlotPlan]) -> Vec<SlotPlan> {
    schedule_epoch(p, epoch, r, prev).expect("schedule")
}

/// A previous-epoch plan with primary `a` at `slot`.
fn turn(p: &Params, a: Address, slot: u64) -> SlotPlan {
    SlotPlan {
        slot,
        epoch: p.epoch_of(slot),
        primary: Some(a),
        fallbacks: vec![],
        plan_reason: PlanReason::Ranked,
    }
}

#[test]
fn cooldown_rotates_through_ranks() {
    let p = params(16, 3);
    let r: Vec<Address> = (0..20).map(addr).collect();
    let plans = sched(&p, 5, r.clone(), &[]);
    assert_eq!(plans.len(), 720);
    let start = start_of(&p, 5);
    for (i, pl) in plans.iter().enumerate() {
        assert_eq!(pl.slot, start + i as u64);
        assert_eq!(pl.epoch, 5);
        assert_eq!(pl.plan_reason, PlanReason::Ranked);
        // Winner of slot s may not lead s+1..s+16: a cycle of 17.
        assert_eq!(pl.primary, Some(r[i % 17]), "slot {i}");
        assert_eq!(pl.fallbacks.len(), 3);
    }
    // Slot 0 fallbacks are ranks 2..4; slot 16: ranks 1..16 cooling → rank 17, then 18, 19, 20.
    assert_eq!(plans[0].fallbacks, vec![r[1], r[2], r[3]]);
    assert_eq!(plans[16].primary, Some(r[16]));
    assert_eq!(plans[16].fallbacks, vec![r[17], r[18], r[19]]);
}

#[test]
fn fewer_free_nodes_than_fallbacks() {
    let p = params(8, 3);
    let r: Vec<Address> = (0..10).map(addr).collect();
    let plans = sched(&p, 1, r.clone(), &[]);
    // At slot 8 (offset), ranks 0..7 cooling: primary r8, fallbacks only r9.
    assert_eq!(plans[8].primary, Some(r[8]));
    assert_eq!(plans[8].fallbacks, vec![r[9]]);
    assert_eq!(plans[8].plan_reason, PlanReason::Ranked);
    // Slot 9: r0 is free again (9 − 0 > 8), r1..r8 cooling, r9 free.
    assert_eq!(plans[9].primary, Some(r[0]));
    assert_eq!(plans[9].fallbacks, vec![r[9]]);
}

#[test]
fn cooldown_relaxed_and_across_it() {
    let p = params(8, 3);
    let (a, b, c) = (addr(1), addr(2), addr(3));
    let plans = sched(&p, 2, vec![a, b, c], &[]);
    let s0 = start_of(&p, 2);
    assert_eq!(plans[0].primary, Some(a));
    assert_eq!(plans[0].fallbacks, vec![b, c]);
    assert_eq!(plans[1].primary, Some(b));
    assert_eq!(plans[1].fallbacks, vec![c]);
    assert_eq!(plans[2].primary, Some(c));
    assert!(plans[2].fallbacks.is_empty());
    // Slot 3: all cooling → relaxed: lastTurn asc → a(0), b(1), c(2).
    assert_eq!(plans[3].plan_reason, PlanReason::CooldownRelaxed);
    assert_eq!(plans[3].primary, Some(a));
    assert_eq!(plans[3].fallbacks, vec![b, c]);
    // a won slot 3 → slot 4: b(1), c(2), a(3).
    assert_eq!(plans[4].primary, Some(b));
    assert_eq!(plans[4].fallbacks, vec![c, a]);
    assert!(
        plans
            .iter()
            .all(|pl| pl.plan_reason == PlanReason::CooldownRelaxed || pl.slot < s0 + 3)
    );
    // Round robin thereafter.
    assert_eq!(plans[5].primary, Some(c));
    assert_eq!(plans[6].primary, Some(a));
}

#[test]
fn relaxed_orders_by_last_turn_then_rank() {
    let p = params(8, 1);
    let (a, b) = (addr(1), addr(2));
    let s = start_of(&p, 4);
    // b's turn is older than a's: b leads the relaxed slot although a ranks higher.
    let prev = [turn(&p, b, s - 2), turn(&p, a, s - 1)];
    let plans = sched(&p, 4, vec![a, b], &prev);
    assert_eq!(plans[0].plan_reason, PlanReason::CooldownRelaxed);
    assert_eq!(plans[0].primary, Some(b));
    assert_eq!(plans[0].fallbacks, vec![a]);
}

#[test]
fn last_turn_across_epochs() {
    let p = params(16, 2);
    let r: Vec<Address> = (0..5).map(addr).collect();
    let s = start_of(&p, 7);
    // r0 was planned primary 16 slots before the epoch start: cooling at s (16 ≤ 16), free at s+1.
    let plans = sched(&p, 7, r.clone(), &[turn(&p, r[0], s - 16)]);
    assert_eq!(plans[0].primary, Some(r[1]));
    assert_eq!(plans[0].fallbacks, vec![r[2], r[3]]);
    assert_eq!(plans[1].primary, Some(r[0]));
    // 17 before: free.
    let plans = sched(&p, 7, r.clone(), &[turn(&p, r[0], s - 17)]);
    assert_eq!(plans[0].primary, Some(r[0]));
    // Nodes not in R are ignored.
    let plans = sched(&p, 7, r.clone(), &[turn(&p, addr(99), s - 1)]);
    assert_eq!(plans[0].primary, Some(r[0]));
    // The previous epoch's whole plan: the next epoch continues its rotation seamlessly.
    let e6 = sched(&p, 6, r.clone(), &[]);
    let e7 = sched(&p, 7, r.clone(), &e6);
    let mut cont = Scheduler::new(p, r.clone());
    let both = cont
        .plan_range(start_of(&p, 6)..start_of(&p, 8))
        .expect("plan");
    assert_eq!(both[..720], e6[..]);
    assert_eq!(both[720..], e7[..]);
}

/// `--last-wins` used to accept a win at or after the planned slot; the scheduler then kept that
/// "latest" win forever, so the node never cooled down and led every slot. Turns now come from
/// plans, which must precede the slots being planned.
#[test]
fn a_turn_at_or_after_the_epoch_is_refused() {
    let p = params(16, 2);
    let r: Vec<Address> = (0..5).map(addr).collect();
    let s = start_of(&p, 7);
    for bad in [s, s + 1, s + 500, u64::MAX] {
        assert_eq!(
            schedule_epoch(&p, 7, r.clone(), &[turn(&p, r[0], bad)]),
            Err(ScheduleError::NotBefore {
                plan_slot: bad,
                slot: s
            })
        );
        let sch = Scheduler::new(p, r.clone()).with_previous_plans(&[turn(&p, r[0], bad)]);
        assert!(sch.plan(s).is_err());
    }
    // Planning out of order is refused too.
    let mut sch = Scheduler::new(p, r.clone());
    sch.plan_range(s..s + 10).expect("plan");
    assert!(sch.plan(s + 5).is_err());
    assert!(sch.plan(s + 10).is_ok());
    // Whatever the previous plans, nobody leads twice within COOLDOWN_SLOTS while others are free.
    let plans = sched(&p, 7, r.clone(), &[turn(&p, r[0], s - 1)]);
    for w in plans.windows(17) {
        let first = w[0].primary;
        assert!(
            w[1..].iter().all(|x| x.primary != first)
                || w.iter().any(|x| x.plan_reason != PlanReason::Ranked)
        );
    }
}

#[test]
fn no_eligible_leader() {
    let p = Params::default();
    let plans = sched(&p, 1, vec![], &[]);
    assert_eq!(plans.len(), 720);
    assert!(plans.iter().all(|pl| pl.primary.is_none()
        && pl.fallbacks.is_empty()
        && pl.plan_reason == PlanReason::NoEligibleLeader));
    let j = serde_json::to_value(&plans[0]).expect("json");
    assert_eq!(
        j,
        serde_json::json!({"slot": 720, "epoch": 1, "primary": null, "fallbacks": [], "planReason": "no_eligible_leader"})
    );
}

#[test]
fn classify() {
    let p = params(16, 2);
    let r: Vec<Address> = (0..5).map(addr).collect();
    let plan = Scheduler::new(p, r.clone()).plan(100).expect("plan");
    let st = p.slot_start(100).expect("start");
    let c = |w: Address, t: u64| {
        classify_result(
            &p,
            &plan,
            Some(FirstAnchor {
                submitter: w,
                block_time: t,
            }),
        )
    };
    assert_eq!(c(r[0], st).reason, ResultReason::Primary);
    assert_eq!(c(r[0], st + 119).reason, ResultReason::Primary);
    // Late: the block is in a later slot, whoever sent it.
    assert_eq!(c(r[0], st + 120).reason, ResultReason::Late);
    assert_eq!(c(r[1], st + 200).reason, ResultReason::Late);
    // Fallback k from start + k × 5 s; earlier is unscheduled.
    assert_eq!(c(r[1], st + 5).reason, ResultReason::Fallback);
    assert_eq!(c(r[1], st + 4).reason, ResultReason::Unscheduled);
    assert_eq!(c(r[2], st + 9).reason, ResultReason::Unscheduled);
    assert_eq!(c(r[2], st + 10).reason, ResultReason::Fallback);
    // Not in the plan.
    assert_eq!(
        c(r[3], st + 30),
        SlotResult {
            winner: Some(r[3]),
            reason: ResultReason::Unscheduled,
            block_time: Some(st + 30),
        }
    );
    assert_eq!(
        classify_result(&p, &plan, None),
        SlotResult {
            winner: None,
            reason: ResultReason::Missed,
            block_time: None,
        }
    );
    let empty = Scheduler::new(p, vec![]).plan(100).expect("plan");
    assert_eq!(
        classify_result(&p, &empty, None).reason,
        ResultReason::NoEligibleLeader
    );
    let anyone = Some(FirstAnchor {
        submitter: r[0],
        block_time: st + 6,
    });
    assert_eq!(
        classify_result(&p, &empty, anyone).reason,
        ResultReason::Unscheduled
    );
    assert_eq!(plan.may_act_after_ms(&p, &r[0]), Some(0));
    assert_eq!(plan.may_act_after_ms(&p, &r[2]), Some(10_000));
    assert_eq!(plan.may_act_after_ms(&p, &r[4]), None);
    assert_eq!(empty.may_act_after_ms(&p, &r[4]), Some(5_000));
    assert_eq!(plan.acting_time_ms(&p, &r[1]), Some(Ok(st * 1000 + 5_000)));
    let j = serde_json::to_value(c(r[1], st + 5)).expect("json");
    assert_eq!(
        j,
        serde_json::json!({"winner": crate::address::to_lower_hex(&r[1]), "reason": "fallback", "block_time": st + 5})
    );
    for (reason, name) in [
        (ResultReason::Late, "late"),
        (ResultReason::Unscheduled, "unscheduled"),
        (ResultReason::NoEligibleLeader, "no_eligible_leader"),
    ] {
        assert_eq!(serde_json::to_value(reason).expect("json"), name);
    }
}

/// The per-(node, slot) dedup used to be a linear scan (one node with many distinct sessions in
/// one slot made ingestion quadratic: 50k proofs ≈ 10^9 comparisons per kind), and every new
/// node allocated a window-sized beacon bitset (cheap throwaway keys exhausted memory). Both now
/// use hash sets: this runs in well under a second and holds one entry per distinct proof.
#[test]
fn dedup_is_hashed_and_memory_follows_proofs() {
    let p = Params::default();
    let mut t = tally_for(&p, 10);
    let a = addr(1);
    let s0 = window(&p, 10).start;
    const N: u64 = 50_000;
    for i in 0..N {
        t.add(&relay(a, s0, i, 1));
        t.add(&storage(a, s0, i, 0));
    }
    // Duplicates change nothing.
    for i in 0..1000 {
        t.add(&relay(a, s0, i, 1));
        t.add(&storage(a, s0, i, 3));
    }
    assert_eq!(t.work_at(&p, &a, s0), N);
    assert_eq!(t.entries(), 2 * N as usize);
    // 50k throwaway nodes with one beacon each: one entry each, not a window of bits each.
    let mut t = tally_for(&p, 10);
    for i in 0..50_000u64 {
        t.add(&TaskProof::beacon(addr(1000 + i), s0 + i % 5040));
    }
    assert_eq!(t.node_count(), 50_000);
    assert_eq!(t.entries(), 50_000);
    assert!(t.totals(&p).iter().all(|x| x.beacon_slots == 1));
    // A few bytes each (was 630 bytes each: a 5040-bit window).
    assert!(
        t.beacon_heap_bytes() <= 50_000 * 16,
        "{}",
        t.beacon_heap_bytes()
    );
    // A node beaconing in every slot ends up with the bitset: never more than range / 8 bytes.
    let mut t = tally_for(&p, 10);
    for s in window(&p, 10).rev() {
        t.add(&TaskProof::beacon(a, s));
        t.add(&TaskProof::beacon(a, s));
    }
    assert_eq!(t.totals(&p)[0].beacon_slots, 5040);
    assert_eq!(t.beacon_heap_bytes(), 5040_usize.div_ceil(64) * 8);
    // Sparse and dense agree on counts whatever the insertion order (with duplicates).
    let mut t = tally_for(&p, 10);
    let mut x = 12345u64;
    let mut want = std::collections::HashSet::new();
    for _ in 0..3000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let s = s0 + x % 5040;
        want.insert(s);
        t.add(&TaskProof::beacon(a, s));
    }
    assert_eq!(t.totals(&p)[0].beacon_slots, want.len() as u64);
}

#[test]
fn membership_filters_before_ranking() {
    let p = params(16, 3);
    let w = window(&p, 10);
    let (a, b) = (addr(1), addr(2));
    let mut all = Tally::new(w.clone());
    let mut members = Tally::with_scope(Scope::new(w.clone()).with_members([b]));
    for s in w.clone() {
        for t in [&mut all, &mut members] {
            t.add(&TaskProof::beacon(a, s));
            t.add(&TaskProof::beacon(b, s));
            t.add(&relay(a, s, 1, 2 * MIB5));
            t.add(&relay(b, s, 1, 1));
        }
    }
    let seed = B256::repeat_byte(1);
    assert_eq!(ranked(&all.scores(&p, 10, &seed)), vec![a, b]);
    let m = members.scores(&p, 10, &seed);
    assert_eq!(ranked(&m), vec![b]);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].rank, Some(1));
    assert!(!members.add(&TaskProof::beacon(a, w.start)));
}

#[test]
fn frozen_rows_and_tally_hash() {
    let p = Params::default();
    let seed = B256::repeat_byte(5);
    let tot: Vec<NodeTotals> = [9u64, 3, 7, 1]
        .iter()
        .map(|i| NodeTotals {
            node: addr(*i),
            credits: *i,
            beacon_slots: if *i == 7 { 10 } else { 5040 },
        })
        .collect();
    let sc = score_nodes(&p, 12, &seed, &tot);
    let rows = tally_rows(&sc);
    let ids: Vec<Address> = rows.iter().map(|r| r.node).collect();
    assert_eq!(ids, vec![addr(1), addr(3), addr(7), addr(9)]);
    // Our JCS equals RFC 8785 of the serde form (keys sorted, rank null when not eligible).
    let v = serde_json::to_value(&rows).expect("json");
    let jcs = serde_json_canonicalizer::to_string(&v).expect("jcs");
    assert_eq!(rows_jcs(&rows), jcs);
    assert!(
        jcs.starts_with(r#"[{"credits":1,"eligible":true,"entityId":"0xaa"#),
        "{jcs}"
    );
    assert!(jcs.contains(r#""liveScore":1984,"rank":null}"#), "{jcs}");
    assert_eq!(tally_hash(&rows), keccak256(jcs.as_bytes()));
    // Order of input does not matter; any change of a row changes the hash.
    let mut rev = sc.clone();
    rev.reverse();
    assert_eq!(tally_hash(&tally_rows(&rev)), tally_hash(&rows));
    let mut changed = rows.clone();
    changed[0].credits += 1;
    assert_ne!(tally_hash(&changed), tally_hash(&rows));
    // ranked() works on frozen rows.
    assert_eq!(ranked(&rows), ranked(&sc));
    assert_eq!(rows_jcs(&[]), "[]");
    // freeze_tally puts it together.
    let mut t = tally_for(&p, 12);
    let s0 = window(&p, 12).start;
    t.add(&relay(addr(4), s0, 1, 1));
    t.add(&TaskProof::beacon(addr(2), s0));
    let f = freeze_tally(&p, 12, &seed, &t);
    assert_eq!(f.params_hash, p.params_hash());
    assert_eq!(f.members, None);
    assert_eq!(f.rows.len(), 2);
    assert_eq!(f.rows[0].node, addr(2));
    assert_eq!(f.tally_hash, tally_hash(&f.rows));
}

#[test]
fn score_json_shape() {
    let p = Params::default();
    let tot = [NodeTotals {
        node: addr(1),
        credits: 3,
        beacon_slots: 5040,
    }];
    let sc = score_nodes(&p, 9, &B256::ZERO, &tot);
    let j = serde_json::to_value(&sc[0]).expect("json");
    assert_eq!(
        j,
        serde_json::json!({"epoch": 9, "entityId": crate::address::to_lower_hex(&addr(1)), "credits": 3, "liveScore": 1000000, "rank": 1, "eligible": true})
    );
}

// ---------- properties ----------

fn arb_proof(window: Range<u64>) -> impl Strategy<Value = TaskProof> {
    (0u64..12, window, 0u8..4, 0u64..4, 0u64..(3 * MIB5), 0u32..3).prop_map(
        |(n, slot, kind, s, amount, chunk)| match kind {
            0 => relay(addr(n), slot, s, amount),
            1 => storage(addr(n), slot, s, chunk),
            2 => validation(addr(n), slot, s),
            _ => TaskProof::beacon(addr(n), slot),
        },
    )
}

fn schedule_from(
    p: &Params,
    epoch: u64,
    seed: &B256,
    proofs: &[TaskProof],
) -> (Vec<NodeScore>, Vec<SlotPlan>) {
    let mut t = tally_for(p, epoch);
    for pr in proofs {
        t.add(pr);
    }
    let sc = t.scores(p, epoch, seed);
    let plans = sched(p, epoch, ranked(&sc), &[]);
    (sc, plans)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn schedule_deterministic_and_order_independent(
        proofs in prop::collection::vec(arb_proof(0..2160), 0..400),
        seed in any::<[u8; 32]>(),
        shuffle_seed in any::<u64>(),
    ) {
        // Small D_MIN-friendly setup: window of 3 days, epoch 3 (window is 0..2160).
        let p = crate::params::ParamValues { leader_window_days: 3, d_min_ppm: 100_000, cooldown_slots: 8, ..Default::default() }.build().expect("valid");
        let seed = B256::from(seed);
        // Make some nodes eligible: beacons in many slots.
        let mut all = proofs.clone();
        for n in 0..6u64 {
            for s in (0..2160).step_by(1 + n as usize * 2) {
                all.push(TaskProof::beacon(addr(n), s));
            }
        }
        let (sc1, pl1) = schedule_from(&p, 3, &seed, &all);
        let (sc2, pl2) = schedule_from(&p, 3, &seed, &all);
        prop_assert_eq!(&sc1, &sc2);
        prop_assert_eq!(&pl1, &pl2);
        // Permute (deterministic Fisher-Yates) and duplicate a few proofs.
        let mut shuffled = all.clone();
        let mut x = shuffle_seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let dups: Vec<TaskProof> = shuffled.iter().take(50).copied().collect();
        shuffled.extend(dups);
        let (sc3, pl3) = schedule_from(&p, 3, &seed, &shuffled);
        prop_assert_eq!(&sc1, &sc3);
        prop_assert_eq!(&pl1, &pl3);
    }

    #[test]
    fn schedule_invariants(
        n in 0usize..30,
        cooldown in 8u64..20,
        fallbacks in 1usize..8,
        wins in prop::collection::vec((0usize..30, 1u64..40), 0..10),
        epoch in 1u64..5,
    ) {
        let p = params(cooldown, fallbacks);
        let r: Vec<Address> = (0..n as u64).map(addr).collect();
        let start = start_of(&p, epoch);
        // Previous plans: one primary per slot (a planned primary may be anyone, even outside R).
        let mut prior: Vec<SlotPlan> = Vec::new();
        for (i, d) in &wins {
            if prior.iter().all(|x| x.slot != start - d) {
                prior.push(turn(&p, if *i < n { r[*i] } else { addr(500 + *i as u64) }, start - d));
            }
        }
        let plans = sched(&p, epoch, r.clone(), &prior);
        // Independent model of lastTurn.
        let mut last: HashMap<Address, u64> = HashMap::new();
        for x in &prior {
            let a = x.primary.expect("primary");
            let e = last.entry(a).or_insert(x.slot);
            *e = (*e).max(x.slot);
        }
        let cooling = |last: &HashMap<Address, u64>, a: &Address, s: u64| last.get(a).is_some_and(|w| s - w <= cooldown);
        for pl in &plans {
            match pl.plan_reason {
                PlanReason::NoEligibleLeader => {
                    prop_assert!(n == 0 && pl.primary.is_none() && pl.fallbacks.is_empty());
                }
                PlanReason::Ranked => {
                    let prim = pl.primary.expect("primary");
                    prop_assert!(!cooling(&last, &prim, pl.slot));
                    for f in &pl.fallbacks { prop_assert!(!cooling(&last, f, pl.slot)); }
                    // The primary is the best-ranked free node.
                    let first_free = r.iter().find(|a| !cooling(&last, a, pl.slot));
                    prop_assert_eq!(first_free, Some(&prim));
                }
                PlanReason::CooldownRelaxed => {
                    prop_assert!(r.iter().all(|a| cooling(&last, a, pl.slot)));
                    // Ordered by lastTurn ascending, then rank.
                    let key = |a: &Address| (last.get(a).copied(), r.iter().position(|x| x == a));
                    let mut order = r.clone();
                    order.sort_by_key(key);
                    let prim = pl.primary.expect("primary");
                    prop_assert_eq!(order[0], prim);
                    prop_assert_eq!(&order[1..1 + pl.fallbacks.len()], &pl.fallbacks[..]);
                    prop_assert_eq!(pl.fallbacks.len(), fallbacks.min(n - 1));
                }
            }
            prop_assert!(pl.fallbacks.len() <= fallbacks);
            let mut seen = std::collections::HashSet::new();
            if let Some(prim) = pl.primary {
                prop_assert!(!pl.fallbacks.contains(&prim));
                seen.insert(prim);
                last.insert(prim, pl.slot);
            }
            for f in &pl.fallbacks { prop_assert!(seen.insert(*f), "duplicate fallback"); }
        }
    }
}
