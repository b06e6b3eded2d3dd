//! SQLite backend: sqlx, WAL, embedded migrations, one transaction per bulk write.
//!
//! Rows are the SPEC §5 documents flattened into columns of the same names; nested values are
//! JSON text. Reading goes row → JSON object → model (serde), so a hand-edited bad row becomes
//! [`StoreError::Malformed`].

use std::str::FromStr;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, ConnectOptions, Row, Sqlite, SqliteConnection, TypeInfo, ValueRef};

use crate::*;

mod binds;
use binds::{Bind, to_binds};
mod point;
use point::PointReads;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Json,
    Bool,
}

#[derive(Debug)]
struct Table {
    name: &'static str,
    cols: &'static [(&'static str, Kind)],
}

use Kind::*;

const SESSIONS: Table = Table {
    name: "sessions",
    cols: &[
        ("_id", Text),
        ("owner_addr", Text),
        ("started_at", Int),
        ("manifest_hash", Text),
        ("merkle_root", Text),
        ("chunk_count", Int),
        ("owner_sig", Text),
        ("status", Text),
        ("received_at", Int),
        ("slot", Int),
        ("anchor_txid", Text),
        ("block_number", Int),
        ("block_hash", Text),
        ("gas_used", Int),
    ],
};
const CHUNKS: Table = Table {
    name: "chunks",
    cols: &[
        ("_id", Text),
        ("session_id", Text),
        ("idx", Int),
        ("chunk_hash", Text),
        ("size", Int),
    ],
};
const EVENTS: Table = Table {
    name: "events",
    cols: &[
        ("_id", Text),
        ("chain_id", Int),
        ("address", Text),
        ("event", Text),
        ("block_number", Int),
        ("block_hash", Text),
        ("block_time", Int),
        ("tx_hash", Text),
        ("log_index", Int),
        ("args", Json),
    ],
};
const TASK_PROOFS: Table = Table {
    name: "task_proofs",
    cols: &[
        ("_id", Text),
        ("nodeId", Text),
        ("slot", Int),
        ("type", Text),
        ("sessionId", Text),
        ("amount", Int),
        ("chunkIndex", Int),
        ("digest", Text),
        ("sig", Text),
        ("ts", Int),
    ],
};
const WORK_TALLY: Table = Table {
    name: "work_tally",
    cols: &[
        ("_id", Text),
        ("epoch", Int),
        ("entityId", Text),
        ("credits", Int),
        ("liveScore", Int),
        ("rank", Int),
        ("eligible", Bool),
    ],
};
const EPOCHS: Table = Table {
    name: "epochs",
    cols: &[
        ("_id", Int),
        ("epoch", Int),
        ("seed", Text),
        ("seed_block", Int),
        ("params_hash", Text),
        ("members", Json),
        ("rows", Json),
        ("tally_hash", Text),
        ("frozen_at", Int),
        ("frozen_by", Text),
    ],
};
const LEADER_SCHEDULE: Table = Table {
    name: "leader_schedule",
    cols: &[
        ("_id", Int),
        ("slot", Int),
        ("epoch", Int),
        ("primary", Text),
        ("fallbacks", Json),
        ("planReason", Text),
    ],
};
const PERIODS: Table = Table {
    name: "periods",
    cols: &[
        ("_id", Int),
        ("period", Int),
        ("pool", Text),
        ("inputs_hash", Text),
        ("members", Json),
        ("min_payout", Text),
        ("max_v0", Text),
        ("max_kyc", Text),
        ("root", Text),
        ("total", Text),
        ("planned_at", Int),
    ],
};
const PAYOUTS: Table = Table {
    name: "payouts",
    cols: &[
        ("_id", Text),
        ("period", Int),
        ("node_id", Text),
        ("to_tron", Text),
        ("to_evm", Text),
        ("credits", Int),
        ("carry_in", Text),
        ("gross", Text),
        ("amount", Text),
        ("carry_out", Text),
        ("router", Text),
        ("leaf", Text),
        ("proof", Json),
        ("kyc_hash", Text),
        ("kyc_expiry", Int),
        ("kyc_sig", Text),
        ("status", Text),
        ("txid", Text),
        ("created_at", Int),
    ],
};
const PAYOUT_ADDRESSES: Table = Table {
    name: "payout_addresses",
    cols: &[
        ("_id", Text),
        ("node_id", Text),
        ("recipient", Text),
        ("valid_from", Int),
        ("sig", Text),
    ],
};
const CHECKPOINTS: Table = Table {
    name: "checkpoints",
    cols: &[("_id", Int), ("block_number", Int), ("block_hash", Text)],
};
const ANCHORINGS: Table = Table {
    name: "session_anchorings",
    cols: &[
        ("_id", Text),
        ("chain_id", Int),
        ("block_number", Int),
        ("log_index", Int),
        ("block_hash", Text),
        ("tx_hash", Text),
        ("session_id", Text),
        ("owner_addr", Text),
        ("slot", Int),
        ("manifest_hash", Text),
        ("merkle_root", Text),
        ("started_at", Int),
        ("chunk_count", Int),
        ("gas_used", Int),
    ],
};
const STORERS: Table = Table {
    name: "chunk_storers",
    cols: &[
        ("_id", Text),
        ("chain_id", Int),
        ("block_number", Int),
        ("log_index", Int),
        ("session_id", Text),
        ("idx", Int),
        ("storer", Text),
        ("chunk_hash", Text),
        ("size", Int),
    ],
};
const CLAIMS: Table = Table {
    name: "slot_claims",
    cols: &[
        ("_id", Text),
        ("chain_id", Int),
        ("block_number", Int),
        ("log_index", Int),
        ("slot", Int),
        ("submitter", Text),
        ("tx_hash", Text),
        ("block_time", Int),
    ],
};
const PAYMENTS: Table = Table {
    name: "payout_payments",
    cols: &[
        ("_id", Text),
        ("chain_id", Int),
        ("block_number", Int),
        ("log_index", Int),
        ("payout_id", Text),
        ("to", Text),
        ("amount", Text),
        ("period", Int),
        ("kyc_hash", Text),
        ("tx_hash", Text),
        ("block_time", Int),
    ],
};
/// The derived-state tables, deleted by block on rollback.
const DERIVED: [&Table; 4] = [&ANCHORINGS, &STORERS, &CLAIMS, &PAYMENTS];

/// Rows per multi-row INSERT statement (at most 19 columns (payouts) × 100 = 1900 bound
/// parameters, far below SQLite's limit of 32766).
const ROWS_PER_STMT: usize = 100;

#[derive(Clone, Copy, PartialEq, Eq)]
enum OnConflict {
    Replace,
    Ignore,
}

