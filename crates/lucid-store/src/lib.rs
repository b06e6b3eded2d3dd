//! The Store: one interface over SQLite (embedded default) and MongoDB.
//!
//! The keeper and the indexer read and write only through [`Store`]. [`open`] picks the backend
//! from the `LUCID_STORE` URL (SPEC §1): `sqlite://PATH` (default `sqlite://lucid.db`) or
//! `mongodb://…`. Both backends keep the SPEC §5 logical schema (same field names) and every write
//! is idempotent on `_id`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use lucid_core::models::session_uuid_from_bytes32;
pub use lucid_core::models::{
    ChainEvent, Checkpoint, Chunk, LeaderSlot, Payout, PayoutStatus, Session, SessionStatus,
    SlotResult, TaskProof, WorkTally, collections,
};

pub mod mongo;
pub mod sqlite;

/// Default `LUCID_STORE` (SPEC §1).
pub const DEFAULT_STORE_URL: &str = "sqlite://lucid.db";

/// Errors of the store. Never a panic: bad input and bad stored data come back as values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique index other than `_id` rejected a document (e.g. two `chunks` documents with the
    /// same `(session_id, idx)` but different `_id`s).
    #[error("duplicate key in {collection}: {key}")]
    Duplicate { collection: String, key: String },
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
    /// The caller passed something the store cannot accept (bad cursor, bad checkpoint, …).
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
}

/// `ChunkStored` seen on chain: adds `storer` to the chunk (creating the chunk if unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkStorer {
    pub session_id: String,
    pub idx: u32,
    pub chunk_hash: String,
    pub size: u64,
    pub storer: String,
}

/// A result of a slot learnt from a block range (`SlotAnchored`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotOutcome {
    pub slot: u64,
    pub result: SlotResult,
}

/// One block range of one chain and what the indexer derived from it, written atomically with
/// the checkpoint (SQLite, MongoDB with transactions) or data first and checkpoint last (MongoDB
/// without transactions; a replay is harmless because every write is idempotent).
#[derive(Debug, Clone, PartialEq)]
pub struct BlockRange {
    /// The range's last block; `checkpoint.chain_id` is the chain.
    pub checkpoint: Checkpoint,
    pub events: Vec<ChainEvent>,
    /// Sessions updated by the range (e.g. anchored). Their `anchor_txid` must be the tx of an
    /// event of the range so a rollback can find them.
    pub sessions: Vec<Session>,
    pub chunk_storers: Vec<ChunkStorer>,
    pub slot_results: Vec<SlotOutcome>,
    /// Payouts updated by the range (e.g. `paid`, with `txid`).
    pub payouts: Vec<Payout>,
}

impl BlockRange {
    /// A range with only events.
    pub fn events(checkpoint: Checkpoint, events: Vec<ChainEvent>) -> Self {
        BlockRange {
            checkpoint,
            events,
            sessions: Vec::new(),
            chunk_storers: Vec::new(),
            slot_results: Vec::new(),
            payouts: Vec::new(),
        }
    }
}

/// What a batch of proofs did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProofBatchOutcome {
    /// Newly stored.
    pub inserted: u64,
    /// Already present (same proof id): left unchanged, `ts` kept.
    pub duplicates: u64,
}

/// What a rollback removed or reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RollbackReport {
    pub events_deleted: u64,
    pub sessions_reset: u64,
    pub storers_removed: u64,
    pub slot_results_cleared: u64,
    pub payouts_reset: u64,
}

/// A page of a cursor-paginated query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back to get the next page; `None` at the end.
    pub next_cursor: Option<String>,
}

impl Page<Session> {
    /// Builds a page from a query that fetched up to `limit + 1` sessions, newest first: the extra
    /// row only says that another page exists, and the cursor points after the last row kept.
    pub(crate) fn from_overfetch(mut items: Vec<Session>, limit: u32) -> Self {
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|s| encode_cursor(s.started_at, &s.id))
        } else {
            None
        };
        Page { items, next_cursor }
    }
}

/// Query of `events` by name and inclusive block range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// `None`: every chain.
    pub chain_id: Option<u64>,
    pub event: String,
    pub from_block: u64,
    pub to_block: u64,
}

/// The store interface. All writes are idempotent upserts by `_id` unless noted.
#[async_trait]
pub trait Store: Send + Sync + Debug {
    fn backend(&self) -> Backend;

