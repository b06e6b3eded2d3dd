//! Configuration: SPEC §1 environment variables, overridden by flags, resolved against the chains and
//! `deployments/<chainId>.json`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use alloy_primitives::Address;
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use lucid_chain::{ChainClient, ContractKind, Deployment};
use lucid_store::Params;

#[derive(Debug, Parser)]
#[command(
    name = "lucid-indexer",
    version,
    about = "Follows Lucid's chains into the store and serves it over HTTP"
)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Follow both chains and serve the HTTP API until SIGINT/SIGTERM.
    Run(RunArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TronNetwork {
    Local,
    Shasta,
    Mainnet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// JSON-RPC URL of the on-system chain (LucidAnchors, LucidChunkStore).
    #[arg(long, env = "ON_SYSTEM_CHAIN_RPC")]
    pub onsystem_rpc: Option<String>,
    /// TRON full node HTTP API base URL; the payment chain's JSON-RPC is TRON_RPC + "/jsonrpc".
    #[arg(long, env = "TRON_RPC")]
    pub tron_rpc: Option<String>,
    #[arg(long, env = "TRON_NETWORK", value_enum, default_value = "local")]
    pub tron_network: TronNetwork,
    /// The payment chain's JSON-RPC URL as is (overrides TRON_RPC + "/jsonrpc"; e.g. a plain anvil).
    #[arg(long, env = "LUCID_PAYMENT_JSONRPC")]
    pub payment_rpc: Option<String>,
    #[arg(long, env = "LUCID_ANCHORS_ADDRESS")]
    pub anchors: Option<String>,
    #[arg(long, env = "LUCID_CHUNK_STORE_ADDRESS")]
    pub chunk_store: Option<String>,
    #[arg(long, env = "PAYOUT_ROUTER_V0_ADDRESS")]
    pub router_v0: Option<String>,
    #[arg(long, env = "PAYOUT_ROUTER_KYC_ADDRESS")]
    pub router_kyc: Option<String>,
    /// Deployment files (`<chainId>.json`, written by script/Deploy.s.sol).
    #[arg(long, env = "LUCID_DEPLOYMENTS", default_value = "deployments")]
    pub deployments: PathBuf,
    /// First block to index on the on-system chain (default: the deployment's startBlock, else 0).
    #[arg(long)]
    pub onsystem_start_block: Option<u64>,
    /// First block to index on the payment chain (default: the deployment's startBlock, else 0).
    #[arg(long)]
    pub payment_start_block: Option<u64>,
    /// `sqlite://PATH` or `mongodb://…`.
    #[arg(long, env = "LUCID_STORE", default_value = lucid_store::DEFAULT_STORE_URL)]
    pub store: String,
    #[arg(long, env = "LUCID_INDEXER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Head polling interval.
    #[arg(long, env = "LUCID_INDEXER_POLL_MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub poll_ms: u64,
    /// Confirmations on the on-system chain (default 0 on chain ids 31337/31338, else 12).
    #[arg(long, env = "LUCID_ONSYSTEM_CONFIRMATIONS")]
    pub onsystem_confirmations: Option<u64>,
    /// Confirmations on the payment chain (default 0 on chain ids 31337/31338, else 12).
    #[arg(long, env = "LUCID_PAYMENT_CONFIRMATIONS")]
    pub payment_confirmations: Option<u64>,
    /// Blocks of hashes kept to find a fork's common ancestor; a deeper fork halts the chain.
    #[arg(long, env = "LUCID_REORG_WINDOW", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub reorg_window: u64,
    /// First eth_getLogs block range (grows on success, shrinks on range/size/timeout errors).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub initial_range: u64,
    /// Largest eth_getLogs block range.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_range: u64,
    /// Logs per range to aim for: a range that returns more is narrowed for the next request, so
    /// each store transaction stays bounded and, during a backfill, the next range is read while
    /// this one is written.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_range_events: u64,
    /// Per-request RPC timeout.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub rpc_timeout_ms: u64,
    #[arg(long, env = "LUCID_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// No progress bar even on a TTY.
    #[arg(long)]
    pub no_progress: bool,
    /// Answers of `GET /v1/sessions/{id}` (and its chunks and chunk proofs) kept in memory, least
    /// recently used dropped first; 0 turns the cache off. SQLite only (MongoDB: always off).
    #[arg(
        long,
        env = "LUCID_INDEXER_API_CACHE_ENTRIES",
        default_value_t = 10_000
    )]
    pub api_cache_entries: usize,
    /// Longest time a store write by another process (e.g. a keeper) may stay invisible to the
    /// cached answers; the indexer's own writes are visible at once. 0 turns the cache off.
    #[arg(long, env = "LUCID_INDEXER_API_CACHE_MAX_STALE_MS", default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub api_cache_max_stale_ms: u64,
}

