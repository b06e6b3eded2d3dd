//! Real LucidAnchors (deployed by the repository's forge script) on a real anvil: the indexer
//! stores each anchored session's `gas_used` from the anchoring transaction's receipt (gas per
//! session: receipt `gasUsed` / sessions registered), and rolls it back with the anchoring.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gas_used_is_the_anchoring_receipts_gas_per_session() {
    let chain_id = lucid_e2e::test_chain_id();
    let anvil = Anvil::start(chain_id);
    let url = anvil.url();
    let d = deploy_onsystem(&anvil, chain_id);
    let key = owner_key();
    // One batch of 100 sessions and one of 7, in two slots.
    let slot = current_slot(&url, d.genesis_time).await;
    let data = anchor_batch_calldata(&key, chain_id, d.anchors, slot, 0, 100);
    let tx100 = send_anchor_batch(&url, d.anchors, &data).await;
    let (gas100, ok) = receipt_gas(&url, tx100).await;
    assert!(ok, "anchorBatch of 100 reverted");
    rpc(&url, "evm_increaseTime", json!([120])).await;
    let slot2 = current_slot(&url, d.genesis_time).await + 1;
    let data = anchor_batch_calldata(&key, chain_id, d.anchors, slot2, 100, 7);
    let tx7 = send_anchor_batch(&url, d.anchors, &data).await;
    let (gas7, ok) = receipt_gas(&url, tx7).await;
    assert!(ok, "anchorBatch of 7 reverted");

    let (_dir, store_url) = sqlite_url();
    let args: Vec<String> = [
        "--onsystem-rpc",
        &url,
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
    .collect();
    let mut ix = Indexer::spawn(&store_url, &args);
    ix.wait_checkpoint(chain_id, head(&url).await, Duration::from_secs(60))
        .await;

    let per100 = gas100 / 100;
    assert!(
        per100 <= 32_500,
        "{per100} gas per session at 100 exceeds SPEC's 32,500"
    );
    for (n, want, tx) in [
        (0u64, per100, tx100),
        (99, per100, tx100),
        (100, gas7 / 7, tx7),
    ] {
        let id = session_uuid(n).to_string();
        let (code, v) = ix.get(&format!("/v1/sessions/{id}")).await;
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["session"]["status"], "anchored", "{v}");
        assert_eq!(v["session"]["anchor_txid"], format!("{tx:#x}"), "{v}");
        assert_eq!(
            v["session"]["gas_used"].as_u64(),
            Some(want),
            "session {n}: {v}"
        );
        assert_eq!(v["anchoring"]["gasUsed"].as_u64(), Some(want), "{v}");
    }
    assert_ne!(gas100 / 100, gas7 / 7, "the two batches must be told apart");
    // Every session of the store has it.
    let (code, v) = ix.get("/v1/sessions?limit=1000").await;
    assert_eq!(code, 200);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 107);
    assert!(items.iter().all(|s| s["gas_used"].as_u64().is_some()));

    // A reorg that drops the batch of 7: its sessions go away with their gas; re-anchored in
    // another transaction on the new chain, they take that one's gas.
    rpc(&url, "anvil_reorg", json!([1, []])).await;
    ix.wait_checkpoint(chain_id, head(&url).await, Duration::from_secs(60))
        .await;
    let id = session_uuid(100).to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (code, _) = ix.get(&format!("/v1/sessions/{id}")).await;
        if code == 404 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "rolled-back session still served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let slot3 = current_slot(&url, d.genesis_time).await;
    let data = anchor_batch_calldata(&key, chain_id, d.anchors, slot3, 100, 3);
    let tx3 = send_anchor_batch(&url, d.anchors, &data).await;
    let (gas3, ok) = receipt_gas(&url, tx3).await;
    assert!(ok);
    ix.wait_checkpoint(chain_id, head(&url).await, Duration::from_secs(60))
        .await;
    let (code, v) = ix.get(&format!("/v1/sessions/{id}")).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["session"]["anchor_txid"], format!("{tx3:#x}"));
    assert_eq!(v["session"]["gas_used"].as_u64(), Some(gas3 / 3), "{v}");
    ix.terminate();
}
