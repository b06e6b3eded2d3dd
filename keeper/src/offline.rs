//! `credits`, `schedule` and `merkle`: offline computations over files.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use lucid_core::address::parse_address;
use lucid_core::ingest::{Ingest, check_line};
use lucid_core::merkle::MerkleTree;
use lucid_core::poot::{NodeScore, Scheduler, Tally, ranked};
use lucid_core::proof::{ProofCodec, ProofError, TaskProof};
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
    /// JSON object {"0xnode": lastWinSlot, …} of wins before the epoch (lastWin across epochs).
    #[arg(long)]
    last_wins: Option<PathBuf>,
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
            params.genesis_time
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

/// Streams the proof file into the tally of the epoch's window. Lines are read in bounded
/// batches; with more than one thread, each batch is verified in parallel and then tallied in
/// input order (so output and stderr reports do not depend on the thread count).
fn tally_epoch(params: &Params, a: &ProofArgs) -> anyhow::Result<Tally> {
    let started = Instant::now();
    let codec = ProofCodec::new(a.chain_id);
    let cur = current_slot(params, a.current_slot)?;
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let mut ing = Ingest::new(codec, cur, Tally::for_epoch(params, a.epoch));
    let range = ing.range();
    let mut input = open(&a.proofs)?;
    let mut line_no: u64 = 0;
    let mut progress = Progress::new();
    if threads == 1 {
        let mut line = String::new();
        loop {
            line.clear();
            let n = input.read_line(&mut line).context("reading proofs")?;
            if n == 0 {
                break;
            }
            line_no += 1;
            if let Err(e) = ing.line(&line) {
                report_invalid(line_no, &e);
            }
            if line_no.is_multiple_of(4096) {
                progress.tick(&ing);
            }
        }
    } else {
        const BATCH: usize = 2048;
        let mut batch: Vec<String> = vec![String::new(); BATCH * threads];
        loop {
            let mut filled = 0;
            while filled < batch.len() {
                let l = &mut batch[filled];
                l.clear();
                if input.read_line(l).context("reading proofs")? == 0 {
                    break;
                }
                filled += 1;
            }
            if filled == 0 {
                break;
            }
            let lines = &batch[..filled];
            let per = filled.div_ceil(threads);
            let codec = ing.codec().clone();
            let results: Vec<Vec<Result<Option<TaskProof>, ProofError>>> =
                std::thread::scope(|s| {
                    let handles: Vec<_> = lines
                        .chunks(per)
                        .map(|part| {
                            let codec = &codec;
                            let range = &range;
                            s.spawn(move || {
                                part.iter()
                                    .map(|l| check_line(codec, cur, range, l))
                                    .collect::<Vec<_>>()
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        // A panic in a verifier thread is a bug: re-raise it rather than
                        // lose that thread's lines.
                        .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                        .collect()
                });
            for (l, r) in lines.iter().zip(results.into_iter().flatten()) {
                line_no += 1;
                if let Err(e) = ing.record(l, r) {
                    report_invalid(line_no, &e);
                }
            }
            progress.tick(&ing);
            if filled < batch.len() {
                break;
            }
        }
    }
    let (tally, stats) = ing.finish();
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(
        lines = stats.lines,
        valid = stats.valid,
        invalid = stats.invalid,
        out_of_window = stats.out_of_range,
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

/// `credits`.
pub fn credits(params: &Params, a: &ProofArgs) -> anyhow::Result<()> {
    let s = scores(params, a)?;
    write_json(&s)
}

/// `schedule`.
pub fn schedule(params: &Params, a: &ScheduleArgs) -> anyhow::Result<()> {
    let epoch_slots = params.epoch_slots(a.proofs.epoch);
    let from = a.from_slot.unwrap_or(epoch_slots.start);
    let to = a.to_slot.unwrap_or(epoch_slots.end - 1);
    if from > to || !epoch_slots.contains(&from) || !epoch_slots.contains(&to) {
        bail!(
            "--from-slot {from} / --to-slot {to} must satisfy {} ≤ from ≤ to ≤ {} (epoch {})",
            epoch_slots.start,
            epoch_slots.end - 1,
            a.proofs.epoch
        );
    }
    let last_wins: Vec<(Address, u64)> = match &a.last_wins {
        None => Vec::new(),
        Some(p) => {
            let mut s = String::new();
            open(p)?.read_to_string(&mut s)?;
            let m: HashMap<String, u64> =
                serde_json::from_str(&s).with_context(|| format!("parsing {}", p.display()))?;
            m.iter()
                .map(|(k, v)| {
                    parse_address(k)
                        .map(|a| (a, *v))
                        .with_context(|| format!("--last-wins: bad address {k:?}"))
                })
                .collect::<anyhow::Result<_>>()?
        }
    };
    let s = scores(params, &a.proofs)?;
    let r = ranked(&s);
    tracing::info!(eligible = r.len(), "ranked");
    let mut sched =
        Scheduler::new(*params, r).with_last_wins(last_wins.iter().map(|(a, s)| (a, *s)));
    // Plan from the epoch start so that cooldown state is right, output only [from, to].
    let plans = sched.plan_range(epoch_slots.start..to + 1);
    let out: Vec<_> = plans.into_iter().filter(|p| p.slot >= from).collect();
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
