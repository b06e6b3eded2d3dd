//! `lucid-keeper payouts plan|approve|execute|status` (issue 10, SPEC §3–§5): the keeper's payout
//! path, the only place in the keeper that uses `lucid-payout`.
//!
//! - `plan`: credits of the month from the store's proofs, carries, recipients, KYC routers and
//!   the routers' limits read on the payment chain → `periods` + `payouts` (planned / rolled_over)
//!   with the period's Merkle tree;
//! - `approve`: `setPeriodRoot(period, root, total)` on both routers (treasury key), or the
//!   unsigned transactions for the treasury's multisig (`--unsigned FILE`);
//! - `execute`: V0 through `disburseBatch` in chunks, KYC through `disburseKYC`, within the day's
//!   limits, journalled before every broadcast, safe to re-run after any crash;
//! - `status`: planned / submitted / paid per payout.
//!
//! Everything on the payment chain goes through `lucid-payout`'s TRON path (its `calls` module is
//! the one definition of the router ABI: triggerconstantcontract reads, offline-built TRON
//! transactions through the sender); nothing is sent to it through EVM JSON-RPC. The on-system
//! chain gives chain time and the members (ANCHORER_ROLE holders, replayed from LucidAnchors' role
//! events by the daemon's [`ChainView`]).
//!
//! The unattended treasury mode ([`spawn_unattended`], `LUCID_PAYOUTS=on`, `TRON_NETWORK=local`
//! only) runs inside `lucid-keeper run` as its own task.

mod db;
mod journal;
mod store_db;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use alloy_primitives::{Address, B256, U256};
use anyhow::{Context, bail};
use k256::ecdsa::SigningKey;
use lucid_core::Params;
use lucid_payout::calls::{self, BatchItem, Outcome};
use lucid_payout::plan::{
    self as pplan, Attestation, Month, Payable, PlanInput, PlanStatus, RouterKind, Wait,
    execution_order, fit_day, format_usdt, parse_usdt,
};
use lucid_payout::tx::TriggerParams;
use lucid_payout::{SenderConfig, TronAddress, TronClient};
use serde_json::{Value, json};

use crate::daemon::chainview::{ChainView, anchorer_role};
pub use db::{PaidRecord, PayoutDb, PayoutDoc, PayoutState, PeriodDoc};
use journal::FileJournal;
use lucid_chain::ChainClient as Rpc;
use lucid_chain::node::BlockHead;

/// The payment-chain contracts.
#[derive(Debug, Clone, Copy)]
pub struct Routers {
    pub v0: TronAddress,
    pub kyc: TronAddress,
    pub usdt: TronAddress,
}

/// Payment-chain and store settings shared by the payout commands.
#[derive(Debug, Clone, clap::Args)]
pub struct NetArgs {
    /// local | shasta | mainnet
    #[arg(long, env = "TRON_NETWORK", default_value = "local", global = true)]
    pub tron_network: String,
    /// TRON full node HTTP API (local: the lucid-tron-local stand-in)
    #[arg(long, env = "TRON_RPC", global = true)]
    pub tron_rpc: Option<String>,
    /// PayoutRouterV0 (T…, 41… hex or 0x EVM form)
    #[arg(long, env = "PAYOUT_ROUTER_V0_ADDRESS", global = true)]
    pub router_v0: Option<String>,
    /// PayoutRouterKYC
    #[arg(long, env = "PAYOUT_ROUTER_KYC_ADDRESS", global = true)]
    pub router_kyc: Option<String>,
    /// USDT (TRC-20) paid by the routers
    #[arg(long, env = "USDT_ADDRESS", global = true)]
    pub usdt: Option<String>,
    /// sqlite://… or mongodb://…
    #[arg(long, env = "LUCID_STORE", global = true)]
    pub store: Option<String>,
    /// On-system chain JSON-RPC (chain time, chain id of the PayoutAddress domain, members)
    #[arg(long, env = "ON_SYSTEM_CHAIN_RPC", global = true)]
    pub on_system_rpc: Option<String>,
    /// LucidAnchors on the on-system chain: the members (ANCHORER_ROLE holders) are read there
    #[arg(long, env = "LUCID_ANCHORS_ADDRESS", global = true)]
    pub anchors: Option<Address>,
    /// First block of the on-system deployment (role events are replayed from there)
    #[arg(long, env = "LUCID_START_BLOCK", default_value_t = 0, global = true)]
    pub start_block: u64,
    /// Directory of the payout journals (signed transactions, written before broadcasting)
    #[arg(
        long,
        env = "LUCID_PAYOUT_JOURNAL",
        default_value = "payout-journal",
        global = true
    )]
    pub journal_dir: PathBuf,
    /// Receipt poll interval of the sender (ms)
    #[arg(
        long,
        env = "LUCID_PAYOUT_POLL_MS",
        default_value_t = 1000,
        global = true
    )]
    pub poll_ms: u64,
}

/// `lucid-keeper payouts …`
#[derive(Debug, clap::Args)]
pub struct PayoutsArgs {
    #[command(flatten)]
    pub net: NetArgs,
    #[command(subcommand)]
    pub cmd: PayoutsCmd,
}

/// The payout commands.
#[derive(Debug, clap::Subcommand)]
pub enum PayoutsCmd {
    /// Plan a period: amounts, routers, recipients, the Merkle tree (re-planning only while
    /// nothing of it is paid).
    Plan(PlanArgs),
    /// The treasury sets the period's root and total on both routers (or writes the unsigned
    /// transactions for its multisig).
    Approve(ApproveArgs),
    /// Pay the period's planned payouts that fit today's limits (safe to re-run).
    Execute(ExecuteArgs),
    /// planned / submitted / paid per payout.
    Status(StatusArgs),
    /// One unattended tick (LUCID_PAYOUTS=on, TRON_NETWORK=local only): plan the month that
    /// ended on chain time with LUCID_PAYOUT_POOL, approve with the treasury key, execute.
    Auto(AutoArgs),
}

/// `payouts auto`
#[derive(Debug, clap::Args)]
pub struct AutoArgs {
    /// on | off
    #[arg(long, env = "LUCID_PAYOUTS", default_value = "off")]
    pub payouts: String,
    /// The monthly pool in USDT
    #[arg(long, env = "LUCID_PAYOUT_POOL")]
    pub pool: Option<String>,
    /// Treasury key (TREASURER_ROLE on both routers; also pays the energy)
    #[arg(long, env = "LUCID_TREASURY_KEY", hide_env_values = true)]
    pub treasury_key: Option<String>,
}

/// `payouts plan`
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The UTC month paid for, YYYY-MM
    #[arg(long)]
    pub period: String,
    /// The pool in USDT (up to 6 decimals), e.g. 50000 or 50000.5
    #[arg(long)]
    pub pool: String,
    /// The compliance service's signed attestations (JSON array of {to, kycHash, expiry, sig})
    #[arg(long, value_name = "FILE")]
    pub kyc: Option<PathBuf>,
    /// Members as a JSON array of node addresses: an explicit offline override of the
    /// ANCHORER_ROLE holders read from LucidAnchors at the period's end (LUCID_ANCHORS_ADDRESS)
    #[arg(long, value_name = "FILE")]
    pub members: Option<PathBuf>,
    /// Print the plan as a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
}

