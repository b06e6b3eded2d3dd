//! `lucid-keeper run`: the node's daemon (SPEC §6). One loop, driven by chain time:
//! observe the head → freeze the epoch's tally and store its plans (insert-if-absent) → act in
//! the current slot when this node is its primary / fallback k / any anchorer under
//! `no_eligible_leader`, at the §4 acting time → tick the transaction manager → queue chunk
//! registrations of anchored sessions. The HTTP API runs beside it (see `api.rs`).
//!
//! Each step is a small function over plain data (plans, sessions, chain reads), so the pieces
//! from lucid-core (tally, schedule) and lucid-store plug in unchanged.

pub mod chainview;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use alloy::primitives::{Address, B256};
use alloy::sol_types::{SolCall, SolInterface};
use anyhow::{Context, bail};
use futures::StreamExt;
use lucid_chain::{ContractKind, EventDecoder, RawLog, TxReceipt};
use lucid_core::Params;
use lucid_core::merkle::MerkleTree;
use lucid_core::poot::{PlanReason, Scope, SlotPlan, Tally, freeze_tally, schedule_epoch};
use lucid_core::proof::ProofCodec;
use lucid_core::session::SessionId;
use lucid_store::{Epoch, LeaderSlot, ProofQuery, Session, SessionStatus, TallyRow};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::api::{Clock, Metrics, Shared};
use crate::txm::{NewTx, SlotGuard, TxState, Txm, TxmConfig};
use chainview::{ChainView, anchorer_role};
use lucid_chain::ChainClient as Rpc;
use lucid_chain::bindings::{ILucidAnchors, ILucidChunkStore};
use lucid_chain::node::BlockHead;

/// `lucid-keeper run` options. Secrets come only from the environment (`LUCID_NODE_KEY`,
/// `LUCID_NODE_KEY_PASSWORD`, `LUCID_API_TOKEN`), never from flags (they would show in `ps`).
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// HTTP listen address.
    #[arg(long, env = "LUCID_KEEPER_LISTEN", default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// The shared store (sqlite://PATH or mongodb://…).
    #[arg(long, env = "LUCID_STORE", default_value = lucid_store::DEFAULT_STORE_URL)]
    pub store: String,
    /// On-system chain JSON-RPC URL.
    #[arg(
        long,
        env = "ON_SYSTEM_CHAIN_RPC",
        default_value = "http://127.0.0.1:8545"
    )]
    pub rpc: String,
    /// LucidAnchors address.
    #[arg(long, env = "LUCID_ANCHORS_ADDRESS")]
    pub anchors: Address,
    /// LucidChunkStore address (chunk registrations are off without it).
    #[arg(long, env = "LUCID_CHUNK_STORE_ADDRESS")]
    pub chunk_store: Option<Address>,
    /// First block of the deployment (role events are read from there).
    #[arg(long, env = "LUCID_START_BLOCK", default_value_t = 0)]
    pub start_block: u64,
    /// Ethereum keystore v3 file of the node key (instead of LUCID_NODE_KEY).
    #[arg(long)]
    pub keystore: Option<PathBuf>,
    /// Keeper-local state (outbox, lock) lives in DIR/<address>/.
    #[arg(long, env = "LUCID_KEEPER_STATE_DIR", default_value = ".lucid-keeper")]
    pub state_dir: PathBuf,
    /// Sessions per anchoring transaction (SPEC §1: 1–400).
    #[arg(long, env = "LUCID_MAX_BATCH", default_value_t = 100)]
    pub max_batch: u32,
    /// Confirmation depth of the on-system chain.
    #[arg(long, env = "LUCID_CONFIRMATIONS", default_value_t = 1)]
    pub confirmations: u64,
    /// Highest fee per gas the keeper pays, in gwei.
    #[arg(long, env = "LUCID_MAX_FEE_GWEI", default_value_t = 500)]
    pub max_fee_gwei: u64,
    /// Loop period in milliseconds.
    #[arg(long, env = "LUCID_KEEPER_TICK_MS", default_value_t = 250)]
    pub tick_ms: u64,
    /// The treasury's unattended payouts (LUCID_PAYOUTS=on), a task of its own.
    #[command(flatten)]
    pub payouts: crate::payouts::RunPayoutArgs,
}

/// Chunk registrations waiting for their session's anchoring (keeper-local, SQLite).
#[derive(Debug, Clone)]
pub struct Registrations {
    pool: SqlitePool,
}

