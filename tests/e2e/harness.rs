//! Shared helpers for the end-to-end tests: the repository's toolchain (forge, anvil, cast from
//! `.bin/`, linked by tools/bootstrap.sh), throwaway anvil chains on free ports, and command runners with useful failures.
#![allow(clippy::unwrap_used)] // test harness: a panic with context is the right failure

pub mod fault_proxy;
pub mod tron_local;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// anvil's first development key: the deployer/admin in these tests.
pub const DEPLOYER_PK: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub const DEPLOYER: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
/// anvil's second and third development accounts: keeper and compliance signer.
pub const KEEPER: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
pub const SIGNER: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A command from the project's pinned npm toolchain, run from the repository root.
pub fn tool(name: &str) -> Command {
    let root = repo_root();
    let bin = root.join(".bin").join(name);
    assert!(
        bin.exists(),
        "{} is missing: run ./dev test (or tools/bootstrap.sh) first",
        bin.display()
    );
    let mut cmd = Command::new(bin);
    cmd.current_dir(&root);
    let path = format!(
        "{}:{}",
        root.join(".bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env("PATH", path);
    cmd
}

/// Runs a command and returns its output, panicking with both streams when it fails.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A throwaway anvil chain, killed when dropped.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    pub port: u16,
    pub chain_id: u64,
    cache: std::path::PathBuf,
}

/// A directory for anvil's persisted historical states (`--cache-path`), for the caller to remove
/// once that anvil is gone: by default anvil writes them under `~/.foundry/anvil/tmp`, and a killed
/// anvil leaves them there (gigabytes after a benchmark's thousand blocks).
pub fn anvil_cache_dir(port: u16) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("lucid-anvil-{}-{port}", std::process::id()))
}

impl Anvil {
    pub fn start(chain_id: u64) -> Self {
        Self::start_with(chain_id, &[])
    }

