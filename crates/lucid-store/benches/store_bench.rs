//! Events/s written in 1,000-event block ranges with their checkpoint: plain events, and
//! anchoring transactions (`SessionRegistered` + `SlotAnchored`, each deriving state).
//!
//! `cargo bench -p lucid-store --bench store_bench` — SQLite always; MongoDB when `MONGODB_URI`
//! is set, else against the SecantusDB *test server* (`lucid_e2e::secantus_server`: the repo's
//! `.venv/bin/secantusd-py`, installed by `tools/ensure-venv.sh` when missing, or
//! `LUCID_SECANTUSD`). The SecantusDB figure is a test-server figure, not a MongoDB figure.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256, U256};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lucid_core::models::{ChainEvent, Checkpoint};
use lucid_store::mongo::{MongoOptions, MongoStore};
use lucid_store::sqlite::SqliteStore;
use lucid_store::{BlockRange, Store};
use serde_json::json;

const RANGE_EVENTS: u64 = 1_000;
const EVENTS_PER_BLOCK: u64 = 10;

fn h32(n: u64) -> B256 {
    B256::from(U256::from(n))
}

/// Range `n` of 1,000 events. `anchoring`: each block is one anchoring transaction of 9
/// `SessionRegistered` and its `SlotAnchored` (every event derives a row and a session
/// document); otherwise `ChunkAnchored` events, which derive nothing.
fn range(chain: u64, n: u64, anchoring: bool) -> BlockRange {
    let first = n * (RANGE_EVENTS / EVENTS_PER_BLOCK);
    let mut events = Vec::with_capacity(RANGE_EVENTS as usize);
    for i in 0..RANGE_EVENTS {
        let block = first + i / EVENTS_PER_BLOCK;
        let log = i % EVENTS_PER_BLOCK;
        let tx = h32(block * 16 + if anchoring { 0 } else { log / 4 });
        let session = format!("0x{:032x}{}", n * RANGE_EVENTS + i, "0".repeat(32));
        let (name, args) = match (anchoring, log) {
            (false, _) => (
                "ChunkAnchored",
                json!({"sessionId": session, "index": log, "submitter": format!("0x{:040x}", 7),
                       "chunkHash": format!("0x{:064x}", i + 7)}),
            ),
            (true, 9) => (
                "SlotAnchored",
                json!({"slot": block, "submitter": format!("0x{:040x}", 7), "count": 9}),
            ),
            (true, _) => (
                "SessionRegistered",
                json!({"sessionId": session, "owner": format!("0x{:040x}", 5), "slot": block,
                       "manifestHash": format!("0x{:064x}", i + 1), "merkleRoot": format!("0x{:064x}", i + 2),
                       "startedAt": 1_700_000_000u64 + i, "chunkCount": 4}),
            ),
        };
        events.push(ChainEvent {
            id: ChainEvent::make_id(chain, &tx, log),
            chain_id: chain,
            address: Address::repeat_byte(0xa1),
            event: name.into(),
            block_number: block,
            block_hash: h32(block),
            block_time: 1_704_067_200 + block * 2,
            tx_hash: tx,
            log_index: log,
            args,
        });
    }
    let last = first + RANGE_EVENTS / EVENTS_PER_BLOCK - 1;
    BlockRange::new(
        Checkpoint {
            chain_id: chain,
            block_number: last,
            block_hash: h32(last),
        },
        events,
    )
}

fn bench_store(
    c: &mut Criterion,
    label: &str,
    rt: &tokio::runtime::Runtime,
    store: Arc<dyn Store>,
) {
    let mut g = c.benchmark_group("write_block_range");
    g.throughput(Throughput::Elements(RANGE_EVENTS));
    g.sample_size(10);
    g.sampling_mode(criterion::SamplingMode::Flat);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(3));
    for (chain, anchoring, kind) in [(1, false, "plain"), (2, true, "anchoring")] {
        let mut n = 0;
        g.bench_function(format!("{label}_{kind}"), |b| {
            b.iter_custom(|iters| {
                let ranges: Vec<BlockRange> =
                    (0..iters).map(|i| range(chain, n + i, anchoring)).collect();
                n += iters;
                let t = Instant::now();
                rt.block_on(async {
                    for r in &ranges {
                        store.write_block_range(r).await.unwrap();
                    }
                });
                t.elapsed()
            })
        });
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let sqlite: Arc<dyn Store> = Arc::new(rt.block_on(SqliteStore::open(&url)).unwrap());
    bench_store(c, "sqlite_1000_events", &rt, sqlite);

    let (uri, label) = match std::env::var("MONGODB_URI") {
        Ok(u) if !u.is_empty() => (u, "mongodb_1000_events"),
        _ => match lucid_e2e::secantus_server() {
            Ok(u) => (
                lucid_e2e::with_db(u, "lucid_bench"),
                "mongodb_test_server_secantusdb_1000_events",
            ),
            Err(e) => {
                eprintln!("no MongoDB test server ({e}): MongoDB bench skipped");
                return;
            }
        },
    };
    let mongo: Arc<dyn Store> = Arc::new(
        rt.block_on(MongoStore::open(&uri, MongoOptions::from_url(&uri)))
            .unwrap(),
    );
    bench_store(c, label, &rt, mongo);
}

criterion_group!(store_benches, benches);
criterion_main!(store_benches);
