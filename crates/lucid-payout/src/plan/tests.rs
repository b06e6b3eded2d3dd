//! Hand-computed cases for every SPEC §4 "Payout amounts" rule.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::leaf::payout_leaf;
use lucid_core::merkle::verify;
use lucid_core::proof::ProofKind;
use lucid_core::session::SessionId;

const USDT: u64 = MICRO;
const T0: u64 = 1_793_491_200; // 2026-11-01T00:00:00Z: planning time of 2026-10
const P: u32 = 2026 * 12 + 9;

fn a(i: u8) -> Address {
    Address::repeat_byte(i)
}
fn u(x: u64) -> U256 {
    U256::from(x)
}

fn input() -> PlanInput {
    PlanInput {
        period: P,
        pool: U256::ZERO,
        planned_at: T0,
        members: None,
        credits: BTreeMap::new(),
        carries: BTreeMap::new(),
        recipients: BTreeMap::new(),
        attestations: Vec::new(),
        router_v0: a(0xa0),
        router_kyc: a(0xb0),
        limits_v0: RouterLimits {
            min_payout: u(10 * USDT),
            max_per_payout: u(1_000 * USDT),
        },
        limits_kyc: RouterLimits {
            min_payout: u(10 * USDT),
            max_per_payout: u(5_000 * USDT),
        },
    }
}

fn row(p: &Plan, node: Address) -> &PlanRow {
    p.rows.iter().find(|r| r.node_id == node).unwrap()
}

fn check_tree(inp: &PlanInput, p: &Plan) {
    let mut total = U256::ZERO;
    for r in p.rows.iter().filter(|r| r.status == PlanStatus::Planned) {
        let router = match r.router {
            RouterKind::V0 => inp.router_v0,
            RouterKind::Kyc => inp.router_kyc,
        };
        let l = payout_leaf(router, p.period, r.recipient, r.amount);
        assert_eq!(r.leaf, Some(l));
        assert!(verify(&r.proof, &p.root.unwrap(), &l));
        total += r.amount;
    }
    assert_eq!(p.total, total);
    for w in p.rows.windows(2) {
        assert!(w[0].recipient < w[1].recipient);
    }
}

#[test]
fn months_and_periods() {
    let m = Month::parse("2026-10").unwrap();
    assert_eq!(m.period(), 24321);
    assert_eq!(m.start_unix(), 1_790_812_800);
    assert_eq!(m.end_unix(), 1_793_491_200);
    assert_eq!(Month::parse("2026-12").unwrap().end_unix(), 1_798_761_600);
    assert_eq!(Month::parse("2024-02").unwrap().end_unix(), 1_709_251_200);
    assert_eq!(Month::parse("1970-01").unwrap().start_unix(), 0);
    assert_eq!(Month::from_period(24321), m);
    assert_eq!(m.to_string(), "2026-10");
    for bad in [
        "2026-1", "26-10", "2026/10", "2026-1a", "", "2026-100", " 2026-10",
    ] {
        assert!(
            matches!(Month::parse(bad), Err(PeriodError::Malformed(_))),
            "{bad}"
        );
    }
    for bad in ["2026-13", "2026-00", "1969-12"] {
        assert!(
            matches!(Month::parse(bad), Err(PeriodError::OutOfRange(_))),
            "{bad}"
        );
    }
    // Slots of the month with the default genesis (2024-01-01, 120 s slots).
    let p = Params::default();
    assert_eq!(
        p.slots_starting_in(m.start_unix(), m.end_unix()),
        722_880..745_200
    );
}

