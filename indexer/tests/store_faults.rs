//! 10: a store fault in the middle of a rollback (the store's `MidRollback` fault: derived rows
//! deleted, events and checkpoint not yet) is retried cleanly and leaves a consistent store, on
//! SQLite and on MongoDB (SecantusDB test server, or `MONGODB_URI`). The indexer runs in-process so
//! the test can inject the fault into the very store it writes.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use lucid_chain::ContractKind;
use lucid_store::{Fault, Store};
use serde_json::json;

async fn fault_mid_rollback(store: Arc<dyn Store>) {
    let anvil = Anvil::start(31337);
    let url = anvil.url();
    let emitter = deploy_emitter(&url).await;
    for n in 0..12 {
        emit(&url, emitter, n).await;
    }
    let port = free_port();
    let mut cfg = onsystem_config(
        &url,
        vec![(emitter, ContractKind::LucidChunkStore)],
        port,
        Duration::from_millis(100),
    );
    cfg.reorg_window = 32;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let run = tokio::spawn(lucid_indexer::run(cfg, store.clone(), rx));
    let wait_cp = |block: u64| {
        let store = store.clone();
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            loop {
                if store
                    .checkpoint(31337)
                    .await
                    .unwrap()
                    .is_some_and(|c| c.block_number >= block)
                {
                    return;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "checkpoint did not reach {block}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    wait_cp(head(&url).await).await;
    // The next rollback fails half-way.
    store.inject_fault(Some(Fault::MidRollback));
    rpc(&url, "anvil_reorg", json!([4, []])).await;
    emit(&url, emitter, 500).await;
    let h = head(&url).await;
    // The follower retries the rollback and re-indexes the new blocks.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let cp = store.checkpoint(31337).await.unwrap().unwrap();
        let canonical = lucid_chain::ChainClient::new(&url, Duration::from_secs(5))
            .unwrap()
            .block(cp.block_number)
            .await
            .unwrap()
            .unwrap();
        if cp.block_number >= h && cp.block_hash == canonical.hash {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no recovery: checkpoint {cp:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tx.send(true).unwrap();
    run.await.unwrap().unwrap();
    assert_exact(store.as_ref(), &url, 31337, emitter).await;
    // The derived state agrees with the events: the storers of the reorged-away blocks are gone.
    let got = stored(store.as_ref(), 31337).await;
    for e in &got {
        let sid = e.args["sessionId"].as_str().unwrap();
        let uuid = lucid_core::models::session_uuid_from_bytes32(sid).unwrap();
        let chunks = store.chunks_of_session(&uuid).await.unwrap();
        assert_eq!(chunks.len(), 1, "{uuid}: {chunks:?}");
        assert_eq!(chunks[0].storers.len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_fault_mid_rollback_sqlite() {
    let (_dir, url) = sqlite_url();
    fault_mid_rollback(lucid_store::open(Some(&url)).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_fault_mid_rollback_mongodb() {
    let url = mongo_url("lucid_indexer_faults");
    fault_mid_rollback(lucid_store::open(Some(&url)).await.unwrap()).await;
}
