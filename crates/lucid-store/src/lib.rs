//! The Store: one interface over SQLite (embedded default) and MongoDB.
//!
//! The keeper and the indexer read and write only through [`Store`]. [`open`] picks the backend
//! from the `LUCID_STORE` URL (SPEC §1): `sqlite://PATH` (default `sqlite://lucid.db`) or
//! `mongodb://…`. Both backends keep the SPEC §5 logical schema (same field names).
//!
//! **Derived state is keyed by the event it came from.** Writers of chain data pass only decoded
//! events ([`BlockRange`], [`Store::put_events`]); the store derives every fact itself, as one row
//! per event in its own collections ([`models::collections::derived`]), `_id` = the event id
//! `chainId:txHash:logIndex`, with the event's chain and block:
//! - `SessionRegistered` → a session's anchoring (`session_anchorings`);
//! - `ChunkStored` → a chunk's storer (`chunk_storers`);
//! - `SlotAnchored` → a slot's claim (`slot_claims`; the first one of a slot owns it);
//! - `Paid` / `PaidKYC` → a payout's payment (`payout_payments`).
//!
//! Readers get the §5 shape: `sessions` documents carry `status` and the anchoring fields of the
//! session's first anchoring (recomputed from the anchoring rows in the same transaction as any
//! change to them), `chunks` their `storers[]`, `leader_schedule` its `result` and `payouts` their
//! `paid` status and `txid` (assembled when read). A rollback deletes the events and derived rows
//! of blocks `>= N` of one chain and recomputes what depended on them, so it restores exactly the
//! state before the range.
//!
//! Writers own their fields: submissions, plans, epochs and payout addresses are
//! insert-if-absent (an identical resubmission is a duplicate, a different one a typed
//! [`StoreError::Conflict`]); nothing derived from the chain is ever overwritten by them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use lucid_core::models::session_uuid_from_bytes32;
pub use lucid_core::models::{
    self, ChainEvent, Checkpoint, Chunk, ChunkEntry, CompactSig, Epoch, LeaderSlot, Payout,
    PayoutAddress, PayoutRouter, PayoutStatus, Period, PlanReason, ProofKind, ResultReason,
    Session, SessionStatus, SessionSubmission, Sig65, SlotClaim, SlotResult, TallyRow, TaskProof,
    WorkTally, collections, hex_of, slot_result,
};
pub use lucid_core::params::Params;

pub mod mongo;
pub mod sqlite;

/// Default `LUCID_STORE` (SPEC §1).
pub const DEFAULT_STORE_URL: &str = "sqlite://lucid.db";

/// Largest page any paged read returns (a larger `limit` is capped).
pub const MAX_PAGE: u32 = 10_000;

/// Errors of the store. Never a panic: bad input and bad stored data come back as values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique index other than `_id` rejected a document.
    #[error("duplicate key in {collection}: {key}")]
    Duplicate { collection: String, key: String },
    /// Insert-if-absent found a different document with the same identity (e.g. a session
    /// resubmitted with another digest), or a state change is not allowed (e.g. re-planning a
    /// period something of which is paid). Nothing was written.
    #[error("conflict in {collection} (_id {id}): {reason}")]
    Conflict {
        collection: String,
        id: String,
        reason: String,
    },
    /// The document to change does not exist.
    #[error("not found in {collection}: _id {id}")]
    NotFound { collection: String, id: String },
    /// A stored document cannot be read back as its model (e.g. hand-edited).
    #[error("malformed document in {collection} (_id {id}): {reason}")]
    Malformed {
        collection: String,
        id: String,
        reason: String,
    },
    /// An integer does not fit the stored signed 64-bit representation.
    #[error("{collection} (_id {id}): field {field} is out of range (max {max})", max = i64::MAX)]
    OutOfRange {
        collection: String,
        id: String,
        field: String,
    },
    /// The caller passed something the store cannot accept (bad cursor, bad checkpoint, an
    /// event whose arguments do not decode, …).
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// `LUCID_STORE` names a scheme this build does not know.
    #[error(
        "unsupported store URL {url:?}: expected sqlite://PATH (default {DEFAULT_STORE_URL}) or mongodb://…"
    )]
    UnsupportedUrl { url: String },
    /// A test-only injected fault (see [`Fault`]).
    #[error("injected fault: {0:?}")]
    Injected(Fault),
    #[error("sqlite: {0}")]
    Sqlite(#[from] sqlx::Error),
    #[error("sqlite migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("mongodb: {0}")]
    Mongo(#[from] mongodb::error::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which backend a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Mongo,
}

/// Fault injection for tests of crash safety.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// [`Store::write_block_range`] stops after the range's data and before its checkpoint, as a
    /// crash would.
    BeforeCheckpoint,
    /// [`Store::rollback`] stops after deleting the derived rows and before deleting the events
    /// and setting the checkpoint, as a crash would.
    MidRollback,
}

