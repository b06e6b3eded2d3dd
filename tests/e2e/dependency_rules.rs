//! The architecture's dependency rules, checked against `cargo metadata` and the sources:
//! - dependencies flow downward: `lucid-core` knows nothing of chains, databases or async runtimes;
//! - payment code is isolated: only the keeper (and the local TRON stand-in) depends on `lucid-payout`, and inside the keeper only its
//!   payout path (`keeper/src/payout.rs` or `keeper/src/payout/`) names it.
#![allow(clippy::unwrap_used)]

use lucid_e2e::repo_root;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// package name → names of its normal (non-dev, non-build) dependencies, for workspace members.
fn workspace_deps() -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_string())
                .collect();
            (p["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

#[test]
fn only_the_keeper_depends_on_lucid_payout() {
    let deps = workspace_deps();
    assert!(
        deps.contains_key("lucid-payout") && deps.contains_key("lucid-keeper"),
        "{deps:?}"
    );
    let users: Vec<&String> = deps
        .iter()
        .filter(|(_, d)| d.iter().any(|n| n == "lucid-payout"))
        .map(|(p, _)| p)
        .collect();
    // The local TRON stand-in (tron-local/) decodes and checks TRON transactions with the payout
    // crate's own types: it is payment-chain tooling, not consensus or anchoring.
    assert!(
        users
            .iter()
            .all(|p| *p == "lucid-keeper" || *p == "lucid-tron-local"),
        "lucid-payout is a dependency of {users:?}"
    );
}

#[test]
fn lucid_core_has_no_io_dependencies() {
    let deps = workspace_deps();
    let core = &deps["lucid-core"];
    for forbidden in [
        "lucid-store",
        "lucid-payout",
        "lucid-chain",
        "alloy",
        "alloy-provider",
        "alloy-contract",
        "alloy-transport",
        "sqlx",
        "mongodb",
        "tokio",
        "reqwest",
        "hyper",
        "axum",
    ] {
        assert!(
            !core.iter().any(|d| d == forbidden),
            "lucid-core depends on {forbidden}"
        );
    }
    for (pkg, d) in &deps {
        if pkg != "lucid-keeper" && pkg != "lucid-e2e" {
            assert!(
                !d.iter().any(|n| n == "lucid-keeper"),
                "{pkg} depends on the keeper binary crate"
            );
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn inside_the_keeper_only_the_payout_path_names_lucid_payout() {
    let src = repo_root().join("keeper/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(!files.is_empty());
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let on_payout_path = rel == Path::new("payout.rs")
            || rel == Path::new("payouts.rs")
            || rel.starts_with("payout")
            || rel.starts_with("payouts");
        if !on_payout_path {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                !text.contains("lucid_payout"),
                "{} uses lucid_payout outside the payout path",
                file.display()
            );
        }
    }
}
