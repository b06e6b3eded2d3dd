//! `just bench-indexer` (ignored in the test run; release build). On a local anvil with the real
//! contracts (the repository's forge script), N events (`LUCID_BENCH_EVENTS`, default 100,000) are
//! made by real `anchorBatch` transactions of 100 owner-signed sessions (100 `SessionRegistered` +
//! 1 `SlotAnchored` each; signatures made in Rust; generation time is not part of any figure).
//! Then, each with the release `lucid-indexer` as a separate process:
//! 1. backfill of all of it into a fresh SQLite file, `LUCID_BENCH_BACKFILL_RUNS` times (default 3;
//!    the median is the figure): events/s end to end (process start to the
//!    checkpoint at the head), and the RPC / store split from the indexer's own metrics;
//! 2. backfill of the first `LUCID_BENCH_MONGO_EVENTS` (default 5,000) into the SecantusDB
//!    MongoDB test server (a Python test server: not a MongoDB figure);
//! 3. live latency after the backfill: 100 more batches, each timed from the moment its block
//!    exists (the mining `eth_sendTransaction` returned) to `/v1/status` showing it stored, poll 100 ms;
//! 4. API load on `GET /v1/sessions/{id}` against the SQLite indexer from a second process, each
//!    case twice: `wrk -t2 -c32` (closed loop: the most req/s) and `oha -c32 -q20000
//!    --latency-correction` (the goal's 20,000 req/s offered whatever the answers' pace; latency
//!    from the moment each request was due) (`LUCID_BENCH_WRK_SECS`, default 10 s per run; each
//!    tool is skipped with a note when missing): (a) one id (the response cache's hit path),
//!    (b) every stored session at random (mostly misses), (c) one id with `--api-cache-entries 0`
//!    (every request reads SQLite).
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

fn env_u64(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(d)
}

