//! `lucid-keeper payouts plan|approve|execute|status` end to end on the local TRON stand-in: a real
//! anvil as the payment chain (contracts deployed by script/Deploy.s.sol with DEPLOY_CHAIN=payment
//! TRON_NETWORK=local), `lucid-tron-local` in front of it, a SQLite store holding signed proofs.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use alloy_primitives::{Address, B256, FixedBytes};
use k256::ecdsa::SigningKey;
use lucid_core::models::TaskProof as StoredProof;
use lucid_core::proof::{ProofCodec, ProofKind, TaskProof, address_of};
use lucid_core::session::SessionId;
use lucid_e2e::tron_local::{BlockProducer, TronLocal, tron_local_bin};
use lucid_e2e::{
    Anvil, DEPLOYER, DEPLOYER_PK, DeploymentFile, deploy, deployment, run_ok, stdout,
    test_chain_id, tool,
};
use serde_json::Value;

const USDT: u64 = 1_000_000;
/// 2026-10-01T00:00:00Z; October 2026 has slots 722_880..745_200 (default genesis).
const OCT_FIRST_SLOT: u64 = 722_880;

struct Env {
    // Fields drop in order: the block producer and the stand-in before the anvil.
    _miner: BlockProducer,
    _standin: TronLocal,
    tron_url: String,
    anvil: Anvil,
    dir: tempfile::TempDir,
    d: Value,
    _file: DeploymentFile,
}

fn key(label: &str) -> SigningKey {
    let seed = alloy_primitives::keccak256(format!("lucid.payouts.e2e.{label}").as_bytes());
    SigningKey::from_slice(seed.as_slice()).unwrap()
}