impl Registrations {
    pub async fn open(path: &Path) -> Result<Self, sqlx::Error> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS registrations (session_id TEXT NOT NULL, idx INTEGER NOT NULL,
             done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (session_id, idx))",
        )
        .execute(&pool)
        .await?;
        Ok(Self { pool })
    }
    /// Queues one; false if it was queued before.
    pub async fn add(&self, session_id: &str, idx: u32) -> Result<bool, sqlx::Error> {
        let r = sqlx::query("INSERT OR IGNORE INTO registrations (session_id, idx) VALUES (?, ?)")
            .bind(session_id)
            .bind(i64::from(idx))
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }
    pub async fn waiting(&self) -> Result<Vec<(String, u32)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT session_id, idx FROM registrations WHERE done = 0 ORDER BY rowid LIMIT 200",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("session_id")?,
                    u32::try_from(r.try_get::<i64, _>("idx")?).unwrap_or(0),
                ))
            })
            .collect()
    }
    pub async fn done(&self, session_id: &str, idx: u32) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE registrations SET done = 1 WHERE session_id = ? AND idx = ?")
            .bind(session_id)
            .bind(i64::from(idx))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// What the daemon knows about one epoch.
#[derive(Debug, Clone)]
struct EpochState {
    /// The stored plans (authoritative), by slot.
    plans: BTreeMap<u64, SlotPlan>,
    /// False after a tally/params/plan mismatch: the keeper does not act in this epoch.
    act: bool,
}

/// The daemon.
#[derive(Debug)]
pub struct Daemon {
    pub shared: Arc<Shared>,
    view: ChainView,
    txm: Txm,
    chunk_store: Option<Address>,
    max_batch: u32,
    epochs: BTreeMap<u64, EpochState>,
    /// Decodes the receipts of this keeper's confirmed transactions (the indexer's decoder).
    decoder: EventDecoder,
    /// Sessions seen anchored on chain (any digest) while still `pending` in the store: left out
    /// of batches without asking the chain again.
    anchored_on_chain: HashSet<B256>,
}

fn to_plan(l: &LeaderSlot) -> SlotPlan {
    SlotPlan {
        slot: l.slot,
        epoch: l.epoch,
        primary: l.primary,
        fallbacks: l.fallbacks.clone(),
        plan_reason: l.plan_reason,
    }
}

fn to_leader_slot(p: &SlotPlan) -> LeaderSlot {
    LeaderSlot {
        id: p.slot,
        slot: p.slot,
        epoch: p.epoch,
        primary: p.primary,
        fallbacks: p.fallbacks.clone(),
        plan_reason: p.plan_reason,
        result: None,
    }
}

/// The `SessionAnchor` of a stored session, in the binding's type.
pub fn anchor_of(s: &Session) -> anyhow::Result<ILucidAnchors::SessionAnchor> {
    let sid: SessionId =
        s.id.parse()
            .map_err(|_| anyhow::anyhow!("session id {:?}", s.id))?;
    Ok(ILucidAnchors::SessionAnchor {
        sessionId: sid.to_bytes32(),
        manifestHash: s.manifest_hash,
        merkleRoot: s.merkle_root,
        owner: s.owner_addr,
        startedAt: s.started_at,
        chunkCount: s.chunk_count,
    })
}

fn digest_of(a: &ILucidAnchors::SessionAnchor) -> B256 {
    alloy::primitives::keccak256(alloy::sol_types::SolValue::abi_encode(a))
}

/// Most pending sessions one batch build reads while looking for sessions not yet anchored.
pub const MAX_PENDING_SCAN: u32 = lucid_store::MAX_PAGE;

/// The gas bound of one anchoring transaction (SPEC §6): `min(2^24, block gas limit / 2)`.
pub fn gas_bound(block_gas_limit: u64) -> u64 {
    (1u64 << 24).min(block_gas_limit / 2)
}

