//! What the followers report to the HTTP API: per-chain status and metrics.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use utoipa::ToSchema;

/// The last reorg seen on a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReorgInfo {
    /// First block rolled back.
    pub from_block: u64,
    /// Blocks rolled back (old checkpoint − common ancestor).
    pub depth: u64,
    /// Unix seconds (wall clock of the indexer) when it was handled.
    pub at: u64,
}

/// One chain's state as the follower last saw it.
#[derive(Debug, Clone, Default)]
pub struct ChainState {
    pub chain_id: u64,
    /// `onsystem` or `payment`.
    pub role: &'static str,
    pub head: Option<u64>,
    pub checkpoint: Option<u64>,
    /// Timestamp of the checkpoint block (chain time as far as the store is concerned).
    pub checkpoint_time: Option<u64>,
    pub confirmations: u64,
    pub events_indexed: u64,
    pub blocks_indexed: u64,
    pub reorgs: u64,
    pub last_reorg: Option<ReorgInfo>,
    /// Set when the chain stopped for good (e.g. a fork deeper than the reorg window).
    pub halted: Option<String>,
    /// The last RPC or store error, cleared by the next success.
    pub last_error: Option<String>,
    /// When the head was last read successfully.
    pub last_head_ok: Option<Instant>,
    /// RPC error counts by kind (shared with the follower's client).
    pub rpc_errors: Vec<(&'static str, u64)>,
    /// Store and RPC time spent on ranges (for the benchmark): seconds.
    pub rpc_seconds: f64,
    pub store_seconds: f64,
    /// Latency from first seeing a block at the head to its range being stored, ms (last 1,000).
    pub live_latency_ms: Vec<f64>,
}

/// Shared, cheap-to-lock state of every chain plus HTTP metrics.
#[derive(Debug, Clone, Default)]
pub struct Status {
    chains: Arc<Mutex<BTreeMap<u64, ChainState>>>,
    http: Arc<Mutex<HttpMetrics>>,
    /// Bumped whenever a chain's checkpoint, blocks indexed or reorg count changes, i.e. after
    /// every range write and rollback of this process (the API response cache's in-process
    /// generation).
    store_gen: Arc<AtomicU64>,
    /// A chain is ready only if its head was read within this long.
    pub stale_after: Duration,
}

/// Request counts and latency histogram of the HTTP API.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    /// (route, status) → count.
    pub requests: BTreeMap<String, BTreeMap<u16, u64>>,
    /// Cumulative latency histogram: bucket upper bounds in seconds → count.
    pub buckets: Vec<(f64, u64)>,
    pub sum_seconds: f64,
    pub count: u64,
}

