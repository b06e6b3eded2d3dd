//! Benchmarks of `lucid-keeper run` (issue 9), run by `just bench-keeper` (release build):
//!
//! 1. proof intake: `POST /v1/proofs` end to end (HTTP, parse, verify, store in SQLite), proofs from
//!    `lucid-keeper simulate`, posted from this process (not the keeper's) in JSON-Lines bodies of
//!    `LUCID_BENCH_BODY` proofs (default 20,000), two requests in flight;
//! 2. anchoring: `LUCID_BENCH_SESSIONS` sessions (default 1,000) posted over HTTP, anchored by the
//!    daemon in batches of 100 (LUCID_MAX_BATCH) until every one is `anchored` in the store, chain
//!    time moved to the next slot as soon as a slot is anchored (anvil mines a block a second);
//! 3. gas per session of those anchoring transactions (the receipts' gasUsed / sessions).
//!
//! Ignored in normal runs; figures go to docs/benchmarks.md.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};
use common::*;
use futures::StreamExt;
use lucid_store::SessionStatus;
use serde_json::json;

/// Posts every body to `url`, two requests in flight; the answers in completion order.
async fn post_all(url: &str, bodies: Vec<String>) -> Vec<(u16, serde_json::Value)> {
    futures::stream::iter(bodies)
        .map(|b| async move { post(url, b, None).await })
        .buffer_unordered(2)
        .collect()
        .await
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const SLOTS_BACK: u64 = 10 * 720; // chain time in epoch 10, so simulate's window is in the past

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: just bench-keeper"]
async fn bench_keeper_daemon() {
    let chain = Chain::start(lucid_e2e::test_chain_id()).await;
    let cid = chain.chain_id;
    let now = chain.now().await;
    let genesis = now - SLOTS_BACK * 120;
    let d = deploy(&chain, genesis, &[addr(KEYS[0])]).await;
    let dir = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}", dir.path().join("store.db").display());
    let mut k = Keeper::spawn(&KeeperConfig {
        chain: &chain,
        d,
        key: KEYS[0],
        store: &store_url,
        state_dir: &dir.path().join("state"),
        log_dir: dir.path(),
        extra_env: vec![
            ("LUCID_MAX_BATCH", "100".into()),
            ("RUST_LOG", "warn".into()),
        ],
    });
    k.wait_ready().await;
    let store = lucid_store::open(Some(&store_url)).await.unwrap();

    // ---- 1. proof intake
    let nodes = env_u64("LUCID_BENCH_NODES", 500);
    let slots = env_u64("LUCID_BENCH_SLOTS", 300);
    let per_body = env_u64("LUCID_BENCH_BODY", 20_000) as usize;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lucid-keeper"))
        .args(["simulate", "--nodes", &nodes.to_string(), "--epoch", "10"])
        .args(["--chain-id", &cid.to_string(), "--seed", "bench"])
        .args(["--slots", &slots.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    let total = lines.len();
    let bodies: Vec<String> = lines.chunks(per_body).map(|c| c.join("\n")).collect();
    let url = k.url("/v1/proofs");
    let t0 = Instant::now();
    let answers = post_all(&url, bodies.clone()).await;
    let intake = t0.elapsed();
    let accepted: u64 = answers
        .iter()
        .map(|(st, v)| {
            assert_eq!(*st, 200, "{v}");
            v["accepted"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(
        accepted as usize, total,
        "every simulated proof is accepted"
    );
    // The same bodies again: all duplicates (lookup path).
    let t1 = Instant::now();
    let again = post_all(&url, bodies).await;
    let dup_time = t1.elapsed();
    let dups: u64 = again
        .iter()
        .map(|(_, v)| v["duplicate"].as_u64().unwrap())
        .sum();
    assert_eq!(dups as usize, total);
    println!(
        "BENCH intake: {total} proofs ({nodes} nodes x {slots} slots, bodies of {per_body}) in {:.2} s = {:.0} proofs/s stored; resubmitted (all duplicate) in {:.2} s = {:.0} proofs/s",
        intake.as_secs_f64(),
        total as f64 / intake.as_secs_f64(),
        dup_time.as_secs_f64(),
        total as f64 / dup_time.as_secs_f64()
    );

    // ---- 2. anchoring throughput, 3. gas per session
    let n = env_u64("LUCID_BENCH_SESSIONS", 1000) as usize;
    let start = chain.now().await;
    let sessions: Vec<_> = (0..n)
        .map(|i| session(cid, d.anchors, 4, start - 1000 + i as u64))
        .collect();
    let ids: Vec<String> = sessions
        .iter()
        .map(|(b, _)| b["manifest"]["sessionId"].as_str().unwrap().to_owned())
        .collect();
    let t2 = Instant::now();
    for chunk in sessions.chunks(400) {
        let body = json!(chunk.iter().map(|(b, _)| b.clone()).collect::<Vec<_>>());
        let (st, v) = post(&k.url("/v1/sessions"), body.to_string(), Some(TOKEN)).await;
        assert_eq!(st, 200, "{v}");
    }
    let view = lucid_keeper::daemon::chainview::ChainView {
        rpc: chain.rpc.clone(),
        anchors: d.anchors,
        start_block: 0,
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut slots_used = 0u64;
    loop {
        let page = store
            .sessions(
                &lucid_store::SessionQuery {
                    owner: None,
                    status: Some(SessionStatus::Pending),
                },
                None,
                1,
            )
            .await
            .unwrap();
        if page.items.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "anchoring did not finish:\n{}",
            k.log_text()
        );
        let t = chain.now().await;
        let slot = (t - genesis) / 120;
        if view.slot_submitter(slot).await.unwrap() != Address::ZERO {
            slots_used += 1;
            chain.warp_to(genesis + (slot + 1) * 120 + 6).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let anchoring = t2.elapsed();
    let mut per_tx: BTreeMap<B256, u64> = BTreeMap::new();
    for id in &ids {
        let s = store.session(id).await.unwrap().unwrap();
        assert_eq!(s.status, SessionStatus::Anchored);
        *per_tx.entry(s.anchor_txid.unwrap()).or_default() += 1;
    }
    let mut gas_full = Vec::new();
    for (tx, count) in &per_tx {
        let r = chain.req("eth_getTransactionReceipt", json!([tx])).await;
        let gas = u64::from_str_radix(r["gasUsed"].as_str().unwrap().trim_start_matches("0x"), 16)
            .unwrap();
        if *count == 100 {
            gas_full.push(gas as f64 / 100.0);
        }
    }
    let mean = gas_full.iter().sum::<f64>() / gas_full.len().max(1) as f64;
    let max = gas_full.iter().copied().fold(0.0, f64::max);
    println!(
        "BENCH anchoring: {n} sessions posted over HTTP -> anchored in the store in {:.1} s ({:.1} sessions/s; {} transactions, {} slots, chain time warped to each next slot once anchored)",
        anchoring.as_secs_f64(),
        n as f64 / anchoring.as_secs_f64(),
        per_tx.len(),
        slots_used.max(per_tx.len() as u64)
    );
    println!(
        "BENCH gas: {} batches of 100: mean {mean:.0} gas/session, max {max:.0} (limit 32,500)",
        gas_full.len()
    );
    assert!(max <= 32_500.0, "gas per session {max} above 32,500");
}
