//! The monthly payout plan (SPEC §3, §4): periods, `payoutId`s, router leaves and the period's Merkle
//! tree with proofs — what the treasury sets on both routers (`setPeriodRoot(period, root, total)`) and
//! what every `disburse` / `disburseBatch` / `disburseKYC` proves.
//!
//! - `period = year × 12 + month − 1` of the UTC month paid for.
//! - `payoutId = keccak256(abi.encode("lucid.payout.v1", uint32 period, address to))`.
//! - leaf `= keccak256(keccak256(abi.encode(address router, uint32 period, address to, uint256 amount)))`,
//!   `router` and `to` being 20-byte addresses (a TVM address without its `0x41` prefix).
//! - the tree is SPEC §2's (OpenZeppelin commutative pairs, an odd last node moves up), over the leaves of
//!   both routers ordered by recipient as a 20-byte number, one leaf per recipient.

use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_sol_types::SolValue;
use lucid_core::merkle::{self, MerkleTree};

/// The string in every `payoutId` (ABI-encoded as a dynamic `string`).
pub const PAYOUT_ID_DOMAIN: &str = "lucid.payout.v1";

/// Why a period or a plan is refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// `month` is not 1–12.
    #[error("month {0} is not 1-12")]
    InvalidMonth(u32),
    /// The period number does not fit in `uint32`.
    #[error("period of year {0} does not fit in uint32")]
    PeriodOverflow(u32),
    /// A plan needs at least one payout (a period without payouts sets no root).
    #[error("a plan needs at least one payout")]
    Empty,
    /// One leaf per recipient.
    #[error("recipient {0} appears twice in the plan")]
    DuplicateRecipient(Address),
    /// The zero address cannot be paid.
    #[error("the zero address cannot be paid")]
    ZeroRecipient,
    /// A payout of 0 (the routers' minimum is at least 1).
    #[error("payout to {0} has amount 0")]
    ZeroAmount(Address),
    /// The sum of the amounts does not fit in `uint256`.
    #[error("the plan's total overflows uint256")]
    TotalOverflow,
}

/// `year × 12 + month − 1`.
pub fn period_of(year: u32, month: u32) -> Result<u32, PlanError> {
    if !(1..=12).contains(&month) {
        return Err(PlanError::InvalidMonth(month));
    }
    year.checked_mul(12)
        .and_then(|p| p.checked_add(month - 1))
        .ok_or(PlanError::PeriodOverflow(year))
}

/// `(year, month)` of a period.
pub fn year_month(period: u32) -> (u32, u32) {
    (period / 12, period % 12 + 1)
}

/// The period (UTC month) that contains the unix time `t` (seconds).
pub fn period_at(t: u64) -> u32 {
    let (y, m) = civil_year_month(t / 86_400);
    // y < 2^32 / 12 for any u64 time (days < 2^48), so this cannot overflow.
    (y * 12 + m - 1) as u32
}

/// Unix time (seconds) of the first second of `period` (UTC).
pub fn period_start(period: u32) -> u64 {
    let (y, m) = year_month(period);
    days_from_civil(u64::from(y), u64::from(m)) * 86_400
}

/// Days since 1970-01-01 → (year, month), proleptic Gregorian (H. Hinnant's civil-from-days).
fn civil_year_month(days: u64) -> (u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m)
}

/// (year, month) → days since 1970-01-01 of its first day (year ≥ 1970).
fn days_from_civil(y: u64, m: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).saturating_sub(719_468)
}

/// `keccak256(abi.encode("lucid.payout.v1", uint32 period, address to))`.
pub fn payout_id(period: u32, to: Address) -> B256 {
    keccak256((PAYOUT_ID_DOMAIN.to_string(), period, to).abi_encode_params())
}

/// `keccak256(keccak256(abi.encode(address router, uint32 period, address to, uint256 amount)))`.
pub fn payout_leaf(router: Address, period: u32, to: Address, amount: U256) -> B256 {
    keccak256(keccak256((router, period, to, amount).abi_encode_params()))
}