/// One block range of one chain: its decoded events and its checkpoint, written atomically with
/// everything derived from the events (SQLite, MongoDB with transactions) or data first and
/// checkpoint last (MongoDB without transactions; a replay is harmless because every write is
/// idempotent on the event id).
#[derive(Debug, Clone, PartialEq)]
pub struct BlockRange {
    /// The range's last block; `checkpoint.chain_id` is the chain.
    pub checkpoint: Checkpoint,
    /// Every event of the range, of that chain.
    pub events: Vec<ChainEvent>,
    /// Gas per session of the range's anchoring transactions, by transaction hash: the
    /// transaction receipt's `gasUsed` divided (integer division) by the number of
    /// `SessionRegistered` events it emitted. Stored with each anchoring (`gas_used` of the
    /// §5 session, rolled back with it); a transaction missing here leaves `gas_used` null.
    pub session_gas: BTreeMap<B256, u64>,
}

impl BlockRange {
    pub fn new(checkpoint: Checkpoint, events: Vec<ChainEvent>) -> Self {
        BlockRange {
            checkpoint,
            events,
            session_gas: BTreeMap::new(),
        }
    }

    /// The range with the gas per session of its anchoring transactions (see
    /// [`BlockRange::session_gas`]).
    pub fn with_session_gas(mut self, session_gas: BTreeMap<B256, u64>) -> Self {
        self.session_gas = session_gas;
        self
    }
}

/// Gas per session of an anchoring transaction: its receipt's `gasUsed` divided by the number of
/// sessions it registered (integer division; `None` when it registered none).
pub fn gas_per_session(gas_used: u64, sessions: u64) -> Option<u64> {
    gas_used.checked_div(sessions)
}

/// What an insert-if-absent batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InsertOutcome {
    /// Newly stored.
    pub inserted: u64,
    /// Already present (same `_id`): left unchanged (e.g. a proof's first `ts` kept).
    pub duplicates: u64,
}

/// Former name of [`InsertOutcome`].
pub type ProofBatchOutcome = InsertOutcome;

/// What a single insert-if-absent did (a different document is [`StoreError::Conflict`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// Stored now.
    Inserted,
    /// The identical content was already stored; nothing changed (the first signature kept).
    Duplicate,
}

/// What [`Store::put_plans`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanOutcome {
    pub inserted: u64,
    /// Already stored and equal.
    pub identical: u64,
    /// Already stored with another plan (the stored one is kept): slots.
    pub differing: Vec<u64>,
}

/// What [`Store::insert_epoch`] returns: the stored document, whoever wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochInsert {
    pub epoch: Epoch,
    /// Whether this call inserted it (false: another writer was first).
    pub inserted: bool,
}

/// What a rollback removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RollbackReport {
    pub events_deleted: u64,
    /// Derived rows (anchorings, storers, slot claims, payments) deleted.
    pub derived_deleted: u64,
    /// Sessions whose document changed (back to pending, or removed when known only from the
    /// chain).
    pub sessions_changed: u64,
}

/// A page of a cursor-paginated query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back to get the next page; `None` at the end. Opaque; stable while rows are inserted
    /// (keyset pagination).
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from a query that fetched up to `limit + 1` rows in keyset order: the
    /// extra row only says that another page exists; the cursor points after the last row kept.
    pub(crate) fn from_overfetch(
        mut items: Vec<T>,
        limit: u32,
        key: impl Fn(&T) -> String,
    ) -> Self {
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(key)
        } else {
            None
        };
        Page { items, next_cursor }
    }
}

/// Query of `sessions`, newest first (`started_at` desc, then `_id` desc).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionQuery {
    pub owner: Option<Address>,
    pub status: Option<SessionStatus>,
}

/// Query of `events`: optional chain and name, inclusive block range; ordered by chain, block,
/// log index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// `None`: every chain.
    pub chain_id: Option<u64>,
    /// `None`: every event name.
    pub event: Option<String>,
    pub from_block: u64,
    pub to_block: u64,
}

/// Query of `task_proofs`: `from_slot <= slot < to_slot`, and `ts <= max_ts` when given (the
/// frozen tally: proofs stored by `frozen_at`); ordered by slot, nodeId, id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofQuery {
    pub from_slot: u64,
    pub to_slot: u64,
    pub max_ts: Option<u64>,
}

/// The store interface.
#[async_trait]
pub trait Store: Send + Sync + Debug {
    fn backend(&self) -> Backend;

    // ---------------------------------------------------------------- chain data

