//! The local TRON stand-in (`lucid-tron-local`) for end-to-end tests, one helper for every crate
//! that starts it (tron-local's own tests, the keeper's payout tests): the process in front of an
//! EVM node, and a block producer so its solidified head advances.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::run_ok;

/// A `lucid-tron-local` process (`--listen 127.0.0.1:0`), killed when dropped.
#[derive(Debug)]
pub struct TronLocal {
    child: Child,
    /// Its TRON HTTP API base URL (`http://127.0.0.1:PORT`).
    pub url: String,
}

impl TronLocal {
    /// Starts `bin --evm-rpc EVM_RPC --listen 127.0.0.1:0 EXTRA…` and waits for its
    /// `listening on ADDR` line.
    pub fn start(bin: &Path, evm_rpc: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(bin)
            .args(["--evm-rpc", evm_rpc, "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the stand-in said {line:?}"))
            .to_string();
        Self {
            child,
            url: format!("http://{addr}"),
        }
    }
}

impl Drop for TronLocal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `lucid-tron-local` binary of the target directory `sibling` (another binary of the
/// workspace, e.g. `env!("CARGO_BIN_EXE_lucid-keeper")`) lives in; built with cargo if missing.
pub fn tron_local_bin(sibling: &Path) -> PathBuf {
    let p = sibling.with_file_name("lucid-tron-local");
    if !p.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        run_ok(Command::new(cargo).args(["build", "-p", "lucid-tron-local"]));
    }
    p
}

/// One JSON-RPC request over a plain TCP connection (no runtime needed); the raw HTTP answer, or
/// an empty string when the node is gone.
pub fn raw_rpc(port: u16, body: &str) -> String {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let req = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if s.write_all(req.as_bytes()).is_err() {
        return String::new();
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// Mines a block on the anvil at `port` every `every` (a thread), so the stand-in's solidified
/// head (which trails the head) advances; stops when dropped.
#[derive(Debug)]
pub struct BlockProducer {
    stop: Arc<AtomicBool>,
}

impl BlockProducer {
    pub fn start(port: u16, every: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                std::thread::sleep(every);
                raw_rpc(
                    port,
                    r#"{"jsonrpc":"2.0","id":1,"method":"evm_mine","params":[]}"#,
                );
            }
        });
        Self { stop }
    }
}

impl Drop for BlockProducer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
