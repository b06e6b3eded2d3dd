//! script/Deploy.s.sol against real anvil chains: what it deploys, the roles it grants, the deployment
//! file it writes, and that it refuses to deploy twice.
#![allow(clippy::unwrap_used)]

use lucid_e2e::{
    Anvil, DEPLOYER, DeploymentFile, KEEPER, SIGNER, deploy, deployment, repo_root, run_ok, stdout,
    test_chain_id, tool,
};

fn role(name: &str) -> String {
    stdout(&run_ok(tool("cast").args(["keccak", name])))
}

fn has_role(anvil: &Anvil, contract: &str, role_name: &str, who: &str) -> bool {
    let role = if role_name == "DEFAULT_ADMIN_ROLE" {
        format!("0x{}", "00".repeat(32))
    } else {
        role(role_name)
    };
    anvil.call(contract, "hasRole(bytes32,address)(bool)", &[&role, who]) == "true"
}

fn addr(v: &serde_json::Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("deployment file has no {key}: {v}"))
        .to_string()
}

#[test]
fn deploy_onsystem_writes_file_and_grants_roles() {
    let id = test_chain_id();
    let _cleanup = DeploymentFile(id);
    let anvil = Anvil::start(id);
    let out = deploy(&anvil, "onsystem", &[("GENESIS_TIME", "1704067200")]);
    assert!(
        out.status.success(),
        "deploy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let d = deployment(id);
    assert_eq!(d["chainId"].as_u64(), Some(id));
    assert!(d["startBlock"].is_u64(), "startBlock missing: {d}");
    // The daemons read the very file the script wrote (lucid-chain refuses unknown keys).
    let parsed = lucid_chain::Deployment::load_chain(&repo_root().join("deployments"), id)
        .expect("lucid-chain reads the on-system deployment file");
    assert!(parsed.is_onsystem());
    let anchors = addr(&d, "LucidAnchors");
    let store = addr(&d, "LucidChunkStore");
    assert!(has_role(&anvil, &anchors, "DEFAULT_ADMIN_ROLE", DEPLOYER));
    assert!(has_role(&anvil, &anchors, "ANCHORER_ROLE", KEEPER));
    assert!(!has_role(&anvil, &anchors, "ANCHORER_ROLE", SIGNER));
    assert!(has_role(&anvil, &store, "STORER_ROLE", KEEPER));
    assert!(has_role(&anvil, &store, "DEFAULT_ADMIN_ROLE", DEPLOYER));
    assert_eq!(
        anvil.call(&store, "ANCHORS()(address)", &[]).to_lowercase(),
        anchors.to_lowercase()
    );
    // cast prints large numbers as "1704067200 [1.704e9]".
    assert!(
        anvil
            .call(&anchors, "GENESIS_TIME()(uint64)", &[])
            .starts_with("1704067200")
    );
}

#[test]
fn deploy_again_on_same_chain_is_refused_until_forced() {
    let id = test_chain_id();
    let _cleanup = DeploymentFile(id);
    let anvil = Anvil::start(id);
    assert!(deploy(&anvil, "onsystem", &[]).status.success());
    let first = deployment(id);

    let again = deploy(&anvil, "onsystem", &[]);
    assert!(!again.status.success(), "a second deployment went through");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&again.stdout),
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        text.contains("already deployed") || text.contains("AlreadyDeployed"),
        "unexpected output: {text}"
    );
    assert_eq!(deployment(id), first, "the deployment file changed");

    let forced = deploy(&anvil, "onsystem", &[("FORCE_REDEPLOY", "true")]);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert_ne!(
        addr(&deployment(id), "LucidAnchors"),
        addr(&first, "LucidAnchors")
    );
}

#[test]
fn deploy_over_a_reset_chain_overwrites_the_stale_file() {
    let id = test_chain_id();
    let _cleanup = DeploymentFile(id);
    {
        let anvil = Anvil::start(id);
        assert!(deploy(&anvil, "onsystem", &[]).status.success());
    } // chain gone; the file stays
    let anvil = Anvil::start(id);
    let out = deploy(&anvil, "onsystem", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("stale deployment file"));
}

