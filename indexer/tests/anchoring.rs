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

/// The product's promise end to end: a session with its chunk list, anchored on the real
/// LucidAnchors, then `GET /v1/sessions/{id}` (its `sessionAnchorTuple`) and
/// `GET /v1/sessions/{id}/chunks/{i}/proof` give exactly what the contract's `verifyChunk` accepts for
/// every chunk, and it refuses a changed chunk. The indexer finds the contracts and its start block
/// in `deployments/<chainId>.json` alone (no address flags).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunk_proofs_from_the_api_verify_on_the_contract() {
    use alloy::primitives::B256;
    use alloy::sol_types::SolCall;
    use lucid_chain::bindings::ILucidAnchors;
    use lucid_core::models::{ChunkEntry, SessionSubmission};

    let chain_id = lucid_e2e::test_chain_id();
    let anvil = Anvil::start(chain_id);
    let url = anvil.url();
    let d = deploy_onsystem(&anvil, chain_id);
    let key = owner_key();
    let id = session_uuid(7_000);
    let sid = lucid_core::session::SessionId(id).to_bytes32();
    // Five chunks: an odd count, so the tree has a lone node on its way up.
    let chunks: Vec<ChunkEntry> = (0..5u32)
        .map(|i| ChunkEntry {
            idx: i,
            chunk_hash: alloy::primitives::keccak256(format!("chunk {i}")),
            size: 1_000_000 + u64::from(i),
        })
        .collect();
    let leaves: Vec<B256> = chunks
        .iter()
        .map(|c| lucid_core::merkle::leaf(&sid, c.idx, &c.chunk_hash, c.size))
        .collect();
    let root = lucid_core::merkle::root(&leaves).unwrap();
    let core = lucid_core::session::SessionAnchor {
        sessionId: sid,
        manifestHash: alloy::primitives::keccak256("manifest"),
        merkleRoot: root,
        owner: address_of(&key),
        startedAt: d.genesis_time + 5,
        chunkCount: 5,
    };
    let sig = lucid_core::anchor::sign(&key, &core, chain_id, d.anchors).unwrap();
    let slot = current_slot(&url, d.genesis_time).await;
    let data = ILucidAnchors::anchorBatchCall {
        slot,
        sessions: vec![binding_anchor(&core)],
        ownerSigs: vec![[sig.r, sig.vs]],
    }
    .abi_encode();
    let tx = send_anchor_batch(&url, d.anchors, &data).await;
    assert!(receipt_gas(&url, tx).await.1, "anchorBatch reverted");

    // The session as a keeper stores it (with its chunk list), before the indexer runs.
    let (_dir, store_url) = sqlite_url();
    let store = lucid_store::open(Some(&store_url)).await.unwrap();
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(sig.r.as_slice());
    compact[32..].copy_from_slice(sig.vs.as_slice());
    store
        .submit_session(&SessionSubmission {
            id: id.to_string(),
            owner_addr: core.owner,
            started_at: core.startedAt,
            manifest_hash: core.manifestHash,
            merkle_root: root,
            chunk_count: 5,
            owner_sig: compact.into(),
            received_at: core.startedAt,
            chunks: chunks.clone(),
        })
        .await
        .unwrap();
    drop(store);

    let deployments = lucid_e2e::repo_root().join("deployments");
    let args: Vec<String> = vec![
        "--onsystem-rpc".into(),
        url.clone(),
        "--deployments".into(),
        deployments.display().to_string(),
        // A test chain id is not 31337/31338, so the default would be 12.
        "--onsystem-confirmations".into(),
        "0".into(),
    ];
    let mut ix = Indexer::spawn(&store_url, &args);
    ix.wait_checkpoint(chain_id, head(&url).await, Duration::from_secs(60))
        .await;
    let (code, v) = ix.get(&format!("/v1/sessions/{id}")).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["session"]["status"], "anchored", "{v}");
    let t = &v["sessionAnchorTuple"];
    let b = |x: &serde_json::Value| -> B256 { x.as_str().unwrap().parse().unwrap() };
    let anchor = ILucidAnchors::SessionAnchor {
        sessionId: b(&t[0]),
        manifestHash: b(&t[1]),
        merkleRoot: b(&t[2]),
        owner: t[3].as_str().unwrap().parse().unwrap(),
        startedAt: t[4].as_u64().unwrap(),
        chunkCount: t[5].as_u64().unwrap() as u32,
    };
    let verify = |index: u32, chunk_hash: B256, size: u64, proof: Vec<B256>| {
        let call = ILucidAnchors::verifyChunkCall {
            s: anchor.clone(),
            index,
            chunkHash: chunk_hash,
            size,
            proof,
        }
        .abi_encode();
        let (url, to) = (url.clone(), d.anchors);
        async move {
            let out = rpc(
                &url,
                "eth_call",
                json!([{"to": to, "data": format!("0x{}", alloy::hex::encode(call))}, "latest"]),
            )
            .await;
            let bytes = alloy::hex::decode(out.as_str().unwrap()).unwrap();
            ILucidAnchors::verifyChunkCall::abi_decode_returns(&bytes).unwrap()
        }
    };
    for c in &chunks {
        let (code, p) = ix
            .get(&format!("/v1/sessions/{id}/chunks/{}/proof", c.idx))
            .await;
        assert_eq!(code, 200, "{p}");
        assert_eq!(b(&p["chunkHash"]), c.chunk_hash, "{p}");
        assert_eq!(p["size"].as_u64(), Some(c.size), "{p}");
        assert_eq!(b(&p["merkleRoot"]), root, "{p}");
        let proof: Vec<B256> = p["proof"].as_array().unwrap().iter().map(b).collect();
        assert!(
            verify(c.idx, c.chunk_hash, c.size, proof.clone()).await,
            "verifyChunk refused chunk {} with the API's proof: {p}",
            c.idx
        );
        assert!(
            !verify(c.idx, c.chunk_hash, c.size + 1, proof).await,
            "verifyChunk accepted chunk {} with a changed size",
            c.idx
        );
    }
    assert!(ix.terminate().success());
}
