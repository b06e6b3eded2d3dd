//! Test harness: stores of each backend (MongoDB: `MONGODB_URI` or the SecantusDB test server,
//! see `lucid_e2e::mongo_url`).
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU32, Ordering};

use lucid_store::Store;
use lucid_store::mongo::{MongoOptions, MongoStore, TxMode};
use lucid_store::sqlite::SqliteStore;
use std::sync::Arc;

/// Backend-specific handle for hand edits.
#[derive(Debug)]
pub enum Raw {
    Sqlite(Arc<SqliteStore>),
    Mongo(Arc<MongoStore>),
}

#[derive(Debug)]
pub struct Ctx {
    pub store: Arc<dyn Store>,
    pub raw: Raw,
    /// Whether a block range and its checkpoint commit atomically.
    pub atomic_ranges: bool,
    /// The SQLite file's URL (a second store on the same file stands in for another process).
    pub sqlite_url: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite_store() -> Ctx {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("lucid.db").display());
    let s = Arc::new(SqliteStore::open(&url).await.expect("open sqlite store"));
    Ctx {
        store: s.clone(),
        raw: Raw::Sqlite(s),
        atomic_ranges: true,
        sqlite_url: Some(url),
        _dir: Some(dir),
    }
}

pub async fn mongo_store() -> Ctx {
    mongo_with(TxMode::Auto).await
}

pub async fn mongo_store_no_txn() -> Ctx {
    mongo_with(TxMode::Off).await
}

static DB_SEQ: AtomicU32 = AtomicU32::new(0);

async fn mongo_with(mode: TxMode) -> Ctx {
    let db = format!(
        "lucid_t{}_{}",
        std::process::id(),
        DB_SEQ.fetch_add(1, Ordering::SeqCst)
    );
    // the first call may wait for the test server to start
    let url = tokio::task::spawn_blocking(move || lucid_e2e::mongo_url(&db))
        .await
        .unwrap();
    let s = Arc::new(
        MongoStore::open(&url, MongoOptions { transactions: mode })
            .await
            .unwrap_or_else(|e| panic!("cannot open MongoDB store at {url}: {e}")),
    );
    if mode == TxMode::Auto {
        assert!(
            s.uses_transactions(),
            "the test server should report a replica set (transactions)"
        );
    }
    Ctx {
        atomic_ranges: s.uses_transactions(),
        store: s.clone(),
        raw: Raw::Mongo(s),
        sqlite_url: None,
        _dir: None,
    }
}
