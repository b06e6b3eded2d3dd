//! The README's first command: `./dev up` (scripts/up.sh) runs the whole system and succeeds.
#![allow(clippy::unwrap_used)]

use lucid_e2e::{free_port, repo_root};
use std::process::Command;

#[test]
fn system_up_runs_the_sample_workload() {
    let root = repo_root();
    let out = Command::new("bash")
        .arg(root.join("scripts/up.sh"))
        .current_dir(&root)
        .env("ONSYS_PORT", free_port().to_string())
        .env("PAYMENT_PORT", free_port().to_string())
        .env_remove("KEEP_RUNNING")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "up.sh failed:\n{text}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        "signed proofs from 6 simulated nodes",
        "rank 1",
        "anchorBatch tx",
        "status 1",
        "replicas = 1",
        "each payoutId pays once",
        "KYC router paid",
        "SessionRegistered events on the on-system chain: 3",
        "done.",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}
