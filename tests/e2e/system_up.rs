//! The README's first command: `./dev up` (tools/up.sh → lucid-devnet) runs the whole network
//! non-interactively (CI=true): its summary shows primary and fallback wins, anchored sessions and a
//! paid payout; while it is up (KEEP_RUNNING=1) the indexer's API answers and the dashboard passes
//! the headless-Chromium test (screenshot kept in target/browser/); SIGTERM then stops every process,
//! it exits 0, every port it used is free again and the work tree is as it was.
#![allow(clippy::unwrap_used)]

use lucid_e2e::{free_port, repo_root};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn git_status() -> String {
    let out = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `key=<number>` from the summary lines.
fn summary_number(text: &str, key: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with("summary:"))
        .flat_map(|l| l.split_whitespace())
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in the summary:\n{text}"))
        .parse()
        .unwrap_or_else(|_| panic!("{key} is not a number:\n{text}"))
}

/// The path of the run's `GET <prefix>… →` line (what `./dev up` asked the indexer).
fn queried_path(text: &str, prefix: &str) -> String {
    text.lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("GET ")
                .filter(|p| p.starts_with(prefix))
        })
        .and_then(|l| l.split(" → ").next())
        .unwrap_or_else(|| panic!("the run never queried {prefix}…:\n{text}"))
        .to_owned()
}

/// A plain HTTP/1.1 GET: (status, body).
fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = resp
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_owned();
    (status, body)
}

/// Stops `./dev up` with SIGTERM (it then stops every child it started) if the test ends early.
struct StopOnDrop(std::process::Child);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline && matches!(self.0.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(200));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn dev_up_runs_the_network_and_the_dashboard_answers() {
    let root = repo_root();
    let before = git_status();
    let ports: Vec<u16> = (0..7).map(|_| free_port()).collect();
    let indexer = ports[3];
    let child = Command::new("bash")
        .arg(root.join("tools/up.sh"))
        .current_dir(&root)
        .env("CI", "true")
        .env("KEEP_RUNNING", "1")
        .env("ONSYS_PORT", ports[0].to_string())
        .env("PAYMENT_PORT", ports[1].to_string())
        .env("TRON_PORT", ports[2].to_string())
        .env("INDEXER_PORT", indexer.to_string())
        .env(
            "KEEPER_PORTS",
            format!("{},{},{}", ports[4], ports[5], ports[6]),
        )
        .env_remove("LUCID_STORE")
        .env_remove("GENESIS_TIME")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut child = StopOnDrop(child);
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.0.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    // Until it says everything stays up (or exits, or takes far too long): the build before the
    // run (incremental after the test command's own build) may take up to 15 minutes on a cold
    // target directory, the run itself about three.
    let mut deadline = Instant::now() + Duration::from_secs(900);
    let mut text = String::new();
    let mut up = false;
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                text.push_str(&line);
                text.push('\n');
                if line.contains("Starting two chains") {
                    deadline = Instant::now() + Duration::from_secs(420);
                }
                if line.starts_with("KEEP_RUNNING=1") {
                    up = true;
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(status) = child.0.try_wait().unwrap() {
                    panic!("./dev up exited early ({status}):\n{text}");
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if !up {
        panic!("./dev up did not finish (build within 15 minutes, run within 7):\n{text}");
    }

    assert!(!text.contains("skipped: not available"), "{text}");
    assert!(summary_number(&text, "primary_wins") >= 1, "{text}");
    assert!(summary_number(&text, "fallback_wins") >= 1, "{text}");
    assert!(summary_number(&text, "sessions_anchored") >= 1, "{text}");
    assert!(summary_number(&text, "payouts_paid") >= 1, "{text}");
    assert!(
        text.contains("✖ killed keeper-") && text.contains("↻ restarted keeper-"),
        "{text}"
    );
    assert!(text.contains("executing again paid nothing"), "{text}");
    assert!(
        text.contains(&format!("dashboard: http://127.0.0.1:{indexer}/")),
        "{text}"
    );

    // While it runs: the API answers and the dashboard shows live data in headless Chromium.
    let (st, body) = http_get(indexer, "/v1/status");
    assert_eq!(st, 200, "GET /v1/status: {body}");
    // The indexer's own record of the run, from the paths the run queried: each slot's plan and
    // result (a primary and a fallback win, each winner the planned node), and the month's payouts
    // paid on the payment chain.
    let (st, body) = http_get(indexer, &queried_path(&text, "/v1/slots?"));
    assert_eq!(st, 200, "{body}");
    let slots: serde_json::Value = serde_json::from_str(&body).unwrap();
    let items = slots["items"].as_array().unwrap();
    let won = |reason: &str| {
        items.iter().any(|s| {
            let r = &s["result"];
            r["reason"] == reason
                && match reason {
                    "primary" => r["winner"] == s["primary"],
                    _ => s["fallbacks"]
                        .as_array()
                        .is_some_and(|f| f.contains(&r["winner"])),
                }
        })
    };
    assert!(won("primary") && won("fallback"), "slots: {body}");
    let (st, body) = http_get(indexer, &queried_path(&text, "/v1/payouts?"));
    assert_eq!(st, 200, "{body}");
    let payouts: serde_json::Value = serde_json::from_str(&body).unwrap();
    let items = payouts["items"].as_array().unwrap();
    assert!(
        !items.is_empty()
            && items
                .iter()
                .all(|p| p["status"] == "paid" && p["txid"].is_string()),
        "payouts: {body}"
    );
    let shot = root.join("target/browser/system-up-dashboard.png");
    let browser = Command::new("bash")
        .arg(root.join("tools/browser-test.sh"))
        .arg(format!("http://127.0.0.1:{indexer}/"))
        .arg("auto")
        .arg(&shot)
        .current_dir(&root)
        .output()
        .unwrap();
    let browser_ok = browser.status.success();

    // SIGTERM (as Ctrl-C would): every process stops, exit 0.
    let pid = child.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = child.0.wait().unwrap();
    reader.join().unwrap();
    text.extend(rx.try_iter().map(|l| l + "\n"));
    assert!(
        browser_ok,
        "browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&browser.stdout),
        String::from_utf8_lossy(&browser.stderr)
    );
    assert!(shot.exists(), "no screenshot at {}", shot.display());
    assert!(status.success(), "./dev up exited {status}:\n{text}");
    assert!(text.contains("stopped."), "{text}");
    for p in ports {
        assert!(
            TcpListener::bind(("127.0.0.1", p)).is_ok(),
            "port {p} is still in use after ./dev up stopped"
        );
    }
    assert_eq!(git_status(), before, "./dev up changed the work tree");
}