impl Env {
    fn start() -> Env {
        let id = test_chain_id();
        let file = DeploymentFile(id);
        let anvil = Anvil::start(id);
        let out = deploy(&anvil, "payment", &[]);
        assert!(
            out.status.success(),
            "deploy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let d = deployment(id);
        let standin = TronLocal::start(
            &tron_local_bin(Path::new(env!("CARGO_BIN_EXE_lucid-keeper"))),
            &anvil.url(),
            &["--solid-lag", "1"],
        );
        // A block producer: the stand-in's solidified head trails the head by one block.
        let miner = BlockProducer::start(anvil.port, Duration::from_millis(200));
        Env {
            _miner: miner,
            tron_url: standin.url.clone(),
            _standin: standin,
            anvil,
            dir: tempfile::tempdir().unwrap(),
            d,
            _file: file,
        }
    }

    /// Writes a `--members` file naming `keys`' nodes; returns its path.
    fn members(&self, keys: &[&SigningKey]) -> String {
        let p = self.dir.path().join("members.json");
        let nodes: Vec<Address> = keys.iter().map(|k| address_of(k)).collect();
        std::fs::write(&p, serde_json::to_string(&nodes).unwrap()).unwrap();
        p.display().to_string()
    }

    fn addr(&self, k: &str) -> String {
        self.d[k].as_str().unwrap().to_string()
    }

    fn store_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("lucid.db").display())
    }

    fn keeper(&self, args: &[&str]) -> Output {
        self.keeper_with(args, &[])
    }

    fn keeper_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_lucid-keeper"))
            .args(args)
            .env("TRON_NETWORK", "local")
            .env("TRON_RPC", &self.tron_url)
            .env("PAYOUT_ROUTER_V0_ADDRESS", self.addr("PayoutRouterV0"))
            .env("PAYOUT_ROUTER_KYC_ADDRESS", self.addr("PayoutRouterKYC"))
            .env("USDT_ADDRESS", self.addr("USDT"))
            .env("LUCID_STORE", self.store_url())
            .env("ON_SYSTEM_CHAIN_RPC", self.anvil.url())
            .env("LUCID_PAYOUT_JOURNAL", self.dir.path().join("journal"))
            .env("LUCID_PAYOUT_POLL_MS", "200")
            .env("LUCID_TREASURY_KEY", DEPLOYER_PK)
            .env("LUCID_PAYOUT_KEY", DEPLOYER_PK)
            .env("RUST_LOG", "warn")
            .envs(extra.iter().copied())
            .output()
            .unwrap()
    }

    fn cast_send(&self, to: &str, sig: &str, args: &[&str]) {
        run_ok(tool("cast").args(["send", to, sig]).args(args).args([
            "--rpc-url",
            &self.anvil.url(),
            "--private-key",
            DEPLOYER_PK,
        ]));
    }

    fn usdt_of(&self, who: &Address) -> u64 {
        let s = self.anvil.call(
            &self.addr("USDT"),
            "balanceOf(address)(uint256)",
            &[&format!("{who:#x}")],
        );
        s.split_whitespace().next().unwrap().parse().unwrap()
    }

    fn fund(&self, router: &str, usdt: u64) {
        self.cast_send(
            &self.addr("USDT"),
            "transfer(address,uint256)",
            &[&self.addr(router), &(usdt * USDT).to_string()],
        );
    }

    /// Stores relay proofs: `mib[i]` MiB in slot OCT_FIRST_SLOT + i for each node (5 MiB = 1 credit).
    fn put_proofs(&self, nodes: &[(&SigningKey, u64)]) {
        self.put_proofs_from(OCT_FIRST_SLOT, nodes);
    }

    /// Stores relay proofs in slots `first + i`, 1 credit each.
    fn put_proofs_from(&self, first: u64, nodes: &[(&SigningKey, u64)]) {
        let chain_id = self.anvil.chain_id;
        let url = self.store_url();
        let mut stored = Vec::new();
        let codec = ProofCodec::new(chain_id);
        for (k, credits) in nodes {
            for i in 0..*credits {
                let p = TaskProof {
                    node_id: address_of(k),
                    slot: first + i,
                    kind: ProofKind::RelayBandwidth,
                    session_id: SessionId::NIL,
                    amount: 5 << 20,
                    chunk_index: 0,
                    digest: B256::ZERO,
                };
                let sp = codec.sign(p, k).unwrap();
                stored.push(StoredProof {
                    id: codec.signing_hash(&p),
                    node_id: p.node_id,
                    slot: p.slot,
                    kind: p.kind,
                    session_id: lucid_core::models::NIL_UUID.into(),
                    amount: p.amount,
                    chunk_index: 0,
                    digest: B256::ZERO,
                    sig: FixedBytes(sp.sig),
                    ts: 1,
                });
            }
        }
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let s = lucid_store::open(Some(&url)).await.unwrap();
            s.put_proofs(&stored).await.unwrap();
        });
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "keeper failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn err(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected a failure:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn json_of(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

