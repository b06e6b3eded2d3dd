//! A real PayoutRouterV0 on the anvil behind the stand-in: the treasury sets a period root and any
//! key pays the planned payout, both as TRON transactions built by the Rust builder; success is the
//! solidified receipt plus the router's `Paid` log; a second payment is refused before sending.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use alloy_primitives::{Address, U256, keccak256};
use common::{Rig, forge_create, key, owner_of};
use lucid_e2e::{DEPLOYER, DEPLOYER_PK, run_ok, tool};
use lucid_payout::calls::{Outcome, batch_outcomes, disburse, payout_id, set_period_root};
use lucid_payout::{MemoryJournal, SendError, Sender, SenderConfig, TronAddress};

fn cfg() -> SenderConfig {
    SenderConfig {
        poll_interval: Duration::from_millis(100),
        busy_backoff: Duration::from_millis(100),
        ..SenderConfig::default()
    }
}

/// SPEC §3 leaf (lucid-payout's one definition), for TRON addresses.
fn leaf(router: &TronAddress, period: u32, to: &TronAddress, amount: U256) -> [u8; 32] {
    lucid_payout::leaf::payout_leaf(Address::from(router.0), period, Address::from(to.0), amount).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn treasury_sets_the_root_and_a_payout_is_paid_once_through_tron_transactions() {
    let rig = Rig::start(true).await;
    let router = forge_create(
        &rig.anvil_url,
        "contracts/src/PayoutRouterV0.sol:PayoutRouterV0",
        &[DEPLOYER, &rig.usdt.evm_hex()],
    );
    let treasury = key("treasury");
    let role = format!("0x{}", hex::encode(keccak256(b"TREASURER_ROLE")));
    run_ok(tool("cast").args([
        "send",
        &router.evm_hex(),
        "grantRole(bytes32,address)",
        &role,
        &owner_of(&treasury).evm_hex(),
        "--rpc-url",
        &rig.anvil_url,
        "--private-key",
        DEPLOYER_PK,
    ]));
    rig.mint(&router, 500_000_000);

    let period = 2026 * 12 + 10 - 1;
    let to = owner_of(&key("node-1"));
    let amount = U256::from(25_000_000u64); // 25 USDT
    let root = leaf(&router, period, &to, amount); // a one-leaf tree: root = leaf, proof = []

    let t = Sender::new(&rig.client, &treasury, cfg());
    let set = t
        .send(
            &set_period_root(router, period, root, amount),
            &mut MemoryJournal::default(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(set.info.logs.len(), 1);

    // Anyone executes: a key with no role at all.
    let runner = key("runner");
    let s = Sender::new(&rig.client, &runner, cfg());
    let mut j = MemoryJournal::default();
    let paid = s
        .send(&disburse(router, period, to, amount, &[]), &mut j, None)
        .await
        .unwrap();
    assert_eq!(j.attempts.len(), 1);
    assert_eq!(
        batch_outcomes(&paid.info, &router),
        vec![(payout_id(period, &to), to, Outcome::Paid(amount))]
    );
    assert_eq!(rig.balance(&to).await, 25_000_000);

    // Paid once, ever: the same payout is refused before anything is sent.
    let e = s
        .send(&disburse(router, period, to, amount, &[]), &mut j, None)
        .await
        .unwrap_err();
    match &e {
        SendError::WouldRevert { reason } => assert!(reason.contains("AlreadyPaid"), "{reason}"),
        other => panic!("{other}"),
    }
    // Not in the plan: InvalidProof, decoded.
    let stranger = owner_of(&key("stranger"));
    let e = s
        .send(
            &disburse(router, period, stranger, amount, &[]),
            &mut j,
            None,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("InvalidProof"), "{e}");
    assert_eq!(j.attempts.len(), 1);
    assert_eq!(rig.balance(&to).await, 25_000_000);
    assert_eq!(rig.balance(&stranger).await, 0);
}
