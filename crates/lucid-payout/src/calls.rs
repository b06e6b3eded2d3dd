//! The payout path's one definition of the router and token ABI (SPEC §3):
//! - the calls it sends, as [`PayoutCall`]s with the logs that prove them: `setPeriodRoot` →
//!   `PeriodRootSet`, `disburse` → `Paid`, `disburseKYC` → `PaidKYC`; `disburseBatch` expects no
//!   particular log (an item may be skipped): read its outcome per item with [`batch_outcomes`];
//! - the views it reads through `/wallet/triggerconstantcontract` ([`view`], [`limits`],
//!   [`is_paid`], [`day_budget`], …).

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolEvent, sol};

use crate::api::{ApiError, TronClient, TxInfo};
use crate::plan::{Attestation, DayBudget, Payable, RouterKind, RouterLimits};
use crate::revert::decode_revert;
use crate::sender::{ExpectedLog, PayoutCall};
use crate::tron::TronAddress;

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
    function disburse(uint32 period, address to, uint256 amount, bytes32[] proof);
    function disburseBatch(uint32 period, address[] to, uint256[] amounts, bytes32[][] proofs);
    function disburseKYC(uint32 period, address to, uint256 amount, bytes32[] proof, bytes32 kycHash, uint64 expiry, bytes sig);
    event PeriodRootSet(uint32 indexed period, bytes32 root, uint256 total);
    event Paid(bytes32 indexed payoutId, address indexed to, uint256 amount, uint32 indexed period);
    event PaidKYC(bytes32 indexed payoutId, address indexed to, uint256 amount, uint32 indexed period, bytes32 kycHash);
    event PayoutSkipped(bytes32 indexed payoutId, address indexed to, uint8 reason);
}

fn evm(a: &TronAddress) -> Address {
    Address::from(a.0)
}

fn word_u32(v: u32) -> [u8; 32] {
    U256::from(v).to_be_bytes()
}

fn word_addr(a: &TronAddress) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&a.0);
    w
}

/// `payoutId = keccak256(abi.encode("lucid.payout.v1", uint32 period, address to))` (SPEC §3), for a
/// TRON address ([`crate::leaf::payout_id`] is the one definition).
pub fn payout_id(period: u32, to: &TronAddress) -> [u8; 32] {
    crate::leaf::payout_id(period, evm(to)).0
}

/// `setPeriodRoot(period, root, total)` (TREASURER_ROLE), proven by `PeriodRootSet(period)`.
pub fn set_period_root(
    router: TronAddress,
    period: u32,
    root: [u8; 32],
    total: U256,
) -> PayoutCall {
    PayoutCall {
        contract: router,
        data: setPeriodRootCall {
            period,
            root: B256::from(root),
            total,
        }
        .abi_encode(),
        expected_logs: vec![ExpectedLog {
            address: router,
            topics: vec![PeriodRootSet::SIGNATURE_HASH.0, word_u32(period)],
        }],
    }
}

/// `disburse(period, to, amount, proof)` on PayoutRouterV0, proven by `Paid(payoutId, to, period)`.
pub fn disburse(
    router: TronAddress,
    period: u32,
    to: TronAddress,
    amount: U256,
    proof: &[[u8; 32]],
) -> PayoutCall {
    PayoutCall {
        contract: router,
        data: disburseCall {
            period,
            to: evm(&to),
            amount,
            proof: proof.iter().map(|p| B256::from(*p)).collect(),
        }
        .abi_encode(),
        expected_logs: vec![ExpectedLog {
            address: router,
            topics: vec![
                Paid::SIGNATURE_HASH.0,
                payout_id(period, &to),
                word_addr(&to),
                word_u32(period),
            ],
        }],
    }
}

/// `disburseKYC(…)` on PayoutRouterKYC with the attestation `att`, proven by
/// `PaidKYC(payoutId, to, period)`.
pub fn disburse_kyc(
    router: TronAddress,
    period: u32,
    to: TronAddress,
    amount: U256,
    proof: &[[u8; 32]],
    att: &Attestation,
) -> PayoutCall {
    PayoutCall {
        contract: router,
        data: disburseKYCCall {
            period,
            to: evm(&to),
            amount,
            proof: proof.iter().map(|p| B256::from(*p)).collect(),
            kycHash: att.kyc_hash,
            expiry: att.expiry,
            sig: att.sig.clone(),
        }
        .abi_encode(),
        expected_logs: vec![ExpectedLog {
            address: router,
            topics: vec![
                PaidKYC::SIGNATURE_HASH.0,
                payout_id(period, &to),
                word_addr(&to),
                word_u32(period),
            ],
        }],
    }
}