/// One planned payout: which router pays how much to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlannedPayout {
    /// PayoutRouterV0 or PayoutRouterKYC (20-byte address).
    pub router: Address,
    /// The recipient (20-byte address).
    pub to: Address,
    /// Micro-USDT.
    pub amount: U256,
}

/// A period's plan: the payouts ordered by recipient, their Merkle tree, the total.
#[derive(Debug, Clone)]
pub struct PayoutPlan {
    period: u32,
    payouts: Vec<PlannedPayout>,
    tree: MerkleTree,
    total: U256,
}

impl PayoutPlan {
    /// Builds the plan of `period`: sorts by recipient (as a 20-byte number), refuses an empty plan, a
    /// repeated or zero recipient, a zero amount and a total beyond `uint256`.
    pub fn new(period: u32, mut payouts: Vec<PlannedPayout>) -> Result<Self, PlanError> {
        if payouts.is_empty() {
            return Err(PlanError::Empty);
        }
        payouts.sort_by_key(|p| p.to);
        let mut total = U256::ZERO;
        for (i, p) in payouts.iter().enumerate() {
            if p.to == Address::ZERO {
                return Err(PlanError::ZeroRecipient);
            }
            if p.amount.is_zero() {
                return Err(PlanError::ZeroAmount(p.to));
            }
            if i > 0 && payouts[i - 1].to == p.to {
                return Err(PlanError::DuplicateRecipient(p.to));
            }
            total = total
                .checked_add(p.amount)
                .ok_or(PlanError::TotalOverflow)?;
        }
        let leaves = payouts
            .iter()
            .map(|p| payout_leaf(p.router, period, p.to, p.amount))
            .collect();
        let tree = MerkleTree::new(leaves).ok_or(PlanError::Empty)?;
        Ok(Self {
            period,
            payouts,
            tree,
            total,
        })
    }

    /// The period.
    pub fn period(&self) -> u32 {
        self.period
    }

    /// The payouts in leaf order (ascending recipient).
    pub fn payouts(&self) -> &[PlannedPayout] {
        &self.payouts
    }

    /// The leaves in order.
    pub fn leaves(&self) -> &[B256] {
        self.tree.leaves()
    }

    /// The root the treasury sets on both routers.
    pub fn root(&self) -> B256 {
        self.tree.root()
    }

    /// The total the treasury sets with the root (sum of all amounts, both routers).
    pub fn total(&self) -> U256 {
        self.total
    }

    /// Index of `to`'s payout in leaf order.
    pub fn index_of(&self, to: Address) -> Option<usize> {
        self.payouts.binary_search_by(|p| p.to.cmp(&to)).ok()
    }

    /// `to`'s payout and its proof (empty for a one-payout plan).
    pub fn proof_for(&self, to: Address) -> Option<(PlannedPayout, Vec<B256>)> {
        let i = self.index_of(to)?;
        Some((self.payouts[i], self.tree.proof(i)?))
    }