#[test]
fn usdt_amounts_parse_exactly() {
    assert_eq!(parse_usdt("50000").unwrap(), u(50_000 * USDT));
    assert_eq!(parse_usdt("50000.5").unwrap(), u(50_000_500_000));
    assert_eq!(parse_usdt("0.000001").unwrap(), u(1));
    assert_eq!(parse_usdt("007.250").unwrap(), u(7_250_000));
    assert_eq!(parse_usdt("0").unwrap(), U256::ZERO);
    assert_eq!(parse_usdt(" 12 ").unwrap(), u(12 * USDT));
    assert_eq!(parse_usdt("-1"), Err(AmountError::Negative("-1".into())));
    assert_eq!(
        parse_usdt("-0.5"),
        Err(AmountError::Negative("-0.5".into()))
    );
    assert_eq!(
        parse_usdt("1.0000001"),
        Err(AmountError::TooPrecise("1.0000001".into()))
    );
    for bad in [
        "1e6", ".5", "5.", "1,000", "+5", "1.2.3", "abc", "0x10", "1 000",
    ] {
        assert!(
            matches!(parse_usdt(bad), Err(AmountError::Malformed(_))),
            "{bad}"
        );
    }
    assert_eq!(parse_usdt(""), Err(AmountError::Empty));
    assert!(matches!(
        parse_usdt(&"9".repeat(31)),
        Err(AmountError::TooLarge(_))
    ));
    assert_eq!(format_usdt(u(50_000_500_000)), "50000.5");
    assert_eq!(format_usdt(u(10 * USDT)), "10");
    assert_eq!(format_usdt(u(1)), "0.000001");
}

#[test]
fn rounding_and_pool_remainder() {
    // pool 1000.000001 USDT, credits 1 : 2 → floor(1000000001/3) = 333333333,
    // floor(2000000002/3) = 666666667; 1 micro-USDT is left and not paid.
    let mut inp = input();
    inp.pool = u(1_000_000_001);
    inp.credits = [(a(1), 1), (a(2), 2)].into();
    let p = plan(&inp).unwrap();
    assert_eq!(row(&p, a(1)).gross, u(333_333_333));
    assert_eq!(row(&p, a(2)).gross, u(666_666_667));
    assert_eq!(row(&p, a(1)).amount, u(333_333_333));
    assert_eq!(p.total, u(1_000_000_000));
    assert_eq!(p.remainder, u(1));
    assert!(p.rows.iter().all(|r| r.carry_out.is_zero()));
    check_tree(&inp, &p);
    // Zero credits everywhere: the share is 0, nobody without a carry gets a row.
    let mut inp = input();
    inp.pool = u(1_000 * USDT);
    let p = plan(&inp).unwrap();
    assert!(p.rows.is_empty() && p.root.is_none() && p.total.is_zero());
    assert_eq!(p.remainder, u(1_000 * USDT));
}

#[test]
fn maximum_carries_the_excess_and_carry_comes_back() {
    // pool 3000 USDT, credits 1 : 2 → 1000 and 2000; V0 max 1000: B gets 1000, carries 1000.
    let mut inp = input();
    inp.pool = u(3_000 * USDT);
    inp.credits = [(a(1), 1), (a(2), 2)].into();
    let p = plan(&inp).unwrap();
    let b = row(&p, a(2));
    assert_eq!(
        (b.gross, b.amount, b.carry_out),
        (u(2_000 * USDT), u(1_000 * USDT), u(1_000 * USDT))
    );
    assert_eq!(b.status, PlanStatus::Planned);
    assert_eq!(row(&p, a(1)).amount, u(1_000 * USDT));
    check_tree(&inp, &p);
    // Next month: B has no credits but its carry; A has all the credits of a 500 USDT pool.
    let mut next = input();
    next.period = P + 1;
    next.pool = u(500 * USDT);
    next.credits = [(a(1), 7)].into();
    next.carries = [(a(2), b.carry_out), (a(1), U256::ZERO)].into();
    let q = plan(&next).unwrap();
    let b2 = row(&q, a(2));
    assert_eq!(
        (b2.credits, b2.carry_in, b2.gross),
        (0, u(1_000 * USDT), u(1_000 * USDT))
    );
    assert_eq!((b2.amount, b2.carry_out), (u(1_000 * USDT), U256::ZERO));
    assert_eq!(row(&q, a(1)).gross, u(500 * USDT));
    check_tree(&next, &q);
}

