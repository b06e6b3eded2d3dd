//! lucid-keeper: ingests task proofs, computes PoOT credits and the leader schedule, anchors sessions.
//!
//! Offline commands (this file): `credits`, `schedule`, `merkle`, `simulate`. Parameters come from
//! the SPEC §1 environment variables; JSON goes to stdout, logs and invalid-proof reports to stderr.

mod offline;
mod simulate;

use anyhow::Context;
use clap::{Parser, Subcommand};
use lucid_core::Params;
use lucid_keeper::payouts;

#[derive(Debug, Parser)]
#[command(
    name = "lucid-keeper",
    version,
    about = "Lucid keeper: PoOT credits, leader schedule, anchoring"
)]
struct Cli {
    #[command(flatten)]
    params: ParamFlags,
    #[command(subcommand)]
    cmd: Cmd,
}

/// SPEC §1 protocol parameters. Each flag overrides the environment variable of the same name;
/// unset means the SPEC default. Values are validated against the SPEC's ranges either way.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Protocol parameters (SPEC §1; flag > environment > default)")]
struct ParamFlags {
    /// SLOT_DURATION_SEC (120 only)
    #[arg(long, global = true, value_name = "SEC")]
    slot_duration_sec: Option<String>,
    /// SLOT_TIMEOUT_MS (1000-10000, default 5000)
    #[arg(long, global = true, value_name = "MS")]
    slot_timeout_ms: Option<String>,
    /// COOLDOWN_SLOTS (8-64, default 16)
    #[arg(long, global = true, value_name = "SLOTS")]
    cooldown_slots: Option<String>,
    /// LEADER_WINDOW_DAYS (3-14, default 7)
    #[arg(long, global = true, value_name = "DAYS")]
    leader_window_days: Option<String>,
    /// D_MIN (0.1-0.5, default 0.2)
    #[arg(long, global = true, value_name = "FRACTION")]
    d_min: Option<String>,
    /// BASE_MB_PER_SESSION (1-50, default 5)
    #[arg(long, global = true, value_name = "MIB")]
    base_mb_per_session: Option<String>,
    /// MAX_FALLBACKS (1-8, default 3)
    #[arg(long, global = true, value_name = "N")]
    max_fallbacks: Option<String>,
    /// GENESIS_TIME (unix time of slot 0, default 1704067200)
    #[arg(long, global = true, value_name = "UNIX")]
    genesis_time: Option<String>,
    /// SLOTS_PER_EPOCH (720 only)
    #[arg(long, global = true, value_name = "SLOTS")]
    slots_per_epoch: Option<String>,
}

impl ParamFlags {
    fn flag(&self, var: &str) -> Option<String> {
        match var {
            "SLOT_DURATION_SEC" => self.slot_duration_sec.clone(),
            "SLOT_TIMEOUT_MS" => self.slot_timeout_ms.clone(),
            "COOLDOWN_SLOTS" => self.cooldown_slots.clone(),
            "LEADER_WINDOW_DAYS" => self.leader_window_days.clone(),
            "D_MIN" => self.d_min.clone(),
            "BASE_MB_PER_SESSION" => self.base_mb_per_session.clone(),
            "MAX_FALLBACKS" => self.max_fallbacks.clone(),
            "GENESIS_TIME" => self.genesis_time.clone(),
            "SLOTS_PER_EPOCH" => self.slots_per_epoch.clone(),
            _ => None,
        }
    }

    /// Flag, else environment variable, else the SPEC default.
    fn resolve(&self) -> Result<Params, lucid_core::params::ParamError> {
        Params::from_lookup(|var| self.flag(var).or_else(|| std::env::var(var).ok()))
    }
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Work credits, live score, eligibility and rank of every node with a valid proof in the
    /// window of an epoch.
    Credits(offline::CreditsArgs),
    /// The leader schedule of an epoch (or a slot range of it): SPEC §4 plans, cooldown by plan.
    Schedule(offline::ScheduleArgs),
    /// Merkle root, leaves and proofs of a session's chunks.
    Merkle(offline::MerkleArgs),
    /// A deterministic, realistic signed proof stream (JSON Lines) for the window of an epoch.
    Simulate(simulate::SimulateArgs),
    /// The node's daemon: HTTP API, frozen tallies, live leader plan, anchoring (SPEC §6).
    Run(Box<lucid_keeper::daemon::RunArgs>),
    /// Monthly USDT payouts on TRON: plan, approve, execute, status (SPEC §4 payout amounts).
    Payouts(payouts::PayoutsArgs),
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
    let params = cli
        .params
        .resolve()
        .context("invalid protocol parameter (SPEC §1)")?;
    tracing::debug!(%params, "parameters");
    match cli.cmd {
        Cmd::Credits(a) => offline::credits(&params, &a),
        Cmd::Schedule(a) => offline::schedule(&params, &a),
        Cmd::Merkle(a) => offline::merkle(&a),
        Cmd::Simulate(a) => simulate::run(&params, &a),
        Cmd::Run(a) => {
            let explicit =
                cli.params.genesis_time.is_some() || std::env::var_os("GENESIS_TIME").is_some();
            lucid_keeper::daemon::run_blocking(params, explicit, *a)
        }
        Cmd::Payouts(a) => payouts::run(&params, &a),
    }
}