/// One item of a `disburseBatch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    /// Recipient.
    pub to: TronAddress,
    /// Amount (micro-USDT).
    pub amount: U256,
    /// Merkle proof.
    pub proof: Vec<[u8; 32]>,
}

/// `disburseBatch(period, to[], amounts[], proofs[])` on PayoutRouterV0. No log is required: each
/// item ends `Paid` or `PayoutSkipped`; see [`batch_outcomes`].
pub fn disburse_batch(router: TronAddress, period: u32, items: &[BatchItem]) -> PayoutCall {
    PayoutCall {
        contract: router,
        data: disburseBatchCall {
            period,
            to: items.iter().map(|i| evm(&i.to)).collect(),
            amounts: items.iter().map(|i| i.amount).collect(),
            proofs: items
                .iter()
                .map(|i| i.proof.iter().map(|p| B256::from(*p)).collect())
                .collect(),
        }
        .abi_encode(),
        expected_logs: Vec::new(),
    }
}

/// What happened to one payout in a confirmed transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `Paid` / `PaidKYC` with this amount.
    Paid(U256),
    /// `PayoutSkipped` with its reason (1 already paid, 2 transfer failed).
    Skipped(u8),
}

/// The `Paid`, `PaidKYC` and `PayoutSkipped` logs of `router` in `info`, as `(payoutId, to, outcome)`.
pub fn batch_outcomes(
    info: &TxInfo,
    router: &TronAddress,
) -> Vec<([u8; 32], TronAddress, Outcome)> {
    let mut out = Vec::new();
    for l in info.logs.iter().filter(|l| l.address == router.0) {
        let Some(t0) = l.topics.first() else { continue };
        if l.topics.len() < 3 {
            continue;
        }
        let mut to = [0u8; 20];
        to.copy_from_slice(&l.topics[2][12..]);
        let to = TronAddress(to);
        let id = l.topics[1];
        let word = |i: usize| {
            l.data
                .get(i * 32..(i + 1) * 32)
                .map(U256::from_be_slice)
                .unwrap_or_default()
        };
        if *t0 == Paid::SIGNATURE_HASH.0 || *t0 == PaidKYC::SIGNATURE_HASH.0 {
            out.push((id, to, Outcome::Paid(word(0))));
        } else if *t0 == PayoutSkipped::SIGNATURE_HASH.0 {
            let r = word(0);
            out.push((id, to, Outcome::Skipped(u8::try_from(r).unwrap_or(u8::MAX))));
        }
    }
    out
}

// ------------------------------------------------------------------------------------------------
// reads

/// A view call that did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The node could not be asked (transport, shape, refusal).
    #[error("{call} on {contract}: {source}")]
    Api {
        /// The call's signature.
        call: &'static str,
        /// The contract (T…).
        contract: String,
        /// Cause.
        #[source]
        source: ApiError,
    },
    /// The call reverted.
    #[error("{call} on {contract} reverted: {reason}")]
    Reverted {
        /// The call's signature.
        call: &'static str,
        /// The contract (T…).
        contract: String,
        /// The decoded revert reason, or the node's message.
        reason: String,
    },
    /// The answer does not decode as the call's return type.
    #[error("{call} on {contract}: undecodable answer")]
    Undecodable {
        /// The call's signature.
        call: &'static str,
        /// The contract (T…).
        contract: String,
    },
}

/// Runs a view call through `/wallet/triggerconstantcontract`, from the contract's own account (it
/// exists on every network).
pub async fn view<C: SolCall>(
    client: &TronClient,
    contract: &TronAddress,
    call: C,
) -> Result<C::Return, ReadError> {
    let r = client
        .trigger_constant(contract, contract, &call.abi_encode())
        .await
        .map_err(|source| ReadError::Api {
            call: C::SIGNATURE,
            contract: contract.encode(),
            source,
        })?;
    if r.failed {
        return Err(ReadError::Reverted {
            call: C::SIGNATURE,
            contract: contract.encode(),
            reason: if r.output.is_empty() {
                r.message
            } else {
                decode_revert(&r.output)
            },
        });
    }
    C::abi_decode_returns(&r.output).map_err(|_| ReadError::Undecodable {
        call: C::SIGNATURE,
        contract: contract.encode(),
    })
}