impl Daemon {
    /// One loop step. Errors are logged by the caller and the step is retried next tick.
    pub async fn step(&mut self) -> anyhow::Result<()> {
        let head = self.view.rpc.latest().await?;
        self.shared.clock.observe(head.number, head.timestamp);
        let params = self.shared.params;
        let Some(slot_now) = params.slot_at(head.timestamp) else {
            self.txm.tick().await?;
            return Ok(());
        };
        let epoch = params.epoch_of(slot_now);
        self.ensure_epoch(epoch, &head).await?;
        let stale = self.shared.clock.not_ready(params.slot_duration_sec());
        if stale.is_none() {
            self.act(slot_now, &head).await?;
        }
        let rep = self.txm.tick().await?;
        if rep != Default::default() {
            tracing::debug!(?rep, "txm");
        }
        self.record_confirmed().await?;
        self.registrations(&head).await?;
        Ok(())
    }

    /// Writes the events of this keeper's confirmed transactions into the shared store (SPEC §6:
    /// a keeper derives results "for its own bookkeeping"), so its sessions leave `pending` with
    /// no indexer running, with their gas per session (the receipt's `gasUsed` / the sessions it
    /// registered, as the indexer derives it). Through the store's idempotent event path (`_id`
    /// `chainId:txHash:logIndex`, the indexer's decoder), so an indexer writing the same events
    /// later changes nothing; the indexer's checkpoint is never touched. Marked in the outbox
    /// once written, by block hash (a re-confirmation after a reorg is written again).
    pub async fn record_confirmed(&self) -> anyhow::Result<u64> {
        let mut written = 0;
        for e in self.txm.outbox().unrecorded_confirmed(100).await? {
            let (Some(tx_hash), Some(block_hash)) = (e.tx_hash.as_deref(), e.block_hash.as_deref())
            else {
                continue;
            };
            let hash: B256 = tx_hash.parse().context("outbox tx hash")?;
            let receipt: serde_json::Value = self
                .view
                .rpc
                .request("eth_getTransactionReceipt", serde_json::json!([hash]))
                .await?;
            if receipt.is_null() || receipt["blockHash"].as_str() != Some(block_hash) {
                continue; // reorged: the transaction manager sees it on its next tick
            }
            let logs: Vec<RawLog> =
                serde_json::from_value(receipt["logs"].clone()).context("receipt logs")?;
            let number: u64 = e.block_number.unwrap_or_default();
            let Some(block) = self.view.rpc.block_head(number).await? else {
                continue;
            };
            if format!("{:#x}", block.hash) != block_hash {
                continue;
            }
            let mut events = Vec::new();
            for log in logs.iter().filter(|l| !l.removed) {
                match self.decoder.decode(log, block.timestamp) {
                    Ok(d) => events.push(d.to_chain_event()),
                    // Logs of contracts the store does not follow (none today) are not ours to keep.
                    Err(lucid_chain::DecodeError::UnknownContract { .. }) => {}
                    Err(err) => tracing::warn!(tx = %hash, error = %err, "receipt log not decoded"),
                }
            }
            // gas per session, as the indexer derives it from the same receipt
            let gas_used = serde_json::from_value::<TxReceipt>(receipt.clone())
                .context("receipt")?
                .gas_used();
            let sessions = events
                .iter()
                .filter(|e| e.event == "SessionRegistered")
                .count() as u64;
            let session_gas: BTreeMap<B256, u64> = lucid_store::gas_per_session(gas_used, sessions)
                .map(|g| (hash, g))
                .into_iter()
                .collect();
            self.shared.store.put_events(&events, &session_gas).await?;
            self.txm.outbox().mark_recorded(e.id, block_hash).await?;
            written += events.len() as u64;
            tracing::debug!(key = %e.key, tx = %hash, events = events.len(), "recorded own confirmed transaction");
        }
        Ok(written)
    }