/// One followed chain.
#[derive(Debug, Clone)]
pub struct ChainConfig {
    /// `onsystem` or `payment`.
    pub role: &'static str,
    pub chain_id: u64,
    pub rpc_url: String,
    pub contracts: Vec<(Address, ContractKind)>,
    pub start_block: u64,
    pub confirmations: u64,
}

/// Everything [`crate::run`] needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub chains: Vec<ChainConfig>,
    pub listen: SocketAddr,
    pub poll: Duration,
    pub reorg_window: u64,
    pub initial_range: u64,
    pub max_range: u64,
    pub max_range_events: u64,
    pub rpc_timeout: Duration,
    pub progress: bool,
    /// SPEC §1 parameters; `GENESIS_TIME` as LucidAnchors has it.
    pub params: Params,
    /// The API's response cache (see [`crate::cache`]).
    pub api_cache: crate::cache::CacheConfig,
}

impl Config {
    /// A chain whose head was not read for this long is not ready.
    pub fn stale_after(&self) -> Duration {
        (self.poll * 4 + self.rpc_timeout).max(Duration::from_secs(3))
    }
}

/// Default confirmations: none on local development chains.
pub fn default_confirmations(chain_id: u64) -> u64 {
    if chain_id == 31337 || chain_id == 31338 {
        0
    } else {
        12
    }
}

fn addr(name: &str, v: &Option<String>) -> anyhow::Result<Option<Address>> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            lucid_core::address::parse_address(s.trim())
                .map_err(|e| anyhow::anyhow!("{name}: {s:?} is not an address: {e}"))
        })
        .transpose()
}

/// The payment chain's JSON-RPC URL.
pub fn payment_url(a: &RunArgs) -> Option<String> {
    if let Some(u) = a.payment_rpc.as_deref().filter(|s| !s.is_empty()) {
        return Some(u.to_owned());
    }
    a.tron_rpc
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|base| format!("{}/jsonrpc", base.trim_end_matches('/')))
}

async fn chain_id_of(url: &str, timeout: Duration) -> anyhow::Result<u64> {
    let client = ChainClient::new(url, timeout)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match client.chain_id().await {
            Ok(id) => return Ok(id),
            Err(e) if std::time::Instant::now() < deadline && e.kind.is_transient() => {
                tracing::warn!(url, error = %e, "RPC not answering yet");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e).with_context(|| format!("eth_chainId of {url}")),
        }
    }
}