    /// A block range's events, everything derived from them, and its checkpoint (see
    /// [`BlockRange`]). Replaying a range changes nothing.
    async fn write_block_range(&self, range: &BlockRange) -> Result<()>;
    /// Events and what derives from them, without a checkpoint (e.g. a keeper recording its own
    /// confirmed transactions when no indexer runs). `session_gas`: gas per session of the
    /// anchoring transactions among them, by transaction hash, as [`BlockRange::session_gas`]
    /// (empty when unknown: a later write that knows it fills it in). Idempotent; a rollback
    /// removes them like any other event of their blocks.
    async fn put_events(
        &self,
        events: &[ChainEvent],
        session_gas: &BTreeMap<B256, u64>,
    ) -> Result<()>;
    /// Reorg: deletes the events and derived rows of blocks `>= from_block` of `chain_id`,
    /// recomputes what depended on them (sessions back to `pending`, …) and sets the checkpoint
    /// to `checkpoint` (must be below `from_block`, same chain) or deletes it (`None`); one
    /// transaction where the backend has them.
    async fn rollback(
        &self,
        chain_id: u64,
        from_block: u64,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<RollbackReport>;
    /// Sets a chain's checkpoint (e.g. the start block) outside a range write.
    async fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()>;
    async fn checkpoint(&self, chain_id: u64) -> Result<Option<Checkpoint>>;
    /// Events, keyset-paginated in (chain, block, log index) order.
    async fn events(
        &self,
        q: &EventQuery,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<ChainEvent>>;

    /// Number of stored events of a chain (`None`: all chains).
    async fn count_events(&self, chain_id: Option<u64>) -> Result<u64>;

    // ---------------------------------------------------------------- sessions

    /// Keeper `POST /v1/sessions`: insert-if-absent. The same digest again is
    /// [`SubmitOutcome::Duplicate`] (the first `owner_sig` and `received_at` are kept); another
    /// digest for a known id is [`StoreError::Conflict`] and writes nothing. A session known
    /// only from the chain with the same digest takes the submission's signature and time. The
    /// chunk list, when given, is stored insert-if-absent (storers are never touched).
    async fn submit_session(&self, s: &SessionSubmission) -> Result<SubmitOutcome>;
    /// The §5 session (submitted, or known only from its `SessionRegistered`).
    async fn session(&self, id: &str) -> Result<Option<Session>>;
    /// Sessions newest first (`started_at` desc, `_id` desc), keyset-paginated.
    async fn sessions(
        &self,
        q: &SessionQuery,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Session>>;
    /// [`Store::sessions`] of one owner (the v1 name).
    async fn sessions_by_owner(
        &self,
        owner: &Address,
        status: Option<SessionStatus>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Session>> {
        let q = SessionQuery {
            owner: Some(*owner),
            status,
        };
        self.sessions(&q, cursor, limit).await
    }
    /// The keeper's batch: `pending` sessions, oldest `received_at` first, then by id.
    async fn pending_sessions(&self, limit: u32) -> Result<Vec<Session>>;
    /// Chunks of a session by index, with their storers: the submitted chunk list plus chunks
    /// known only from `ChunkStored`.
    async fn chunks_of_session(&self, session_id: &str) -> Result<Vec<Chunk>>;

    // ---------------------------------------------------------------- task proofs

    /// Insert-if-absent: an exact duplicate (same id) is accepted once and left as stored (its
    /// first `ts` kept).
    async fn put_proofs(&self, proofs: &[TaskProof]) -> Result<InsertOutcome>;
    /// [`Store::put_proofs`] that also says which items were already stored: the indexes into
    /// `proofs` of the duplicates, ascending (one batched call: the keeper's per-item answers).
    /// `proofs` must not repeat an id.
    async fn put_proofs_reporting(&self, proofs: &[TaskProof]) -> Result<Vec<usize>>;
    async fn proof(&self, id: &B256) -> Result<Option<TaskProof>>;
    /// One page of proofs in (slot, nodeId, id) order. Pages are stable while proofs are
    /// inserted: nothing already due is skipped or repeated.
    async fn proofs_page(
        &self,
        q: &ProofQuery,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<TaskProof>>;
    /// All proofs of `q` as a stream of pages of `page_size`: memory stays one page.
    fn proofs_stream(&self, q: ProofQuery, page_size: u32) -> BoxStream<'_, Result<TaskProof>> {
        use futures::StreamExt;
        struct St {
            cursor: Option<String>,
            done: bool,
        }
        let st = St {
            cursor: None,
            done: false,
        };
        futures::stream::unfold(st, move |mut st| async move {
            if st.done {
                return None;
            }
            match self.proofs_page(&q, st.cursor.as_deref(), page_size).await {
                Ok(p) => {
                    st.done = p.next_cursor.is_none();
                    st.cursor = p.next_cursor;
                    Some((
                        futures::stream::iter(p.items.into_iter().map(Ok)).left_stream(),
                        st,
                    ))
                }
                Err(e) => {
                    st.done = true;
                    Some((futures::stream::iter(vec![Err(e)]).right_stream(), st))
                }
            }
        })
        .flatten()
        .boxed()
    }

    // ---------------------------------------------------------------- epochs, schedule

    /// SPEC §6 frozen tally: insert-if-absent on `_id` = epoch; returns the stored document
    /// (this one or the first writer's) and writes its `work_tally` rows (idempotent).
    async fn insert_epoch(&self, e: &Epoch) -> Result<EpochInsert>;
    async fn epoch(&self, epoch: u64) -> Result<Option<Epoch>>;
    /// Tally of an epoch: ranked rows by rank, then unranked rows by entityId.
    async fn tally_by_rank(&self, epoch: u64) -> Result<Vec<WorkTally>>;
    /// Plans, insert-if-absent (a stored plan never changes; `result` of the input is ignored).
    async fn put_plans(&self, plans: &[LeaderSlot]) -> Result<PlanOutcome>;
    /// Stored plans with `from_slot <= slot < to_slot`, by slot (`result` null).
    async fn plans(&self, from_slot: u64, to_slot: u64) -> Result<Vec<LeaderSlot>>;
    /// The first `SlotAnchored` of each slot in `[from_slot, to_slot)` that has one, by slot.
    async fn slot_claims(&self, from_slot: u64, to_slot: u64) -> Result<Vec<SlotClaim>>;
    /// Plans with their SPEC §4 result: from the slot's first `SlotAnchored`, or, without one,
    /// `missed` / `no_eligible_leader` once `now` (chain time of the latest block, when the
    /// caller knows it) is at or after `start(s + 2)`; null while unknown.
    async fn schedule(
        &self,
        from_slot: u64,
        to_slot: u64,
        params: &Params,
        now: Option<u64>,
    ) -> Result<Vec<LeaderSlot>> {
        let plans = self.plans(from_slot, to_slot).await?;
        let claims: BTreeMap<u64, SlotClaim> = self
            .slot_claims(from_slot, to_slot)
            .await?
            .into_iter()
            .map(|c| (c.slot, c))
            .collect();
        Ok(plans
            .into_iter()
            .map(|mut p| {
                p.result = slot_result(params, &p, claims.get(&p.slot), now);
                p
            })
            .collect())
    }

    // ---------------------------------------------------------------- payouts

    /// Stores a period's plan: the `periods` document and its payouts (status `planned` or
    /// `rolled_over`), replacing an earlier plan of the period only while none of its payouts is
    /// `submitted` or paid ([`StoreError::Conflict`] otherwise).
    async fn put_period_plan(&self, period: &Period, payouts: &[Payout]) -> Result<()>;
    async fn period(&self, period: u32) -> Result<Option<Period>>;
    async fn payout(&self, id: &B256) -> Result<Option<Payout>>;
    /// Payouts of a period, by id.
    async fn payouts_of_period(&self, period: u32) -> Result<Vec<Payout>>;
    /// Payouts to an EVM address, optionally of one period, by period then id.
    async fn payouts_by_recipient(
        &self,
        to_evm: &Address,
        period: Option<u32>,
    ) -> Result<Vec<Payout>>;
    /// The payout executor sent a transaction: `planned` → `submitted` with `txid` (or a
    /// `submitted` payout gets the txid of a rebuilt transaction). A paid or rolled-over payout
    /// is [`StoreError::Conflict`]. Returns the payout as now stored.
    async fn mark_payout_submitted(&self, id: &B256, txid: &B256) -> Result<Payout>;
    /// For every node with a payout in a period before `before_period`: the `carry_out` of its
    /// most recent such period (SPEC §4 `carry(e)`).
    async fn latest_carries(&self, before_period: u32) -> Result<BTreeMap<Address, U256>>;
    /// A signed `PayoutAddress` (SPEC §4), insert-if-absent on `nodeId:validFrom`. A recipient
    /// already named by another node, or a different document under the same `_id`, is
    /// [`StoreError::Conflict`].
    async fn put_payout_address(&self, a: &PayoutAddress) -> Result<SubmitOutcome>;
    /// A node's payout addresses by `valid_from`.
    async fn payout_addresses_of_node(&self, node: &Address) -> Result<Vec<PayoutAddress>>;
    /// Payout addresses naming `recipient`, by node then `valid_from`.
    async fn payout_addresses_by_recipient(
        &self,
        recipient: &Address,
    ) -> Result<Vec<PayoutAddress>>;

    /// A number that changes whenever anything was committed to the store — by this process or
    /// any other — between two calls, and stays the same when nothing was (a spurious change is
    /// allowed, a missed one is not). Read caches drop what they hold when it changes (the
    /// indexer's API, docs/decisions/indexer.md). `None`: the backend cannot tell (MongoDB,
    /// SQLite in memory), so nothing may be cached.
    async fn data_version(&self) -> Result<Option<u64>>;

    /// Test hook: makes the next write (see [`Fault`]) fail as described.
    #[doc(hidden)]
    fn inject_fault(&self, fault: Option<Fault>);
}

/// Opens the store named by a `LUCID_STORE` URL (`None` or empty: [`DEFAULT_STORE_URL`]).
pub async fn open(url: Option<&str>) -> Result<Arc<dyn Store>> {
    let url = match url {
        Some(u) if !u.trim().is_empty() => u.trim(),
        _ => DEFAULT_STORE_URL,
    };
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("mongodb://") || url.starts_with("mongodb+srv://") {
        Ok(Arc::new(
            mongo::MongoStore::open(url, mongo::MongoOptions::from_url(url)).await?,
        ))
    } else {
        Err(StoreError::UnsupportedUrl {
            url: url.to_owned(),
        })
    }
}

/// Opens the store named by the `LUCID_STORE` environment variable (default
/// [`DEFAULT_STORE_URL`]).
pub async fn open_from_env() -> Result<Arc<dyn Store>> {
    let url = std::env::var("LUCID_STORE").ok();
    open(url.as_deref()).await
}

// ====================================================================== shared by the backends

/// Derived rows: one per event, `_id` = event id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AnchoringRow {
    #[serde(rename = "_id")]
    pub id: String,
    pub chain_id: u64,
    pub block_number: u64,
    pub log_index: u64,
    pub block_hash: B256,
    pub tx_hash: B256,
    pub session_id: String,
    pub owner_addr: Address,
    pub slot: u64,
    pub manifest_hash: B256,
    pub merkle_root: B256,
    pub started_at: u64,
    pub chunk_count: u32,
    /// Gas per session of the anchoring transaction (see [`BlockRange::session_gas`]); null when
    /// the writer did not know it (e.g. [`Store::put_events`] with no gas). Filled in by a later
    /// write of the same event that knows it, never overwritten.
    #[serde(default)]
    pub gas_used: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StorerRow {
    #[serde(rename = "_id")]
    pub id: String,
    pub chain_id: u64,
    pub block_number: u64,
    pub log_index: u64,
    pub session_id: String,
    pub idx: u32,
    pub storer: Address,
    pub chunk_hash: B256,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ClaimRow {
    #[serde(rename = "_id")]
    pub id: String,
    pub chain_id: u64,
    pub block_number: u64,
    pub log_index: u64,
    pub slot: u64,
    pub submitter: Address,
    pub tx_hash: B256,
    pub block_time: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PaymentRow {
    #[serde(rename = "_id")]
    pub id: String,
    pub chain_id: u64,
    pub block_number: u64,
    pub log_index: u64,
    pub payout_id: B256,
    pub to: Address,
    #[serde(with = "models::u256_dec")]
    pub amount: U256,
    pub period: u32,
    pub kyc_hash: Option<B256>,
    pub tx_hash: B256,
    pub block_time: u64,
}

impl ClaimRow {
    pub(crate) fn claim(&self) -> SlotClaim {
        SlotClaim {
            slot: self.slot,
            submitter: self.submitter,
            txid: self.tx_hash,
            block_number: self.block_number,
            block_time: self.block_time,
            event_id: self.id.clone(),
        }
    }
}

/// Everything derived from a set of events.
#[derive(Debug, Default)]
pub(crate) struct DerivedRows {
    pub anchorings: Vec<AnchoringRow>,
    pub storers: Vec<StorerRow>,
    pub claims: Vec<ClaimRow>,
    pub payments: Vec<PaymentRow>,
}

impl DerivedRows {
    /// Sessions whose anchoring may have changed.
    pub(crate) fn session_ids(&self) -> BTreeSet<String> {
        self.anchorings
            .iter()
            .map(|a| a.session_id.clone())
            .collect()
    }
}

fn bad_event(e: &ChainEvent, what: &str) -> StoreError {
    StoreError::Invalid(format!("event {} ({}): {what}", e.id, e.event))
}

fn arg<'a>(e: &'a ChainEvent, key: &str) -> Result<&'a Value> {
    e.args
        .get(key)
        .ok_or_else(|| bad_event(e, &format!("missing argument {key}")))
}

fn arg_str<'a>(e: &'a ChainEvent, key: &str) -> Result<&'a str> {
    arg(e, key)?
        .as_str()
        .ok_or_else(|| bad_event(e, &format!("argument {key} is not a string")))
}

fn arg_b256(e: &ChainEvent, key: &str) -> Result<B256> {
    arg_str(e, key)?
        .parse()
        .map_err(|_| bad_event(e, &format!("argument {key} is not bytes32 hex")))
}

fn arg_addr(e: &ChainEvent, key: &str) -> Result<Address> {
    arg_str(e, key)?
        .parse()
        .map_err(|_| bad_event(e, &format!("argument {key} is not an address")))
}

fn arg_u64(e: &ChainEvent, key: &str) -> Result<u64> {
    let v = arg(e, key)?;
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| bad_event(e, &format!("argument {key} is not an unsigned integer")))
}

fn arg_u32(e: &ChainEvent, key: &str) -> Result<u32> {
    u32::try_from(arg_u64(e, key)?)
        .map_err(|_| bad_event(e, &format!("argument {key} exceeds uint32")))
}

fn arg_u256(e: &ChainEvent, key: &str) -> Result<U256> {
    let v = arg(e, key)?;
    match v {
        Value::Number(n) => n.as_u64().map(U256::from),
        Value::String(s) => models::u256_dec::parse(s),
        _ => None,
    }
    .ok_or_else(|| bad_event(e, &format!("argument {key} is not a decimal uint256")))
}

/// A `bytes32 sessionId` as the session's `_id`: the UUID text (SPEC §2), or the lower-case hex
/// itself when it is not a UUID's bytes32 form (the contract accepts any non-zero id).
pub(crate) fn session_key(id: &B256) -> String {
    let h = hex_of(id);
    session_uuid_from_bytes32(&h).unwrap_or(h)
}

/// Derives the rows of the events (see the crate docs); anchorings take their transaction's gas
/// per session from `session_gas`. An event the store derives from whose arguments do not decode
/// is [`StoreError::Invalid`]; other events are only stored.
pub(crate) fn derive_rows(
    events: &[ChainEvent],
    session_gas: &BTreeMap<B256, u64>,
) -> Result<DerivedRows> {
    let mut d = DerivedRows::default();
    for e in events {
        if e.id != ChainEvent::make_id(e.chain_id, &e.tx_hash, e.log_index) {
            return Err(bad_event(
                e,
                "_id is not chainId:txHash:logIndex of the event",
            ));
        }
        match e.event.as_str() {
            "SessionRegistered" => d.anchorings.push(AnchoringRow {
                id: e.id.clone(),
                chain_id: e.chain_id,
                block_number: e.block_number,
                log_index: e.log_index,
                block_hash: e.block_hash,
                tx_hash: e.tx_hash,
                session_id: session_key(&arg_b256(e, "sessionId")?),
                owner_addr: arg_addr(e, "owner")?,
                slot: arg_u64(e, "slot")?,
                manifest_hash: arg_b256(e, "manifestHash")?,
                merkle_root: arg_b256(e, "merkleRoot")?,
                started_at: arg_u64(e, "startedAt")?,
                chunk_count: arg_u32(e, "chunkCount")?,
                gas_used: session_gas.get(&e.tx_hash).copied(),
            }),
            "ChunkStored" => d.storers.push(StorerRow {
                id: e.id.clone(),
                chain_id: e.chain_id,
                block_number: e.block_number,
                log_index: e.log_index,
                session_id: session_key(&arg_b256(e, "sessionId")?),
                idx: arg_u32(e, "index")?,
                storer: arg_addr(e, "storer")?,
                chunk_hash: arg_b256(e, "chunkHash")?,
                size: arg_u64(e, "size")?,
            }),
            "SlotAnchored" => d.claims.push(ClaimRow {
                id: e.id.clone(),
                chain_id: e.chain_id,
                block_number: e.block_number,
                log_index: e.log_index,
                slot: arg_u64(e, "slot")?,
                submitter: arg_addr(e, "submitter")?,
                tx_hash: e.tx_hash,
                block_time: e.block_time,
            }),
            "Paid" | "PaidKYC" => d.payments.push(PaymentRow {
                id: e.id.clone(),
                chain_id: e.chain_id,
                block_number: e.block_number,
                log_index: e.log_index,
                payout_id: arg_b256(e, "payoutId")?,
                to: arg_addr(e, "to")?,
                amount: arg_u256(e, "amount")?,
                period: arg_u32(e, "period")?,
                kyc_hash: if e.event == "PaidKYC" {
                    Some(arg_b256(e, "kycHash")?)
                } else {
                    None
                },
                tx_hash: e.tx_hash,
                block_time: e.block_time,
            }),
            _ => {}
        }
    }
    Ok(d)
}

/// What to do with a session's document after its anchorings changed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SessionWrite {
    /// Replace (or insert) with this document.
    Put(Box<Session>),
    /// Remove it: known only from the chain, and no anchoring is left.
    Delete,
    /// Already right.
    Keep,
}

