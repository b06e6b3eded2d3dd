//! `credits`, `schedule` and `merkle`: offline computations over files.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use lucid_core::address::parse_address;
use lucid_core::ingest::{
    Checked, Ingest, LineRead, LineReader, MAX_LINE_BYTES, check_line, too_long_error,
};
use lucid_core::merkle::MerkleTree;
use lucid_core::poot::{
    FrozenTally, NodeScore, Scope, SlotPlan, Tally, freeze_tally, ranked, schedule_epoch,
};
use lucid_core::proof::{ProofCodec, ProofError};
use lucid_core::session::{Chunk, SessionId};
use lucid_core::{Address, B256, Params};
use serde::{Deserialize, Serialize};

/// Inputs shared by `credits` and `schedule`.
#[derive(Debug, Args)]
pub struct ProofArgs {
    /// JSON Lines file of SPEC §4 task proofs (`-` for stdin).
    #[arg(long)]
    proofs: PathBuf,
    /// Epoch E (its window is slots [720E − WINDOW, 720E)).
    #[arg(long)]
    epoch: u64,
    /// epochSeed: 0x + 32 bytes (hash of the last on-system block before the epoch start).
    #[arg(long, value_parser = parse_seed)]
    seed: B256,
    /// On-system chain id (EIP-712 domain).
    #[arg(long)]
    chain_id: u64,
    /// Current slot for the `slot ≤ current slot` rule (default: from the system clock and GENESIS_TIME).
    #[arg(long)]
    current_slot: Option<u64>,
    /// Verification threads (default: available cores).
    #[arg(long)]
    threads: Option<usize>,
    /// JSON array of member nodeIds (SPEC §4 membership): only their proofs count. Without it,
    /// every node counts.
    #[arg(long)]
    members: Option<PathBuf>,
}

/// `credits` inputs.
#[derive(Debug, Args)]
pub struct CreditsArgs {
    #[command(flatten)]
    proofs: ProofArgs,
    /// Print the SPEC §6 frozen-epoch form instead of the ranked list:
    /// `{"epoch","seed","params_hash","members","rows","tally_hash"}`.
    #[arg(long)]
    rows: bool,
}

/// `schedule` inputs.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[command(flatten)]
    proofs: ProofArgs,
    /// First slot to output (inclusive; default: the epoch's first slot).
    #[arg(long)]
    from_slot: Option<u64>,
    /// Last slot to output (inclusive; default: the epoch's last slot).
    #[arg(long)]
    to_slot: Option<u64>,
    /// The previous epoch's plans (the JSON output of `schedule` for epoch E − 1): their planned
    /// primaries' turns count for the cooldown (SPEC §4 lastTurn). Without it, nobody has a turn.
    #[arg(long)]
    prev_plans: Option<PathBuf>,
}

/// `merkle` inputs.
#[derive(Debug, Args)]
pub struct MerkleArgs {
    /// JSON file `{"sessionId", "chunks":[{"index","chunkHash","size"}]}` (`-` for stdin).
    #[arg(long)]
    chunks: PathBuf,
}

fn parse_seed(s: &str) -> Result<B256, String> {
    let body = s
        .strip_prefix("0x")
        .ok_or_else(|| "seed must be 0x + 64 hex digits".to_owned())?;
    if body.len() != 64 {
        return Err("seed must be 0x + 64 hex digits (32 bytes)".to_owned());
    }
    s.parse().map_err(|e| format!("seed: {e}"))
}

fn open(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            std::io::stdin(),
        )));
    }
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, f)))
}