#[test]
fn plan_approve_execute_pay_exact_amounts_within_daily_limits() {
    let env = Env::start();
    let (a, b, c, outsider) = (key("a"), key("b"), key("c"), key("x"));
    // credits 1 : 2 : 3 (and a non-member with 6)
    env.put_proofs(&[(&a, 1), (&b, 2), (&c, 3), (&outsider, 6)]);
    let members = env.dir.path().join("members.json");
    std::fs::write(
        &members,
        serde_json::to_string(&[address_of(&a), address_of(&b), address_of(&c)]).unwrap(),
    )
    .unwrap();
    let m = members.to_str().unwrap();

    // Bad input first: nothing is stored.
    for (args, want) in [
        (vec!["--pool=-5"], "negative"),
        (vec!["--pool", "1.0000001"], "more than 6 decimals"),
        (vec!["--pool", "1e3"], "malformed"),
    ] {
        let mut all = vec!["payouts", "plan", "--period", "2026-10", "--members", m];
        all.extend(args);
        let e = err(&env.keeper(&all));
        assert!(e.contains(want), "{e}");
    }
    assert!(
        err(&env.keeper(&["payouts", "plan", "--period", "2026-13", "--pool", "1"]))
            .contains("out of range")
    );
    assert!(
        err(&env.keeper(&["payouts", "status", "--period", "2026-10"]))
            .contains("unknown period 2026-10")
    );
    assert!(
        err(&env.keeper(&["payouts", "execute", "--period", "2026-10"])).contains("unknown period")
    );
    // Malformed T… addresses: checksum, prefix, length (in the environment, a flag, a KYC file).
    let good = lucid_payout_tron(DEPLOYER);
    let mut bad_sum: Vec<char> = good.chars().collect();
    bad_sum[10] = if bad_sum[10] == 'a' { 'b' } else { 'a' };
    let bad_sum: String = bad_sum.into_iter().collect();
    let e = err(&env.keeper_with(
        &["payouts", "status", "--period", "2026-10"],
        &[("PAYOUT_ROUTER_V0_ADDRESS", &bad_sum)],
    ));
    assert!(
        e.contains("PAYOUT_ROUTER_V0_ADDRESS") && e.contains("checksum"),
        "{e}"
    );
    let e = err(&env.keeper_with(
        &["payouts", "status", "--period", "2026-10"],
        &[(
            "PAYOUT_ROUTER_KYC_ADDRESS",
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        )],
    ));
    assert!(e.contains("PAYOUT_ROUTER_KYC_ADDRESS"), "{e}");
    let bad_kyc = env.dir.path().join("bad-kyc.json");
    std::fs::write(
        &bad_kyc,
        format!(
            r#"[{{"to":"{}","kycHash":"0x{}","expiry":1,"sig":"0x00"}}]"#,
            &good[..good.len() - 2],
            "11".repeat(32)
        ),
    )
    .unwrap();
    let e = err(&env.keeper(&[
        "payouts",
        "plan",
        "--period",
        "2026-10",
        "--pool",
        "1",
        "--kyc",
        bad_kyc.to_str().unwrap(),
    ]));
    assert!(
        e.contains("attestation 0") && e.contains("decoded to"),
        "{e}"
    );
    // Without --members and without LucidAnchors to read them from: refused, nothing planned
    // (never "everyone with proofs").
    let e = err(&env.keeper(&["payouts", "plan", "--period", "2026-10", "--pool", "1"]));
    assert!(
        e.contains("members") && e.contains("LUCID_ANCHORS_ADDRESS") && e.contains("--members"),
        "{e}"
    );
    assert!(
        err(&env.keeper(&["payouts", "status", "--period", "2026-10"])).contains("unknown period")
    );
    // A period that has not ended on chain time.
    assert!(
        err(&env.keeper(&["payouts", "plan", "--period", "2099-01", "--pool", "1"]))
            .contains("has not ended")
    );

    // pool 3000 USDT over 1:2:3 → 500, 1000, 1500; V0's maximum 1000 carries 500 for c.
    let out = ok(&env.keeper(&[
        "payouts",
        "plan",
        "--period",
        "2026-10",
        "--pool",
        "3000",
        "--members",
        m,
        "--json",
    ]));
    let plan = json_of(&out);
    let rows = plan.as_array().unwrap();
    assert_eq!(rows.len(), 3, "members only: {plan}");
    let row = |k: &SigningKey| {
        rows.iter()
            .find(|r| r["nodeId"] == format!("{:#x}", address_of(k)))
            .unwrap()
            .clone()
    };
    assert_eq!(row(&a)["amount"], (500 * USDT).to_string());
    assert_eq!(row(&b)["amount"], (1000 * USDT).to_string());
    assert_eq!(row(&c)["amount"], (1000 * USDT).to_string());
    assert_eq!(row(&c)["carryOut"], (500 * USDT).to_string());
    assert!(row(&a)["recipient"].as_str().unwrap().starts_with('T'));

    // Not approved yet: execute refuses with the reason.
    env.fund("PayoutRouterV0", 5_000);
    assert!(
        err(&env.keeper(&["payouts", "execute", "--period", "2026-10"]))
            .contains("has not approved")
    );

    // The unsigned path writes two transactions with root and total and sends nothing.
    let unsigned = env.dir.path().join("unsigned.json");
    let out = ok(&env.keeper(&[
        "payouts",
        "approve",
        "--period",
        "2026-10",
        "--unsigned",
        unsigned.to_str().unwrap(),
        "--treasury-address",
        &lucid_payout_tron(DEPLOYER),
    ]));
    assert!(out.contains("total 2500 USDT"), "{out}");
    let u = json_of(&std::fs::read_to_string(&unsigned).unwrap());
    assert_eq!(u["transactions"].as_array().unwrap().len(), 2);
    assert_eq!(u["total"], (2500 * USDT).to_string());
    let v0 = env.addr("PayoutRouterV0");
    assert_eq!(
        env.anvil
            .call(&v0, "periodTotal(uint32)(uint256)", &["24321"]),
        "0"
    );
    ok(&env.keeper(&["payouts", "approve", "--period", "2026-10"]));
    assert!(
        env.anvil
            .call(&v0, "periodTotal(uint32)(uint256)", &["24321"])
            .starts_with("2500000000")
    );

    // The daily limit: 1500 USDT today → 1000 (b or c, lower recipient first) + 500 (a); the
    // other 1000 waits for the next UTC day. Never split.
    env.cast_send(
        &v0,
        "setLimits(uint256,uint256,uint256)",
        &[
            &(10 * USDT).to_string(),
            &(1000 * USDT).to_string(),
            &(1500 * USDT).to_string(),
        ],
    );
    // Paused: a clear error, nothing paid.
    env.cast_send(&v0, "pause()", &[]);
    assert!(err(&env.keeper(&["payouts", "execute", "--period", "2026-10"])).contains("paused"));
    env.cast_send(&v0, "unpause()", &[]);
    // Short of USDT: a clear error, nothing sent, nothing marked paid.
    env.cast_send(
        &v0,
        "withdraw(address,uint256)",
        &[DEPLOYER, &(4_000 * USDT).to_string()],
    );
    let e = err(&env.keeper(&["payouts", "execute", "--period", "2026-10"]));
    assert!(
        e.contains("holds 1000 USDT") && e.contains("nothing was sent"),
        "{e}"
    );
    assert_eq!(env.usdt_of(&address_of(&a)), 0);
    env.fund("PayoutRouterV0", 3_000);

    let dry = ok(&env.keeper(&["payouts", "execute", "--period", "2026-10", "--dry-run"]));
    assert_eq!(dry.matches("would pay").count(), 2, "{dry}");
    let out = ok(&env.keeper(&["payouts", "execute", "--period", "2026-10"]));
    assert!(
        out.contains("2 paid now") && out.contains("1 wait for the next UTC day"),
        "{out}"
    );
    assert_eq!(env.usdt_of(&address_of(&a)), 500 * USDT);
    let (lo, hi) = if address_of(&b) < address_of(&c) {
        (&b, &c)
    } else {
        (&c, &b)
    };
    assert_eq!(env.usdt_of(&address_of(lo)), 1000 * USDT);
    assert_eq!(env.usdt_of(&address_of(hi)), 0);
    // A re-run the same day pays nothing more.
    let out = ok(&env.keeper(&["payouts", "execute", "--period", "2026-10"]));
    assert!(out.contains("0 paid now"), "{out}");
    // The next UTC day.
    run_ok(tool("cast").args([
        "rpc",
        "evm_increaseTime",
        "86400",
        "--rpc-url",
        &env.anvil.url(),
    ]));
    run_ok(tool("cast").args(["rpc", "evm_mine", "--rpc-url", &env.anvil.url()]));
    let out = ok(&env.keeper(&["payouts", "execute", "--period", "2026-10"]));
    assert!(out.contains("1 paid now"), "{out}");
    assert_eq!(env.usdt_of(&address_of(hi)), 1000 * USDT);
    // Nobody was paid twice; the outsider nothing.
    assert_eq!(env.usdt_of(&address_of(&outsider)), 0);
    let st =
        json_of(&ok(&env.keeper(&[
            "payouts", "status", "--period", "2026-10", "--json",
        ])));
    let ps = st["payouts"].as_array().unwrap();
    assert!(ps.iter().all(|p| p["status"] == "paid"), "{st}");
    // No indexer runs: `paid` and the txids come from the keeper's own confirmation (the Paid
    // events of the solidified transactions it sent, stored as the indexer would), not from a
    // chain read at `status` time: the store alone says so.
    let stored = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let s = lucid_store::open(Some(&env.store_url())).await.unwrap();
        s.payouts_of_period(24321).await.unwrap()
    });
    assert_eq!(stored.len(), 3);
    for p in &stored {
        assert_eq!(p.status, lucid_core::models::PayoutStatus::Paid, "{p:?}");
        let txid = p.txid.unwrap();
        let shown = ps
            .iter()
            .find(|x| x["payoutId"] == format!("{:#x}", p.id))
            .unwrap();
        assert_eq!(shown["txid"], format!("{txid:#x}"), "{st}");
    }
    // Two transactions paid them (the day's batch of two, then the next day's one).
    let txids: std::collections::BTreeSet<_> = stored.iter().map(|p| p.txid).collect();
    assert_eq!(txids.len(), 2, "{stored:?}");
    // A paid period cannot be planned again.
    assert!(
        err(&env.keeper(&[
            "payouts",
            "plan",
            "--period",
            "2026-10",
            "--pool",
            "3000",
            "--members",
            m
        ]))
        .contains("cannot be planned again")
    );
}