    /// Freezes epoch `epoch` (or takes the stored freeze), checks it, and stores/loads its plans.
    async fn ensure_epoch(&mut self, epoch: u64, head: &BlockHead) -> anyhow::Result<()> {
        if self.epochs.contains_key(&epoch) {
            return Ok(());
        }
        let params = self.shared.params;
        let store = self.shared.store.clone();
        let start_ts = params.slot_start(params.epoch_start_slot(epoch)?)?;
        let (seed, seed_block) = self.view.last_block_before(start_ts, head).await?;
        let members = self.view.role_members(anchorer_role(), seed_block).await?;
        let stored = match store.epoch(epoch).await? {
            Some(e) => e,
            None => {
                let frozen_at = head.timestamp;
                let frozen = self.tally(epoch, &seed, &members, frozen_at).await?;
                let doc = Epoch {
                    id: epoch,
                    epoch,
                    seed,
                    seed_block,
                    params_hash: frozen.params_hash,
                    members: members.iter().copied().collect(),
                    rows: frozen.rows.iter().map(row_of).collect(),
                    tally_hash: frozen.tally_hash,
                    frozen_at,
                    frozen_by: self.shared.node,
                };
                let ins = store.insert_epoch(&doc).await?;
                if ins.inserted {
                    tracing::info!(epoch, tally_hash = %doc.tally_hash, members = doc.members.len(), "froze the epoch's tally");
                }
                ins.epoch
            }
        };
        let mut act = true;
        if stored.params_hash != params.params_hash() {
            self.alert(format!(
                "epoch {epoch}: params_hash {} differs from ours {}",
                stored.params_hash,
                params.params_hash()
            ));
            act = false;
        } else if stored.frozen_by != self.shared.node {
            // Recompute from the same inputs (our own seed, members and the stored freeze time).
            let mine = self.tally(epoch, &seed, &members, stored.frozen_at).await?;
            if mine.tally_hash != stored.tally_hash || stored.seed != seed {
                self.alert(format!(
                    "epoch {epoch}: stored tally_hash {} (seed {}) differs from ours {} (seed {seed})",
                    stored.tally_hash, stored.seed, mine.tally_hash
                ));
                act = false;
            }
        }
        // Plans: from the stored ranking and the previous epoch's stored plans.
        let mut ranked: Vec<(u32, Address)> = stored
            .rows
            .iter()
            .filter_map(|r| r.rank.map(|k| (k, r.entity_id)))
            .collect();
        ranked.sort();
        let ranked: Vec<Address> = ranked.into_iter().map(|(_, a)| a).collect();
        let slots = params.epoch_slots(epoch)?;
        let previous: Vec<SlotPlan> = if epoch == 0 {
            Vec::new()
        } else {
            let prev = params.epoch_slots(epoch - 1)?;
            store
                .plans(prev.start, prev.end)
                .await?
                .iter()
                .map(to_plan)
                .collect()
        };
        let plans = schedule_epoch(&params, epoch, ranked, previous.iter())?;
        let rows: Vec<LeaderSlot> = plans.iter().map(to_leader_slot).collect();
        let out = store.put_plans(&rows).await?;
        if !out.differing.is_empty() {
            self.alert(format!(
                "epoch {epoch}: {} stored plans differ from ours (first slot {})",
                out.differing.len(),
                out.differing[0]
            ));
            act = false;
        }
        let stored_plans: BTreeMap<u64, SlotPlan> = store
            .plans(slots.start, slots.end)
            .await?
            .iter()
            .map(|l| (l.slot, to_plan(l)))
            .collect();
        self.shared.clock.set_halted(!act);
        // Keep the current and the previous epoch only.
        self.epochs.retain(|e, _| *e + 1 >= epoch);
        self.epochs.insert(
            epoch,
            EpochState {
                plans: stored_plans,
                act,
            },
        );
        Ok(())
    }

    /// The tally of `epoch` over the stored proofs with `ts ≤ max_ts`, members only.
    async fn tally(
        &self,
        epoch: u64,
        seed: &B256,
        members: &std::collections::BTreeSet<Address>,
        max_ts: u64,
    ) -> anyhow::Result<lucid_core::poot::FrozenTally> {
        let params = self.shared.params;
        let window = params.window(epoch)?;
        let mut tally =
            Tally::with_scope(Scope::new(window.clone()).with_members(members.iter().copied()));
        let q = ProofQuery {
            from_slot: window.start,
            to_slot: window.end,
            max_ts: Some(max_ts),
        };
        let mut stream = self.shared.store.proofs_stream(q, 5_000);
        while let Some(p) = stream.next().await {
            let p = p?;
            let sid: SessionId = p.session_id.parse().unwrap_or(SessionId::NIL);
            tally.add(&lucid_core::proof::TaskProof {
                node_id: p.node_id,
                slot: p.slot,
                kind: p.kind,
                session_id: sid,
                amount: p.amount,
                chunk_index: p.chunk_index,
                digest: p.digest,
            });
        }
        Ok(freeze_tally(&params, epoch, seed, &tally))
    }

    fn alert(&self, msg: String) {
        self.shared.metrics.alerts.fetch_add(1, Ordering::Relaxed);
        tracing::error!(alert = true, "{msg}; not acting in this epoch");
    }

