//! `lucid-devnet`: what `./dev up` runs. The whole Lucid network on one machine, on real parts:
//!
//! 1. two anvils: the on-system chain (31337, interval mining, one block a second) and the payment
//!    chain (31338) behind `lucid-tron-local`, the TRON full-node stand-in;
//! 2. `forge script script/Deploy.s.sol` on both; `cast` grants ANCHORER_ROLE and STORER_ROLE to three
//!    node keys; the treasury key holds TREASURER_ROLE; the V0 router is funded with USDT;
//! 3. `lucid-indexer run` and three `lucid-keeper run` daemons (one per node key), separate
//!    processes on one store (`LUCID_STORE`, default `sqlite://.lucid/up/lucid.db`);
//! 4. simulated nodes post signed task proofs to the keepers' `POST /v1/proofs`; a session recorder
//!    posts owner-signed sessions (random ciphertext chunks hashed with BLAKE3) to `POST /v1/sessions`;
//! 5. chain time is moved (`evm_setNextBlockTimestamp`) across an epoch boundary and through
//!    `LUCID_UP_SLOTS` slots; a live table shows plan and result per slot; one keeper is killed before
//!    a slot it leads (a fallback takes it) and restarted;
//! 6. the previous month is planned, approved with the treasury key and executed through the TRON
//!    path (`lucid-keeper payouts …`); executing again pays nothing twice;
//! 7. the indexer's API is queried; `summary:` lines; `KEEP_RUNNING=1` leaves everything up.
//!
//! Every child runs in its own process group with its log under the state directory; Ctrl-C or
//! SIGTERM stops each of them (SIGTERM, then SIGKILL after 10 s), and so does any error.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use alloy_primitives::{Address, B256, keccak256};
use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use k256::ecdsa::SigningKey;
use lucid_core::merkle::MerkleTree;
use lucid_core::proof::{ProofCodec, ProofKind, TaskProof, address_of};
use lucid_core::session::{Chunk, Manifest, SessionAnchor, SessionId, chunk_hash};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

const ONSYS_CHAIN_ID: u64 = 31337;
const PAYMENT_CHAIN_ID: u64 = 31338;
const SLOT_SEC: u64 = 120;
const EPOCH_SLOTS: u64 = 720;
const MIB: u64 = 1 << 20;

/// anvil's well-known development keys (mnemonic "test … junk"): public, local use only.
const DEV_KEYS: [&str; 7] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", // 0 deployer / admin
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d", // 1 node 1
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a", // 2 node 2
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6", // 3 node 3
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a", // 4 compliance signer
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba", // 5 treasury
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e", // 6 payout energy payer
];

/// `./dev up` (see the module documentation). Ports are picked free unless given.
#[derive(Debug, Parser)]
#[command(
    name = "lucid-devnet",
    version,
    about = "Runs the whole Lucid network locally (./dev up)"
)]
struct Cli {
    /// On-system anvil port (default: a free port).
    #[arg(long, env = "ONSYS_PORT")]
    onsys_port: Option<u16>,
    /// Payment anvil port.
    #[arg(long, env = "PAYMENT_PORT")]
    payment_port: Option<u16>,
    /// lucid-tron-local port.
    #[arg(long, env = "TRON_PORT")]
    tron_port: Option<u16>,
    /// lucid-indexer HTTP port (the dashboard; default 8080 when free, else a free port).
    #[arg(long, env = "INDEXER_PORT")]
    indexer_port: Option<u16>,
    /// The three keepers' HTTP ports, comma-separated.
    #[arg(long, env = "KEEPER_PORTS", value_delimiter = ',')]
    keeper_ports: Vec<u16>,
    /// Shared store of every process (default sqlite://<state>/lucid.db; mongodb://… switches all).
    #[arg(long, env = "LUCID_STORE")]
    store: Option<String>,
    /// 1: leave everything running at the end until Ctrl-C / SIGTERM.
    #[arg(long, env = "KEEP_RUNNING", default_value = "0")]
    keep_running: String,
    /// Slots to run after the epoch boundary (at least 20).
    #[arg(long, env = "LUCID_UP_SLOTS", default_value_t = 22, value_parser = clap::value_parser!(u64).range(20..=200))]
    slots: u64,
    /// SLOT_TIMEOUT_MS of every daemon (SPEC §1: 1000–10000): how long a primary has before fallback 1.
    #[arg(long, env = "SLOT_TIMEOUT_MS", default_value_t = 3000, value_parser = clap::value_parser!(u64).range(1000..=10_000))]
    slot_timeout_ms: u64,
    /// The month's pool in USDT.
    #[arg(long, env = "LUCID_UP_POOL", default_value = "2000")]
    pool: String,
    /// State and logs (wiped at start).
    #[arg(long, env = "LUCID_UP_STATE", default_value = ".lucid/up")]
    state: PathBuf,
    /// Where the daemons' binaries are.
    #[arg(long, env = "LUCID_UP_BIN", default_value = "target/debug")]
    bin_dir: PathBuf,
}

// ------------------------------------------------------------------------------------ processes

#[derive(Debug)]
struct Proc {
    name: String,
    child: Child,
}

/// Every long-running child, stopped in reverse start order.
#[derive(Debug, Clone, Default)]
struct Procs(Arc<Mutex<Vec<Proc>>>);

fn log_file(path: &Path) -> Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

impl Procs {
    async fn spawn(&self, name: &str, cmd: &mut Command, log: &Path) -> Result<()> {
        let f = log_file(log)?;
        let f2 = f.try_clone()?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(f))
            .stderr(Stdio::from(f2))
            .kill_on_drop(true)
            // Own process group: a terminal's Ctrl-C reaches only us; we stop the children in order.
            .process_group(0);
        let child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        self.0.lock().await.push(Proc {
            name: name.to_owned(),
            child,
        });
        Ok(())
    }

    /// Stops one child: SIGKILL when `crash`, else SIGTERM and a grace period.
    async fn stop(&self, name: &str, crash: bool) -> Result<()> {
        let mut g = self.0.lock().await;
        let i = g
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| anyhow!("no process {name}"))?;
        let mut p = g.remove(i);
        drop(g);
        terminate(&mut p, crash).await;
        Ok(())
    }

    async fn stop_all(&self) {
        let mut all: Vec<Proc> = self.0.lock().await.drain(..).collect();
        while let Some(mut p) = all.pop() {
            terminate(&mut p, false).await;
        }
    }

    /// Fails if a child exited on its own.
    async fn check_alive(&self, state: &Path) -> Result<()> {
        let mut g = self.0.lock().await;
        for p in g.iter_mut() {
            if let Some(status) = p.child.try_wait()? {
                bail!(
                    "{} exited unexpectedly ({status}); see {}/{}.log",
                    p.name,
                    state.display(),
                    p.name
                );
            }
        }
        Ok(())
    }
}

