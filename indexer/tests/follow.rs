//! The indexer against a real anvil (through a fault-injecting proxy where the case needs one): the
//! store always ends equal to `eth_getLogs` ground truth. Numbers refer to issue 8's list.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use serde_json::json;

const MIN: Duration = Duration::from_secs(60);

async fn open(url: &str) -> Arc<dyn lucid_store::Store> {
    lucid_store::open(Some(url)).await.unwrap()
}

/// Emits events in the background until stopped; returns how many.
fn emitter_task(
    url: String,
    emitter: alloy::primitives::Address,
    start: u64,
    stop: Arc<AtomicBool>,
    pace: Duration,
) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let n = AtomicU64::new(start);
        while !stop.load(Ordering::Relaxed) {
            emit(&url, emitter, n.fetch_add(1, Ordering::Relaxed)).await;
            tokio::time::sleep(pace).await;
        }
        n.load(Ordering::Relaxed) - start
    })
}

/// 1 + 2: events emitted all along a backfill and across repeated historical→live handoffs (SIGTERM
/// restarts, which must exit 0): exact store, never a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handoff_loses_nothing_and_duplicates_nothing() {
    let (_dir, store_url) = sqlite_url();
    handoff(&store_url, 150, 4).await;
}

/// 1 + 2 on the MongoDB test server (SecantusDB; transactions).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_handoff_loses_nothing_and_duplicates_nothing() {
    handoff(&mongo_url("lucid_handoff"), 60, 2).await;
}

async fn handoff(store_url: &str, before: u64, rounds: u32) {
    let store_url = store_url.to_owned();
    let (_anvil, url, emitter) = chain_with_events(before).await;
    let stop = Arc::new(AtomicBool::new(false));
    let bg = emitter_task(
        url.clone(),
        emitter,
        1000,
        stop.clone(),
        Duration::from_millis(15),
    );
    for round in 0..rounds {
        // Small ranges: the backfill takes many steps while events keep coming; at most 5 logs per
        // range, so the next range is read while one is written (and SIGTERM lands in that).
        let mut ix = Indexer::onsystem(
            &url,
            emitter,
            &store_url,
            &[
                "--initial-range",
                "7",
                "--max-range",
                "20",
                "--max-range-events",
                "5",
            ],
        );
        let h = head(&url).await;
        ix.wait_checkpoint(31337, h, MIN).await;
        let st = ix.terminate();
        assert!(
            st.success(),
            "round {round}: SIGTERM exit {st}\n{}",
            tail(&ix.log_text())
        );
    }
    stop.store(true, Ordering::Relaxed);
    let emitted = bg.await.unwrap();
    assert!(emitted > 5, "only {emitted} events emitted during the run");
    let mut ix = Indexer::onsystem(&url, emitter, &store_url, &[]);
    ix.wait_checkpoint(31337, head(&url).await, MIN).await;
    ix.terminate();
    let store = open(&store_url).await;
    assert_exact(store.as_ref(), &url, 31337, emitter).await;
}

/// 3: SIGKILL at 10 random moments of a backfill, restart each time: identical to the ground truth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_backfill_then_restart_is_exact() {
    let (_dir, store_url) = sqlite_url();
    let (_ref_dir, reference_url) = sqlite_url();
    sigkill(&store_url, &reference_url, 400, 10).await;
}

/// 3 on the MongoDB test server (fewer events and kills: it is a slow Python server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_sigkill_during_backfill_then_restart_is_exact() {
    sigkill(
        &mongo_url("lucid_sigkill"),
        &mongo_url("lucid_sigkill_ref"),
        120,
        4,
    )
    .await;
}

