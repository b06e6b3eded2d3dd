//! SQLite backend: sqlx, WAL, embedded migrations, one transaction per bulk write.
//!
//! Rows are the SPEC §5 documents flattened into columns of the same names; nested values are
//! JSON text. Reading goes row → JSON object → model (serde), so a hand-edited bad row becomes
//! [`StoreError::Malformed`].

use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row, Sqlite, SqliteConnection, TypeInfo, ValueRef};

use crate::*;

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
        ("status", Text),
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
        ("storers", Json),
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
const LEADER_SCHEDULE: Table = Table {
    name: "leader_schedule",
    cols: &[
        ("_id", Int),
        ("slot", Int),
        ("epoch", Int),
        ("primary", Text),
        ("fallbacks", Json),
        ("planReason", Text),
        ("result", Json),
    ],
};
const PAYOUTS: Table = Table {
    name: "payouts",
    cols: &[
        ("_id", Text),
        ("period", Int),
        ("to_tron", Text),
        ("to_evm", Text),
        ("amount", Text),
        ("router", Text),
        ("status", Text),
        ("txid", Text),
        ("created_at", Int),
    ],
};
const CHECKPOINTS: Table = Table {
    name: "checkpoints",
    cols: &[("_id", Int), ("block_number", Int), ("block_hash", Text)],
};