    /// Acts in `slot` if this node may, now, and nobody has claimed it.
    async fn act(&mut self, slot: u64, head: &BlockHead) -> anyhow::Result<()> {
        let params = self.shared.params;
        let epoch = params.epoch_of(slot);
        let Some(es) = self.epochs.get(&epoch) else {
            return Ok(());
        };
        if !es.act {
            return Ok(());
        }
        let Some(plan) = es.plans.get(&slot).cloned() else {
            return Ok(());
        };
        let me = self.shared.node;
        let Some(after_ms) = plan.may_act_after_ms(&params, &me) else {
            return Ok(());
        };
        let key = format!("anchor:{}:{slot}", self.txm.chain_id());
        if self.txm.outbox().by_key(&key).await?.is_some() {
            return Ok(());
        }
        let start_ms = params.acting_time_ms(slot, 0)?;
        if u128::from(head.timestamp) * 1000 < u128::from(start_ms) + u128::from(after_ms) {
            return Ok(());
        }
        if plan.plan_reason == PlanReason::NoEligibleLeader
            && !self.view.has_role(anchorer_role(), me).await?
        {
            return Ok(());
        }
        if self.view.slot_submitter(slot).await? != Address::ZERO {
            return Ok(());
        }
        let Some(tx) = self.build_batch(slot, head).await? else {
            return Ok(());
        };
        let (_, new) = self
            .txm
            .enqueue(&NewTx {
                key: key.clone(),
                ..tx
            })
            .await?;
        if new {
            self.shared
                .metrics
                .anchors_enqueued
                .fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                slot,
                role = if after_ms == 0 {
                    "primary"
                } else {
                    "fallback/any"
                },
                "anchoring"
            );
        }
        Ok(())
    }

    /// The slot's batch (SPEC §6): pending sessions oldest first, minus those anchored on chain,
    /// at most LUCID_MAX_BATCH, cut to the gas bound. `None` with nothing to anchor.
    pub async fn build_batch(
        &mut self,
        slot: u64,
        head: &BlockHead,
    ) -> anyhow::Result<Option<NewTx>> {
        let max = self.max_batch as usize;
        let mut anchors = Vec::new();
        let mut sigs = Vec::new();
        // The store has no cursor over pending sessions: read a growing prefix (oldest first)
        // until the batch is full or every pending session was seen, skipping those already
        // anchored on chain (remembered, so each costs one chain read only once).
        let mut limit = self.max_batch.saturating_mul(2);
        let mut seen = 0usize;
        loop {
            let pending = self.shared.store.pending_sessions(limit).await?;
            let full_page = pending.len() >= limit as usize;
            for s in pending
                .iter()
                .skip(seen)
                .filter(|s| s.status == SessionStatus::Pending)
            {
                if anchors.len() >= max {
                    break;
                }
                let Some(sig) = s.owner_sig else { continue };
                let Ok(a) = anchor_of(s) else { continue };
                if self.anchored_on_chain.contains(&a.sessionId) {
                    continue;
                }
                if self.view.anchor_digest(a.sessionId).await? != B256::ZERO {
                    // Anchored (or conflicting) on chain: it would cost gas for nothing.
                    self.anchored_on_chain.insert(a.sessionId);
                    continue;
                }
                let mut words = [B256::ZERO; 2];
                words[0] = B256::from_slice(&sig[..32]);
                words[1] = B256::from_slice(&sig[32..]);
                anchors.push(a);
                sigs.push(words);
            }
            seen = pending.len();
            if anchors.len() >= max || !full_page || limit >= MAX_PENDING_SCAN {
                break;
            }
            limit = limit.saturating_mul(2).min(MAX_PENDING_SCAN);
        }
        if self.anchored_on_chain.len() > 100_000 {
            self.anchored_on_chain.clear();
        }
        let bound = gas_bound(head.gas_limit);
        while !anchors.is_empty() {
            let data = ILucidAnchors::anchorBatchCall {
                slot,
                sessions: anchors.clone(),
                ownerSigs: sigs.clone(),
            }
            .abi_encode();
            match self
                .view
                .rpc
                .estimate_gas(self.shared.node, self.view.anchors, &data)
                .await
            {
                Ok(g) if g <= bound => {
                    return Ok(Some(NewTx {
                        key: String::new(),
                        to: self.view.anchors.into(),
                        data,
                        value: "0".into(),
                        gas_limit: (g + g / 5 + 20_000).min(bound.max(g)),
                        slot: Some(slot),
                    }));
                }
                Ok(_) => {
                    let keep = anchors.len() / 2;
                    anchors.truncate(keep);
                    sigs.truncate(keep);
                }
                Err(e) => {
                    // A session the contract refuses (bad signature, conflicting digest): leave it
                    // out and try again; anything else ends this attempt.
                    let bad = e.revert_data().and_then(|d| {
                        match ILucidAnchors::ILucidAnchorsErrors::abi_decode(d).ok()? {
                            ILucidAnchors::ILucidAnchorsErrors::InvalidOwnerSignature(x) => {
                                Some(x.sessionId)
                            }
                            ILucidAnchors::ILucidAnchorsErrors::SessionAlreadyAnchored(x) => {
                                Some(x.sessionId)
                            }
                            ILucidAnchors::ILucidAnchorsErrors::ZeroMerkleRoot(x) => {
                                Some(x.sessionId)
                            }
                            ILucidAnchors::ILucidAnchorsErrors::ZeroOwner(x) => Some(x.sessionId),
                            ILucidAnchors::ILucidAnchorsErrors::ZeroChunkCount(x) => {
                                Some(x.sessionId)
                            }
                            _ => None,
                        }
                    });
                    match bad.and_then(|id| anchors.iter().position(|a| a.sessionId == id)) {
                        Some(i) => {
                            tracing::warn!(session = %anchors[i].sessionId, error = %lucid_chain::decode_revert(e.revert_data().map(|d| d.as_ref()).unwrap_or(&[])), "left out of the batch");
                            anchors.remove(i);
                            sigs.remove(i);
                        }
                        None => {
                            let why = e
                                .revert_data()
                                .map(|d| lucid_chain::decode_revert(d))
                                .unwrap_or_else(|| e.to_string());
                            tracing::warn!(slot, error = %why, "batch estimate failed");
                            return Ok(None);
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    /// Queued chunk registrations whose session is anchored become `registerChunk` transactions.
    async fn registrations(&self, _head: &BlockHead) -> anyhow::Result<()> {
        let Some(chunk_store) = self.chunk_store else {
            return Ok(());
        };
        for (sid, idx) in self.shared.registrations.waiting().await? {
            let Some(s) = self.shared.store.session(&sid).await? else {
                continue;
            };
            let a = anchor_of(&s)?;
            if self.view.anchor_digest(a.sessionId).await? != digest_of(&a) {
                continue; // not anchored yet (or anchored with other content: never)
            }
            let chunks = self.shared.store.chunks_of_session(&sid).await?;
            let list: Vec<lucid_core::session::Chunk> = chunks
                .iter()
                .map(|c| lucid_core::session::Chunk {
                    index: c.idx,
                    chunk_hash: c.chunk_hash,
                    size: c.size,
                })
                .collect();
            let Some(me) = list.iter().find(|c| c.index == idx).copied() else {
                continue;
            };
            let Ok(tree) = MerkleTree::from_chunks(&a.sessionId, &list) else {
                continue;
            };
            if tree.root() != a.merkleRoot {
                continue;
            }
            let proof = tree.proof(idx as usize).unwrap_or_default();
            let data = ILucidChunkStore::registerChunkCall {
                s: a.clone(),
                index: idx,
                chunkHash: me.chunk_hash,
                size: me.size,
                proof,
            }
            .abi_encode();
            let gas = self
                .view
                .rpc
                .estimate_gas(self.shared.node, chunk_store, &data)
                .await
                .map(|g| g + g / 5 + 10_000)
                .unwrap_or(400_000);
            self.txm
                .enqueue(&NewTx {
                    key: format!("register:{sid}:{idx}"),
                    to: chunk_store.into(),
                    data,
                    value: "0".into(),
                    gas_limit: gas,
                    slot: None,
                })
                .await?;
            self.shared.registrations.done(&sid, idx).await?;
        }
        Ok(())
    }

    /// The outbox entry of a slot's anchoring, if any (tests, API).
    pub async fn anchor_state(&self, slot: u64) -> anyhow::Result<Option<TxState>> {
        let key = format!("anchor:{}:{slot}", self.txm.chain_id());
        Ok(self.txm.outbox().by_key(&key).await?.map(|e| e.state))
    }
}

fn row_of(r: &lucid_core::poot::NodeScore) -> TallyRow {
    TallyRow {
        epoch: r.epoch,
        entity_id: r.node,
        credits: r.credits,
        live_score: r.live_score,
        rank: r.rank,
        eligible: r.eligible,
    }
}

/// Entry point of `lucid-keeper run` (builds the runtime).
pub fn run_blocking(params: Params, genesis_explicit: bool, args: RunArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    rt.block_on(run(params, genesis_explicit, args))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// `lucid-keeper run`.
pub async fn run(params: Params, genesis_explicit: bool, args: RunArgs) -> anyhow::Result<()> {
    if !(1..=400).contains(&args.max_batch) {
        bail!("LUCID_MAX_BATCH must be 1-400, got {}", args.max_batch);
    }
    let hex_key = std::env::var("LUCID_NODE_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    let password = std::env::var("LUCID_NODE_KEY_PASSWORD").ok();
    let signer = crate::keys::load(
        args.keystore.as_deref(),
        hex_key.as_deref(),
        password.as_deref(),
    )?;
    let node = signer.address();
    let rpc = Rpc::connect(&args.rpc)?;
    let chain_id = rpc
        .chain_id()
        .await
        .context("on-system chain unreachable")?;
    let view = ChainView {
        rpc: rpc.clone(),
        anchors: args.anchors,
        start_block: args.start_block,
    };
    let genesis = view
        .genesis_time()
        .await
        .context("reading GENESIS_TIME from LucidAnchors (is LUCID_ANCHORS_ADDRESS right?)")?;
    if genesis_explicit && genesis != params.genesis_time() {
        bail!(
            "GENESIS_TIME {} disagrees with LucidAnchors.GENESIS_TIME {genesis}",
            params.genesis_time()
        );
    }
    let mut values = params.values();
    values.genesis_time = genesis;
    let params = values
        .build()
        .context("parameters with the contract's GENESIS_TIME")?;
    let cfg = TxmConfig {
        confirmations: args.confirmations.max(1),
        max_fee_cap: u128::from(args.max_fee_gwei) * 1_000_000_000,
        ..TxmConfig::default()
    };
    let guard = SlotGuard {
        anchors: Some(args.anchors),
        genesis_time: genesis,
        slot_duration: params.slot_duration_sec(),
    };
    // The lock first: a second process with this key stops here.
    let txm = Txm::open(&args.state_dir, rpc.clone(), signer, cfg, Some(guard)).await?;
    let dir = crate::txm::state_dir(&args.state_dir, node);
    let registrations = Registrations::open(&dir.join("registrations.sqlite")).await?;
    let store = lucid_store::open(Some(&args.store))
        .await
        .context("opening LUCID_STORE")?;
    let api_token = std::env::var("LUCID_API_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let shared = Arc::new(Shared {
        store,
        params,
        chain_id,
        anchors: args.anchors,
        node,
        codec: ProofCodec::new(chain_id),
        api_token,
        clock: Clock::default(),
        metrics: Metrics::default(),
        registrations,
    });
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(node = %node, chain_id, listen = %listener.local_addr()?, genesis, "lucid-keeper running");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let app = crate::api::router(shared.clone());
    let mut http_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_stop.changed().await;
            })
            .await
    });
    let payouts = crate::payouts::spawn_unattended(
        params,
        &args.payouts,
        &args.store,
        &view,
        stop_rx.clone(),
    )
    .await?;
    let mut daemon = Daemon {
        shared: shared.clone(),
        view,
        txm,
        chunk_store: args.chunk_store,
        max_batch: args.max_batch,
        epochs: BTreeMap::new(),
        decoder: EventDecoder::new(
            chain_id,
            std::iter::once((args.anchors, ContractKind::LucidAnchors))
                .chain(args.chunk_store.map(|c| (c, ContractKind::LucidChunkStore))),
        ),
        anchored_on_chain: HashSet::new(),
    };
    shared.clock.set_started();
    let tick = Duration::from_millis(args.tick_ms.max(50));
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        if let Err(e) = daemon.step().await {
            shared.metrics.loop_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(error = %format!("{e:#}"), "loop step failed; retrying");
        }
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(tick) => {}
        }
    }
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = server.await;
    if let Some(p) = payouts {
        let _ = p.await;
    }
    Ok(())
}
