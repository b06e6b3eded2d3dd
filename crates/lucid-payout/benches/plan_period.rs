//! Benchmark: plan a period for N nodes (default 10,000) from a month of proofs (default 100
//! relay proofs per node, spread over the month's 22,320 slots): credits_month (lucid-core's
//! tally), inputs_hash, amounts, routers, the Merkle tree with every proof. Prints wall time per
//! phase and the process's peak RSS (VmHWM).
//!
//! `cargo bench -p lucid-payout --bench plan_period` (env: PLAN_NODES, PLAN_PROOFS_PER_NODE).

use std::collections::BTreeMap;
use std::time::Instant;

use alloy_primitives::{Address, B256, U256, keccak256};
use lucid_core::Params;
use lucid_core::proof::{ProofKind, TaskProof};
use lucid_core::session::SessionId;
use lucid_payout::plan::{
    Attestation, Month, PlanInput, RouterLimits, inputs_hash, month_credits, plan,
};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let nodes = env("PLAN_NODES", 10_000);
    let per = env("PLAN_PROOFS_PER_NODE", 100);
    let params = Params::default();
    let month = Month::parse("2026-10").unwrap_or(Month {
        year: 2026,
        month: 10,
    });
    let slots = params.slots_starting_in(month.start_unix(), month.end_unix());
    let span = slots.end - slots.start;
    let t0 = Instant::now();
    let mut proofs = Vec::with_capacity((nodes * per) as usize);
    let mut ids = Vec::with_capacity((nodes * per) as usize);
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    for n in 0..nodes {
        let mut a = [0u8; 20];
        a[..8].copy_from_slice(&keccak256(n.to_be_bytes())[..8]);
        let node = Address::from(a);
        for i in 0..per {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            proofs.push(TaskProof {
                node_id: node,
                slot: slots.start + (i * span / per + x % 17).min(span - 1),
                kind: ProofKind::RelayBandwidth,
                session_id: SessionId::NIL,
                amount: (x % 64) << 20,
                chunk_index: 0,
                digest: B256::ZERO,
            });
            ids.push(B256::from(U256::from(n * per + i)));
        }
    }
    let gen_s = t0.elapsed().as_secs_f64();
    let rss_inputs = peak_rss_kib();

    let t1 = Instant::now();
    let credits = month_credits(&params, month, None, &proofs);
    let credits_s = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let ih = inputs_hash(ids);
    let hash_s = t2.elapsed().as_secs_f64();
    // Every 10th node has a KYC attestation; every 7th a carry.
    let attestations: Vec<Attestation> = credits
        .keys()
        .step_by(10)
        .map(|a| Attestation {
            to: *a,
            kyc_hash: keccak256(a.as_slice()),
            expiry: month.end_unix() + 365 * 86_400,
            sig: vec![1u8; 65].into(),
            revoked: false,
        })
        .collect();
    let carries: BTreeMap<Address, U256> = credits
        .keys()
        .step_by(7)
        .map(|a| (*a, U256::from(3_000_000u64)))
        .collect();
    let input = PlanInput {
        period: month.period(),
        pool: U256::from(50_000_000_000u64),
        planned_at: month.end_unix(),
        members: None,
        credits,
        carries,
        recipients: BTreeMap::new(),
        attestations,
        router_v0: Address::repeat_byte(0xa0),
        router_kyc: Address::repeat_byte(0xb0),
        limits_v0: RouterLimits {
            min_payout: U256::from(10_000_000u64),
            max_per_payout: U256::from(1_000_000_000u64),
        },
        limits_kyc: RouterLimits {
            min_payout: U256::from(10_000_000u64),
            max_per_payout: U256::from(5_000_000_000u64),
        },
    };
    let t3 = Instant::now();
    let p = plan(&input).unwrap_or_else(|e| panic!("plan: {e}"));
    let plan_s = t3.elapsed().as_secs_f64();
    let planned = p.rows.iter().filter(|r| r.leaf.is_some()).count();
    println!(
        "plan_period nodes={nodes} proofs={} (generated in {gen_s:.2} s, peak RSS {} MiB)",
        proofs.len(),
        rss_inputs / 1024
    );
    println!("  credits_month: {credits_s:.3} s");
    println!("  inputs_hash:   {hash_s:.3} s ({ih:#x})");
    println!(
        "  plan + tree:   {plan_s:.3} s ({} rows, {planned} planned, total {})",
        p.rows.len(),
        p.total
    );
    println!(
        "  planning total {:.3} s; peak RSS {} MiB",
        credits_s + hash_s + plan_s,
        peak_rss_kib() / 1024
    );
}