#[test]
fn below_minimum_rolls_over_whole_gross() {
    // pool 1009.999999 USDT, credits 100 : 1 → A 999.999999 (floor of 100/101 × …), B 9.999999:
    // B is below 10 USDT: rolled over, the whole gross carried, no leaf.
    let mut inp = input();
    inp.pool = u(1_009_999_999);
    inp.credits = [(a(1), 100), (a(2), 1)].into();
    let p = plan(&inp).unwrap();
    let b = row(&p, a(2));
    // floor(1009999999 × 1 / 101) = 9999999 (101 × 9999999 = 1009999899)
    assert_eq!(b.gross, u(9_999_999));
    assert_eq!(b.status, PlanStatus::RolledOver);
    assert_eq!((b.amount, b.carry_out), (U256::ZERO, u(9_999_999)));
    assert!(b.leaf.is_none() && b.proof.is_empty());
    // floor(1009999999 × 100 / 101) = 999999999 (101 × 999999999 = 100999999899, rest 100)
    assert_eq!(row(&p, a(1)).amount, u(999_999_999));
    assert_eq!(p.total, u(999_999_999));
    assert_eq!(p.remainder, u(1));
    check_tree(&inp, &p);
    // Next month: carry 9.999999 + share 0.000001 = exactly the minimum → planned.
    let mut next = input();
    next.period = P + 1;
    next.pool = u(1);
    next.credits = [(a(2), 5)].into();
    next.carries = [(a(2), b.carry_out)].into();
    let q = plan(&next).unwrap();
    let b2 = row(&q, a(2));
    assert_eq!(
        (b2.gross, b2.amount, b2.status),
        (u(10 * USDT), u(10 * USDT), PlanStatus::Planned)
    );
    assert_eq!(q.root, b2.leaf);
    // A plan where everybody rolls over sets no root.
    let mut all_small = input();
    all_small.pool = u(5 * USDT);
    all_small.credits = [(a(1), 1)].into();
    let z = plan(&all_small).unwrap();
    assert_eq!(z.root, None);
    assert_eq!(z.rows[0].status, PlanStatus::RolledOver);
}

#[test]
fn kyc_router_needs_30_days_of_validity_and_has_its_own_maximum() {
    let att = |to: Address, expiry: u64, revoked: bool, h: u8| Attestation {
        to,
        kyc_hash: B256::repeat_byte(h),
        expiry,
        sig: vec![1u8; 65].into(),
        revoked,
    };
    let mut inp = input();
    inp.pool = u(12_000 * USDT);
    inp.credits = [(a(1), 1), (a(2), 1), (a(3), 1), (a(4), 1)].into();
    inp.attestations = vec![
        att(a(1), T0 + KYC_MIN_VALIDITY_SEC, false, 1), // exactly 30 days: KYC
        att(a(2), T0 + KYC_MIN_VALIDITY_SEC - 1, false, 2), // one second short: V0
        att(a(3), T0 + 365 * DAY_SEC, true, 3),         // revoked: V0
        att(a(4), T0 + 40 * DAY_SEC, false, 4),
        att(a(4), T0 + 90 * DAY_SEC, false, 5), // the latest expiry is used
    ];
    let p = plan(&inp).unwrap();
    // Each gross is 3000 USDT.
    let r1 = row(&p, a(1));
    assert_eq!(
        (r1.router, r1.amount, r1.carry_out),
        (RouterKind::Kyc, u(3_000 * USDT), U256::ZERO)
    );
    assert_eq!(
        r1.attestation.as_ref().unwrap().kyc_hash,
        B256::repeat_byte(1)
    );
    let r2 = row(&p, a(2));
    assert_eq!(
        (r2.router, r2.amount, r2.carry_out),
        (RouterKind::V0, u(1_000 * USDT), u(2_000 * USDT))
    );
    assert!(r2.attestation.is_none());
    assert_eq!(row(&p, a(3)).router, RouterKind::V0);
    let r4 = row(&p, a(4));
    assert_eq!(r4.router, RouterKind::Kyc);
    assert_eq!(
        r4.attestation.as_ref().unwrap().kyc_hash,
        B256::repeat_byte(5)
    );
    check_tree(&inp, &p);
    // The KYC leaf names the KYC router: it cannot be paid by V0 (different leaf).
    assert_ne!(
        r1.leaf,
        Some(payout_leaf(inp.router_v0, P, a(1), r1.amount))
    );
}