pub const LATENCY_BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
];

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain counters behind: still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Status {
    pub fn new(stale_after: Duration) -> Self {
        Status {
            stale_after,
            ..Default::default()
        }
    }

    pub fn register(&self, chain_id: u64, role: &'static str, confirmations: u64) {
        lock(&self.chains).insert(
            chain_id,
            ChainState {
                chain_id,
                role,
                confirmations,
                ..Default::default()
            },
        );
    }

    /// Applies `f` to a chain's state.
    /// The followers report every range written and every rollback here (after the store
    /// committed it), which bumps [`Status::store_generation`].
    pub fn update(&self, chain_id: u64, f: impl FnOnce(&mut ChainState)) {
        if let Some(s) = lock(&self.chains).get_mut(&chain_id) {
            let before = (s.checkpoint, s.blocks_indexed, s.reorgs);
            f(s);
            if (s.checkpoint, s.blocks_indexed, s.reorgs) != before {
                self.store_gen.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    /// Changes after each store write or rollback this process's followers reported.
    pub fn store_generation(&self) -> u64 {
        self.store_gen.load(Ordering::SeqCst)
    }

    /// SPEC §6 chain time for reads: the on-system chain's checkpoint block time (the confirmed
    /// head once the indexer has caught up).
    pub fn chain_time(&self) -> Option<u64> {
        lock(&self.chains)
            .values()
            .find(|c| c.role == "onsystem")
            .and_then(|c| c.checkpoint_time)
    }

    pub fn chains(&self) -> Vec<ChainState> {
        lock(&self.chains).values().cloned().collect()
    }

    /// `Ok` when every chain is within its confirmations of a fresh head; else the reasons.
    pub fn readiness(&self) -> Result<(), Vec<String>> {
        let mut reasons = Vec::new();
        let chains = self.chains();
        if chains.is_empty() {
            reasons.push("no chain is followed".to_owned());
        }
        for c in chains {
            let name = format!("chain {} ({})", c.chain_id, c.role);
            if let Some(h) = &c.halted {
                reasons.push(format!("{name} halted: {h}"));
                continue;
            }
            match c.last_head_ok {
                None => {
                    reasons.push(format!("{name}: head not read yet"));
                    continue;
                }
                Some(t) if t.elapsed() > self.stale_after => {
                    reasons.push(format!(
                        "{name}: RPC unreachable for {} s{}",
                        t.elapsed().as_secs(),
                        c.last_error
                            .as_deref()
                            .map(|e| format!(" ({e})"))
                            .unwrap_or_default()
                    ));
                    continue;
                }
                Some(_) => {}
            }
            let head = c.head.unwrap_or(0);
            let cp = c.checkpoint.unwrap_or(0);
            if cp.saturating_add(c.confirmations) < head {
                reasons.push(format!(
                    "{name}: checkpoint {cp} is {} blocks behind head {head} (confirmations {})",
                    head - cp,
                    c.confirmations
                ));
            }
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons)
        }
    }

    pub fn record_http(&self, route: &str, status: u16, elapsed: Duration) {
        let mut m = lock(&self.http);
        // Looked up by &str first: no allocation per request once a route was seen.
        match m.requests.get_mut(route) {
            Some(by_status) => *by_status.entry(status).or_default() += 1,
            None => {
                m.requests
                    .insert(route.to_owned(), BTreeMap::from([(status, 1)]));
            }
        }
        if m.buckets.is_empty() {
            m.buckets = LATENCY_BUCKETS.iter().map(|b| (*b, 0)).collect();
        }
        let s = elapsed.as_secs_f64();
        for (le, n) in m.buckets.iter_mut() {
            if s <= *le {
                *n += 1;
            }
        }
        m.sum_seconds += s;
        m.count += 1;
    }

    /// Prometheus text exposition.
    pub fn prometheus(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let chains = self.chains();
        let mut metric = |name: &str, help: &str, kind: &str, rows: Vec<(String, String)>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, v) in rows {
                let _ = writeln!(out, "{name}{labels} {v}");
            }
        };
        let per_chain = |f: &dyn Fn(&ChainState) -> String| -> Vec<(String, String)> {
            chains
                .iter()
                .map(|c| {
                    (
                        format!("{{chain=\"{}\",role=\"{}\"}}", c.chain_id, c.role),
                        f(c),
                    )
                })
                .collect()
        };
        metric(
            "lucid_indexer_blocks_indexed_total",
            "Blocks indexed",
            "counter",
            per_chain(&|c| c.blocks_indexed.to_string()),
        );
        metric(
            "lucid_indexer_events_indexed_total",
            "Events indexed",
            "counter",
            per_chain(&|c| c.events_indexed.to_string()),
        );
        metric(
            "lucid_indexer_head_block",
            "Latest head read from the RPC",
            "gauge",
            per_chain(&|c| c.head.unwrap_or(0).to_string()),
        );
        metric(
            "lucid_indexer_checkpoint_block",
            "Last block stored",
            "gauge",
            per_chain(&|c| c.checkpoint.unwrap_or(0).to_string()),
        );
        metric(
            "lucid_indexer_lag_blocks",
            "Head minus checkpoint",
            "gauge",
            per_chain(&|c| {
                c.head
                    .unwrap_or(0)
                    .saturating_sub(c.checkpoint.unwrap_or(0))
                    .to_string()
            }),
        );
        metric(
            "lucid_indexer_reorgs_total",
            "Reorgs handled",
            "counter",
            per_chain(&|c| c.reorgs.to_string()),
        );
        metric(
            "lucid_indexer_halted",
            "1 when the chain stopped with an error",
            "gauge",
            per_chain(&|c| u8::from(c.halted.is_some()).to_string()),
        );
        metric(
            "lucid_indexer_rpc_seconds_total",
            "Time spent reading ranges from the RPC (logs and blocks)",
            "counter",
            per_chain(&|c| c.rpc_seconds.to_string()),
        );
        metric(
            "lucid_indexer_store_seconds_total",
            "Time spent writing ranges to the store",
            "counter",
            per_chain(&|c| c.store_seconds.to_string()),
        );
        let mut rows = Vec::new();
        for c in &chains {
            let mut l = c.live_latency_ms.clone();
            l.sort_by(f64::total_cmp);
            for q in [0.5, 0.99] {
                if !l.is_empty() {
                    let i = ((l.len() as f64 - 1.0) * q).round() as usize;
                    rows.push((
                        format!("{{chain=\"{}\",quantile=\"{q}\"}}", c.chain_id),
                        (l[i] / 1000.0).to_string(),
                    ));
                }
            }
        }
        metric(
            "lucid_indexer_live_latency_seconds",
            "From a block first seen at the head to its range stored (last 1,000 blocks near the head)",
            "summary",
            rows,
        );
        let mut rows = Vec::new();
        for c in &chains {
            for (kind, n) in &c.rpc_errors {
                rows.push((
                    format!("{{chain=\"{}\",kind=\"{kind}\"}}", c.chain_id),
                    n.to_string(),
                ));
            }
        }
        metric(
            "lucid_indexer_rpc_errors_total",
            "Failed RPC calls by kind",
            "counter",
            rows,
        );
        let http = lock(&self.http);
        let rows = http
            .requests
            .iter()
            .flat_map(|(r, by_status)| {
                by_status
                    .iter()
                    .map(move |(s, n)| (format!("{{route=\"{r}\",status=\"{s}\"}}"), n.to_string()))
            })
            .collect();
        metric(
            "lucid_indexer_http_requests_total",
            "HTTP requests by route and status",
            "counter",
            rows,
        );
        let mut rows: Vec<(String, String)> = http
            .buckets
            .iter()
            .map(|(le, n)| (format!("_bucket{{le=\"{le}\"}}"), n.to_string()))
            .collect();
        rows.push(("_bucket{le=\"+Inf\"}".into(), http.count.to_string()));
        rows.push(("_sum".into(), http.sum_seconds.to_string()));
        rows.push(("_count".into(), http.count.to_string()));
        metric(
            "lucid_indexer_http_request_duration_seconds",
            "HTTP request latency",
            "histogram",
            rows,
        );
        out
    }
}