/// Chain order of derived rows.
pub(crate) fn chain_order(a: &AnchoringRow) -> (u64, u64, u64) {
    (a.chain_id, a.block_number, a.log_index)
}

/// The session document given its current one and its anchorings (any order): the first
/// anchoring in chain order decides. A submitted session (it has `owner_sig`) is `anchored`
/// when that anchoring has its digest, else `conflict`; without an anchoring it is `pending`. A
/// session known only from the chain is the anchoring's content, and goes away with it.
pub(crate) fn recompute_session(
    id: &str,
    current: Option<&Session>,
    anchorings: &[AnchoringRow],
) -> SessionWrite {
    let first = anchorings.iter().min_by_key(|a| chain_order(a));
    let submitted = current.filter(|c| c.owner_sig.is_some());
    let want = match (submitted, first) {
        (Some(cur), Some(a)) => {
            let mut s = cur.clone();
            let chain = anchored_session(id, a);
            s.status = if cur.same_digest(&chain) {
                SessionStatus::Anchored
            } else {
                SessionStatus::Conflict
            };
            s.slot = Some(a.slot);
            s.anchor_txid = Some(a.tx_hash);
            s.block_number = Some(a.block_number);
            s.block_hash = Some(a.block_hash);
            s.gas_used = a.gas_used;
            Some(s)
        }
        (Some(cur), None) => {
            let mut s = cur.clone();
            s.status = SessionStatus::Pending;
            s.slot = None;
            s.anchor_txid = None;
            s.block_number = None;
            s.block_hash = None;
            s.gas_used = None;
            Some(s)
        }
        (None, Some(a)) => Some(anchored_session(id, a)),
        (None, None) => None,
    };
    match (want, current) {
        (Some(w), Some(c)) if &w == c => SessionWrite::Keep,
        (Some(w), _) => SessionWrite::Put(Box::new(w)),
        (None, Some(_)) => SessionWrite::Delete,
        (None, None) => SessionWrite::Keep,
    }
}

