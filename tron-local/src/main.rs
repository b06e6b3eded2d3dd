//! `lucid-tron-local --evm-rpc URL --listen ADDR`: a local stand-in for a TRON full node's HTTP
//! API in front of an anvil (`TRON_NETWORK=local`), the way anvil stands in for Ethereum.
//!
//! It serves the subset the payout path uses and checks transactions the way java-tron does
//! (TaPoS, expiration, duplicates, signature; same codes and messages), executes them on the anvil
//! as the signer (impersonation), and answers in java-tron's JSON (`visible: false`). `/jsonrpc`
//! is passed through to the anvil for the indexer. What it does not model is listed in
//! docs/operations.md ("TRON: the local stand-in and what it does not model").

mod evm;
mod server;

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;

/// Command line (each flag also reads an environment variable).
#[derive(Debug, Parser)]
#[command(name = "lucid-tron-local", version, about)]
pub struct Args {
    /// The anvil behind the stand-in.
    #[arg(long, env = "TRON_LOCAL_EVM_RPC")]
    pub evm_rpc: String,
    /// Address to listen on.
    #[arg(long, env = "TRON_LOCAL_LISTEN", default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// The solidified head is this many blocks behind the head (java-tron: ~19 on mainnet).
    #[arg(long, env = "TRON_LOCAL_SOLID_LAG", default_value_t = 1)]
    pub solid_lag: u64,
    /// Price of one energy in sun (`/wallet/getenergyprices`); gas limit = fee_limit / price.
    #[arg(long, env = "TRON_LOCAL_ENERGY_PRICE", default_value_t = 210)]
    pub energy_price: u64,
    /// Serve `POST /lucid/faults` (tests only): queue java-tron answers such as SERVER_BUSY for the
    /// next broadcasts.
    #[arg(long, env = "TRON_LOCAL_FAULTS", default_value_t = false)]
    pub faults: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let evm = evm::Evm::new(&args.evm_rpc).context("--evm-rpc")?;
    evm.call("eth_chainId", serde_json::json!([]))
        .await
        .with_context(|| format!("the anvil at {} does not answer", args.evm_rpc))?;
    // Signal handlers before announcing the address: a SIGTERM right after start is a clean stop.
    let stop = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    let app = server::router(
        server::State::new(evm, args.solid_lag, args.energy_price),
        args.faults,
    );
    tracing::info!(%local, evm = %args.evm_rpc, solid_lag = args.solid_lag, "lucid-tron-local listening");
    // A line tests and scripts can wait for.
    println!("listening on {local}");
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
        .context("server")?;
    tracing::info!("lucid-tron-local stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM; the handlers are installed when this is called.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).context("SIGINT handler")?;
    let mut term = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
    })
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