/// Resolves flags/environment against the chains and their deployment files.
pub async fn resolve(a: &RunArgs) -> anyhow::Result<Config> {
    let timeout = Duration::from_millis(a.rpc_timeout_ms);
    let mut params = Params::from_env().context("SPEC §1 parameters")?;
    let mut chains = Vec::new();
    if let Some(url) = a.onsystem_rpc.as_deref().filter(|s| !s.is_empty()) {
        let chain_id = chain_id_of(url, timeout).await?;
        let dep = load_deployment(a, chain_id, "onsystem")?;
        let anchors = addr("LUCID_ANCHORS_ADDRESS", &a.anchors)?
            .or(dep.as_ref().and_then(|d| d.lucid_anchors));
        let store = addr("LUCID_CHUNK_STORE_ADDRESS", &a.chunk_store)?
            .or(dep.as_ref().and_then(|d| d.lucid_chunk_store));
        if let Some(anchors) = anchors {
            params = genesis_from_contract(url, timeout, anchors, params).await?;
        }
        let mut contracts = Vec::new();
        contracts.extend(anchors.map(|x| (x, ContractKind::LucidAnchors)));
        contracts.extend(store.map(|x| (x, ContractKind::LucidChunkStore)));
        if contracts.is_empty() {
            bail!(
                "on-system chain {chain_id}: no contracts to follow: no {}/{chain_id}.json and no LUCID_ANCHORS_ADDRESS / LUCID_CHUNK_STORE_ADDRESS",
                a.deployments.display()
            );
        }
        chains.push(ChainConfig {
            role: "onsystem",
            chain_id,
            rpc_url: url.to_owned(),
            contracts,
            start_block: a
                .onsystem_start_block
                .or(dep.as_ref().map(|d| d.start_block))
                .unwrap_or(0),
            confirmations: a
                .onsystem_confirmations
                .unwrap_or_else(|| default_confirmations(chain_id)),
        });
    }
    if let Some(url) = payment_url(a) {
        let chain_id = chain_id_of(&url, timeout).await?;
        let dep = load_deployment(a, chain_id, "payment")?;
        let v0 = addr("PAYOUT_ROUTER_V0_ADDRESS", &a.router_v0)?
            .or(dep.as_ref().and_then(|d| d.payout_router_v0));
        let kyc = addr("PAYOUT_ROUTER_KYC_ADDRESS", &a.router_kyc)?
            .or(dep.as_ref().and_then(|d| d.payout_router_kyc));
        let mut contracts = Vec::new();
        contracts.extend(v0.map(|x| (x, ContractKind::PayoutRouterV0)));
        contracts.extend(kyc.map(|x| (x, ContractKind::PayoutRouterKYC)));
        if contracts.is_empty() {
            bail!(
                "payment chain {chain_id}: no contracts to follow: no {}/{chain_id}.json and no PAYOUT_ROUTER_V0_ADDRESS / PAYOUT_ROUTER_KYC_ADDRESS",
                a.deployments.display()
            );
        }
        if chains.iter().any(|c| c.chain_id == chain_id) {
            bail!("the on-system and payment RPCs serve the same chain id {chain_id}");
        }
        chains.push(ChainConfig {
            role: "payment",
            chain_id,
            rpc_url: url,
            contracts,
            start_block: a
                .payment_start_block
                .or(dep.as_ref().map(|d| d.start_block))
                .unwrap_or(0),
            confirmations: a
                .payment_confirmations
                .unwrap_or_else(|| default_confirmations(chain_id)),
        });
    }
    if chains.is_empty() {
        bail!("nothing to follow: set ON_SYSTEM_CHAIN_RPC and/or TRON_RPC (or --payment-rpc)");
    }
    Ok(Config {
        chains,
        listen: a.listen,
        poll: Duration::from_millis(a.poll_ms),
        reorg_window: a.reorg_window,
        initial_range: a.initial_range.min(a.max_range),
        max_range: a.max_range,
        max_range_events: a.max_range_events,
        rpc_timeout: timeout,
        params,
        progress: !a.no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        api_cache: crate::cache::CacheConfig {
            entries: a.api_cache_entries,
            max_stale: Duration::from_millis(a.api_cache_max_stale_ms),
        },
    })
}

fn load_deployment(a: &RunArgs, chain_id: u64, role: &str) -> anyhow::Result<Option<Deployment>> {
    let path = a.deployments.join(format!("{chain_id}.json"));
    if !path.exists() {
        return Ok(None);
    }
    let d = Deployment::load(&path)?;
    if d.deploy_chain != role {
        bail!(
            "{}: a {} deployment, but chain {chain_id} is followed as the {role} chain",
            path.display(),
            d.deploy_chain
        );
    }
    Ok(Some(d))
}

