//! Point reads in place: a small pool of read-only rusqlite connections used on the calling
//! thread, for the API's hottest read (`GET /v1/sessions/{id}`: one row by primary key).
//!
//! Why (docs/decisions/store.md "Point reads"): sqlx-sqlite runs every statement on a worker
//! thread of its connection, so a one-row read is a message to that thread and its row and
//! completion messages back: futex wake-ups and context switches took about a quarter of the
//! server's CPU per request, more than SQLite's own work. Here the statement runs where the
//! request is.
//!
//! It never waits: the connections have no busy timeout, so a read that would wait for a lock
//! (SQLite readers wait only in rare moments of WAL recovery or restart) returns
//! [`Skipped::Busy`] and the caller reads through the sqlx pool instead, which waits as every
//! other read does. A read costs SQLite a B-tree descent of pages the OS has cached (about 10 µs
//! here), which is shorter than Tokio's guidance for work between two `.await`s. A connection that
//! fails in any other way is dropped (the first such failure is a warning, later ones debug
//! lines: a broken file must not turn every request into a log line); when none can be opened at
//! all (e.g. the directory is read-only and the WAL index cannot be mapped) point reads turn off
//! for good, with one warning.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::Raw;

/// Bytes of the database file each connection maps (`PRAGMA mmap_size`).
const MMAP_BYTES: i64 = 1 << 30;

/// Idle connections kept (more are opened when more threads read at once, then closed).
const MAX_IDLE: usize = 8;

/// The pool of read-only connections to one database file.
#[derive(Debug)]
pub(super) struct PointReads {
    path: String,
    idle: Mutex<Vec<Connection>>,
    off: AtomicBool,
    /// A failed read was logged as a warning (later ones are debug lines).
    warned: AtomicBool,
}

/// Why a point read did not answer (the caller then reads through the sqlx pool).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Skipped {
    /// The database was locked at that moment.
    Busy,
    /// Point reads are off, or this one failed (logged).
    Failed,
}

impl PointReads {
    pub(super) fn new(path: &str) -> Self {
        PointReads {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            off: AtomicBool::new(false),
            warned: AtomicBool::new(false),
        }
    }

