//! One chain's follower: backfill and live in one loop, adaptive `eth_getLogs` ranges, reorg detection
//! over a window of block hashes, and atomic range writes (events + checkpoint) through the store.
//!
//! During a backfill the next range is read from the node while the previous one is being written
//! (at most one write in flight, committed in order); at the head every range is stored before the
//! follower sleeps.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::sol_types::SolEvent;
use alloy_primitives::{Address, B256};
use futures::{FutureExt, StreamExt, TryStreamExt};
use lucid_chain::bindings::ILucidAnchors;
use lucid_chain::events::{DecodedEvent, hex0x};
use lucid_chain::{
    BlockHeader, ChainClient, ChainError, EventDecoder, RawLog, RetryPolicy, RpcErrorKind,
};
use lucid_store::{BlockRange, Checkpoint, Store};
use tokio::sync::watch;

use crate::status::{ReorgInfo, Status};

/// How a follower runs.
#[derive(Debug, Clone)]
pub struct FollowerConfig {
    pub chain_id: u64,
    pub role: &'static str,
    pub contracts: Vec<Address>,
    /// First block that can hold our events (the deployment's start block).
    pub start_block: u64,
    pub confirmations: u64,
    pub poll: Duration,
    /// Blocks whose hashes are kept to find a fork's common ancestor.
    pub reorg_window: u64,
    /// First `eth_getLogs` range and its ceiling.
    pub initial_range: u64,
    pub max_range: u64,
    /// A range that returns more logs than this is narrowed for the next request, so one store
    /// transaction stays bounded and a backfill is written as it is read.
    pub max_range_events: u64,
}

/// Why a follower stopped.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(
        "chain {chain_id}: fork deeper than the reorg window ({window} blocks): the stored block {block} ({stored}) is not on the node's chain and no block of the window is; refusing to continue (re-index from a fresh store or raise --reorg-window)"
    )]
    ForkTooDeep {
        chain_id: u64,
        window: u64,
        block: u64,
        stored: String,
    },
    #[error("chain {chain_id}: the RPC reports chain id {got}")]
    WrongChain { chain_id: u64, got: u64 },
}

enum Step {
    /// Nothing to do until the next poll.
    Idle,
    /// A range was written; go on at once.
    Progress,
}

/// Follows one chain into the store until `shutdown` turns true.
#[derive(Debug)]
pub struct Follower {
    cfg: FollowerConfig,
    client: ChainClient,
    decoder: EventDecoder,
    store: Arc<dyn Store>,
    status: Status,
    /// Known block hashes of the unfinalized window, by number (all ≤ checkpoint).
    window: BTreeMap<u64, B256>,
    checkpoint: Option<(u64, B256)>,
    range: u64,
    /// When each block above the checkpoint was first seen at the head (live latency).
    seen: HashMap<u64, Instant>,
    last_head: u64,
    /// The range being written in the background (`checkpoint` already points past it).
    pending: Option<PendingWrite>,
}

/// A range handed to the store and what to record once it is stored.
#[derive(Debug)]
struct PendingWrite {
    handle: tokio::task::JoinHandle<Result<(), StepError>>,
    /// The checkpoint before this range (restored if the write fails).
    prev: Option<(u64, B256)>,
    from: u64,
    to: u64,
    to_time: u64,
    head: u64,
    events: u64,
    rpc_time: Duration,
    started: Instant,
}

impl Follower {
    pub fn new(
        cfg: FollowerConfig,
        client: ChainClient,
        decoder: EventDecoder,
        store: Arc<dyn Store>,
        status: Status,
    ) -> Self {
        let range = cfg.initial_range.clamp(1, cfg.max_range.max(1));
        Follower {
            cfg,
            client,
            decoder,
            store,
            status,
            window: BTreeMap::new(),
            checkpoint: None,
            range,
            seen: HashMap::new(),
            last_head: 0,
            pending: None,
        }
    }

    fn chain(&self) -> u64 {
        self.cfg.chain_id
    }

    fn note_error(&self, e: &dyn std::fmt::Display) {
        let msg = e.to_string();
        let errs = self.client.error_counts();
        self.status.update(self.chain(), |s| {
            s.last_error = Some(msg);
            s.rpc_errors = errs;
        });
    }