/// A session as its anchoring says (known only from the chain).
fn anchored_session(id: &str, a: &AnchoringRow) -> Session {
    Session {
        id: id.to_owned(),
        owner_addr: a.owner_addr,
        started_at: a.started_at,
        manifest_hash: a.manifest_hash,
        merkle_root: a.merkle_root,
        chunk_count: a.chunk_count,
        owner_sig: None,
        status: SessionStatus::Anchored,
        received_at: None,
        slot: Some(a.slot),
        anchor_txid: Some(a.tx_hash),
        block_number: Some(a.block_number),
        block_hash: Some(a.block_hash),
        gas_used: a.gas_used,
    }
}

/// What a submission does to the stored session (`None`: no document yet).
pub(crate) enum SubmitPlan {
    /// Insert the submission's document.
    Insert,
    /// The session is known only from the chain with the same digest: take the signature and
    /// time.
    Adopt,
    Duplicate,
}

pub(crate) fn plan_submission(cur: Option<&Session>, s: &SessionSubmission) -> Result<SubmitPlan> {
    let Some(cur) = cur else {
        return Ok(SubmitPlan::Insert);
    };
    if !cur.same_digest(&s.to_session()) {
        return Err(StoreError::Conflict {
            collection: collections::SESSIONS.to_owned(),
            id: s.id.clone(),
            reason: if cur.owner_sig.is_some() {
                "another submission with a different digest is stored".to_owned()
            } else {
                "the session is anchored on chain with a different digest".to_owned()
            },
        });
    }
    Ok(if cur.owner_sig.is_some() {
        SubmitPlan::Duplicate
    } else {
        SubmitPlan::Adopt
    })
}