    /// The values of the rows `sql` selects with `params` (each row's first `cols` columns).
    pub(super) fn rows(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
        cols: usize,
    ) -> Result<Vec<Vec<Raw>>, Skipped> {
        if self.off.load(Ordering::Relaxed) {
            return Err(Skipped::Failed);
        }
        let conn = self.take()?;
        let read = (|| {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = stmt.query(params)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let mut vals = Vec::with_capacity(cols);
                for i in 0..cols {
                    vals.push(raw(row.get_ref(i)?));
                }
                out.push(vals);
            }
            Ok::<_, rusqlite::Error>(out)
        })();
        match read {
            Ok(rows) => {
                self.give_back(conn);
                Ok(rows)
            }
            Err(e) if is_busy(&e) => {
                self.give_back(conn);
                Err(Skipped::Busy)
            }
            Err(e) => {
                // dropped: the next read opens a fresh one
                if self.warned.swap(true, Ordering::Relaxed) {
                    tracing::debug!(error = %e, "SQLite point read failed; reading through the pool");
                } else {
                    tracing::warn!(error = %e, "SQLite point read failed; reading through the pool (later failures are logged at debug level)");
                }
                Err(Skipped::Failed)
            }
        }
    }

    fn take(&self) -> Result<Connection, Skipped> {
        if let Some(c) = self.idle.lock().ok().and_then(|mut v| v.pop()) {
            return Ok(c);
        }
        match self.open() {
            Ok(c) => Ok(c),
            Err(e) if is_busy(&e) => Err(Skipped::Busy),
            Err(e) => {
                if !self.off.swap(true, Ordering::Relaxed) {
                    tracing::warn!(path = %self.path, error = %e,
                        "cannot open a read-only SQLite connection: point reads off, every read goes through the pool");
                }
                Err(Skipped::Failed)
            }
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // never wait on the calling thread: a locked database is read through the pool
        c.busy_timeout(Duration::ZERO)?;
        c.pragma_update(None, "temp_store", "memory")?;
        // Pages of the first GiB read through a memory map instead of a pread into this
        // connection's own page cache (random ids miss a 2 MiB cache): 54 → 48 µs of indexer CPU
        // per uncached GET /v1/sessions/{id} (docs/benchmarks.md, session 7).
        c.pragma_update(None, "mmap_size", MMAP_BYTES)?;
        Ok(c)
    }

    fn give_back(&self, c: Connection) {
        if let Ok(mut v) = self.idle.lock()
            && v.len() < MAX_IDLE
        {
            v.push(c);
        }
    }

    /// Connections idle in the pool (tests).
    #[cfg(test)]
    pub(super) fn idle(&self) -> usize {
        self.idle.lock().map(|v| v.len()).unwrap_or(0)
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

fn raw(v: ValueRef<'_>) -> Raw {
    match v {
        ValueRef::Null => Raw::Null,
        ValueRef::Integer(i) => Raw::Int(i),
        ValueRef::Real(f) => Raw::Real(f),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Raw::Text(s.to_owned()),
            Err(_) => Raw::Other("TEXT (not UTF-8)".into()),
        },
        ValueRef::Blob(_) => Raw::Other("BLOB".into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Store;
    use crate::sqlite::SqliteStore;

    const ID: &str = "0f6c2f8e-3b7a-4c1d-9e2f-1a2b3c4d5e6f";

    fn insert_session(status: &str) -> String {
        format!(
            "INSERT INTO sessions (\"_id\", owner_addr, started_at, manifest_hash, merkle_root, \
             chunk_count, status) VALUES ('{ID}', '0x{:040x}', 1700000000, '0x{:064x}', '0x{:064x}', 3, '{status}')",
            1, 2, 3
        )
    }

    fn db() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lucid.db").display().to_string();
        (dir, path)
    }

    #[tokio::test]
    async fn a_session_is_read_in_place_and_sees_every_commit() {
        let (_dir, path) = db();
        let store = SqliteStore::open(&format!("sqlite://{path}"))
            .await
            .unwrap();
        let point = store.point.as_ref().expect("a file store has point reads");
        assert_eq!(store.session(ID).await.unwrap(), None);
        store.execute_raw(&insert_session("pending")).await.unwrap();
        let s = store.session(ID).await.unwrap().expect("the session");
        assert_eq!(s.status.as_str(), "pending");
        // the read ran on a pooled read-only connection, not through sqlx
        assert_eq!(point.idle(), 1);
        store
            .execute_raw(&format!(
                "UPDATE sessions SET status = 'anchored' WHERE \"_id\" = '{ID}'"
            ))
            .await
            .unwrap();
        // the idle connection holds no snapshot: the next read sees the commit
        let s = store.session(ID).await.unwrap().unwrap();
        assert_eq!(s.status.as_str(), "anchored");
        assert_eq!(point.idle(), 1);
    }

    #[tokio::test]
    async fn reads_go_through_the_pool_when_point_reads_fail() {
        let (_dir, path) = db();
        let store = SqliteStore::open(&format!("sqlite://{path}"))
            .await
            .unwrap();
        store.execute_raw(&insert_session("pending")).await.unwrap();
        let point = store.point.as_ref().unwrap();
        point.off.store(true, Ordering::Relaxed);
        let s = store
            .session(ID)
            .await
            .unwrap()
            .expect("read through the pool");
        assert_eq!(s.id, ID);
        assert_eq!(point.idle(), 0, "no point read ran");
    }

    #[test]
    fn connections_never_wait_for_a_lock_and_map_the_file() {
        let (_dir, path) = db();
        Connection::open(&path).unwrap();
        let p = PointReads::new(&path);
        let c = p.open().unwrap();
        let ms: i64 = c
            .pragma_query_value(None, "busy_timeout", |r| r.get(0))
            .unwrap();
        assert_eq!(ms, 0);
        let mmap: i64 = c
            .pragma_query_value(None, "mmap_size", |r| r.get(0))
            .unwrap();
        assert_eq!(mmap, MMAP_BYTES);
    }

    #[test]
    fn a_locked_database_is_busy_and_keeps_the_connection() {
        let (_dir, path) = db();
        // a rollback-journal database: a writer's exclusive lock blocks readers (in WAL mode
        // readers are blocked only in rare moments, which is what this stands for)
        let w = Connection::open(&path).unwrap();
        w.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7);")
            .unwrap();
        let p = PointReads::new(&path);
        assert_eq!(
            p.rows("SELECT x FROM t", &[], 1).unwrap()[0].len(),
            1,
            "readable while unlocked"
        );
        w.execute_batch("BEGIN EXCLUSIVE; INSERT INTO t VALUES (8);")
            .unwrap();
        assert_eq!(
            p.rows("SELECT x FROM t", &[], 1).unwrap_err(),
            Skipped::Busy
        );
        assert_eq!(p.idle(), 1, "a busy connection is kept");
        assert!(!p.off.load(Ordering::Relaxed));
        w.execute_batch("COMMIT;").unwrap();
        assert_eq!(p.rows("SELECT x FROM t", &[], 1).unwrap().len(), 2);
    }

    #[test]
    fn an_unopenable_file_turns_point_reads_off() {
        let (dir, _) = db();
        let p = PointReads::new(&dir.path().join("missing/lucid.db").display().to_string());
        assert_eq!(p.rows("SELECT 1", &[], 1).unwrap_err(), Skipped::Failed);
        assert!(p.off.load(Ordering::Relaxed));
        assert_eq!(p.rows("SELECT 1", &[], 1).unwrap_err(), Skipped::Failed);
    }

    #[test]
    fn a_failing_statement_drops_its_connection() {
        let (_dir, path) = db();
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x INTEGER)")
            .unwrap();
        let p = PointReads::new(&path);
        assert_eq!(
            p.rows("SELECT nope FROM t", &[], 1).unwrap_err(),
            Skipped::Failed
        );
        assert_eq!(p.idle(), 0);
        assert!(!p.off.load(Ordering::Relaxed), "opening still works");
        assert!(
            p.warned.load(Ordering::Relaxed),
            "the first failure is a warning"
        );
        assert_eq!(
            p.rows("SELECT nope FROM t", &[], 1).unwrap_err(),
            Skipped::Failed
        );
    }

    #[test]
    fn values_keep_their_storage_class() {
        let (_dir, path) = db();
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE t (a, b, c, d, e); INSERT INTO t VALUES (NULL, 5, 1.5, 'x', x'00');",
            )
            .unwrap();
        let p = PointReads::new(&path);
        let row = p.rows("SELECT * FROM t", &[], 5).unwrap().remove(0);
        assert!(matches!(
            row.as_slice(),
            [Raw::Null, Raw::Int(5), Raw::Real(f), Raw::Text(s), Raw::Other(b)]
                if *f == 1.5 && s == "x" && b == "BLOB"
        ));
    }
}