    /// Runs until shutdown (Ok) or a fatal error (the chain halts; the other chain goes on).
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) -> Result<(), FollowError> {
        let res = self.run_inner(&mut shutdown).await;
        // A range being written is finished (shutdown included) before the follower returns.
        if let Err(StepError::Retry(msg)) = self.settle().await {
            tracing::warn!(chain_id = self.chain(), error = %msg, "the last range was not stored");
        }
        if let Err(e) = &res {
            tracing::error!(chain_id = self.chain(), error = %e, "follower halted");
            let msg = e.to_string();
            self.status.update(self.chain(), |s| s.halted = Some(msg));
        }
        res
    }

    async fn run_inner(&mut self, shutdown: &mut watch::Receiver<bool>) -> Result<(), FollowError> {
        // The node must serve the chain we were configured for.
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            match self.client.chain_id().await {
                Ok(id) if id == self.chain() => break,
                Ok(got) => {
                    return Err(FollowError::WrongChain {
                        chain_id: self.chain(),
                        got,
                    });
                }
                Err(e) => {
                    self.note_error(&e);
                    if sleep_or_shutdown(self.cfg.poll.max(Duration::from_millis(500)), shutdown)
                        .await
                    {
                        return Ok(());
                    }
                }
            }
        }
        self.load_checkpoint(shutdown).await?;
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let res = match self.step(shutdown).await {
                Ok(Step::Progress) => continue,
                // Nothing more to read now: the range in flight is stored before sleeping.
                other => match self.settle().await {
                    Ok(()) => other,
                    Err(e) => Err(e),
                },
            };
            match res {
                Ok(_) => {}
                Err(StepError::Fatal(e)) => return Err(e),
                Err(StepError::Retry(msg)) => {
                    tracing::warn!(chain_id = self.chain(), error = %msg, "retrying");
                    self.note_error(&msg);
                }
            }
            if sleep_or_shutdown(self.cfg.poll, shutdown).await {
                return Ok(());
            }
        }
    }

    /// Reads the stored checkpoint, or starts just below the start block.
    async fn load_checkpoint(
        &mut self,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), FollowError> {
        loop {
            match self.store.checkpoint(self.chain()).await {
                Ok(Some(cp)) => {
                    let hash: B256 = cp.block_hash;
                    self.checkpoint = Some((cp.block_number, hash));
                    self.window.insert(cp.block_number, hash);
                    tracing::info!(
                        chain_id = self.chain(),
                        block = cp.block_number,
                        "resuming from checkpoint"
                    );
                    break;
                }
                Ok(None) => {
                    tracing::info!(
                        chain_id = self.chain(),
                        start = self.cfg.start_block,
                        "no checkpoint: starting at the deployment's start block"
                    );
                    break;
                }
                Err(e) => {
                    self.note_error(&e);
                    if sleep_or_shutdown(Duration::from_secs(1), shutdown).await {
                        return Ok(());
                    }
                }
            }
        }
        self.status.update(self.chain(), |s| {
            s.checkpoint = self.checkpoint.map(|c| c.0);
        });
        Ok(())
    }

    async fn step(&mut self, shutdown: &mut watch::Receiver<bool>) -> Result<Step, StepError> {
        let head = self.client.block_number().await.map_err(StepError::rpc)?;
        let errs = self.client.error_counts();
        let now = Instant::now();
        if head > self.last_head {
            for n in self.last_head.max(head.saturating_sub(64)) + 1..=head {
                self.seen.entry(n).or_insert(now);
            }
        }
        if head < self.last_head {
            tracing::info!(
                chain_id = self.chain(),
                head,
                previous = self.last_head,
                "the node reports a lower head: waiting (no rollback without a proven fork)"
            );
        }
        self.last_head = self.last_head.max(head);
        self.status.update(self.chain(), |s| {
            s.head = Some(head);
            s.last_head_ok = Some(now);
            s.last_error = None;
            s.rpc_errors = errs;
        });

        // Is the checkpoint still on the node's chain?
        if let Some((cp, cp_hash)) = self.checkpoint {
            let target = head.saturating_sub(self.cfg.confirmations);
            if cp >= target {
                // At the tip (or the node lags behind us): check the checkpoint block itself.
                match self.client.block(cp).await.map_err(StepError::rpc)? {
                    None => return Ok(Step::Idle), // a lagging node: wait it out
                    Some(b) if b.hash == cp_hash => {
                        let t = b.timestamp();
                        self.status
                            .update(self.chain(), |s| s.checkpoint_time = Some(t));
                        return Ok(Step::Idle);
                    }
                    Some(_) => {
                        self.handle_fork(shutdown).await?;
                        return Ok(Step::Progress);
                    }
                }
            }
        }
        let from = match self.checkpoint {
            Some((cp, _)) => cp + 1,
            None => self.cfg.start_block,
        };
        let target = head.saturating_sub(self.cfg.confirmations);
        if from > target {
            return Ok(Step::Idle);
        }
        let to = target.min(from.saturating_add(self.range - 1));
        let t0 = Instant::now();
        let logs = match self.client.logs_once(&self.cfg.contracts, from, to).await {
            Ok(l) => {
                let (asked, n, cap) = (to - from + 1, l.len() as u64, self.cfg.max_range_events);
                if n > cap {
                    // Dense blocks: narrow to about `cap` logs per range.
                    self.range = (asked.saturating_mul(cap) / n).max(1);
                } else if self.range < self.cfg.max_range && n.saturating_mul(2) <= cap {
                    self.range = (self.range.saturating_mul(2)).min(self.cfg.max_range);
                }
                l
            }
            Err(e) => {
                self.adapt_range(from, to, &e);
                self.note_error(&e);
                // A smaller range is asked at once; a single block that still fails has no smaller
                // range, so it is retried at the poll pace like any other RPC error (never in a
                // tight loop against the provider).
                if !e.kind.wants_smaller_range() {
                    return Err(StepError::rpc(e));
                }
                if to > from {
                    return Ok(Step::Progress);
                }
                return Err(StepError::Retry(format!(
                    "eth_getLogs of the single block {from} fails, and no smaller range exists: {e}"
                )));
            }
        };
        // Headers: `from` (parent link), `to` (the new checkpoint), every block with logs (its time),
        // and every block of the range when it lies within the reorg window of the head.
        let mut numbers: Vec<u64> = logs.iter().map(RawLog::block_number).collect();
        numbers.push(from);
        numbers.push(to);
        let window_start = head.saturating_sub(self.cfg.reorg_window);
        if to > window_start {
            numbers.extend(from.max(window_start + 1)..=to);
        }
        numbers.sort_unstable();
        numbers.dedup();
        // Receipts of the anchoring transactions (gas per session), read alongside the headers.
        let anchoring_txs = anchoring_txs(&logs);
        let mut shutdown2 = shutdown.clone();
        let (headers, session_gas) = tokio::join!(
            self.headers(&numbers, shutdown).boxed(),
            self.session_gas(&anchoring_txs, &mut shutdown2).boxed()
        );
        let Some(headers) = headers? else {
            return Ok(Step::Idle); // shutdown, or the node does not have the blocks yet
        };
        let Some(session_gas) = session_gas? else {
            return Ok(Step::Idle); // shutdown
        };
        // Fork checks: parent link to our checkpoint, and logs from the blocks we just read.
        if let Some((_, cp_hash)) = self.checkpoint
            && headers[&from].parent_hash != cp_hash
        {
            self.handle_fork(shutdown).await?;
            return Ok(Step::Progress);
        }
        for l in &logs {
            if l.removed || headers[&l.block_number()].hash != l.block_hash {
                return Err(StepError::Retry(format!(
                    "log of block {} has hash {} but the block is {}: the chain moved, reading again",
                    l.block_number(),
                    l.block_hash,
                    headers[&l.block_number()].hash
                )));
            }
        }
        let mut events = Vec::with_capacity(logs.len());
        for l in &logs {
            let h = &headers[&l.block_number()];
            match self.decoder.decode(l, h.timestamp()) {
                Ok(e) => events.push(e),
                Err(e) => {
                    tracing::warn!(chain_id = self.chain(), error = %e, "skipping an undecodable log")
                }
            }
        }
        let rpc_time = t0.elapsed();
        let to_hash = headers[&to].hash;
        let to_time = headers[&to].timestamp();
        let range = BlockRange::new(
            Checkpoint {
                chain_id: self.chain(),
                block_number: to,
                block_hash: to_hash,
            },
            events.iter().map(DecodedEvent::to_chain_event).collect(),
        )
        .with_session_gas(session_gas);
        // Ranges are committed in order: the previous one must be stored before this one starts.
        self.settle().await?;
        let handle = tokio::spawn(write_range(
            self.store.clone(),
            self.status.clone(),
            self.chain(),
            self.client.retry,
            range,
        ));
        self.pending = Some(PendingWrite {
            handle,
            prev: self.checkpoint,
            from,
            to,
            to_time,
            head,
            events: events.len() as u64,
            rpc_time,
            started: Instant::now(),
        });
        // The new window: every header read in the window, plus the new checkpoint.
        for (n, h) in &headers {
            if *n > window_start || *n == to {
                self.window.insert(*n, h.hash);
            }
        }
        self.checkpoint = Some((to, to_hash));
        self.trim_window(head);
        tracing::debug!(
            chain_id = self.chain(),
            from,
            to,
            events = events.len(),
            "range read, being stored"
        );
        Ok(if to < target {
            Step::Progress
        } else {
            Step::Idle
        })
    }

    /// Waits for the range being written. Once stored, its figures go to the status; if it could
    /// not be stored, the checkpoint goes back to before it (it is read again).
    async fn settle(&mut self) -> Result<(), StepError> {
        let Some(p) = self.pending.take() else {
            return Ok(());
        };
        let res = match p.handle.await {
            Ok(r) => r,
            Err(e) => Err(StepError::Retry(format!("store write task failed: {e}"))),
        };
        if let Err(e) = res {
            self.checkpoint = p.prev;
            self.window
                .retain(|n, _| p.prev.is_some_and(|(c, _)| *n <= c));
            return Err(e);
        }
        let store_time = p.started.elapsed();
        let done = Instant::now();
        let mut lat = Vec::new();
        self.seen.retain(|n, t| {
            if *n <= p.to {
                lat.push(done.duration_since(*t).as_secs_f64() * 1000.0);
                false
            } else {
                true
            }
        });
        let window = self.cfg.reorg_window;
        self.status.update(self.chain(), |s| {
            s.checkpoint = Some(p.to);
            s.checkpoint_time = Some(p.to_time);
            s.events_indexed += p.events;
            s.blocks_indexed += p.to - p.from + 1;
            s.rpc_seconds += p.rpc_time.as_secs_f64();
            s.store_seconds += store_time.as_secs_f64();
            if p.to + window >= p.head {
                s.live_latency_ms.extend(lat);
                let len = s.live_latency_ms.len();
                if len > 1000 {
                    s.live_latency_ms.drain(..len - 1000);
                }
            }
        });
        tracing::debug!(
            chain_id = self.chain(),
            from = p.from,
            to = p.to,
            events = p.events,
            "range stored"
        );
        Ok(())
    }

    /// Adapts the range after a failed `eth_getLogs` of `from..=to`: adopt a usable suggestion, else
    /// halve on range/size/timeout errors (never the very same failing range again).
    fn adapt_range(&mut self, from: u64, to: u64, e: &ChainError) {
        let asked = to - from + 1;
        match e.kind {
            RpcErrorKind::TooManyResults {
                suggested: Some((a, b)),
            } if a == from && b < to => {
                self.range = b - a + 1;
            }
            k if k.wants_smaller_range() => {
                self.range = (asked / 2).max(1);
            }
            _ => {}
        }
        tracing::debug!(
            chain_id = self.chain(),
            from,
            to,
            kind = e.kind.label(),
            range = self.range,
            "eth_getLogs failed"
        );
    }

    /// Headers of the given blocks, fetched concurrently, each retried until it comes back with a
    /// non-zero timestamp. `None` on shutdown or when the node does not have a block yet.
    async fn headers(
        &self,
        numbers: &[u64],
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Option<BTreeMap<u64, BlockHeader>>, StepError> {
        let client = &self.client;
        let fetch = futures::stream::iter(numbers.iter().copied())
            .map(|n| async move {
                let mut attempt = 0u32;
                loop {
                    match client.block(n).await {
                        Ok(Some(h)) if h.number() == n && h.timestamp() != 0 => return Ok(Some((n, h))),
                        Ok(None) => return Ok(None),
                        Ok(Some(h)) => {
                            tracing::warn!(block = n, got = h.number(), timestamp = h.timestamp(), "implausible block header: retrying");
                        }
                        Err(e) if e.kind.is_transient() || matches!(e.kind, RpcErrorKind::Rpc { .. }) => {
                            tracing::debug!(block = n, error = %e, "eth_getBlockByNumber failed: retrying");
                        }
                        Err(e) => return Err(e),
                    }
                    tokio::time::sleep(client.retry.delay(attempt)).await;
                    attempt = attempt.saturating_add(1);
                }
            })
            .buffer_unordered(16)
            .try_collect::<Vec<Option<(u64, BlockHeader)>>>();
        let res = tokio::select! {
            r = fetch => r,
            _ = shutdown.changed() => return Ok(None),
        };
        let res = res.map_err(StepError::rpc)?;
        let mut out = BTreeMap::new();
        for r in res {
            match r {
                Some((n, h)) => {
                    out.insert(n, h);
                }
                None => return Ok(None),
            }
        }
        Ok(Some(out))
    }

    /// Gas per session of each anchoring transaction (`tx → (sessions, block hash of its logs)`):
    /// its receipt's `gasUsed` / the sessions it registered. Each receipt is retried until the node
    /// returns it (never a made-up value); a receipt from another block than its logs means the
    /// chain moved. `None` on shutdown.
    async fn session_gas(
        &self,
        txs: &BTreeMap<B256, (u64, B256)>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Option<BTreeMap<B256, u64>>, StepError> {
        if txs.is_empty() {
            return Ok(Some(BTreeMap::new()));
        }
        let client = &self.client;
        let items: Vec<(B256, u64, B256)> = txs.iter().map(|(t, (n, h))| (*t, *n, *h)).collect();
        let fetch = futures::stream::iter(items)
            .map(|(tx, sessions, block_hash)| async move {
                let mut attempt = 0u32;
                loop {
                    match client.tx_receipt(tx).await {
                        Ok(Some(r)) if r.block_hash == block_hash => {
                            return Ok((tx, lucid_store::gas_per_session(r.gas_used(), sessions)));
                        }
                        Ok(Some(r)) => {
                            return Err(StepError::Retry(format!(
                                "receipt of {tx} is in block {} ({}), its logs in {block_hash}: the chain moved, reading again",
                                r.block_number(),
                                r.block_hash
                            )));
                        }
                        Ok(None) => {
                            tracing::debug!(%tx, "no receipt yet: retrying");
                        }
                        Err(e) if e.kind.is_transient() || matches!(e.kind, RpcErrorKind::Rpc { .. } | RpcErrorKind::BadResponse) => {
                            tracing::debug!(%tx, error = %e, "eth_getTransactionReceipt failed: retrying");
                        }
                        Err(e) => return Err(StepError::rpc(e)),
                    }
                    tokio::time::sleep(client.retry.delay(attempt)).await;
                    attempt = attempt.saturating_add(1);
                }
            })
            .buffer_unordered(16)
            .try_collect::<Vec<(B256, Option<u64>)>>();
        let res = tokio::select! {
            r = fetch => r?,
            _ = shutdown.changed() => return Ok(None),
        };
        Ok(Some(
            res.into_iter()
                .filter_map(|(tx, g)| g.map(|g| (tx, g)))
                .collect(),
        ))
    }

    fn trim_window(&mut self, head: u64) {
        let keep_from = head.saturating_sub(self.cfg.reorg_window);
        let cp = self.checkpoint.map(|c| c.0);
        self.window.retain(|n, _| *n > keep_from || Some(*n) == cp);
        // Bound memory whatever happens.
        while self.window.len() as u64 > self.cfg.reorg_window + 1 {
            self.window.pop_first();
        }
    }

    /// A fork was proven (a hash we stored is no longer the node's). Walks back through the window to
    /// the newest block still on the node's chain and rolls everything above it back in one store
    /// transaction. A fork below the whole window halts the chain.
    async fn handle_fork(&mut self, shutdown: &mut watch::Receiver<bool>) -> Result<(), StepError> {
        // The range in flight is stored first (the rollback then removes it if it is above the
        // common ancestor).
        self.settle().await?;
        let Some((cp, _)) = self.checkpoint else {
            return Ok(());
        };
        let mut ancestor: Option<(u64, B256)> = None;
        let mut lowest_checked = None;
        for (n, stored) in self.window.clone().into_iter().rev() {
            if *shutdown.borrow() {
                return Ok(());
            }
            match self.client.block(n).await.map_err(StepError::rpc)? {
                // A lagging node cannot prove anything about this block: try again later.
                None => {
                    return Err(StepError::Retry(format!(
                        "block {n} unavailable while walking back a fork"
                    )));
                }
                Some(b) if b.hash == stored => {
                    ancestor = Some((n, stored));
                    break;
                }
                Some(_) => lowest_checked = Some((n, stored)),
            }
        }
        let (anc, anc_hash) = match ancestor {
            Some(a) => a,
            None => {
                let (low, stored) = lowest_checked.unwrap_or((cp, B256::ZERO));
                let window_bottom = cp.saturating_sub(self.cfg.reorg_window.saturating_sub(1));
                if low <= window_bottom || low <= self.cfg.start_block {
                    return Err(StepError::Fatal(FollowError::ForkTooDeep {
                        chain_id: self.chain(),
                        window: self.cfg.reorg_window,
                        block: low,
                        stored: hex0x(stored),
                    }));
                }
                // We know too little (e.g. just restarted): go back the whole window and trust the
                // node's block there (documented in docs/decisions/indexer.md).
                let n = window_bottom.max(self.cfg.start_block).saturating_sub(1);
                let b = self
                    .client
                    .block(n)
                    .await
                    .map_err(StepError::rpc)?
                    .ok_or_else(|| StepError::Retry(format!("block {n} unavailable")))?;
                (n, b.hash)
            }
        };
        let from_block = anc + 1;
        let depth = cp - anc;
        tracing::warn!(
            chain_id = self.chain(),
            from_block,
            depth,
            "reorg: rolling back to the common ancestor"
        );
        let checkpoint = Checkpoint {
            chain_id: self.chain(),
            block_number: anc,
            block_hash: anc_hash,
        };
        let report = self
            .store
            .rollback(self.chain(), from_block, Some(&checkpoint))
            .await
            .map_err(|e| {
                StepError::Retry(format!("rollback from block {from_block} failed: {e}"))
            })?;
        tracing::info!(chain_id = self.chain(), ?report, "rolled back");
        self.window.retain(|n, _| *n <= anc);
        self.window.insert(anc, anc_hash);
        self.checkpoint = Some((anc, anc_hash));
        self.range = self.range.min(self.cfg.reorg_window.max(1));
        let at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.status.update(self.chain(), |s| {
            s.reorgs += 1;
            s.checkpoint = Some(anc);
            s.last_reorg = Some(ReorgInfo {
                from_block,
                depth,
                at,
            });
        });
        Ok(())
    }
}

/// Transactions that emitted `SessionRegistered`: the number of sessions each registered and the
/// block hash of its logs.
fn anchoring_txs(logs: &[RawLog]) -> BTreeMap<B256, (u64, B256)> {
    let sig = ILucidAnchors::SessionRegistered::SIGNATURE_HASH;
    let mut out: BTreeMap<B256, (u64, B256)> = BTreeMap::new();
    for l in logs {
        if l.topics.first() == Some(&sig) {
            out.entry(l.transaction_hash).or_insert((0, l.block_hash)).0 += 1;
        }
    }
    out
}

/// Writes one range (events + checkpoint in one store transaction), retrying store errors. Runs as
/// its own task while the follower reads the next range.
async fn write_range(
    store: Arc<dyn Store>,
    status: Status,
    chain_id: u64,
    retry: RetryPolicy,
    range: BlockRange,
) -> Result<(), StepError> {
    // Not interrupted by shutdown: a range that started being written is finished.
    let mut attempt = 0u32;
    loop {
        match store.write_block_range(&range).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                tracing::warn!(chain_id, error = %e, "store write failed: retrying");
                let msg = e.to_string();
                status.update(chain_id, |s| s.last_error = Some(msg));
                if attempt >= 5 {
                    return Err(StepError::Retry(format!("store write failed: {e}")));
                }
                tokio::time::sleep(retry.delay(attempt)).await;
                attempt += 1;
            }
        }
    }
}

#[derive(Debug)]
enum StepError {
    /// Logged; the loop tries again after a poll interval.
    Retry(String),
    Fatal(FollowError),
}

impl StepError {
    fn rpc(e: ChainError) -> Self {
        StepError::Retry(e.to_string())
    }
}

/// Sleeps; `true` if shutdown was requested meanwhile.
pub async fn sleep_or_shutdown(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => *shutdown.borrow(),
        r = shutdown.changed() => r.is_err() || *shutdown.borrow(),
    }
}