    /// Whether `proof` proves `(router, to, amount)` against this plan's root (what the router checks).
    pub fn verify(&self, p: &PlannedPayout, proof: &[B256]) -> bool {
        merkle::verify(
            proof,
            &self.root(),
            &payout_leaf(p.router, self.period, p.to, p.amount),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn addr(n: u8) -> Address {
        Address::repeat_byte(n)
    }

    #[test]
    fn periods() {
        assert_eq!(period_of(2026, 1).unwrap(), 2026 * 12);
        assert_eq!(period_of(2026, 12).unwrap(), 2026 * 12 + 11);
        assert_eq!(period_of(2026, 0), Err(PlanError::InvalidMonth(0)));
        assert_eq!(period_of(2026, 13), Err(PlanError::InvalidMonth(13)));
        assert!(period_of(u32::MAX, 1).is_err());
        assert_eq!(year_month(2026 * 12 + 10), (2026, 11));
        // 2024-02-29T23:59:59Z and 2024-03-01T00:00:00Z
        assert_eq!(period_at(1_709_251_199), period_of(2024, 2).unwrap());
        assert_eq!(period_at(1_709_251_200), period_of(2024, 3).unwrap());
        assert_eq!(period_at(0), period_of(1970, 1).unwrap());
        assert_eq!(period_start(period_of(2024, 3).unwrap()), 1_709_251_200);
        assert_eq!(period_start(period_of(2026, 1).unwrap()), 1_767_225_600);
        for p in [
            period_of(1970, 1).unwrap(),
            period_of(2000, 2).unwrap(),
            period_of(2099, 12).unwrap(),
        ] {
            assert_eq!(period_at(period_start(p)), p);
            assert_eq!(period_at(period_start(p + 1) - 1), p);
        }
    }

    #[test]
    fn plan_sorted_proofs_verify() {
        let v0 = addr(0xaa);
        let kyc = addr(0xbb);
        let payouts = vec![
            PlannedPayout {
                router: v0,
                to: addr(3),
                amount: U256::from(30_000_000u64),
            },
            PlannedPayout {
                router: kyc,
                to: addr(1),
                amount: U256::from(10_000_000u64),
            },
            PlannedPayout {
                router: v0,
                to: addr(2),
                amount: U256::from(20_000_000u64),
            },
        ];
        let plan = PayoutPlan::new(24_312, payouts).unwrap();
        assert_eq!(plan.payouts()[0].to, addr(1));
        assert_eq!(plan.total(), U256::from(60_000_000u64));
        for n in 1..=3 {
            let (p, proof) = plan.proof_for(addr(n)).unwrap();
            assert!(plan.verify(&p, &proof));
            let wrong_router = PlannedPayout {
                router: if p.router == v0 { kyc } else { v0 },
                ..p
            };
            assert!(!plan.verify(&wrong_router, &proof));
            let wrong_amount = PlannedPayout {
                amount: p.amount + U256::from(1u8),
                ..p
            };
            assert!(!plan.verify(&wrong_amount, &proof));
        }
        assert!(plan.proof_for(addr(9)).is_none());
    }

    #[test]
    fn one_payout_plan_root_is_leaf() {
        let p = PlannedPayout {
            router: addr(0xaa),
            to: addr(1),
            amount: U256::from(10u8),
        };
        let plan = PayoutPlan::new(1, vec![p]).unwrap();
        assert_eq!(plan.root(), payout_leaf(p.router, 1, p.to, p.amount));
        assert_eq!(plan.proof_for(p.to).unwrap().1, Vec::<B256>::new());
    }

    #[test]
    fn plan_refusals() {
        let p = |to: u8, amount: u64| PlannedPayout {
            router: addr(0xaa),
            to: addr(to),
            amount: U256::from(amount),
        };
        assert_eq!(PayoutPlan::new(1, vec![]).unwrap_err(), PlanError::Empty);
        assert_eq!(
            PayoutPlan::new(1, vec![p(1, 5), p(1, 6)]).unwrap_err(),
            PlanError::DuplicateRecipient(addr(1))
        );
        assert_eq!(
            PayoutPlan::new(1, vec![p(0, 5)]).unwrap_err(),
            PlanError::ZeroRecipient
        );
        assert_eq!(
            PayoutPlan::new(1, vec![p(1, 0)]).unwrap_err(),
            PlanError::ZeroAmount(addr(1))
        );
        let big = PlannedPayout {
            router: addr(0xaa),
            to: addr(2),
            amount: U256::MAX,
        };
        assert_eq!(
            PayoutPlan::new(1, vec![p(1, 1), big]).unwrap_err(),
            PlanError::TotalOverflow
        );
    }

    #[test]
    fn payout_id_matches_abi_layout() {
        // abi.encode(string, uint32, address): offset 0x60, period, to, length 15, padded data
        let to = addr(0x11);
        let mut enc = Vec::new();
        enc.extend_from_slice(&U256::from(0x60u8).to_be_bytes::<32>());
        enc.extend_from_slice(&U256::from(7u8).to_be_bytes::<32>());
        enc.extend_from_slice(&[0u8; 12]);
        enc.extend_from_slice(to.as_slice());
        enc.extend_from_slice(&U256::from(15u8).to_be_bytes::<32>());
        let mut s = PAYOUT_ID_DOMAIN.as_bytes().to_vec();
        s.resize(32, 0);
        enc.extend_from_slice(&s);
        assert_eq!(payout_id(7, to), keccak256(&enc));
    }
}
