//! Test rig: a real anvil, the stand-in binary in front of it (lucid-e2e's shared
//! [`TronLocal`] helper), MockTronUSDT deployed with forge, and a block producer (evm_mine every
//! 200 ms) so the solidified head advances.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use k256::ecdsa::SigningKey;
use lucid_e2e::tron_local::{BlockProducer, TronLocal};
use lucid_e2e::{DEPLOYER_PK, free_port, repo_root, run_ok, stdout, tool};
use lucid_payout::tx::address_of_key;
use lucid_payout::{TronAddress, TronClient};
use serde_json::{Value, json};

pub struct Rig {
    anvil: Child,
    /// anvil's `--cache-path`, removed on drop.
    cache: std::path::PathBuf,
    standin: Option<TronLocal>,
    pub anvil_url: String,
    pub url: String,
    pub client: TronClient,
    pub usdt: TronAddress,
    miner: Option<BlockProducer>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.miner.take();
        self.standin.take();
        let _ = self.anvil.kill();
        let _ = self.anvil.wait();
        let _ = std::fs::remove_dir_all(&self.cache);
    }
}

pub async fn rpc(url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let r = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(v.get("error").is_none(), "{method}: {v}");
    v["result"].clone()
}

/// A fixed test key from a label (keccak256 of it).
pub fn key(label: &str) -> SigningKey {
    let seed = alloy_primitives::keccak256(format!("lucid.tron-local.test.{label}").as_bytes());
    SigningKey::from_slice(seed.as_slice()).unwrap()
}

impl Rig {
    /// anvil + stand-in (solid lag 1) + MockTronUSDT; `mine`: start the block producer.
    pub async fn start(mine: bool) -> Rig {
        let port = free_port();
        let cache = lucid_e2e::anvil_cache_dir(port);
        let anvil = tool("anvil")
            .args([
                "--port",
                &port.to_string(),
                "--chain-id",
                "31337",
                "--silent",
                "--cache-path",
            ])
            .arg(&cache)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let anvil_url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ok = reqwest::Client::new()
                .post(&anvil_url)
                .header("content-type", "application/json")
                .body(r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#)
                .send()
                .await
                .is_ok();
            if ok {
                break;
            }
            assert!(Instant::now() < deadline, "anvil did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let standin = TronLocal::start(
            Path::new(env!("CARGO_BIN_EXE_lucid-tron-local")),
            &anvil_url,
            &["--solid-lag", "1", "--faults"],
        );
        let url = standin.url.clone();
        let usdt = forge_create(
            &anvil_url,
            "contracts/test/mocks/MockTronUSDT.sol:MockTronUSDT",
            &[],
        );
        let miner = mine.then(|| BlockProducer::start(port, Duration::from_millis(200)));
        Rig {
            anvil,
            cache,
            standin: Some(standin),
            client: TronClient::new(&url).unwrap(),
            anvil_url,
            url,
            usdt,
            miner,
        }
    }

    /// Mints MockTronUSDT to `to` (the deployer is its owner).
    pub fn mint(&self, to: &TronAddress, amount: u64) {
        run_ok(tool("cast").args([
            "send",
            &self.usdt.evm_hex(),
            "mint(address,uint256)",
            &to.evm_hex(),
            &amount.to_string(),
            "--rpc-url",
            &self.anvil_url,
            "--private-key",
            DEPLOYER_PK,
        ]));
    }

    /// MockTronUSDT balance.
    pub async fn balance(&self, who: &TronAddress) -> u64 {
        let mut data = alloy_primitives::keccak256(b"balanceOf(address)")[..4].to_vec();
        data.extend([0u8; 12]);
        data.extend(who.0);
        let out = rpc(
            &self.anvil_url,
            "eth_call",
            json!([{"to": self.usdt.evm_hex(), "data": format!("0x{}", hex::encode(data))}, "latest"]),
        )
        .await;
        let s = out.as_str().unwrap().trim_start_matches("0x");
        assert_eq!(s.len(), 64, "{s}");
        u64::from_str_radix(&s[48..], 16).unwrap()
    }

    /// Moves the chain clock forward by `secs` and mines two blocks (head and solidified head).
    pub async fn advance(&self, secs: u64) {
        rpc(&self.anvil_url, "evm_increaseTime", json!([secs])).await;
        rpc(&self.anvil_url, "evm_mine", json!([])).await;
        rpc(&self.anvil_url, "evm_mine", json!([])).await;
    }
}

/// Deploys a contract with forge (deployer = anvil's first key) and returns its address.
pub fn forge_create(anvil_url: &str, contract: &str, args: &[&str]) -> TronAddress {
    let mut cmd = tool("forge");
    cmd.current_dir(repo_root()).args([
        "create",
        contract,
        "--rpc-url",
        anvil_url,
        "--private-key",
        DEPLOYER_PK,
        "--broadcast",
    ]);
    if !args.is_empty() {
        cmd.arg("--constructor-args").args(args);
    }
    let text = stdout(&run_ok(&mut cmd));
    let addr = text
        .lines()
        .find_map(|l| l.strip_prefix("Deployed to: "))
        .unwrap_or_else(|| panic!("forge create said {text}"))
        .trim()
        .to_string();
    TronAddress(
        hex::decode(addr.trim_start_matches("0x"))
            .unwrap()
            .try_into()
            .unwrap(),
    )
}

/// `transfer(address,uint256)` call data.
pub fn transfer_data(to: &TronAddress, amount: u64) -> Vec<u8> {
    let mut d = alloy_primitives::keccak256(b"transfer(address,uint256)")[..4].to_vec();
    d.extend([0u8; 12]);
    d.extend(to.0);
    d.extend([0u8; 24]);
    d.extend(amount.to_be_bytes());
    d
}

/// The Transfer(from, to) log topics.
pub fn transfer_topics(from: &TronAddress, to: &TronAddress) -> Vec<[u8; 32]> {
    let pad = |a: &TronAddress| {
        let mut t = [0u8; 32];
        t[12..].copy_from_slice(&a.0);
        t
    };
    vec![
        alloy_primitives::keccak256(b"Transfer(address,address,uint256)").0,
        pad(from),
        pad(to),
    ]
}

pub fn owner_of(k: &SigningKey) -> TronAddress {
    address_of_key(k)
}
