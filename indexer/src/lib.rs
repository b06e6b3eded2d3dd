//! lucid-indexer: follows the on-system chain and the payment chain into the store (SQLite or MongoDB)
//! through reorgs and crashes, and serves the store over HTTP.
//!
//! [`run`] is the whole program once its configuration is resolved; `main.rs` parses flags and the
//! environment (SPEC §1) into a [`Config`].

pub mod api;
pub mod cache;
pub mod config;
pub mod follower;
pub mod progress;
pub mod status;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lucid_chain::{ChainClient, ContractKind, EventDecoder, RetryPolicy};
use lucid_store::Store;
use tokio::sync::watch;

pub use config::{ChainConfig, Config};
use follower::{Follower, FollowerConfig};
use status::Status;

/// Every event name the decoder knows, sorted.
pub fn event_names() -> Vec<String> {
    let mut v: Vec<String> = ContractKind::ALL
        .iter()
        .flat_map(|k| k.abis())
        .flat_map(|abi| abi.events().map(|e| e.name.clone()).collect::<Vec<_>>())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Runs the followers and the HTTP API until `shutdown` turns true, then lets every follower finish
/// the range it is writing. Returns an error only if the API cannot start; a halted chain is reported
/// by `/ready` and `/v1/status` while the rest keeps running.
pub async fn run(
    cfg: Config,
    store: Arc<dyn Store>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let status = Status::new(cfg.stale_after());
    let mut tasks = Vec::new();
    for chain in &cfg.chains {
        let client = ChainClient::new(&chain.rpc_url, cfg.rpc_timeout)
            .with_context(|| format!("chain {}: RPC {}", chain.chain_id, chain.rpc_url))?
            .with_retry(RetryPolicy {
                initial: Duration::from_millis(50),
                max_delay: Duration::from_secs(2),
                max_attempts: Some(3),
            });
        let decoder = EventDecoder::new(chain.chain_id, chain.contracts.iter().copied());
        status.register(chain.chain_id, chain.role, chain.confirmations);
        let fcfg = FollowerConfig {
            chain_id: chain.chain_id,
            role: chain.role,
            contracts: decoder.addresses(),
            start_block: chain.start_block,
            confirmations: chain.confirmations,
            poll: cfg.poll,
            reorg_window: cfg.reorg_window,
            initial_range: cfg.initial_range,
            max_range: cfg.max_range,
            max_range_events: cfg.max_range_events,
        };
        let f = Follower::new(fcfg, client, decoder, store.clone(), status.clone());
        let rx = shutdown.clone();
        tasks.push(tokio::spawn(f.run(rx)));
    }
    let progress = cfg
        .progress
        .then(|| progress::spawn(status.clone(), shutdown.clone()));

    let state = api::AppState {
        store: store.clone(),
        status: status.clone(),
        event_names: event_names(),
        params: cfg.params,
        cache: cache::ResponseCache::new(cfg.api_cache, store.clone(), status.clone()),
    };
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    tracing::info!(listen = %listener.local_addr().unwrap_or(cfg.listen), "HTTP API up");
    let mut rx = shutdown.clone();
    let server = axum::serve(listener, api::router(state)).with_graceful_shutdown(async move {
        while !*rx.borrow() {
            if rx.changed().await.is_err() {
                break;
            }
        }
    });
    let server = tokio::spawn(async move { server.await });
    for t in tasks {
        match t.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                // Halted chain: keep serving until shutdown.
                tracing::error!(error = %e, "a chain stopped");
            }
            Err(e) => tracing::error!(error = %e, "a follower task panicked"),
        }
    }
    server
        .await
        .context("HTTP server task")?
        .context("HTTP server")?;
    if let Some(p) = progress {
        p.abort();
    }
    Ok(())
}