#[test]
fn recipient_override_changes_recipient_payout_id_and_leaf() {
    let mut inp = input();
    inp.pool = u(100 * USDT);
    inp.credits = [(a(1), 1), (a(2), 1)].into();
    inp.recipients = [(a(1), a(0x55))].into();
    let p = plan(&inp).unwrap();
    let r = row(&p, a(1));
    assert_eq!(r.recipient, a(0x55));
    assert_eq!(r.payout_id, crate::leaf::payout_id(P, a(0x55)));
    assert_eq!(
        r.leaf,
        Some(payout_leaf(inp.router_v0, P, a(0x55), u(50 * USDT)))
    );
    assert_eq!(row(&p, a(2)).recipient, a(2));
    // Rows ordered by recipient: a(2) < a(0x55).
    assert_eq!(p.rows[0].node_id, a(2));
    check_tree(&inp, &p);
    // A collision that slipped through (overrides not filtered) is refused.
    inp.recipients = [(a(1), a(2))].into();
    assert!(matches!(
        plan(&inp),
        Err(PlanError::RecipientCollision { recipient, .. }) if recipient == a(2)
    ));
    inp.recipients = [(a(1), Address::ZERO)].into();
    assert_eq!(plan(&inp), Err(PlanError::ZeroRecipient(a(1))));
}

#[test]
fn members_only() {
    // X (not a member) has credits and a carry: it has no row and its credits do not dilute.
    let mut inp = input();
    inp.pool = u(100 * USDT);
    inp.members = Some([a(1), a(2)].into());
    inp.credits = [(a(1), 1), (a(9), 1)].into();
    inp.carries = [(a(9), u(50 * USDT)), (a(2), u(20 * USDT))].into();
    let p = plan(&inp).unwrap();
    assert_eq!(p.rows.len(), 2);
    assert_eq!(row(&p, a(1)).gross, u(100 * USDT));
    assert_eq!(row(&p, a(2)).gross, u(20 * USDT));
    assert!(p.rows.iter().all(|r| r.node_id != a(9)));
    check_tree(&inp, &p);
}

#[test]
fn lapsed_attestation_stays_planned_is_paid_with_a_fresh_one_and_never_carried() {
    let old = Attestation {
        to: a(1),
        kyc_hash: B256::repeat_byte(1),
        expiry: T0 + 31 * DAY_SEC,
        sig: vec![1u8; 65].into(),
        revoked: false,
    };
    let mut inp = input();
    inp.pool = u(2_000 * USDT);
    inp.credits = [(a(1), 1)].into();
    inp.attestations = vec![old.clone()];
    let p = plan(&inp).unwrap();
    let r = row(&p, a(1)).clone();
    assert_eq!(
        (r.router, r.amount, r.carry_out),
        (RouterKind::Kyc, u(2_000 * USDT), U256::ZERO)
    );
    // Executed after the expiry: no usable attestation, the payout waits (still planned).
    let now = old.expiry;
    assert!(best_attestation([&old], &a(1), |x| x.valid_at(now)).is_none());
    // A fresh attestation for the same recipient makes it payable, same leaf (kycHash is not in it).
    let fresh = Attestation {
        kyc_hash: B256::repeat_byte(2),
        expiry: now + 100 * DAY_SEC,
        ..old.clone()
    };
    let other = Attestation {
        to: a(2),
        ..fresh.clone()
    };
    let got = best_attestation([&old, &other, &fresh], &a(1), |x| x.valid_at(now)).unwrap();
    assert_eq!(got.kyc_hash, B256::repeat_byte(2));
    // The next month's plan takes the carry_out (0), not the unpaid amount: it is never carried,
    // so it can never be paid twice.
    let mut next = input();
    next.period = P + 1;
    next.pool = u(100 * USDT);
    next.credits = [(a(1), 1)].into();
    next.carries = [(a(1), r.carry_out)].into();
    let q = plan(&next).unwrap();
    assert_eq!(row(&q, a(1)).gross, u(100 * USDT));
    assert_ne!(row(&q, a(1)).payout_id, r.payout_id);
}