/// SPEC §1: `GENESIS_TIME` is fixed in LucidAnchors; a daemon refuses to start if the environment
/// says otherwise, and uses the contract's value when the environment is silent.
async fn genesis_from_contract(
    url: &str,
    timeout: Duration,
    anchors: Address,
    params: Params,
) -> anyhow::Result<Params> {
    let client = ChainClient::new(url, timeout)?;
    let on_chain = client
        .genesis_time(anchors)
        .await
        .with_context(|| format!("reading GENESIS_TIME() of LucidAnchors at {anchors}"))?;
    if std::env::var("GENESIS_TIME").is_ok_and(|v| !v.trim().is_empty())
        && params.genesis_time() != on_chain
    {
        bail!(
            "GENESIS_TIME={} disagrees with LucidAnchors at {anchors} ({on_chain}): refusing to start",
            params.genesis_time()
        );
    }
    let mut v = params.values();
    v.genesis_time = on_chain;
    v.build().context("GENESIS_TIME of LucidAnchors")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::CommandFactory;

    fn run_arg(id: &str) -> clap::Arg {
        Cli::command()
            .find_subcommand("run")
            .and_then(|c| c.get_arguments().find(|a| a.get_id() == id).cloned())
            .unwrap_or_else(|| panic!("no --{id}"))
    }

    #[test]
    fn defaults_and_environment_variables_are_the_documented_ones() {
        for (id, env, default) in [
            (
                "listen",
                Some("LUCID_INDEXER_LISTEN"),
                Some("127.0.0.1:8080"),
            ),
            ("poll_ms", Some("LUCID_INDEXER_POLL_MS"), Some("500")),
            ("reorg_window", Some("LUCID_REORG_WINDOW"), Some("64")),
            ("onsystem_rpc", Some("ON_SYSTEM_CHAIN_RPC"), None),
            ("tron_rpc", Some("TRON_RPC"), None),
            ("tron_network", Some("TRON_NETWORK"), Some("local")),
            (
                "store",
                Some("LUCID_STORE"),
                Some(lucid_store::DEFAULT_STORE_URL),
            ),
            (
                "deployments",
                Some("LUCID_DEPLOYMENTS"),
                Some("deployments"),
            ),
            ("anchors", Some("LUCID_ANCHORS_ADDRESS"), None),
            ("chunk_store", Some("LUCID_CHUNK_STORE_ADDRESS"), None),
            ("router_v0", Some("PAYOUT_ROUTER_V0_ADDRESS"), None),
            ("router_kyc", Some("PAYOUT_ROUTER_KYC_ADDRESS"), None),
            ("log_format", Some("LUCID_LOG_FORMAT"), Some("text")),
            (
                "onsystem_confirmations",
                Some("LUCID_ONSYSTEM_CONFIRMATIONS"),
                None,
            ),
            (
                "payment_confirmations",
                Some("LUCID_PAYMENT_CONFIRMATIONS"),
                None,
            ),
        ] {
            let a = run_arg(id);
            assert_eq!(
                a.get_env().and_then(|e| e.to_str()),
                env,
                "--{id}: environment variable"
            );
            let d: Vec<String> = a
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            assert_eq!(
                d,
                default.into_iter().map(str::to_owned).collect::<Vec<_>>(),
                "--{id}: default"
            );
        }
    }

    #[test]
    fn confirmations_default_to_zero_only_on_local_chains() {
        assert_eq!(default_confirmations(31337), 0);
        assert_eq!(default_confirmations(31338), 0);
        // Ethereum mainnet, Sepolia, TRON mainnet and Shasta (their JSON-RPC chain ids).
        for id in [1, 11_155_111, 728_126_428, 2_494_104_990] {
            assert_eq!(default_confirmations(id), 12, "chain {id}");
        }
    }

    fn args(flags: &[&str]) -> RunArgs {
        let mut argv = vec!["lucid-indexer", "run"];
        argv.extend_from_slice(flags);
        match Cli::try_parse_from(argv) {
            Ok(Cli { cmd: Cmd::Run(a) }) => a,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_payment_chain_is_read_at_tron_rpc_plus_jsonrpc_unless_a_url_is_given() {
        let a = args(&[
            "--tron-network",
            "shasta",
            "--tron-rpc",
            "https://api.shasta.trongrid.io/",
            "--payment-rpc=",
        ]);
        assert_eq!(a.tron_network, TronNetwork::Shasta);
        assert_eq!(
            payment_url(&a).as_deref(),
            Some("https://api.shasta.trongrid.io/jsonrpc")
        );
        let a = args(&[
            "--tron-rpc",
            "http://127.0.0.1:9090",
            "--payment-rpc",
            "http://127.0.0.1:8546",
        ]);
        assert_eq!(payment_url(&a).as_deref(), Some("http://127.0.0.1:8546"));
        let a = args(&["--tron-rpc=", "--payment-rpc="]);
        assert_eq!(payment_url(&a), None);
    }

    #[test]
    fn bad_values_are_refused_with_the_flag_named() {
        for (flags, names) in [
            (&["--listen", "localhost"][..], "--listen"),
            (&["--poll-ms", "5"][..], "--poll-ms"),
            (&["--reorg-window", "0"][..], "--reorg-window"),
            (&["--tron-network", "nile"][..], "--tron-network"),
            (&["--log-format", "xml"][..], "--log-format"),
        ] {
            let mut argv = vec!["lucid-indexer", "run"];
            argv.extend_from_slice(flags);
            let e = Cli::try_parse_from(argv).unwrap_err().to_string();
            assert!(e.contains(names), "{flags:?}: {e}");
        }
    }
}