/// A router's limits (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `minPayout`.
    pub min_payout: U256,
    /// `maxPerPayout`.
    pub max_per_payout: U256,
    /// `dailyLimit`.
    pub daily: U256,
}

impl Limits {
    /// What planning needs of them.
    pub fn router_limits(&self) -> RouterLimits {
        RouterLimits {
            min_payout: self.min_payout,
            max_per_payout: self.max_per_payout,
        }
    }
}

/// `minPayout`, `maxPerPayout`, `dailyLimit`.
pub async fn limits(client: &TronClient, r: &TronAddress) -> Result<Limits, ReadError> {
    Ok(Limits {
        min_payout: view(client, r, minPayoutCall {}).await?,
        max_per_payout: view(client, r, maxPerPayoutCall {}).await?,
        daily: view(client, r, dailyLimitCall {}).await?,
    })
}

/// `paid(payoutId)`.
pub async fn is_paid(client: &TronClient, r: &TronAddress, id: &B256) -> Result<bool, ReadError> {
    view(client, r, paidCall { id: *id }).await
}

/// `paused()`.
pub async fn paused(client: &TronClient, r: &TronAddress) -> Result<bool, ReadError> {
    view(client, r, pausedCall {}).await
}

/// `periodPaid(period)`.
pub async fn period_paid(client: &TronClient, r: &TronAddress, p: u32) -> Result<U256, ReadError> {
    view(client, r, periodPaidCall { period: p }).await
}

/// `periodRoot(period)` and `periodTotal(period)`.
pub async fn period_root(
    client: &TronClient,
    r: &TronAddress,
    p: u32,
) -> Result<(B256, U256), ReadError> {
    Ok((
        view(client, r, periodRootCall { period: p }).await?,
        view(client, r, periodTotalCall { period: p }).await?,
    ))
}

/// The token's `balanceOf(who)`.
pub async fn usdt_balance(
    client: &TronClient,
    usdt: &TronAddress,
    who: &TronAddress,
) -> Result<U256, ReadError> {
    view(client, usdt, balanceOfCall { who: evm(who) }).await
}

/// `isAttestationValid` on the KYC router (signature by a compliance signer, unexpired, unrevoked).
pub async fn attestation_valid(
    client: &TronClient,
    kyc: &TronAddress,
    a: &Attestation,
) -> Result<bool, ReadError> {
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

/// Today's budget of a router (its current UTC day on chain) for `items` of `period`.
pub async fn day_budget(
    client: &TronClient,
    r: &TronAddress,
    k: RouterKind,
    period: u32,
    items: &[Payable],
) -> Result<DayBudget, ReadError> {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::api::Log;

    #[test]
    fn payout_ids_match_the_shared_vectors() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/vectors/payout_ids.json");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        for e in v["payoutIds"].as_array().unwrap() {
            let to: TronAddress = e["toTron"].as_str().unwrap().parse().unwrap();
            let period = u32::try_from(e["period"].as_u64().unwrap()).unwrap();
            assert_eq!(
                format!("0x{}", hex::encode(payout_id(period, &to))),
                e["payoutId"].as_str().unwrap()
            );
        }
    }

    #[test]
    fn outcomes_from_logs() {
        let router = TronAddress([9; 20]);
        let to = TronAddress([5; 20]);
        let call = disburse(router, 24300, to, U256::from(10u64), &[]);
        let mut data = vec![0u8; 32];
        data[31] = 10;
        let paid = Log {
            address: router.0,
            topics: call.expected_logs[0].topics.clone(),
            data,
        };
        let mut skip_data = vec![0u8; 32];
        skip_data[31] = 1;
        let skipped = Log {
            address: router.0,
            topics: vec![PayoutSkipped::SIGNATURE_HASH.0, [1; 32], word_addr(&to)],
            data: skip_data,
        };
        let foreign = Log {
            address: [1; 20],
            ..paid.clone()
        };
        let info = TxInfo {
            id: [0; 32],
            block_number: 1,
            block_timestamp_ms: 0,
            fee: 0,
            receipt_result: None,
            energy_usage_total: 0,
            contract_result: Vec::new(),
            logs: vec![paid, skipped, foreign],
            failed: false,
            res_message: String::new(),
        };
        assert!(call.expected_logs[0].found_in(&info));
        let o = batch_outcomes(&info, &router);
        assert_eq!(
            o,
            vec![
                (payout_id(24300, &to), to, Outcome::Paid(U256::from(10u64))),
                ([1; 32], to, Outcome::Skipped(1)),
            ]
        );
    }
}
