//! The router calls the payout path makes, as [`PayoutCall`]s with the logs that prove them (SPEC §3):
//! `setPeriodRoot` → `PeriodRootSet`, `disburse` → `Paid`, `disburseKYC` → `PaidKYC`;
//! `disburseBatch` expects no particular log (an item may be skipped): read its outcome per item with
//! [`batch_outcomes`].

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolEvent, sol};

use crate::api::TxInfo;
use crate::sender::{ExpectedLog, PayoutCall};
use crate::tron::TronAddress;

sol! {
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

/// A KYC attestation as `disburseKYC` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    /// `kycHash`.
    pub kyc_hash: [u8; 32],
    /// `expiry` (unix seconds).
    pub expiry: u64,
    /// The compliance signer's EIP-712 signature.
    pub sig: Vec<u8>,
}

/// `disburseKYC(…)` on PayoutRouterKYC, proven by `PaidKYC(payoutId, to, period)`.
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
            kycHash: B256::from(att.kyc_hash),
            expiry: att.expiry,
            sig: att.sig.clone().into(),
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
