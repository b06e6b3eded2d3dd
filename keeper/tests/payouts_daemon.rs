//! The treasury's unattended payouts inside `lucid-keeper run` (`LUCID_PAYOUTS=on`,
//! `TRON_NETWORK=local`): a real anvil with a clock is the on-system chain (LucidAnchors) and the
//! payment chain (routers deployed by script/Deploy.s.sol), `lucid-tron-local` stands in front of
//! it. Once the month has ended on chain time (moved with anvil), the keeper plans it over the
//! ANCHORER_ROLE holders, approves it with the treasury key and pays; later ticks pay nothing more.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use lucid_e2e::tron_local::{BlockProducer, TronLocal, tron_local_bin};
use lucid_e2e::{DEPLOYER_PK, DeploymentFile, KEEPER, SIGNER, deployment, run_ok, stdout, tool};
use lucid_payout::plan::Month;
use serde_json::Value;

const USDT: u64 = 1_000_000;
const GENESIS_BACK: u64 = 100 * 120;

/// Deploys the payment contracts (TRON_NETWORK=local: a USDT-like token too) with the deploy
/// script onto `url`; returns deployments/<chainId>.json.
fn deploy_payment(url: &str, chain_id: u64) -> Value {
    run_ok(
        tool("forge")
            .current_dir(lucid_e2e::repo_root())
            .args([
                "script",
                "script/Deploy.s.sol:Deploy",
                "--rpc-url",
                url,
                "--broadcast",
                "--slow",
            ])
            .env("PRIVATE_KEY", DEPLOYER_PK)
            .env("KEEPER_ADDRESS", KEEPER)
            .env("COMPLIANCE_SIGNER", SIGNER)
            .env("DEPLOY_CHAIN", "payment")
            .env("TRON_NETWORK", "local")
            .env_remove("FORCE_REDEPLOY"),
    );
    deployment(chain_id)
}

fn cast(url: &str, args: &[&str]) -> String {
    stdout(&run_ok(tool("cast").args(args).args(["--rpc-url", url])))
}

fn usdt_of(url: &str, usdt: &str, who: &str) -> u64 {
    let s = cast(url, &["call", usdt, "balanceOf(address)(uint256)", who]);
    s.split_whitespace().next().unwrap().parse().unwrap()
}

