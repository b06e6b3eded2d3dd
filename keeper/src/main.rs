//! lucid-keeper: ingests task proofs, computes PoOT credits and the leader schedule, anchors sessions.
//!
//! Offline commands (this file): `credits`, `schedule`, `merkle`, `simulate`. Parameters come from
//! the SPEC §1 environment variables; JSON goes to stdout, logs and invalid-proof reports to stderr.

mod offline;
mod simulate;

use anyhow::Context;
use clap::{Parser, Subcommand};
use lucid_core::Params;

#[derive(Debug, Parser)]
#[command(
    name = "lucid-keeper",
    version,
    about = "Lucid keeper: PoOT credits, leader schedule, anchoring"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Work credits, live score, eligibility and rank of every node with a valid proof in the
    /// window of an epoch.
    Credits(offline::ProofArgs),
    /// The leader schedule of an epoch (or a slot range of it), assuming each primary wins.
    Schedule(offline::ScheduleArgs),
    /// Merkle root, leaves and proofs of a session's chunks.
    Merkle(offline::MerkleArgs),
    /// A deterministic, realistic signed proof stream (JSON Lines) for the window of an epoch.
    Simulate(simulate::SimulateArgs),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let params = Params::from_env().context("invalid protocol parameter (SPEC §1)")?;
    tracing::debug!(%params, "parameters");
    match cli.cmd {
        Cmd::Credits(a) => offline::credits(&params, &a),
        Cmd::Schedule(a) => offline::schedule(&params, &a),
        Cmd::Merkle(a) => offline::merkle(&a),
        Cmd::Simulate(a) => simulate::run(&params, &a),
    }
}
