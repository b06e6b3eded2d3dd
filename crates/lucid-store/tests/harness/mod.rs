//! Test harness: stores of each backend, and the SecantusDB test server (TOOLCHAIN.md).
#![allow(dead_code, clippy::unwrap_used)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use lucid_store::Store;
use lucid_store::mongo::{MongoOptions, MongoStore, TxMode};
use lucid_store::sqlite::SqliteStore;
use std::sync::Arc;

/// Backend-specific handle for hand edits.
#[derive(Debug)]
pub enum Raw {
    Sqlite(Arc<SqliteStore>),
    Mongo(Arc<MongoStore>),
}

#[derive(Debug)]
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub raw: Raw,
    /// Whether a block range and its checkpoint commit atomically.
    pub atomic_ranges: bool,
    /// The SQLite file's URL (a second store on the same file stands in for another process).
    pub sqlite_url: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub async fn sqlite_store() -> Ctx {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("lucid.db").display());
    let s = Arc::new(SqliteStore::open(&url).await.expect("open sqlite store"));
    Ctx {
        store: s.clone(),
        raw: Raw::Sqlite(s),
        atomic_ranges: true,
        sqlite_url: Some(url),
        _dir: Some(dir),
    }
}

pub async fn mongo_store() -> Ctx {
    mongo_with(TxMode::Auto).await
}

pub async fn mongo_store_no_txn() -> Ctx {
    mongo_with(TxMode::Off).await
}

static DB_SEQ: AtomicU32 = AtomicU32::new(0);

async fn mongo_with(mode: TxMode) -> Ctx {
    let base = match std::env::var("MONGODB_URI") {
        Ok(u) if !u.is_empty() => u,
        _ => tokio::task::spawn_blocking(|| test_server().clone())
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("MongoDB test server unavailable: {e}")),
    };
    let db = format!(
        "lucid_t{}_{}",
        std::process::id(),
        DB_SEQ.fetch_add(1, Ordering::SeqCst)
    );
    let url = with_db(&base, &db);
    let s = Arc::new(
        MongoStore::open(&url, MongoOptions { transactions: mode })
            .await
            .unwrap_or_else(|e| panic!("cannot open MongoDB store at {url}: {e}")),
    );
    if mode == TxMode::Auto {
        assert!(
            s.uses_transactions(),
            "the test server should report a replica set (transactions)"
        );
    }
    Ctx {
        atomic_ranges: s.uses_transactions(),
        store: s.clone(),
        raw: Raw::Mongo(s),
        sqlite_url: None,
        _dir: None,
    }
}

/// `mongodb://host[:port][/db][?query]` with the database replaced.
fn with_db(uri: &str, db: &str) -> String {
    let (scheme, rest) = uri.split_once("://").unwrap();
    let (hostpath, query) = match rest.split_once('?') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    let hosts = hostpath.split('/').next().unwrap();
    match query {
        Some(q) => format!("{scheme}://{hosts}/{db}?{q}"),
        None => format!("{scheme}://{hosts}/{db}"),
    }
}

static SERVER: OnceLock<Result<String, String>> = OnceLock::new();

/// One SecantusDB per test binary, on a free port and a fresh storage directory. A watchdog shell
/// stops it (and removes the directory) when this test process exits.
fn test_server() -> &'static Result<String, String> {
    SERVER.get_or_init(start_server)
}

fn start_server() -> Result<String, String> {
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
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let dir = tempfile::Builder::new()
        .prefix("lucid-secantus-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?
        .keep();
    let log = dir.with_extension("log");
    let script = r#"
"$1" --host 127.0.0.1 --port "$2" --storage-path "$3" >"$4" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null; rm -rf "$3" "$4"' EXIT
while kill -0 "$5" 2>/dev/null && kill -0 $srv 2>/dev/null; do sleep 0.5; done
"#;
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
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        if let Ok(Some(st)) = child.try_wait() {
            let mut s = String::new();
            let _ = std::fs::File::open(&log).and_then(|mut f| f.read_to_string(&mut s));
            return Err(format!(
                "{} exited ({st}) before accepting connections: {s}",
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
    Ok(format!("mongodb://127.0.0.1:{port}/?directConnection=true"))
}