async fn terminate(p: &mut Proc, crash: bool) {
    let Some(pid) = p.child.id() else { return };
    if crash {
        let _ = p.child.start_kill();
    } else {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .stderr(Stdio::null())
            .status();
    }
    if tokio::time::timeout(Duration::from_secs(10), p.child.wait())
        .await
        .is_err()
    {
        eprintln!("up: {} did not stop within 10 s; killing it", p.name);
        let _ = p.child.start_kill();
        let _ = p.child.wait().await;
    }
}

async fn signalled() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

/// A tool from the project's pinned toolchain (`.bin/`), else from PATH.
fn tool(name: &str) -> Command {
    let local = Path::new(".bin").join(name);
    let mut c = Command::new(if local.exists() {
        local.into_os_string()
    } else {
        name.into()
    });
    c.kill_on_drop(true);
    c
}

async fn run_logged(what: &str, cmd: &mut Command, log: &Path) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {what}"))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    let mut f = log_file(log)?;
    use std::io::Write;
    writeln!(f, "$ {what}\n{text}{err}")?;
    if !out.status.success() {
        let tail: Vec<&str> = text.lines().chain(err.lines()).collect();
        let tail = tail[tail.len().saturating_sub(25)..].join("\n");
        bail!("{what} failed ({}):\n{tail}", out.status);
    }
    if text.is_empty() {
        text = err.into_owned();
    }
    Ok(text)
}

// ------------------------------------------------------------------------------------ HTTP / RPC

#[derive(Debug, Clone)]
struct Http(reqwest::Client);

impl Http {
    fn new() -> Result<Self> {
        Ok(Self(
            reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
        ))
    }

    async fn rpc(&self, url: &str, method: &str, params: Value) -> Result<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let r = self
            .0
            .post(url)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body)?)
            .send()
            .await
            .with_context(|| format!("{method} at {url}"))?;
        let v: Value = serde_json::from_slice(&r.bytes().await?)
            .with_context(|| format!("{method} at {url}: not JSON"))?;
        if let Some(e) = v.get("error") {
            bail!("{method} at {url}: {e}");
        }
        Ok(v.get("result").cloned().unwrap_or(Value::Null))
    }

    async fn get(&self, url: &str) -> Result<(u16, Value)> {
        let r = self
            .0
            .get(url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        let status = r.status().as_u16();
        let b = r.bytes().await?;
        Ok((status, serde_json::from_slice(&b).unwrap_or(Value::Null)))
    }

    async fn post(&self, url: &str, body: Vec<u8>, token: Option<&str>) -> Result<(u16, Value)> {
        let mut req = self
            .0
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let r = req.send().await.with_context(|| format!("POST {url}"))?;
        let status = r.status().as_u16();
        let b = r.bytes().await?;
        Ok((status, serde_json::from_slice(&b).unwrap_or(Value::Null)))
    }
}

fn hex_u64(v: &Value) -> Result<u64> {
    let s = v
        .as_str()
        .ok_or_else(|| anyhow!("expected a hex quantity, got {v}"))?;
    u64::from_str_radix(s.trim_start_matches("0x"), 16).with_context(|| format!("hex quantity {s}"))
}

fn topic_u64(n: u64) -> String {
    format!("0x{n:064x}")
}

fn topic_addr(v: &Value) -> Result<Address> {
    let s = v.as_str().ok_or_else(|| anyhow!("topic {v}"))?;
    let b: B256 = s.parse().with_context(|| format!("topic {s}"))?;
    Ok(Address::from_slice(&b[12..]))
}

fn addr_of(v: &Value, key: &str) -> Result<Address> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("deployment has no {key}"))?
        .parse()
        .with_context(|| format!("{key} address"))
}

#[derive(Debug, Clone, Copy)]
struct Head {
    timestamp: u64,
}

/// `base58check(0x41 ‖ address)`: the TRON account of an EVM address (SPEC §4 recipients).
fn tron_address(a: &Address) -> String {
    let mut b = Vec::with_capacity(25);
    b.push(0x41);
    b.extend_from_slice(a.as_slice());
    let h = Sha256::digest(Sha256::digest(&b));
    b.extend_from_slice(&h[..4]);
    bs58::encode(b).into_string()
}

fn key(hex: &str) -> Result<SigningKey> {
    let b: B256 = hex.parse().context("dev key")?;
    SigningKey::from_slice(b.as_slice()).context("dev key")
}

/// The port in `var`, which must be free; else `prefer` when free; else any free port.
fn free_port(var: &str, given: Option<u16>, prefer: Option<u16>) -> Result<u16> {
    if given.is_none()
        && let Some(p) = prefer
        && std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()
    {
        return Ok(p);
    }
    match given {
        Some(p) => {
            std::net::TcpListener::bind(("127.0.0.1", p)).map_err(|e| {
                anyhow!("port {p} is busy ({e}): set {var} to a free port, or unset it to pick one")
            })?;
            Ok(p)
        }
        None => Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
            .local_addr()?
            .port()),
    }
}

// ------------------------------------------------------------------------------------ dates

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, u32::try_from(m).unwrap_or(1))
}

// ------------------------------------------------------------------------------------ the network

#[derive(Debug)]
struct Net {
    cli: Cli,
    http: Http,
    procs: Procs,
    state: PathBuf,
    onsys: String,
    payment: String,
    tron: String,
    indexer_url: String,
    keeper_urls: Vec<String>,
    store: String,
    token: String,
    genesis: u64,
    anchors: Address,
    chunk_store: Address,
    start_block: u64,
    payment_start_block: u64,
    usdt: Address,
    v0: Address,
    kyc: Address,
    keys: Vec<SigningKey>,
    nodes: Vec<Address>,
    codec: ProofCodec,
    /// Keepers that are up (the killed one is down for a while).
    alive: Vec<AtomicBool>,
    chain_now: AtomicU64,
    sessions_posted: AtomicU64,
    proofs_posted: AtomicU64,
    have_keeper: bool,
    have_indexer: bool,
    have_payouts: bool,
}

impl Net {
    fn bin(&self, name: &str) -> PathBuf {
        self.cli.bin_dir.join(name)
    }
    fn log(&self, name: &str) -> PathBuf {
        self.state.join(format!("{name}.log"))
    }
    fn slot(&self, t: u64) -> u64 {
        t.saturating_sub(self.genesis) / SLOT_SEC
    }
    fn start(&self, s: u64) -> u64 {
        self.genesis + SLOT_SEC * s
    }
    fn node_name(&self, a: &Address) -> String {
        match self.nodes.iter().position(|n| n == a) {
            Some(i) => format!("node{}", i + 1),
            None => {
                let h = format!("{a:#x}");
                format!("{}…", &h[..8])
            }
        }
    }

