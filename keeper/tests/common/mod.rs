//! Helpers of the daemon tests: an anvil with a clock (`--block-time 1`), the v1.1 contracts
//! deployed from forge's artifacts over RPC, keeper processes, an HTTP client, signed sessions and
//! proofs.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::sol_types::{SolCall, SolValue};
use alloy::transports::http::reqwest;
use k256::ecdsa::SigningKey;
use lucid_chain::ChainClient as Rpc;
use lucid_core::merkle::MerkleTree;
use lucid_core::proof::{ProofCodec, TaskProof};
use lucid_core::session::{Chunk, SessionAnchor, SessionId, manifest_hash};
use lucid_e2e::{free_port, repo_root, run_ok, tool};
use serde_json::{Value, json};

pub const DEPLOYER: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
/// anvil development keys 1, 4, 5 (keepers), 6 (a session owner), 7 (a node without the role).
pub const KEYS: [&str; 3] = [
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
];
pub const OWNER_KEY: &str = "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e";
pub const OUTSIDER_KEY: &str = "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356";
pub const TOKEN: &str = "test-token-123";

alloy::sol! {
    function grantRole(bytes32 role, address account);
}

pub fn sk(hex: &str) -> SigningKey {
    SigningKey::from_slice(&alloy::hex::decode(hex).unwrap()).unwrap()
}
pub fn addr(hex: &str) -> Address {
    lucid_core::proof::address_of(&sk(hex))
}

/// anvil with interval mining (a clock, SPEC §6).
#[derive(Debug)]
pub struct Chain {
    child: Child,
    /// anvil's `--cache-path` (persisted states), removed on drop.
    _cache: tempfile::TempDir,
    pub port: u16,
    pub chain_id: u64,
    pub rpc: Rpc,
}

