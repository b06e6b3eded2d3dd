//! Several processes (and tasks) opening the same fresh SQLite file at once, as `./dev up` does
//! with three keepers and the indexer: every open succeeds and the file ends with one schema,
//! every migration applied once.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use lucid_store::Store;

const CHILD_ENV: &str = "LUCID_STORE_RACE_URL";

async fn open_and_write(url: &str, chain: u64) {
    let s = lucid_store::open(Some(url)).await.unwrap_or_else(|e| {
        panic!("open {url}: {e}");
    });
    s.put_checkpoint(&lucid_store::Checkpoint {
        chain_id: chain,
        block_number: chain,
        block_hash: alloy_primitives::B256::repeat_byte(chain as u8),
    })
    .await
    .unwrap();
}

/// The child side: opens the store named by the environment (no-op when run directly).
#[tokio::test]
async fn child_opens_the_store() {
    if let Ok(url) = std::env::var(CHILD_ENV) {
        let chain: u64 = std::env::var("LUCID_STORE_RACE_CHAIN")
            .unwrap()
            .parse()
            .unwrap();
        open_and_write(&url, chain).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_opens_of_a_fresh_file_all_succeed_with_one_schema() {
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("race.db").display());
        // 4 processes…
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = (0..4u64)
            .map(|i| {
                Command::new(&exe)
                    .args(["child_opens_the_store", "--exact", "--nocapture"])
                    .env(CHILD_ENV, &url)
                    .env("LUCID_STORE_RACE_CHAIN", (100 + i).to_string())
                    .spawn()
                    .unwrap()
            })
            .collect();
        // …and 6 tasks of this one, at the same moment.
        let tasks: Vec<_> = (0..6u64)
            .map(|i| {
                let url = url.clone();
                tokio::spawn(async move { open_and_write(&url, 1 + i).await })
            })
            .collect();
        for t in tasks {
            t.await
                .unwrap_or_else(|e| panic!("round {round}: a task failed: {e}"));
        }
        for mut c in children {
            let st = tokio::task::spawn_blocking(move || c.wait())
                .await
                .unwrap()
                .unwrap();
            assert!(
                st.success(),
                "round {round}: a process failed to open the store"
            );
        }
        let s = lucid_store::sqlite::SqliteStore::open(&url).await.unwrap();
        for chain in (1..=6).chain(100..104) {
            assert_eq!(
                s.checkpoint(chain).await.unwrap().map(|c| c.block_number),
                Some(chain),
                "round {round}: chain {chain}'s write is missing"
            );
        }
        // each migration applied exactly once, all successfully
        let n = s
            .execute_raw("UPDATE _sqlx_migrations SET success = success")
            .await
            .unwrap();
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap()
            .count() as u64;
        assert_eq!(
            n, files,
            "round {round}: migrations recorded {n} times for {files} files"
        );
        let cols = s.column_names("session_anchorings").await.unwrap();
        assert_eq!(
            cols.iter().filter(|c| *c == "gas_used").count(),
            1,
            "{cols:?}"
        );
    }
}
