//! `just bench-indexer` (ignored in the test run): backfill of N events (`LUCID_BENCH_EVENTS`,
//! default 100,000; 100 per block) from a local anvil into the store named by `LUCID_BENCH_STORE`
//! (default a fresh SQLite file), then live latency. Prints events/s end to end and the RPC / store
//! split from the indexer's own metrics. Figures go to docs/benchmarks.md.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: just bench-indexer"]
async fn bench_backfill_and_live() {
    let n: u64 = std::env::var("LUCID_BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let anvil = Anvil::start(31337);
    let url = anvil.url();
    let emitter = deploy_emitter(&url).await;
    rpc(&url, "evm_setAutomine", json!([false])).await;
    let t = Instant::now();
    let mut i = 0;
    while i < n {
        for k in i..(i + 100).min(n) {
            emit(&url, emitter, k).await;
        }
        rpc(&url, "evm_mine", json!([])).await;
        i += 100;
    }
    rpc(&url, "evm_setAutomine", json!([true])).await;
    eprintln!("emitted {n} events in {:.1} s", t.elapsed().as_secs_f64());
    let (_dir, sqlite) = sqlite_url();
    let store_url = std::env::var("LUCID_BENCH_STORE").unwrap_or(sqlite);
    let t = Instant::now();
    let mut ix = Indexer::onsystem(&url, emitter, &store_url, &["--max-range", "2000"]);
    ix.wait_checkpoint(31337, head(&url).await, Duration::from_secs(3600))
        .await;
    let secs = t.elapsed().as_secs_f64();
    let m = ix.get("/metrics").await.1.as_str().unwrap().to_owned();
    let rpc_s = metric(&m, "lucid_indexer_rpc_seconds_total");
    let store_s = metric(&m, "lucid_indexer_store_seconds_total");
    println!(
        "backfill: {n} events in {secs:.2} s = {:.0} events/s end to end (process start included); RPC {rpc_s:.2} s, store {store_s:.2} s ({:.0} events/s store only)",
        n as f64 / secs,
        n as f64 / store_s
    );
    // Live: one event per block, 200 blocks, poll 100 ms.
    for k in 0..200 {
        emit(&url, emitter, n + k).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ix.wait_checkpoint(31337, head(&url).await, Duration::from_secs(60))
        .await;
    let m = ix.get("/metrics").await.1.as_str().unwrap().to_owned();
    let p50 = metric(
        &m,
        "lucid_indexer_live_latency_seconds{chain=\"31337\",quantile=\"0.5\"}",
    );
    let p99 = metric(
        &m,
        "lucid_indexer_live_latency_seconds{chain=\"31337\",quantile=\"0.99\"}",
    );
    println!(
        "live (poll 100 ms): p50 {:.0} ms, p99 {:.0} ms",
        p50 * 1000.0,
        p99 * 1000.0
    );
    ix.terminate();
}
