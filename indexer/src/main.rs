//! `lucid-indexer run`: see the crate documentation and docs/operations.md.

use anyhow::Context;
use clap::Parser;
use lucid_indexer::config::{Cli, Cmd, LogFormat};
use tokio::sync::watch;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let Cmd::Run(args) = cli.cmd;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    match args.log_format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested: finishing the range being written");
        let _ = tx.send(true);
    });
    // Start-up waits up to a minute for an RPC node and retries a locked store: a signal meanwhile
    // ends the process at once (nothing is being written yet).
    let mut stop = rx.clone();
    let start = async {
        let cfg = lucid_indexer::config::resolve(&args).await?;
        let store = lucid_store::open(Some(&args.store))
            .await
            .with_context(|| format!("opening the store {}", redact(&args.store)))?;
        anyhow::Ok((cfg, store))
    };
    let (cfg, store) = tokio::select! {
        r = start => r?,
        _ = stop.wait_for(|s| *s) => {
            tracing::info!("stopped during start-up");
            return Ok(());
        }
    };
    for c in &cfg.chains {
        tracing::info!(role = c.role, chain_id = c.chain_id, rpc = %c.rpc_url, start_block = c.start_block, confirmations = c.confirmations, contracts = c.contracts.len(), "following");
    }
    lucid_indexer::run(cfg, store, rx).await?;
    tracing::info!("stopped");
    Ok(())
}

/// A store URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