/// `payouts approve`
#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    /// YYYY-MM
    #[arg(long)]
    pub period: String,
    /// Write the unsigned setPeriodRoot transactions (for the treasury's multisig) to FILE
    #[arg(long, value_name = "FILE")]
    pub unsigned: Option<PathBuf>,
    /// The treasury account that will sign (T…), with --unsigned
    #[arg(long, env = "LUCID_TREASURY_ADDRESS")]
    pub treasury_address: Option<String>,
    /// Treasury key (hex), TREASURER_ROLE on both routers (local / tests)
    #[arg(long, env = "LUCID_TREASURY_KEY", hide_env_values = true)]
    pub treasury_key: Option<String>,
}

/// `payouts execute`
#[derive(Debug, clap::Args)]
pub struct ExecuteArgs {
    /// YYYY-MM
    #[arg(long)]
    pub period: String,
    /// Show what would be paid now; send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Fresh attestations for KYC payouts whose attestation lapsed
    #[arg(long, value_name = "FILE")]
    pub kyc: Option<PathBuf>,
    /// Key paying the energy (any account; no role needed)
    #[arg(long, env = "LUCID_PAYOUT_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Payouts per disburseBatch
    #[arg(long, env = "LUCID_PAYOUT_BATCH", default_value_t = 50)]
    pub batch: usize,
}

/// `payouts status`
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// YYYY-MM
    #[arg(long)]
    pub period: String,
    /// JSON output
    #[arg(long)]
    pub json: bool,
}

/// Runs a payout command (its own runtime: the keeper's offline commands are synchronous).
pub fn run(params: &Params, args: &PayoutsArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    rt.block_on(async {
        let ctx = Ctx::open(*params, &args.net).await?;
        match &args.cmd {
            PayoutsCmd::Plan(a) => plan_cmd(&ctx, a).await,
            PayoutsCmd::Approve(a) => approve_cmd(&ctx, a).await,
            PayoutsCmd::Execute(a) => execute_cmd(&ctx, a).await.map(|_| ()),
            PayoutsCmd::Status(a) => status_cmd(&ctx, a).await,
            PayoutsCmd::Auto(a) => {
                if a.payouts != "on" {
                    println!("LUCID_PAYOUTS is not on: nothing to do");
                    return Ok(());
                }
                let pool = parse_usdt(a.pool.as_deref().context("LUCID_PAYOUT_POOL is required")?)
                    .context("LUCID_PAYOUT_POOL")?;
                let key = parse_key(
                    a.treasury_key
                        .as_deref()
                        .context("LUCID_TREASURY_KEY is required")?,
                )?;
                let out = unattended_tick(&ctx, pool, &key).await?;
                println!("{out:?}");
                Ok(())
            }
        }
    })
}

/// Everything a command needs.
pub struct Ctx {
    pub params: Params,
    pub net: NetArgs,
    pub db: Box<dyn PayoutDb>,
    pub client: TronClient,
    pub routers: Routers,
    /// The on-system chain (ON_SYSTEM_CHAIN_RPC), when given.
    pub on_system: Option<Rpc>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("net", &self.net)
            .field("routers", &self.routers)
            .finish_non_exhaustive()
    }
}

/// Where a plan's members come from (SPEC §4: only members are planned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Members {
    /// An explicit list (`--members FILE`, offline use).
    Given(BTreeSet<Address>),
    /// The ANCHORER_ROLE holders of LucidAnchors at the period's end, replayed from its role events.
    OnChain,
}

/// Parses a payment-chain address: `T…` base58check, `41…` hex or a `0x` EVM address.
pub fn parse_tron(s: &str) -> anyhow::Result<TronAddress> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x") {
        let a: Address = h
            .parse()
            .map_err(|_| anyhow::anyhow!("malformed address {s:?}: 0x + 40 hex digits"))?;
        return Ok(TronAddress::from_evm(a.0.0));
    }
    if s.len() == 42 && s.starts_with("41") {
        return TronAddress::from_hex41(s).map_err(|e| anyhow::anyhow!("address {s:?}: {e}"));
    }
    TronAddress::decode(s).map_err(|e| anyhow::anyhow!("address {s:?}: {e}"))
}

fn evm(t: &TronAddress) -> Address {
    Address::from(t.0)
}

fn tron_of(a: &Address) -> TronAddress {
    TronAddress::from_evm(a.0.0)
}

/// Parses a hex private key (never logged).
pub fn parse_key(s: &str) -> anyhow::Result<SigningKey> {
    let b = hex::decode(s.trim().trim_start_matches("0x"))
        .map_err(|_| anyhow::anyhow!("the key is not hex"))?;
    SigningKey::from_slice(&b).map_err(|_| anyhow::anyhow!("the key is not a secp256k1 key"))
}

fn parse_month(s: &str) -> anyhow::Result<Month> {
    Ok(Month::parse(s)?)
}

impl Ctx {
    /// Opens the store and the payment-chain client.
    pub async fn open(params: Params, net: &NetArgs) -> anyhow::Result<Self> {
        match net.tron_network.as_str() {
            "local" | "shasta" | "mainnet" => {}
            other => bail!("TRON_NETWORK must be local, shasta or mainnet, not {other:?}"),
        }
        let rpc = net
            .tron_rpc
            .as_deref()
            .context("TRON_RPC is required (the TRON full node's HTTP API)")?;
        let client = TronClient::new(rpc).context("TRON_RPC")?;
        let req = |v: &Option<String>, name: &str| -> anyhow::Result<TronAddress> {
            parse_tron(
                v.as_deref()
                    .with_context(|| format!("{name} is required"))?,
            )
            .with_context(|| name.to_string())
        };
        let routers = Routers {
            v0: req(&net.router_v0, "PAYOUT_ROUTER_V0_ADDRESS")?,
            kyc: req(&net.router_kyc, "PAYOUT_ROUTER_KYC_ADDRESS")?,
            usdt: req(&net.usdt, "USDT_ADDRESS")?,
        };
        let db = db::open(net.store.as_deref()).await?;
        let on_system = match net.on_system_rpc.as_deref() {
            Some(u) => Some(Rpc::connect(u).context("ON_SYSTEM_CHAIN_RPC")?),
            None => None,
        };
        Ok(Self {
            params,
            net: net.clone(),
            db,
            client,
            routers,
            on_system,
        })
    }

    fn on_system(&self) -> anyhow::Result<&Rpc> {
        self.on_system.as_ref().context(
            "ON_SYSTEM_CHAIN_RPC is required (chain time, the members, the chain id of PayoutAddress signatures)",
        )
    }

