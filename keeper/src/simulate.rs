//! `simulate`: a deterministic, realistic signed proof stream for the window of an epoch.
//!
//! Every node has a fixed profile drawn from the seed: an uptime (probability of a beacon in a
//! slot; some nodes sit below D_MIN) and a work rate. Per (slot, node) a generator seeded from
//! (seed, slot, node) decides the proofs, so the output is identical for any thread count.
//! Sessions come from a shared pool that changes every 30 slots, so several nodes work on the
//! same sessions. Proofs are written slot by slot, nodes in order.

use std::io::{BufWriter, Write};

use alloy_primitives::keccak256;
use anyhow::Context;
use clap::Args;
use k256::ecdsa::SigningKey;
use lucid_core::proof::{ProofCodec, ProofKind, TaskProof, address_of};
use lucid_core::session::SessionId;
use lucid_core::{Address, B256, Params};

/// `simulate` inputs.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Number of nodes.
    #[arg(long)]
    nodes: u32,
    /// Epoch E: proofs cover its credit window [720E − WINDOW, 720E).
    #[arg(long)]
    epoch: u64,
    /// On-system chain id (EIP-712 domain).
    #[arg(long)]
    chain_id: u64,
    /// Seed: 0x + 32 bytes, or any text (hashed).
    #[arg(long)]
    seed: String,
    /// Only the last K slots of the window (default: the whole window).
    #[arg(long)]
    slots: Option<u64>,
    /// Average work proofs per node and slot for the busiest nodes (default 1.0).
    #[arg(long, default_value_t = 1.0)]
    work_rate: f64,
    /// Signing threads (default: available cores); the output does not depend on it.
    #[arg(long)]
    threads: Option<usize>,
}