    async fn head(&self) -> Result<Head> {
        let b = self
            .http
            .rpc(
                &self.onsys,
                "eth_getBlockByNumber",
                json!(["latest", false]),
            )
            .await?;
        let h = Head {
            timestamp: hex_u64(&b["timestamp"])?,
        };
        self.chain_now.store(h.timestamp, Ordering::Relaxed);
        Ok(h)
    }

    /// Moves on-system chain time to `t` (the next block has timestamp `t`) and waits for that block.
    async fn warp_to(&self, t: u64) -> Result<()> {
        let h = self.head().await?;
        if h.timestamp < t {
            self.http
                .rpc(&self.onsys, "evm_setNextBlockTimestamp", json!([t]))
                .await?;
        }
        for _ in 0..100 {
            if self.head().await?.timestamp >= t {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the on-system chain did not reach time {t} (interval mining stopped?)")
    }

    fn live_keepers(&self) -> Vec<usize> {
        (0..self.keeper_urls.len())
            .filter(|&i| self.alive[i].load(Ordering::Relaxed))
            .collect()
    }

    /// Posts proofs (JSON strings) to keeper `prefer` (or another live one), in requests of 5000.
    async fn post_proofs(&self, prefer: usize, proofs: &[String]) -> Result<u64> {
        let mut accepted = 0;
        for part in proofs.chunks(5000) {
            let body = format!("[{}]", part.join(","));
            let mut last = anyhow!("no keeper is up");
            let mut done = false;
            for attempt in 0..60 {
                let live = self.live_keepers();
                if live.is_empty() {
                    break;
                }
                let k = if live.contains(&prefer) {
                    prefer
                } else {
                    live[attempt % live.len()]
                };
                let url = format!("{}/v1/proofs", self.keeper_urls[k]);
                match self.http.post(&url, body.clone().into_bytes(), None).await {
                    Ok((200, v)) => {
                        accepted += v["accepted"].as_u64().unwrap_or(0);
                        done = true;
                        break;
                    }
                    Ok((503, v)) => last = anyhow!("{url}: 503 {v}"),
                    // The keeper has not seen the block that started this slot yet (chain time).
                    Ok((422, v))
                        if v["results"]
                            .as_array()
                            .is_some_and(|r| r.iter().all(|x| x["reason"] == "future_slot")) =>
                    {
                        last = anyhow!("{url}: 422 {v}");
                    }
                    Ok((st, v)) => bail!("{url}: {st} {v}"),
                    Err(e) => last = e,
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            if !done {
                return Err(last.context("posting task proofs"));
            }
        }
        self.proofs_posted.fetch_add(accepted, Ordering::Relaxed);
        Ok(accepted)
    }

    fn sign(&self, node: usize, p: TaskProof) -> Result<String> {
        Ok(self
            .codec
            .sign(p, &self.keys[node])
            .map_err(|e| anyhow!("signing a proof: {e}"))?
            .to_json())
    }

    fn relay(&self, node: usize, slot: u64, amount: u64) -> TaskProof {
        TaskProof {
            node_id: self.nodes[node],
            slot,
            kind: ProofKind::RelayBandwidth,
            session_id: SessionId::new_v4(),
            amount,
            chunk_index: 0,
            digest: B256::ZERO,
        }
    }

    /// Node `i`'s proofs for slots `range`: beacons in 4+i of every 10 slots, relay work in one of 7
    /// (node i relays (i+1) × BASE_MB_PER_SESSION per proof), so the three rank differently.
    fn window_proofs(&self, i: usize, range: std::ops::Range<u64>) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for t in range {
            if t % 10 < 4 + i as u64 {
                out.push(self.sign(i, TaskProof::beacon(self.nodes[i], t))?);
            }
            if t % 7 == i as u64 {
                out.push(self.sign(i, self.relay(i, t, (i as u64 + 1) * 5 * MIB))?);
            }
        }
        Ok(out)
    }

    async fn schedule(&self, from: u64, to: u64) -> Result<BTreeMap<u64, Value>> {
        let mut last = anyhow!("no keeper is up");
        for k in self.live_keepers() {
            let url = format!("{}/v1/schedule?from={from}&to={to}", self.keeper_urls[k]);
            match self.http.get(&url).await {
                Ok((200, v)) => {
                    let mut out = BTreeMap::new();
                    for row in v["slots"].as_array().into_iter().flatten() {
                        if let Some(s) = row["slot"].as_u64() {
                            out.insert(s, row.clone());
                        }
                    }
                    return Ok(out);
                }
                Ok((st, v)) => last = anyhow!("{url}: {st} {v}"),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The first `SlotAnchored` of slot `s`: (submitter, count, tx hash, block number).
    async fn slot_claim(&self, s: u64) -> Result<Option<(Address, u64, String, u64)>> {
        let topic0 = format!("{:#x}", keccak256("SlotAnchored(uint64,address,uint32)"));
        let logs = self
            .http
            .rpc(
                &self.onsys,
                "eth_getLogs",
                json!([{"address": format!("{:#x}", self.anchors), "fromBlock": format!("{:#x}", self.start_block),
                        "toBlock": "latest", "topics": [topic0, topic_u64(s)]}]),
            )
            .await?;
        let Some(first) = logs.as_array().and_then(|a| a.first()) else {
            return Ok(None);
        };
        let submitter = topic_addr(&first["topics"][2])?;
        let data = first["data"].as_str().unwrap_or("0x0");
        let count = u64::from_str_radix(&data[data.len().saturating_sub(16)..], 16).unwrap_or(0);
        let tx = first["transactionHash"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok(Some((
            submitter,
            count,
            tx,
            hex_u64(&first["blockNumber"])?,
        )))
    }

    async fn keeper_cmd(&self, i: usize) -> Command {
        let mut c = Command::new(self.bin("lucid-keeper"));
        let dir = self.state.join(format!("keeper-{}", i + 1));
        let listen = self.keeper_urls[i].trim_start_matches("http://").to_owned();
        c.arg("run")
            .env("LUCID_KEEPER_LISTEN", listen)
            .env("LUCID_STORE", &self.store)
            .env("ON_SYSTEM_CHAIN_RPC", &self.onsys)
            .env("LUCID_ANCHORS_ADDRESS", format!("{:#x}", self.anchors))
            .env(
                "LUCID_CHUNK_STORE_ADDRESS",
                format!("{:#x}", self.chunk_store),
            )
            .env("LUCID_START_BLOCK", self.start_block.to_string())
            .env("LUCID_KEEPER_STATE_DIR", dir)
            .env("LUCID_NODE_KEY", DEV_KEYS[i + 1])
            .env("LUCID_API_TOKEN", &self.token)
            .env("SLOT_TIMEOUT_MS", self.cli.slot_timeout_ms.to_string())
            .env_remove("GENESIS_TIME");
        c
    }

    async fn start_keeper(&self, i: usize) -> Result<()> {
        let name = format!("keeper-{}", i + 1);
        let mut c = self.keeper_cmd(i).await;
        self.procs.spawn(&name, &mut c, &self.log(&name)).await?;
        self.wait_http(&format!("{}/health", self.keeper_urls[i]), &name)
            .await?;
        self.alive[i].store(true, Ordering::Relaxed);
        Ok(())
    }

    async fn wait_http(&self, url: &str, name: &str) -> Result<()> {
        for _ in 0..300 {
            if let Ok((200, _)) = self.http.get(url).await {
                return Ok(());
            }
            self.procs.check_alive(&self.state).await?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "{name} did not answer {url} within 30 s; see {}",
            self.log(name).display()
        )
    }

    fn payout_cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(self.bin("lucid-keeper"));
        c.kill_on_drop(true)
            .arg("payouts")
            .args(args)
            .env("TRON_NETWORK", "local")
            .env("TRON_RPC", &self.tron)
            .env("PAYOUT_ROUTER_V0_ADDRESS", format!("{:#x}", self.v0))
            .env("PAYOUT_ROUTER_KYC_ADDRESS", format!("{:#x}", self.kyc))
            .env("USDT_ADDRESS", format!("{:#x}", self.usdt))
            .env("LUCID_STORE", &self.store)
            .env("ON_SYSTEM_CHAIN_RPC", &self.onsys)
            .env("LUCID_PAYOUT_JOURNAL", self.state.join("payout-journal"))
            .env("LUCID_TREASURY_KEY", DEV_KEYS[5])
            .env("LUCID_PAYOUT_KEY", DEV_KEYS[6]);
        c
    }

    /// `Paid` / `PaidKYC` events of `period` on the payment chain: (recipient, amount).
    async fn paid(&self, period: u32) -> Result<Vec<(Address, u64)>> {
        let mut out = Vec::new();
        for sig in [
            "Paid(bytes32,address,uint256,uint32)",
            "PaidKYC(bytes32,address,uint256,uint32,bytes32)",
        ] {
            let logs = self
                .http
                .rpc(
                    &self.payment,
                    "eth_getLogs",
                    json!([{"address": [format!("{:#x}", self.v0), format!("{:#x}", self.kyc)], "fromBlock": "0x0",
                            "toBlock": "latest", "topics": [format!("{:#x}", keccak256(sig)), null, null, topic_u64(u64::from(period))]}]),
                )
                .await?;
            for l in logs.as_array().into_iter().flatten() {
                let to = topic_addr(&l["topics"][2])?;
                let data = l["data"].as_str().unwrap_or("0x");
                let amount =
                    u64::from_str_radix(data.get(2 + 48..2 + 64).unwrap_or("0"), 16).unwrap_or(0);
                out.push((to, amount));
            }
        }
        Ok(out)
    }
}

fn say(s: &str) {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        println!("\n\x1b[1m▶ {s}\x1b[0m");
    } else {
        println!("\n▶ {s}");
    }
}

fn usdt(micro: u64) -> String {
    format!("{}.{:06} USDT", micro / 1_000_000, micro % 1_000_000)
}

// ------------------------------------------------------------------------------------ sessions

/// One recorded session: random ciphertext chunks hashed with BLAKE3, the manifest, the owner's
/// EIP-712 signature (the owner key is the recording user's; here a fresh one per session).
fn make_session(chain_id: u64, anchors: Address, started_at: u64) -> Result<Vec<u8>> {
    let sid = SessionId::new_v4();
    let seed = keccak256(sid.0.as_bytes());
    let owner_key =
        SigningKey::from_slice(keccak256([seed.as_slice(), b"owner"].concat()).as_slice())
            .context("owner key")?;
    let owner = lucid_core::anchor::owner_of(&owner_key);
    let n = 2 + u32::from(seed[0] % 6);
    let mut chunks = Vec::new();
    for i in 0..n {
        let size = 1024 + usize::from(seed[1 + i as usize]) * 64;
        let mut ciphertext = vec![0u8; size];
        let mut h = blake3::Hasher::new_keyed(&seed.0);
        h.update(&i.to_be_bytes());
        h.finalize_xof().fill(&mut ciphertext);
        chunks.push(Chunk {
            index: i,
            chunk_hash: chunk_hash(&ciphertext),
            size: size as u64,
        });
    }
    let tree = MerkleTree::from_chunks(&sid.to_bytes32(), &chunks).context("merkle tree")?;
    let manifest = Manifest {
        session_id: sid,
        owner: lucid_core::address::to_lower_hex(&owner),
        started_at,
        chunk_count: n,
        merkle_root: tree.root(),
        codec: "opus+vp9/aes-256-gcm".into(),
        recorder_version: "lucid-devnet/0.1".into(),
        participants: vec![alloy_primitives::hex::encode_prefixed(
            owner_key.verifying_key().to_sec1_bytes(),
        )],
        extra: serde_json::Map::new(),
    };
    let anchor = SessionAnchor::from_manifest(&manifest, owner).context("anchor")?;
    let sig = lucid_core::anchor::sign(&owner_key, &anchor, chain_id, anchors)
        .map_err(|e| anyhow!("owner signature: {e}"))?;
    Ok(serde_json::to_vec(
        &json!({"manifest": manifest, "chunks": chunks, "ownerSig": sig.to_hex()}),
    )?)
}

/// Posts a session every `every` to a live keeper until `stop`.
async fn recorder(net: Arc<Net>, stop: Arc<AtomicBool>, every: Duration) {
    let mut n = 0usize;
    let mut errors = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let now = net.chain_now.load(Ordering::Relaxed);
        let live = net.live_keepers();
        if !live.is_empty() {
            match make_session(ONSYS_CHAIN_ID, net.anchors, now.saturating_sub(30)) {
                Ok(body) => {
                    let k = live[n % live.len()];
                    n += 1;
                    let url = format!("{}/v1/sessions", net.keeper_urls[k]);
                    match net.http.post(&url, body, Some(&net.token)).await {
                        Ok((200, v)) if v["status"] == "accepted" => {
                            net.sessions_posted.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok((st, v)) => {
                            errors += 1;
                            if errors <= 3 {
                                eprintln!("up: recorder: {url}: {st} {v}");
                            }
                        }
                        Err(_) => errors += 1, // a keeper going down
                    }
                }
                Err(e) => eprintln!("up: recorder: {e:#}"),
            }
        }
        tokio::time::sleep(every).await;
    }
}

// ------------------------------------------------------------------------------------ the run

#[derive(Debug, Default)]
struct Tally {
    primary: u64,
    fallback: u64,
    other: u64,
    missed: u64,
    sessions: u64,
    gas: u64,
}

async fn setup(cli: Cli, procs: Procs) -> Result<Arc<Net>> {
    let state = cli.state.clone();
    if state.exists() {
        std::fs::remove_dir_all(&state).with_context(|| format!("clearing {}", state.display()))?;
    }
    std::fs::create_dir_all(&state)?;
    let http = Http::new()?;

    let onsys_port = free_port("ONSYS_PORT", cli.onsys_port, None)?;
    let payment_port = free_port("PAYMENT_PORT", cli.payment_port, None)?;
    let tron_port = free_port("TRON_PORT", cli.tron_port, None)?;
    let indexer_port = free_port("INDEXER_PORT", cli.indexer_port, Some(8080))?;
    let mut keeper_ports = Vec::new();
    for i in 0..3 {
        keeper_ports.push(free_port(
            "KEEPER_PORTS",
            cli.keeper_ports.get(i).copied(),
            None,
        )?);
    }
    let onsys = format!("http://127.0.0.1:{onsys_port}");
    let payment = format!("http://127.0.0.1:{payment_port}");
    let tron = format!("http://127.0.0.1:{tron_port}");
    let store = cli
        .store
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/lucid.db", state.display()));

    let has = |p: &Path, args: &[&str]| {
        p.exists()
            && std::process::Command::new(p)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
    };
    let keeper_bin = cli.bin_dir.join("lucid-keeper");
    let have_keeper = has(&keeper_bin, &["run", "--help"]);
    let have_payouts = has(&keeper_bin, &["payouts", "--help"]);
    let have_indexer = has(&cli.bin_dir.join("lucid-indexer"), &["run", "--help"]);
    if !cli.bin_dir.join("lucid-tron-local").exists() {
        bail!(
            "{}/lucid-tron-local is missing: build it first (tools/up.sh does)",
            cli.bin_dir.display()
        );
    }

    say("Starting two chains and the TRON stand-in");
    // `--cache-path` under the state directory: anvil's persisted states go where `./dev up`
    // clears them, not under ~/.foundry (a killed anvil leaves them there).
    let mut c = tool("anvil");
    c.args([
        "--port",
        &onsys_port.to_string(),
        "--chain-id",
        &ONSYS_CHAIN_ID.to_string(),
    ])
    .arg("--cache-path")
    .arg(state.join("anvil-onsystem-cache"));
    procs
        .spawn("anvil-onsystem", &mut c, &state.join("anvil-onsystem.log"))
        .await?;
    let mut c = tool("anvil");
    c.args([
        "--port",
        &payment_port.to_string(),
        "--chain-id",
        &PAYMENT_CHAIN_ID.to_string(),
    ])
    .arg("--cache-path")
    .arg(state.join("anvil-payment-cache"));
    procs
        .spawn("anvil-payment", &mut c, &state.join("anvil-payment.log"))
        .await?;
    for url in [&onsys, &payment] {
        let mut ok = false;
        for _ in 0..100 {
            if http.rpc(url, "eth_chainId", json!([])).await.is_ok() {
                ok = true;
                break;
            }
            procs.check_alive(&state).await?;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if !ok {
            bail!(
                "no JSON-RPC answer at {url} (see {}/anvil-*.log)",
                state.display()
            );
        }
    }
    let mut c = Command::new(cli.bin_dir.join("lucid-tron-local"));
    c.args([
        "--evm-rpc",
        &payment,
        "--listen",
        &format!("127.0.0.1:{tron_port}"),
    ]);
    procs
        .spawn("tron-local", &mut c, &state.join("tron-local.log"))
        .await?;
    println!("  on-system chain {onsys} (chain id {ONSYS_CHAIN_ID})");
    println!(
        "  payment chain   {payment} (chain id {PAYMENT_CHAIN_ID}) behind lucid-tron-local at {tron}"
    );

    let keys: Vec<SigningKey> = DEV_KEYS.iter().map(|k| key(k)).collect::<Result<_>>()?;
    let addrs: Vec<Address> = keys.iter().map(address_of).collect();
    let nodes = addrs[1..4].to_vec();

    say("Deploying with forge script script/Deploy.s.sol");
    let deploy_log = state.join("deploy.log");
    let mut deployments = Vec::new();
    for (which, url, id) in [
        ("onsystem", &onsys, ONSYS_CHAIN_ID),
        ("payment", &payment, PAYMENT_CHAIN_ID),
    ] {
        let mut c = tool("forge");
        c.args([
            "script",
            "script/Deploy.s.sol:Deploy",
            "--rpc-url",
            url,
            "--broadcast",
            "--slow",
        ])
        .env("PRIVATE_KEY", DEV_KEYS[0])
        .env("DEPLOY_CHAIN", which)
        .env("KEEPER_ADDRESS", format!("{:#x}", nodes[0]))
        .env("COMPLIANCE_SIGNER", format!("{:#x}", addrs[4]))
        .env("TREASURER", format!("{:#x}", addrs[5]))
        .env("TRON_NETWORK", "local")
        .env("FORCE_REDEPLOY", "true");
        run_logged(
            &format!("forge script (deploy {which})"),
            &mut c,
            &deploy_log,
        )
        .await?;
        let file = format!("deployments/{id}.json");
        let d: Value = serde_json::from_slice(
            &std::fs::read(&file).with_context(|| format!("reading {file}"))?,
        )?;
        deployments.push(d);
    }
    let (d_on, d_pay) = (&deployments[0], &deployments[1]);
    let anchors = addr_of(d_on, "LucidAnchors")?;
    let chunk_store = addr_of(d_on, "LucidChunkStore")?;
    let start_block = d_on["startBlock"].as_u64().unwrap_or(0);
    let genesis = d_on["genesisTime"].as_u64().unwrap_or(1_704_067_200);
    let usdt_addr = addr_of(d_pay, "USDT")?;
    let v0 = addr_of(d_pay, "PayoutRouterV0")?;
    let kyc = addr_of(d_pay, "PayoutRouterKYC")?;
    println!("  LucidAnchors    {anchors:#x}\n  LucidChunkStore {chunk_store:#x}");
    println!(
        "  USDT            {usdt_addr:#x} ({})\n  PayoutRouterV0  {v0:#x} ({})\n  PayoutRouterKYC {kyc:#x} ({})",
        tron_address(&usdt_addr),
        tron_address(&v0),
        tron_address(&kyc)
    );

    say(
        "Granting roles with cast: three node keys anchor and store; the treasury approves payouts",
    );
    let cast_log = state.join("cast.log");
    let cast_send = |to: Address, sig: &str, args: Vec<String>, pk: &'static str, rpc: String| {
        let mut c = tool("cast");
        c.args(["send", &format!("{to:#x}"), sig]).args(args).args([
            "--private-key",
            pk,
            "--rpc-url",
            &rpc,
        ]);
        c
    };
    for (i, n) in nodes.iter().enumerate() {
        for (contract, role) in [(anchors, "ANCHORER_ROLE"), (chunk_store, "STORER_ROLE")] {
            let r = format!("{:#x}", keccak256(role));
            let mut c = cast_send(
                contract,
                "grantRole(bytes32,address)",
                vec![r, format!("{n:#x}")],
                DEV_KEYS[0],
                onsys.clone(),
            );
            run_logged(
                &format!("cast send grantRole {role} node{}", i + 1),
                &mut c,
                &cast_log,
            )
            .await?;
        }
        println!(
            "  node{} {n:#x} (TRON {}): ANCHORER_ROLE, STORER_ROLE",
            i + 1,
            tron_address(n)
        );
    }
    println!(
        "  treasury {:#x} (TRON {}): TREASURER_ROLE on both routers (set at deployment)",
        addrs[5],
        tron_address(&addrs[5])
    );
    let fund: u64 = 10_000 * 1_000_000;
    let mut c = cast_send(
        usdt_addr,
        "approve(address,uint256)",
        vec![format!("{v0:#x}"), fund.to_string()],
        DEV_KEYS[0],
        payment.clone(),
    );
    run_logged("cast send USDT approve", &mut c, &cast_log).await?;
    let mut c = cast_send(
        v0,
        "fund(uint256)",
        vec![fund.to_string()],
        DEV_KEYS[0],
        payment.clone(),
    );
    run_logged("cast send PayoutRouterV0 fund", &mut c, &cast_log).await?;
    println!("  PayoutRouterV0 funded with {}", usdt(fund));
    // From here the on-system chain mines a block every second, as a real chain would.
    // So does the payment chain: the TRON stand-in's solidified head trails its head by a block.
    http.rpc(&onsys, "evm_setIntervalMining", json!([1]))
        .await?;
    http.rpc(&payment, "evm_setIntervalMining", json!([1]))
        .await?;

    let net = Net {
        http,
        procs,
        state: state.clone(),
        indexer_url: format!("http://127.0.0.1:{indexer_port}"),
        keeper_urls: keeper_ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect(),
        onsys,
        payment,
        tron,
        store,
        token: format!("devnet-{}", uuid::Uuid::new_v4().simple()),
        genesis,
        anchors,
        chunk_store,
        start_block,
        payment_start_block: d_pay["startBlock"].as_u64().unwrap_or(0),
        usdt: usdt_addr,
        v0,
        kyc,
        keys: keys[1..4].to_vec(),
        nodes,
        codec: ProofCodec::new(ONSYS_CHAIN_ID),
        alive: (0..3).map(|_| AtomicBool::new(false)).collect(),
        chain_now: AtomicU64::new(0),
        sessions_posted: AtomicU64::new(0),
        proofs_posted: AtomicU64::new(0),
        have_keeper,
        have_indexer,
        have_payouts,
        cli,
    };
    Ok(Arc::new(net))
}

/// Runs everything; returns whether to keep running.
async fn run(cli: Cli, procs: Procs) -> Result<bool> {
    let keep = matches!(cli.keep_running.as_str(), "1" | "true" | "yes");
    let net = setup(cli, procs).await?;
    let n = &*net;

    // Chain time: three slots before the next epoch boundary, so the run crosses it.
    let h = n.head().await?;
    let e0 = n.slot(h.timestamp) / EPOCH_SLOTS;
    let boundary = (e0 + 1) * EPOCH_SLOTS;
    say(&format!(
        "Moving chain time to three slots before epoch {}'s first slot {boundary}",
        e0 + 1
    ));
    n.warp_to(n.start(boundary - 3)).await?;

    say("Starting the indexer and three keepers on one store");
    println!("  store: {}", n.store);
    if n.have_indexer {
        let mut c = Command::new(n.bin("lucid-indexer"));
        // Addresses and start blocks given explicitly (SPEC §1 variables), not read from deployments/.
        let no_files = n.state.join("indexer-deployments");
        std::fs::create_dir_all(&no_files)?;
        c.args(["run", "--no-progress"])
            .args(["--onsystem-start-block", &n.start_block.to_string()])
            .args(["--payment-start-block", &n.payment_start_block.to_string()])
            .env("ON_SYSTEM_CHAIN_RPC", &n.onsys)
            .env("TRON_RPC", &n.tron)
            .env("TRON_NETWORK", "local")
            .env("LUCID_STORE", &n.store)
            .env("LUCID_ANCHORS_ADDRESS", format!("{:#x}", n.anchors))
            .env("LUCID_CHUNK_STORE_ADDRESS", format!("{:#x}", n.chunk_store))
            .env("PAYOUT_ROUTER_V0_ADDRESS", format!("{:#x}", n.v0))
            .env("PAYOUT_ROUTER_KYC_ADDRESS", format!("{:#x}", n.kyc))
            .env("USDT_ADDRESS", format!("{:#x}", n.usdt))
            .env("LUCID_DEPLOYMENTS", &no_files)
            .env(
                "LUCID_INDEXER_LISTEN",
                n.indexer_url.trim_start_matches("http://"),
            )
            .env("SLOT_TIMEOUT_MS", n.cli.slot_timeout_ms.to_string())
            .env_remove("GENESIS_TIME");
        n.procs.spawn("indexer", &mut c, &n.log("indexer")).await?;
        n.wait_http(&format!("{}/health", n.indexer_url), "indexer")
            .await?;
        println!("  indexer  {} (dashboard at /)", n.indexer_url);
    } else {
        println!(
            "  skipped: not available: lucid-indexer (no `lucid-indexer run` in {})",
            n.cli.bin_dir.display()
        );
    }
    if n.have_keeper {
        for i in 0..3 {
            n.start_keeper(i).await?;
            println!(
                "  keeper-{} {} node{} {:#x}",
                i + 1,
                n.keeper_urls[i],
                i + 1,
                n.nodes[i]
            );
        }
    } else {
        println!(
            "  skipped: not available: lucid-keeper run (the keeper daemon); nothing will anchor"
        );
    }

    // The nodes' proofs for epoch e0+1's credit window, up to now; later slots are posted live.
    let window_days: u64 = std::env::var("LEADER_WINDOW_DAYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let window = window_days * EPOCH_SLOTS;
    let now_slot = n.slot(n.head().await?.timestamp);
    let from = boundary.saturating_sub(window);
    if n.have_keeper {
        say(&format!(
            "Simulated nodes post signed task proofs (slots {from}…{now_slot}) to the keepers"
        ));
        for i in 0..3 {
            let proofs = n.window_proofs(i, from..now_slot + 1)?;
            let acc = n.post_proofs(i, &proofs).await?;
            println!(
                "  node{} → keeper-{}: {} proofs, {acc} accepted",
                i + 1,
                i + 1,
                proofs.len()
            );
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    if n.have_keeper {
        tokio::spawn(recorder(
            net.clone(),
            stop.clone(),
            Duration::from_millis(700),
        ));
        println!("  session recorder: one owner-signed session every 0.7 s → POST /v1/sessions");
    }

    say(&format!(
        "Slots: chain time jumps slot by slot; epoch {} begins at slot {boundary}",
        e0 + 1
    ));
    println!(
        "  {:>9}  {:<7} {:<8} {:<7} {:<12} {:>8} {:>9}",
        "slot", "epoch", "planned", "winner", "reason", "sessions", "gas/sess"
    );
    let last = boundary + n.cli.slots;
    let mut tally = Tally::default();
    let mut kill: Option<(u64, usize)> = None;
    let mut killed_at: Option<u64> = None;
    for s in (now_slot + 1)..last {
        n.procs.check_alive(&n.state).await?;
        if s == boundary {
            println!(
                "  ───────── epoch {} (its tally froze with the proofs above; leaders rotate) ─────────",
                e0 + 1
            );
        }
        // Choose the keeper to kill once the boundary's plans exist: the primary of a slot ≥ boundary+6.
        if n.have_keeper && kill.is_none() && s >= boundary + 2 {
            let sched = n.schedule(boundary + 6, last).await.unwrap_or_default();
            for (slot, row) in &sched {
                let p: Option<Address> = row["primary"].as_str().and_then(|a| a.parse().ok());
                let has_fb = row["fallbacks"].as_array().is_some_and(|f| !f.is_empty());
                if let Some(i) = p.and_then(|p| n.nodes.iter().position(|x| *x == p))
                    && has_fb
                {
                    kill = Some((*slot, i));
                    break;
                }
            }
        }
        if let Some((ks, i)) = kill
            && ks == s
            && killed_at.is_none()
        {
            n.alive[i].store(false, Ordering::Relaxed);
            n.procs.stop(&format!("keeper-{}", i + 1), true).await?;
            killed_at = Some(s);
            println!(
                "  ✖ killed keeper-{} (SIGKILL): node{} is slot {s}'s planned primary",
                i + 1,
                i + 1
            );
        }
        n.warp_to(n.start(s)).await?;
        // Live proofs of this slot: each node's beacon and some relayed bytes.
        if n.have_keeper {
            let mut live = Vec::new();
            for i in 0..3 {
                live.push((
                    i,
                    vec![
                        n.sign(i, TaskProof::beacon(n.nodes[i], s))?,
                        n.sign(i, n.relay(i, s, (i as u64 + 1) * 3 * MIB))?,
                    ],
                ));
            }
            for (i, p) in live {
                n.post_proofs(i, &p).await?;
            }
        }
        // Wait for the slot's first SlotAnchored, or until every fallback's acting time has passed.
        let give_up = n.start(s) + (4 * n.cli.slot_timeout_ms).div_ceil(1000) + 3;
        let mut claim = None;
        for _ in 0..400 {
            claim = n.slot_claim(s).await?;
            if claim.is_some() || n.head().await?.timestamp >= give_up {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let plan = n
            .schedule(s, s + 1)
            .await
            .ok()
            .and_then(|m| m.get(&s).cloned());
        let primary: Option<Address> = plan
            .as_ref()
            .and_then(|p| p["primary"].as_str())
            .and_then(|a| a.parse().ok());
        let fallbacks: Vec<Address> = plan
            .as_ref()
            .and_then(|p| p["fallbacks"].as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str()?.parse().ok()).collect())
            .unwrap_or_default();
        let plan_reason = plan
            .as_ref()
            .and_then(|p| p["planReason"].as_str())
            .unwrap_or("-")
            .to_owned();
        let (winner, reason, count, gas) = match &claim {
            None => (
                None,
                if primary.is_some() {
                    "missed"
                } else {
                    "no_eligible_leader"
                }
                .to_owned(),
                0,
                0,
            ),
            Some((w, count, tx, bn)) => {
                let b = n
                    .http
                    .rpc(
                        &n.onsys,
                        "eth_getBlockByNumber",
                        json!([format!("{bn:#x}"), false]),
                    )
                    .await?;
                let t = hex_u64(&b["timestamp"])?;
                let r = n
                    .http
                    .rpc(&n.onsys, "eth_getTransactionReceipt", json!([tx]))
                    .await?;
                let gas = hex_u64(&r["gasUsed"]).unwrap_or(0);
                let reason = if n.slot(t) > s {
                    "late".to_owned()
                } else if primary == Some(*w) {
                    "primary".to_owned()
                } else if let Some(k) = fallbacks.iter().position(|f| f == w) {
                    let acting_ms = 1000 * n.start(s) + (k as u64 + 1) * n.cli.slot_timeout_ms;
                    if 1000 * t >= acting_ms {
                        format!("fallback{}", k + 1)
                    } else {
                        "unscheduled".to_owned()
                    }
                } else {
                    "unscheduled".to_owned()
                };
                (Some(*w), reason, *count, gas)
            }
        };
        match reason.as_str() {
            "primary" if s >= boundary => tally.primary += 1,
            r if r.starts_with("fallback") && s >= boundary => tally.fallback += 1,
            "missed" | "no_eligible_leader" => tally.missed += 1,
            _ => tally.other += 1,
        }
        tally.sessions += count;
        tally.gas += gas;
        let gps = gas
            .checked_div(count)
            .map_or_else(|| "-".to_owned(), |g| g.to_string());
        println!(
            "  {s:>9}  {:<7} {:<8} {:<7} {:<12} {:>8} {:>9}{}",
            s / EPOCH_SLOTS,
            primary
                .map(|p| n.node_name(&p))
                .unwrap_or_else(|| "-".into()),
            winner
                .map(|w| n.node_name(&w))
                .unwrap_or_else(|| "-".into()),
            reason,
            count,
            gps,
            if plan_reason == "-" || plan_reason == "ranked" {
                String::new()
            } else {
                format!("  (plan: {plan_reason})")
            },
        );
        if let (Some(ks), Some((_, i))) = (killed_at, kill)
            && ks == s
        {
            n.start_keeper(i).await?;
            println!(
                "  ↻ restarted keeper-{} (same key and state directory)",
                i + 1
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    // Results are final once the chain has a block at or after start(last + 1).
    n.warp_to(n.start(last + 1)).await?;

    // ---------------------------------------------------------------- payouts
    let chain_now = n.head().await?.timestamp;
    let (y, m) = civil_from_days(i64::try_from(chain_now / 86_400)?);
    let (py, pm) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    let month = format!("{py:04}-{pm:02}");
    let period = u32::try_from(py * 12 + i64::from(pm) - 1)?;
    let mut paid_count = 0usize;
    say(&format!(
        "Payout of {month} (period {period}): plan, treasury approval, execution through the TRON path"
    ));
    if !(n.have_payouts && n.have_keeper) {
        println!("  skipped: not available: `lucid-keeper payouts` (plan|approve|execute|status)");
    } else {
        // The nodes' work in that month (posted now: proofs count once stored, whatever their age).
        let ms = u64::try_from(days_from_civil(py, pm, 1))? * 86_400;
        let first = n.slot(ms.max(n.genesis)) + 1;
        let mut posted = 0;
        for i in 0..3 {
            let mut proofs = Vec::new();
            for k in 0..30u64 {
                proofs.push(n.sign(
                    i,
                    n.relay(i, first + 100 + 13 * k, (i as u64 + 1) * 5 * MIB),
                )?);
            }
            posted += n.post_proofs(i, &proofs).await?;
        }
        println!("  {posted} relay proofs of {month} posted by the three nodes");
        // `--members`: the month paid here ended before this devnet's LucidAnchors was deployed, so the
        // ANCHORER_ROLE holders at the period's end (what `payouts plan` reads without it) are nobody.
        // On a real network, plan without `--members` (LUCID_ANCHORS_ADDRESS, set by payout_cmd).
        let members = n.state.join("members.json");
        std::fs::write(
            &members,
            serde_json::to_vec(
                &n.nodes
                    .iter()
                    .map(|a| format!("{a:#x}"))
                    .collect::<Vec<_>>(),
            )?,
        )?;
        let log = n.log("payouts");
        let members_s = members.display().to_string();
        let steps: [(&str, Vec<&str>); 5] = [
            (
                "plan",
                vec![
                    "plan",
                    "--period",
                    &month,
                    "--pool",
                    &n.cli.pool,
                    "--members",
                    &members_s,
                ],
            ),
            ("approve", vec!["approve", "--period", &month]),
            ("execute", vec!["execute", "--period", &month]),
            ("execute again", vec!["execute", "--period", &month]),
            ("status", vec!["status", "--period", &month]),
        ];
        for (what, args) in steps {
            let out = run_logged(
                &format!("lucid-keeper payouts {}", args.join(" ")),
                &mut n.payout_cmd(&args),
                &log,
            )
            .await?;
            println!("  $ lucid-keeper payouts {}", args.join(" "));
            for line in out.lines().take(20) {
                println!("    {line}");
            }
            if what == "execute" {
                paid_count = n.paid(period).await?.len();
            }
        }
        let paid = n.paid(period).await?;
        for (to, amount) in &paid {
            println!(
                "  paid {} {} ({})",
                tron_address(to),
                usdt(*amount),
                n.node_name(to)
            );
        }
        if paid.len() != paid_count {
            bail!(
                "executing {month} again paid {} more payouts",
                paid.len().saturating_sub(paid_count)
            );
        }
        let mut ids: Vec<&Address> = paid.iter().map(|(a, _)| a).collect();
        ids.sort();
        ids.dedup();
        if ids.len() != paid.len() {
            bail!("a recipient was paid twice in {month}");
        }
        println!(
            "  executing again paid nothing: {} payouts, each recipient once",
            paid.len()
        );
    }

    // ---------------------------------------------------------------- the indexer's view
    say("Querying the indexer's API");
    let mut api_ok = false;
    if n.have_indexer {
        // Let the indexer catch up with the head.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let paths = [
            "/v1/status".to_owned(),
            format!("/v1/slots?from={boundary}&to={}", last - 1),
            "/v1/sessions?limit=2".to_owned(),
            format!(
                "/v1/payouts?recipient={}&period={period}",
                tron_address(&n.nodes[0])
            ),
        ];
        for path in &paths {
            let url = format!("{}{path}", n.indexer_url);
            let (st, v) = n.http.get(&url).await?;
            let mut text = v.to_string();
            if text.len() > 300 {
                let mut cut = 300;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                text.push('…');
            }
            println!("  GET {path} → {st} {text}");
            api_ok |= st == 200;
        }
    } else {
        println!("  skipped: not available: lucid-indexer");
    }

    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nsummary: slots={} epoch_boundary={boundary}",
        last - boundary
    );
    let _ = writeln!(
        s,
        "summary: primary_wins={} fallback_wins={} other_results={} missed={}",
        tally.primary, tally.fallback, tally.other, tally.missed
    );
    let _ = writeln!(
        s,
        "summary: sessions_anchored={} sessions_posted={} proofs_posted={} gas_per_session={}",
        tally.sessions,
        n.sessions_posted.load(Ordering::Relaxed),
        n.proofs_posted.load(Ordering::Relaxed),
        tally.gas.checked_div(tally.sessions).unwrap_or(0)
    );
    let _ = writeln!(s, "summary: payouts_paid={paid_count} period={month}");
    let _ = writeln!(
        s,
        "summary: keeper_killed={}",
        kill.map(|(sl, i)| format!("keeper-{} before slot {sl}", i + 1))
            .unwrap_or_else(|| "none".into())
    );
    if n.have_indexer {
        let _ = writeln!(
            s,
            "dashboard: {}/  (API {}/v1/…: {})",
            n.indexer_url,
            n.indexer_url,
            if api_ok { "answering" } else { "not answering" }
        );
    }
    let _ = writeln!(s, "logs: {}/", n.state.display());
    print!("{s}");
    if keep {
        // The recorder goes on; chain time now runs at its natural pace (a slot every two minutes).
        stop.store(false, Ordering::Relaxed);
        tokio::spawn(recorder(net.clone(), stop.clone(), Duration::from_secs(5)));
        println!(
            "KEEP_RUNNING=1: everything stays up (on-system {}, payment {}, TRON {}); Ctrl-C stops every process.",
            n.onsys, n.payment, n.tron
        );
    }
    Ok(keep)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let procs = Procs::default();
    let state = cli.state.clone();
    let outcome = tokio::select! {
        r = run(cli, procs.clone()) => Some(r),
        () = signalled() => None,
    };
    let code = match outcome {
        Some(Ok(keep)) => {
            if keep {
                signalled().await;
                println!("stopping every process…");
            }
            ExitCode::SUCCESS
        }
        Some(Err(e)) => {
            eprintln!("\nup: {e:#}\nup: logs are in {}/", state.display());
            ExitCode::FAILURE
        }
        None => {
            println!("\ninterrupted: stopping every process…");
            ExitCode::from(130)
        }
    };
    procs.stop_all().await;
    if code == ExitCode::SUCCESS {
        println!("stopped.");
    }
    code
}