impl Table {
    fn col_list(&self) -> String {
        self.cols
            .iter()
            .map(|(c, _)| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn select(&self, tail: &str) -> String {
        format!("SELECT {} FROM {} {tail}", self.col_list(), self.name)
    }

    /// `INSERT OR IGNORE` for [`OnConflict::Ignore`] (only `_id` is NOT NULL and it is always
    /// set, so this ignores exactly the key conflicts; unlike `ON CONFLICT DO NOTHING` no
    /// constraint can abort the statement, so SQLite keeps no statement journal for it), an upsert
    /// for [`OnConflict::Replace`].
    fn insert_sql(&self, rows: usize, on: OnConflict) -> String {
        let one = format!("({})", vec!["?"; self.cols.len()].join(", "));
        let values = vec![one; rows].join(", ");
        match on {
            OnConflict::Ignore => format!(
                "INSERT OR IGNORE INTO {} ({}) VALUES {values}",
                self.name,
                self.col_list()
            ),
            OnConflict::Replace => format!(
                "INSERT INTO {} ({}) VALUES {values} ON CONFLICT(\"_id\") DO UPDATE SET {}",
                self.name,
                self.col_list(),
                self.cols
                    .iter()
                    .skip(1)
                    .map(|(c, _)| format!("\"{c}\" = excluded.\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

fn malformed(t: &str, id: &str, reason: impl ToString) -> StoreError {
    StoreError::Malformed {
        collection: t.to_owned(),
        id: id.to_owned(),
        reason: reason.to_string(),
    }
}

/// A column's value as SQLite stored it (whatever the declared type: a hand edit can store any).
#[derive(Debug)]
enum Raw {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    /// A storage class the models never use (BLOB).
    Other(String),
}

fn raw_of(row: &SqliteRow, i: usize) -> Result<Raw> {
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Raw::Null);
    }
    let ty = raw.type_info().name().to_owned();
    Ok(match ty.as_str() {
        "INTEGER" => Raw::Int(row.try_get_unchecked(i)?),
        "REAL" => Raw::Real(row.try_get_unchecked(i)?),
        "TEXT" => Raw::Text(row.try_get_unchecked(i)?),
        _ => Raw::Other(ty),
    })
}

fn from_row<T: DeserializeOwned>(t: &Table, row: &SqliteRow) -> Result<T> {
    let mut vals = Vec::with_capacity(t.cols.len());
    for i in 0..t.cols.len() {
        vals.push(raw_of(row, i)?);
    }
    model_of(t, vals)
}

/// The model of one row of `t` (its columns' values in `t.cols` order): row → JSON object →
/// model, so both read paths (sqlx, [`point`]) accept and refuse exactly the same rows.
fn model_of<T: DeserializeOwned>(t: &Table, vals: Vec<Raw>) -> Result<T> {
    let mut m = Map::new();
    let mut id = String::from("?");
    for (i, ((col, kind), raw)) in t.cols.iter().zip(vals).enumerate() {
        let v = match raw {
            Raw::Null => Value::Null,
            Raw::Int(n) => match (kind, n) {
                (Bool, 0) => Value::Bool(false),
                (Bool, 1) => Value::Bool(true),
                _ => Value::from(n),
            },
            Raw::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
            Raw::Text(s) if *kind == Json => serde_json::from_str(&s)
                .map_err(|e| malformed(t.name, &id, format!("column {col}: bad JSON: {e}")))?,
            Raw::Text(s) => Value::String(s),
            Raw::Other(ty) => {
                return Err(malformed(
                    t.name,
                    &id,
                    format!("column {col}: unexpected SQLite type {ty}"),
                ));
            }
        };
        if i == 0 {
            id = match &v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
        }
        m.insert((*col).to_owned(), v);
    }
    serde_json::from_value(Value::Object(m)).map_err(|e| malformed(t.name, &id, e))
}

fn map_write_err(t: &Table, e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.kind() == sqlx::error::ErrorKind::UniqueViolation
    {
        return StoreError::Duplicate {
            collection: t.name.to_owned(),
            key: db.message().to_owned(),
        };
    }
    StoreError::Sqlite(e)
}

/// Multi-row prepared INSERTs (cached statements). Returns the rows inserted ([`OnConflict::Ignore`])
/// or written ([`OnConflict::Replace`]: every item).
///
/// Replace first tries the cheap `INSERT OR IGNORE` (no statement journal) and runs the upsert only
/// for a batch where some `_id` was already stored (a replayed range, a refreshed session): the
/// result is the upsert's, and the common case of new rows costs about half as much.
async fn insert_rows<T: Serialize>(
    conn: &mut SqliteConnection,
    t: &Table,
    items: &[T],
    on: OnConflict,
) -> Result<u64> {
    let mut affected = 0;
    for batch in items.chunks(ROWS_PER_STMT) {
        let inserted = run_insert(conn, t, OnConflict::Ignore, batch).await?;
        match on {
            OnConflict::Ignore => affected += inserted,
            OnConflict::Replace => {
                if inserted < batch.len() as u64 {
                    run_insert(conn, t, OnConflict::Replace, batch).await?;
                }
                affected += batch.len() as u64;
            }
        }
    }
    Ok(affected)
}

/// One multi-row INSERT of `items` (at most [`ROWS_PER_STMT`]); the bound values are built here
/// and moved into the statement.
async fn run_insert<T: Serialize>(
    conn: &mut SqliteConnection,
    t: &Table,
    on: OnConflict,
    items: &[T],
) -> Result<u64> {
    let mut binds = Vec::with_capacity(items.len() * t.cols.len());
    for item in items {
        to_binds(t, item, &mut binds)?;
    }
    let mut q = sqlx::query(AssertSqlSafe(t.insert_sql(items.len(), on)));
    for b in binds {
        q = match b {
            Bind::Null => q.bind(None::<i64>),
            Bind::Int(i) => q.bind(i),
            Bind::Text(s) => q.bind(s),
        };
    }
    Ok(q.execute(&mut *conn)
        .await
        .map_err(|e| map_write_err(t, e))?
        .rows_affected())
}

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    fault: Mutex<Option<Fault>>,
    /// How to open the [`Store::data_version`] probe connection (`None` in memory).
    probe_opts: Option<SqliteConnectOptions>,
    probe: tokio::sync::Mutex<Probe>,
    /// Wakes the background checkpointer after a bulk commit (`None` in memory).
    checkpoints: Option<tokio::sync::watch::Sender<u64>>,
    /// Read-only connections for reads by primary key in place (`None` in memory).
    point: Option<PointReads>,
}

/// The connection reading `PRAGMA data_version` (outside the pool: it never writes, so every
/// commit of any other connection changes what it reads).
#[derive(Default)]
struct Probe {
    conn: Option<SqliteConnection>,
    last: Option<i64>,
    counter: u64,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field("connected", &self.conn.is_some())
            .field("last", &self.last)
            .field("counter", &self.counter)
            .finish()
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

type Q<'a> = sqlx::query::Query<'a, Sqlite, sqlx::sqlite::SqliteArguments>;

/// Rows of `t` selected with `tail` (WHERE/ORDER BY…) and its bound values.
async fn select<T: DeserializeOwned>(
    conn: &mut SqliteConnection,
    t: &Table,
    q: Q<'_>,
) -> Result<Vec<T>> {
    let rows = q.fetch_all(&mut *conn).await?;
    rows.iter().map(|r| from_row(t, r)).collect()
}

fn sel(t: &Table, tail: &str) -> Q<'static> {
    sqlx::query(AssertSqlSafe(t.select(tail)))
}

async fn one<T: DeserializeOwned>(
    conn: &mut SqliteConnection,
    t: &Table,
    q: Q<'_>,
) -> Result<Option<T>> {
    Ok(select(conn, t, q).await?.pop())
}

fn json_list<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Invalid(e.to_string()))
}

impl SqliteStore {
    /// `sqlite://PATH` (relative or absolute; `sqlite:///abs/path` also accepted). The file is
    /// created when missing. `sqlite::memory:` (or `sqlite://:memory:`) is a private in-memory
    /// database on a single connection.
    pub async fn open(url: &str) -> Result<Self> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| StoreError::UnsupportedUrl {
                url: url.to_owned(),
            })?;
        let (path, _query) = path.split_once('?').unwrap_or((path, ""));
        if path.is_empty() {
            return Err(StoreError::Invalid(format!("{url:?}: empty SQLite path")));
        }
        if path == ":memory:" {
            // one connection holds the whole database (tests, throw-away runs)
            let opts = SqliteConnectOptions::from_str("sqlite::memory:")?;
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(opts)
                .await?;
            MIGRATOR.run(&pool).await?;
            return Ok(SqliteStore {
                pool,
                fault: Mutex::new(None),
                probe_opts: None,
                probe: Default::default(),
                checkpoints: None,
                point: None,
            });
        }
        let opts = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL: a power loss may lose the last commits but never tears one; a lost
            // range is replayed from its (equally lost) checkpoint.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            // Statement journals and sorts in memory, not in temporary files.
            .pragma("temp_store", "memory")
            // 64 MiB of page cache per connection (SQLite's default is 2 MiB): a backfill range
            // of 10,000 events dirties more index pages than that, which were then spilled to the
            // WAL mid-transaction and read back (≈ 20 % faster range writes; docs/benchmarks.md).
            .pragma("cache_size", "-65536")
            // WAL checkpoints run on the checkpointer's connection (see `checkpointer`), not in
            // the writer's commit. SQLite's own automatic checkpoint stays as a backstop at
            // ~400 MiB of WAL (100,000 pages; default 1,000), so the WAL stays bounded even if
            // the checkpointer never finds a moment where the WAL can restart.
            .pragma("wal_autocheckpoint", "100000")
            // No connection truncates the WAL file when the WAL restarts: with a limit, the
            // first commit after a complete checkpoint shrinks the file inside the writer's
            // commit (384 ms for a 415 MB WAL here, the disk is mounted with `discard`: the first
            // live block after a backfill took 320–470 ms to store). The checkpointer truncates
            // it instead, once the store is quiet (see `checkpointer`).
            .pragma("journal_size_limit", "-1")
            .foreign_keys(false);
        // Opening while another process opens, migrates or checkpoints the same file can meet
        // SQLITE_BUSY where SQLite calls no busy handler (setting the journal mode, WAL
        // recovery): retried for up to ~10 s.
        let mut attempt = 0;
        let pool = loop {
            let opened = async {
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(opts.clone())
                    .await?;
                migrate_exclusively(&pool).await?;
                Ok::<_, StoreError>(pool)
            }
            .await;
            match opened {
                Err(e) if attempt < OPEN_RETRIES && is_busy(&e) => {
                    attempt += 1;
                    tracing::debug!(attempt, error = %e, "SQLite open: database busy, retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => break other?,
            }
        };
        let (checkpoints, wake) = tokio::sync::watch::channel(0);
        tokio::spawn(checkpointer(opts.clone(), wake));
        Ok(SqliteStore {
            pool,
            fault: Mutex::new(None),
            probe_opts: Some(opts),
            probe: Default::default(),
            checkpoints: Some(checkpoints),
            point: Some(PointReads::new(path)),
        })
    }

    /// Runs `SQL` on the database as is (tests: hand edits).
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        Ok(sqlx::query(AssertSqlSafe(sql.to_owned()))
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Column names of a table (tests: schema checks).
    #[doc(hidden)]
    pub async fn column_names(&self, table: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT name FROM pragma_table_info(?)")
            .bind(table.to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
            .collect()
    }

    /// Index names of a table (tests: schema checks).
    #[doc(hidden)]
    pub async fn index_names(&self, table: &str) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT name FROM pragma_index_list(?)")
            .bind(table.to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
            .collect()
    }

    async fn read<T: DeserializeOwned>(&self, t: &Table, q: Q<'_>) -> Result<Vec<T>> {
        let mut conn = self.pool.acquire().await?;
        select(&mut conn, t, q).await
    }

    async fn read_one<T: DeserializeOwned>(&self, t: &Table, q: Q<'_>) -> Result<Option<T>> {
        Ok(self.read(t, q).await?.pop())
    }

    fn take_fault(&self, want: Fault) -> bool {
        match self.fault.lock() {
            Ok(mut f) if *f == Some(want) => {
                *f = None;
                true
            }
            _ => false,
        }
    }

    /// Commits `tx`, which wrote about `rows` rows, and tells the checkpointer.
    async fn commit(&self, tx: sqlx::Transaction<'static, Sqlite>, rows: usize) -> Result<()> {
        tx.commit().await?;
        if let Some(c) = &self.checkpoints {
            c.send_modify(|n| *n = n.wrapping_add(rows as u64));
        }
        Ok(())
    }

    async fn begin(&self) -> Result<sqlx::Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// Attempts at opening a file that another connection holds locked (100 ms apart).
const OPEN_RETRIES: u32 = 100;

/// SQLITE_BUSY (5) or SQLITE_LOCKED (6), including their extended codes.
fn is_busy(e: &StoreError) -> bool {
    let db = match e {
        StoreError::Sqlite(sqlx::Error::Database(db)) => db,
        StoreError::Migrate(sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(db))) => db,
        _ => return false,
    };
    db.code()
        .and_then(|c| c.parse::<i64>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

/// Rows committed since the last checkpoint after which the checkpointer runs while writes go on
/// (two backfill ranges of 10,000 events).
const CHECKPOINT_ROWS: u64 = 20_000;
/// Quiet time after a commit after which the checkpointer runs.
const CHECKPOINT_IDLE: Duration = Duration::from_millis(200);
/// Attempts, and the pause between them, to copy the whole WAL when readers held it back.
const CHECKPOINT_RETRIES: usize = 20;
const CHECKPOINT_RETRY: Duration = Duration::from_millis(50);
/// A WAL file larger than this is truncated by the checkpointer once the store is quiet.
pub const WAL_KEEP_BYTES: u64 = 64 << 20;
/// Quiet time (no commit by this store) before the checkpointer truncates a large WAL file.
const TRUNCATE_QUIET: Duration = Duration::from_secs(1);
/// How long the truncating checkpoint waits for another process's writer or readers before it
/// gives up until the next quiet moment (it holds the write lock while it waits).
const TRUNCATE_BUSY: Duration = Duration::from_millis(100);

/// Copies committed WAL frames into the database file (`PRAGMA wal_checkpoint(PASSIVE)`) on a
/// connection of its own, so the writer does not. SQLite's automatic checkpoint runs inside the
/// commit that crosses `wal_autocheckpoint` and fsyncs the WAL and the database there: during a
/// backfill that was ≈ 30 % of the writer's time (docs/benchmarks.md, session 5). A passive
/// checkpoint blocks neither readers nor the writer. It runs after [`CHECKPOINT_ROWS`] rows
/// committed by this store, or [`CHECKPOINT_IDLE`] after the last commit; the automatic checkpoint
/// (now at 100,000 pages) is the backstop and then finds little left to copy.
///
/// The WAL file keeps its largest size when the WAL restarts (no `journal_size_limit`: truncating
/// is slow and would happen in the writer's commit). After a complete checkpoint, when the file is
/// over [`WAL_KEEP_BYTES`] and the store has committed nothing for [`TRUNCATE_QUIET`], the
/// checkpointer runs `PRAGMA wal_checkpoint(TRUNCATE)`, waiting at most [`TRUNCATE_BUSY`] for
/// other connections (a busy store is left for the next quiet moment). Ends when the store is
/// dropped.
async fn checkpointer(opts: SqliteConnectOptions, mut wake: tokio::sync::watch::Receiver<u64>) {
    let wal = {
        let mut p = opts.get_filename().as_os_str().to_owned();
        p.push("-wal");
        std::path::PathBuf::from(p)
    };
    let opts = opts.busy_timeout(TRUNCATE_BUSY);
    let mut conn: Option<SqliteConnection> = None;
    let mut done = *wake.borrow_and_update();
    while wake.changed().await.is_ok() {
        loop {
            let now = *wake.borrow_and_update();
            if now.wrapping_sub(done) >= CHECKPOINT_ROWS {
                break;
            }
            match tokio::time::timeout(CHECKPOINT_IDLE, wake.changed()).await {
                Err(_) => break,
                Ok(Err(_)) => return,
                Ok(Ok(())) => {}
            }
        }
        done = *wake.borrow_and_update();
        let c = match &mut conn {
            Some(c) => c,
            none => match opts.connect().await {
                Ok(c) => none.insert(c),
                Err(e) => {
                    tracing::debug!(error = %e, "SQLite checkpointer: cannot connect");
                    continue;
                }
            },
        };
        // A reader on an older snapshot stops a passive checkpoint short of the WAL's end; until
        // every frame is copied, each read searches the WAL's index. Try again shortly, while no
        // new commit arrives (that one starts the next round).
        let mut complete = false;
        for _ in 0..CHECKPOINT_RETRIES {
            match checkpoint(c, false).await {
                Ok(true) => {
                    complete = true;
                    break;
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "SQLite checkpointer: checkpoint failed");
                    conn = None;
                    break;
                }
            }
            tokio::time::sleep(CHECKPOINT_RETRY).await;
            if wake.has_changed().unwrap_or(true) {
                break;
            }
        }
        let large = std::fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_KEEP_BYTES);
        if let (true, true, Some(c)) = (complete, large, &mut conn) {
            // A clone sees the same commits without consuming them for the loop above.
            let mut probe = wake.clone();
            if tokio::time::timeout(TRUNCATE_QUIET, probe.changed())
                .await
                .is_err()
            {
                // Not done (busy): another connection was writing or reading; the file stays
                // as it is until the next quiet moment.
                match checkpoint(c, true).await {
                    Ok(done) => tracing::debug!(done, "SQLite checkpointer: truncating checkpoint"),
                    Err(e) => {
                        tracing::debug!(error = %e, "SQLite checkpointer: truncating checkpoint failed")
                    }
                }
            }
        }
    }
}

/// `PRAGMA wal_checkpoint(PASSIVE)`, or `(TRUNCATE)`; whether every WAL frame is now in the
/// database file.
async fn checkpoint(c: &mut SqliteConnection, truncate: bool) -> Result<bool> {
    let sql = if truncate {
        "PRAGMA wal_checkpoint(TRUNCATE)"
    } else {
        "PRAGMA wal_checkpoint(PASSIVE)"
    };
    let r = sqlx::query_as::<_, (i64, i64, i64)>(sql)
        .fetch_all(&mut *c)
        .await?;
    Ok(r.first()
        .is_some_and(|&(busy, log, copied)| busy == 0 && log == copied))
}

/// Runs the migrations holding the database's write lock: several processes opening the same new
/// file at once (three keepers and the indexer of `./dev up`) would otherwise all see it
/// unmigrated and race (sqlx takes no lock on SQLite). `BEGIN IMMEDIATE` makes the others wait
/// (busy timeout); each migration runs in a savepoint of this transaction, so the schema and the
/// migration records commit together and the next opener finds them applied.
async fn migrate_exclusively(pool: &SqlitePool) -> Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    MIGRATOR.run_direct(None, &mut *tx, false).await?;
    tx.commit().await?;
    Ok(())
}

/// Events and their derived rows; the sessions whose anchorings changed are recomputed.
async fn apply_events(
    conn: &mut SqliteConnection,
    events: &[ChainEvent],
    session_gas: &BTreeMap<B256, u64>,
) -> Result<()> {
    let d = derive_rows(events, session_gas)?;
    insert_rows(conn, &EVENTS, events, OnConflict::Replace).await?;
    let inserted = insert_rows(conn, &ANCHORINGS, &d.anchorings, OnConflict::Ignore).await?;
    if inserted < d.anchorings.len() as u64 {
        // Some anchorings were stored before (a replay, or put_events without receipts): fill in a
        // gas_used they lack; a stored value is never overwritten.
        for a in &d.anchorings {
            if let Some(g) = a.gas_used {
                sqlx::query(
                    "UPDATE session_anchorings SET gas_used = ? WHERE \"_id\" = ? AND gas_used IS NULL",
                )
                .bind(i64_of(ANCHORINGS.name, &a.id, "gas_used", g)?)
                .bind(a.id.clone())
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    insert_rows(conn, &STORERS, &d.storers, OnConflict::Ignore).await?;
    insert_rows(conn, &CLAIMS, &d.claims, OnConflict::Ignore).await?;
    insert_rows(conn, &PAYMENTS, &d.payments, OnConflict::Ignore).await?;
    refresh_sessions(conn, &d.session_ids(), None, Some(&d.anchorings)).await?;
    Ok(())
}

/// Sessions per batched refresh (bounds the JSON list bound to one statement).
const REFRESH_BATCH: usize = 1000;

/// [`refresh_session`] for many sessions with three statements per batch (read the documents,
/// read their anchorings, write what changed). Returns how many changed.
///
/// `fresh`: the anchoring rows this transaction just wrote. A session without a document has no
/// stored anchoring but these (every anchoring is written by [`apply_events`], which gives its
/// session a document in the same transaction, and rollback deletes a document only with its last
/// anchoring), so its anchorings are not read back: a backfill (sessions first seen on chain)
/// reads nothing but the documents.
async fn refresh_sessions(
    conn: &mut SqliteConnection,
    ids: &BTreeSet<String>,
    exclude: Option<(i64, i64)>,
    fresh: Option<&[AnchoringRow]>,
) -> Result<u64> {
    let (ex_chain, ex_from) = exclude.unwrap_or((-1, i64::MAX));
    let ids: Vec<&String> = ids.iter().collect();
    let mut fresh_by_session: BTreeMap<&str, Vec<&AnchoringRow>> = BTreeMap::new();
    for a in fresh.unwrap_or_default() {
        fresh_by_session.entry(&a.session_id).or_default().push(a);
    }
    let mut changed = 0;
    for batch in ids.chunks(REFRESH_BATCH) {
        let list = json_list(&batch)?;
        let cur: Vec<Session> = select(
            conn,
            &SESSIONS,
            sel(
                &SESSIONS,
                "WHERE \"_id\" IN (SELECT value FROM json_each(?))",
            )
            .bind(list),
        )
        .await?;
        let mut cur: BTreeMap<String, Session> =
            cur.into_iter().map(|s| (s.id.clone(), s)).collect();
        let mut by_session: BTreeMap<String, Vec<AnchoringRow>> = BTreeMap::new();
        let stored: Vec<&&String> = batch
            .iter()
            .filter(|id| fresh.is_none() || cur.contains_key(id.as_str()))
            .collect();
        for id in batch.iter().filter(|id| !cur.contains_key(id.as_str())) {
            if let Some(rows) = fresh_by_session.get(id.as_str()) {
                by_session.insert((*id).clone(), rows.iter().map(|a| (*a).clone()).collect());
            }
        }
        if !stored.is_empty() {
            let rows: Vec<AnchoringRow> = select(
                conn,
                &ANCHORINGS,
                sel(
                    &ANCHORINGS,
                    "WHERE session_id IN (SELECT value FROM json_each(?)) \
                     AND NOT (chain_id = ? AND block_number >= ?)",
                )
                .bind(json_list(&stored)?)
                .bind(ex_chain)
                .bind(ex_from),
            )
            .await?;
            for r in rows {
                by_session.entry(r.session_id.clone()).or_default().push(r);
            }
        }
        let mut puts = Vec::new();
        let mut dels = Vec::new();
        for id in batch {
            let rows = by_session.remove(*id).unwrap_or_default();
            match recompute_session(id, cur.remove(*id).as_ref(), &rows) {
                SessionWrite::Keep => {}
                SessionWrite::Put(s) => puts.push(*s),
                SessionWrite::Delete => dels.push(*id),
            }
        }
        changed += (puts.len() + dels.len()) as u64;
        insert_rows(conn, &SESSIONS, &puts, OnConflict::Replace).await?;
        if !dels.is_empty() {
            sqlx::query("DELETE FROM sessions WHERE \"_id\" IN (SELECT value FROM json_each(?))")
                .bind(json_list(&dels)?)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(changed)
}

/// Recomputes a session's document from its anchorings, leaving out those of blocks
/// `>= from` of chain `chain` when `exclude` is `(chain, from)`. Returns whether it changed.
async fn refresh_session(
    conn: &mut SqliteConnection,
    id: &str,
    exclude: Option<(i64, i64)>,
) -> Result<bool> {
    let cur: Option<Session> = one(
        conn,
        &SESSIONS,
        sel(&SESSIONS, "WHERE \"_id\" = ?").bind(id.to_owned()),
    )
    .await?;
    let (ex_chain, ex_from) = exclude.unwrap_or((-1, i64::MAX));
    let anchorings: Vec<AnchoringRow> = select(
        conn,
        &ANCHORINGS,
        sel(
            &ANCHORINGS,
            "WHERE session_id = ? AND NOT (chain_id = ? AND block_number >= ?)",
        )
        .bind(id.to_owned())
        .bind(ex_chain)
        .bind(ex_from),
    )
    .await?;
    match recompute_session(id, cur.as_ref(), &anchorings) {
        SessionWrite::Keep => Ok(false),
        SessionWrite::Put(s) => {
            insert_rows(conn, &SESSIONS, &[*s], OnConflict::Replace).await?;
            Ok(true)
        }
        SessionWrite::Delete => {
            sqlx::query("DELETE FROM sessions WHERE \"_id\" = ?")
                .bind(id.to_owned())
                .execute(&mut *conn)
                .await?;
            Ok(true)
        }
    }
}

async fn set_checkpoint(conn: &mut SqliteConnection, cp: &Checkpoint) -> Result<()> {
    insert_rows(
        conn,
        &CHECKPOINTS,
        std::slice::from_ref(cp),
        OnConflict::Replace,
    )
    .await?;
    Ok(())
}

/// Payment rows of the given payout ids.
async fn payments_of(conn: &mut SqliteConnection, ids: &[B256]) -> Result<Vec<PaymentRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(hex_of).collect();
    select(
        conn,
        &PAYMENTS,
        sel(
            &PAYMENTS,
            "WHERE payout_id IN (SELECT value FROM json_each(?))",
        )
        .bind(json_list(&list)?),
    )
    .await
}

async fn with_payments(conn: &mut SqliteConnection, mut v: Vec<Payout>) -> Result<Vec<Payout>> {
    let ids: Vec<B256> = v.iter().map(|p| p.id).collect();
    let pays = payments_of(conn, &ids).await?;
    apply_payments(&mut v, &pays);
    Ok(v)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn write_block_range(&self, range: &BlockRange) -> Result<()> {
        if range
            .events
            .iter()
            .any(|e| e.chain_id != range.checkpoint.chain_id)
        {
            return Err(StoreError::Invalid(
                "a block range holds events of its checkpoint's chain only".into(),
            ));
        }
        let fault = self.take_fault(Fault::BeforeCheckpoint);
        let mut tx = self.begin().await?;
        apply_events(&mut tx, &range.events, &range.session_gas).await?;
        if fault {
            // dropping `tx` rolls back: the crash leaves nothing behind
            return Err(StoreError::Injected(Fault::BeforeCheckpoint));
        }
        set_checkpoint(&mut tx, &range.checkpoint).await?;
        self.commit(tx, range.events.len()).await?;
        Ok(())
    }

    async fn put_events(
        &self,
        events: &[ChainEvent],
        session_gas: &BTreeMap<B256, u64>,
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        apply_events(&mut tx, events, session_gas).await?;
        self.commit(tx, events.len()).await?;
        Ok(())
    }

    async fn rollback(
        &self,
        chain_id: u64,
        from_block: u64,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<RollbackReport> {
        check_rollback_args(chain_id, from_block, checkpoint)?;
        let chain = i64_of("events", "-", "chain_id", chain_id)?;
        let from = sat(from_block);
        let fault = self.take_fault(Fault::MidRollback);
        let mut tx = self.begin().await?;
        let mut rep = RollbackReport::default();
        let affected: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT session_id FROM session_anchorings \
             WHERE chain_id = ? AND block_number >= ?",
        )
        .bind(chain)
        .bind(from)
        .fetch_all(&mut *tx)
        .await?;
        let affected: BTreeSet<String> = affected.into_iter().collect();
        rep.sessions_changed =
            refresh_sessions(&mut tx, &affected, Some((chain, from)), None).await?;
        for t in DERIVED {
            rep.derived_deleted += sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {} WHERE chain_id = ? AND block_number >= ?",
                t.name
            )))
            .bind(chain)
            .bind(from)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        if fault {
            return Err(StoreError::Injected(Fault::MidRollback));
        }
        rep.events_deleted =
            sqlx::query("DELETE FROM events WHERE chain_id = ? AND block_number >= ?")
                .bind(chain)
                .bind(from)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        match checkpoint {
            Some(cp) => set_checkpoint(&mut tx, cp).await?,
            None => {
                sqlx::query("DELETE FROM checkpoints WHERE \"_id\" = ?")
                    .bind(chain)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        self.commit(tx, rep.events_deleted as usize).await?;
        Ok(rep)
    }

    async fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        let mut tx = self.begin().await?;
        set_checkpoint(&mut tx, checkpoint).await?;
        self.commit(tx, 1).await?;
        Ok(())
    }

    async fn checkpoint(&self, chain_id: u64) -> Result<Option<Checkpoint>> {
        let q = sel(&CHECKPOINTS, "WHERE \"_id\" = ?").bind(i64_of(
            "checkpoints",
            "-",
            "_id",
            chain_id,
        )?);
        self.read_one(&CHECKPOINTS, q).await
    }

    async fn events(
        &self,
        q: &EventQuery,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<ChainEvent>> {
        let limit = page_limit(limit);
        let mut tail = String::from("WHERE block_number >= ? AND block_number <= ?");
        if q.chain_id.is_some() {
            tail.push_str(" AND chain_id = ?");
        }
        if q.event.is_some() {
            tail.push_str(" AND event = ?");
        }
        let cur = cursor.map(decode_event_cursor).transpose()?;
        if cur.is_some() {
            tail.push_str(" AND (chain_id, block_number, log_index) > (?, ?, ?)");
        }
        tail.push_str(" ORDER BY chain_id, block_number, log_index LIMIT ?");
        // with one chain, start the index range at the cursor's block
        let lower = match (&cur, q.chain_id) {
            (Some((c, b, _)), Some(chain)) if *c == sat(chain) => (*b).max(sat(q.from_block)),
            _ => sat(q.from_block),
        };
        let mut sq = sel(&EVENTS, &tail).bind(lower).bind(sat(q.to_block));
        if let Some(c) = q.chain_id {
            sq = sq.bind(sat(c));
        }
        if let Some(e) = &q.event {
            sq = sq.bind(e.clone());
        }
        if let Some((c, b, l)) = cur {
            sq = sq.bind(c).bind(b).bind(l);
        }
        let items = self.read(&EVENTS, sq.bind(i64::from(limit) + 1)).await?;
        Ok(Page::from_overfetch(items, limit, event_cursor))
    }

    async fn count_events(&self, chain_id: Option<u64>) -> Result<u64> {
        let n: i64 = match chain_id {
            Some(c) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE chain_id = ?")
                    .bind(sat(c))
                    .fetch_one(&self.pool)
                    .await?
            }
            None => {
                sqlx::query_scalar("SELECT COUNT(*) FROM events")
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn submit_session(&self, s: &SessionSubmission) -> Result<SubmitOutcome> {
        validate_submission(s)?;
        let mut tx = self.begin().await?;
        let cur: Option<Session> = one(
            &mut tx,
            &SESSIONS,
            sel(&SESSIONS, "WHERE \"_id\" = ?").bind(s.id.clone()),
        )
        .await?;
        let plan = plan_submission(cur.as_ref(), s)?;
        let out = match plan {
            SubmitPlan::Insert => {
                insert_rows(&mut tx, &SESSIONS, &[s.to_session()], OnConflict::Ignore).await?;
                // exact even if an anchoring is already stored
                refresh_session(&mut tx, &s.id, None).await?;
                SubmitOutcome::Inserted
            }
            SubmitPlan::Adopt => {
                sqlx::query("UPDATE sessions SET owner_sig = ?, received_at = ? WHERE \"_id\" = ?")
                    .bind(hex_of(&s.owner_sig))
                    .bind(i64_of("sessions", &s.id, "received_at", s.received_at)?)
                    .bind(s.id.clone())
                    .execute(&mut *tx)
                    .await?;
                refresh_session(&mut tx, &s.id, None).await?;
                SubmitOutcome::Inserted
            }
            SubmitPlan::Duplicate => SubmitOutcome::Duplicate,
        };
        let docs: Vec<ChunkDoc> = s.chunks.iter().map(|c| ChunkDoc::of(&s.id, c)).collect();
        insert_rows(&mut tx, &CHUNKS, &docs, OnConflict::Ignore).await?;
        self.commit(tx, 1).await?;
        Ok(out)
    }

    async fn session(&self, id: &str) -> Result<Option<Session>> {
        static BY_ID: LazyLock<String> = LazyLock::new(|| SESSIONS.select("WHERE \"_id\" = ?"));
        if let Some(p) = &self.point
            && let Ok(mut rows) = p.rows(&BY_ID, &[&id], SESSIONS.cols.len())
        {
            return rows.pop().map(|v| model_of(&SESSIONS, v)).transpose();
        }
        self.read_one(
            &SESSIONS,
            sqlx::query(AssertSqlSafe(BY_ID.as_str())).bind(id.to_owned()),
        )
        .await
    }

    async fn sessions(
        &self,
        q: &SessionQuery,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Session>> {
        let limit = page_limit(limit);
        let mut conds: Vec<&str> = Vec::new();
        if q.owner.is_some() {
            conds.push("owner_addr = ?");
        }
        if q.status.is_some() {
            conds.push("status = ?");
        }
        let cur = cursor.map(decode_session_cursor).transpose()?;
        if cur.is_some() {
            conds.push("(started_at < ? OR (started_at = ? AND \"_id\" < ?))");
        }
        let mut tail = String::new();
        if !conds.is_empty() {
            tail = format!("WHERE {}", conds.join(" AND "));
        }
        tail.push_str(" ORDER BY started_at DESC, \"_id\" DESC LIMIT ?");
        let mut sq = sel(&SESSIONS, &tail);
        if let Some(o) = &q.owner {
            sq = sq.bind(hex_of(o));
        }
        if let Some(st) = q.status {
            sq = sq.bind(st.as_str());
        }
        if let Some((t, id)) = cur {
            sq = sq.bind(t).bind(t).bind(id);
        }
        let items = self.read(&SESSIONS, sq.bind(i64::from(limit) + 1)).await?;
        Ok(Page::from_overfetch(items, limit, session_cursor))
    }

    async fn pending_sessions(&self, limit: u32) -> Result<Vec<Session>> {
        // The partial index (migration 0004) is the queue in order; without statistics the
        // planner would take the status index and sort every pending session.
        let q = sel(
            &SESSIONS,
            "INDEXED BY sessions_pending WHERE status = 'pending' \
             ORDER BY received_at, \"_id\" LIMIT ?",
        )
        .bind(i64::from(page_limit(limit)));
        self.read(&SESSIONS, q).await
    }

    async fn chunks_of_session(&self, session_id: &str) -> Result<Vec<Chunk>> {
        let mut conn = self.pool.acquire().await?;
        let docs: Vec<ChunkDoc> = select(
            &mut conn,
            &CHUNKS,
            sel(&CHUNKS, "WHERE session_id = ? ORDER BY idx").bind(session_id.to_owned()),
        )
        .await?;
        let storers: Vec<StorerRow> = select(
            &mut conn,
            &STORERS,
            sel(&STORERS, "WHERE session_id = ?").bind(session_id.to_owned()),
        )
        .await?;
        Ok(assemble_chunks(docs, storers))
    }

    async fn put_proofs(&self, proofs: &[TaskProof]) -> Result<InsertOutcome> {
        if proofs.is_empty() {
            return Ok(InsertOutcome::default());
        }
        let mut tx = self.begin().await?;
        let inserted = insert_rows(&mut tx, &TASK_PROOFS, proofs, OnConflict::Ignore).await?;
        self.commit(tx, proofs.len()).await?;
        Ok(InsertOutcome {
            inserted,
            duplicates: proofs.len() as u64 - inserted,
        })
    }

    async fn put_proofs_reporting(&self, proofs: &[TaskProof]) -> Result<Vec<usize>> {
        if proofs.is_empty() {
            return Ok(Vec::new());
        }
        // BEGIN IMMEDIATE: no other writer between the read of present ids and the insert.
        let mut tx = self.begin().await?;
        let mut present = std::collections::HashSet::new();
        for batch in proofs.chunks(REFRESH_BATCH * 10) {
            let ids: Vec<String> = batch.iter().map(|p| hex_of(&p.id)).collect();
            let found: Vec<String> = sqlx::query_scalar(
                "SELECT \"_id\" FROM task_proofs WHERE \"_id\" IN (SELECT value FROM json_each(?))",
            )
            .bind(json_list(&ids)?)
            .fetch_all(&mut *tx)
            .await?;
            present.extend(found);
        }
        let (dups, fresh): (Vec<usize>, Vec<usize>) =
            (0..proofs.len()).partition(|&i| present.contains(&hex_of(&proofs[i].id)));
        let fresh: Vec<TaskProof> = fresh.into_iter().map(|i| proofs[i].clone()).collect();
        insert_rows(&mut tx, &TASK_PROOFS, &fresh, OnConflict::Ignore).await?;
        self.commit(tx, fresh.len()).await?;
        Ok(dups)
    }

    async fn proof(&self, id: &B256) -> Result<Option<TaskProof>> {
        self.read_one(
            &TASK_PROOFS,
            sel(&TASK_PROOFS, "WHERE \"_id\" = ?").bind(hex_of(id)),
        )
        .await
    }

    async fn proofs_page(
        &self,
        q: &ProofQuery,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<TaskProof>> {
        let limit = page_limit(limit);
        let mut tail = String::from("WHERE slot >= ? AND slot < ?");
        if q.max_ts.is_some() {
            tail.push_str(" AND ts <= ?");
        }
        let cur = cursor.map(decode_proof_cursor).transpose()?;
        if cur.is_some() {
            tail.push_str(" AND (slot, \"nodeId\", \"_id\") > (?, ?, ?)");
        }
        tail.push_str(" ORDER BY slot, \"nodeId\", \"_id\" LIMIT ?");
        // start the index range at the cursor's slot, not at `from_slot`: a late page must not
        // scan every earlier row
        let lower = cur
            .as_ref()
            .map_or(sat(q.from_slot), |(s, _, _)| (*s).max(sat(q.from_slot)));
        let mut sq = sel(&TASK_PROOFS, &tail).bind(lower).bind(sat(q.to_slot));
        if let Some(t) = q.max_ts {
            sq = sq.bind(sat(t));
        }
        if let Some((s, n, i)) = cur {
            sq = sq.bind(s).bind(n).bind(i);
        }
        let items = self
            .read(&TASK_PROOFS, sq.bind(i64::from(limit) + 1))
            .await?;
        Ok(Page::from_overfetch(items, limit, proof_cursor))
    }

    async fn insert_epoch(&self, e: &Epoch) -> Result<EpochInsert> {
        validate_epoch(e)?;
        let mut tx = self.begin().await?;
        let inserted = insert_rows(
            &mut tx,
            &EPOCHS,
            std::slice::from_ref(e),
            OnConflict::Ignore,
        )
        .await?
            == 1;
        let stored: Epoch = one(
            &mut tx,
            &EPOCHS,
            sel(&EPOCHS, "WHERE \"_id\" = ?").bind(sat(e.id)),
        )
        .await?
        .ok_or_else(|| StoreError::NotFound {
            collection: "epochs".into(),
            id: e.id.to_string(),
        })?;
        let rows: Vec<WorkTally> = stored.rows.iter().map(WorkTally::from_row).collect();
        insert_rows(&mut tx, &WORK_TALLY, &rows, OnConflict::Ignore).await?;
        self.commit(tx, rows.len()).await?;
        Ok(EpochInsert {
            epoch: stored,
            inserted,
        })
    }

    async fn epoch(&self, epoch: u64) -> Result<Option<Epoch>> {
        self.read_one(&EPOCHS, sel(&EPOCHS, "WHERE \"_id\" = ?").bind(sat(epoch)))
            .await
    }

    async fn tally_by_rank(&self, epoch: u64) -> Result<Vec<WorkTally>> {
        let q = sel(
            &WORK_TALLY,
            "WHERE epoch = ? ORDER BY rank IS NULL, rank, \"entityId\"",
        )
        .bind(sat(epoch));
        self.read(&WORK_TALLY, q).await
    }

    async fn put_plans(&self, plans: &[LeaderSlot]) -> Result<PlanOutcome> {
        validate_plans(plans)?;
        let mut out = PlanOutcome::default();
        if plans.is_empty() {
            return Ok(out);
        }
        let mut tx = self.begin().await?;
        let slots: Vec<i64> = plans.iter().map(|p| sat(p.slot)).collect();
        let existing: Vec<LeaderSlot> = select(
            &mut tx,
            &LEADER_SCHEDULE,
            sel(
                &LEADER_SCHEDULE,
                "WHERE \"_id\" IN (SELECT value FROM json_each(?))",
            )
            .bind(json_list(&slots)?),
        )
        .await?;
        let existing: BTreeMap<u64, LeaderSlot> =
            existing.into_iter().map(|p| (p.slot, p)).collect();
        let mut fresh = Vec::new();
        for p in plans {
            let mut p = p.clone();
            p.result = None;
            match existing.get(&p.slot) {
                Some(e) if *e == p => out.identical += 1,
                Some(_) => out.differing.push(p.slot),
                None => fresh.push(p),
            }
        }
        out.inserted = insert_rows(&mut tx, &LEADER_SCHEDULE, &fresh, OnConflict::Ignore).await?;
        // the same slot twice in the input: the first one is stored, the rest compare against it
        out.identical += fresh.len() as u64 - out.inserted;
        self.commit(tx, fresh.len()).await?;
        Ok(out)
    }

    async fn plans(&self, from_slot: u64, to_slot: u64) -> Result<Vec<LeaderSlot>> {
        let q = sel(
            &LEADER_SCHEDULE,
            "WHERE \"_id\" >= ? AND \"_id\" < ? ORDER BY \"_id\"",
        )
        .bind(sat(from_slot))
        .bind(sat(to_slot));
        self.read(&LEADER_SCHEDULE, q).await
    }

    async fn slot_claims(&self, from_slot: u64, to_slot: u64) -> Result<Vec<SlotClaim>> {
        let q = sel(
            &CLAIMS,
            "WHERE slot >= ? AND slot < ? ORDER BY slot, chain_id, block_number, log_index",
        )
        .bind(sat(from_slot))
        .bind(sat(to_slot));
        let rows: Vec<ClaimRow> = self.read(&CLAIMS, q).await?;
        let mut out: Vec<SlotClaim> = Vec::new();
        for r in rows {
            if out.last().is_none_or(|c| c.slot != r.slot) {
                out.push(r.claim());
            }
        }
        Ok(out)
    }

    async fn put_period_plan(&self, period: &Period, payouts: &[Payout]) -> Result<()> {
        validate_period_plan(period, payouts)?;
        let p = i64::from(period.period);
        let mut tx = self.begin().await?;
        let submitted: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM payouts WHERE period = ? AND status = 'submitted'",
        )
        .bind(p)
        .fetch_one(&mut *tx)
        .await?;
        if submitted > 0 {
            return Err(replan_conflict(
                period.period,
                &format!("{submitted} payout(s) submitted"),
            ));
        }
        let ids: Vec<String> = payouts.iter().map(|x| hex_of(&x.id)).collect();
        let paid: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM payout_payments WHERE period = ? \
             OR payout_id IN (SELECT \"_id\" FROM payouts WHERE period = ?) \
             OR payout_id IN (SELECT value FROM json_each(?))",
        )
        .bind(p)
        .bind(p)
        .bind(json_list(&ids)?)
        .fetch_one(&mut *tx)
        .await?;
        if paid > 0 {
            return Err(replan_conflict(
                period.period,
                &format!("{paid} payment(s) seen on chain"),
            ));
        }
        let elsewhere: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM payouts WHERE period != ? \
             AND \"_id\" IN (SELECT value FROM json_each(?))",
        )
        .bind(p)
        .bind(json_list(&ids)?)
        .fetch_one(&mut *tx)
        .await?;
        if elsewhere > 0 {
            return Err(replan_conflict(
                period.period,
                &format!("{elsewhere} payout id(s) belong to another period"),
            ));
        }
        sqlx::query("DELETE FROM payouts WHERE period = ?")
            .bind(p)
            .execute(&mut *tx)
            .await?;
        insert_rows(&mut tx, &PAYOUTS, payouts, OnConflict::Replace).await?;
        insert_rows(
            &mut tx,
            &PERIODS,
            std::slice::from_ref(period),
            OnConflict::Replace,
        )
        .await?;
        self.commit(tx, 1).await?;
        Ok(())
    }

    async fn period(&self, period: u32) -> Result<Option<Period>> {
        self.read_one(
            &PERIODS,
            sel(&PERIODS, "WHERE \"_id\" = ?").bind(i64::from(period)),
        )
        .await
    }

    async fn payout(&self, id: &B256) -> Result<Option<Payout>> {
        let mut conn = self.pool.acquire().await?;
        let v: Vec<Payout> = select(
            &mut conn,
            &PAYOUTS,
            sel(&PAYOUTS, "WHERE \"_id\" = ?").bind(hex_of(id)),
        )
        .await?;
        Ok(with_payments(&mut conn, v).await?.pop())
    }

    async fn payouts_of_period(&self, period: u32) -> Result<Vec<Payout>> {
        let mut conn = self.pool.acquire().await?;
        let v: Vec<Payout> = select(
            &mut conn,
            &PAYOUTS,
            sel(&PAYOUTS, "WHERE period = ? ORDER BY \"_id\"").bind(i64::from(period)),
        )
        .await?;
        with_payments(&mut conn, v).await
    }

    async fn payouts_by_recipient(
        &self,
        to_evm: &Address,
        period: Option<u32>,
    ) -> Result<Vec<Payout>> {
        let mut conn = self.pool.acquire().await?;
        let q = match period {
            Some(p) => sel(
                &PAYOUTS,
                "WHERE to_evm = ? AND period = ? ORDER BY period, \"_id\"",
            )
            .bind(hex_of(to_evm))
            .bind(i64::from(p)),
            None => sel(&PAYOUTS, "WHERE to_evm = ? ORDER BY period, \"_id\"").bind(hex_of(to_evm)),
        };
        let v: Vec<Payout> = select(&mut conn, &PAYOUTS, q).await?;
        with_payments(&mut conn, v).await
    }

    async fn mark_payout_submitted(&self, id: &B256, txid: &B256) -> Result<Payout> {
        let mut tx = self.begin().await?;
        let v: Vec<Payout> = select(
            &mut tx,
            &PAYOUTS,
            sel(&PAYOUTS, "WHERE \"_id\" = ?").bind(hex_of(id)),
        )
        .await?;
        let Some(cur) = with_payments(&mut tx, v).await?.pop() else {
            return Err(StoreError::NotFound {
                collection: "payouts".into(),
                id: hex_of(id),
            });
        };
        check_submittable(&cur)?;
        sqlx::query("UPDATE payouts SET status = 'submitted', txid = ? WHERE \"_id\" = ?")
            .bind(hex_of(txid))
            .bind(hex_of(id))
            .execute(&mut *tx)
            .await?;
        self.commit(tx, 1).await?;
        let mut p = cur;
        p.status = PayoutStatus::Submitted;
        p.txid = Some(*txid);
        Ok(p)
    }

    async fn latest_carries(&self, before_period: u32) -> Result<BTreeMap<Address, U256>> {
        // SQLite: a bare column next to MAX() comes from the row holding the maximum
        let rows = sqlx::query(
            "SELECT node_id, carry_out, MAX(period) FROM payouts WHERE period < ? GROUP BY node_id",
        )
        .bind(i64::from(before_period))
        .fetch_all(&self.pool)
        .await?;
        let mut out = BTreeMap::new();
        for r in rows {
            let node: String = r.try_get(0)?;
            let carry: String = r.try_get(1)?;
            let bad = |what: &str| malformed("payouts", &node, what);
            let n: Address = node.parse().map_err(|_| bad("node_id"))?;
            let c = models::u256_dec::parse(&carry).ok_or_else(|| bad("carry_out"))?;
            out.insert(n, c);
        }
        Ok(out)
    }

    async fn put_payout_address(&self, a: &PayoutAddress) -> Result<SubmitOutcome> {
        validate_payout_address(a)?;
        let mut tx = self.begin().await?;
        let other: Option<String> = sqlx::query_scalar(
            "SELECT node_id FROM payout_addresses WHERE recipient = ? AND node_id != ? LIMIT 1",
        )
        .bind(hex_of(&a.recipient))
        .bind(hex_of(&a.node_id))
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(o) = other {
            return Err(address_conflict(
                a,
                format!("recipient already named by node {o}"),
            ));
        }
        let n = insert_rows(
            &mut tx,
            &PAYOUT_ADDRESSES,
            std::slice::from_ref(a),
            OnConflict::Ignore,
        )
        .await?;
        let out = if n == 1 {
            SubmitOutcome::Inserted
        } else {
            let stored: Option<PayoutAddress> = one(
                &mut tx,
                &PAYOUT_ADDRESSES,
                sel(&PAYOUT_ADDRESSES, "WHERE \"_id\" = ?").bind(a.id.clone()),
            )
            .await?;
            if stored.as_ref() == Some(a) {
                SubmitOutcome::Duplicate
            } else {
                return Err(address_conflict(
                    a,
                    "another payout address is stored under this nodeId:validFrom".into(),
                ));
            }
        };
        self.commit(tx, 1).await?;
        Ok(out)
    }

    async fn payout_addresses_of_node(&self, node: &Address) -> Result<Vec<PayoutAddress>> {
        self.read(
            &PAYOUT_ADDRESSES,
            sel(&PAYOUT_ADDRESSES, "WHERE node_id = ? ORDER BY valid_from").bind(hex_of(node)),
        )
        .await
    }

    async fn payout_addresses_by_recipient(
        &self,
        recipient: &Address,
    ) -> Result<Vec<PayoutAddress>> {
        self.read(
            &PAYOUT_ADDRESSES,
            sel(
                &PAYOUT_ADDRESSES,
                "WHERE recipient = ? ORDER BY node_id, valid_from",
            )
            .bind(hex_of(recipient)),
        )
        .await
    }

    /// `PRAGMA data_version` of a connection of its own that never writes: SQLite changes it
    /// whenever another connection (of this pool, or of another process) committed since its
    /// previous reading. Turned into a counter here so that a new probe connection (after an
    /// error) counts as a change. `None` in memory (no second connection can see that database).
    async fn data_version(&self) -> Result<Option<u64>> {
        let Some(opts) = &self.probe_opts else {
            return Ok(None);
        };
        let mut p = self.probe.lock().await;
        let conn = match &mut p.conn {
            Some(c) => c,
            none => none.insert(opts.connect().await?),
        };
        // fetch_all: the statement runs to its end, so no read transaction stays open.
        let read = sqlx::query_scalar::<_, i64>("PRAGMA data_version")
            .fetch_all(&mut *conn)
            .await;
        match read.map(|v| v.first().copied()) {
            Ok(Some(v)) => {
                if p.last != Some(v) {
                    p.last = Some(v);
                    p.counter += 1;
                }
                Ok(Some(p.counter))
            }
            Ok(None) => {
                p.conn = None;
                p.last = None;
                Err(StoreError::Invalid(
                    "PRAGMA data_version returned no row".into(),
                ))
            }
            Err(e) => {
                p.conn = None;
                p.last = None;
                Err(e.into())
            }
        }
    }

    fn inject_fault(&self, fault: Option<Fault>) {
        if let Ok(mut f) = self.fault.lock() {
            *f = fault;
        }
    }
}