    /// The on-system chain's head (its timestamp is chain time, SPEC §6) and chain id.
    pub async fn chain_now(&self) -> anyhow::Result<(BlockHead, u64)> {
        let rpc = self.on_system()?;
        let head = rpc
            .latest()
            .await
            .context("on-system chain: latest block")?;
        let id = rpc
            .chain_id()
            .await
            .context("on-system chain: eth_chainId")?;
        Ok((head, id))
    }

    /// The members of `month` (SPEC §4): the ANCHORER_ROLE holders of LucidAnchors at the period's
    /// end, i.e. after the last on-system block whose timestamp is before the month's end (the
    /// state every keeper reads alike once the chain has passed the end, however late it plans),
    /// unless `--members` names them. Returns them and the block they were read at.
    pub async fn members_at_end(
        &self,
        month: Month,
        head: &BlockHead,
        m: Members,
    ) -> anyhow::Result<(BTreeSet<Address>, Option<u64>)> {
        match m {
            Members::Given(s) => Ok((s, None)),
            Members::OnChain => {
                let anchors = self.net.anchors.context(
                    "planning needs the period's members (SPEC §4: ANCHORER_ROLE holders): set LUCID_ANCHORS_ADDRESS (with ON_SYSTEM_CHAIN_RPC) to read them from LucidAnchors, or pass --members FILE",
                )?;
                let view = ChainView {
                    rpc: self.on_system()?.clone(),
                    anchors,
                    start_block: self.net.start_block,
                };
                let (_, at) = view
                    .last_block_before(month.end_unix(), head)
                    .await
                    .context("on-system chain: the last block of the period")?;
                // LucidAnchors deployed after the period's end: nobody held the role then.
                let members = if at < self.net.start_block {
                    BTreeSet::new()
                } else {
                    view.role_members(anchorer_role(), at)
                        .await
                        .context("on-system chain: ANCHORER_ROLE events of LucidAnchors")?
                };
                tracing::info!(period = %month, block = at, members = members.len(), "members read from LucidAnchors at the period's end");
                Ok((members, Some(at)))
            }
        }
    }

    fn router(&self, k: RouterKind) -> TronAddress {
        match k {
            RouterKind::V0 => self.routers.v0,
            RouterKind::Kyc => self.routers.kyc,
        }
    }

    fn sender_cfg(&self) -> SenderConfig {
        SenderConfig {
            poll_interval: std::time::Duration::from_millis(self.net.poll_ms),
            ..SenderConfig::default()
        }
    }

    fn journal_path(&self, period: u32) -> PathBuf {
        self.net.journal_dir.join(format!("period-{period}.jsonl"))
    }
}

/// Reads an attestation file: a JSON array of `{to, kycHash, expiry, sig}` (`to` as T… or 0x).
pub fn read_attestations(path: &Path) -> anyhow::Result<Vec<Attestation>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading attestations {}", path.display()))?;
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let arr = v
        .as_array()
        .with_context(|| format!("{}: expected a JSON array", path.display()))?;
    let mut out = Vec::with_capacity(arr.len());
    for (i, e) in arr.iter().enumerate() {
        let field = |k: &str| {
            e.get(k)
                .with_context(|| format!("{}: attestation {i} has no {k}", path.display()))
        };
        let to = parse_tron(field("to")?.as_str().unwrap_or_default())
            .with_context(|| format!("{}: attestation {i}", path.display()))?;
        let kyc_hash: B256 = field("kycHash")?
            .as_str()
            .unwrap_or_default()
            .parse()
            .with_context(|| format!("{}: attestation {i}: kycHash", path.display()))?;
        let expiry = field("expiry")?
            .as_u64()
            .with_context(|| format!("{}: attestation {i}: expiry", path.display()))?;
        let sig = hex::decode(
            field("sig")?
                .as_str()
                .unwrap_or_default()
                .trim_start_matches("0x"),
        )
        .with_context(|| format!("{}: attestation {i}: sig", path.display()))?;
        out.push(Attestation {
            to: evm(&to),
            kyc_hash,
            expiry,
            sig: sig.into(),
            revoked: false,
        });
    }
    Ok(out)
}