    /// [`Anvil::start`] with more anvil flags, e.g. `--prune-history` for a benchmark's thousand
    /// blocks of large states: without it anvil serializes every state it evicts from memory to
    /// `--cache-path` (gigabytes, written back by the kernel for minutes while figures are taken).
    pub fn start_with(chain_id: u64, extra: &[&str]) -> Self {
        let port = free_port();
        let cache = anvil_cache_dir(port);
        let child = tool("anvil")
            .args([
                "--port",
                &port.to_string(),
                "--chain-id",
                &chain_id.to_string(),
                "--silent",
                "--cache-path",
            ])
            .arg(&cache)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start anvil");
        let anvil = Self {
            child,
            port,
            chain_id,
            cache,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = tool("cast")
                .args(["chain-id", "--rpc-url", &anvil.url()])
                .output()
                .unwrap();
            if out.status.success() {
                assert_eq!(stdout(&out), chain_id.to_string());
                return anvil;
            }
            assert!(
                Instant::now() < deadline,
                "anvil on port {port} did not answer"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `cast call` returning the decoded output.
    pub fn call(&self, to: &str, sig: &str, args: &[&str]) -> String {
        let out = run_ok(
            tool("cast")
                .args(["call", to, sig])
                .args(args)
                .args(["--rpc-url", &self.url()]),
        );
        stdout(&out)
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.cache);
    }
}

/// A chain id unlikely to collide with a real deployment file (tests delete what they write).
pub fn test_chain_id() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    900_000 + u64::from(nanos % 90_000) + u64::from(std::process::id() % 1000)
}

/// `forge script script/Deploy.s.sol:Deploy` against a chain with the given environment.
pub fn deploy(anvil: &Anvil, deploy_chain: &str, extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = tool("forge");
    cmd.args([
        "script",
        "script/Deploy.s.sol:Deploy",
        "--rpc-url",
        &anvil.url(),
        "--broadcast",
        "--slow",
    ])
    .env("PRIVATE_KEY", DEPLOYER_PK)
    .env("KEEPER_ADDRESS", KEEPER)
    .env("COMPLIANCE_SIGNER", SIGNER)
    .env("DEPLOY_CHAIN", deploy_chain)
    .env("TRON_NETWORK", "local")
    .env_remove("FORCE_REDEPLOY");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().expect("run forge script")
}

/// Reads deployments/<chainId>.json.
pub fn deployment(chain_id: u64) -> serde_json::Value {
    let path = repo_root().join(format!("deployments/{chain_id}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Removes deployments/<chainId>.json and the broadcast logs of a test chain when dropped.
#[derive(Debug)]
pub struct DeploymentFile(pub u64);

impl Drop for DeploymentFile {
    fn drop(&mut self) {
        let root = repo_root();
        let _ = std::fs::remove_file(root.join(format!("deployments/{}.json", self.0)));
        let _ = std::fs::remove_dir_all(root.join(format!("broadcast/Deploy.s.sol/{}", self.0)));
    }
}

/// Sends the request `make` builds (a new one per attempt) and reads its status and body text. A
/// transport error is retried, up to 10 attempts 50 ms apart: for a body over a server's limit the
/// server answers 413 from the declared length and closes without reading the rest, so the
/// client's write can fail (broken pipe, reset) before it reads the answer.
pub async fn send_retrying_transport(make: impl Fn() -> reqwest::RequestBuilder) -> (u16, String) {
    let mut last = None;
    for _ in 0..10 {
        let sent = async {
            let r = make().send().await?;
            let status = r.status().as_u16();
            Ok::<_, reqwest::Error>((status, r.text().await?))
        };
        match sent.await {
            Ok(answer) => return answer,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no answer in 10 attempts: {last:?}")
}

// ---------------------------------------------------------------- MongoDB test server

static SECANTUS: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();

/// Database `db` on the MongoDB server the tests use: `MONGODB_URI` when set, else this process's
/// SecantusDB test server ([`secantus_server`]). Panics with the reason when neither is available.
pub fn mongo_url(db: &str) -> String {
    let base = match std::env::var("MONGODB_URI") {
        Ok(u) if !u.is_empty() => u,
        _ => secantus_server()
            .clone()
            .unwrap_or_else(|e| panic!("MongoDB test server unavailable: {e}")),
    };
    with_db(&base, db)
}

/// `mongodb://host[:port][/db][?query]` with the database replaced by `db` (hosts and options kept).
pub fn with_db(uri: &str, db: &str) -> String {
    let (scheme, rest) = uri.split_once("://").unwrap_or(("mongodb", uri));
    let (hostpath, query) = match rest.split_once('?') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    let hosts = hostpath.split('/').next().unwrap_or(hostpath);
    match query {
        Some(q) => format!("{scheme}://{hosts}/{db}?{q}"),
        None => format!("{scheme}://{hosts}/{db}"),
    }
}

/// The SecantusDB MongoDB test server of this process (TOOLCHAIN.md), started on first use: the
/// repository's `.venv/bin/secantusd-py` (installed by `tools/ensure-venv.sh` when missing;
/// `LUCID_SECANTUSD` names another), on a free port and a fresh storage directory. A watchdog shell
/// stops it and removes the directory when this process exits. Blocks up to 60 s the first time.
pub fn secantus_server() -> &'static Result<String, String> {
    SECANTUS.get_or_init(start_secantus)
}

fn start_secantus() -> Result<String, String> {
    let root = repo_root();
    let bin = match std::env::var("LUCID_SECANTUSD") {
        Ok(b) if !b.is_empty() => PathBuf::from(b),
        _ => {
            let bin = root.join(".venv/bin/secantusd-py");
            if !bin.exists() {
                let out = Command::new(root.join("tools/ensure-venv.sh"))
                    .output()
                    .map_err(|e| format!("cannot run tools/ensure-venv.sh: {e}"))?;
                if !out.status.success() {
                    return Err(format!(
                        "tools/ensure-venv.sh failed ({}): {}",
                        out.status,
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
            bin
        }
    };
    if !bin.exists() {
        return Err(format!("{} does not exist", bin.display()));
    }
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("lucid-secantus-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let log = dir.with_extension("log");
    let script = r#"
"$1" --host 127.0.0.1 --port "$2" --storage-path "$3" >"$4" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf "$3" "$4"' EXIT
while kill -0 "$5" 2>/dev/null && kill -0 $srv 2>/dev/null; do sleep 0.5; done
"#;
    // The watchdog outlives this function on purpose: it stops the server when this process ends.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("watchdog")
        .arg(&bin)
        .arg(port.to_string())
        .arg(&dir)
        .arg(&log)
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(format!("mongodb://127.0.0.1:{port}/?directConnection=true"));
        }
        if let Ok(Some(st)) = child.try_wait() {
            let out = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!(
                "{} exited ({st}) before accepting connections: {out}",
                bin.display()
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{} did not accept connections on port {port} within 60 s",
                bin.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
