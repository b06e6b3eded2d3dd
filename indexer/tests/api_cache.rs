//! The API's response cache (indexer in-process, as in api.rs) (indexer/src/cache.rs) never serves what the store no longer says:
//! (a) after a reorg rollback the old anchoring is gone at once (the follower's own writes),
//! (b) a write by another store on the same SQLite file (another process: a keeper) shows within
//! the documented bound `--api-cache-max-stale-ms`, (c) a 404 is not kept once the session exists.
//! Each test first proves the cache answered (its hit counter moved), so a cache that never hits
//! cannot pass for a correct one.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use alloy::primitives::{Address, B256, FixedBytes};
use alloy::sol_types::SolEvent;
use common::*;
use lucid_chain::ContractKind;
use lucid_core::models::{ChainEvent, SessionSubmission};
use lucid_indexer::cache::CacheConfig;
use serde_json::{Value, json};

/// The indexer in-process (its `run`, with `--api-cache-max-stale-ms` = `max_stale_ms`).
struct Ix {
    base: String,
    stop: tokio::sync::watch::Sender<bool>,
    run: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Ix {
    async fn get(&self, path: &str) -> (u16, Value) {
        get_json(&format!("{}{path}", self.base)).await
    }

    async fn chain(&self) -> Value {
        self.get("/v1/status").await.1["chains"][0].clone()
    }

    async fn wait_checkpoint(&self, block: u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while self.chain().await["checkpoint"]
            .as_u64()
            .is_none_or(|c| c < block)
        {
            assert!(
                std::time::Instant::now() < deadline,
                "checkpoint {block} not reached"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(self) {
        self.stop.send(true).unwrap();
        self.run.await.unwrap().unwrap();
    }
}

async fn hits(ix: &Ix) -> u64 {
    let m = ix.get("/metrics").await.1;
    m.as_str()
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("lucid_indexer_api_cache_hits_total "))
        .unwrap()
        .parse()
        .unwrap()
}

/// GETs `path` until the cache answers it (two identical answers, the hit counter moved).
async fn cached(ix: &Ix, path: &str) -> (u16, Value) {
    let first = ix.get(path).await;
    for _ in 0..100 {
        let h = hits(ix).await;
        let again = ix.get(path).await;
        if hits(ix).await > h {
            assert_eq!(again, first, "a hit must equal the store's answer");
            return again;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{path} never answered from the cache");
}

async fn start(max_stale_ms: u64) -> (Anvil, Address, Ix, String, tempfile::TempDir) {
    let anvil = Anvil::start(31337);
    let url = anvil.url();
    let anchors = deploy_emitter(&url).await;
    let chunks = deploy_emitter(&url).await;
    let (dir, store_url) = sqlite_url();
    let store = lucid_store::open(Some(&store_url)).await.unwrap();
    let port = free_port();
    let mut cfg = onsystem_config(
        &url,
        vec![
            (anchors, ContractKind::LucidAnchors),
            (chunks, ContractKind::LucidChunkStore),
        ],
        port,
        Duration::from_millis(50),
    );
    cfg.api_cache = CacheConfig {
        entries: 100,
        max_stale: Duration::from_millis(max_stale_ms),
    };
    let (stop, rx) = tokio::sync::watch::channel(false);
    let run = tokio::spawn(lucid_indexer::run(cfg, store, rx));
    let ix = Ix {
        base: format!("http://127.0.0.1:{port}"),
        stop,
        run,
    };
    ix.wait_checkpoint(head(&url).await).await;
    (anvil, anchors, ix, store_url, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_drops_the_cached_anchoring_at_once() {
    // A staleness bound of 60 s: only the follower's own rollback can make the cache let go.
    let (anvil, anchors, ix, _store, _dir) = start(60_000).await;
    let url = anvil.url();
    let reg = sample_registration();
    emit_log(&url, anchors, &reg.encode_log_data()).await;
    ix.wait_checkpoint(head(&url).await).await;
    let path = format!("/v1/sessions/{SID_UUID}");
    let (code, v) = cached(&ix, &path).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["anchoring"]["slot"], json!(7), "{v}");
    let (code, _) = cached(&ix, &format!("{path}/chunks")).await;
    assert_eq!(code, 200);

    // The registration's block is replaced by an empty one.
    rpc(&url, "anvil_reorg", json!([1, []])).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while ix.chain().await["reorgs"].as_u64().unwrap_or(0) == 0 {
        assert!(std::time::Instant::now() < deadline, "reorg not seen");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // No waiting: /v1/status showing the rollback means the cache has let go of it.
    let (code, v) = ix.get(&path).await;
    assert!(
        code == 404 || v["anchoring"].is_null(),
        "the rolled-back anchoring is still served: {code} {v}"
    );
    assert_eq!(ix.get(&format!("{path}/chunks")).await.0, code);
    ix.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_writer_shows_within_the_bound_and_404s_are_not_kept() {
    const BOUND_MS: u64 = 200;
    let (_anvil, _anchors, ix, store_url, _dir) = start(BOUND_MS).await;
    // A second store on the same file stands in for a keeper process.
    let other = lucid_store::open(Some(&store_url)).await.unwrap();
    let id = "0badcafe-0000-4000-8000-000000000001";
    let path = format!("/v1/sessions/{id}");
    let (code, v) = cached(&ix, &path).await;
    assert_eq!(code, 404, "{v}");
    assert_eq!(v["error"]["code"], json!("not_found"));
    assert_eq!(cached(&ix, &format!("{path}/chunks")).await.0, 404);

    // (c) the session appears: the cached 404 goes within the bound.
    let sub = SessionSubmission {
        id: id.into(),
        owner_addr: Address::repeat_byte(0x71),
        started_at: 1_704_067_200,
        manifest_hash: B256::repeat_byte(0xA1),
        merkle_root: B256::repeat_byte(0xB1),
        chunk_count: 1,
        owner_sig: FixedBytes::repeat_byte(0x51),
        received_at: 1_704_067_300,
        chunks: vec![],
    };
    other.submit_session(&sub).await.unwrap();
    tokio::time::sleep(Duration::from_millis(BOUND_MS + 50)).await;
    let (code, v) = ix.get(&path).await;
    assert_eq!(
        code, 200,
        "the submission is not visible after the bound: {v}"
    );
    assert_eq!(v["session"]["status"], json!("pending"), "{v}");
    assert!(v["anchoring"].is_null());
    assert_eq!(ix.get(&format!("{path}/chunks")).await.0, 200);

    // (b) another process anchors it (a keeper's put_events of its own anchoring).
    let (_, v) = cached(&ix, &path).await;
    assert_eq!(v["session"]["status"], json!("pending"));
    let tx = B256::repeat_byte(0x99);
    let anchoring = ChainEvent {
        id: ChainEvent::make_id(999, &tx, 0),
        chain_id: 999,
        address: Address::repeat_byte(0xA1),
        event: "SessionRegistered".into(),
        block_number: 5,
        block_hash: B256::repeat_byte(0x05),
        block_time: 1_704_067_400,
        tx_hash: tx,
        log_index: 0,
        args: json!({
            "sessionId": format!("0x{}{}", id.replace('-', ""), "0".repeat(32)),
            "owner": format!("{:#x}", sub.owner_addr), "slot": 11,
            "manifestHash": format!("{:#x}", sub.manifest_hash),
            "merkleRoot": format!("{:#x}", sub.merkle_root),
            "startedAt": sub.started_at, "chunkCount": sub.chunk_count,
        }),
    };
    other
        .put_events(&[anchoring], &Default::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(BOUND_MS + 50)).await;
    let (code, v) = ix.get(&path).await;
    assert_eq!(code, 200);
    assert_eq!(v["session"]["status"], json!("anchored"), "{v}");
    assert_eq!(v["anchoring"]["slot"], json!(11), "{v}");

    // …and the rollback of that anchoring by another process, likewise.
    let (_, v) = cached(&ix, &path).await;
    assert_eq!(v["anchoring"]["slot"], json!(11));
    other.rollback(999, 5, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(BOUND_MS + 50)).await;
    let (code, v) = ix.get(&path).await;
    assert_eq!(code, 200);
    assert_eq!(v["session"]["status"], json!("pending"), "{v}");
    ix.stop().await;
}
