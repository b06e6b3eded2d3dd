//! Helpers of the indexer's end-to-end tests: a real anvil, a tiny contract that emits any
//! `ChunkStored` log it is given (raw EVM bytecode, so the tests need no compiler), the indexer
//! binary as a child process, and ground truth straight from `eth_getLogs`.
#![allow(dead_code, unused_imports, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256};
use alloy::sol_types::SolEvent;
use lucid_chain::bindings::ILucidChunkStore;
use lucid_chain::{ChainClient, ContractKind, EventDecoder};
use lucid_core::models::ChainEvent;
use lucid_store::{EventQuery, Store};
use serde_json::{Value, json};

pub use lucid_e2e::fault_proxy::{FaultProxy, Rule, Shape, Suggest};
pub use lucid_e2e::{Anvil, free_port};

pub const DEV: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

/// Init code of a contract whose runtime is `LOG4(data = calldata[128..], topics = calldata[0..32],
/// calldata[32..64], calldata[64..96], calldata[96..128])`.
const EMITTER_INIT: &str =
    "0x601a600c600039601a6000f3606035604035602035600035608036038060806000376000a400";

pub async fn rpc(url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let v: Value = reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v.get("error").is_none(), "{method}: {v}");
    v["result"].clone()
}

pub fn hex_u64(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

pub async fn head(url: &str) -> u64 {
    hex_u64(&rpc(url, "eth_blockNumber", json!([])).await)
}

/// Deploys the emitter; returns its address.
pub async fn deploy_emitter(url: &str) -> Address {
    let tx = rpc(
        url,
        "eth_sendTransaction",
        json!([{"from": DEV, "data": EMITTER_INIT}]),
    )
    .await;
    let r = rpc(url, "eth_getTransactionReceipt", json!([tx])).await;
    r["contractAddress"].as_str().unwrap().parse().unwrap()
}

/// Emits one `ChunkStored` (sessionId = n, index = n, storer = a fixed node) in its own transaction.
pub async fn emit(url: &str, emitter: Address, n: u64) {
    let mut sid = [0u8; 32];
    sid[..8].copy_from_slice(&n.to_be_bytes());
    sid[8] = 0x40; // looks like a v4 UUID's bytes
    let ev = ILucidChunkStore::ChunkStored {
        sessionId: B256::from(sid),
        index: (n % 1000) as u32,
        storer: Address::repeat_byte(0x11),
        chunkHash: B256::repeat_byte((n % 251) as u8),
        size: n + 1,
    };
    emit_log(url, emitter, &ev.encode_log_data()).await;
}

/// A fresh anvil (chain id 31337) with an emitter that has emitted `ChunkStored` 0..`events`, one per
/// block: the anvil (keep it alive), its URL and the emitter.
pub async fn chain_with_events(events: u64) -> (Anvil, String, Address) {
    let anvil = Anvil::start(31337);
    let url = anvil.url();
    let emitter = deploy_emitter(&url).await;
    for n in 0..events {
        emit(&url, emitter, n).await;
    }
    (anvil, url, emitter)
}

/// The binding's `SessionAnchor` of lucid-core's (same fields, the type `anchorBatch` takes).
pub fn binding_anchor(
    s: &lucid_core::session::SessionAnchor,
) -> lucid_chain::bindings::ILucidAnchors::SessionAnchor {
    lucid_chain::bindings::ILucidAnchors::SessionAnchor {
        sessionId: s.sessionId,
        manifestHash: s.manifestHash,
        merkleRoot: s.merkleRoot,
        owner: s.owner,
        startedAt: s.startedAt,
        chunkCount: s.chunkCount,
    }
}

/// Emits one `Paid` (a payment-chain event) in its own transaction.
pub async fn emit_paid(url: &str, emitter: Address, n: u64) {
    let ev = lucid_chain::bindings::IPayoutRouterV0::Paid {
        payoutId: B256::from(alloy::primitives::U256::from(n)),
        to: Address::repeat_byte(0x22),
        amount: alloy::primitives::U256::from(n * 1_000_000),
        period: 24_300,
    };
    emit_log(url, emitter, &ev.encode_log_data()).await;
}

/// Emits any log with exactly 4 topics.
pub async fn emit_log(url: &str, emitter: Address, d: &alloy::primitives::LogData) {
    assert_eq!(d.topics().len(), 4);
    let mut data = Vec::new();
    for t in d.topics() {
        data.extend_from_slice(t.as_slice());
    }
    data.extend_from_slice(&d.data);
    rpc(
        url,
        "eth_sendTransaction",
        json!([{"from": DEV, "to": emitter, "data": format!("0x{}", alloy::hex::encode(data)), "gas": "0x30000"}]),
    )
    .await;
}

/// Every `ChainEvent` the chain has for the emitter, decoded like the indexer does.
pub async fn ground_truth(url: &str, chain_id: u64, emitter: Address) -> Vec<ChainEvent> {
    ground_truth_as(url, chain_id, emitter, ContractKind::LucidChunkStore).await
}

/// [`ground_truth`] with the emitter followed as a given contract.
pub async fn ground_truth_as(
    url: &str,
    chain_id: u64,
    emitter: Address,
    kind: ContractKind,
) -> Vec<ChainEvent> {
    let c = ChainClient::new(url, Duration::from_secs(10)).unwrap();
    let head = c.block_number().await.unwrap();
    let dec = EventDecoder::new(chain_id, [(emitter, kind)]);
    let logs = c.logs_once(&[emitter], 0, head).await.unwrap();
    let mut out = Vec::new();
    for l in logs {
        let b = c.block(l.block_number()).await.unwrap().unwrap();
        out.push(dec.decode(&l, b.timestamp()).unwrap().to_chain_event());
    }
    out
}

/// Every stored event of a chain, in (block, log index) order, through the paged reader.
pub async fn stored(store: &dyn Store, chain_id: u64) -> Vec<ChainEvent> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let p = store
            .events(
                &EventQuery {
                    chain_id: Some(chain_id),
                    event: None,
                    from_block: 0,
                    to_block: i64::MAX as u64,
                },
                cursor.as_deref(),
                500,
            )
            .await
            .unwrap();
        out.extend(p.items);
        match p.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// The indexer binary as a child process; killed when dropped.
#[derive(Debug)]
pub struct Indexer {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Indexer {
    /// `lucid-indexer run` following `url` as the on-system chain with the emitter as its chunk store.
    pub fn onsystem(url: &str, emitter: Address, store_url: &str, extra: &[&str]) -> Self {
        let mut args: Vec<String> = vec![
            "--onsystem-rpc".into(),
            url.into(),
            "--chunk-store".into(),
            format!("{emitter:#x}"),
            "--onsystem-start-block".into(),
            "0".into(),
            "--onsystem-confirmations".into(),
            "0".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        Self::spawn(store_url, &args)
    }

    pub fn spawn(store_url: &str, args: &[String]) -> Self {
        let port = free_port();
        let log =
            std::env::temp_dir().join(format!("lucid-indexer-{}-{port}.log", std::process::id()));
        let f = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_lucid-indexer"))
            .arg("run")
            .args(args)
            .args([
                "--store",
                store_url,
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .args(["--poll-ms", "100", "--no-progress"])
            // No deployment files unless the test names a directory.
            .args(
                (!args.iter().any(|a| a == "--deployments"))
                    .then_some(["--deployments", "/nonexistent"])
                    .into_iter()
                    .flatten(),
            )
            .env_remove("ON_SYSTEM_CHAIN_RPC")
            .env_remove("TRON_RPC")
            .env_remove("GENESIS_TIME")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(f)
            .spawn()
            .unwrap();
        Indexer { child, port, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        match reqwest::Client::new()
            .get(self.url(path))
            .timeout(Duration::from_secs(5))
            .send()
            .await
        {
            Ok(r) => {
                let s = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                (
                    s,
                    serde_json::from_str(&text).unwrap_or(Value::String(text)),
                )
            }
            Err(e) => (0, Value::String(e.to_string())),
        }
    }

    /// The checkpoint of a chain per `/v1/status`.
    pub async fn status_of(&self, chain_id: u64) -> Option<Value> {
        let (code, v) = self.get("/v1/status").await;
        if code != 200 {
            return None;
        }
        v["chains"]
            .as_array()?
            .iter()
            .find(|c| c["chainId"].as_u64() == Some(chain_id))
            .cloned()
    }

    /// Waits until the chain's checkpoint reaches `block`.
    pub async fn wait_checkpoint(&mut self, chain_id: u64, block: u64, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(s) = self.status_of(chain_id).await
                && s["checkpoint"].as_u64().is_some_and(|c| c >= block)
            {
                return;
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("indexer exited ({st}):\n{}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "checkpoint of chain {chain_id} did not reach {block}; status {:?}\n{}",
                self.status_of(chain_id).await,
                tail(&self.log_text())
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal("-TERM")
    }

    /// SIGINT (Ctrl-C), then the exit status.
    pub fn interrupt(&mut self) -> std::process::ExitStatus {
        self.signal("-INT")
    }

    fn signal(&mut self, sig: &str) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st;
            }
            assert!(Instant::now() < deadline, "indexer ignored {sig}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.log);
    }
}

pub fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// A fresh SQLite store URL in a temp dir (kept alive by the returned guard).
pub fn sqlite_url() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("lucid.db").display());
    (dir, url)
}

/// Asserts the store holds exactly the chain's events (same ids, blocks, times, args).
pub async fn assert_exact(store: &dyn Store, url: &str, chain_id: u64, emitter: Address) {
    let truth = ground_truth(url, chain_id, emitter).await;
    let got = stored(store, chain_id).await;
    let ids: std::collections::BTreeSet<&String> = got.iter().map(|e| &e.id).collect();
    assert_eq!(ids.len(), got.len(), "duplicate event ids in the store");
    assert!(
        got.iter().all(|e| e.block_time > 0),
        "an event stored with block_time 0"
    );
    assert_eq!(
        got.len(),
        truth.len(),
        "stored {} events, the chain has {}",
        got.len(),
        truth.len()
    );
    assert_eq!(got, truth);
}

// ---------------------------------------------------------------- real LucidAnchors

/// The on-system contracts deployed by `forge script script/Deploy.s.sol` on a test anvil.
#[derive(Debug)]
pub struct Deployed {
    pub chain_id: u64,
    pub anchors: Address,
    pub chunk_store: Address,
    pub start_block: u64,
    pub genesis_time: u64,
    _file: lucid_e2e::DeploymentFile,
}

/// Deploys the on-system contracts (the repository's forge script; `KEEPER` gets the anchorer
/// role) on an anvil started with `chain_id` (unique per test: the script writes
/// `deployments/<chainId>.json`, removed when the result drops).
pub fn deploy_onsystem(anvil: &Anvil, chain_id: u64) -> Deployed {
    let genesis = 1_704_067_200u64;
    let out = lucid_e2e::deploy(anvil, "onsystem", &[("GENESIS_TIME", &genesis.to_string())]);
    let file = lucid_e2e::DeploymentFile(chain_id);
    assert!(
        out.status.success(),
        "forge script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = lucid_e2e::deployment(chain_id);
    let a = |k: &str| -> Address { d[k].as_str().unwrap().parse().unwrap() };
    Deployed {
        chain_id,
        anchors: a("LucidAnchors"),
        chunk_store: a("LucidChunkStore"),
        start_block: d["startBlock"].as_u64().unwrap(),
        genesis_time: genesis,
        _file: file,
    }
}

/// The owner key of the test sessions (any key works: each session carries its owner's signature).
pub fn owner_key() -> k256::ecdsa::SigningKey {
    k256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap()
}

pub fn address_of(key: &k256::ecdsa::SigningKey) -> Address {
    let enc = key.verifying_key().to_encoded_point(false);
    Address::from_slice(&alloy::primitives::keccak256(&enc.as_bytes()[1..])[12..])
}

/// The session id (UUID v4 layout) of test session `n`.
pub fn session_uuid(n: u64) -> uuid::Uuid {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&n.to_be_bytes());
    b[8..16].copy_from_slice(&(n ^ 0x5eed).to_be_bytes());
    uuid::Builder::from_random_bytes(b).into_uuid()
}

/// Calldata of `anchorBatch(slot, sessions n0..n0+count, owner signatures)`.
pub fn anchor_batch_calldata(
    key: &k256::ecdsa::SigningKey,
    chain_id: u64,
    anchors: Address,
    slot: u64,
    n0: u64,
    count: u64,
) -> Vec<u8> {
    use alloy::sol_types::SolCall;
    use lucid_chain::bindings::ILucidAnchors;
    let owner = address_of(key);
    let mut sessions = Vec::with_capacity(count as usize);
    let mut sigs = Vec::with_capacity(count as usize);
    for n in n0..n0 + count {
        let id = session_uuid(n);
        let mut sid = [0u8; 32];
        sid[..16].copy_from_slice(id.as_bytes());
        let core = lucid_core::session::SessionAnchor {
            sessionId: B256::from(sid),
            manifestHash: alloy::primitives::keccak256(n.to_be_bytes()),
            merkleRoot: alloy::primitives::keccak256((n + 1).to_be_bytes()),
            owner,
            startedAt: 1_704_067_200 + n,
            chunkCount: 8,
        };
        let sig = lucid_core::anchor::sign(key, &core, chain_id, anchors).unwrap();
        sessions.push(binding_anchor(&core));
        sigs.push([sig.r, sig.vs]);
    }
    ILucidAnchors::anchorBatchCall {
        slot,
        sessions,
        ownerSigs: sigs,
    }
    .abi_encode()
}

/// The current slot per the latest block's time.
pub async fn current_slot(url: &str, genesis: u64) -> u64 {
    let b = rpc(url, "eth_getBlockByNumber", json!(["latest", false])).await;
    (hex_u64(&b["timestamp"]) - genesis) / 120
}

/// Sends `anchorBatch` calldata from `KEEPER` (the anchorer); returns the transaction hash.
pub async fn send_anchor_batch(url: &str, anchors: Address, data: &[u8]) -> B256 {
    let tx = rpc(
        url,
        "eth_sendTransaction",
        json!([{"from": lucid_e2e::KEEPER, "to": anchors, "data": format!("0x{}", alloy::hex::encode(data)), "gas": "0xB71B00"}]),
    )
    .await;
    tx.as_str().unwrap().parse().unwrap()
}

/// A receipt's `gasUsed`, and whether the transaction succeeded.
pub async fn receipt_gas(url: &str, tx: B256) -> (u64, bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = rpc(url, "eth_getTransactionReceipt", json!([tx])).await;
        if !r.is_null() {
            return (hex_u64(&r["gasUsed"]), hex_u64(&r["status"]) == 1);
        }
        assert!(Instant::now() < deadline, "no receipt for {tx}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ---------------------------------------------------------------- MongoDB test server

/// A fresh database (`{db}_{pid}`) on `MONGODB_URI` or the SecantusDB test server
/// ([`lucid_e2e::mongo_url`]).
pub fn mongo_url(db: &str) -> String {
    lucid_e2e::mongo_url(&format!("{db}_{}", std::process::id()))
}

/// An in-process indexer `Config` following one on-system chain from block 0 (no confirmations,
/// small ranges, default API cache), listening on 127.0.0.1:`port`.
pub fn onsystem_config(
    url: &str,
    contracts: Vec<(Address, ContractKind)>,
    port: u16,
    poll: Duration,
) -> lucid_indexer::Config {
    lucid_indexer::Config {
        chains: vec![lucid_indexer::ChainConfig {
            role: "onsystem",
            chain_id: 31337,
            rpc_url: url.to_owned(),
            contracts,
            start_block: 0,
            confirmations: 0,
        }],
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        poll,
        reorg_window: 64,
        initial_range: 100,
        max_range: 1000,
        max_range_events: 10_000,
        rpc_timeout: Duration::from_secs(5),
        progress: false,
        params: lucid_store::Params::from_lookup(|_| None).unwrap(),
        api_cache: Default::default(),
    }
}

/// `GET url`: the status and the body as JSON (a string when it is not JSON). A refused connection
/// is retried for up to 10 s (an in-process server starts listening inside its spawned task).
pub async fn get_json(url: &str) -> (u16, Value) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let r = loop {
        match reqwest::Client::new().get(url).send().await {
            Ok(r) => break r,
            Err(e) if e.is_connect() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("GET {url}: {e}"),
        }
    };
    let code = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        code,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The session the API tests register: its bytes32 id and its UUID form.
pub const SID: &str = "0123456789abcdef0123456789abcdef00000000000000000000000000000000";
pub const SID_UUID: &str = "01234567-89ab-cdef-0123-456789abcdef";

/// `SessionRegistered` of [`SID`] (owner 0x70…70, slot 7, two chunks).
pub fn sample_registration() -> lucid_chain::bindings::ILucidAnchors::SessionRegistered {
    lucid_chain::bindings::ILucidAnchors::SessionRegistered {
        sessionId: SID.parse::<B256>().unwrap(),
        owner: Address::repeat_byte(0x70),
        slot: 7,
        manifestHash: B256::repeat_byte(0xAA),
        merkleRoot: B256::repeat_byte(0xBB),
        startedAt: 1_704_067_200,
        chunkCount: 2,
    }
}