/// splitmix64.
#[derive(Debug, Clone, Copy)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1_000_000).
    fn ppm(&mut self) -> u64 {
        self.next() % 1_000_000
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Node {
    key: SigningKey,
    addr: Address,
    uptime_ppm: u64,
    work_ppm: u64,
}

fn seed_bytes(s: &str) -> B256 {
    if let Some(b) = s.strip_prefix("0x").filter(|b| b.len() == 64)
        && let Ok(v) = format!("0x{b}").parse::<B256>()
    {
        return v;
    }
    keccak256(s.as_bytes())
}

fn make_nodes(seed: &B256, n: u32, work_rate: f64) -> Vec<Node> {
    (0..n)
        .map(|i| {
            let mut ctr = 0u32;
            let key = loop {
                let mut buf = Vec::with_capacity(48);
                buf.extend_from_slice(b"lucid-sim-key");
                buf.extend_from_slice(seed.as_slice());
                buf.extend_from_slice(&i.to_be_bytes());
                buf.extend_from_slice(&ctr.to_be_bytes());
                if let Ok(k) = SigningKey::from_slice(keccak256(&buf).as_slice()) {
                    break k;
                }
                ctr += 1;
            };
            let mut r = Rng::new(u64::from_be_bytes(
                keccak256([seed.as_slice(), &i.to_be_bytes()].concat())[..8]
                    .try_into()
                    .unwrap_or([0; 8]),
            ));
            // Uptime: 80% of nodes are well connected (60–100%), 20% flaky (2–40%).
            let uptime_ppm = if r.ppm() < 800_000 {
                600_000 + r.below(400_001)
            } else {
                20_000 + r.below(380_001)
            };
            // Work: a long tail; busiest nodes reach `work_rate` proofs per slot.
            let tier = r.below(100);
            let share = if tier < 10 {
                1_000_000
            } else if tier < 50 {
                300_000
            } else if tier < 90 {
                60_000
            } else {
                0
            };
            let work_ppm = ((share as f64) * work_rate.max(0.0)) as u64;
            Node {
                addr: address_of(&key),
                key,
                uptime_ppm,
                work_ppm,
            }
        })
        .collect()
}

fn mix(seed: u64, slot: u64, node: u64) -> u64 {
    let mut r = Rng::new(
        seed ^ slot.wrapping_mul(0xd6e8_feb8_6659_fd93) ^ node.wrapping_mul(0xa076_1d64_78bd_642f),
    );
    r.next()
}

fn session(seed: u64, slot: u64, k: u64) -> SessionId {
    let mut r = Rng::new(seed ^ (slot / 30).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ k);
    let hi = r.next();
    let lo = r.next();
    let mut b = ((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    SessionId(uuid::Uuid::from_bytes(b))
}

fn proofs_for(seed: u64, slot: u64, idx: u64, n: &Node) -> Vec<TaskProof> {
    let mut r = Rng::new(mix(seed, slot, idx));
    let mut out = Vec::new();
    if r.ppm() < n.uptime_ppm {
        out.push(TaskProof::beacon(n.addr, slot));
    } else {
        return out; // offline nodes do no work either
    }
    // Number of work proofs: floor(rate) plus one more with the fractional probability.
    let whole = n.work_ppm / 1_000_000;
    let frac = n.work_ppm % 1_000_000;
    let count = whole + u64::from(r.ppm() < frac);
    for _ in 0..count {
        let sid = session(seed, slot, r.below(64));
        let p = match r.below(10) {
            0..=4 => TaskProof {
                node_id: n.addr,
                slot,
                kind: ProofKind::RelayBandwidth,
                session_id: sid,
                amount: 256 * 1024 + r.below(24 * 1024 * 1024),
                chunk_index: 0,
                digest: B256::ZERO,
            },
            5..=7 => {
                let chunk = r.below(512) as u32;
                let mut d = [0u8; 32];
                d[..8].copy_from_slice(&r.next().to_be_bytes());
                d[8..16].copy_from_slice(&r.next().to_be_bytes());
                d[16..24].copy_from_slice(&u64::from(chunk).to_be_bytes());
                d[24..].copy_from_slice(&sid.as_u128().to_be_bytes()[..8]);
                TaskProof {
                    node_id: n.addr,
                    slot,
                    kind: ProofKind::StorageAvailability,
                    session_id: sid,
                    amount: 0,
                    chunk_index: chunk,
                    digest: B256::from(d),
                }
            }
            _ => TaskProof {
                node_id: n.addr,
                slot,
                kind: ProofKind::ValidationSignature,
                session_id: sid,
                amount: 0,
                chunk_index: 0,
                digest: keccak256(sid.as_u128().to_be_bytes()),
            },
        };
        out.push(p);
    }
    out
}

fn lines_for(
    codec: &ProofCodec,
    seed: u64,
    slot: u64,
    nodes: &[(u64, &Node)],
) -> anyhow::Result<String> {
    let mut s = String::new();
    for (idx, n) in nodes {
        for p in proofs_for(seed, slot, *idx, n) {
            let sp = codec.sign(p, &n.key).context("signing")?;
            s.push_str(&sp.to_json());
            s.push('\n');
        }
    }
    Ok(s)
}

/// `simulate`.
pub fn run(params: &Params, a: &SimulateArgs) -> anyhow::Result<()> {
    let seed = seed_bytes(&a.seed);
    let seed64 = u64::from_be_bytes(seed[..8].try_into().unwrap_or([0; 8]));
    let codec = ProofCodec::new(a.chain_id);
    let nodes = make_nodes(&seed, a.nodes, a.work_rate);
    let window = params
        .window(a.epoch)
        .with_context(|| format!("--epoch {}", a.epoch))?;
    let start = match a.slots {
        Some(k) => window.end.saturating_sub(k).max(window.start),
        None => window.start,
    };
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    tracing::info!(
        nodes = a.nodes,
        slots = window.end - start,
        threads,
        "simulating epoch {} window slots {start}..{}",
        a.epoch,
        window.end
    );
    let indexed: Vec<(u64, &Node)> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (i as u64, n))
        .collect();
    let per = indexed.len().div_ceil(threads).max(1);
    let stdout = std::io::stdout();
    let mut w = BufWriter::with_capacity(1 << 20, stdout.lock());
    for slot in start..window.end {
        let parts: Vec<anyhow::Result<String>> = if threads == 1 {
            vec![lines_for(&codec, seed64, slot, &indexed)]
        } else {
            std::thread::scope(|s| {
                let hs: Vec<_> = indexed
                    .chunks(per)
                    .map(|part| {
                        let codec = &codec;
                        s.spawn(move || lines_for(codec, seed64, slot, part))
                    })
                    .collect();
                hs.into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err(anyhow::anyhow!("thread panicked")))
                    })
                    .collect()
            })
        };
        for p in parts {
            w.write_all(p?.as_bytes()).context("writing proofs")?;
        }
    }
    w.flush()?;
    Ok(())
}
