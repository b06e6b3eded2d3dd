//! The keeper-local state of the transaction manager: one SQLite file per signing key, holding
//! the outbox (one row per idempotency key) and every signed attempt (raw bytes and hash).
//!
//! Every transition is written before the action it enables: the nonce before signing, the signed
//! raw transaction before broadcasting. So a process killed at any point finds, on restart, either
//! nothing sent, or the exact bytes that may have been sent, which it rebroadcasts byte for byte.

use std::path::Path;
use std::str::FromStr;

use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

/// Outbox entry states (`queued → signed → broadcast → included → confirmed`, or `failed` /
/// `cancelled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TxState {
    Queued,
    Signed,
    Broadcast,
    Included,
    Confirmed,
    Failed,
    Cancelled,
}

impl TxState {
    pub const ALL: [TxState; 7] = [
        TxState::Queued,
        TxState::Signed,
        TxState::Broadcast,
        TxState::Included,
        TxState::Confirmed,
        TxState::Failed,
        TxState::Cancelled,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            TxState::Queued => "queued",
            TxState::Signed => "signed",
            TxState::Broadcast => "broadcast",
            TxState::Included => "included",
            TxState::Confirmed => "confirmed",
            TxState::Failed => "failed",
            TxState::Cancelled => "cancelled",
        }
    }
    /// Nothing more will be sent for it (it may still be reorged back to `broadcast`).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TxState::Confirmed | TxState::Failed | TxState::Cancelled
        )
    }
}

impl FromStr for TxState {
    type Err = sqlx::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TxState::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown tx state {s:?}").into()))
    }
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub key: String,
    pub state: TxState,
    pub to: [u8; 20],
    pub data: Vec<u8>,
    /// wei, decimal.
    pub value: String,
    pub gas_limit: u64,
    /// The slot an anchoring transaction is for: past it (or once another keeper anchored it) the
    /// transaction is replaced by a 0-value self-send.
    pub slot: Option<u64>,
    pub nonce: Option<u64>,
    /// A 0-value self-send replaces the transaction (slot over or taken).
    pub cancelling: bool,
    pub tx_hash: Option<String>,
    pub block_number: Option<u64>,
    pub block_hash: Option<String>,
    pub gas_used: Option<u64>,
    pub error: Option<String>,
    /// Wall-clock ms and chain block of the latest send of an attempt.
    pub last_sent_ms: Option<u64>,
    pub last_sent_block: Option<u64>,
    pub created_ms: u64,
}

/// One signed attempt of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub tx_hash: String,
    pub entry_id: i64,
    pub n: u32,
    pub nonce: u64,
    pub cancel: bool,
    pub max_fee: u128,
    pub tip: u128,
    pub raw: Vec<u8>,
}

/// What a new outbox entry carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTx {
    pub key: String,
    pub to: [u8; 20],
    pub data: Vec<u8>,
    pub value: String,
    pub gas_limit: u64,
    pub slot: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("local state: {0}")]
    Db(#[from] sqlx::Error),
    #[error("local state {path} belongs to chain {stored}, the RPC endpoint is chain {actual}")]
    WrongChain {
        path: String,
        stored: u64,
        actual: u64,
    },
}

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL,
        to_addr BLOB NOT NULL,
        data BLOB NOT NULL,
        value TEXT NOT NULL,
        gas_limit INTEGER NOT NULL,
        slot INTEGER,
        nonce INTEGER,
        cancelling INTEGER NOT NULL DEFAULT 0,
        tx_hash TEXT,
        block_number INTEGER,
        block_hash TEXT,
        gas_used INTEGER,
        error TEXT,
        last_sent_ms INTEGER,
        last_sent_block INTEGER,
        created_ms INTEGER NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS outbox_state ON outbox(state)",
    "CREATE TABLE IF NOT EXISTS attempts (
        tx_hash TEXT PRIMARY KEY,
        entry_id INTEGER NOT NULL REFERENCES outbox(id),
        n INTEGER NOT NULL,
        nonce INTEGER NOT NULL,
        cancel INTEGER NOT NULL,
        max_fee TEXT NOT NULL,
        tip TEXT NOT NULL,
        raw BLOB NOT NULL,
        UNIQUE(entry_id, n)
    )",
    // Confirmed entries whose receipt's events the daemon wrote into the shared store (by the
    // block they were confirmed in: a re-confirmation in another block after a reorg is new).
    "CREATE TABLE IF NOT EXISTS recorded (
        entry_id INTEGER PRIMARY KEY REFERENCES outbox(id),
        block_hash TEXT NOT NULL
    )",
];