fn current_slot(params: &Params, explicit: Option<u64>) -> anyhow::Result<u64> {
    if let Some(s) = explicit {
        return Ok(s);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("system clock before 1970")?
        .as_secs();
    params.slot_at(now).with_context(|| {
        format!(
            "system time {now} is before GENESIS_TIME {}",
            params.genesis_time()
        )
    })
}

fn report_invalid(line_no: u64, e: &ProofError) {
    tracing::warn!(
        line = line_no,
        reason = e.code(),
        "invalid proof skipped: {e}"
    );
}

/// Logs how far a long ingest has got, at most every [`Progress::EVERY`].
struct Progress {
    last: Instant,
}

impl Progress {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(10);

    fn new() -> Self {
        Self {
            last: Instant::now(),
        }
    }

    fn tick(&mut self, ing: &Ingest) {
        if self.last.elapsed() >= Self::EVERY {
            self.last = Instant::now();
            let s = ing.stats();
            tracing::info!(
                lines = s.lines,
                valid = s.valid,
                invalid = s.invalid,
                out_of_window = s.out_of_range,
                "reading proofs…"
            );
        }
    }
}

fn read_members(path: &Path) -> anyhow::Result<Vec<Address>> {
    let mut s = String::new();
    open(path)?.read_to_string(&mut s)?;
    let v: Vec<String> = serde_json::from_str(&s)
        .with_context(|| format!("--members {}: a JSON array of addresses", path.display()))?;
    v.iter()
        .map(|a| parse_address(a).with_context(|| format!("--members: bad address {a:?}")))
        .collect()
}

/// Streams the proof file into the tally of the epoch's window. Lines are read in bounded
/// batches (each line at most [`MAX_LINE_BYTES`]; a longer one, or one that is not UTF-8, is
/// reported `malformed` with its line number and the run goes on); with more than one thread,
/// each batch is verified in parallel and then tallied in input order (so output and stderr
/// reports do not depend on the thread count).
fn tally_epoch(params: &Params, a: &ProofArgs) -> anyhow::Result<Tally> {
    let started = Instant::now();
    let codec = ProofCodec::new(a.chain_id);
    let cur = current_slot(params, a.current_slot)?;
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let mut scope = Scope::new(
        params
            .window(a.epoch)
            .with_context(|| format!("--epoch {}", a.epoch))?,
    );
    if let Some(m) = &a.members {
        let members = read_members(m)?;
        tracing::info!(members = members.len(), "member list");
        scope = scope.with_members(members);
    }
    let mut ing = Ingest::new(codec, cur, Tally::with_scope(scope));
    let mut input = LineReader::new(open(&a.proofs)?, MAX_LINE_BYTES);
    let mut line_no: u64 = 0;
    let mut progress = Progress::new();
    const BATCH: usize = 2048;
    let batch_len = if threads == 1 { 1 } else { BATCH * threads };
    let mut batch: Vec<Vec<u8>> = vec![Vec::new(); batch_len];
    let mut reads: Vec<LineRead> = vec![LineRead::Line; batch_len];
    loop {
        let mut filled = 0;
        while filled < batch.len() {
            match input
                .next_line(&mut batch[filled])
                .context("reading proofs")?
            {
                None => break,
                Some(r) => reads[filled] = r,
            }
            filled += 1;
        }
        if filled == 0 {
            break;
        }
        let lines = &batch[..filled];
        let check = |codec: &ProofCodec, scope: &Scope, l: &[u8], r: &LineRead| match r {
            LineRead::Line => check_line(codec, cur, scope, l),
            LineRead::TooLong { len } => Err(too_long_error(*len, MAX_LINE_BYTES)),
        };
        let results: Vec<Result<Checked, ProofError>> = if threads == 1 {
            lines
                .iter()
                .zip(&reads)
                .map(|(l, r)| check(ing.codec(), ing.scope(), l, r))
                .collect()
        } else {
            let per = filled.div_ceil(threads);
            let codec = ing.codec().clone();
            let scope = ing.scope().clone();
            std::thread::scope(|s| {
                let handles: Vec<_> = lines
                    .chunks(per)
                    .zip(reads[..filled].chunks(per))
                    .map(|(part, rs)| {
                        let (codec, scope, check) = (&codec, &scope, &check);
                        s.spawn(move || {
                            part.iter()
                                .zip(rs)
                                .map(|(l, r)| check(codec, scope, l, r))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    // A panic in a verifier thread is a bug: re-raise it rather than
                    // lose that thread's lines.
                    .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            })
        };
        for r in results {
            line_no += 1;
            if let Err(e) = ing.record(r) {
                report_invalid(line_no, &e);
            }
        }
        if line_no.is_multiple_of(4096) || threads > 1 {
            progress.tick(&ing);
        }
        if filled < batch.len() {
            break;
        }
    }
    let (tally, stats) = ing.finish();
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(
        lines = stats.lines,
        valid = stats.valid,
        invalid = stats.invalid,
        out_of_window = stats.out_of_range,
        non_member = stats.non_member,
        nodes = tally.node_count(),
        threads,
        seconds = format!("{secs:.3}"),
        proofs_per_sec = format!("{:.0}", stats.valid as f64 / secs.max(1e-9)),
        "tallied window {:?} of epoch {} (current slot {cur})",
        tally.range(),
        a.epoch
    );
    Ok(tally)
}

fn write_json<T: Serialize>(v: &T) -> anyhow::Result<()> {
    let out = std::io::stdout();
    let mut w = BufWriter::new(out.lock());
    serde_json::to_writer(&mut w, v).context("writing JSON")?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(())
}

fn scores(params: &Params, a: &ProofArgs) -> anyhow::Result<Vec<NodeScore>> {
    let tally = tally_epoch(params, a)?;
    Ok(tally.scores(params, a.epoch, &a.seed))
}

/// The SPEC §6 frozen-epoch form (what a keeper stores in `epochs`, minus chain bookkeeping).
#[derive(Debug, Serialize)]
struct FrozenOut {
    epoch: u64,
    seed: B256,
    params_hash: B256,
    members: Option<Vec<String>>,
    rows: Vec<NodeScore>,
    tally_hash: B256,
}

impl From<FrozenTally> for FrozenOut {
    fn from(f: FrozenTally) -> Self {
        Self {
            epoch: f.epoch,
            seed: f.seed,
            params_hash: f.params_hash,
            members: f
                .members
                .map(|m| m.iter().map(lucid_core::address::to_lower_hex).collect()),
            rows: f.rows,
            tally_hash: f.tally_hash,
        }
    }
}

/// `credits`.
pub fn credits(params: &Params, a: &CreditsArgs) -> anyhow::Result<()> {
    if a.rows {
        let tally = tally_epoch(params, &a.proofs)?;
        let f = freeze_tally(params, a.proofs.epoch, &a.proofs.seed, &tally);
        return write_json(&FrozenOut::from(f));
    }
    let s = scores(params, &a.proofs)?;
    write_json(&s)
}

/// `schedule`.
pub fn schedule(params: &Params, a: &ScheduleArgs) -> anyhow::Result<()> {
    let epoch = a.proofs.epoch;
    let epoch_slots = params
        .epoch_slots(epoch)
        .with_context(|| format!("--epoch {epoch}"))?;
    let from = a.from_slot.unwrap_or(epoch_slots.start);
    let to = a.to_slot.unwrap_or(epoch_slots.end - 1);
    if from > to || !epoch_slots.contains(&from) || !epoch_slots.contains(&to) {
        bail!(
            "--from-slot {from} / --to-slot {to} must satisfy {} ≤ from ≤ to ≤ {} (epoch {epoch})",
            epoch_slots.start,
            epoch_slots.end - 1,
        );
    }
    let prev: Vec<SlotPlan> = match &a.prev_plans {
        None => Vec::new(),
        Some(p) => {
            let mut s = String::new();
            open(p)?.read_to_string(&mut s)?;
            let plans: Vec<SlotPlan> = serde_json::from_str(&s)
                .with_context(|| format!("--prev-plans {}: a JSON array of plans", p.display()))?;
            if let Some(bad) = plans.iter().find(|x| x.slot >= epoch_slots.start) {
                bail!(
                    "--prev-plans: plan of slot {} is not before epoch {epoch} (first slot {}); pass the plans of epoch {}",
                    bad.slot,
                    epoch_slots.start,
                    epoch.saturating_sub(1)
                );
            }
            plans
        }
    };
    let s = scores(params, &a.proofs)?;
    let r = ranked(&s);
    tracing::info!(eligible = r.len(), previous_plans = prev.len(), "ranked");
    // Plan the whole epoch (turns depend on every earlier slot), output only [from, to].
    let plans = schedule_epoch(params, epoch, r, &prev)?;
    let out: Vec<_> = plans
        .into_iter()
        .filter(|p| (from..=to).contains(&p.slot))
        .collect();
    write_json(&out)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChunksFile {
    session_id: SessionId,
    chunks: Vec<Chunk>,
}

#[derive(Debug, Serialize)]
struct MerkleOut {
    root: B256,
    leaves: Vec<B256>,
    proofs: Vec<Vec<B256>>,
}

/// `merkle`.
pub fn merkle(a: &MerkleArgs) -> anyhow::Result<()> {
    let mut s = String::new();
    open(&a.chunks)?.read_to_string(&mut s)?;
    let f: ChunksFile =
        serde_json::from_str(&s).with_context(|| format!("parsing {}", a.chunks.display()))?;
    let mut chunks = f.chunks;
    chunks.sort_by_key(|c| c.index);
    let tree = MerkleTree::from_chunks(&f.session_id.to_bytes32(), &chunks)
        .with_context(|| format!("session {}", f.session_id))?;
    let proofs = (0..chunks.len())
        .map(|i| tree.proof(i).context("proof index"))
        .collect::<anyhow::Result<_>>()?;
    write_json(&MerkleOut {
        root: tree.root(),
        leaves: tree.leaves().to_vec(),
        proofs,
    })
}
