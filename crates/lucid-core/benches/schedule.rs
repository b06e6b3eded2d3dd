//! Ranking and scheduling one epoch (720 slots) for 100,000 eligible nodes.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use alloy_primitives::{Address, B256, keccak256};
use criterion::{Criterion, criterion_group, criterion_main};
use lucid_core::Params;
use lucid_core::poot::{NodeTotals, ranked, schedule_epoch, score_nodes};

const NODES: u64 = 100_000;

fn bench(c: &mut Criterion) {
    let params = Params::default();
    let window = params.window_slots();
    let totals: Vec<NodeTotals> = (0..NODES)
        .map(|i| NodeTotals {
            node: Address::from_slice(&keccak256(i.to_be_bytes())[12..]),
            credits: 1 + (i * 7919) % 5000,
            beacon_slots: window / 2 + i % (window / 2),
        })
        .collect();
    let seed = B256::repeat_byte(0x42);
    let epoch = 1000;
    let scores = score_nodes(&params, epoch, &seed, &totals);
    assert_eq!(scores.iter().filter(|s| s.eligible).count() as u64, NODES);
    let r = ranked(&scores);

    let mut g = c.benchmark_group("schedule_100k");
    g.sample_size(10);
    g.bench_function("rank_and_schedule_epoch", |b| {
        b.iter(|| {
            let s = score_nodes(&params, epoch, &seed, black_box(&totals));
            let plans = schedule_epoch(&params, epoch, ranked(&s), &[]).unwrap();
            assert_eq!(plans.len(), 720);
            black_box(plans)
        })
    });
    g.bench_function("schedule_epoch_only", |b| {
        b.iter(|| {
            let plans = schedule_epoch(&params, epoch, black_box(r.clone()), &[]).unwrap();
            black_box(plans)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
