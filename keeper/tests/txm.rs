//! The transaction manager against a real anvil: idempotent enqueue, confirmations, a dropped
//! transaction bumped, a crash after every persisted step, an external sender moving the nonce,
//! a reorg removing the transaction, a reverted call's custom error, slot awareness, one process
//! per key.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use alloy::primitives::{Address, U256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use lucid_chain::ChainClient as Rpc;
use lucid_e2e::{Anvil, test_chain_id};
use lucid_keeper::txm::{
    CrashPoint, NewTx, SlotGuard, TickReport, TxState, Txm, TxmConfig, TxmError,
};
use serde_json::{Value, json};

/// anvil's fourth development account (not used by the deploy script).
const PK: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const RECIPIENT: &str = "0x00000000000000000000000000000000000000aa";

fn signer() -> PrivateKeySigner {
    PK.parse().unwrap()
}

fn cfg() -> TxmConfig {
    TxmConfig {
        bump_after_ms: 60_000, // bumps in these tests come from blocks, not from the clock
        ..TxmConfig::default()
    }
}

async fn open(dir: &Path, anvil: &Anvil, guard: Option<SlotGuard>) -> Txm {
    Txm::open(
        dir,
        Rpc::connect(&anvil.url()).unwrap(),
        signer(),
        cfg(),
        guard,
    )
    .await
    .unwrap()
}

fn transfer(key: &str, slot: Option<u64>) -> NewTx {
    NewTx {
        key: key.into(),
        to: RECIPIENT.parse::<Address>().unwrap().into(),
        data: Vec::new(),
        value: "1000".into(),
        gas_limit: 21_000,
        slot,
    }
}

async fn rpc(anvil: &Anvil, method: &'static str, params: Value) -> Value {
    Rpc::connect(&anvil.url())
        .unwrap()
        .request::<Value>(method, params)
        .await
        .unwrap()
}

async fn mine(anvil: &Anvil, n: u32) {
    for _ in 0..n {
        rpc(anvil, "evm_mine", json!([])).await;
    }
}

async fn balance(anvil: &Anvil, who: &str) -> U256 {
    serde_json::from_value(rpc(anvil, "eth_getBalance", json!([who, "latest"])).await).unwrap()
}

async fn mined_nonce(anvil: &Anvil) -> u64 {
    Rpc::connect(&anvil.url())
        .unwrap()
        .nonce(signer().address(), "latest")
        .await
        .unwrap()
}

