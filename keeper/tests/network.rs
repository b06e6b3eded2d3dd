//! Three keepers on one anvil and one store, SPEC §6 end to end: proofs posted over HTTP, the
//! epoch frozen once and verified by the others, every slot anchored by its planned primary across
//! an epoch boundary, sessions anchored exactly once, no honest transaction reverting, the frozen
//! tally equal to `lucid-keeper credits`, a key without the role counting for nothing; then the
//! primary killed with SIGKILL and fallback 1 anchoring its slot.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};
use alloy::sol_types::SolEvent;
use common::*;
use lucid_chain::bindings::ILucidAnchors;
use lucid_e2e::test_chain_id;
use lucid_keeper::daemon::chainview::ChainView;
use serde_json::{Value, json};

const EPOCH: u64 = 8;
const FIRST: u64 = 720 * EPOCH; // first slot of epoch 8

async fn submitter(view: &ChainView, slot: u64) -> Address {
    view.slot_submitter(slot).await.unwrap()
}

#[tokio::test]
async fn three_keepers_anchor_by_plan_across_an_epoch_boundary() {
    let chain = Chain::start(test_chain_id()).await;
    let cid = chain.chain_id;
    let now = chain.now().await;
    // Chain time 3 slots before epoch 8, a few seconds into the slot.
    let genesis = now - (FIRST - 3) * 120 - 2;
    let nodes: Vec<Address> = KEYS.iter().map(|k| addr(k)).collect();
    let d = deploy(&chain, genesis, &nodes).await;
    let start = |s: u64| genesis + 120 * s;
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("store.db").display());
    let state = dir.path().join("state");
    let spawn = |key: &str| {
        Keeper::spawn(&KeeperConfig {
            chain: &chain,
            d,
            key,
            store: &store,
            state_dir: &state,
            log_dir: dir.path(),
            extra_env: vec![("SLOT_TIMEOUT_MS", "10000".into())],
        })
    };
    let mut keepers: Vec<Keeper> = Vec::new();
    for key in KEYS {
        keepers.push(spawn(key));
        keepers.last_mut().unwrap().wait_ready().await;
    }
    // Proofs for epoch 8's window, posted over HTTP: beacons in 1,098 slots (live score ≥ D_MIN)
    // and relay work 6 / 4 / 2 units; a node without the role posts the most work.
    let slot_now = (chain.now().await - genesis) / 120;
    let mut all = Vec::new();
    for (i, key) in KEYS.iter().chain([&OUTSIDER_KEY]).enumerate() {
        let work = [6u64, 4, 2, 50][i] * (5 << 20);
        all.extend(proofs(cid, key, FIRST - 1100..slot_now + 1, work));
    }
    let (st, v) = post(&keepers[0].url("/v1/proofs"), all.join("\n"), None).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["rejected"], 0, "{v}");
    let proofs_file = dir.path().join("proofs.jsonl");
    std::fs::write(&proofs_file, all.join("\n")).unwrap();

    // Into epoch 8.
    chain.warp_to(start(FIRST)).await;
    let view = ChainView {
        rpc: chain.rpc.clone(),
        anchors: d.anchors,
        start_block: 0,
    };
    let mut sessions = Vec::new();
    let mut plans: BTreeMap<u64, Value> = BTreeMap::new();
    for slot in FIRST..FIRST + 30 {
        let (body, anchor) = session(cid, d.anchors, 3, 1_700_000_000 + slot);
        let k = &keepers[(slot % 3) as usize];
        let (st, v) = post(&k.url("/v1/sessions"), body.to_string(), Some(TOKEN)).await;
        assert_eq!(st, 200, "{v}");
        sessions.push(anchor);
        if slot > FIRST {
            chain.warp_to(start(slot)).await;
        }
        let deadline = Instant::now() + Duration::from_secs(40);
        while submitter(&view, slot).await == Address::ZERO {
            assert!(
                Instant::now() < deadline,
                "slot {slot} not anchored:\n{}",
                keepers[0].log_text()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (_, sched) = get(&keepers[1].url(&format!("/v1/schedule?from={slot}&to={}", slot + 1)))
            .await
            .unwrap();
        let plan = sched["slots"][0].clone();
        let primary: Address = plan["primary"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            submitter(&view, slot).await,
            primary,
            "slot {slot}: plan {plan}"
        );
        plans.insert(slot, plan);
    }
    // Every session anchored, exactly once.
    let head = chain.rpc.block_number().await.unwrap();
    let logs = chain
        .rpc
        .logs(
            d.anchors,
            json!([ILucidAnchors::SessionRegistered::SIGNATURE_HASH]),
            0,
            head,
        )
        .await
        .unwrap();
    let mut seen = HashSet::new();
    for l in &logs {
        assert!(
            seen.insert(l.topics[1]),
            "session {} registered twice",
            l.topics[1]
        );
    }
    for a in &sessions {
        assert!(
            seen.contains(&a.sessionId),
            "session {} never anchored",
            a.sessionId
        );
    }
    // No keeper transaction reverted.
    for n in d.start_block..=head {
        let b: Value = chain
            .req("eth_getBlockByNumber", json!([format!("0x{n:x}"), true]))
            .await;
        for tx in b["transactions"].as_array().unwrap() {
            let from: Address = tx["from"].as_str().unwrap().parse().unwrap();
            if nodes.contains(&from) {
                let h: B256 = tx["hash"].as_str().unwrap().parse().unwrap();
                let r = chain.rpc.receipt(h).await.unwrap().unwrap();
                assert_eq!(r.status, 1, "keeper tx {h} reverted");
            }
        }
    }
    // The frozen tally: members only, equal to `lucid-keeper credits` on the same proofs.
    let (_, epoch) = get(&keepers[2].url(&format!("/v1/epochs/{EPOCH}")))
        .await
        .unwrap();
    let rows = epoch["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{epoch}");
    let outsider = format!("{:#x}", addr(OUTSIDER_KEY));
    assert!(
        rows.iter().all(|r| r["entityId"] != outsider.as_str()),
        "{epoch}"
    );
    let members_file = dir.path().join("members.json");
    std::fs::write(
        &members_file,
        serde_json::to_string(&nodes.iter().map(|a| format!("{a:#x}")).collect::<Vec<_>>())
            .unwrap(),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lucid-keeper"))
        .args(["credits", "--rows", "--proofs"])
        .arg(&proofs_file)
        .args([
            "--epoch",
            &EPOCH.to_string(),
            "--seed",
            epoch["seed"].as_str().unwrap(),
            "--chain-id",
            &cid.to_string(),
            "--current-slot",
            &FIRST.to_string(),
            "--members",
        ])
        .arg(&members_file)
        .env("GENESIS_TIME", genesis.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let offline: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        offline["tally_hash"], epoch["tally_hash"],
        "offline {offline}\nstored {epoch}"
    );

    // SIGKILL the primary of the next slot: fallback 1 anchors it after SLOT_TIMEOUT_MS.
    let slot = FIRST + 30;
    let (_, sched) = get(&keepers[1].url(&format!("/v1/schedule?from={slot}&to={}", slot + 1)))
        .await
        .unwrap();
    let plan = sched["slots"][0].clone();
    let primary: Address = plan["primary"].as_str().unwrap().parse().unwrap();
    let fallback1: Address = plan["fallbacks"][0].as_str().unwrap().parse().unwrap();
    let victim = nodes.iter().position(|n| *n == primary).unwrap();
    keepers[victim].kill();
    let alive = (victim + 1) % 3;
    let (body, _) = session(cid, d.anchors, 2, 1_800_000_000);
    let (st, v) = post(
        &keepers[alive].url("/v1/sessions"),
        body.to_string(),
        Some(TOKEN),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    chain.warp_to(start(slot)).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while submitter(&view, slot).await == Address::ZERO {
        assert!(
            Instant::now() < deadline,
            "slot {slot} not anchored by a fallback"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(submitter(&view, slot).await, fallback1, "plan {plan}");
    // The killed keeper restarts from its outbox and sends nothing more for that slot.
    keepers[victim] = spawn(KEYS[victim]);
    keepers[victim].wait_ready().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(submitter(&view, slot).await, fallback1);
}