impl Chain {
    pub async fn start(chain_id: u64) -> Self {
        let port = free_port();
        let cache = tempfile::tempdir().unwrap();
        let child = tool("anvil")
            .args([
                "--port",
                &port.to_string(),
                "--chain-id",
                &chain_id.to_string(),
                "--block-time",
                "1",
                "--silent",
                "--cache-path",
            ])
            .arg(cache.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let rpc = Rpc::connect(&format!("http://127.0.0.1:{port}")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while rpc.chain_id().await.is_err() {
            assert!(Instant::now() < deadline, "anvil did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self {
            child,
            _cache: cache,
            port,
            chain_id,
            rpc,
        }
    }
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    pub async fn req(&self, method: &'static str, params: Value) -> Value {
        self.rpc.request::<Value>(method, params).await.unwrap()
    }
    pub async fn now(&self) -> u64 {
        self.rpc.latest().await.unwrap().timestamp
    }
    /// Sends from an unlocked anvil account and waits for the receipt.
    pub async fn send(&self, from: &str, to: Option<Address>, data: Vec<u8>) -> Value {
        let mut tx = json!({"from": from, "data": Bytes::from(data), "gas": "0x1c9c380"});
        if let Some(t) = to {
            tx["to"] = json!(t);
        }
        let h: B256 =
            serde_json::from_value(self.req("eth_sendTransaction", json!([tx])).await).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = self.req("eth_getTransactionReceipt", json!([h])).await;
            if !r.is_null() {
                assert_eq!(r["status"], "0x1", "tx failed: {r}");
                return r;
            }
            assert!(Instant::now() < deadline, "tx {h} not mined");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    /// Moves chain time to at least `t` (the next block has timestamp ≥ t).
    pub async fn warp_to(&self, t: u64) {
        let now = self.now().await;
        if t > now {
            self.req("evm_setNextBlockTimestamp", json!([t])).await;
            self.req("evm_mine", json!([])).await;
        }
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn artifact(path: &str) -> Vec<u8> {
    let p = repo_root().join("out").join(path);
    let text = std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e} (forge build first)", p.display()));
    let v: Value = serde_json::from_str(&text).unwrap();
    alloy::hex::decode(v["bytecode"]["object"].as_str().unwrap()).unwrap()
}

/// The v1.1 contracts.
#[derive(Debug, Clone, Copy)]
pub struct Deployed {
    pub anchors: Address,
    pub chunk_store: Address,
    pub start_block: u64,
}

/// `forge build` (cached) and deploys LucidAnchors + LucidChunkStore with `genesis`, granting
/// ANCHORER_ROLE and STORER_ROLE to `anchorers`.
pub async fn deploy(chain: &Chain, genesis: u64, anchorers: &[Address]) -> Deployed {
    run_ok(tool("forge").args(["build"]));
    let start_block = chain.rpc.block_number().await.unwrap();
    let admin: Address = DEPLOYER.parse().unwrap();
    let mut code = artifact("LucidAnchors.sol/LucidAnchors.json");
    code.extend((admin, genesis).abi_encode_params());
    let r = chain.send(DEPLOYER, None, code).await;
    let anchors: Address = r["contractAddress"].as_str().unwrap().parse().unwrap();
    let mut code = artifact("LucidChunkStore.sol/LucidChunkStore.json");
    code.extend((admin, anchors).abi_encode_params());
    let r = chain.send(DEPLOYER, None, code).await;
    let chunk_store: Address = r["contractAddress"].as_str().unwrap().parse().unwrap();
    for a in anchorers {
        let data = grantRoleCall {
            role: keccak256("ANCHORER_ROLE"),
            account: *a,
        }
        .abi_encode();
        chain.send(DEPLOYER, Some(anchors), data).await;
        let data = grantRoleCall {
            role: keccak256("STORER_ROLE"),
            account: *a,
        }
        .abi_encode();
        chain.send(DEPLOYER, Some(chunk_store), data).await;
    }
    Deployed {
        anchors,
        chunk_store,
        start_block,
    }
}

/// A `lucid-keeper run` process, killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct Keeper {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
    pub key: String,
}

pub struct KeeperConfig<'a> {
    pub chain: &'a Chain,
    pub d: Deployed,
    pub key: &'a str,
    pub store: &'a str,
    pub state_dir: &'a Path,
    pub log_dir: &'a Path,
    pub extra_env: Vec<(&'a str, String)>,
}

impl Keeper {
    pub fn spawn(c: &KeeperConfig<'_>) -> Self {
        let port = free_port();
        let log = c.log_dir.join(format!("keeper-{port}.log"));
        let f = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lucid-keeper"));
        cmd.arg("run")
            .env("LUCID_NODE_KEY", c.key)
            .env("ON_SYSTEM_CHAIN_RPC", c.chain.url())
            .env("LUCID_ANCHORS_ADDRESS", format!("{:#x}", c.d.anchors))
            .env(
                "LUCID_CHUNK_STORE_ADDRESS",
                format!("{:#x}", c.d.chunk_store),
            )
            .env("LUCID_START_BLOCK", c.d.start_block.to_string())
            .env("LUCID_STORE", c.store)
            .env("LUCID_KEEPER_LISTEN", format!("127.0.0.1:{port}"))
            .env("LUCID_KEEPER_STATE_DIR", c.state_dir)
            .env("LUCID_API_TOKEN", TOKEN)
            .env("RUST_LOG", "info,lucid_keeper=debug")
            .env_remove("GENESIS_TIME")
            .stdout(Stdio::null())
            .stderr(f);
        for (k, v) in &c.extra_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        Self {
            child,
            port,
            log,
            key: c.key.to_owned(),
        }
    }
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
    /// Waits until `/ready` answers 200.
    pub async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("keeper exited with {st}:\n{}", self.log_text());
            }
            if let Ok((200, _)) = get(&self.url("/ready")).await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "keeper not ready:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    /// Waits (at most 60 s) for the process to exit.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "keeper did not exit:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

pub async fn get(url: &str) -> Result<(u16, Value), reqwest::Error> {
    let r = client().get(url).send().await?;
    let st = r.status().as_u16();
    let t = r.text().await?;
    Ok((st, serde_json::from_str(&t).unwrap_or(Value::String(t))))
}

fn post_request(url: &str, body: Vec<u8>, token: Option<&str>) -> reqwest::RequestBuilder {
    let rb = client()
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    match token {
        Some(t) => rb.header("authorization", format!("Bearer {t}")),
        None => rb,
    }
}

fn answer(status: u16, text: String) -> (u16, Value) {
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub async fn post(url: &str, body: impl Into<Vec<u8>>, token: Option<&str>) -> (u16, Value) {
    let r = post_request(url, body.into(), token).send().await.unwrap();
    let st = r.status().as_u16();
    answer(st, r.text().await.unwrap())
}

/// [`post`] of a body over the server's limit: a transport error is retried (the 413 can come
/// back as a broken pipe, see `lucid_e2e::send_retrying_transport`).
pub async fn post_oversized(url: &str, body: Vec<u8>, token: Option<&str>) -> (u16, Value) {
    let (st, text) =
        lucid_e2e::send_retrying_transport(|| post_request(url, body.clone(), token)).await;
    answer(st, text)
}

/// A signed session submission with `n` chunks; returns (body, anchor).
pub fn session(chain_id: u64, anchors: Address, n: u32, started_at: u64) -> (Value, SessionAnchor) {
    let key = sk(OWNER_KEY);
    let owner = addr(OWNER_KEY);
    let sid = SessionId::new_v4();
    let chunks: Vec<Chunk> = (0..n)
        .map(|i| Chunk {
            index: i,
            chunk_hash: keccak256(format!("{sid}:{i}")),
            size: 1000 + u64::from(i),
        })
        .collect();
    let root = MerkleTree::from_chunks(&sid.to_bytes32(), &chunks)
        .unwrap()
        .root();
    let manifest = json!({
        "sessionId": sid.to_string(),
        "owner": format!("{owner:#x}"),
        "startedAt": started_at,
        "chunkCount": n,
        "merkleRoot": format!("{root:#x}"),
        "codec": "opus",
        "recorderVersion": "1.0.0",
        "participants": [],
    });
    let anchor = SessionAnchor {
        sessionId: sid.to_bytes32(),
        manifestHash: manifest_hash(&manifest).unwrap(),
        merkleRoot: root,
        owner,
        startedAt: started_at,
        chunkCount: n,
    };
    let sig = lucid_core::anchor::sign(&key, &anchor, chain_id, anchors).unwrap();
    let body = json!({
        "manifest": manifest,
        "chunks": chunks.iter().map(|c| json!({"index": c.index, "chunkHash": format!("{:#x}", c.chunk_hash), "size": c.size})).collect::<Vec<_>>(),
        "ownerSig": sig.to_hex(),
    });
    (body, anchor)
}

/// JSON Lines of beacons in `slots` and one relay proof, signed by `key`.
pub fn proofs(
    chain_id: u64,
    key: &str,
    slots: std::ops::Range<u64>,
    relay_bytes: u64,
) -> Vec<String> {
    let codec = ProofCodec::new(chain_id);
    let k = sk(key);
    let node = addr(key);
    let mut out: Vec<String> = slots
        .clone()
        .map(|s| {
            codec
                .sign(TaskProof::beacon(node, s), &k)
                .unwrap()
                .to_json()
        })
        .collect();
    let mut relay = TaskProof::beacon(node, slots.start);
    relay.kind = lucid_core::proof::ProofKind::RelayBandwidth;
    relay.session_id = SessionId::new_v4();
    relay.amount = relay_bytes;
    out.push(codec.sign(relay, &k).unwrap().to_json());
    out
}

/// `anchorDigest(sessionId)` on chain.
pub async fn anchor_digest(chain: &Chain, anchors: Address, sid: B256) -> B256 {
    let view = lucid_keeper::daemon::chainview::ChainView {
        rpc: chain.rpc.clone(),
        anchors,
        start_block: 0,
    };
    view.anchor_digest(sid).await.unwrap()
}

pub fn digest(a: &SessionAnchor) -> B256 {
    a.digest()
}

pub fn u(x: u64) -> U256 {
    U256::from(x)
}

static MONGO_DB: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A fresh database on `MONGODB_URI` or the SecantusDB test server ([`lucid_e2e::mongo_url`]).
pub fn mongo_store_url() -> String {
    let n = MONGO_DB.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    lucid_e2e::mongo_url(&format!("lucid_keeper_{}_{n}", std::process::id()))
}