/// Kills the indexer `kills` times at random moments of a backfill (each kill checked to land before
/// the backfill ended), restarts it, and compares the store with the chain and with a store that one
/// uninterrupted run wrote (`reference_url`): events and the chunk storers derived from them.
async fn sigkill(store_url: &str, reference_url: &str, events: u64, kills: u32) {
    let store_url = store_url.to_owned();
    let (_anvil, url, emitter) = chain_with_events(events).await;
    let target = head(&url).await;
    // Each eth_getLogs answered after 40 ms: the backfill (at most 2 logs per range) lasts longer
    // than all the runs below together, so every kill lands in it.
    let proxy = FaultProxy::start(&url);
    proxy.add_rule(Rule::new(
        "eth_getLogs",
        Shape::Delay(Duration::from_millis(40)),
    ));
    let mut seed = std::process::id() as u64;
    let mut checkpoints = Vec::new();
    for _ in 0..kills {
        // At most 2 logs per range: kills land while a range is written and the next one read.
        let mut ix = Indexer::onsystem(
            &proxy.url(),
            emitter,
            &store_url,
            &[
                "--initial-range",
                "3",
                "--max-range",
                "9",
                "--max-range-events",
                "2",
            ],
        );
        let deadline = std::time::Instant::now() + MIN;
        while ix.status_of(31337).await.is_none() {
            assert!(std::time::Instant::now() < deadline, "{}", ix.log_text());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        tokio::time::sleep(Duration::from_millis(50 + (seed >> 33) % 300)).await;
        let cp = ix
            .status_of(31337)
            .await
            .and_then(|s| s["checkpoint"].as_u64());
        ix.kill();
        checkpoints.push(cp);
    }
    assert!(
        checkpoints.iter().all(|c| c.is_none_or(|c| c < target)),
        "a kill landed after the backfill reached {target}: checkpoints {checkpoints:?}"
    );
    assert!(
        checkpoints.iter().flatten().any(|&c| c > 0),
        "no run made progress: {checkpoints:?}"
    );
    let mut ix = Indexer::onsystem(&url, emitter, &store_url, &[]);
    ix.wait_checkpoint(31337, target, MIN).await;
    ix.terminate();
    let store = open(&store_url).await;
    assert_exact(store.as_ref(), &url, 31337, emitter).await;
    // Derived state: the same chunk storers as a store written by one uninterrupted run.
    let mut ix = Indexer::onsystem(&url, emitter, reference_url, &[]);
    ix.wait_checkpoint(31337, target, MIN).await;
    ix.terminate();
    let reference = open(reference_url).await;
    for e in ground_truth(&url, 31337, emitter).await {
        let sid = e.args["sessionId"].as_str().unwrap();
        let bytes = alloy::hex::decode(sid).unwrap();
        let id = uuid::Uuid::from_slice(&bytes[..16]).unwrap().to_string();
        let got = store.chunks_of_session(&id).await.unwrap();
        assert!(!got.is_empty(), "no chunk derived for session {id}");
        assert_eq!(
            got,
            reference.chunks_of_session(&id).await.unwrap(),
            "session {id}"
        );
    }
}

/// 4: `anvil_reorg` of depth 1–10 while indexing: the store follows the canonical chain; a fork
/// deeper than the window halts the chain with an error that says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorgs_roll_back_to_the_canonical_chain() {
    let (_dir, store_url) = sqlite_url();
    reorgs(&store_url, 10).await;
}

/// 4 on the MongoDB test server (depths 1–10, then the fork deeper than the window).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_reorgs_roll_back_to_the_canonical_chain() {
    reorgs(&mongo_url("lucid_reorgs"), 10).await;
}