    // ---- writes ----
    async fn put_sessions(&self, sessions: &[Session]) -> Result<()>;
    async fn put_chunks(&self, chunks: &[Chunk]) -> Result<()>;
    /// Insert-if-absent: an exact duplicate (same id) is accepted once and left as stored.
    async fn put_proofs(&self, proofs: &[TaskProof]) -> Result<ProofBatchOutcome>;
    async fn put_tally(&self, rows: &[WorkTally]) -> Result<()>;
    async fn put_schedule(&self, slots: &[LeaderSlot]) -> Result<()>;
    async fn put_payouts(&self, payouts: &[Payout]) -> Result<()>;
    /// Sets a chain's checkpoint (e.g. the start block) outside a range write.
    async fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()>;
    /// A block range, what was derived from it, and its checkpoint (see [`BlockRange`]).
    async fn write_block_range(&self, range: &BlockRange) -> Result<()>;
    /// Reorg: removes everything derived from blocks `>= from_block` of `chain_id` (events; the
    /// anchoring of sessions, chunk storers, slot results and `paid` payouts whose tx is among
    /// those events) and sets the checkpoint to `checkpoint` (must be below `from_block`, same
    /// chain) or deletes it (`None`).
    async fn rollback(
        &self,
        chain_id: u64,
        from_block: u64,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<RollbackReport>;

    // ---- reads ----
    async fn session(&self, id: &str) -> Result<Option<Session>>;
    /// Sessions of `owner`, newest first (`started_at` desc, then `_id` desc), keyset-paginated:
    /// inserts during paging neither duplicate nor skip items already due.
    async fn sessions_by_owner(
        &self,
        owner: &str,
        status: Option<SessionStatus>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Session>>;
    /// Chunks of a session by index.
    async fn chunks_of_session(&self, session_id: &str) -> Result<Vec<Chunk>>;
    /// Events by name in an inclusive block range, ordered by chain, block, log index.
    async fn events(&self, q: &EventQuery) -> Result<Vec<ChainEvent>>;
    async fn proof(&self, id: &str) -> Result<Option<TaskProof>>;
    /// Proofs with `from_slot <= slot < to_slot`, ordered by slot, nodeId, id.
    async fn proofs_in_slots(&self, from_slot: u64, to_slot: u64) -> Result<Vec<TaskProof>>;
    /// Tally of an epoch: ranked rows by rank, then unranked rows by entityId.
    async fn tally_by_rank(&self, epoch: u64) -> Result<Vec<WorkTally>>;
    /// Schedule rows with `from_slot <= slot < to_slot`, by slot.
    async fn schedule(&self, from_slot: u64, to_slot: u64) -> Result<Vec<LeaderSlot>>;
    async fn payout(&self, id: &str) -> Result<Option<Payout>>;
    /// Payouts to an EVM address, optionally of one period, by period then id.
    async fn payouts_by_recipient(&self, to_evm: &str, period: Option<u32>) -> Result<Vec<Payout>>;
    async fn checkpoint(&self, chain_id: u64) -> Result<Option<Checkpoint>>;

    /// Test hook: makes the next [`Store::write_block_range`] fail as described by the fault.
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

// ---------- helpers shared by the backends ----------

/// Keyset cursor of `sessions_by_owner`: `started_at:_id`.
pub(crate) fn encode_cursor(started_at: u64, id: &str) -> String {
    format!("{started_at}:{id}")
}

pub(crate) fn decode_cursor(c: &str) -> Result<(i64, String)> {
    let (t, id) = c
        .split_once(':')
        .ok_or_else(|| StoreError::Invalid(format!("bad cursor {c:?}")))?;
    let t: i64 = t
        .parse()
        .map_err(|_| StoreError::Invalid(format!("bad cursor {c:?}")))?;
    Ok((t, id.to_owned()))
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

/// What a rollback must undo, derived from the events it removes.
#[derive(Debug, Default)]
pub(crate) struct Derived {
    pub tx_hashes: BTreeSet<String>,
    /// chunk `_id` → storers to remove.
    pub storers: BTreeMap<String, BTreeSet<String>>,
}

pub(crate) fn derive_rollback(events: &[ChainEvent]) -> Derived {
    let mut d = Derived::default();
    for e in events {
        d.tx_hashes.insert(e.tx_hash.clone());
        if e.event == "ChunkStored" {
            let sid = e.args.get("sessionId").and_then(|v| v.as_str());
            let idx = e.args.get("index").and_then(|v| match v {
                serde_json::Value::String(s) => s.parse::<u32>().ok(),
                v => v.as_u64().and_then(|i| u32::try_from(i).ok()),
            });
            let storer = e.args.get("storer").and_then(|v| v.as_str());
            if let (Some(sid), Some(idx), Some(storer)) = (sid, idx, storer) {
                let sid = session_uuid_from_bytes32(sid).unwrap_or_else(|| sid.to_owned());
                d.storers
                    .entry(Chunk::make_id(&sid, idx))
                    .or_default()
                    .insert(storer.to_ascii_lowercase());
            }
        }
    }
    d
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
