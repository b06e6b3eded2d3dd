//! The SQLite store copies committed WAL frames into the database file on a connection of its
//! own (the checkpointer), not inside the writer's commit: after a bulk write, the database file
//! grows although SQLite's automatic checkpoint (at 100,000 WAL pages) never ran. A large WAL file
//! is not truncated inside a writer's commit but by the checkpointer once the store is quiet.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256, U256};
use lucid_store::sqlite::{SqliteStore, WAL_KEEP_BYTES};
use lucid_store::{BlockRange, ChainEvent, Checkpoint, Store};
use serde_json::json;

fn range(first_block: u64, n: u64) -> BlockRange {
    let events = (0..n)
        .map(|i| {
            let tx = B256::from(U256::from(first_block * 1_000_000 + i));
            ChainEvent {
                id: ChainEvent::make_id(1, &tx, 0),
                chain_id: 1,
                address: Address::repeat_byte(0xa1),
                // an event no derived state comes from: stored as is
                event: "RoleGranted".into(),
                block_number: first_block,
                block_hash: B256::repeat_byte(1),
                block_time: 1_704_067_200,
                tx_hash: tx,
                log_index: 0,
                args: json!({"pad": "x".repeat(1024), "i": i}),
            }
        })
        .collect();
    BlockRange::new(
        Checkpoint {
            chain_id: 1,
            block_number: first_block,
            block_hash: B256::repeat_byte(1),
        },
        events,
    )
}

/// Waits up to 30 s for the size of `file` (0 when absent) to satisfy `ok`.
async fn wait_for_size(
    file: &std::path::Path,
    ok: impl Fn(u64) -> bool,
    failure: impl Fn(u64) -> String,
) {
    let t = Instant::now();
    loop {
        let now = std::fs::metadata(file).map_or(0, |m| m.len());
        if ok(now) {
            return;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "{}", failure(now));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_frames_reach_the_database_file_without_the_writer_checkpointing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let wal = dir.path().join("c.db-wal");
    let store = SqliteStore::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let before = std::fs::metadata(&db).unwrap().len();
    // ~3 MiB of rows: about 800 WAL pages, far below the automatic checkpoint's 100,000
    store.write_block_range(&range(1, 3_000)).await.unwrap();
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 3 << 20,
        "the commit went to the WAL"
    );
    wait_for_size(
        &db,
        |now| now > before + (3 << 20),
        |now| format!("the database file did not grow ({before} → {now} bytes): no checkpoint ran"),
    )
    .await;
    // the data is all there, read through the pool
    assert_eq!(store.count_events(Some(1)).await.unwrap(), 3_000);
}

/// The first commit after a complete checkpoint restarts the WAL. With a `journal_size_limit` it
/// also truncated the file, inside that commit: 0.3–0.5 s for a WAL of ~400 MB on this disk (the
/// first live block after a backfill). Now the commit leaves the file as is and the checkpointer
/// truncates it once the store has been quiet for a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_wal_is_truncated_by_the_checkpointer_not_by_a_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let wal = dir.path().join("t.db-wal");
    let store = SqliteStore::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    // ~82 MB into the WAL behind the store's back (the checkpointer is not told), then copied.
    store
        .execute_raw("CREATE TABLE scratch (b BLOB)")
        .await
        .unwrap();
    store
        .execute_raw(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) \
             INSERT INTO scratch SELECT zeroblob(4000) FROM n",
        )
        .await
        .unwrap();
    let big = std::fs::metadata(&wal).unwrap().len();
    assert!(big > WAL_KEEP_BYTES, "WAL of {big} bytes");
    store
        .execute_raw("PRAGMA wal_checkpoint(PASSIVE)")
        .await
        .unwrap();
    // This commit restarts the WAL: the file keeps its size.
    store.write_block_range(&range(1, 10)).await.unwrap();
    let after = std::fs::metadata(&wal).unwrap().len();
    assert_eq!(
        after, big,
        "the commit truncated the WAL file ({big} → {after} bytes)"
    );
    // Quiet now: the checkpointer truncates it.
    wait_for_size(
        &wal,
        |now| now <= WAL_KEEP_BYTES,
        |now| format!("the WAL file is still {now} bytes"),
    )
    .await;
    assert_eq!(store.count_events(Some(1)).await.unwrap(), 10);
}
