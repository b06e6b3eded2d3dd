//! lucid-payout's sender through the stand-in (real anvil, blocks every 200 ms): pays once,
//! resumes a journalled attempt without paying twice, rebuilds only after the solidified chain passed
//! an attempt's expiration, rebuilds on OUT_OF_ENERGY with fee_limit × 1.5, reports reverts decoded.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Rig, key, owner_of, transfer_data, transfer_topics};
use lucid_payout::api::ContractResult;
use lucid_payout::{
    ExpectedLog, Journal, MemoryJournal, PayoutCall, SendError, Sender, SenderConfig, TronAddress,
};

fn cfg() -> SenderConfig {
    SenderConfig {
        poll_interval: Duration::from_millis(100),
        busy_backoff: Duration::from_millis(100),
        ..SenderConfig::default()
    }
}

fn call(rig: &Rig, from: &TronAddress, to: &TronAddress, amount: u64) -> PayoutCall {
    PayoutCall {
        contract: rig.usdt,
        data: transfer_data(to, amount),
        expected_logs: vec![ExpectedLog {
            address: rig.usdt,
            topics: transfer_topics(from, to),
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pays_once_resumes_without_paying_twice_and_refuses_a_revert_before_sending() {
    let rig = Rig::start(true).await;
    let payer = key("payer");
    let owner = owner_of(&payer);
    let rcpt = owner_of(&key("recipient"));
    rig.mint(&owner, 1_000);
    let sender = Sender::new(&rig.client, &payer, cfg());
    assert_eq!(sender.owner(), owner);

    let c = call(&rig, &owner, &rcpt, 7);
    let mut j = MemoryJournal::default();
    let done = sender.send(&c, &mut j, None).await.unwrap();
    assert_eq!(done.info.receipt_result, Some(ContractResult::Success));
    assert_eq!(j.attempts.len(), 1);
    assert_eq!(j.attempts[0], done.tx);
    assert!(done.tx.fee_limit > 0);
    assert_eq!(rig.balance(&rcpt).await, 7);

    // Resuming with the journalled attempt finds it; nothing new is built or paid.
    let again = sender
        .send(&c, &mut j, Some(done.tx.clone()))
        .await
        .unwrap();
    assert_eq!(again.tx.txid, done.tx.txid);
    assert_eq!(j.attempts.len(), 1);
    assert_eq!(rig.balance(&rcpt).await, 7);

    // SUCCESS without the expected log is not a payout.
    let other = owner_of(&key("other"));
    let mut wrong = call(&rig, &owner, &rcpt, 1);
    wrong.expected_logs[0].topics = transfer_topics(&owner, &other);
    let e = sender.send(&wrong, &mut j, None).await.unwrap_err();
    assert!(matches!(e, SendError::MissingLog { .. }), "{e}");

    // More than the payer holds: the preflight reverts, decoded; nothing is journalled or sent.
    let n = j.attempts.len();
    let e = sender
        .send(&call(&rig, &owner, &rcpt, 1_000_000), &mut j, None)
        .await
        .unwrap_err();
    match &e {
        SendError::WouldRevert { reason } => {
            assert!(reason.contains("InsufficientTokenBalance"), "{reason}")
        }
        other => panic!("{other}"),
    }
    assert_eq!(j.attempts.len(), n);
    assert_eq!(rig.balance(&rcpt).await, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilds_only_after_expiry_on_the_solidified_chain_and_on_out_of_energy() {
    let rig = Rig::start(true).await;
    let payer = key("payer");
    let owner = owner_of(&payer);
    let rcpt = owner_of(&key("recipient"));
    rig.mint(&owner, 1_000);
    let sender = Sender::new(&rig.client, &payer, cfg());

    // Crash between journalling and broadcasting: the attempt was never sent. While it could still
    // be included it is broadcast as is; here the chain has passed its expiration first, so a new
    // attempt is built, and the payout is made once.
    let c = call(&rig, &owner, &rcpt, 11);
    let lost = sender.build(&c, 50_000_000).await.unwrap();
    let mut j = MemoryJournal::default();
    j.record_attempt(&lost).await.unwrap();
    rig.advance(120).await;
    let done = sender.send(&c, &mut j, Some(lost.clone())).await.unwrap();
    assert_ne!(done.tx.txid, lost.txid);
    assert_eq!(j.dead, vec![(lost.txid_hex(), "expired".to_string())]);
    assert_eq!(rig.balance(&rcpt).await, 11);
    assert_eq!(rig.client.tx_info(&lost.txid, false).await.unwrap(), None);

    // A journalled attempt still valid is broadcast as is (not rebuilt).
    let c2 = call(&rig, &owner, &rcpt, 2);
    let pending = sender.build(&c2, 50_000_000).await.unwrap();
    let mut j2 = MemoryJournal::default();
    let done = sender
        .send(&c2, &mut j2, Some(pending.clone()))
        .await
        .unwrap();
    assert_eq!(done.tx.txid, pending.txid);
    assert!(j2.attempts.is_empty() && j2.dead.is_empty());
    assert_eq!(rig.balance(&rcpt).await, 13);

    // fee_limit too low (30% of the estimate): OUT_OF_ENERGY, rebuilt with × 1.5 until it fits.
    let low = Sender::new(
        &rig.client,
        &payer,
        SenderConfig {
            energy_margin_pct: 30,
            ..cfg()
        },
    );
    let rcpt2 = owner_of(&key("recipient-2"));
    let mut j3 = MemoryJournal::default();
    let done = low
        .send(&call(&rig, &owner, &rcpt2, 5), &mut j3, None)
        .await
        .unwrap();
    assert!(j3.attempts.len() >= 2, "{:?}", j3.attempts);
    assert_eq!(j3.dead.len(), j3.attempts.len() - 1);
    assert!(j3.dead.iter().all(|(_, why)| why == "OUT_OF_ENERGY"));
    for w in j3.attempts.windows(2) {
        assert_eq!(w[1].fee_limit, w[0].fee_limit * 3 / 2);
    }
    let oe = rig
        .client
        .tx_info(&j3.attempts[0].txid, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(oe.receipt_result, Some(ContractResult::OutOfEnergy));
    assert!(oe.failed);
    assert_eq!(done.tx, *j3.attempts.last().unwrap());
    assert_eq!(rig.balance(&rcpt2).await, 5);

    // At most `max_energy_rebuilds` rebuilds, then a clear error; nothing paid.
    let starved = Sender::new(
        &rig.client,
        &payer,
        SenderConfig {
            energy_margin_pct: 1,
            max_energy_rebuilds: 1,
            ..cfg()
        },
    );
    let rcpt3 = owner_of(&key("recipient-3"));
    let mut j4 = MemoryJournal::default();
    let e = starved
        .send(&call(&rig, &owner, &rcpt3, 5), &mut j4, None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, SendError::OutOfEnergy { rebuilds: 1, .. }),
        "{e}"
    );
    assert_eq!(j4.attempts.len(), 2);
    assert_eq!(rig.balance(&rcpt3).await, 0);

    // An attempt that reverts on chain (the payer spent its balance after it was built): fatal,
    // with the decoded custom error.
    let c5 = call(&rig, &owner, &rcpt, 900);
    let stale = sender.build(&c5, 50_000_000).await.unwrap();
    let sink = owner_of(&key("sink"));
    let left = 1_000 - 11 - 2 - 5;
    sender
        .send(
            &call(&rig, &owner, &sink, left),
            &mut MemoryJournal::default(),
            None,
        )
        .await
        .unwrap();
    let e = sender
        .send(&c5, &mut MemoryJournal::default(), Some(stale.clone()))
        .await
        .unwrap_err();
    match &e {
        SendError::Reverted { txid, reason } => {
            assert_eq!(*txid, stale.txid_hex());
            assert!(reason.contains("InsufficientTokenBalance"), "{reason}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(rig.balance(&rcpt).await, 13);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_busy_nodes_and_treats_a_duplicate_as_submitted() {
    let rig = Rig::start(true).await;
    let payer = key("payer");
    let owner = owner_of(&payer);
    let rcpt = owner_of(&key("recipient"));
    rig.mint(&owner, 100);
    let sender = Sender::new(&rig.client, &payer, cfg());

    // Two loaded-node answers, then accepted: the same transaction, retried; one payment.
    let faults = rig
        .client
        .post(
            "/lucid/faults",
            &serde_json::json!({"broadcast": ["SERVER_BUSY", "BLOCK_UNSOLIDIFIED"]}),
        )
        .await
        .unwrap();
    assert_eq!(faults["queued"], 2);
    let mut j = MemoryJournal::default();
    let done = sender
        .send(&call(&rig, &owner, &rcpt, 3), &mut j, None)
        .await
        .unwrap();
    assert_eq!(j.attempts.len(), 1);
    assert_eq!(done.tx, j.attempts[0]);
    assert_eq!(rig.balance(&rcpt).await, 3);

    // Broadcast before a crash, not yet solidified: resuming re-broadcasts, hears
    // DUP_TRANSACTION_ERROR, waits for the receipt. One payment.
    let c = call(&rig, &owner, &rcpt, 4);
    let sent = sender.build(&c, 50_000_000).await.unwrap();
    assert!(rig.client.broadcast(&sent).await.unwrap().result);
    let again = sender
        .send(&c, &mut MemoryJournal::default(), Some(sent.clone()))
        .await
        .unwrap();
    assert_eq!(again.tx.txid, sent.txid);
    assert_eq!(rig.balance(&rcpt).await, 7);

    // A refusal for good (signed by a key that is not the owner's) is reported, not retried.
    let thief = key("thief");
    let mut forged = sender.build(&c, 50_000_000).await.unwrap();
    forged.signature = lucid_payout::tx::sign_txid(&forged.txid, &thief).unwrap();
    let e = sender
        .send(&c, &mut MemoryJournal::default(), Some(forged))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &e,
            SendError::Refused {
                code: lucid_payout::ReturnCode::SigError,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(rig.balance(&rcpt).await, 7);
}

/// A journal whose storage is down.
struct BrokenJournal;

#[async_trait::async_trait]
impl Journal for BrokenJournal {
    async fn record_attempt(&mut self, _: &lucid_payout::SignedTx) -> Result<(), String> {
        Err("disk full".into())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_broadcast_unless_journalled_and_a_foreign_prior_is_refused() {
    let rig = Rig::start(true).await;
    let payer = key("payer");
    let owner = owner_of(&payer);
    let rcpt = owner_of(&key("recipient"));
    rig.mint(&owner, 100);
    let sender = Sender::new(&rig.client, &payer, cfg());
    let c = call(&rig, &owner, &rcpt, 9);
    let e = sender.send(&c, &mut BrokenJournal, None).await.unwrap_err();
    assert_eq!(e, SendError::Journal("disk full".into()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rig.balance(&rcpt).await, 0);

    // A prior attempt of another call (or another account) is never driven for this one.
    let other = sender
        .build(&call(&rig, &owner, &rcpt, 10), 50_000_000)
        .await
        .unwrap();
    let e = sender
        .send(&c, &mut MemoryJournal::default(), Some(other))
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Tx(_)), "{e}");
    let foreign = Sender::new(&rig.client, &key("someone"), cfg())
        .build(&c, 50_000_000)
        .await
        .unwrap();
    let e = sender
        .send(&c, &mut MemoryJournal::default(), Some(foreign))
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Tx(_)), "{e}");
    assert_eq!(rig.balance(&rcpt).await, 0);
}