/// The outbox of one signing key on one chain.
#[derive(Debug, Clone)]
pub struct Outbox {
    pool: SqlitePool,
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn entry_of(r: &SqliteRow) -> Result<Entry, sqlx::Error> {
    let to: Vec<u8> = r.try_get("to_addr")?;
    let to: [u8; 20] = to
        .try_into()
        .map_err(|_| sqlx::Error::Decode("to_addr is not 20 bytes".into()))?;
    let state: String = r.try_get("state")?;
    Ok(Entry {
        id: r.try_get("id")?,
        key: r.try_get("key")?,
        state: state.parse()?,
        to,
        data: r.try_get("data")?,
        value: r.try_get("value")?,
        gas_limit: u(r.try_get("gas_limit")?),
        slot: r.try_get::<Option<i64>, _>("slot")?.map(u),
        nonce: r.try_get::<Option<i64>, _>("nonce")?.map(u),
        cancelling: r.try_get::<i64, _>("cancelling")? != 0,
        tx_hash: r.try_get("tx_hash")?,
        block_number: r.try_get::<Option<i64>, _>("block_number")?.map(u),
        block_hash: r.try_get("block_hash")?,
        gas_used: r.try_get::<Option<i64>, _>("gas_used")?.map(u),
        error: r.try_get("error")?,
        last_sent_ms: r.try_get::<Option<i64>, _>("last_sent_ms")?.map(u),
        last_sent_block: r.try_get::<Option<i64>, _>("last_sent_block")?.map(u),
        created_ms: u(r.try_get("created_ms")?),
    })
}

fn attempt_of(r: &SqliteRow) -> Result<Attempt, sqlx::Error> {
    let num = |s: String| {
        s.parse::<u128>()
            .map_err(|_| sqlx::Error::Decode(format!("bad fee {s:?}").into()))
    };
    Ok(Attempt {
        tx_hash: r.try_get("tx_hash")?,
        entry_id: r.try_get("entry_id")?,
        n: u32::try_from(r.try_get::<i64, _>("n")?).unwrap_or(u32::MAX),
        nonce: u(r.try_get("nonce")?),
        cancel: r.try_get::<i64, _>("cancel")? != 0,
        max_fee: num(r.try_get("max_fee")?)?,
        tip: num(r.try_get("tip")?)?,
        raw: r.try_get("raw")?,
    })
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Outbox {
    /// Opens (creating) `path` and binds it to `chain_id`.
    pub async fn open(path: &Path, chain_id: u64) -> Result<Self, OutboxError> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Every transition must survive a power cut before the action it enables.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        for s in SCHEMA {
            sqlx::query(*s).execute(&pool).await?;
        }
        let stored: Option<String> = sqlx::query_scalar("SELECT v FROM meta WHERE k = 'chain_id'")
            .fetch_optional(&pool)
            .await?;
        match stored.and_then(|s| s.parse::<u64>().ok()) {
            Some(c) if c != chain_id => {
                return Err(OutboxError::WrongChain {
                    path: path.display().to_string(),
                    stored: c,
                    actual: chain_id,
                });
            }
            Some(_) => {}
            None => {
                sqlx::query("INSERT OR REPLACE INTO meta (k, v) VALUES ('chain_id', ?)")
                    .bind(chain_id.to_string())
                    .execute(&pool)
                    .await?;
            }
        }
        Ok(Self { pool })
    }

    /// Insert-if-absent by key. Returns the entry and whether it was new.
    pub async fn enqueue(&self, tx: &NewTx) -> Result<(Entry, bool), OutboxError> {
        let res = sqlx::query(
            "INSERT INTO outbox (key, state, to_addr, data, value, gas_limit, slot, created_ms)
             VALUES (?, 'queued', ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
        )
        .bind(&tx.key)
        .bind(tx.to.to_vec())
        .bind(&tx.data)
        .bind(&tx.value)
        .bind(i(tx.gas_limit))
        .bind(tx.slot.map(i))
        .bind(i(now_ms()))
        .execute(&self.pool)
        .await?;
        let e = self
            .by_key(&tx.key)
            .await?
            .ok_or_else(|| sqlx::Error::RowNotFound)?;
        Ok((e, res.rows_affected() == 1))
    }

    pub async fn by_key(&self, key: &str) -> Result<Option<Entry>, OutboxError> {
        let r = sqlx::query("SELECT * FROM outbox WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(entry_of).transpose()?)
    }

    pub async fn get(&self, id: i64) -> Result<Option<Entry>, OutboxError> {
        let r = sqlx::query("SELECT * FROM outbox WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(entry_of).transpose()?)
    }

    /// Entries in the given states, oldest first.
    pub async fn in_states(&self, states: &[TxState]) -> Result<Vec<Entry>, OutboxError> {
        let rows = sqlx::query("SELECT * FROM outbox ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let e = entry_of(r)?;
            if states.contains(&e.state) {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Entries with a block recorded at or above `from_block` (reorg watch).
    pub async fn with_block_from(&self, from_block: u64) -> Result<Vec<Entry>, OutboxError> {
        let rows = sqlx::query("SELECT * FROM outbox WHERE block_number >= ? ORDER BY id")
            .bind(i(from_block))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(entry_of).collect::<Result<_, _>>()?)
    }

    /// The highest nonce any entry holds.
    pub async fn max_nonce(&self) -> Result<Option<u64>, OutboxError> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(nonce) FROM outbox")
            .fetch_one(&self.pool)
            .await?;
        Ok(v.map(u))
    }

    pub async fn set_nonce(&self, id: i64, nonce: Option<u64>) -> Result<(), OutboxError> {
        sqlx::query("UPDATE outbox SET nonce = ? WHERE id = ?")
            .bind(nonce.map(i))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a signed attempt and makes it the entry's current hash, moving `queued` → `signed`
    /// (a bump of a broadcast entry keeps `broadcast`). One transaction: both or neither.
    pub async fn add_attempt(&self, a: &Attempt) -> Result<(), OutboxError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO attempts (tx_hash, entry_id, n, nonce, cancel, max_fee, tip, raw)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&a.tx_hash)
        .bind(a.entry_id)
        .bind(i64::from(a.n))
        .bind(i(a.nonce))
        .bind(i64::from(a.cancel))
        .bind(a.max_fee.to_string())
        .bind(a.tip.to_string())
        .bind(&a.raw)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE outbox SET tx_hash = ?, nonce = ?, cancelling = MAX(cancelling, ?),
                state = CASE WHEN state = 'queued' THEN 'signed' ELSE state END
             WHERE id = ?",
        )
        .bind(&a.tx_hash)
        .bind(i(a.nonce))
        .bind(i64::from(a.cancel))
        .bind(a.entry_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every attempt of an entry, oldest first.
    pub async fn attempts(&self, entry_id: i64) -> Result<Vec<Attempt>, OutboxError> {
        let rows = sqlx::query("SELECT * FROM attempts WHERE entry_id = ? ORDER BY n")
            .bind(entry_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(attempt_of).collect::<Result<_, _>>()?)
    }

    pub async fn mark_sent(&self, id: i64, block: u64) -> Result<(), OutboxError> {
        sqlx::query(
            "UPDATE outbox SET state = CASE WHEN state IN ('queued','signed') THEN 'broadcast' ELSE state END,
                last_sent_ms = ?, last_sent_block = ?, error = NULL WHERE id = ?",
        )
        .bind(i(now_ms()))
        .bind(i(block))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn set_error(&self, id: i64, error: &str) -> Result<(), OutboxError> {
        sqlx::query("UPDATE outbox SET error = ? WHERE id = ?")
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A receipt was found: `state` is `included`, `failed` or `cancelled`.
    #[allow(clippy::too_many_arguments)]
    pub async fn mark_mined(
        &self,
        id: i64,
        state: TxState,
        tx_hash: &str,
        block_number: u64,
        block_hash: &str,
        gas_used: u64,
        error: Option<&str>,
    ) -> Result<(), OutboxError> {
        sqlx::query(
            "UPDATE outbox SET state = ?, tx_hash = ?, block_number = ?, block_hash = ?, gas_used = ?, error = ?
             WHERE id = ?",
        )
        .bind(state.as_str())
        .bind(tx_hash)
        .bind(i(block_number))
        .bind(block_hash)
        .bind(i(gas_used))
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn set_state(&self, id: i64, state: TxState) -> Result<(), OutboxError> {
        sqlx::query("UPDATE outbox SET state = ? WHERE id = ?")
            .bind(state.as_str())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Confirmed entries whose events are not yet recorded in the shared store for the block they
    /// are confirmed in, oldest first.
    pub async fn unrecorded_confirmed(&self, limit: u32) -> Result<Vec<Entry>, OutboxError> {
        let rows = sqlx::query(
            "SELECT o.* FROM outbox o LEFT JOIN recorded r ON r.entry_id = o.id
             WHERE o.state = 'confirmed' AND o.block_hash IS NOT NULL
               AND (r.entry_id IS NULL OR r.block_hash != o.block_hash)
             ORDER BY o.id LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(entry_of).collect::<Result<_, _>>()?)
    }

    /// The entry's events (of the block `block_hash`) are in the shared store.
    pub async fn mark_recorded(&self, id: i64, block_hash: &str) -> Result<(), OutboxError> {
        sqlx::query("INSERT OR REPLACE INTO recorded (entry_id, block_hash) VALUES (?, ?)")
            .bind(id)
            .bind(block_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The receipt's block left the chain: back to `broadcast`, block cleared.
    pub async fn unmine(&self, id: i64) -> Result<(), OutboxError> {
        sqlx::query(
            "UPDATE outbox SET state = 'broadcast', block_number = NULL, block_hash = NULL, gas_used = NULL,
                error = NULL, last_sent_ms = NULL, last_sent_block = NULL WHERE id = ?",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The entry's nonce was used by another transaction of this key: start over with a new one.
    pub async fn requeue(&self, id: i64, why: &str) -> Result<(), OutboxError> {
        sqlx::query(
            "UPDATE outbox SET state = 'queued', nonce = NULL, tx_hash = NULL, cancelling = 0, error = ?,
                last_sent_ms = NULL, last_sent_block = NULL WHERE id = ?",
        )
        .bind(why)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Counts by state (for /metrics).
    pub async fn counts(&self) -> Result<Vec<(String, u64)>, OutboxError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("state")?, u(r.try_get("n")?))))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }
}