#[test]
fn deploy_payment_local_mints_usdt_and_grants_roles() {
    let id = test_chain_id();
    let _cleanup = DeploymentFile(id);
    let anvil = Anvil::start(id);
    let out = deploy(&anvil, "payment", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let d = deployment(id);
    assert_eq!(d["chainId"].as_u64(), Some(id));
    let parsed = lucid_chain::Deployment::load_chain(&repo_root().join("deployments"), id)
        .expect("lucid-chain reads the payment deployment file");
    assert!(parsed.treasurer.is_some() && parsed.compliance_signer.is_some());
    let usdt = addr(&d, "USDT");
    let v0 = addr(&d, "PayoutRouterV0");
    let kyc = addr(&d, "PayoutRouterKYC");
    assert_eq!(anvil.call(&usdt, "decimals()(uint8)", &[]), "6");
    assert!(
        anvil
            .call(&usdt, "balanceOf(address)(uint256)", &[DEPLOYER])
            .starts_with("1000000000000 ")
    );
    // v1.1: executing a planned payout needs no role; the treasurer (the deployer on a local chain unless
    // TREASURER is given) sets the period roots.
    assert!(has_role(&anvil, &v0, "TREASURER_ROLE", DEPLOYER));
    assert!(has_role(&anvil, &kyc, "TREASURER_ROLE", DEPLOYER));
    assert!(!has_role(&anvil, &v0, "TREASURER_ROLE", KEEPER));
    assert!(has_role(&anvil, &kyc, "COMPLIANCE_SIGNER_ROLE", SIGNER));
    assert!(has_role(&anvil, &v0, "DEFAULT_ADMIN_ROLE", DEPLOYER));
    assert_eq!(
        d["treasurer"].as_str().map(str::to_lowercase),
        Some(DEPLOYER.to_lowercase())
    );
    assert_eq!(
        anvil.call(&v0, "USDT()(address)", &[]).to_lowercase(),
        usdt.to_lowercase()
    );
    // SPEC §3 default limits.
    assert!(
        anvil
            .call(&v0, "maxPerPayout()(uint256)", &[])
            .starts_with("1000000000 ")
    );
    assert!(
        anvil
            .call(&v0, "dailyLimit()(uint256)", &[])
            .starts_with("10000000000 ")
    );
    assert!(
        anvil
            .call(&kyc, "recipientDailyLimit()(uint256)", &[])
            .starts_with("10000000000 ")
    );
}

#[test]
fn deploy_rejects_bad_configuration() {
    let id = test_chain_id();
    let _cleanup = DeploymentFile(id);
    let anvil = Anvil::start(id);
    let bad_chain = deploy(&anvil, "sidechain", &[]);
    assert!(!bad_chain.status.success());
    assert!(format!("{:?}", bad_chain).contains("UnknownDeployChain"));

    let no_usdt = deploy(&anvil, "payment", &[("TRON_NETWORK", "shasta")]);
    assert!(!no_usdt.status.success());
    assert!(format!("{:?}", no_usdt).contains("MissingUsdtAddress"));

    let bad_net = deploy(&anvil, "payment", &[("TRON_NETWORK", "nile")]);
    assert!(!bad_net.status.success());
    assert!(format!("{:?}", bad_net).contains("UnknownTronNetwork"));
    assert!(
        !lucid_e2e::repo_root()
            .join(format!("deployments/{id}.json"))
            .exists()
    );
}

/// SPEC §3 v1.1: with `ADMIN` the deployer grants the roles, then begins the two-step admin transfer
/// (AccessControlDefaultAdminRules, 3 days) and hands the routers' pauser role to `ADMIN`.
#[test]
fn deploy_payment_with_admin_and_treasurer_hands_over() {
    let id = test_chain_id();
    let _cleanup = DeploymentFile(id);
    let anvil = Anvil::start(id);
    let out = deploy(
        &anvil,
        "payment",
        &[("ADMIN", SIGNER), ("TREASURER", KEEPER)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = deployment(id);
    assert_eq!(
        d["admin"].as_str().map(str::to_lowercase),
        Some(SIGNER.to_lowercase())
    );
    for router in [addr(&d, "PayoutRouterV0"), addr(&d, "PayoutRouterKYC")] {
        assert!(has_role(&anvil, &router, "TREASURER_ROLE", KEEPER));
        assert!(!has_role(&anvil, &router, "TREASURER_ROLE", DEPLOYER));
        assert!(has_role(&anvil, &router, "PAUSER_ROLE", SIGNER));
        assert!(!has_role(&anvil, &router, "PAUSER_ROLE", DEPLOYER));
        // the transfer is pending until ADMIN accepts after the delay
        let pending = anvil.call(&router, "pendingDefaultAdmin()(address,uint48)", &[]);
        assert!(
            pending.to_lowercase().contains(&SIGNER.to_lowercase()),
            "pending admin: {pending}"
        );
        assert!(
            anvil
                .call(&router, "defaultAdminDelay()(uint48)", &[])
                .starts_with("259200")
        );
    }
}

#[test]
fn deploy_payment_on_tron_requires_a_treasurer() {
    let id = test_chain_id();
    let _cleanup = DeploymentFile(id);
    let anvil = Anvil::start(id);
    let out = deploy(
        &anvil,
        "payment",
        &[
            ("TRON_NETWORK", "shasta"),
            ("USDT_ADDRESS", "0x00000000000000000000000000000000000000aa"),
        ],
    );
    assert!(!out.status.success());
    assert!(format!("{:?}", out).contains("MissingTreasurer"));
}
