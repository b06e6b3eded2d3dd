//! Payment-chain reads (triggerconstantcontract through the TRON HTTP API), router call builders
//! and log decoding; the on-system chain's time and id (JSON-RPC reads only).

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolEvent, sol};
use anyhow::{Context, bail};
use lucid_payout::plan::{Attestation, DayBudget, Payable, RouterKind, RouterLimits};
use lucid_payout::revert::decode_revert;
use lucid_payout::{PayoutCall, TronAddress, TronClient, TxInfo};
use serde_json::{Value, json};

sol! {
    function paid(bytes32 id) external view returns (bool);
    function spentOnDay(uint64 day) external view returns (uint256);
    function minPayout() external view returns (uint256);
    function maxPerPayout() external view returns (uint256);
    function dailyLimit() external view returns (uint256);
    function currentDay() external view returns (uint64);
    function periodRoot(uint32 period) external view returns (bytes32);
    function periodTotal(uint32 period) external view returns (uint256);
    function periodPaid(uint32 period) external view returns (uint256);
    function paused() external view returns (bool);
    function recipientDailyLimit() external view returns (uint256);
    function recipientSpentOnDay(bytes32 kycHash, uint64 day) external view returns (uint256);
    function isAttestationValid(address to, bytes32 kycHash, uint64 expiry, bytes sig) external view returns (bool);
    function balanceOf(address who) external view returns (uint256);
    function setPeriodRoot(uint32 period, bytes32 root, uint256 total);
    function disburseBatch(uint32 period, address[] to, uint256[] amounts, bytes32[][] proofs);
    function disburseKYC(uint32 period, address to, uint256 amount, bytes32[] proof, bytes32 kycHash, uint64 expiry, bytes sig);
    event PeriodRootSet(uint32 indexed period, bytes32 root, uint256 total);
    event Paid(bytes32 indexed payoutId, address indexed to, uint256 amount, uint32 indexed period);
    event PaidKYC(bytes32 indexed payoutId, address indexed to, uint256 amount, uint32 indexed period, bytes32 kycHash);
    event PayoutSkipped(bytes32 indexed payoutId, address indexed to, uint8 reason);
}

/// The payment-chain contracts.
#[derive(Debug, Clone, Copy)]
pub struct Routers {
    pub v0: TronAddress,
    pub kyc: TronAddress,
    pub usdt: TronAddress,
}

/// A router's limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub min_payout: U256,
    pub max_per_payout: U256,
    pub daily: U256,
}

impl Limits {
    pub fn router_limits(&self) -> RouterLimits {
        RouterLimits {
            min_payout: self.min_payout,
            max_per_payout: self.max_per_payout,
        }
    }
}

async fn view<C: SolCall>(
    client: &TronClient,
    contract: &TronAddress,
    call: C,
) -> anyhow::Result<C::Return> {
    // Constant calls from the contract's own account (it exists on every network).
    let r = client
        .trigger_constant(contract, contract, &call.abi_encode())
        .await
        .with_context(|| format!("{} on {}", C::SIGNATURE, contract.encode()))?;
    if r.failed {
        bail!(
            "{} on {} reverted: {}",
            C::SIGNATURE,
            contract.encode(),
            if r.output.is_empty() {
                r.message
            } else {
                decode_revert(&r.output)
            }
        );
    }
    C::abi_decode_returns(&r.output).with_context(|| {
        format!(
            "{} on {}: undecodable answer",
            C::SIGNATURE,
            contract.encode()
        )
    })
}

pub async fn limits(client: &TronClient, r: &TronAddress) -> anyhow::Result<Limits> {
    Ok(Limits {
        min_payout: view(client, r, minPayoutCall {}).await?,
        max_per_payout: view(client, r, maxPerPayoutCall {}).await?,
        daily: view(client, r, dailyLimitCall {}).await?,
    })
}

pub async fn is_paid(client: &TronClient, r: &TronAddress, id: &B256) -> anyhow::Result<bool> {
    view(client, r, paidCall { id: *id }).await
}

pub async fn paused(client: &TronClient, r: &TronAddress) -> anyhow::Result<bool> {
    view(client, r, pausedCall {}).await
}

pub async fn period_paid(client: &TronClient, r: &TronAddress, p: u32) -> anyhow::Result<U256> {
    view(client, r, periodPaidCall { period: p }).await
}

pub async fn period_root(
    client: &TronClient,
    r: &TronAddress,
    p: u32,
) -> anyhow::Result<(B256, U256)> {
    Ok((
        view(client, r, periodRootCall { period: p }).await?,
        view(client, r, periodTotalCall { period: p }).await?,
    ))
}

pub async fn usdt_balance(
    client: &TronClient,
    usdt: &TronAddress,
    who: &TronAddress,
) -> anyhow::Result<U256> {
    view(
        client,
        usdt,
        balanceOfCall {
            who: Address::from(who.0),
        },
    )
    .await
}

/// `isAttestationValid` on the KYC router (signature by a compliance signer, unexpired, unrevoked).
pub async fn attestation_valid(
    client: &TronClient,
    kyc: &TronAddress,
    a: &Attestation,
) -> anyhow::Result<bool> {
    view(
        client,
        kyc,
        isAttestationValidCall {
            to: a.to,
            kycHash: a.kyc_hash,
            expiry: a.expiry,
            sig: a.sig.clone(),
        },
    )
    .await
}