/// Ticks until `key` reaches `state` (at most `n` ticks, mining a block between ticks when
/// `mine_between`).
async fn tick_until(
    txm: &Txm,
    anvil: &Anvil,
    key: &str,
    state: TxState,
    mine_between: bool,
) -> TickReport {
    let mut total = TickReport::default();
    for _ in 0..20 {
        let r = txm.tick().await.unwrap();
        total.sent += r.sent;
        total.bumped += r.bumped;
        total.rebroadcast += r.rebroadcast;
        total.reorged += r.reorged;
        total.requeued += r.requeued;
        total.cancel_sent += r.cancel_sent;
        total.cancelled_unsent += r.cancelled_unsent;
        if txm.outbox().by_key(key).await.unwrap().unwrap().state == state {
            return total;
        }
        if mine_between {
            mine(anvil, 1).await;
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!(
        "{key} never reached {state:?}: {:?}",
        txm.outbox().by_key(key).await.unwrap()
    );
}

#[tokio::test]
async fn sends_once_per_key_and_confirms() {
    let anvil = Anvil::start(test_chain_id());
    let dir = tempfile::tempdir().unwrap();
    let txm = open(dir.path(), &anvil, None).await;
    let (e, new) = txm.enqueue(&transfer("anchor:1:5", None)).await.unwrap();
    assert!(new);
    assert_eq!(e.state, TxState::Queued);
    let (again, new) = txm.enqueue(&transfer("anchor:1:5", None)).await.unwrap();
    assert!(!new, "the same key twice must do nothing");
    assert_eq!(again.id, e.id);
    let rep = tick_until(&txm, &anvil, "anchor:1:5", TxState::Confirmed, false).await;
    assert_eq!(rep.sent, 1);
    let e = txm.outbox().by_key("anchor:1:5").await.unwrap().unwrap();
    assert_eq!(e.nonce, Some(0));
    assert!(e.block_hash.is_some() && e.block_number.is_some());
    assert_eq!(e.gas_used, Some(21_000));
    // Enqueued again after confirmation: still nothing new.
    assert!(!txm.enqueue(&transfer("anchor:1:5", None)).await.unwrap().1);
    for _ in 0..3 {
        txm.tick().await.unwrap();
    }
    assert_eq!(balance(&anvil, RECIPIENT).await, U256::from(1000));
    assert_eq!(mined_nonce(&anvil).await, 1);
    // A second key gets the next nonce.
    txm.enqueue(&transfer("register:x:0", None)).await.unwrap();
    tick_until(&txm, &anvil, "register:x:0", TxState::Confirmed, false).await;
    assert_eq!(
        txm.outbox()
            .by_key("register:x:0")
            .await
            .unwrap()
            .unwrap()
            .nonce,
        Some(1)
    );
}

#[tokio::test]
async fn dropped_transaction_is_bumped_and_lands() {
    let anvil = Anvil::start(test_chain_id());
    rpc(&anvil, "anvil_setAutomine", json!([false])).await;
    let dir = tempfile::tempdir().unwrap();
    let txm = open(dir.path(), &anvil, None).await;
    txm.enqueue(&transfer("k", None)).await.unwrap();
    assert_eq!(txm.tick().await.unwrap().sent, 1);
    let e = txm.outbox().by_key("k").await.unwrap().unwrap();
    assert_eq!(e.state, TxState::Broadcast);
    let first = txm.outbox().attempts(e.id).await.unwrap().remove(0);
    rpc(&anvil, "anvil_dropTransaction", json!([first.tx_hash])).await;
    mine(&anvil, 2).await; // two blocks without it
    let rep = txm.tick().await.unwrap();
    assert_eq!(rep.bumped, 1, "{rep:?}");
    let atts = txm.outbox().attempts(e.id).await.unwrap();
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[1].nonce, atts[0].nonce);
    assert!(atts[1].tip * 8 >= atts[0].tip * 9, "tip +12.5%: {atts:?}");
    assert!(atts[1].max_fee * 8 >= atts[0].max_fee * 9, "fee cap +12.5%");
    mine(&anvil, 1).await;
    tick_until(&txm, &anvil, "k", TxState::Confirmed, true).await;
    let e = txm.outbox().by_key("k").await.unwrap().unwrap();
    assert_eq!(e.tx_hash.as_deref(), Some(atts[1].tx_hash.as_str()));
    assert_eq!(balance(&anvil, RECIPIENT).await, U256::from(1000));
}

#[tokio::test]
async fn bumps_stop_at_max_attempts_and_the_fee_cap() {
    let anvil = Anvil::start(test_chain_id());
    rpc(&anvil, "anvil_setAutomine", json!([false])).await;
    let dir = tempfile::tempdir().unwrap();
    let txm = open(dir.path(), &anvil, None).await;
    txm.enqueue(&transfer("k", None)).await.unwrap();
    txm.tick().await.unwrap();
    let id = txm.outbox().by_key("k").await.unwrap().unwrap().id;
    for _ in 0..8 {
        // Keep it out of blocks: drop every attempt before mining.
        for a in txm.outbox().attempts(id).await.unwrap() {
            rpc(&anvil, "anvil_dropTransaction", json!([a.tx_hash])).await;
        }
        mine(&anvil, 2).await;
        txm.tick().await.unwrap();
    }
    let atts = txm.outbox().attempts(id).await.unwrap();
    assert_eq!(atts.len(), 5, "at most 5 attempts");
    assert!(atts.windows(2).all(|w| w[1].max_fee > w[0].max_fee));
    // Once bumps are exhausted the latest attempt is rebroadcast as is and lands.
    mine(&anvil, 1).await;
    tick_until(&txm, &anvil, "k", TxState::Confirmed, true).await;
    assert_eq!(mined_nonce(&anvil).await, 1);
}

#[tokio::test]
async fn crash_after_every_step_neither_loses_nor_doubles() {
    for point in [
        CrashPoint::AfterNonce,
        CrashPoint::AfterSign,
        CrashPoint::AfterBroadcast,
    ] {
        let anvil = Anvil::start(test_chain_id());
        let dir = tempfile::tempdir().unwrap();
        let signed_hash;
        {
            let mut txm = open(dir.path(), &anvil, None).await;
            txm.set_crash(Some(point));
            txm.enqueue(&transfer("k", None)).await.unwrap();
            match txm.tick().await {
                Err(TxmError::Crash(p)) => assert_eq!(p, point),
                other => panic!("expected a crash at {point:?}, got {other:?}"),
            }
            let e = txm.outbox().by_key("k").await.unwrap().unwrap();
            assert_eq!(e.nonce, Some(0), "{point:?}: nonce persisted first");
            signed_hash = txm
                .outbox()
                .attempts(e.id)
                .await
                .unwrap()
                .first()
                .map(|a| a.tx_hash.clone());
        } // the "process" is gone: its lock is released, nothing in memory survives
        let txm = open(dir.path(), &anvil, None).await;
        tick_until(&txm, &anvil, "k", TxState::Confirmed, false).await;
        let e = txm.outbox().by_key("k").await.unwrap().unwrap();
        if let Some(h) = signed_hash {
            // The stored bytes were (re)broadcast as they were: the same hash is mined.
            assert_eq!(e.tx_hash.as_deref(), Some(h.as_str()), "{point:?}");
        }
        assert_eq!(
            mined_nonce(&anvil).await,
            1,
            "{point:?}: exactly one transaction"
        );
        assert_eq!(
            balance(&anvil, RECIPIENT).await,
            U256::from(1000),
            "{point:?}"
        );
    }
}

#[tokio::test]
async fn external_sender_moving_the_nonce_requeues() {
    let anvil = Anvil::start(test_chain_id());
    rpc(&anvil, "anvil_setAutomine", json!([false])).await;
    let dir = tempfile::tempdir().unwrap();
    let txm = open(dir.path(), &anvil, None).await;
    txm.enqueue(&transfer("k", None)).await.unwrap();
    txm.tick().await.unwrap();
    let e = txm.outbox().by_key("k").await.unwrap().unwrap();
    assert_eq!(e.nonce, Some(0));
    // Someone else with the same key takes nonce 0 (our transaction leaves the pool).
    rpc(
        &anvil,
        "anvil_dropTransaction",
        json!([e.tx_hash.clone().unwrap()]),
    )
    .await;
    let other = lucid_e2e::run_ok(lucid_e2e::tool("cast").args([
        "send",
        "--async",
        "--private-key",
        PK,
        "--rpc-url",
        &anvil.url(),
        "--nonce",
        "0",
        "0x00000000000000000000000000000000000000bb",
        "--value",
        "7",
    ]));
    assert!(other.status.success());
    mine(&anvil, 1).await;
    let rep = txm.tick().await.unwrap();
    assert_eq!(rep.requeued, 1, "{rep:?}");
    tick_until(&txm, &anvil, "k", TxState::Confirmed, true).await;
    let e = txm.outbox().by_key("k").await.unwrap().unwrap();
    assert_eq!(e.nonce, Some(1));
    assert_eq!(balance(&anvil, RECIPIENT).await, U256::from(1000));
    assert_eq!(mined_nonce(&anvil).await, 2);
}

#[tokio::test]
async fn reorg_removing_the_transaction_rebroadcasts_it() {
    let anvil = Anvil::start(test_chain_id());
    let dir = tempfile::tempdir().unwrap();
    let txm = open(dir.path(), &anvil, None).await;
    txm.enqueue(&transfer("k", None)).await.unwrap();
    tick_until(&txm, &anvil, "k", TxState::Confirmed, false).await;
    let before = txm.outbox().by_key("k").await.unwrap().unwrap();
    // Replace the last block (the one with our transaction) with an empty one.
    rpc(&anvil, "anvil_reorg", json!([1, []])).await;
    assert_eq!(
        balance(&anvil, RECIPIENT).await,
        U256::ZERO,
        "the reorg removed it"
    );
    let rep = tick_until(&txm, &anvil, "k", TxState::Confirmed, false).await;
    assert_eq!(rep.reorged, 1, "{rep:?}");
    let after = txm.outbox().by_key("k").await.unwrap().unwrap();
    assert_ne!(after.block_hash, before.block_hash);
    assert_eq!(after.tx_hash, before.tx_hash, "rebroadcast byte for byte");
    assert_eq!(balance(&anvil, RECIPIENT).await, U256::from(1000));
}

#[tokio::test]
async fn reverted_transaction_fails_with_its_custom_error() {
    let anvil = Anvil::start(test_chain_id());
    // A contract that always reverts with EmptyBatch() (LucidAnchors' custom error).
    let sel = &keccak256("EmptyBatch()")[..4];
    let code = format!("0x63{}60e01b60005260046000fd", alloy::hex::encode(sel));
    let target = "0x00000000000000000000000000000000000000cc";
    rpc(&anvil, "anvil_setCode", json!([target, code])).await;
    let dir = tempfile::tempdir().unwrap();
    let txm = open(dir.path(), &anvil, None).await;
    let mut tx = transfer("k", None);
    tx.to = target.parse::<Address>().unwrap().into();
    tx.value = "0".into();
    tx.data = vec![1, 2, 3, 4];
    tx.gas_limit = 60_000;
    txm.enqueue(&tx).await.unwrap();
    tick_until(&txm, &anvil, "k", TxState::Failed, false).await;
    let e = txm.outbox().by_key("k").await.unwrap().unwrap();
    assert!(e.error.as_deref().unwrap().contains("EmptyBatch"), "{e:?}");
    // Never retried: more ticks send nothing.
    for _ in 0..3 {
        assert_eq!(txm.tick().await.unwrap(), TickReport::default());
    }
    assert_eq!(mined_nonce(&anvil).await, 1);
}

#[tokio::test]
async fn slot_over_replaces_with_a_self_send_or_never_sends() {
    let anvil = Anvil::start(test_chain_id());
    rpc(&anvil, "anvil_setAutomine", json!([false])).await;
    let head = Rpc::connect(&anvil.url()).unwrap().latest().await.unwrap();
    // Genesis so that the head is early in slot 10.
    let guard = SlotGuard {
        anchors: None,
        genesis_time: head.timestamp - 10 * 120 - 1,
        slot_duration: 120,
    };
    let dir = tempfile::tempdir().unwrap();
    let txm = open(dir.path(), &anvil, Some(guard)).await;
    // A slot already over: cancelled without sending anything.
    txm.enqueue(&transfer("anchor:x:9", Some(9))).await.unwrap();
    let rep = txm.tick().await.unwrap();
    assert_eq!((rep.cancelled_unsent, rep.sent), (1, 0));
    // The current slot: sent, then the slot ends before it is mined.
    txm.enqueue(&transfer("anchor:x:10", Some(10)))
        .await
        .unwrap();
    assert_eq!(txm.tick().await.unwrap().sent, 1);
    let e = txm.outbox().by_key("anchor:x:10").await.unwrap().unwrap();
    rpc(&anvil, "anvil_dropTransaction", json!([e.tx_hash.unwrap()])).await;
    rpc(&anvil, "evm_increaseTime", json!([240])).await;
    mine(&anvil, 1).await;
    let rep = txm.tick().await.unwrap();
    assert_eq!(rep.cancel_sent, 1, "{rep:?}");
    mine(&anvil, 1).await;
    tick_until(&txm, &anvil, "anchor:x:10", TxState::Cancelled, true).await;
    assert_eq!(balance(&anvil, RECIPIENT).await, U256::ZERO);
    assert_eq!(
        mined_nonce(&anvil).await,
        1,
        "the nonce was used by the self-send"
    );
}

#[tokio::test]
async fn a_second_process_with_the_same_key_is_refused() {
    let anvil = Anvil::start(test_chain_id());
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path(), &anvil, None).await;
    let second = Txm::open(
        dir.path(),
        Rpc::connect(&anvil.url()).unwrap(),
        signer(),
        cfg(),
        None,
    )
    .await;
    match second {
        Err(e @ TxmError::Locked { .. }) => {
            assert!(
                e.to_string().contains("another lucid-keeper process"),
                "{e}"
            )
        }
        other => panic!("second process was not refused: {other:?}"),
    }
    // A different key in the same base directory is fine.
    let other: PrivateKeySigner =
        "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"
            .parse()
            .unwrap();
    Txm::open(
        dir.path(),
        Rpc::connect(&anvil.url()).unwrap(),
        other,
        cfg(),
        None,
    )
    .await
    .unwrap();
}
