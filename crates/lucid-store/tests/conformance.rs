//! One conformance suite, instantiated per backend: `sqlite::…`, `mongo::…` (transactions, the
//! default against a replica set) and `mongo_no_txn::…` (data first, checkpoint last).
//!
//! The MongoDB instantiations start one SecantusDB test server per test binary (installed into
//! `<repo>/.venv` by `tools/ensure-venv.sh` when missing), or use `MONGODB_URI` when set. If the
//! server cannot start, the tests fail saying why.

mod harness;
mod suite;

macro_rules! conformance {
    ($make:path) => {
        conformance!(@t $make;
            idempotent_rewrites, submissions_insert_if_absent, anchoring_from_events,
            pending_batch_order, queries, pagination_stability, rollback_restores_exactly,
            checkpoint_atomicity, rollback_fault_then_retry, bad_events_refused,
            epochs_first_writer_wins, plans_and_results, payouts_lifecycle, payout_addresses,
            concurrent_writers, malformed_documents, schema_field_names,
            session_gas_from_receipts, data_version_sees_every_commit);
    };
    (@t $make:path; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                crate::suite::$name($make().await).await;
            }
        )*
    };
}

mod sqlite {
    conformance!(crate::harness::sqlite_store);
}

mod mongo {
    conformance!(crate::harness::mongo_store);
}

mod mongo_no_txn {
    conformance!(crate::harness::mongo_store_no_txn);
}

#[tokio::test]
async fn open_rejects_unknown_scheme() {
    match lucid_store::open(Some("postgres://localhost/x")).await {
        Err(lucid_store::StoreError::UnsupportedUrl { url }) => {
            assert_eq!(url, "postgres://localhost/x")
        }
        other => panic!("expected UnsupportedUrl, got {other:?}"),
    }
}

#[tokio::test]
async fn open_sqlite_memory() {
    let s = lucid_store::open(Some("sqlite::memory:"))
        .await
        .expect("open");
    s.put_checkpoint(&lucid_store::Checkpoint {
        chain_id: 1,
        block_number: 2,
        block_hash: alloy_primitives::B256::ZERO,
    })
    .await
    .expect("write");
    assert_eq!(
        s.checkpoint(1).await.expect("read").map(|c| c.block_number),
        Some(2)
    );
}

#[tokio::test]
async fn open_sqlite_url() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let s = lucid_store::open(Some(&url)).await.expect("open");
    assert_eq!(s.backend(), lucid_store::Backend::Sqlite);
    assert_eq!(s.checkpoint(1).await.expect("read"), None);
}