async fn wait_for<F, Fut>(what: &str, secs: u64, log: impl Fn() -> String, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unattended_keeper_pays_the_month_once_it_ended_on_chain_time() {
    let chain = Chain::start(lucid_e2e::test_chain_id()).await;
    let _file = DeploymentFile(chain.chain_id);
    let now = chain.now().await;
    let genesis = now - GENESIS_BACK;
    // KEYS[0] runs the keeper, KEYS[1] is a member node; OUTSIDER_KEY never holds the role.
    let d = deploy(&chain, genesis, &[addr(KEYS[0]), addr(KEYS[1])]).await;
    let pay = deploy_payment(&chain.url(), chain.chain_id);
    let s = |k: &str| pay[k].as_str().unwrap().to_string();
    let (v0, usdt) = (s("PayoutRouterV0"), s("USDT"));
    let fund = || {
        cast(
            &chain.url(),
            &[
                "send",
                &usdt,
                "transfer(address,uint256)",
                &v0,
                &(1_000 * USDT).to_string(),
                "--private-key",
                DEPLOYER_PK,
            ],
        )
    };
    let standin = TronLocal::start(
        &tron_local_bin(Path::new(env!("CARGO_BIN_EXE_lucid-keeper"))),
        &chain.url(),
        &["--solid-lag", "1"],
    );
    let _miner = BlockProducer::start(chain.port, Duration::from_millis(300));
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("store.db").display());
    let payout_env = |network: &str, pool: &str| -> Vec<(&'static str, String)> {
        vec![
            ("LUCID_PAYOUTS", "on".into()),
            ("LUCID_PAYOUT_POOL", pool.into()),
            ("LUCID_TREASURY_KEY", DEPLOYER_PK.into()),
            ("TRON_NETWORK", network.into()),
            ("TRON_RPC", standin.url.clone()),
            ("PAYOUT_ROUTER_V0_ADDRESS", s("PayoutRouterV0")),
            ("PAYOUT_ROUTER_KYC_ADDRESS", s("PayoutRouterKYC")),
            ("USDT_ADDRESS", s("USDT")),
            (
                "LUCID_PAYOUT_JOURNAL",
                dir.path().join("journal").display().to_string(),
            ),
            ("LUCID_PAYOUT_POLL_MS", "200".into()),
            ("LUCID_PAYOUT_TICK_MS", "500".into()),
        ]
    };
    let spawn = |extra: Vec<(&'static str, String)>| {
        Keeper::spawn(&KeeperConfig {
            chain: &chain,
            d,
            key: KEYS[0],
            store: &store,
            state_dir: &dir.path().join("state"),
            log_dir: dir.path(),
            extra_env: extra,
        })
    };

    // Refused settings: another network, no pool (the keeper does not start).
    for (env, want) in [
        (payout_env("shasta", "100"), "TRON_NETWORK=local only"),
        (payout_env("local", "-1"), "LUCID_PAYOUT_POOL"),
    ] {
        let mut k = spawn(env);
        assert!(!k.wait_exit().success());
        assert!(k.log_text().contains(want), "{}", k.log_text());
    }

    let mut k = spawn(payout_env("local", "100"));
    k.wait_ready().await;
    // Proofs of a member and of a node without the role, in slots 10..20 (this month).
    let slot_time = genesis + 120 * 10;
    let month = Month::from_period(lucid_payout::leaf::period_at(slot_time));
    for key in [KEYS[1], OUTSIDER_KEY] {
        let lines = proofs(chain.chain_id, key, 10..20, 50 << 20);
        let (st, v) = post(&k.url("/v1/proofs"), lines.join("\n"), None).await;
        assert_eq!(st, 200, "{v}");
    }
    let open_store = || async { lucid_store::open(Some(&store)).await.unwrap() };
    // Ticks run while the month is open on chain time: it is not planned.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        open_store()
            .await
            .period(month.period())
            .await
            .unwrap()
            .is_none()
    );
    let member = format!("{:#x}", addr(KEYS[1]));
    assert_eq!(usdt_of(&chain.url(), &usdt, &member), 0);

    // The month ends on chain time: planned over the members and approved; the router holds no
    // USDT yet, so the tick fails (logged, nothing paid) and later ticks retry.
    chain.warp_to(month.end_unix() + 5).await;
    wait_for(
        "a failed tick",
        120,
        || k.log_text(),
        || async { k.log_text().contains("tick failed; retrying next tick") },
    )
    .await;
    assert!(
        k.log_text().contains("nothing was sent"),
        "{}",
        k.log_text()
    );
    assert_eq!(usdt_of(&chain.url(), &usdt, &member), 0);
    // Funded: a later tick pays.
    fund();
    wait_for(
        "the member's payout",
        120,
        || k.log_text(),
        || async { usdt_of(&chain.url(), &usdt, &member) == 100 * USDT },
    )
    .await;
    let st = open_store().await;
    let period = st.period(month.period()).await.unwrap().unwrap();
    assert!(period.members.contains(&addr(KEYS[1])));
    assert!(!period.members.contains(&addr(OUTSIDER_KEY)));
    let rows = st.payouts_of_period(month.period()).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].node_id, addr(KEYS[1]));
    let outsider = format!("{:#x}", addr(OUTSIDER_KEY));
    assert_eq!(usdt_of(&chain.url(), &usdt, &outsider), 0);

    // Later ticks pay nothing more: the period is settled.
    wait_for(
        "a tick that finds the period settled",
        60,
        || k.log_text(),
        || async { k.log_text().contains("period settled") },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(usdt_of(&chain.url(), &usdt, &member), 100 * USDT);
    let logs = cast(
        &chain.url(),
        &[
            "logs",
            "--from-block",
            "0",
            "--address",
            &v0,
            "Paid(bytes32 indexed,address indexed,uint256,uint32 indexed)",
            "--json",
        ],
    );
    let logs: Value = serde_json::from_str(&logs).unwrap();
    assert_eq!(logs.as_array().unwrap().len(), 1, "{logs}");

    // SIGTERM: the payout task stops with the daemon.
    run_ok(Command::new("kill").args(["-TERM", &k.child.id().to_string()]));
    assert!(k.wait_exit().success(), "{}", k.log_text());
    assert!(k.log_text().contains("unattended payouts stopped"));
}
