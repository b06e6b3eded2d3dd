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

fn simulated(name: &str, env: &[(&str, &str)]) -> (PathBuf, Vec<u8>) {
    let sim = keeper(
        &[
            "simulate",
            "--nodes",
            "5",
            "--epoch",
            "10",
            "--chain-id",
            "31337",
            "--seed",
            name,
            "--slots",
            "400",
        ],
        env,
        None,
    );
    assert!(
        sim.status.success(),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    let path = tmp(&format!("{name}.jsonl"));
    std::fs::write(&path, &sim.stdout).unwrap();
    (path, sim.stdout)
}

fn common(p: &str) -> Vec<&str> {
    vec![
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
    ]
}

/// A line that is not UTF-8 and a line longer than 64 KiB used to stop the whole run; now each is
/// reported `malformed` with its line number and every other line still counts (any thread count).
#[test]
fn bad_lines_are_reported_and_skipped() {
    let env = [("LEADER_WINDOW_DAYS", "3"), ("D_MIN", "0.1")];
    let (clean, data) = simulated("badlines", &env);
    let text = String::from_utf8(data.clone()).unwrap();
    let n = text.lines().count();
    let mut mixed = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if i == 3 {
            mixed.extend_from_slice(b"{\"nodeId\":\"\xff\xfe\"}\n"); // line 4
        }
        if i == 10 {
            mixed.extend(std::iter::repeat_n(b'x', 200_000)); // line 12
            mixed.push(b'\n');
        }
        mixed.extend_from_slice(l.as_bytes());
        mixed.push(b'\n');
    }
    mixed.extend(std::iter::repeat_n(b'{', 70_000)); // last line, no newline
    let path = tmp("badlines-mixed.jsonl");
    std::fs::write(&path, &mixed).unwrap();
    let want = keeper(
        &[&["credits"][..], &common(clean.to_str().unwrap())[..]].concat(),
        &env,
        None,
    );
    assert!(want.status.success());
    for threads in ["1", "2"] {
        let got = keeper(
            &[
                &["credits"][..],
                &common(path.to_str().unwrap())[..],
                &["--threads", threads][..],
            ]
            .concat(),
            &[
                ("LEADER_WINDOW_DAYS", "3"),
                ("D_MIN", "0.1"),
                ("RUST_LOG", "info"),
            ],
            None,
        );
        let err = String::from_utf8_lossy(&got.stderr);
        assert!(got.status.success(), "{err}");
        assert_eq!(got.stdout, want.stdout, "threads {threads}");
        for line in [4, 12, n + 3] {
            assert!(
                err.lines()
                    .any(|l| l.contains("malformed") && l.contains(&format!("line={line} "))),
                "line {line} not reported: {err}"
            );
        }
        assert!(
            err.contains("UTF-8") && err.contains("longer than 65536"),
            "{err}"
        );
        assert!(err.contains("invalid=3"), "{err}");
    }
}