/// Today's budget of a router (its current UTC day on chain).
pub async fn day_budget(
    client: &TronClient,
    r: &TronAddress,
    k: RouterKind,
    period: u32,
    items: &[Payable],
) -> anyhow::Result<DayBudget> {
    let lim = limits(client, r).await?;
    let day = view(client, r, currentDayCall {}).await?;
    let spent = view(client, r, spentOnDayCall { day }).await?;
    let (_, total) = period_root(client, r, period).await?;
    let paid = period_paid(client, r, period).await?;
    let mut b = DayBudget {
        min_payout: lim.min_payout,
        max_per_payout: lim.max_per_payout,
        remaining_today: lim.daily.saturating_sub(spent),
        recipient_daily_limit: None,
        recipient_spent: Default::default(),
        period_remaining: total.saturating_sub(paid),
    };
    if k == RouterKind::Kyc {
        b.recipient_daily_limit = Some(view(client, r, recipientDailyLimitCall {}).await?);
        for h in items.iter().filter_map(|p| p.kyc_hash) {
            if let std::collections::btree_map::Entry::Vacant(e) = b.recipient_spent.entry(h) {
                e.insert(view(client, r, recipientSpentOnDayCall { kycHash: h, day }).await?);
            }
        }
    }
    Ok(b)
}

pub fn set_period_root_call(r: TronAddress, period: u32, root: B256, total: U256) -> PayoutCall {
    let mut p = [0u8; 32];
    p[28..].copy_from_slice(&period.to_be_bytes());
    PayoutCall {
        contract: r,
        data: setPeriodRootCall {
            period,
            root,
            total,
        }
        .abi_encode(),
        expected_logs: vec![lucid_payout::ExpectedLog {
            address: r,
            topics: vec![PeriodRootSet::SIGNATURE_HASH.0, p],
        }],
    }
}

pub fn disburse_batch_call(
    r: TronAddress,
    period: u32,
    items: &[(Address, U256, Vec<B256>)],
) -> PayoutCall {
    PayoutCall {
        contract: r,
        data: disburseBatchCall {
            period,
            to: items.iter().map(|i| i.0).collect(),
            amounts: items.iter().map(|i| i.1).collect(),
            proofs: items.iter().map(|i| i.2.clone()).collect(),
        }
        .abi_encode(),
        // Each item ends Paid or PayoutSkipped: judged per item by `outcomes`.
        expected_logs: Vec::new(),
    }
}

pub fn disburse_kyc_call(
    r: TronAddress,
    period: u32,
    to: Address,
    amount: U256,
    proof: Vec<B256>,
    a: &Attestation,
) -> PayoutCall {
    let id = lucid_payout::leaf::payout_id(period, to);
    PayoutCall {
        contract: r,
        data: disburseKYCCall {
            period,
            to,
            amount,
            proof,
            kycHash: a.kyc_hash,
            expiry: a.expiry,
            sig: a.sig.clone(),
        }
        .abi_encode(),
        expected_logs: vec![lucid_payout::ExpectedLog {
            address: r,
            topics: vec![PaidKYC::SIGNATURE_HASH.0, id.0],
        }],
    }
}

/// One payout's outcome in a confirmed transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Paid,
    /// `PayoutSkipped` reason (1 already paid, 2 transfer failed).
    Skipped(u8),
}

/// `Paid` / `PaidKYC` / `PayoutSkipped` logs of `router` in `info`.
pub fn outcomes(info: &TxInfo, router: &TronAddress) -> Vec<(B256, Outcome)> {
    let mut out = Vec::new();
    for l in info.logs.iter().filter(|l| l.address == router.0) {
        let (Some(t0), Some(id)) = (l.topics.first(), l.topics.get(1)) else {
            continue;
        };
        if *t0 == Paid::SIGNATURE_HASH.0 || *t0 == PaidKYC::SIGNATURE_HASH.0 {
            out.push((B256::from(*id), Outcome::Paid));
        } else if *t0 == PayoutSkipped::SIGNATURE_HASH.0 {
            let r = l.data.get(31).copied().unwrap_or(u8::MAX);
            out.push((B256::from(*id), Outcome::Skipped(r)));
        }
    }
    out
}

async fn rpc(url: &str, method: &str, params: Value) -> anyhow::Result<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let resp = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body)?)
        .send()
        .await
        .with_context(|| format!("{method} on the on-system chain"))?;
    let v: Value = serde_json::from_slice(&resp.bytes().await?)
        .with_context(|| format!("{method}: not JSON"))?;
    if let Some(e) = v.get("error") {
        bail!("{method}: {e}");
    }
    v.get("result")
        .cloned()
        .with_context(|| format!("{method}: no result"))
}

fn hex_u64(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.trim_start_matches("0x"), 16).ok()
}

/// Chain time (the latest block's timestamp) and chain id of the on-system chain.
pub async fn on_system_now(url: Option<&str>) -> anyhow::Result<(u64, u64)> {
    let url = url.context(
        "ON_SYSTEM_CHAIN_RPC is required (chain time and the chain id of PayoutAddress signatures)",
    )?;
    let b = rpc(url, "eth_getBlockByNumber", json!(["latest", false])).await?;
    let t = b
        .get("timestamp")
        .and_then(hex_u64)
        .context("latest block without timestamp")?;
    let id = hex_u64(&rpc(url, "eth_chainId", json!([])).await?).context("eth_chainId")?;
    Ok((t, id))
}