fn read_members(path: &Path) -> anyhow::Result<BTreeSet<Address>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading members {}", path.display()))?;
    let v: Vec<String> = serde_json::from_str(&text)
        .with_context(|| format!("{}: expected a JSON array of addresses", path.display()))?;
    v.iter()
        .map(|s| {
            lucid_core::address::parse_address(s)
                .map_err(|e| anyhow::anyhow!("{}: member {s:?}: {e}", path.display()))
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// plan

/// The outcome of planning (for callers such as the unattended mode).
#[derive(Debug, Clone)]
pub struct Planned {
    pub period: PeriodDoc,
    pub payouts: Vec<PayoutDoc>,
}

/// Plans `month` with `pool` (micro-USDT) over its members. Refuses a period that has not ended on
/// the on-system chain, or that is already paying.
pub async fn plan_period(
    ctx: &Ctx,
    month: Month,
    pool: U256,
    attestations: Vec<Attestation>,
    members: Members,
) -> anyhow::Result<Planned> {
    let period = month.period();
    let (head, chain_id) = ctx.chain_now().await?;
    let now = head.timestamp;
    if now < month.end_unix() {
        bail!(
            "period {month} has not ended on chain time (chain time {now}, the month ends at {})",
            month.end_unix()
        );
    }
    if let Some(prev) = ctx.db.period(period).await? {
        let paying = ctx
            .db
            .payouts(period)
            .await?
            .into_iter()
            .filter(|p| matches!(p.status, PayoutState::Submitted | PayoutState::Paid))
            .count();
        if paying > 0 {
            bail!("period {month} cannot be planned again: {paying} payouts are submitted or paid");
        }
        for k in [RouterKind::V0, RouterKind::Kyc] {
            let paid = calls::period_paid(&ctx.client, &ctx.router(k), period).await?;
            if !paid.is_zero() {
                bail!(
                    "period {month} cannot be planned again: {k:?} router already paid {paid} micro-USDT under it"
                );
            }
        }
        tracing::info!(
            period,
            planned_at = prev.planned_at,
            "re-planning (nothing paid yet)"
        );
    }
    let (members, _) = ctx.members_at_end(month, &head, members).await?;
    let slots = ctx
        .params
        .slots_starting_in(month.start_unix(), month.end_unix());
    let (proofs, ids) = ctx.db.proofs_in_slots(slots.start, slots.end).await?;
    let credits = pplan::month_credits(&ctx.params, month, Some(&members), &proofs);
    let carries = ctx.db.latest_carries(period).await?;
    let member = |a: &Address| members.contains(a);
    let mut nodes: BTreeSet<Address> = credits.keys().copied().collect();
    nodes.extend(carries.keys().copied().filter(member));
    let overrides = ctx.db.payout_addresses(&nodes).await?;
    let codec = lucid_core::proof::ProofCodec::new(chain_id);
    let (accepted, refused) = lucid_payout::payaddr::accepted(&codec, &overrides, &nodes);
    for (r, why) in &refused {
        tracing::warn!(node = %r.node_id, recipient = %r.recipient, valid_from = r.valid_from, %why, "PayoutAddress refused");
    }
    let recipients = lucid_payout::payaddr::resolve_recipients(&accepted, month.start_unix());
    let mut atts = attestations;
    for a in &mut atts {
        a.revoked = !calls::attestation_valid(&ctx.client, &ctx.routers.kyc, a).await?;
    }
    let lim_v0 = calls::limits(&ctx.client, &ctx.routers.v0).await?;
    let lim_kyc = calls::limits(&ctx.client, &ctx.routers.kyc).await?;
    let input = PlanInput {
        period,
        pool,
        planned_at: now,
        members: Some(members.clone()),
        credits,
        carries,
        recipients,
        attestations: atts,
        router_v0: evm(&ctx.routers.v0),
        router_kyc: evm(&ctx.routers.kyc),
        limits_v0: lim_v0.router_limits(),
        limits_kyc: lim_kyc.router_limits(),
    };
    let p = pplan::plan(&input)?;
    let doc = PeriodDoc {
        period,
        pool,
        inputs_hash: pplan::inputs_hash(ids),
        members: members.into_iter().collect(),
        min_payout: lim_v0.min_payout,
        max_v0: lim_v0.max_per_payout,
        max_kyc: lim_kyc.max_per_payout,
        root: p.root,
        total: p.total,
        planned_at: now,
    };
    let payouts: Vec<PayoutDoc> = p
        .rows
        .iter()
        .map(|r| PayoutDoc {
            id: r.payout_id,
            period,
            node_id: r.node_id,
            to: r.recipient,
            credits: r.credits,
            carry_in: r.carry_in,
            gross: r.gross,
            amount: r.amount,
            carry_out: r.carry_out,
            router: r.router,
            leaf: r.leaf,
            proof: r.proof.clone(),
            attestation: r.attestation.clone(),
            status: match r.status {
                PlanStatus::Planned => PayoutState::Planned,
                PlanStatus::RolledOver => PayoutState::RolledOver,
            },
            txid: None,
            created_at: now,
        })
        .collect();
    ctx.db.save_plan(&doc, &payouts).await?;
    Ok(Planned {
        period: doc,
        payouts,
    })
}

fn payout_json(p: &PayoutDoc) -> Value {
    json!({
        "nodeId": format!("{:#x}", p.node_id),
        "recipient": tron_of(&p.to).encode(),
        "credits": p.credits,
        "carryIn": p.carry_in.to_string(),
        "gross": p.gross.to_string(),
        "amount": p.amount.to_string(),
        "carryOut": p.carry_out.to_string(),
        "router": match p.router { RouterKind::V0 => "v0", RouterKind::Kyc => "kyc" },
        "status": p.status.as_str(),
        "payoutId": format!("{:#x}", p.id),
        "leaf": p.leaf.map(|l| format!("{l:#x}")),
        "proof": p.proof.iter().map(|x| format!("{x:#x}")).collect::<Vec<_>>(),
        "txid": p.txid.map(|t| format!("{t:#x}")),
    })
}

fn print_table(payouts: &[PayoutDoc]) {
    println!(
        "{:<36} {:<42} {:>10} {:>16} {:>16} {:>16} {:<4} {:<11}",
        "recipient",
        "nodeId",
        "credits",
        "gross USDT",
        "amount USDT",
        "carryOut USDT",
        "rtr",
        "status"
    );
    for p in payouts {
        println!(
            "{:<36} {:<42} {:>10} {:>16} {:>16} {:>16} {:<4} {:<11}",
            tron_of(&p.to).encode(),
            format!("{:#x}", p.node_id),
            p.credits,
            format_usdt(p.gross),
            format_usdt(p.amount),
            format_usdt(p.carry_out),
            match p.router {
                RouterKind::V0 => "v0",
                RouterKind::Kyc => "kyc",
            },
            p.status.as_str()
        );
    }
}

async fn plan_cmd(ctx: &Ctx, a: &PlanArgs) -> anyhow::Result<()> {
    let month = parse_month(&a.period)?;
    let pool = parse_usdt(&a.pool).context("--pool")?;
    let atts = match &a.kyc {
        Some(f) => read_attestations(f)?,
        None => Vec::new(),
    };
    let members = match &a.members {
        Some(f) => Members::Given(read_members(f)?),
        None => Members::OnChain,
    };
    let planned = plan_period(ctx, month, pool, atts, members).await?;
    if a.json {
        let arr: Vec<Value> = planned.payouts.iter().map(payout_json).collect();
        println!("{}", serde_json::to_string_pretty(&arr)?);
    } else {
        print_table(&planned.payouts);
        println!(
            "period {month} ({}): pool {} USDT, root {}, total {} USDT, {} planned, {} rolled over",
            planned.period.period,
            format_usdt(pool),
            planned
                .period
                .root
                .map_or("none (nothing planned)".into(), |r| format!("{r:#x}")),
            format_usdt(planned.period.total),
            planned
                .payouts
                .iter()
                .filter(|p| p.status == PayoutState::Planned)
                .count(),
            planned
                .payouts
                .iter()
                .filter(|p| p.status == PayoutState::RolledOver)
                .count(),
        );
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// approve

async fn known_period(ctx: &Ctx, month: Month) -> anyhow::Result<PeriodDoc> {
    ctx.db.period(month.period()).await?.with_context(|| {
        format!("unknown period {month}: run `payouts plan --period {month}` first")
    })
}

/// Sends `setPeriodRoot` on both routers with the treasury key (skips a router that already has
/// this root and total).
pub async fn approve_with_key(ctx: &Ctx, month: Month, key: &SigningKey) -> anyhow::Result<()> {
    let doc = known_period(ctx, month).await?;
    let Some(root) = doc.root else {
        println!("period {month}: nothing planned, no root to set");
        return Ok(());
    };
    let mut journal = FileJournal::open(&ctx.journal_path(doc.period), ctx.db.as_ref())?;
    let sender = lucid_payout::Sender::new(&ctx.client, key, ctx.sender_cfg());
    for k in [RouterKind::V0, RouterKind::Kyc] {
        let r = ctx.router(k);
        let (cur_root, cur_total) = calls::period_root(&ctx.client, &r, doc.period).await?;
        if cur_root == root && cur_total == doc.total {
            println!("{k:?} router {}: root already set", r.encode());
            continue;
        }
        let call = calls::set_period_root(r, doc.period, root.0, doc.total);
        let c = journal
            .send(&sender, &call, Vec::new(), k)
            .await
            .with_context(|| format!("setPeriodRoot on the {k:?} router {}", r.encode()))?;
        println!(
            "{k:?} router {}: setPeriodRoot({}, {root:#x}, {}) in {}",
            r.encode(),
            doc.period,
            doc.total,
            c.tx.txid_hex()
        );
    }
    Ok(())
}

async fn approve_cmd(ctx: &Ctx, a: &ApproveArgs) -> anyhow::Result<()> {
    let month = parse_month(&a.period)?;
    if let Some(out) = &a.unsigned {
        let doc = known_period(ctx, month).await?;
        let Some(root) = doc.root else {
            println!("period {month}: nothing planned, no root to set");
            return Ok(());
        };
        let owner = parse_tron(
            a.treasury_address
                .as_deref()
                .context("--unsigned needs --treasury-address (the multisig's T… account)")?,
        )?;
        let solid = ctx.client.solid_block().await?;
        let head = ctx.client.now_block().await?;
        let rb = solid.as_ref_block();
        let mut txs = Vec::new();
        for k in [RouterKind::V0, RouterKind::Kyc] {
            let r = ctx.router(k);
            let call = calls::set_period_root(r, doc.period, root.0, doc.total);
            let u = TriggerParams {
                owner,
                contract: r,
                data: call.data.clone(),
                call_value: 0,
                fee_limit: 100_000_000,
                ref_block_bytes: rb.ref_block_bytes(),
                ref_block_hash: rb.ref_block_hash(),
                // Multisig signing takes time: TRON accepts up to 24 h.
                expiration_ms: head.timestamp_ms + 23 * 3_600_000,
                timestamp_ms: head.timestamp_ms,
            }
            .build();
            let raw = lucid_payout::proto::TransactionRaw::from_bytes(&u.raw_bytes)
                .context("decoding the built transaction")?;
            txs.push(json!({
                "router": format!("{k:?}"),
                "contract": r.encode(),
                "txID": hex::encode(u.txid),
                "raw_data": lucid_payout::tx::raw_to_json(&raw)?,
                "raw_data_hex": hex::encode(&u.raw_bytes),
                "data": hex::encode(&call.data),
            }));
        }
        let doc_json = json!({
            "network": ctx.net.tron_network,
            "period": doc.period,
            "month": month.to_string(),
            "root": format!("{root:#x}"),
            "total": doc.total.to_string(),
            "totalUsdt": format_usdt(doc.total),
            "owner": owner.encode(),
            "transactions": txs,
        });
        std::fs::write(out, serde_json::to_string_pretty(&doc_json)?)
            .with_context(|| format!("writing {}", out.display()))?;
        println!(
            "wrote 2 unsigned setPeriodRoot transactions to {}: period {month}, root {root:#x}, total {} USDT",
            out.display(),
            format_usdt(doc.total)
        );
        return Ok(());
    }
    let key = parse_key(
        a.treasury_key
            .as_deref()
            .context("approve needs LUCID_TREASURY_KEY (or --unsigned FILE for a multisig)")?,
    )?;
    approve_with_key(ctx, month, &key).await
}

// ------------------------------------------------------------------------------------------------
// execute

/// What one `execute` run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecReport {
    pub paid_now: usize,
    pub already_paid: usize,
    pub waiting_day: usize,
    pub waiting_kyc: usize,
    pub failed: Vec<String>,
    pub remaining: usize,
}

struct Progress {
    on: bool,
    total: usize,
    done: usize,
}

impl Progress {
    fn new(total: usize) -> Self {
        Self {
            on: std::io::stderr().is_terminal(),
            total,
            done: 0,
        }
    }
    fn add(&mut self, n: usize) {
        self.done += n;
        if self.on && self.total > 0 {
            let w = 30;
            let f = self.done.min(self.total) * w / self.total;
            eprint!(
                "\r[{}{}] {}/{} paid",
                "#".repeat(f),
                " ".repeat(w - f),
                self.done,
                self.total
            );
            let _ = std::io::stderr().flush();
            if self.done >= self.total {
                eprintln!();
            }
        }
    }
}

/// Pays what can be paid today. Safe to re-run after any crash: the journal's live attempts are
/// driven to their end first, every candidate is checked with `paid(payoutId)` on chain, and every
/// signed transaction is journalled (and its payouts marked submitted) before it is broadcast.
pub async fn execute_period(
    ctx: &Ctx,
    month: Month,
    key: &SigningKey,
    fresh: &[Attestation],
    batch: usize,
    dry_run: bool,
) -> anyhow::Result<ExecReport> {
    let doc = known_period(ctx, month).await?;
    let period = doc.period;
    let mut rep = ExecReport::default();
    let sender = lucid_payout::Sender::new(&ctx.client, key, ctx.sender_cfg());
    let mut journal = FileJournal::open(&ctx.journal_path(period), ctx.db.as_ref())?;
    if !dry_run {
        // 1. Attempts that may be live (a crash after journalling): finish them first.
        for (att, router) in journal.pending() {
            let out = journal.resume(&sender, att, router).await;
            match out {
                Ok(c) => {
                    let n = record_outcomes(ctx, &c, router, period).await?;
                    rep.paid_now += n;
                }
                Err(e) => rep.failed.push(format!("resumed attempt: {e}")),
            }
        }
    }
    let rows = ctx.db.payouts(period).await?;
    let mut open: Vec<PayoutDoc> = rows
        .into_iter()
        .filter(|p| matches!(p.status, PayoutState::Planned | PayoutState::Submitted))
        .collect();
    // 2. What the chain already paid (by us before a crash, or by anyone) is recorded, never re-sent.
    let mut still = Vec::new();
    for p in open.drain(..) {
        if calls::is_paid(&ctx.client, &ctx.router(p.router), &p.id).await? {
            rep.already_paid += 1;
            if !dry_run {
                ctx.db
                    .record_paid(&PaidRecord {
                        payout_id: p.id,
                        txid: None,
                        router: evm(&ctx.router(p.router)),
                    })
                    .await?;
            }
        } else {
            still.push(p);
        }
    }
    let mut progress = Progress::new(still.len());
    let now_s = u64::try_from(ctx.client.now_block().await?.timestamp_ms / 1000).unwrap_or(0);
    let mut errors = Vec::new();
    for k in [RouterKind::V0, RouterKind::Kyc] {
        let router = ctx.router(k);
        let mine: Vec<&PayoutDoc> = still.iter().filter(|p| p.router == k).collect();
        if mine.is_empty() {
            continue;
        }
        let (root, _) = calls::period_root(&ctx.client, &router, period).await?;
        if Some(root) != doc.root {
            errors.push(format!(
                "the {k:?} router {} has not approved period {month} (root {root:#x}): run `payouts approve --period {month}`",
                router.encode()
            ));
            rep.remaining += mine.len();
            continue;
        }
        if calls::paused(&ctx.client, &router).await? {
            errors.push(format!(
                "the {k:?} router {} is paused: {} payouts wait",
                router.encode(),
                mine.len()
            ));
            rep.remaining += mine.len();
            continue;
        }
        // KYC: a usable attestation (stored, or fresh from --kyc), valid now and on chain.
        let mut items = Vec::new();
        let mut att_of: BTreeMap<B256, Attestation> = BTreeMap::new();
        for p in &mine {
            if k == RouterKind::Kyc {
                let cands: Vec<&Attestation> = p.attestation.iter().chain(fresh.iter()).collect();
                let mut chosen = None;
                let mut ordered: Vec<&Attestation> = cands
                    .into_iter()
                    .filter(|a| a.to == p.to && a.valid_at(now_s))
                    .collect();
                ordered.sort_by_key(|a| std::cmp::Reverse(a.expiry));
                for a in ordered {
                    if calls::attestation_valid(&ctx.client, &router, a).await? {
                        chosen = Some(a.clone());
                        break;
                    }
                }
                let Some(a) = chosen else {
                    rep.waiting_kyc += 1;
                    tracing::warn!(recipient = %tron_of(&p.to), payout_id = %p.id, "KYC attestation lapsed: the payout stays planned until a fresh attestation is presented (--kyc FILE)");
                    continue;
                };
                att_of.insert(p.id, a);
            }
            items.push(Payable {
                payout_id: p.id,
                to: p.to,
                amount: p.amount,
                kyc_hash: att_of.get(&p.id).map(|a| a.kyc_hash),
            });
        }
        execution_order(&mut items);
        let budget = calls::day_budget(&ctx.client, &router, k, period, &items).await?;
        let (fit, wait) = fit_day(&items, &budget);
        for (p, w) in &wait {
            match w {
                Wait::DailyLimit => rep.waiting_day += 1,
                Wait::OutsideLimits | Wait::PeriodTotal => errors.push(format!(
                    "payout {:#x} ({} USDT to {}) is outside the {k:?} router's current limits ({w:?})",
                    p.payout_id,
                    format_usdt(p.amount),
                    tron_of(&p.to)
                )),
            }
        }
        if fit.is_empty() {
            continue;
        }
        let need: U256 = fit.iter().map(|p| p.amount).sum();
        let balance = calls::usdt_balance(&ctx.client, &ctx.routers.usdt, &router).await?;
        if balance < need {
            errors.push(format!(
                "the {k:?} router {} holds {} USDT but today's {} payouts need {} USDT: fund the router; nothing was sent",
                router.encode(),
                format_usdt(balance),
                fit.len(),
                format_usdt(need)
            ));
            rep.remaining += mine.len();
            continue;
        }
        if dry_run {
            for p in &fit {
                println!(
                    "would pay {} USDT to {} ({:?}, payoutId {:#x})",
                    format_usdt(p.amount),
                    tron_of(&p.to),
                    k,
                    p.payout_id
                );
            }
            continue;
        }
        let by_id: BTreeMap<B256, &PayoutDoc> = mine.iter().map(|p| (p.id, *p)).collect();
        let chunks: Vec<Vec<Payable>> = match k {
            RouterKind::V0 => fit.chunks(batch.max(1)).map(<[Payable]>::to_vec).collect(),
            RouterKind::Kyc => fit.iter().map(|p| vec![p.clone()]).collect(),
        };
        for chunk in chunks {
            let proof_of = |p: &Payable| -> Vec<[u8; 32]> {
                by_id[&p.payout_id].proof.iter().map(|h| h.0).collect()
            };
            let call = match k {
                RouterKind::V0 => calls::disburse_batch(
                    router,
                    period,
                    &chunk
                        .iter()
                        .map(|p| BatchItem {
                            to: tron_of(&p.to),
                            amount: p.amount,
                            proof: proof_of(p),
                        })
                        .collect::<Vec<_>>(),
                ),
                RouterKind::Kyc => {
                    let p = &chunk[0];
                    calls::disburse_kyc(
                        router,
                        period,
                        tron_of(&p.to),
                        p.amount,
                        &proof_of(p),
                        &att_of[&p.payout_id],
                    )
                }
            };
            let ids: Vec<B256> = chunk.iter().map(|p| p.payout_id).collect();
            match journal.send(&sender, &call, ids.clone(), k).await {
                Ok(c) => {
                    let n = record_outcomes(ctx, &c, k, period).await?;
                    rep.paid_now += n;
                    progress.add(n);
                    if n < ids.len() {
                        errors.push(format!(
                            "{} of {} payouts in {} were not paid (PayoutSkipped: transfer failed)",
                            ids.len() - n,
                            ids.len(),
                            c.tx.txid_hex()
                        ));
                    }
                }
                Err(e) => errors.push(format!("{k:?} router: {e:#}")),
            }
        }
    }
    rep.remaining += rep.waiting_day + rep.waiting_kyc;
    rep.failed.extend(errors);
    println!(
        "period {month}: {} paid now, {} already paid, {} wait for the next UTC day, {} wait for a fresh KYC attestation",
        rep.paid_now, rep.already_paid, rep.waiting_day, rep.waiting_kyc
    );
    if !rep.failed.is_empty() {
        bail!("payouts of {month}: {}", rep.failed.join("; "));
    }
    Ok(rep)
}

/// The `Paid` / `PaidKYC` events of `router` in a solidified transaction, in the store's
/// [`ChainEvent`] form (`chainId:txid:logIndex`, the index among the transaction's logs; TRON's
/// transaction info carries no block hash, so it is zero).
fn payment_events(
    chain_id: u64,
    info: &lucid_payout::TxInfo,
    router: &TronAddress,
) -> Vec<lucid_core::models::ChainEvent> {
    use alloy_sol_types::SolEvent;
    let txid = B256::from(info.id);
    let mut out = Vec::new();
    for (i, l) in info.logs.iter().enumerate() {
        if l.address != router.0 {
            continue;
        }
        let topics = l.topics.iter().map(|t| B256::from(*t));
        let (event, args) = if let Ok(e) = calls::Paid::decode_raw_log(topics.clone(), &l.data) {
            (
                "Paid",
                json!({"payoutId": format!("{:#x}", e.payoutId), "to": format!("{:#x}", e.to),
                       "amount": e.amount.to_string(), "period": e.period}),
            )
        } else if let Ok(e) = calls::PaidKYC::decode_raw_log(topics, &l.data) {
            (
                "PaidKYC",
                json!({"payoutId": format!("{:#x}", e.payoutId), "to": format!("{:#x}", e.to),
                       "amount": e.amount.to_string(), "period": e.period,
                       "kycHash": format!("{:#x}", e.kycHash)}),
            )
        } else {
            continue;
        };
        let log_index = i as u64;
        out.push(lucid_core::models::ChainEvent {
            id: lucid_core::models::ChainEvent::make_id(chain_id, &txid, log_index),
            chain_id,
            address: evm(router),
            event: event.to_string(),
            block_number: info.block_number,
            block_hash: B256::ZERO,
            block_time: u64::try_from(info.block_timestamp_ms / 1000).unwrap_or(0),
            tx_hash: txid,
            log_index,
            args,
        });
    }
    out
}

/// Records the payouts a confirmed transaction paid (its `Paid` / `PaidKYC` logs, stored as
/// events: the keeper's own confirmation); returns how many.
async fn record_outcomes(
    ctx: &Ctx,
    c: &lucid_payout::Confirmed,
    k: RouterKind,
    period: u32,
) -> anyhow::Result<usize> {
    let router = ctx.router(k);
    // The payment is done whatever happens here: without the chain id (a node whose /jsonrpc is
    // off) the events are not stored and `status` falls back to the router's `paid(payoutId)`.
    match ctx.client.chain_id().await {
        Ok(chain_id) => {
            let events = payment_events(chain_id, &c.info, &router);
            if !events.is_empty() {
                ctx.db.record_payments(&events).await?;
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, txid = %c.tx.txid_hex(), "the payment chain's id (TRON_RPC/jsonrpc) is unknown: the confirmed payments are not stored as events")
        }
    }
    let mut n = 0;
    for (id, _, outcome) in calls::batch_outcomes(&c.info, &router) {
        let id = B256::from(id);
        match outcome {
            Outcome::Paid(_) => {
                n += 1;
                ctx.db
                    .record_paid(&PaidRecord {
                        payout_id: id,
                        txid: Some(B256::from(c.tx.txid)),
                        router: evm(&router),
                    })
                    .await?;
            }
            Outcome::Skipped(r) => {
                tracing::warn!(payout_id = %id, reason = r, period, "PayoutSkipped");
                if r == 1 {
                    ctx.db
                        .record_paid(&PaidRecord {
                            payout_id: id,
                            txid: None,
                            router: evm(&router),
                        })
                        .await?;
                }
            }
        }
    }
    Ok(n)
}

async fn execute_cmd(ctx: &Ctx, a: &ExecuteArgs) -> anyhow::Result<ExecReport> {
    let month = parse_month(&a.period)?;
    let key = parse_key(
        a.key
            .as_deref()
            .context("execute needs LUCID_PAYOUT_KEY (any funded account; no role needed)")?,
    )?;
    let fresh = match &a.kyc {
        Some(f) => read_attestations(f)?,
        None => Vec::new(),
    };
    execute_period(ctx, month, &key, &fresh, a.batch, a.dry_run).await
}

// ------------------------------------------------------------------------------------------------
// status

async fn status_cmd(ctx: &Ctx, a: &StatusArgs) -> anyhow::Result<()> {
    let month = parse_month(&a.period)?;
    let doc = known_period(ctx, month).await?;
    let mut rows = ctx.db.payouts(doc.period).await?;
    // Paid from the routers' events (indexer) or, without one, from the chain itself.
    for p in &mut rows {
        if matches!(p.status, PayoutState::Planned | PayoutState::Submitted)
            && calls::is_paid(&ctx.client, &ctx.router(p.router), &p.id).await?
        {
            p.status = PayoutState::Paid;
        }
    }
    if a.json {
        let arr: Vec<Value> = rows.iter().map(payout_json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "period": doc.period,
                "month": month.to_string(),
                "root": doc.root.map(|r| format!("{r:#x}")),
                "total": doc.total.to_string(),
                "payouts": arr,
            }))?
        );
    } else {
        print_table(&rows);
        let count = |s: PayoutState| rows.iter().filter(|p| p.status == s).count();
        println!(
            "period {month}: {} planned, {} submitted, {} paid, {} rolled over; total {} USDT",
            count(PayoutState::Planned),
            count(PayoutState::Submitted),
            count(PayoutState::Paid),
            count(PayoutState::RolledOver),
            format_usdt(doc.total)
        );
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------------
// unattended

/// What one unattended tick did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TickOutcome {
    /// Every payout of the period is paid or rolled over: nothing sent.
    Settled { period: Month },
    /// Planned if needed (`planned_now`), approved, executed.
    Executed {
        period: Month,
        planned_now: bool,
        report: ExecReport,
    },
}

/// The unattended treasury mode (`LUCID_PAYOUTS=on`, `TRON_NETWORK=local` only): the month before
/// the current one on chain time has ended; plan it with `pool` over its members read from
/// LucidAnchors (if not planned yet), approve it with the treasury key and execute what fits
/// today. Idempotent: a planned period is never re-planned here, and the journal and the routers'
/// `paid(payoutId)` keep every payout from being paid twice.
pub async fn unattended_tick(
    ctx: &Ctx,
    pool: U256,
    treasury: &SigningKey,
) -> anyhow::Result<TickOutcome> {
    if ctx.net.tron_network != "local" {
        bail!(
            "LUCID_PAYOUTS=on is for TRON_NETWORK=local only: in production the treasury is a multisig (use `payouts approve --unsigned`)"
        );
    }
    let (head, _) = ctx.chain_now().await?;
    let cur = Month::from_period(lucid_payout::leaf::period_at(head.timestamp));
    let prev = Month::from_period(cur.period().saturating_sub(1));
    let planned_now = match ctx.db.period(prev.period()).await? {
        Some(_) => false,
        None => {
            let p = plan_period(ctx, prev, pool, Vec::new(), Members::OnChain).await?;
            tracing::info!(
                period = %prev,
                members = p.period.members.len(),
                planned = p.payouts.iter().filter(|x| x.status == PayoutState::Planned).count(),
                total = %format_usdt(p.period.total),
                "unattended: period planned"
            );
            true
        }
    };
    let open = ctx
        .db
        .payouts(prev.period())
        .await?
        .into_iter()
        .filter(|p| matches!(p.status, PayoutState::Planned | PayoutState::Submitted))
        .count();
    if open == 0 && !planned_now {
        return Ok(TickOutcome::Settled { period: prev });
    }
    approve_with_key(ctx, prev, treasury).await?;
    let report = execute_period(ctx, prev, treasury, &[], 50, false).await?;
    Ok(TickOutcome::Executed {
        period: prev,
        planned_now,
        report,
    })
}

/// `lucid-keeper run` options of the unattended treasury mode. The treasury key comes only from
/// the environment (`LUCID_TREASURY_KEY`); the store and the on-system chain are the daemon's.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Unattended payouts (LUCID_PAYOUTS=on; TRON_NETWORK=local only)")]
pub struct RunPayoutArgs {
    /// on | off: plan, approve and execute each month once it has ended on chain time
    #[arg(long = "payouts", env = "LUCID_PAYOUTS", default_value = "off", value_parser = ["on", "off"])]
    pub payouts: String,
    /// The monthly pool in USDT (up to 6 decimals)
    #[arg(long = "payout-pool", env = "LUCID_PAYOUT_POOL")]
    pub payout_pool: Option<String>,
    /// local only (shasta | mainnet: the treasury is a multisig; use `payouts approve --unsigned`)
    #[arg(long = "tron-network", env = "TRON_NETWORK", default_value = "local")]
    pub tron_network: String,
    /// TRON full node HTTP API (local: the lucid-tron-local stand-in)
    #[arg(long = "tron-rpc", env = "TRON_RPC")]
    pub tron_rpc: Option<String>,
    /// PayoutRouterV0
    #[arg(long = "router-v0", env = "PAYOUT_ROUTER_V0_ADDRESS")]
    pub router_v0: Option<String>,
    /// PayoutRouterKYC
    #[arg(long = "router-kyc", env = "PAYOUT_ROUTER_KYC_ADDRESS")]
    pub router_kyc: Option<String>,
    /// USDT (TRC-20)
    #[arg(long = "usdt", env = "USDT_ADDRESS")]
    pub usdt: Option<String>,
    /// Directory of the payout journals
    #[arg(
        long = "payout-journal",
        env = "LUCID_PAYOUT_JOURNAL",
        default_value = "payout-journal"
    )]
    pub payout_journal: PathBuf,
    /// Receipt poll interval of the sender (ms)
    #[arg(
        long = "payout-poll-ms",
        env = "LUCID_PAYOUT_POLL_MS",
        default_value_t = 1000
    )]
    pub payout_poll_ms: u64,
    /// How often the unattended mode looks at the chain (ms)
    #[arg(
        long = "payout-tick-ms",
        env = "LUCID_PAYOUT_TICK_MS",
        default_value_t = 60_000
    )]
    pub payout_tick_ms: u64,
}