pub(crate) fn validate_submission(s: &SessionSubmission) -> Result<()> {
    if s.id.is_empty() || s.id.len() > 128 {
        return Err(StoreError::Invalid(format!("session id {:?}", s.id)));
    }
    let mut seen = BTreeSet::new();
    for c in &s.chunks {
        if c.idx >= s.chunk_count || !seen.insert(c.idx) {
            return Err(StoreError::Invalid(format!(
                "session {}: chunk index {} is out of range or repeated",
                s.id, c.idx
            )));
        }
    }
    Ok(())
}

/// A submitted chunk list entry as its `chunks` document (without storers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ChunkDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub session_id: String,
    pub idx: u32,
    pub chunk_hash: B256,
    pub size: u64,
}

impl ChunkDoc {
    pub(crate) fn of(session_id: &str, c: &ChunkEntry) -> Self {
        ChunkDoc {
            id: Chunk::make_id(session_id, c.idx),
            session_id: session_id.to_owned(),
            idx: c.idx,
            chunk_hash: c.chunk_hash,
            size: c.size,
        }
    }
}

/// The §5 chunks of a session from its submitted chunk list and its storer rows.
pub(crate) fn assemble_chunks(docs: Vec<ChunkDoc>, mut storers: Vec<StorerRow>) -> Vec<Chunk> {
    let mut by_idx: BTreeMap<u32, Chunk> = docs
        .into_iter()
        .map(|d| {
            (
                d.idx,
                Chunk {
                    id: d.id,
                    session_id: d.session_id,
                    idx: d.idx,
                    chunk_hash: d.chunk_hash,
                    size: d.size,
                    storers: Vec::new(),
                },
            )
        })
        .collect();
    storers.sort_by_key(|r| (r.chain_id, r.block_number, r.log_index));
    for r in storers {
        let c = by_idx.entry(r.idx).or_insert_with(|| Chunk {
            id: Chunk::make_id(&r.session_id, r.idx),
            session_id: r.session_id.clone(),
            idx: r.idx,
            chunk_hash: r.chunk_hash,
            size: r.size,
            storers: Vec::new(),
        });
        if !c.storers.contains(&r.storer) {
            c.storers.push(r.storer);
        }
    }
    by_idx.into_values().collect()
}