/// Rows per multi-row INSERT statement (at most 12 columns × 100 = 1200 bound parameters, far
/// below SQLite's limit of 32766).
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

    fn insert_sql(&self, rows: usize, on: OnConflict) -> String {
        let one = format!("({})", vec!["?"; self.cols.len()].join(", "));
        let values = vec![one; rows].join(", ");
        let tail = match on {
            OnConflict::Ignore => "ON CONFLICT(\"_id\") DO NOTHING".to_owned(),
            OnConflict::Replace => format!(
                "ON CONFLICT(\"_id\") DO UPDATE SET {}",
                self.cols
                    .iter()
                    .skip(1)
                    .map(|(c, _)| format!("\"{c}\" = excluded.\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        format!(
            "INSERT INTO {} ({}) VALUES {values} {tail}",
            self.name,
            self.col_list()
        )
    }
}

/// One bound value.
enum Bind {
    Null,
    Int(i64),
    Text(String),
}

fn doc_id(v: &Value) -> String {
    match v.get("_id") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "?".to_owned(),
    }
}

fn to_binds<T: Serialize>(t: &Table, item: &T, out: &mut Vec<Bind>) -> Result<()> {
    let v = serde_json::to_value(item).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let id = doc_id(&v);
    for (col, kind) in t.cols {
        let f = v.get(*col).unwrap_or(&Value::Null);
        let b = match (kind, f) {
            (_, Value::Null) => Bind::Null,
            (Json, f) => Bind::Text(f.to_string()),
            (Bool, Value::Bool(b)) => Bind::Int(i64::from(*b)),
            (_, Value::Number(n)) => match n.as_i64() {
                Some(i) => Bind::Int(i),
                None => return Err(out_of_range(t.name, &id, col)),
            },
            (_, Value::String(s)) => Bind::Text(s.clone()),
            (_, other) => Bind::Text(other.to_string()),
        };
        out.push(b);
    }
    Ok(())
}

fn malformed(t: &str, id: &str, reason: impl ToString) -> StoreError {
    StoreError::Malformed {
        collection: t.to_owned(),
        id: id.to_owned(),
        reason: reason.to_string(),
    }
}

fn from_row<T: DeserializeOwned>(t: &Table, row: &SqliteRow) -> Result<T> {
    let mut m = Map::new();
    let mut id = String::from("?");
    for (i, (col, kind)) in t.cols.iter().enumerate() {
        let raw = row.try_get_raw(i)?;
        let v = if raw.is_null() {
            Value::Null
        } else {
            let ty = raw.type_info().name().to_owned();
            match ty.as_str() {
                "INTEGER" => {
                    let n: i64 = row.try_get_unchecked(i)?;
                    match kind {
                        Bool => match n {
                            0 => Value::Bool(false),
                            1 => Value::Bool(true),
                            _ => Value::from(n),
                        },
                        _ => Value::from(n),
                    }
                }
                "REAL" => {
                    let f: f64 = row.try_get_unchecked(i)?;
                    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
                }
                "TEXT" => {
                    let s: String = row.try_get_unchecked(i)?;
                    if *kind == Json {
                        serde_json::from_str(&s).map_err(|e| {
                            malformed(t.name, &id, format!("column {col}: bad JSON: {e}"))
                        })?
                    } else {
                        Value::String(s)
                    }
                }
                other => {
                    return Err(malformed(
                        t.name,
                        &id,
                        format!("column {col}: unexpected SQLite type {other}"),
                    ));
                }
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

/// Multi-row prepared INSERTs (cached statements); returns rows affected.
async fn insert_rows<T: Serialize>(
    conn: &mut SqliteConnection,
    t: &Table,
    items: &[T],
    on: OnConflict,
) -> Result<u64> {
    let mut affected = 0;
    for batch in items.chunks(ROWS_PER_STMT) {
        let mut binds = Vec::with_capacity(batch.len() * t.cols.len());
        for item in batch {
            to_binds(t, item, &mut binds)?;
        }
        let sql = t.insert_sql(batch.len(), on);
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::Null => q.bind(None::<i64>),
                Bind::Int(i) => q.bind(i),
                Bind::Text(s) => q.bind(s),
            };
        }
        let r = q
            .execute(&mut *conn)
            .await
            .map_err(|e| map_write_err(t, e))?;
        affected += r.rows_affected();
    }
    Ok(affected)
}

/// The SQLite store.
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    fault: Mutex<Option<Fault>>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

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
            .foreign_keys(false);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore {
            pool,
            fault: Mutex::new(None),
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

    async fn put<T: Serialize + Sync>(&self, t: &Table, items: &[T]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        insert_rows(&mut tx, t, items, OnConflict::Replace).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn fetch_all<T: DeserializeOwned>(
        &self,
        t: &Table,
        q: sqlx::query::Query<'_, Sqlite, sqlx::sqlite::SqliteArguments>,
    ) -> Result<Vec<T>> {
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(|r| from_row(t, r)).collect()
    }

    fn take_fault(&self) -> Option<Fault> {
        self.fault.lock().ok().and_then(|mut f| f.take())
    }
}

/// `ChunkStored`: creates the chunk if unknown, else appends the storer unless present (the
/// order of `$addToSet` in MongoDB) — one upsert per storer.
async fn add_storers(conn: &mut SqliteConnection, storers: &[ChunkStorer]) -> Result<()> {
    for s in storers {
        let id = Chunk::make_id(&s.session_id, s.idx);
        sqlx::query(
            "INSERT INTO chunks (\"_id\", session_id, idx, chunk_hash, size, storers) \
             VALUES (?, ?, ?, ?, ?, json_array(?)) \
             ON CONFLICT(\"_id\") DO UPDATE SET storers = CASE \
               WHEN EXISTS (SELECT 1 FROM json_each(COALESCE(chunks.storers, '[]')) \
                            WHERE value = json_extract(excluded.storers, '$[0]')) \
               THEN chunks.storers \
               ELSE json_insert(COALESCE(chunks.storers, '[]'), '$[#]', \
                                json_extract(excluded.storers, '$[0]')) END",
        )
        .bind(&id)
        .bind(&s.session_id)
        .bind(i64::from(s.idx))
        .bind(&s.chunk_hash)
        .bind(i64_of("chunks", &id, "size", s.size)?)
        .bind(&s.storer)
        .execute(&mut *conn)
        .await
        .map_err(|e| map_write_err(&CHUNKS, e))?;
    }
    Ok(())
}

async fn set_slot_results(conn: &mut SqliteConnection, results: &[SlotOutcome]) -> Result<()> {
    for r in results {
        let slot = i64_of("leader_schedule", &r.slot.to_string(), "slot", r.slot)?;
        let json =
            serde_json::to_string(&r.result).map_err(|e| StoreError::Invalid(e.to_string()))?;
        sqlx::query("UPDATE leader_schedule SET result = ? WHERE \"_id\" = ?")
            .bind(json)
            .bind(slot)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
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

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn put_sessions(&self, sessions: &[Session]) -> Result<()> {
        self.put(&SESSIONS, sessions).await
    }
    async fn put_chunks(&self, chunks: &[Chunk]) -> Result<()> {
        self.put(&CHUNKS, chunks).await
    }
    async fn put_proofs(&self, proofs: &[TaskProof]) -> Result<ProofBatchOutcome> {
        if proofs.is_empty() {
            return Ok(ProofBatchOutcome::default());
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let inserted = insert_rows(&mut tx, &TASK_PROOFS, proofs, OnConflict::Ignore).await?;
        tx.commit().await?;
        Ok(ProofBatchOutcome {
            inserted,
            duplicates: proofs.len() as u64 - inserted,
        })
    }
    async fn put_tally(&self, rows: &[WorkTally]) -> Result<()> {
        self.put(&WORK_TALLY, rows).await
    }
    async fn put_schedule(&self, slots: &[LeaderSlot]) -> Result<()> {
        self.put(&LEADER_SCHEDULE, slots).await
    }
    async fn put_payouts(&self, payouts: &[Payout]) -> Result<()> {
        self.put(&PAYOUTS, payouts).await
    }
    async fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        self.put(&CHECKPOINTS, std::slice::from_ref(checkpoint))
            .await
    }

    async fn write_block_range(&self, range: &BlockRange) -> Result<()> {
        let fault = self.take_fault();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        insert_rows(&mut tx, &EVENTS, &range.events, OnConflict::Replace).await?;
        insert_rows(&mut tx, &SESSIONS, &range.sessions, OnConflict::Replace).await?;
        add_storers(&mut tx, &range.chunk_storers).await?;
        set_slot_results(&mut tx, &range.slot_results).await?;
        insert_rows(&mut tx, &PAYOUTS, &range.payouts, OnConflict::Replace).await?;
        if let Some(f) = fault {
            // dropping `tx` rolls back: the crash leaves nothing behind
            return Err(StoreError::Injected(f));
        }
        set_checkpoint(&mut tx, &range.checkpoint).await?;
        tx.commit().await?;
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // the removed events themselves tell what to undo: one DELETE … RETURNING, no SELECT first
        let rows = sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM events WHERE chain_id = ? AND block_number >= ? RETURNING {}",
            EVENTS.col_list()
        )))
        .bind(chain)
        .bind(from)
        .fetch_all(&mut *tx)
        .await?;
        let events = rows
            .iter()
            .map(|r| from_row::<ChainEvent>(&EVENTS, r))
            .collect::<Result<Vec<_>>>()?;
        let d = derive_rollback(&events);
        let mut rep = RollbackReport {
            events_deleted: events.len() as u64,
            ..Default::default()
        };
        // one statement per derived collection: the tx hashes are bound as one JSON array
        let txs =
            serde_json::to_string(&d.tx_hashes).map_err(|e| StoreError::Invalid(e.to_string()))?;
        rep.sessions_reset = sqlx::query(
            "UPDATE sessions SET status = 'pending', slot = NULL, anchor_txid = NULL, \
             block_number = NULL, block_hash = NULL, gas_used = NULL \
             WHERE anchor_txid IN (SELECT value FROM json_each(?))",
        )
        .bind(&txs)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        rep.slot_results_cleared = sqlx::query(
            "UPDATE leader_schedule SET result = NULL \
             WHERE result IS NOT NULL AND json_valid(result) \
             AND json_extract(result, '$.txid') IN (SELECT value FROM json_each(?))",
        )
        .bind(&txs)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        rep.payouts_reset = sqlx::query(
            "UPDATE payouts SET status = 'sent' \
             WHERE status = 'paid' AND txid IN (SELECT value FROM json_each(?))",
        )
        .bind(&txs)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        for (chunk_id, storers) in &d.storers {
            for s in storers {
                rep.storers_removed += sqlx::query(
                    "UPDATE chunks SET storers = (SELECT json_group_array(value) FROM \
                     json_each(chunks.storers) WHERE value != ?) \
                     WHERE \"_id\" = ? AND json_valid(storers) AND \
                     EXISTS (SELECT 1 FROM json_each(chunks.storers) WHERE value = ?)",
                )
                .bind(s)
                .bind(chunk_id)
                .bind(s)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
        }
        match checkpoint {
            Some(cp) => set_checkpoint(&mut tx, cp).await?,
            None => {
                sqlx::query("DELETE FROM checkpoints WHERE \"_id\" = ?")
                    .bind(chain)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(rep)
    }

    async fn session(&self, id: &str) -> Result<Option<Session>> {
        let q =
            sqlx::query(AssertSqlSafe(SESSIONS.select("WHERE \"_id\" = ?"))).bind(id.to_owned());
        Ok(self.fetch_all(&SESSIONS, q).await?.pop())
    }

    async fn sessions_by_owner(
        &self,
        owner: &str,
        status: Option<SessionStatus>,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<Session>> {
        let limit = limit.max(1);
        let mut tail = String::from("WHERE owner_addr = ?");
        if status.is_some() {
            tail.push_str(" AND status = ?");
        }
        let cur = cursor.map(decode_cursor).transpose()?;
        if cur.is_some() {
            tail.push_str(" AND (started_at < ? OR (started_at = ? AND \"_id\" < ?))");
        }
        tail.push_str(" ORDER BY started_at DESC, \"_id\" DESC LIMIT ?");
        let mut q = sqlx::query(AssertSqlSafe(SESSIONS.select(&tail))).bind(owner.to_owned());
        if let Some(s) = status {
            q = q.bind(s.as_str());
        }
        if let Some((t, id)) = cur {
            q = q.bind(t).bind(t).bind(id);
        }
        q = q.bind(i64::from(limit) + 1);
        let items: Vec<Session> = self.fetch_all(&SESSIONS, q).await?;
        Ok(Page::from_overfetch(items, limit))
    }

    async fn chunks_of_session(&self, session_id: &str) -> Result<Vec<Chunk>> {
        let q = sqlx::query(AssertSqlSafe(
            CHUNKS.select("WHERE session_id = ? ORDER BY idx"),
        ))
        .bind(session_id.to_owned());
        self.fetch_all(&CHUNKS, q).await
    }

    async fn events(&self, eq: &EventQuery) -> Result<Vec<ChainEvent>> {
        let from = sat(eq.from_block);
        let to = sat(eq.to_block);
        let q = match eq.chain_id {
            Some(c) => sqlx::query(AssertSqlSafe(EVENTS.select(
                "WHERE chain_id = ? AND event = ? AND block_number BETWEEN ? AND ? \
                 ORDER BY chain_id, block_number, log_index",
            )))
            .bind(i64_of("events", "-", "chain_id", c)?),
            None => sqlx::query(AssertSqlSafe(EVENTS.select(
                "WHERE event = ? AND block_number BETWEEN ? AND ? \
                 ORDER BY chain_id, block_number, log_index",
            ))),
        };
        let q = q.bind(eq.event.clone()).bind(from).bind(to);
        self.fetch_all(&EVENTS, q).await
    }

    async fn proof(&self, id: &str) -> Result<Option<TaskProof>> {
        let q =
            sqlx::query(AssertSqlSafe(TASK_PROOFS.select("WHERE \"_id\" = ?"))).bind(id.to_owned());
        Ok(self.fetch_all(&TASK_PROOFS, q).await?.pop())
    }

    async fn proofs_in_slots(&self, from_slot: u64, to_slot: u64) -> Result<Vec<TaskProof>> {
        let q = sqlx::query(AssertSqlSafe(
            TASK_PROOFS.select("WHERE slot >= ? AND slot < ? ORDER BY slot, \"nodeId\", \"_id\""),
        ))
        .bind(sat(from_slot))
        .bind(sat(to_slot));
        self.fetch_all(&TASK_PROOFS, q).await
    }

    async fn tally_by_rank(&self, epoch: u64) -> Result<Vec<WorkTally>> {
        let q = sqlx::query(AssertSqlSafe(
            WORK_TALLY.select("WHERE epoch = ? ORDER BY rank IS NULL, rank, \"entityId\""),
        ))
        .bind(i64_of("work_tally", "-", "epoch", epoch)?);
        self.fetch_all(&WORK_TALLY, q).await
    }

    async fn schedule(&self, from_slot: u64, to_slot: u64) -> Result<Vec<LeaderSlot>> {
        let q = sqlx::query(AssertSqlSafe(
            LEADER_SCHEDULE.select("WHERE \"_id\" >= ? AND \"_id\" < ? ORDER BY \"_id\""),
        ))
        .bind(sat(from_slot))
        .bind(sat(to_slot));
        self.fetch_all(&LEADER_SCHEDULE, q).await
    }

    async fn payout(&self, id: &str) -> Result<Option<Payout>> {
        let q = sqlx::query(AssertSqlSafe(PAYOUTS.select("WHERE \"_id\" = ?"))).bind(id.to_owned());
        Ok(self.fetch_all(&PAYOUTS, q).await?.pop())
    }

    async fn payouts_by_recipient(&self, to_evm: &str, period: Option<u32>) -> Result<Vec<Payout>> {
        let q = match period {
            Some(p) => sqlx::query(AssertSqlSafe(
                PAYOUTS.select("WHERE period = ? AND to_evm = ? ORDER BY period, \"_id\""),
            ))
            .bind(i64::from(p)),
            None => sqlx::query(AssertSqlSafe(
                PAYOUTS.select("WHERE to_evm = ? ORDER BY period, \"_id\""),
            )),
        };
        self.fetch_all(&PAYOUTS, q.bind(to_evm.to_owned())).await
    }

    async fn checkpoint(&self, chain_id: u64) -> Result<Option<Checkpoint>> {
        let q = sqlx::query(AssertSqlSafe(CHECKPOINTS.select("WHERE \"_id\" = ?"))).bind(i64_of(
            "checkpoints",
            "-",
            "_id",
            chain_id,
        )?);
        Ok(self.fetch_all(&CHECKPOINTS, q).await?.pop())
    }

    fn inject_fault(&self, fault: Option<Fault>) {
        if let Ok(mut f) = self.fault.lock() {
            *f = fault;
        }
    }
}