fn indexer_args(url: &str, d: &Deployed) -> Vec<String> {
    [
        "--onsystem-rpc",
        url,
        "--anchors",
        &format!("{:#x}", d.anchors),
        "--chunk-store",
        &format!("{:#x}", d.chunk_store),
        "--onsystem-start-block",
        &d.start_block.to_string(),
        "--onsystem-confirmations",
        "0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Signs all batches (in parallel on the machine's cores).
fn make_batches(
    d: &Deployed,
    first: u64,
    batches: u64,
    slot_of: impl Fn(u64) -> u64,
) -> Vec<Vec<u8>> {
    let key = owner_key();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2) as u64;
    let slots: Vec<u64> = (0..batches).map(&slot_of).collect();
    let mut out: Vec<(u64, Vec<u8>)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let key = key.clone();
                let slots = &slots;
                s.spawn(move || {
                    (0..batches)
                        .filter(|b| b % threads == t)
                        .map(|b| {
                            let n0 = (first + b) * 100;
                            (
                                b,
                                anchor_batch_calldata(
                                    &key,
                                    d.chain_id,
                                    d.anchors,
                                    slots[b as usize],
                                    n0,
                                    100,
                                ),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    out.sort_by_key(|(b, _)| *b);
    out.into_iter().map(|(_, v)| v).collect()
}

/// The timestamp of the block of batch `b`: the start of slot `slot0 + b + 1` (set exactly, so a
/// slow machine never drifts a batch out of the slot it was signed for).
fn batch_time(genesis: u64, slot0: u64, b: u64) -> u64 {
    genesis + (slot0 + b + 1) * 120
}

/// Sends the batches `first..` one block each, one slot each.
async fn send_batches(url: &str, d: &Deployed, slot0: u64, first: u64, batches: &[Vec<u8>]) {
    for (i, data) in batches.iter().enumerate() {
        let t = batch_time(d.genesis_time, slot0, first + i as u64);
        rpc(url, "evm_setNextBlockTimestamp", json!([t])).await;
        let tx = send_anchor_batch(url, d.anchors, data).await;
        let (_, ok) = receipt_gas(url, tx).await;
        assert!(ok, "anchorBatch reverted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: just bench-indexer"]
async fn bench_backfill_live_api() {
    let n = env_u64("LUCID_BENCH_EVENTS", 100_000);
    let n_mongo = env_u64("LUCID_BENCH_MONGO_EVENTS", 5_000);
    let wrk_secs = env_u64("LUCID_BENCH_WRK_SECS", 10);
    let batches = n.div_ceil(101).max(1);
    let live_batches = 100u64;
    let chain_id = lucid_e2e::test_chain_id();
    // Only logs, blocks and receipts are read back: no historical state is needed, and none is
    // written to disk (see `Anvil::start_with`).
    let anvil = Anvil::start_with(chain_id, &["--prune-history"]);
    let url = anvil.url();
    let d = deploy_onsystem(&anvil, chain_id);

    // ---- generation (not timed in any figure)
    let t = Instant::now();
    // Batch b goes into the slot of the block after b + 1 increases of 120 s.
    let slot0 = current_slot(&url, d.genesis_time).await;
    let all = make_batches(&d, 0, batches + live_batches, |b| slot0 + b + 1);
    let (hist, live) = all.split_at(batches as usize);
    eprintln!(
        "signed {} sessions in {:.1} s",
        (batches + live_batches) * 100,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    send_batches(&url, &d, slot0, 0, hist).await;
    let events = batches * 101;
    let last_block = head(&url).await;
    eprintln!(
        "anchored {events} events in {batches} blocks in {:.1} s (not part of the figures)",
        t.elapsed().as_secs_f64()
    );

    // ---- 1. backfill into SQLite, `runs` times into fresh files (the machine's speed varies from
    // one run to the next; the median is the figure); the last indexer stays for phases 3 and 4
    let runs = env_u64("LUCID_BENCH_BACKFILL_RUNS", 3).max(1);
    let mut rates = Vec::new();
    let mut last = None;
    for run in 1..=runs {
        if let Some((mut prev, _dir, _)) = last.take() {
            let prev: &mut Indexer = &mut prev;
            prev.terminate();
        }
        let (dir, sqlite) = sqlite_url();
        let t = Instant::now();
        let mut ix = Indexer::spawn(&sqlite, &indexer_args(&url, &d));
        ix.wait_checkpoint(chain_id, last_block, Duration::from_secs(3600))
            .await;
        let secs = t.elapsed().as_secs_f64();
        let m = ix.get("/metrics").await.1.as_str().unwrap().to_owned();
        let rpc_s = metric(&m, "lucid_indexer_rpc_seconds_total");
        let store_s = metric(&m, "lucid_indexer_store_seconds_total");
        let stored = ix.status_of(chain_id).await.unwrap()["eventsIndexed"]
            .as_u64()
            .unwrap();
        println!(
            "backfill SQLite, run {run}/{runs}: {stored} events ({events} from anchorBatch, the rest the deployment's) in {secs:.2} s = {:.0} events/s end to end (process start included); \
             RPC (getLogs + headers + receipts) {rpc_s:.2} s, store {store_s:.2} s ({:.0} events/s store only)",
            stored as f64 / secs,
            stored as f64 / store_s
        );
        rates.push(stored as f64 / secs);
        last = Some((ix, dir, sqlite));
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "backfill SQLite: median of {runs} runs {:.0} events/s end to end (min {:.0}, max {:.0})",
        rates[rates.len() / 2],
        rates[0],
        rates[rates.len() - 1]
    );
    let (mut ix, _dir, sqlite) = last.unwrap();

    // ---- 2. backfill into the MongoDB test server (a prefix of the chain)
    let mongo_blocks = n_mongo.div_ceil(101).min(batches);
    let mongo_to = d.start_block.max(last_block - batches) + mongo_blocks;
    let mongo = mongo_url("lucid_bench");
    let t = Instant::now();
    // Ranges of 10 blocks (1,010 events): the checkpoint reaches the prefix's end without writing
    // the rest of the chain first.
    let mut margs = indexer_args(&url, &d);
    margs.extend(["--initial-range", "10", "--max-range", "10"].map(String::from));
    let mut mx = Indexer::spawn(&mongo, &margs);
    mx.wait_checkpoint(chain_id, mongo_to, Duration::from_secs(3600))
        .await;
    let msecs = t.elapsed().as_secs_f64();
    let mm = mx.get("/metrics").await.1.as_str().unwrap().to_owned();
    let mstored = mx.status_of(chain_id).await.unwrap()["eventsIndexed"]
        .as_u64()
        .unwrap_or(0);
    mx.terminate();
    println!(
        "backfill MongoDB (SecantusDB, a Python test server): {mstored} events in {msecs:.2} s = {:.0} events/s end to end; \
         RPC {:.2} s, store {:.2} s",
        mstored as f64 / msecs,
        metric(&mm, "lucid_indexer_rpc_seconds_total"),
        metric(&mm, "lucid_indexer_store_seconds_total"),
    );

    // ---- 3. live latency (poll 100 ms; the SQLite indexer is at the head)
    let mut lat = Vec::new();
    for (i, data) in live.iter().enumerate() {
        let t = batch_time(d.genesis_time, slot0, batches + i as u64);
        rpc(&url, "evm_setNextBlockTimestamp", json!([t])).await;
        let tx = send_anchor_batch(&url, d.anchors, data).await; // automine: the block exists on return
        let t0 = Instant::now();
        let b = head(&url).await;
        loop {
            if ix
                .status_of(chain_id)
                .await
                .and_then(|s| s["checkpoint"].as_u64())
                .is_some_and(|c| c >= b)
            {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "live block {b} not stored"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
        // Its sessions are asked for in the API phase: a reverted batch would make them 404s.
        let (_, ok) = receipt_gas(&url, tx).await;
        assert!(ok, "live anchorBatch {i} reverted");
        // spread the block times over the poll phase
        tokio::time::sleep(Duration::from_millis(37 * (i as u64 % 7))).await;
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let q = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "live (poll 100 ms, {} blocks of 101 events): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (block mined → /v1/status shows it stored)",
        lat.len(),
        q(0.5),
        q(0.99),
        lat[lat.len() - 1]
    );

    // ---- 4. API load with wrk and oha from a second process
    let sessions = (batches + live_batches) * 100;
    let id = session_uuid(1234 % (batches * 100)).to_string();
    let path = format!("/v1/sessions/{id}");
    // every stored session at random (a wrk Lua script; oha takes the URL list)
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("ids.lua");
    let mut lua = String::from("local paths = {\n");
    for n in 0..sessions {
        lua.push_str(&format!("\"/v1/sessions/{}\",\n", session_uuid(n)));
    }
    lua.push_str(
        "}\nrequest = function()\n  return wrk.format(nil, paths[math.random(#paths)])\nend\n",
    );
    std::fs::write(&script, lua).unwrap();
    let load = |ix: &Indexer, cache: &str| {
        // (1) one id again and again: with the cache, its hit path
        wrk(
            &ix.url(&path),
            wrk_secs,
            None,
            &format!("one id, {cache}, {sessions} sessions stored"),
        );
        oha(
            &[ix.url(&path)],
            wrk_secs,
            &format!("one id, {cache}, {sessions} sessions stored"),
            ix.child.id(),
        );
        // (2) random ids: with the cache (10,000 entries), mostly misses
        wrk(
            &ix.url("/"),
            wrk_secs,
            Some(&script),
            &format!("random id of {sessions}, {cache}"),
        );
        let urls: Vec<String> = (0..sessions)
            .map(|n| ix.url(&format!("/v1/sessions/{}", session_uuid(n))))
            .collect();
        oha(
            &urls,
            wrk_secs,
            &format!("random id of {sessions}, {cache}"),
            ix.child.id(),
        );
    };
    // (a) the default cache
    assert_eq!(ix.get(&path).await.0, 200);
    load(&ix, "cache on (default, 10,000 entries)");
    let m = ix.get("/metrics").await.1.as_str().unwrap().to_owned();
    println!(
        "API cache after (a): {} hits, {} misses",
        metric(&m, "lucid_indexer_api_cache_hits_total"),
        metric(&m, "lucid_indexer_api_cache_misses_total")
    );
    print_requests(&m);
    ix.terminate();
    // (b) the cache off: every request reads SQLite (the miss path)
    let mut args = indexer_args(&url, &d);
    args.extend(["--api-cache-entries", "0"].map(String::from));
    let mut ix = Indexer::spawn(&sqlite, &args);
    ix.wait_checkpoint(chain_id, head(&url).await, Duration::from_secs(600))
        .await;
    assert_eq!(ix.get(&path).await.0, 200);
    load(&ix, "cache off (--api-cache-entries 0)");
    print_requests(ix.get("/metrics").await.1.as_str().unwrap());
    ix.terminate();
}

/// Responses by route and status from the indexer's `/metrics` (a non-2xx in wrk's summary is
/// explained here).
fn print_requests(metrics: &str) {
    for l in metrics
        .lines()
        .filter(|l| l.starts_with("lucid_indexer_http_requests_total"))
    {
        println!("  {l}");
    }
}

/// Offered load of the fixed-rate runs: the goal's 20,000 req/s.
const OHA_RATE: u32 = 20_000;

/// `oha` (a second process) at a fixed [`OHA_RATE`] over 32 connections, each request's latency
/// measured from the moment it was due (`--latency-correction`: a stalled server cannot hide its
/// queue, unlike a closed loop such as wrk's): the achieved req/s and p99 at the goal's load. With
/// several URLs each request takes one at random (`--urls-from-file`).
fn oha(urls: &[String], secs: u64, label: &str, server: u32) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new("oha");
    cmd.args([
        "-z",
        &format!("{secs}s"),
        "-c",
        "32",
        "-q",
        &OHA_RATE.to_string(),
    ])
    .args([
        "--latency-correction",
        "--no-tui",
        "--output-format",
        "json",
    ]);
    if let [url] = urls {
        cmd.arg(url);
    } else {
        let file = dir.path().join("urls.txt");
        std::fs::write(&file, urls.join("\n")).unwrap();
        cmd.arg("--urls-from-file").arg(&file);
    }
    let cpu0 = cpu_ticks(server);
    let out = match cmd.output() {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            println!("oha failed: {}", String::from_utf8_lossy(&o.stderr));
            return;
        }
        Err(e) => {
            println!(
                "fixed-rate API load skipped: oha not runnable ({e}); `just bench-indexer` installs it"
            );
            return;
        }
    };
    let cpu = cpu_ticks(server)
        .zip(cpu0)
        .map(|(b, a)| b.saturating_sub(a));
    let v: serde_json::Value = match serde_json::from_slice(&out.stdout) {
        Ok(v) => v,
        Err(e) => {
            println!("oha output not understood: {e}");
            return;
        }
    };
    let ms = |p: &str| v["latencyPercentiles"][p].as_f64().unwrap_or(f64::NAN) * 1000.0;
    let answered: u64 = v["statusCodeDistribution"]
        .as_object()
        .map(|m| m.values().filter_map(|n| n.as_u64()).sum())
        .unwrap_or(0);
    // The server's CPU per answered request: unlike req/s and latency at a fixed rate, it does
    // not move with how much of the (shared, 2-core) machine the run happened to get.
    let per_request = match cpu {
        Some(t) if answered > 0 => format!(
            "; indexer CPU {:.1} us/request",
            t as f64 / CLOCK_TICKS as f64 / answered as f64 * 1e6
        ),
        _ => String::new(),
    };
    println!(
        "API GET /v1/sessions/{{id}} (oha -c32 -q{OHA_RATE} --latency-correction -z{secs}s, SQLite, {label}): \
         {:.0} req/s achieved; latency p50 {:.2} ms p99 {:.2} ms max {:.2} ms; status {}; errors {}{per_request}",
        v["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0),
        ms("p50"),
        ms("p99"),
        v["summary"]["slowest"].as_f64().unwrap_or(f64::NAN) * 1000.0,
        v["statusCodeDistribution"],
        v["errorDistribution"],
    );
}

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`; 100 on Linux x86-64).
const CLOCK_TICKS: u64 = 100;

/// User + system CPU ticks of process `pid` so far (`None` off Linux).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // fields after the parenthesised command name (which may hold spaces): utime is the 12th
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// `wrk -t2 -c32` (a second process) on `url`, optionally with a Lua script; prints req/s, p50, p99.
fn wrk(url: &str, secs: u64, script: Option<&std::path::Path>, label: &str) {
    let mut cmd = std::process::Command::new("wrk");
    cmd.args(["-t2", "-c32", &format!("-d{secs}s"), "--latency"]);
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    match cmd.arg(url).output() {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            let line = |p: &str| {
                text.lines()
                    .find(|l| l.trim_start().starts_with(p))
                    .unwrap_or("?")
                    .trim()
                    .trim_start_matches(p)
                    .trim()
                    .to_owned()
            };
            let non2xx = text
                .lines()
                .find(|l| l.contains("Non-2xx"))
                .unwrap_or("Non-2xx: 0");
            println!(
                "API GET /v1/sessions/{{id}} (wrk -t2 -c32 -d{secs}s, SQLite, {label}): {} req/s; latency p50 {} p99 {}; {non2xx}",
                line("Requests/sec:"),
                line("50%"),
                line("99%")
            );
            eprintln!("{text}");
        }
        Ok(o) => println!("wrk failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => println!("API load skipped: wrk not runnable ({e}); `apt-get install -y wrk`"),
    }
}