/// Payouts as readers see them: `paid` with the payment's transaction when a `Paid`/`PaidKYC`
/// for the payout id is stored (the first in chain order).
pub(crate) fn apply_payments(payouts: &mut [Payout], payments: &[PaymentRow]) {
    let mut first: BTreeMap<B256, &PaymentRow> = BTreeMap::new();
    for p in payments {
        let e = first.entry(p.payout_id).or_insert(p);
        if (p.chain_id, p.block_number, p.log_index) < (e.chain_id, e.block_number, e.log_index) {
            *e = p;
        }
    }
    for p in payouts {
        if let Some(pay) = first.get(&p.id) {
            p.status = PayoutStatus::Paid;
            p.txid = Some(pay.tx_hash);
        }
    }
}

pub(crate) fn validate_period_plan(period: &Period, payouts: &[Payout]) -> Result<()> {
    if period.id != period.period {
        return Err(StoreError::Invalid(format!(
            "period _id {} differs from period {}",
            period.id, period.period
        )));
    }
    let mut ids = BTreeSet::new();
    for p in payouts {
        if p.period != period.period {
            return Err(StoreError::Invalid(format!(
                "payout {} is of period {}, not {}",
                hex_of(&p.id),
                p.period,
                period.period
            )));
        }
        if !matches!(p.status, PayoutStatus::Planned | PayoutStatus::RolledOver) {
            return Err(StoreError::Invalid(format!(
                "payout {}: a plan holds planned or rolled_over payouts, not {}",
                hex_of(&p.id),
                p.status.as_str()
            )));
        }
        if !ids.insert(p.id) {
            return Err(StoreError::Invalid(format!(
                "payout {} appears twice",
                hex_of(&p.id)
            )));
        }
    }
    Ok(())
}

