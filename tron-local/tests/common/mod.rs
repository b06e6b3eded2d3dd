//! Test rig: a real anvil, the stand-in binary in front of it, MockTronUSDT deployed with forge,
//! and a background "block producer" (evm_mine every 200 ms) so the solidified head advances.
#![allow(clippy::unwrap_used, dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k256::ecdsa::SigningKey;
use lucid_e2e::{DEPLOYER_PK, free_port, repo_root, run_ok, stdout, tool};
use lucid_payout::tx::address_of_key;
use lucid_payout::{TronAddress, TronClient};
use serde_json::{Value, json};

pub struct Rig {
    anvil: Child,
    standin: Child,
    pub anvil_url: String,
    pub url: String,
    pub client: TronClient,
    pub usdt: TronAddress,
    miner: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(m) = self.miner.take() {
            m.abort();
        }
        let _ = self.standin.kill();
        let _ = self.standin.wait();
        let _ = self.anvil.kill();
        let _ = self.anvil.wait();
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
        let anvil = tool("anvil")
            .args([
                "--port",
                &port.to_string(),
                "--chain-id",
                "31337",
                "--silent",
            ])
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
        let mut standin = Command::new(env!("CARGO_BIN_EXE_lucid-tron-local"))
            .args([
                "--evm-rpc",
                &anvil_url,
                "--listen",
                "127.0.0.1:0",
                "--solid-lag",
                "1",
                "--faults",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(standin.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("stand-in said {line:?}"))
            .to_string();
        let url = format!("http://{addr}");
        let usdt = forge_create(
            &anvil_url,
            "contracts/test/mocks/MockTronUSDT.sol:MockTronUSDT",
            &[],
        );
        let miner = mine.then(|| {
            let u = anvil_url.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let _ = reqwest::Client::new()
                        .post(&u)
                        .header("content-type", "application/json")
                        .body(r#"{"jsonrpc":"2.0","id":1,"method":"evm_mine","params":[]}"#)
                        .send()
                        .await;
                }
            })
        });
        Rig {
            anvil,
            standin,
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
