//! Decoding revert data from the payout routers (SPEC §3 custom errors), `Error(string)` and
//! `Panic(uint256)`, so a `REVERT` is reported by name, not as hex.

use alloy_sol_types::{SolError, SolInterface, sol};

sol! {
    /// The custom errors of IPayoutRouter, IPayoutRouterV0, IPayoutRouterKYC (contracts v1.1),
    /// plus the test token's (contracts/test/mocks/MockTronUSDT.sol).
    #[derive(Debug, PartialEq, Eq)]
    interface PayoutErrors {
        error AlreadyPaid(bytes32 payoutId);
        error ZeroRecipient();
        error ZeroRoot();
        error NoRoot(uint32 period);
        error PeriodAlreadyPaying(uint32 period);
        error InvalidProof(uint32 period, address to, uint256 amount);
        error PeriodTotalExceeded(uint32 period, uint256 requested, uint256 remaining);
        error BelowMinimum(uint256 amount, uint256 minPayout);
        error AboveMaximum(uint256 amount, uint256 maxPerPayout);
        error DailyLimitExceeded(uint64 day, uint256 requested, uint256 remaining);
        error InsufficientBalance(uint256 requested, uint256 balance);
        error InvalidLimits(uint256 minPayout, uint256 maxPerPayout, uint256 dailyLimit);
        error TransferAmountMismatch(address account, uint256 expected, uint256 actual);
        error RescueOfUsdt();
        error ZeroAddress();
        error ZeroAmount();
        error LengthMismatch(uint256 to, uint256 amounts, uint256 proofs);
        error EmptyBatch();
        error AttestationExpired(uint64 expiry, uint256 nowTs);
        error KycRevokedError(bytes32 kycHash);
        error InvalidAttestation();
        error ZeroKycHash();
        error RecipientDailyLimitExceeded(bytes32 kycHash, uint64 day, uint256 requested, uint256 remaining);
        error InvalidRecipientDailyLimit(uint256 limit);
        error AdminRenounceRefused();
        error OnlySelf();
        error EnforcedPause();
        error ExpectedPause();
        error AccessControlUnauthorizedAccount(address account, bytes32 neededRole);
        error NotOwner(address caller);
        error InsufficientTokenBalance(address from, uint256 balance, uint256 needed);
        error InsufficientTokenAllowance(address spender, uint256 allowance, uint256 needed);
    }
}

/// A human-readable name for revert data: a router/token custom error with its arguments,
/// `Error(string)`'s message, a `Panic` code, or the hex when nothing matches.
pub fn decode_revert(data: &[u8]) -> String {
    if data.is_empty() {
        return "revert without data".to_string();
    }
    if let Ok(e) = PayoutErrors::PayoutErrorsErrors::abi_decode(data) {
        return format!("{e:?}");
    }
    if let Ok(r) = alloy_sol_types::Revert::abi_decode(data) {
        return format!("Error({:?})", r.reason);
    }
    if let Ok(p) = alloy_sol_types::Panic::abi_decode(data) {
        return format!("Panic(0x{:02x})", p.code);
    }
    format!("unknown error 0x{}", hex::encode(data))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn decodes_router_errors() {
        let e = PayoutErrors::AlreadyPaid {
            payoutId: [7u8; 32].into(),
        };
        let s = decode_revert(&e.abi_encode());
        assert!(s.contains("AlreadyPaid"), "{s}");
        let e = PayoutErrors::DailyLimitExceeded {
            day: 20_000,
            requested: alloy_primitives::U256::from(5u8),
            remaining: alloy_primitives::U256::from(1u8),
        };
        let s = decode_revert(&e.abi_encode());
        assert!(
            s.contains("DailyLimitExceeded") && s.contains("20000"),
            "{s}"
        );
        assert_eq!(decode_revert(&[]), "revert without data");
        assert_eq!(decode_revert(&[1, 2, 3, 4]), "unknown error 0x01020304");
        let s = decode_revert(&alloy_sol_types::Revert::from("nope").abi_encode());
        assert!(s.contains("nope"), "{s}");
    }
}