fn lucid_payout_tron(evm: &str) -> String {
    let a: Address = evm.parse().unwrap();
    lucid_payout::TronAddress::from_evm(a.0.0).encode()
}

#[test]
fn sigkill_between_broadcast_and_record_pays_each_payout_once() {
    let env = Env::start();
    let keys: Vec<SigningKey> = (0..12).map(|i| key(&format!("k{i}"))).collect();
    let nodes: Vec<(&SigningKey, u64)> = keys.iter().map(|k| (k, 1)).collect();
    env.put_proofs(&nodes);
    let m = env.members(&keys.iter().collect::<Vec<_>>());
    // 12 equal shares of 600 USDT = 50 USDT each.
    ok(&env.keeper(&[
        "payouts",
        "plan",
        "--period",
        "2026-10",
        "--pool",
        "600",
        "--members",
        &m,
    ]));
    ok(&env.keeper(&["payouts", "approve", "--period", "2026-10"]));
    env.fund("PayoutRouterV0", 1_000);
    // Kill `execute` (batches of 1: 12 transactions) at ≥ 10 pseudo-random moments.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..10 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let ms = 200 + seed % 2_500;
        let mut child = Command::new(env!("CARGO_BIN_EXE_lucid-keeper"))
            .args(["payouts", "execute", "--period", "2026-10", "--batch", "1"])
            .envs(keeper_env(&env))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    // The kills interrupted executions that had journalled (and broadcast) transactions.
    let journal =
        std::fs::read_to_string(env.dir.path().join("journal/period-24321.jsonl")).unwrap();
    assert!(journal.contains("\"kind\":\"attempt\""), "{journal}");
    // Re-run to completion.
    for _ in 0..3 {
        let out = env.keeper(&["payouts", "execute", "--period", "2026-10", "--batch", "1"]);
        if out.status.success() {
            break;
        }
    }
    for k in &keys {
        assert_eq!(env.usdt_of(&address_of(k)), 50 * USDT, "paid exactly once");
    }
    let st =
        json_of(&ok(&env.keeper(&[
            "payouts", "status", "--period", "2026-10", "--json",
        ])));
    assert!(
        st["payouts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "paid")
    );
    // Exactly 12 Paid events on chain (one per payoutId).
    let logs = stdout(&run_ok(tool("cast").args([
        "logs",
        "--from-block",
        "0",
        "--address",
        &env.addr("PayoutRouterV0"),
        "Paid(bytes32 indexed,address indexed,uint256,uint32 indexed)",
        "--rpc-url",
        &env.anvil.url(),
        "--json",
    ])));
    assert_eq!(json_of(&logs).as_array().unwrap().len(), 12);
}

fn keeper_env(env: &Env) -> Vec<(String, String)> {
    vec![
        ("TRON_NETWORK".into(), "local".into()),
        ("TRON_RPC".into(), env.tron_url.clone()),
        (
            "PAYOUT_ROUTER_V0_ADDRESS".into(),
            env.addr("PayoutRouterV0"),
        ),
        (
            "PAYOUT_ROUTER_KYC_ADDRESS".into(),
            env.addr("PayoutRouterKYC"),
        ),
        ("USDT_ADDRESS".into(), env.addr("USDT")),
        ("LUCID_STORE".into(), env.store_url()),
        ("ON_SYSTEM_CHAIN_RPC".into(), env.anvil.url()),
        (
            "LUCID_PAYOUT_JOURNAL".into(),
            env.dir.path().join("journal").display().to_string(),
        ),
        ("LUCID_PAYOUT_POLL_MS".into(), "200".into()),
        ("LUCID_PAYOUT_KEY".into(), DEPLOYER_PK.into()),
    ]
}

/// anvil's third key: COMPLIANCE_SIGNER of the deployment.
const SIGNER_PK: &str = "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

fn attestation(env: &Env, to: &Address, kyc_hash: B256, expiry: u64) -> Value {
    let digest = env.anvil.call(
        &env.addr("PayoutRouterKYC"),
        "attestationDigest(address,bytes32,uint64)(bytes32)",
        &[
            &format!("{to:#x}"),
            &format!("{kyc_hash:#x}"),
            &expiry.to_string(),
        ],
    );
    let d: B256 = digest.parse().unwrap();
    let k = SigningKey::from_slice(&hex::decode(SIGNER_PK).unwrap()).unwrap();
    let (sig, rec) = k.sign_prehash_recoverable(d.as_slice()).unwrap();
    let mut s = sig.to_bytes().to_vec();
    s.push(27 + rec.to_byte());
    serde_json::json!({
        "to": lucid_payout_tron(&format!("{to:#x}")),
        "kycHash": format!("{kyc_hash:#x}"),
        "expiry": expiry,
        "sig": format!("0x{}", hex::encode(s)),
    })
}

fn chain_now(env: &Env) -> u64 {
    let s = stdout(&run_ok(tool("cast").args([
        "block",
        "latest",
        "--field",
        "timestamp",
        "--rpc-url",
        &env.anvil.url(),
    ])));
    s.parse().unwrap()
}

#[test]
fn kyc_payout_waits_when_its_attestation_lapsed_and_is_paid_with_a_fresh_one() {
    let env = Env::start();
    let (a, b) = (key("kyc-a"), key("v0-b"));
    env.put_proofs(&[(&a, 3), (&b, 1)]);
    let now = chain_now(&env);
    let att = env.dir.path().join("kyc.json");
    let first = attestation(
        &env,
        &address_of(&a),
        B256::repeat_byte(1),
        now + 40 * 86_400,
    );
    std::fs::write(&att, serde_json::to_string(&[first]).unwrap()).unwrap();
    // pool 4000: a 3000 (KYC, max 5000), b 1000 (V0).
    let plan = json_of(&ok(&env.keeper(&[
        "payouts",
        "plan",
        "--period",
        "2026-10",
        "--pool",
        "4000",
        "--kyc",
        att.to_str().unwrap(),
        "--members",
        &env.members(&[&a, &b]),
        "--json",
    ])));
    let rows = plan.as_array().unwrap();
    let ra = rows
        .iter()
        .find(|r| r["nodeId"] == format!("{:#x}", address_of(&a)))
        .unwrap();
    assert_eq!(
        (ra["router"].as_str(), ra["amount"].as_str()),
        (Some("kyc"), Some("3000000000"))
    );
    ok(&env.keeper(&["payouts", "approve", "--period", "2026-10"]));
    env.fund("PayoutRouterV0", 2_000);
    env.fund("PayoutRouterKYC", 5_000);
    // The attestation lapses before execution: the KYC payout waits (stays planned).
    run_ok(tool("cast").args([
        "rpc",
        "evm_increaseTime",
        &(41 * 86_400).to_string(),
        "--rpc-url",
        &env.anvil.url(),
    ]));
    run_ok(tool("cast").args(["rpc", "evm_mine", "--rpc-url", &env.anvil.url()]));
    let out = ok(&env.keeper(&["payouts", "execute", "--period", "2026-10"]));
    assert!(
        out.contains("1 paid now") && out.contains("1 wait for a fresh KYC attestation"),
        "{out}"
    );
    assert_eq!(env.usdt_of(&address_of(&a)), 0);
    assert_eq!(env.usdt_of(&address_of(&b)), 1000 * USDT);
    // A fresh attestation for the same recipient: paid through disburseKYC, once.
    let fresh = env.dir.path().join("fresh.json");
    let f = attestation(
        &env,
        &address_of(&a),
        B256::repeat_byte(2),
        chain_now(&env) + 90 * 86_400,
    );
    std::fs::write(&fresh, serde_json::to_string(&[f]).unwrap()).unwrap();
    let out = ok(&env.keeper(&[
        "payouts",
        "execute",
        "--period",
        "2026-10",
        "--kyc",
        fresh.to_str().unwrap(),
    ]));
    assert!(out.contains("1 paid now"), "{out}");
    assert_eq!(env.usdt_of(&address_of(&a)), 3000 * USDT);
    let out = ok(&env.keeper(&[
        "payouts",
        "execute",
        "--period",
        "2026-10",
        "--kyc",
        fresh.to_str().unwrap(),
    ]));
    assert!(out.contains("0 paid now"), "{out}");
    assert_eq!(env.usdt_of(&address_of(&a)), 3000 * USDT);
}

/// `cast` against the env's anvil, returning stdout.
fn cast(env: &Env, args: &[&str]) -> String {
    stdout(&run_ok(
        tool("cast")
            .args(args)
            .args(["--rpc-url", &env.anvil.url()]),
    ))
}

#[test]
fn only_anchorer_role_holders_at_the_period_end_are_planned() {
    use lucid_payout::plan::Month;
    let env = Env::start();
    // LucidAnchors on the same chain (the on-system chain of this test), GENESIS_TIME as SPEC §1.
    let anchors = lucid_e2e_forge_create(
        &env,
        "contracts/src/LucidAnchors.sol:LucidAnchors",
        &[DEPLOYER, "1704067200"],
    );
    let role = format!("{:#x}", alloy_primitives::keccak256("ANCHORER_ROLE"));
    let (a, b, c, revoked, late, outsider) = (
        key("m-a"),
        key("m-b"),
        key("m-c"),
        key("m-revoked"),
        key("m-late"),
        key("m-outsider"),
    );
    let node = |k: &SigningKey| format!("{:#x}", address_of(k));
    let grant = |k: &SigningKey| {
        env.cast_send(&anchors, "grantRole(bytes32,address)", &[&role, &node(k)]);
    };
    let revoke = |k: &SigningKey| {
        env.cast_send(&anchors, "revokeRole(bytes32,address)", &[&role, &node(k)]);
    };
    // The month of chain time: granted a, b, c, `revoked`; `revoked` loses the role before the end.
    let now = chain_now(&env);
    let month = Month::from_period(lucid_payout::leaf::period_at(now));
    let params = lucid_core::Params::default();
    let first = params
        .slots_starting_in(month.start_unix(), month.end_unix())
        .start;
    for k in [&a, &b, &c, &revoked] {
        grant(k);
    }
    revoke(&revoked);
    // Proofs of the month: members a and b, the revoked node, a node granted only after the
    // period's end, and a node that never held the role (c has no proofs).
    env.put_proofs_from(
        first,
        &[(&a, 1), (&b, 3), (&revoked, 5), (&late, 5), (&outsider, 7)],
    );
    let period = month.to_string();
    let with_anchors = [("LUCID_ANCHORS_ADDRESS", anchors.as_str())];
    // The period has not ended on chain time yet.
    let e = err(&env.keeper_with(
        &["payouts", "plan", "--period", &period, "--pool", "400"],
        &with_anchors,
    ));
    assert!(e.contains("has not ended"), "{e}");
    // Past the end: `late` gets the role and b loses it, both after the period's end.
    cast(
        &env,
        &[
            "rpc",
            "evm_setNextBlockTimestamp",
            &(month.end_unix() + 60).to_string(),
        ],
    );
    cast(&env, &["rpc", "evm_mine"]);
    grant(&late);
    revoke(&b);
    let plan = json_of(&ok(&env.keeper_with(
        &[
            "payouts", "plan", "--period", &period, "--pool", "400", "--json",
        ],
        &with_anchors,
    )));
    let rows = plan.as_array().unwrap();
    let mut planned: Vec<String> = rows
        .iter()
        .map(|r| r["nodeId"].as_str().unwrap().to_string())
        .collect();
    planned.sort();
    let mut want = vec![node(&a), node(&b)];
    want.sort();
    assert_eq!(planned, want, "members at the period's end only: {plan}");
    // pool 400 over credits 1 : 3 → 100 and 300.
    let amount = |k: &SigningKey| {
        rows.iter().find(|r| r["nodeId"] == node(k)).unwrap()["amount"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(amount(&a), (100 * USDT).to_string());
    assert_eq!(amount(&b), (300 * USDT).to_string());
    // The period records who was counted: a, b and c (a member without proofs).
    let members = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let s = lucid_store::open(Some(&env.store_url())).await.unwrap();
        s.period(month.period()).await.unwrap().unwrap().members
    });
    let mut got: Vec<String> = members.iter().map(|m| format!("{m:#x}")).collect();
    got.sort();
    let mut want = vec![node(&a), node(&b), node(&c)];
    want.sort();
    assert_eq!(got, want);
    // --members stays an explicit offline override (re-planning: nothing is paid yet).
    let only_outsider = env.members(&[&outsider]);
    let plan = json_of(&ok(&env.keeper_with(
        &[
            "payouts",
            "plan",
            "--period",
            &period,
            "--pool",
            "400",
            "--members",
            &only_outsider,
            "--json",
        ],
        &with_anchors,
    )));
    let rows = plan.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{plan}");
    assert_eq!(rows[0]["nodeId"], node(&outsider));
}

/// `forge create` on the env's anvil; the deployed address (0x…).
fn lucid_e2e_forge_create(env: &Env, contract: &str, args: &[&str]) -> String {
    let text = stdout(&run_ok(
        tool("forge")
            .current_dir(lucid_e2e::repo_root())
            .args([
                "create",
                contract,
                "--rpc-url",
                &env.anvil.url(),
                "--private-key",
                DEPLOYER_PK,
                "--broadcast",
                "--constructor-args",
            ])
            .args(args),
    ));
    text.lines()
        .find_map(|l| l.strip_prefix("Deployed to: "))
        .unwrap_or_else(|| panic!("forge create said {text}"))
        .trim()
        .to_string()
}