async fn reorgs(store_url: &str, max_depth: u64) {
    let store_url = store_url.to_owned();
    let anvil = Anvil::start(31337);
    let url = anvil.url();
    let emitter = deploy_emitter(&url).await;
    let mut ix = Indexer::onsystem(&url, emitter, &store_url, &["--reorg-window", "16"]);
    let store = open(&store_url).await;
    let mut n = 0;
    for depth in 1..=max_depth {
        for _ in 0..(depth + 3) {
            emit(&url, emitter, n).await;
            n += 1;
        }
        ix.wait_checkpoint(31337, head(&url).await, MIN).await;
        // Replace the last `depth` blocks by empty ones (plus one more block with a new event).
        rpc(&url, "anvil_reorg", json!([depth, []])).await;
        emit(&url, emitter, 100_000 + depth).await;
        ix.wait_checkpoint(31337, head(&url).await, MIN).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_exact(store.as_ref(), &url, 31337, emitter).await;
    }
    let s = ix.status_of(31337).await.unwrap();
    assert!(s["reorgs"].as_u64().unwrap() >= max_depth, "{s}");
    assert!(s["lastReorg"]["depth"].as_u64().is_some(), "{s}");

    // Deeper than the window (16): a clean halt.
    for _ in 0..20 {
        emit(&url, emitter, n).await;
        n += 1;
    }
    ix.wait_checkpoint(31337, head(&url).await, MIN).await;
    rpc(&url, "anvil_reorg", json!([18, []])).await;
    let deadline = std::time::Instant::now() + MIN;
    loop {
        let s = ix.status_of(31337).await.unwrap();
        if let Some(h) = s["halted"].as_str() {
            assert!(h.contains("deeper than the reorg window"), "{h}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no halt: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (code, body) = ix.get("/ready").await;
    assert_eq!(code, 503, "{body}");
    assert!(
        body["reasons"][0].as_str().unwrap().contains("halted"),
        "{body}"
    );
    // The API keeps serving; the process stays up until told to stop.
    assert_eq!(ix.get("/health").await.0, 200);
    assert!(ix.terminate().success());
}

/// 5 + 7 + 9: a lagging head, getLogs errors of every shape and failing eth_getBlockByNumber, in
/// backfill and live: progress goes on, no rollback without a proven fork, no zero timestamp.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_faults_of_every_shape_never_stop_or_corrupt() {
    let (_dir, store_url) = sqlite_url();
    rpc_faults(&store_url, 120).await;
}

/// 5 + 7 + 9 on the MongoDB test server (fewer events: it is a slow Python server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_rpc_faults_of_every_shape_never_stop_or_corrupt() {
    rpc_faults(&mongo_url("lucid_rpc_faults"), 60).await;
}

async fn rpc_faults(store_url: &str, events: u64) {
    let (_anvil, url, emitter) = chain_with_events(events).await;
    let proxy = FaultProxy::start(&url);
    for r in [
        Rule::new("eth_getLogs", Shape::TooManyResults(Suggest::None)).every(3),
        Rule::new("eth_getLogs", Shape::TooManyResults(Suggest::Half)).every(4),
        Rule::new("eth_getLogs", Shape::TooManyResults(Suggest::Equal)).every(5),
        Rule::new("eth_getLogs", Shape::MaxRange(40)),
        Rule::new("eth_getLogs", Shape::Delay(Duration::from_millis(1500)))
            .every(11)
            .times(2),
        Rule::new("eth_getLogs", Shape::Http(502)).every(7),
        Rule::new("eth_getLogs", Shape::Http(429)).every(13),
        Rule::new("eth_getLogs", Shape::Garbage).every(17),
        Rule::new(
            "eth_getBlockByNumber",
            Shape::RpcError(-32000, "header not found".into()),
        )
        .every(3),
        Rule::new("eth_getBlockByNumber", Shape::Http(500)).every(5),
        Rule::new("eth_blockNumber", Shape::Http(503)).every(6),
    ] {
        proxy.add_rule(r);
    }
    let mut ix = Indexer::onsystem(
        &proxy.url(),
        emitter,
        store_url,
        &[
            "--rpc-timeout-ms",
            "1000",
            "--initial-range",
            "100",
            "--max-range",
            "1000",
        ],
    );
    ix.wait_checkpoint(31337, head(&url).await, MIN).await;
    // Live, under the same faults.
    for n in 200..230 {
        emit(&url, emitter, n).await;
    }
    ix.wait_checkpoint(31337, head(&url).await, MIN).await;
    // A lagging node (head 5 blocks back, newer blocks unknown): waited out, never rolled back.
    proxy.set_lag(5);
    tokio::time::sleep(Duration::from_millis(800)).await;
    for n in 300..305 {
        emit(&url, emitter, n).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let s = ix.status_of(31337).await.unwrap();
    assert_eq!(
        s["reorgs"],
        json!(0),
        "a lagging node caused a rollback: {s}"
    );
    proxy.set_lag(0);
    ix.wait_checkpoint(31337, head(&url).await, MIN).await;
    assert!(proxy.injected("eth_getLogs") >= 8, "few faults injected");
    assert!(proxy.injected("eth_getBlockByNumber") >= 2);
    let s = ix.status_of(31337).await.unwrap();
    assert_eq!(s["reorgs"], json!(0), "{s}");
    let (_, metrics) = ix.get("/metrics").await;
    let m = metrics.as_str().unwrap().to_owned();
    assert!(
        m.contains("lucid_indexer_rpc_errors_total{chain=\"31337\",kind=\"too_many_results\"}"),
        "{m}"
    );
    assert!(ix.terminate().success());
    let store = open(store_url).await;
    assert_exact(store.as_ref(), &url, 31337, emitter).await;
}

/// 8: the RPC down (port closed) for a while: `/ready` is 503 meanwhile, then it catches up unaided.
/// `LUCID_TEST_DOWNTIME_SECS` (default 60) sets how long.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_downtime_is_not_ready_then_catches_up() {
    let secs: u64 = std::env::var("LUCID_TEST_DOWNTIME_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let (_anvil, url, emitter) = chain_with_events(20).await;
    let proxy = FaultProxy::start(&url);
    let (_dir, store_url) = sqlite_url();
    let mut ix = Indexer::onsystem(
        &proxy.url(),
        emitter,
        &store_url,
        &["--rpc-timeout-ms", "500"],
    );
    ix.wait_checkpoint(31337, head(&url).await, MIN).await;
    assert_eq!(ix.get("/ready").await.0, 200);
    proxy.set_down(true);
    let t0 = std::time::Instant::now();
    let mut saw_503 = false;
    let mut n = 100;
    while t0.elapsed() < Duration::from_secs(secs) {
        emit(&url, emitter, n).await;
        n += 1;
        let (code, body) = ix.get("/ready").await;
        if t0.elapsed() > Duration::from_secs(5) {
            assert_eq!(code, 503, "ready while the RPC is down: {body}");
            saw_503 = true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(saw_503);
    proxy.set_down(false);
    ix.wait_checkpoint(31337, head(&url).await, MIN).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while ix.get("/ready").await.0 != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "not ready after the RPC came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ix.terminate().success());
    let store = open(&store_url).await;
    assert_exact(store.as_ref(), &url, 31337, emitter).await;
}

/// 6: two chains, independent. An outage of one while the other produces events, then a reorg on
/// the other (rolled back) and one deeper than its window (halted) while the first produces events:
/// neither chain waits for the other, and each one's store is exactly its chain (content and times).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_or_an_outage_on_one_chain_leaves_the_other_exact() {
    let a = Anvil::start(31337);
    let b = Anvil::start(31338);
    let ea = deploy_emitter(&a.url()).await;
    let eb = deploy_emitter(&b.url()).await;
    let pb = FaultProxy::start(&b.url());
    let (_dir, store_url) = sqlite_url();
    let args: Vec<String> = vec![
        "--onsystem-rpc".into(),
        a.url(),
        "--chunk-store".into(),
        format!("{ea:#x}"),
        "--onsystem-start-block".into(),
        "0".into(),
        "--payment-rpc".into(),
        pb.url(),
        "--router-v0".into(),
        format!("{eb:#x}"),
        "--payment-start-block".into(),
        "0".into(),
        "--reorg-window".into(),
        "8".into(),
        "--rpc-timeout-ms".into(),
        "1000".into(),
    ];
    let mut ix = Indexer::spawn(&store_url, &args);
    for n in 0..30 {
        emit(&a.url(), ea, n).await;
        emit_paid(&b.url(), eb, n).await;
    }
    ix.wait_checkpoint(31337, head(&a.url()).await, MIN).await;
    ix.wait_checkpoint(31338, head(&b.url()).await, MIN).await;

    // The payment chain's node down: the on-system chain goes on alone.
    pb.set_down(true);
    for n in 30..40 {
        emit(&a.url(), ea, n).await;
        emit_paid(&b.url(), eb, n).await;
    }
    ix.wait_checkpoint(31337, head(&a.url()).await, MIN).await;
    // Not ready while a chain's head is unknown (stale after 3 s with a 1 s RPC timeout).
    let deadline = std::time::Instant::now() + MIN;
    loop {
        let (code, ready) = ix.get("/ready").await;
        if code == 503 {
            assert!(ready.to_string().contains("31338"), "{ready}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{ready}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let hb_seen = ix.status_of(31338).await.unwrap()["checkpoint"].as_u64();
    assert!(
        hb_seen < Some(head(&b.url()).await),
        "indexed through a closed port?"
    );
    pb.set_down(false);
    ix.wait_checkpoint(31338, head(&b.url()).await, MIN).await;

    // The payment chain produces events all along while the on-system chain forks.
    let stop = Arc::new(AtomicBool::new(false));
    let bg = {
        let (url, stop) = (b.url(), stop.clone());
        tokio::spawn(async move {
            let mut n = 1_000;
            while !stop.load(Ordering::Relaxed) {
                emit_paid(&url, eb, n).await;
                n += 1;
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        })
    };
    // A fork within the window: rolled back and re-indexed.
    rpc(&a.url(), "anvil_reorg", json!([5, []])).await;
    let deadline = std::time::Instant::now() + MIN;
    loop {
        let s = ix.status_of(31337).await.unwrap();
        if s["reorgs"].as_u64() >= Some(1) && s["checkpoint"].as_u64() >= Some(head(&a.url()).await)
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no rollback: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let store = open(&store_url).await;
    assert_exact(store.as_ref(), &a.url(), 31337, ea).await;
    // A fork deeper than the window halts the on-system chain only.
    rpc(&a.url(), "anvil_reorg", json!([12, []])).await;
    let deadline = std::time::Instant::now() + MIN;
    while ix.status_of(31337).await.unwrap()["halted"].is_null() {
        assert!(std::time::Instant::now() < deadline, "no halt");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    bg.await.unwrap();
    ix.wait_checkpoint(31338, head(&b.url()).await, MIN).await;
    let truth = ground_truth_as(
        &b.url(),
        31338,
        eb,
        lucid_chain::ContractKind::PayoutRouterV0,
    )
    .await;
    assert!(truth.len() > 45, "{} payment events", truth.len());
    assert_eq!(stored(store.as_ref(), 31338).await, truth);
    assert!(ix.terminate().success());
}

/// A signal during start-up (the RPC node not answering yet, which the indexer waits up to a
/// minute for) ends the process at once with status 0; it used to be noticed only after that wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_waiting_for_the_rpc_exits_at_once() {
    let closed = format!("http://127.0.0.1:{}", free_port());
    let (_dir, store_url) = sqlite_url();
    let mut ix = Indexer::onsystem(
        &closed,
        alloy::primitives::Address::repeat_byte(0x11),
        &store_url,
        &[],
    );
    let deadline = std::time::Instant::now() + MIN;
    while !ix.log_text().contains("RPC not answering yet") {
        assert!(std::time::Instant::now() < deadline, "{}", ix.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let t0 = std::time::Instant::now();
    let st = ix.terminate();
    assert!(st.success(), "exit {st}: {}", ix.log_text());
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "SIGTERM took {:?}",
        t0.elapsed()
    );
    assert!(ix.log_text().contains("stopped during start-up"));
}

/// 7, a range that cannot shrink: one block whose `eth_getLogs` always fails ("too many results", no
/// suggestion) is asked again at the poll pace, never in a tight loop against the provider, and
/// indexing resumes exactly when the provider recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_block_that_always_fails_is_retried_at_the_poll_pace() {
    let (_anvil, url, emitter) = chain_with_events(20).await;
    let proxy = FaultProxy::start(&url);
    proxy.add_rule(Rule::new(
        "eth_getLogs",
        Shape::TooManyResults(Suggest::None),
    ));
    let (_dir, store_url) = sqlite_url();
    let mut ix = Indexer::onsystem(
        &proxy.url(),
        emitter,
        &store_url,
        &["--initial-range", "64"],
    );
    // 64 → 1 block in six halvings, then one attempt per poll (100 ms).
    let deadline = std::time::Instant::now() + MIN;
    while !proxy.log_ranges().iter().any(|(from, to, _)| from == to) {
        assert!(
            std::time::Instant::now() < deadline,
            "never narrowed to one block: {:?}",
            proxy.log_ranges()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = proxy.calls("eth_getLogs");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let asked = proxy.calls("eth_getLogs") - before;
    assert!(
        asked <= 45,
        "{asked} eth_getLogs calls in 3 s for one block that cannot shrink (poll 100 ms)"
    );
    assert!(asked >= 5, "stopped asking: {asked} calls in 3 s");
    let last = *proxy.log_ranges().last().unwrap();
    assert_eq!(
        last.0, last.1,
        "asked more than the failing block: {last:?}"
    );
    let s = ix.status_of(31337).await.unwrap();
    assert!(
        s["lastError"]
            .as_str()
            .is_some_and(|e| e.contains(&format!("single block {}", last.0))),
        "{s}"
    );
    proxy.clear_rules();
    ix.wait_checkpoint(31337, head(&url).await, MIN).await;
    assert!(ix.terminate().success());
    let store = open(&store_url).await;
    assert_exact(store.as_ref(), &url, 31337, emitter).await;
}

/// 7, suggestions: a "too many results" that names a usable range is followed to exactly that range,
/// not merely halved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suggested_range_is_adopted() {
    let (_anvil, url, emitter) = chain_with_events(30).await;
    let proxy = FaultProxy::start(&url);
    proxy.add_rule(Rule::new("eth_getLogs", Shape::TooManyResults(Suggest::Blocks(3))).times(1));
    let (_dir, store_url) = sqlite_url();
    let mut ix = Indexer::onsystem(
        &proxy.url(),
        emitter,
        &store_url,
        &["--initial-range", "64"],
    );
    ix.wait_checkpoint(31337, head(&url).await, MIN).await;
    let ranges = proxy.log_ranges();
    let i = ranges.iter().position(|r| r.2).expect("no fault injected");
    let (from, to, _) = ranges[i];
    assert!(
        to - from + 1 > 6,
        "the failing range is too short to tell: {ranges:?}"
    );
    let next = ranges[i + 1..]
        .iter()
        .find(|r| r.0 == from)
        .expect("the failed range's start was never asked again");
    assert_eq!(
        (next.0, next.1),
        (from, from + 2),
        "the suggested 3 blocks were not adopted: {ranges:?}"
    );
    // Successes grow the range again.
    assert!(
        ranges.iter().any(|r| r.0 > from + 2 && r.1 - r.0 + 1 >= 6),
        "the range never grew back: {ranges:?}"
    );
    assert!(ix.terminate().success());
    let store = open(&store_url).await;
    assert_exact(store.as_ref(), &url, 31337, emitter).await;
}

/// 9, a header without its time: blocks served with timestamp 0 are fetched again; no event is stored
/// with time 0 and every time equals the chain's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_with_a_zero_timestamp_are_fetched_again() {
    let (_dir, store_url) = sqlite_url();
    zero_timestamps(&store_url).await;
}

/// The same on the MongoDB test server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_headers_with_a_zero_timestamp_are_fetched_again() {
    zero_timestamps(&mongo_url("lucid_zero_time")).await;
}

async fn zero_timestamps(store_url: &str) {
    let (_anvil, url, emitter) = chain_with_events(20).await;
    let proxy = FaultProxy::start(&url);
    proxy.add_rule(Rule::new("eth_getBlockByNumber", Shape::ZeroTimestamp).every(2));
    let mut ix = Indexer::onsystem(&proxy.url(), emitter, store_url, &[]);
    ix.wait_checkpoint(31337, head(&url).await, MIN).await;
    assert!(
        proxy.injected("eth_getBlockByNumber") >= 5,
        "few zero timestamps served: {}",
        proxy.injected("eth_getBlockByNumber")
    );
    assert!(ix.terminate().success());
    let store = open(store_url).await;
    // The ground truth reads anvil directly; assert_exact also checks that no time is 0.
    assert_exact(store.as_ref(), &url, 31337, emitter).await;
}

/// SIGINT (Ctrl-C) in the middle of a backfill: the process exits 0 and the store holds exactly the
/// chain's events up to its checkpoint, none above (whole ranges only). With `--log-format json`
/// every line the indexer logs is one JSON object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_mid_backfill_exits_0_with_whole_ranges_and_json_logs() {
    let (_anvil, url, emitter) = chain_with_events(60).await;
    let end = head(&url).await;
    // Two blocks per range, each answered after 150 ms: a backfill of several seconds.
    let proxy = FaultProxy::start(&url);
    proxy.add_rule(Rule::new(
        "eth_getLogs",
        Shape::Delay(Duration::from_millis(150)),
    ));
    let (_dir, store_url) = sqlite_url();
    let mut ix = Indexer::onsystem(
        &proxy.url(),
        emitter,
        &store_url,
        &[
            "--initial-range",
            "2",
            "--max-range",
            "2",
            "--log-format",
            "json",
        ],
    );
    ix.wait_checkpoint(31337, 10, MIN).await;
    let st = ix.interrupt();
    assert!(st.success(), "exit {st}: {}", tail(&ix.log_text()));
    let store = open(&store_url).await;
    let cp = store.checkpoint(31337).await.unwrap().unwrap().block_number;
    assert!(
        cp < end,
        "the backfill had ended before SIGINT (checkpoint {cp})"
    );
    let truth: Vec<_> = ground_truth(&url, 31337, emitter)
        .await
        .into_iter()
        .filter(|e| e.block_number <= cp)
        .collect();
    assert_eq!(
        stored(store.as_ref(), 31337).await,
        truth,
        "checkpoint {cp}"
    );
    let log = ix.log_text();
    let mut lines = 0;
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
        lines += 1;
    }
    assert!(lines >= 2, "{log}");
}

/// On a terminal (a pseudo-terminal from `script`), a backfill shows a progress bar per chain: blocks
/// indexed of the head, events/s and an ETA. (Every other test runs with `--no-progress`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_progress_bar_on_a_tty_shows_blocks_events_per_second_and_eta() {
    let (_anvil, url, emitter) = chain_with_events(40).await;
    // Two blocks per range, each answered after 150 ms: a backfill of about 3 s.
    let proxy = FaultProxy::start(&url);
    proxy.add_rule(Rule::new(
        "eth_getLogs",
        Shape::Delay(Duration::from_millis(150)),
    ));
    let (_dir, store_url) = sqlite_url();
    let cmd = format!(
        "timeout --preserve-status -s TERM 4 {} run --onsystem-rpc {} --chunk-store {emitter:#x} \
         --onsystem-start-block 0 --onsystem-confirmations 0 --store {store_url} \
         --listen 127.0.0.1:{} --deployments /nonexistent --initial-range 2 --max-range 2 \
         --poll-ms 100",
        env!("CARGO_BIN_EXE_lucid-indexer"),
        proxy.url(),
        free_port()
    );
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("script")
            .args(["-qfec", &cmd, "/dev/null"])
            .env("RUST_LOG", "warn")
            .env_remove("TRON_RPC")
            .env_remove("LUCID_PAYMENT_JSONRPC")
            .output()
    })
    .await
    .unwrap()
    .expect("script(1) from util-linux");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {}: {text}", out.status);
    for want in ["onsystem 31337", "blocks", "events/s", "ETA"] {
        assert!(text.contains(want), "no {want:?} on the terminal: {text}");
    }
}