/// Starts the unattended treasury mode as its own task of `lucid-keeper run` when
/// `LUCID_PAYOUTS=on` (None when off). Refuses to start (an error the daemon reports) on another
/// network than `local`, without `LUCID_PAYOUT_POOL` or `LUCID_TREASURY_KEY`, or with a bad
/// payment-chain setting. Each tick runs [`unattended_tick`]; an error is logged and the next tick
/// retries. `stop` ends the task between ticks, or in the middle of one (an interrupted tick is a
/// crash the journal recovers from).
pub async fn spawn_unattended(
    params: Params,
    a: &RunPayoutArgs,
    store: &str,
    view: &ChainView,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    if a.payouts != "on" {
        return Ok(None);
    }
    if a.tron_network != "local" {
        bail!(
            "LUCID_PAYOUTS=on works with TRON_NETWORK=local only, not {:?}: in production the treasury is a multisig; plan and execute with `lucid-keeper payouts` and approve with `payouts approve --unsigned FILE`",
            a.tron_network
        );
    }
    let pool = parse_usdt(
        a.payout_pool
            .as_deref()
            .context("LUCID_PAYOUTS=on needs LUCID_PAYOUT_POOL (the monthly pool in USDT)")?,
    )
    .context("LUCID_PAYOUT_POOL")?;
    let key = std::env::var("LUCID_TREASURY_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty())
        .context("LUCID_PAYOUTS=on needs LUCID_TREASURY_KEY (TREASURER_ROLE on both routers)")?;
    let key = parse_key(&key).context("LUCID_TREASURY_KEY")?;
    let net = NetArgs {
        tron_network: a.tron_network.clone(),
        tron_rpc: a.tron_rpc.clone(),
        router_v0: a.router_v0.clone(),
        router_kyc: a.router_kyc.clone(),
        usdt: a.usdt.clone(),
        store: Some(store.to_string()),
        on_system_rpc: Some(view.rpc.url().to_string()),
        anchors: Some(view.anchors),
        start_block: view.start_block,
        journal_dir: a.payout_journal.clone(),
        poll_ms: a.payout_poll_ms,
    };
    let ctx = Ctx::open(params, &net)
        .await
        .context("LUCID_PAYOUTS=on: the payment chain settings")?;
    let tick = std::time::Duration::from_millis(a.payout_tick_ms.max(100));
    tracing::info!(
        pool = %format_usdt(pool),
        treasury = %lucid_payout::tx::address_of_key(&key),
        tick_ms = a.payout_tick_ms,
        "unattended payouts on"
    );
    Ok(Some(tokio::spawn(async move {
        while !*stop.borrow() {
            tokio::select! {
                r = unattended_tick(&ctx, pool, &key) => match r {
                    Ok(TickOutcome::Settled { period }) => {
                        tracing::debug!(%period, "unattended payouts: period settled");
                    }
                    Ok(TickOutcome::Executed { period, planned_now, report }) => {
                        tracing::info!(%period, planned_now, paid_now = report.paid_now, already_paid = report.already_paid, remaining = report.remaining, "unattended payouts: tick done");
                    }
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "unattended payouts: tick failed; retrying next tick");
                    }
                },
                _ = stop.changed() => break,
            }
            tokio::select! {
                _ = stop.changed() => break,
                _ = tokio::time::sleep(tick) => {}
            }
        }
        tracing::info!("unattended payouts stopped");
    })))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tron_addresses_parse_in_three_forms_and_refuse_bad_ones() {
        let a = TronAddress::from_evm([0x11; 20]);
        let t = a.encode();
        assert_eq!(parse_tron(&t).unwrap(), a);
        assert_eq!(parse_tron(&a.to_hex41()).unwrap(), a);
        assert_eq!(parse_tron(&format!("0x{}", "11".repeat(20))).unwrap(), a);
        // checksum: change one character
        let mut bad: Vec<char> = t.chars().collect();
        bad[10] = if bad[10] == 'a' { 'b' } else { 'a' };
        let bad: String = bad.into_iter().collect();
        assert!(parse_tron(&bad).is_err());
        // length
        assert!(parse_tron(&t[..t.len() - 1]).is_err());
        assert!(parse_tron(&format!("{t}1")).is_err());
        // prefix: a base58check address without 0x41 (e.g. a Bitcoin one)
        assert!(parse_tron("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2").is_err());
        assert!(parse_tron("0x1234").is_err());
        assert!(parse_tron("").is_err());
    }

    /// `lucid-keeper run`'s options with the unattended payout ones flattened in: unique names
    /// and flags (clap's debug assertions), and LUCID_PAYOUTS only on / off.
    #[test]
    fn run_args_with_the_payout_options_are_consistent() {
        use clap::{CommandFactory, Parser};
        #[derive(Debug, clap::Parser)]
        struct Run {
            #[command(flatten)]
            run: crate::daemon::RunArgs,
        }
        Run::command().debug_assert();
        let r = Run::try_parse_from([
            "run",
            "--anchors",
            "0x1111111111111111111111111111111111111111",
            "--payouts",
            "on",
            "--payout-pool",
            "100",
            "--payout-tick-ms",
            "500",
        ])
        .unwrap();
        assert_eq!(r.run.payouts.payouts, "on");
        assert_eq!(r.run.payouts.payout_tick_ms, 500);
        assert!(
            Run::try_parse_from([
                "run",
                "--anchors",
                "0x1111111111111111111111111111111111111111",
                "--payouts",
                "yes"
            ])
            .is_err()
        );
    }

    #[test]
    fn keys_parse_without_echoing() {
        assert!(parse_key(&"11".repeat(32)).is_ok());
        let e = parse_key("zz").unwrap_err().to_string();
        assert!(!e.contains("zz"));
        assert!(parse_key(&"00".repeat(32)).is_err());
    }
}