#[test]
fn execution_order_and_daily_fitting() {
    let pay = |to: u8, amt: u64, h: Option<u8>| Payable {
        payout_id: crate::leaf::payout_id(P, a(to)),
        to: a(to),
        amount: u(amt * USDT),
        kyc_hash: h.map(B256::repeat_byte),
    };
    let mut items = vec![
        pay(1, 300, None),
        pay(3, 500, None),
        pay(2, 600, None),
        pay(4, 500, None),
    ];
    execution_order(&mut items);
    let order: Vec<u8> = items.iter().map(|p| p.to.0[0]).collect();
    assert_eq!(order, vec![2, 3, 4, 1]); // 600, 500 (a3 < a4), 500, 300
    let budget = DayBudget {
        min_payout: u(10 * USDT),
        max_per_payout: u(1_000 * USDT),
        remaining_today: u(1_000 * USDT),
        recipient_daily_limit: None,
        recipient_spent: BTreeMap::new(),
        period_remaining: u(1_900 * USDT),
    };
    let (fit, wait) = fit_day(&items, &budget);
    // 600 fits (400 left), both 500s wait, 300 fits (100 left). Never split.
    assert_eq!(
        fit.iter().map(|p| p.to.0[0]).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!(wait.len(), 2);
    assert!(wait.iter().all(|(_, w)| *w == Wait::DailyLimit));
    // The next day: the rest fits.
    let rest: Vec<Payable> = wait.into_iter().map(|(p, _)| p).collect();
    let (fit2, wait2) = fit_day(
        &rest,
        &DayBudget {
            period_remaining: u(1_000 * USDT),
            ..budget.clone()
        },
    );
    assert_eq!(fit2.len(), 2);
    assert!(wait2.is_empty());
    // Limits changed after planning: outside the window waits with its own reason.
    let small = DayBudget {
        max_per_payout: u(400 * USDT),
        ..budget.clone()
    };
    let (f, w) = fit_day(&[pay(9, 500, None)], &small);
    assert!(f.is_empty() && w[0].1 == Wait::OutsideLimits);
    // The period's remaining total.
    let tight = DayBudget {
        period_remaining: u(100 * USDT),
        ..budget.clone()
    };
    assert_eq!(
        fit_day(&[pay(9, 500, None)], &tight).1[0].1,
        Wait::PeriodTotal
    );
    // KYC: per-recipient (kycHash) daily limit, with what the hash already got today.
    let kyc = DayBudget {
        max_per_payout: u(5_000 * USDT),
        remaining_today: u(50_000 * USDT),
        recipient_daily_limit: Some(u(10_000 * USDT)),
        recipient_spent: [(B256::repeat_byte(7), u(6_000 * USDT))].into(),
        period_remaining: u(50_000 * USDT),
        ..budget
    };
    let (f, w) = fit_day(
        &[
            pay(1, 5_000, Some(7)),
            pay(2, 4_000, Some(7)),
            pay(3, 5_000, Some(8)),
        ],
        &kyc,
    );
    assert_eq!(f.iter().map(|p| p.to.0[0]).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(w[0].0.to, a(1));
}

#[test]
fn month_credits_members_only_duplicates_once_and_month_slots_only() {
    let params = Params::default();
    let m = Month::parse("2026-10").unwrap();
    let range = params.slots_starting_in(m.start_unix(), m.end_unix());
    let relay = |node: u8, slot: u64, mib: u64| TaskProof {
        node_id: a(node),
        slot,
        kind: ProofKind::RelayBandwidth,
        session_id: SessionId::NIL,
        amount: mib << 20,
        chunk_index: 0,
        digest: B256::ZERO,
    };
    let proofs = vec![
        relay(1, range.start, 5),             // 1 credit
        relay(1, range.start, 5),             // exact duplicate: once
        relay(1, range.start + 1, 11),        // ceil(11 / 5) = 3
        relay(1, range.start - 1, 50),        // September: not counted
        relay(1, range.end, 50),              // November: not counted
        relay(1, range.end - 1, 1),           // last slot of October: 1
        relay(2, range.start, 5),             // a non-member
        TaskProof::beacon(a(3), range.start), // no work
    ];
    let members: BTreeSet<Address> = [a(1), a(3)].into();
    let c = month_credits(&params, m, Some(&members), &proofs);
    assert_eq!(c, [(a(1), 5)].into());
    let everyone = month_credits(&params, m, None, &proofs);
    assert_eq!(everyone, [(a(1), 5), (a(2), 1)].into());
}

#[test]
fn inputs_hash_is_order_free() {
    let ids = vec![B256::repeat_byte(2), B256::repeat_byte(1)];
    let mut buf = Vec::new();
    buf.extend_from_slice(B256::repeat_byte(1).as_slice());
    buf.extend_from_slice(B256::repeat_byte(2).as_slice());
    assert_eq!(inputs_hash(ids.clone()), keccak256(&buf));
    let mut rev = ids;
    rev.reverse();
    assert_eq!(inputs_hash(rev), keccak256(&buf));
}
