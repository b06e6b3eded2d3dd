//! End-to-end checks of the offline commands through the real binary.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn keeper(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lucid-keeper"));
    c.args(args).env("RUST_LOG", "warn");
    for v in lucid_core::params::VARS {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(data) = stdin {
        child.stdin.take().unwrap().write_all(data).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    d.join(name)
}

const SEED: &str = "0x4242424242424242424242424242424242424242424242424242424242424242";

#[test]
fn simulate_credits_schedule() {
    let env = [("LEADER_WINDOW_DAYS", "3"), ("D_MIN", "0.1")];
    let sim = keeper(
        &[
            "simulate",
            "--nodes",
            "4",
            "--epoch",
            "10",
            "--chain-id",
            "31337",
            "--seed",
            "t",
            "--slots",
            "700",
        ],
        &env,
        None,
    );
    assert!(
        sim.status.success(),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    // Deterministic regardless of threads.
    let sim1 = keeper(
        &[
            "simulate",
            "--nodes",
            "4",
            "--epoch",
            "10",
            "--chain-id",
            "31337",
            "--seed",
            "t",
            "--slots",
            "700",
            "--threads",
            "1",
        ],
        &env,
        None,
    );
    assert_eq!(sim.stdout, sim1.stdout);
    let mut data = sim.stdout.clone();
    // One garbage line and one tampered proof: skipped with a reason, exit 0.
    data.extend_from_slice(b"not json\n");
    let first = String::from_utf8(sim.stdout.clone())
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let tampered = first.replace("\"slot\":6500,", "\"slot\":6501,");
    assert_ne!(tampered, first);
    data.extend_from_slice(tampered.as_bytes());
    data.push(b'\n');
    let path = tmp("proofs.jsonl");
    std::fs::write(&path, &data).unwrap();
    let p = path.to_str().unwrap();
    let common = [
        "--proofs",
        p,
        "--epoch",
        "10",
        "--seed",
        SEED,
        "--chain-id",
        "31337",
        "--current-slot",
        "7200",
    ];

    let cr = keeper(&[&["credits"][..], &common[..]].concat(), &env, None);
    assert!(
        cr.status.success(),
        "{}",
        String::from_utf8_lossy(&cr.stderr)
    );
    let err = String::from_utf8_lossy(&cr.stderr);
    assert!(
        err.contains("malformed") && err.contains("signature_mismatch"),
        "{err}"
    );
    let credits: serde_json::Value = serde_json::from_slice(&cr.stdout).unwrap();
    let arr = credits.as_array().unwrap();
    assert!(!arr.is_empty() && arr.len() <= 4);
    for (i, c) in arr.iter().enumerate() {
        assert_eq!(c["epoch"], 10);
        if c["eligible"].as_bool().unwrap() {
            assert_eq!(c["rank"].as_u64().unwrap(), i as u64 + 1);
        } else {
            assert!(c["rank"].is_null());
        }
    }
    // Single-threaded gives the same answer.
    let cr1 = keeper(
        &[&["credits"][..], &common[..], &["--threads", "1"][..]].concat(),
        &env,
        None,
    );
    assert_eq!(cr.stdout, cr1.stdout);

    let sc = keeper(&[&["schedule"][..], &common[..]].concat(), &env, None);
    assert!(
        sc.status.success(),
        "{}",
        String::from_utf8_lossy(&sc.stderr)
    );
    let plans: serde_json::Value = serde_json::from_slice(&sc.stdout).unwrap();
    let plans = plans.as_array().unwrap();
    assert_eq!(plans.len(), 720);
    assert_eq!(plans[0]["slot"], 7200);
    let eligible = arr
        .iter()
        .filter(|c| c["eligible"].as_bool().unwrap())
        .count();
    let want_reason = if eligible == 0 {
        "no_eligible_leader"
    } else {
        "ranked"
    };
    assert_eq!(plans[0]["planReason"], want_reason);
    // A sub-range is the same as the slice of the full schedule.
    let part = keeper(
        &[
            &["schedule"][..],
            &common[..],
            &["--from-slot", "7300", "--to-slot", "7310"][..],
        ]
        .concat(),
        &env,
        None,
    );
    let part: serde_json::Value = serde_json::from_slice(&part.stdout).unwrap();
    assert_eq!(part.as_array().unwrap()[..], plans[100..=110]);
    // Out-of-range parameter: error naming the variable.
    let bad = keeper(
        &[&["credits"][..], &common[..]].concat(),
        &[("COOLDOWN_SLOTS", "99")],
        None,
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("COOLDOWN_SLOTS"));
}

#[test]
fn merkle_matches_vectors() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/merkle.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
    for s in v["sessions"].as_array().unwrap() {
        let input = serde_json::json!({"sessionId": s["sessionId"], "chunks": s["chunks"]});
        let out = keeper(
            &["merkle", "--chunks", "-"],
            &[],
            Some(input.to_string().as_bytes()),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got["root"], s["root"]);
        assert_eq!(got["leaves"], s["leaves"]);
        assert_eq!(got["proofs"], s["proofs"]);
    }
}

/// SPEC §1 parameters: a flag overrides the environment variable; either is range-checked.
#[test]
fn parameter_flags_override_environment() {
    let chunks = tmp("flags-chunks.json");
    std::fs::write(
        &chunks,
        r#"{"sessionId":"2daabfe0-83a7-4387-ae1b-4dc8cc7b9cc4","chunks":[{"index":0,"chunkHash":"0x0101010101010101010101010101010101010101010101010101010101010101","size":7}]}"#,
    )
    .unwrap();
    let path = chunks.to_str().unwrap();

    let bad_flag = keeper(
        &["--cooldown-slots", "99", "merkle", "--chunks", path],
        &[],
        None,
    );
    assert!(!bad_flag.status.success());
    let err = String::from_utf8_lossy(&bad_flag.stderr);
    assert!(
        err.contains("COOLDOWN_SLOTS") && err.contains("8-64"),
        "{err}"
    );

    let bad_env = keeper(
        &["merkle", "--chunks", path],
        &[("COOLDOWN_SLOTS", "99")],
        None,
    );
    assert!(!bad_env.status.success(), "out-of-range env var accepted");

    let flag_wins = keeper(
        &["merkle", "--chunks", path, "--cooldown-slots", "12"],
        &[("COOLDOWN_SLOTS", "99")],
        None,
    );
    assert!(
        flag_wins.status.success(),
        "{}",
        String::from_utf8_lossy(&flag_wins.stderr)
    );
}