pub(crate) fn replan_conflict(period: u32, why: &str) -> StoreError {
    StoreError::Conflict {
        collection: collections::PERIODS.to_owned(),
        id: period.to_string(),
        reason: format!("the period cannot be planned again: {why}"),
    }
}

pub(crate) fn check_submittable(p: &Payout) -> Result<()> {
    match p.status {
        PayoutStatus::Planned | PayoutStatus::Submitted => Ok(()),
        s => Err(StoreError::Conflict {
            collection: collections::PAYOUTS.to_owned(),
            id: hex_of(&p.id),
            reason: format!("a {} payout cannot be submitted", s.as_str()),
        }),
    }
}

pub(crate) fn validate_epoch(e: &Epoch) -> Result<()> {
    if e.id != e.epoch || e.rows.iter().any(|r| r.epoch != e.epoch) {
        return Err(StoreError::Invalid(format!(
            "epoch document {}: _id, epoch and rows[].epoch must agree",
            e.id
        )));
    }
    Ok(())
}

pub(crate) fn validate_plans(plans: &[LeaderSlot]) -> Result<()> {
    for p in plans {
        if p.id != p.slot {
            return Err(StoreError::Invalid(format!(
                "plan _id {} differs from slot {}",
                p.id, p.slot
            )));
        }
    }
    Ok(())
}

pub(crate) fn address_conflict(a: &PayoutAddress, why: String) -> StoreError {
    StoreError::Conflict {
        collection: collections::PAYOUT_ADDRESSES.to_owned(),
        id: a.id.clone(),
        reason: why,
    }
}

pub(crate) fn validate_payout_address(a: &PayoutAddress) -> Result<()> {
    if a.id != PayoutAddress::make_id(&a.node_id, a.valid_from) {
        return Err(StoreError::Invalid(format!(
            "payout address _id {:?} is not nodeId:validFrom",
            a.id
        )));
    }
    Ok(())
}

// ---------- cursors

/// Keyset cursor of `sessions`: `started_at:_id`.
pub(crate) fn session_cursor(s: &Session) -> String {
    format!("{}:{}", s.started_at, s.id)
}

pub(crate) fn decode_session_cursor(c: &str) -> Result<(i64, String)> {
    let bad = || StoreError::Invalid(format!("bad cursor {c:?}"));
    let (t, id) = c.split_once(':').ok_or_else(bad)?;
    let t: i64 = t.parse().map_err(|_| bad())?;
    Ok((t, id.to_owned()))
}

/// Keyset cursor of `events`: `chain:block:log`.
pub(crate) fn event_cursor(e: &ChainEvent) -> String {
    format!("{}:{}:{}", e.chain_id, e.block_number, e.log_index)
}

pub(crate) fn decode_event_cursor(c: &str) -> Result<(i64, i64, i64)> {
    let bad = || StoreError::Invalid(format!("bad cursor {c:?}"));
    let mut it = c.split(':').map(|p| p.parse::<i64>().map_err(|_| bad()));
    let (Some(a), Some(b), Some(l), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(bad());
    };
    Ok((a?, b?, l?))
}

/// Keyset cursor of `task_proofs`: `slot:nodeId:id`.
pub(crate) fn proof_cursor(p: &TaskProof) -> String {
    format!("{}:{}:{}", p.slot, hex_of(&p.node_id), hex_of(&p.id))
}

pub(crate) fn decode_proof_cursor(c: &str) -> Result<(i64, String, String)> {
    let bad = || StoreError::Invalid(format!("bad cursor {c:?}"));
    let mut it = c.split(':');
    let (Some(s), Some(n), Some(i), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(bad());
    };
    let s: i64 = s.parse().map_err(|_| bad())?;
    let n: Address = n.parse().map_err(|_| bad())?;
    let i: B256 = i.parse().map_err(|_| bad())?;
    Ok((s, hex_of(&n), hex_of(&i)))
}

pub(crate) fn page_limit(limit: u32) -> u32 {
    limit.clamp(1, MAX_PAGE)
}

pub(crate) fn check_rollback_args(
    chain_id: u64,
    from_block: u64,
    checkpoint: Option<&Checkpoint>,
) -> Result<()> {
    if let Some(cp) = checkpoint
        && (cp.chain_id != chain_id || cp.block_number >= from_block)
    {
        return Err(StoreError::Invalid(format!(
            "rollback of chain {chain_id} from block {from_block}: checkpoint must be of the same chain and below it, got {cp:?}"
        )));
    }
    Ok(())
}

/// `v` as the stored signed 64-bit integer, or [`StoreError::OutOfRange`].
pub(crate) fn i64_of(collection: &str, id: &str, field: &str, v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| out_of_range(collection, id, field))
}

/// `v` as a stored signed 64-bit bound of a query, saturated: no stored value exceeds `i64::MAX`.
pub(crate) fn sat(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn out_of_range(collection: &str, id: &str, field: &str) -> StoreError {
    StoreError::OutOfRange {
        collection: collection.to_owned(),
        id: id.to_owned(),
        field: field.to_owned(),
    }
}