/// `--members`: only members' proofs count; `--rows` prints the SPEC §6 frozen form.
#[test]
fn members_and_frozen_rows() {
    let env = [("LEADER_WINDOW_DAYS", "3"), ("D_MIN", "0.1")];
    let (path, _) = simulated("members", &env);
    let p = path.to_str().unwrap();
    let all = keeper(&[&["credits"][..], &common(p)[..]].concat(), &env, None);
    assert!(all.status.success());
    let all: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    let ids: Vec<String> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["entityId"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.len() >= 3, "{all}");
    let chosen = vec![ids[2].clone(), ids[0].clone()];
    let members = tmp("members.json");
    std::fs::write(&members, serde_json::to_vec(&chosen).unwrap()).unwrap();
    let m = members.to_str().unwrap();
    let sub = keeper(
        &[&["credits"][..], &common(p)[..], &["--members", m][..]].concat(),
        &env,
        None,
    );
    assert!(
        sub.status.success(),
        "{}",
        String::from_utf8_lossy(&sub.stderr)
    );
    let sub: serde_json::Value = serde_json::from_slice(&sub.stdout).unwrap();
    let sub = sub.as_array().unwrap();
    assert_eq!(sub.len(), 2);
    for r in sub {
        assert!(chosen.contains(&r["entityId"].as_str().unwrap().to_owned()));
        // Same credits and live score as without the filter; ranks among members only.
        let full = all
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["entityId"] == r["entityId"])
            .unwrap();
        assert_eq!(r["credits"], full["credits"]);
        assert_eq!(r["liveScore"], full["liveScore"]);
    }
    let frozen = keeper(
        &[
            &["credits"][..],
            &common(p)[..],
            &["--members", m, "--rows"][..],
        ]
        .concat(),
        &env,
        None,
    );
    assert!(frozen.status.success());
    let f: serde_json::Value = serde_json::from_slice(&frozen.stdout).unwrap();
    assert_eq!(f["epoch"], 10);
    let rows = f["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0]["entityId"].as_str() < rows[1]["entityId"].as_str());
    let mut sorted = chosen.clone();
    sorted.sort();
    assert_eq!(f["members"], serde_json::json!(sorted));
    assert_eq!(f["tally_hash"].as_str().unwrap().len(), 66);
    assert_eq!(
        f["params_hash"].as_str().unwrap(),
        lucid_core::params::ParamValues {
            leader_window_days: 3,
            d_min_ppm: 100_000,
            ..Default::default()
        }
        .build()
        .unwrap()
        .params_hash()
        .to_string()
    );
    // Bad member files are errors, not silent "everyone counts".
    std::fs::write(&members, b"[\"0x12\"]").unwrap();
    let bad = keeper(
        &[&["credits"][..], &common(p)[..], &["--members", m][..]].concat(),
        &env,
        None,
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--members"));
}

/// `--prev-plans`: the previous epoch's planned primaries cool down into this epoch; a plan at or
/// after the epoch start is refused (the old `--last-wins` let such an entry exempt a node from
/// cooldown for the whole epoch).
#[test]
fn previous_plans_carry_the_cooldown() {
    let env = [("LEADER_WINDOW_DAYS", "3"), ("D_MIN", "0.1")];
    let (path, _) = simulated("prevplans", &env);
    let p = path.to_str().unwrap();
    let base = keeper(&[&["schedule"][..], &common(p)[..]].concat(), &env, None);
    assert!(
        base.status.success(),
        "{}",
        String::from_utf8_lossy(&base.stderr)
    );
    let base: serde_json::Value = serde_json::from_slice(&base.stdout).unwrap();
    let first = base[0]["primary"].clone();
    assert!(first.is_string(), "{}", base[0]);
    // The first-ranked node was planned primary in the last slot of epoch 9: not primary at 7200.
    let prev = serde_json::json!([{"slot": 7199, "epoch": 9, "primary": first, "fallbacks": [], "planReason": "ranked"}]);
    let file = tmp("prev-plans.json");
    std::fs::write(&file, prev.to_string()).unwrap();
    let f = file.to_str().unwrap();
    let s = keeper(
        &[&["schedule"][..], &common(p)[..], &["--prev-plans", f][..]].concat(),
        &env,
        None,
    );
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    let s: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_ne!(s[0]["primary"], first);
    // A "turn" at or after the epoch start is refused.
    for slot in [7200, 7300, 99_999] {
        let prev = serde_json::json!([{"slot": slot, "epoch": slot / 720, "primary": first, "fallbacks": [], "planReason": "ranked"}]);
        std::fs::write(&file, prev.to_string()).unwrap();
        let bad = keeper(
            &[&["schedule"][..], &common(p)[..], &["--prev-plans", f][..]].concat(),
            &env,
            None,
        );
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains("not before epoch 10"));
    }
    // No node leads twice within COOLDOWN_SLOTS (16) in a `ranked` stretch.
    let plans = s.as_array().unwrap();
    for (i, pl) in plans.iter().enumerate() {
        if pl["planReason"] != "ranked" {
            continue;
        }
        for q in plans.iter().skip(i + 1).take(16) {
            if q["planReason"] == "ranked" {
                assert_ne!(q["primary"], pl["primary"], "slot {}", q["slot"]);
            }
        }
    }
}
