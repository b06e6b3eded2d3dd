//! The SQLite store copies committed WAL frames into the database file on a connection of its
//! own (the checkpointer), not inside the writer's commit: after a bulk write, the database file
//! grows although SQLite's automatic checkpoint (at 100,000 WAL pages) never ran.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256, U256};
use lucid_store::sqlite::SqliteStore;
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
    let t = Instant::now();
    loop {
        let now = std::fs::metadata(&db).unwrap().len();
        if now > before + (3 << 20) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the database file did not grow ({before} → {now} bytes): no checkpoint ran"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // the data is all there, read through the pool
    assert_eq!(store.count_events(Some(1)).await.unwrap(), 3_000);
}
