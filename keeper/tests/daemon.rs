//! `lucid-keeper run` against a real anvil with a clock: start-up checks, the HTTP API (good and
//! hostile input), anchoring of submitted sessions in the keeper's slots, one process per key.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use alloy::primitives::B256;
use common::*;
use lucid_e2e::test_chain_id;
use serde_json::{Value, json};

const GENESIS_BACK: u64 = 100 * 120; // chain time starts in slot ~100 of epoch 0

struct Setup {
    chain: Chain,
    d: Deployed,
    dir: tempfile::TempDir,
    store: String,
}

async fn setup(anchorers: &[&str]) -> Setup {
    let chain = Chain::start(test_chain_id()).await;
    let now = chain.now().await;
    let addrs: Vec<_> = anchorers.iter().map(|k| addr(k)).collect();
    let d = deploy(&chain, now - GENESIS_BACK, &addrs).await;
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("store.db").display());
    Setup {
        chain,
        d,
        dir,
        store,
    }
}

fn keeper(s: &Setup, key: &str, extra: Vec<(&'static str, String)>) -> Keeper {
    Keeper::spawn(&KeeperConfig {
        chain: &s.chain,
        d: s.d,
        key,
        store: &s.store,
        state_dir: &s.dir.path().join("state"),
        log_dir: s.dir.path(),
        extra_env: extra,
    })
}

async fn wait_for<F, Fut>(what: &str, secs: u64, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn single_keeper_takes_proofs_and_sessions_and_anchors_them() {
    let s = setup(&[KEYS[0]]).await;
    let mut k = keeper(&s, KEYS[0], vec![]);
    k.wait_ready().await;
    let cid = s.chain.chain_id;

    // Proofs: accepted, then duplicates; a bad one rejected with its reason.
    let slot_now = (s.chain.now().await - (s.chain.now().await - GENESIS_BACK)) / 120;
    let lines = proofs(cid, KEYS[0], 10..20, 5 << 20);
    let (st, v) = post(&k.url("/v1/proofs"), lines.join("\n"), None).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["accepted"], 11, "{v}");
    let (st, v) = post(&k.url("/v1/proofs"), format!("[{}]", lines.join(",")), None).await;
    assert_eq!((st, v["duplicate"].as_u64()), (200, Some(11)), "{v}");
    let mut bad: Value = serde_json::from_str(&lines[0]).unwrap();
    bad["slot"] = json!(slot_now + 1000);
    let (st, v) = post(&k.url("/v1/proofs"), format!("[{bad}, {}]", lines[1]), None).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["results"][0]["status"], "rejected");
    assert!(v["results"][0]["reason"].is_string(), "{v}");
    assert_eq!(v["results"][1]["status"], "duplicate");

    // Sessions: stored pending, duplicate on resubmission, 409 on other content.
    let start = s.chain.now().await;
    let (body, anchor) = session(cid, s.d.anchors, 5, start);
    let (st, v) = post(&k.url("/v1/sessions"), body.to_string(), Some(TOKEN)).await;
    assert_eq!((st, v["status"].as_str()), (200, Some("accepted")), "{v}");
    let (st, v) = post(&k.url("/v1/sessions"), body.to_string(), Some(TOKEN)).await;
    assert_eq!((st, v["status"].as_str()), (200, Some("duplicate")), "{v}");
    let mut other = body.clone();
    other["manifest"]["codec"] = json!("flac"); // another manifestHash → the signature no longer matches
    let (st, _) = post(&k.url("/v1/sessions"), other.to_string(), Some(TOKEN)).await;
    assert_eq!(st, 400);

    // Nobody is ranked in epoch 0 (no proofs before the freeze): no_eligible_leader, so any
    // anchorer acts after SLOT_TIMEOUT_MS. The session gets anchored by this keeper.
    wait_for("the session to be anchored", 60, || async {
        anchor_digest(&s.chain, s.d.anchors, anchor.sessionId).await == digest(&anchor)
    })
    .await;
    let (st, sched) = get(&k.url("/v1/schedule")).await.unwrap();
    assert_eq!(st, 200, "{sched}");
    assert_eq!(
        sched["slots"][0]["planReason"], "no_eligible_leader",
        "{sched}"
    );
    let (st, e) = get(&k.url("/v1/epochs/0")).await.unwrap();
    assert_eq!(st, 200, "{e}");
    assert_eq!(e["epoch"], 0);
    let (st, _) = get(&k.url("/v1/epochs/99")).await.unwrap();
    assert_eq!(st, 404);

    // A second keeper process with the same key refuses to start.
    let mut second = keeper(&s, KEYS[0], vec![]);
    let st = second.wait_exit();
    assert!(!st.success());
    assert!(
        second.log_text().contains("another lucid-keeper process"),
        "{}",
        second.log_text()
    );

    // /metrics counts what happened.
    let r = client()
        .get(k.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(r.contains("lucid_keeper_proofs_accepted_total 11"), "{r}");
    assert!(r.contains("lucid_keeper_anchors_enqueued_total 1"), "{r}");
}

#[tokio::test]
async fn hostile_input_gets_4xx_json_and_stores_nothing() {
    let s = setup(&[KEYS[0]]).await;
    let mut k = keeper(&s, KEYS[0], vec![]);
    k.wait_ready().await;
    let cid = s.chain.chain_id;
    let (good, _) = session(cid, s.d.anchors, 3, 1_700_000_000);
    let big = vec![b'['; 20 << 20];
    let cases: Vec<(&str, Vec<u8>, Option<&str>, u16)> = vec![
        ("/v1/proofs", b"{not json".to_vec(), None, 422),
        ("/v1/proofs", b"[{not json".to_vec(), None, 400),
        ("/v1/proofs", b"".to_vec(), None, 400),
        ("/v1/proofs", b"[1, \"x\", null]".to_vec(), None, 422),
        ("/v1/proofs", vec![0xff, 0xfe, 0x00], None, 400),
        ("/v1/proofs", big.clone(), None, 413),
        ("/v1/sessions", good.to_string().into_bytes(), None, 401),
        ("/v1/sessions", good.to_string().into_bytes(), Some("wrong"), 401),
        ("/v1/sessions", b"{".to_vec(), Some(TOKEN), 400),
        ("/v1/sessions", b"[]".to_vec(), Some(TOKEN), 400),
        ("/v1/sessions", big, Some(TOKEN), 413),
        ("/v1/sessions", json!({"manifest": good["manifest"], "chunks": good["chunks"], "ownerSig": good["ownerSig"], "extra": 1}).to_string().into_bytes(), Some(TOKEN), 400),
        ("/v1/sessions", json!({"manifest": good["manifest"], "chunks": good["chunks"], "ownerSig": "0x00"}).to_string().into_bytes(), Some(TOKEN), 400),
        ("/v1/sessions", json!({"manifest": good["manifest"], "ownerSig": good["ownerSig"]}).to_string().into_bytes(), Some(TOKEN), 400),
        ("/v1/sessions", json!({"manifest": good["manifest"], "chunks": good["chunks"], "merkleRoot": good["manifest"]["merkleRoot"], "ownerSig": good["ownerSig"]}).to_string().into_bytes(), Some(TOKEN), 400),
        ("/v1/sessions", json!({"manifest": 5, "chunks": [], "ownerSig": good["ownerSig"]}).to_string().into_bytes(), Some(TOKEN), 400),
        ("/v1/chunks/register", b"{}".to_vec(), Some(TOKEN), 400),
        ("/v1/chunks/register", json!({"sessionId": "nope", "index": 0}).to_string().into_bytes(), Some(TOKEN), 400),
        ("/v1/chunks/register", json!({"sessionId": "0f8fad5b-d9cb-469f-a165-70867728950e", "index": 0}).to_string().into_bytes(), Some(TOKEN), 404),
        ("/v1/chunks/register", json!({"sessionId": "0f8fad5b-d9cb-469f-a165-70867728950e", "index": -1}).to_string().into_bytes(), Some(TOKEN), 400),
    ];
    for (path, body, token, want) in cases {
        let (st, v) = post(&k.url(path), body.clone(), token).await;
        assert_eq!(
            st,
            want,
            "{path} {:?}: {v}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        );
        assert!(
            v["error"]["code"].is_string(),
            "{path}: JSON error expected, got {v}"
        );
    }
    // A session whose root does not match its chunks.
    let mut bad = good.clone();
    bad["chunks"][0]["size"] = json!(5);
    let (st, v) = post(&k.url("/v1/sessions"), bad.to_string(), Some(TOKEN)).await;
    assert_eq!(
        (st, v["error"]["code"].as_str()),
        (400, Some("root_mismatch")),
        "{v}"
    );
    // Wrong chunk count.
    let mut bad = good.clone();
    bad["chunks"].as_array_mut().unwrap().pop();
    let (st, v) = post(&k.url("/v1/sessions"), bad.to_string(), Some(TOKEN)).await;
    assert_eq!(
        (st, v["error"]["code"].as_str()),
        (400, Some("chunk_count_mismatch")),
        "{v}"
    );
    for (path, want) in [
        ("/v1/schedule?from=x", 400),
        ("/v1/schedule?from=10&to=5", 400),
        ("/v1/schedule?from=0&to=100000", 400),
        ("/v1/schedule?bogus=1", 400),
        ("/v1/epochs/abc", 400),
        ("/nope", 404),
    ] {
        let (st, v) = get(&k.url(path)).await.unwrap();
        assert_eq!(st, want, "{path}: {v}");
        assert!(v["error"]["code"].is_string(), "{path}: {v}");
    }
    // Nothing was stored: the good session is still unknown (a first submission is accepted).
    let (st, v) = post(&k.url("/v1/sessions"), good.to_string(), Some(TOKEN)).await;
    assert_eq!((st, v["status"].as_str()), (200, Some("accepted")), "{v}");
    let r = client()
        .get(k.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(r.contains("lucid_keeper_proofs_accepted_total 0"), "{r}");
    let (st, doc) = get(&k.url("/openapi.json")).await.unwrap();
    assert_eq!(st, 200);
    assert!(doc["paths"]["/v1/proofs"].is_object(), "{doc}");
}

#[tokio::test]
async fn startup_refuses_a_genesis_time_that_disagrees_with_the_contract() {
    let s = setup(&[KEYS[0]]).await;
    let mut k = keeper(&s, KEYS[0], vec![("GENESIS_TIME", "1704067200".into())]);
    let st = k.wait_exit();
    assert!(!st.success());
    assert!(
        k.log_text()
            .contains("disagrees with LucidAnchors.GENESIS_TIME"),
        "{}",
        k.log_text()
    );
    let _ = B256::ZERO;
}
