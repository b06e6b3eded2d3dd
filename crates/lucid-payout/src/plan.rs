//! Pure monthly payout planning (SPEC §4 "Payout amounts", v1.1): periods, pool parsing, the
//! amounts of every member, routers by KYC attestation, recipients, the period tree, and the
//! execution order with daily-limit fitting. No I/O: the keeper reads the inputs (store, chain)
//! and writes the outputs.

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::{Address, B256, U256, keccak256};
use lucid_core::Params;
use lucid_core::poot::{Scope, Tally};
use lucid_core::proof::TaskProof;
use serde::{Deserialize, Serialize};

use crate::leaf::{PayoutPlan, PlannedPayout, payout_id};

/// A KYC attestation must expire at least this long after planning for the KYC router (30 days).
pub const KYC_MIN_VALIDITY_SEC: u64 = 30 * 86_400;
/// micro-USDT per USDT.
pub const MICRO: u64 = 1_000_000;
/// Seconds per UTC day (the routers' day: `block.timestamp / 86400`).
pub const DAY_SEC: u64 = 86_400;

// ------------------------------------------------------------------------------------------------
// Periods

/// A UTC calendar month; its period number is `year × 12 + month − 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// 1970–9999.
    pub year: u32,
    /// 1–12.
    pub month: u32,
}

/// A malformed `YYYY-MM` period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Not `YYYY-MM`.
    #[error("period {0:?} is not YYYY-MM (e.g. 2026-10)")]
    Malformed(String),
    /// Month outside 1–12 or year outside 1970–9999.
    #[error("period {0:?} is out of range (year 1970–9999, month 01–12)")]
    OutOfRange(String),
}

impl Month {
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Result<Self, PeriodError> {
        let b = s.as_bytes();
        if b.len() != 7 || b[4] != b'-' || !b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit) {
            return Err(PeriodError::Malformed(s.to_string()));
        }
        let year: u32 = s[..4]
            .parse()
            .map_err(|_| PeriodError::Malformed(s.into()))?;
        let month: u32 = s[5..]
            .parse()
            .map_err(|_| PeriodError::Malformed(s.into()))?;
        if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(PeriodError::OutOfRange(s.to_string()));
        }
        Ok(Self { year, month })
    }

    /// The month of a period number.
    pub fn from_period(p: u32) -> Self {
        Self {
            year: p / 12,
            month: p % 12 + 1,
        }
    }

    /// `year × 12 + month − 1`.
    pub fn period(&self) -> u32 {
        self.year * 12 + self.month - 1
    }

    /// Unix time of the month's first second.
    pub fn start_unix(&self) -> u64 {
        crate::leaf::period_start(self.period())
    }

    /// Unix time of the next month's first second (the period has ended at this time).
    pub fn end_unix(&self) -> u64 {
        Self::from_period(self.period() + 1).start_unix()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

// ------------------------------------------------------------------------------------------------
// Amounts

/// A malformed USDT amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Empty string.
    #[error("empty amount")]
    Empty,
    /// A minus sign.
    #[error("negative amount {0:?}: amounts are ≥ 0")]
    Negative(String),
    /// More than 6 decimals (USDT has 6).
    #[error("amount {0:?} has more than 6 decimals (USDT has 6)")]
    TooPrecise(String),
    /// Anything but digits with an optional decimal point.
    #[error("malformed amount {0:?}: expected USDT like 50000 or 50000.5")]
    Malformed(String),
    /// Above 10^30 USDT.
    #[error("amount {0:?} is too large")]
    TooLarge(String),
}

/// Parses a USDT amount (`"50000"`, `"50000.5"`, `"0.000001"`) into micro-USDT.
pub fn parse_usdt(s: &str) -> Result<U256, AmountError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(AmountError::Empty);
    }
    if t.starts_with('-') {
        return Err(AmountError::Negative(s.into()));
    }
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (t, None),
    };
    let digits = |x: &str| x.bytes().all(|c| c.is_ascii_digit());
    if int.is_empty() || !digits(int) || frac.is_some_and(|f| f.is_empty() || !digits(f)) {
        return Err(AmountError::Malformed(s.into()));
    }
    let frac = frac.unwrap_or("");
    if frac.len() > 6 {
        return Err(AmountError::TooPrecise(s.into()));
    }
    let int = int.trim_start_matches('0');
    if int.len() > 30 {
        return Err(AmountError::TooLarge(s.into()));
    }
    let mut all = String::with_capacity(int.len() + 6);
    all.push_str(int);
    all.push_str(frac);
    all.extend(std::iter::repeat_n('0', 6 - frac.len()));
    U256::from_str_radix(&all, 10).map_err(|_| AmountError::Malformed(s.into()))
}

/// micro-USDT as a USDT decimal (`50000.5`, `10`, `0.000001`).
pub fn format_usdt(v: U256) -> String {
    let m = U256::from(MICRO);
    let (i, f) = (v / m, v % m);
    if f.is_zero() {
        return i.to_string();
    }
    let f = format!("{:06}", f.to::<u64>());
    format!("{i}.{}", f.trim_end_matches('0'))
}

// ------------------------------------------------------------------------------------------------
// Credits

/// `credits_month(e)` (SPEC §4): `Σ W_t(e)` over the slots starting in the month, members only
/// (`None`: everyone), duplicates once. Feed **valid** proofs only. Nodes with no work are absent.
pub fn month_credits<'a>(
    params: &Params,
    month: Month,
    members: Option<&BTreeSet<Address>>,
    proofs: impl IntoIterator<Item = &'a TaskProof>,
) -> BTreeMap<Address, u64> {
    let range = params.slots_starting_in(month.start_unix(), month.end_unix());
    let mut scope = Scope::new(range);
    if let Some(m) = members {
        scope = scope.with_members(m.iter().copied());
    }
    let mut tally = Tally::with_scope(scope);
    for p in proofs {
        tally.add(p);
    }
    tally
        .totals(params)
        .into_iter()
        .filter(|t| t.credits > 0)
        .map(|t| (t.node, t.credits))
        .collect()
}

/// `inputs_hash` (SPEC §4): keccak256 of the sorted proof ids, concatenated.
pub fn inputs_hash(mut ids: Vec<B256>) -> B256 {
    ids.sort_unstable();
    ids.dedup();
    let mut buf = Vec::with_capacity(ids.len() * 32);
    for id in &ids {
        buf.extend_from_slice(id.as_slice());
    }
    keccak256(buf)
}

// ------------------------------------------------------------------------------------------------
// Planning

/// Which router pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouterKind {
    /// PayoutRouterV0.
    V0,
    /// PayoutRouterKYC.
    Kyc,
}

/// A router's limits as read on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouterLimits {
    /// `minPayout`.
    pub min_payout: U256,
    /// `maxPerPayout`.
    pub max_per_payout: U256,
}

/// A compliance attestation (SPEC §3 KYC) for a recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attestation {
    /// The recipient (20 bytes).
    pub to: Address,
    /// The KYC record's hash.
    pub kyc_hash: B256,
    /// Unix seconds; valid while `now < expiry`.
    pub expiry: u64,
    /// The compliance signer's signature (65 bytes, or ERC-1271 `abi.encode(signer, sig)`).
    pub sig: alloy_primitives::Bytes,
    /// Revoked on chain (`revoked(kycHash)`), or refused by `isAttestationValid`.
    #[serde(default)]
    pub revoked: bool,
}

impl Attestation {
    /// Usable for a payout at `now` (`now < expiry`, not revoked).
    pub fn valid_at(&self, now: u64) -> bool {
        !self.revoked && now < self.expiry
    }
}

/// The best attestation for `to` among `atts` that satisfies `ok`: the latest expiry, then the
/// lowest `kycHash`.
pub fn best_attestation<'a>(
    atts: impl IntoIterator<Item = &'a Attestation>,
    to: &Address,
    ok: impl Fn(&Attestation) -> bool,
) -> Option<&'a Attestation> {
    atts.into_iter()
        .filter(|a| a.to == *to && ok(a))
        .min_by(|a, b| b.expiry.cmp(&a.expiry).then(a.kyc_hash.cmp(&b.kyc_hash)))
}

/// Everything a plan depends on (SPEC §4, fixed when the period is planned).
#[derive(Debug, Clone)]
pub struct PlanInput {
    /// `year × 12 + month − 1`.
    pub period: u32,
    /// micro-USDT.
    pub pool: U256,
    /// Chain time of planning (unix seconds).
    pub planned_at: u64,
    /// Members; `None` = everyone counts (offline use).
    pub members: Option<BTreeSet<Address>>,
    /// `credits_month` per node (non-members are ignored).
    pub credits: BTreeMap<Address, u64>,
    /// `carry(e)`: the `carry_out` of e's most recent planned period.
    pub carries: BTreeMap<Address, U256>,
    /// Accepted recipient overrides in force for the period (node → recipient), see
    /// [`crate::payaddr::resolve_recipients`]; a node without one is paid at its own account.
    pub recipients: BTreeMap<Address, Address>,
    /// Attestations known at planning.
    pub attestations: Vec<Attestation>,
    /// Router addresses (20 bytes): PayoutRouterV0, PayoutRouterKYC.
    pub router_v0: Address,
    /// PayoutRouterKYC.
    pub router_kyc: Address,
    /// Limits of PayoutRouterV0.
    pub limits_v0: RouterLimits,
    /// Limits of PayoutRouterKYC.
    pub limits_kyc: RouterLimits,
}

/// Planned or rolled over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// In the tree; payable.
    Planned,
    /// Below the router's minimum: the whole gross carried.
    RolledOver,
}

/// One member's line of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    /// The node.
    pub node_id: Address,
    /// The recipient (20 bytes; `T…` = base58check(0x41 ‖ recipient)).
    pub recipient: Address,
    /// `credits_month`.
    pub credits: u64,
    /// `carry(e)`.
    pub carry_in: U256,
    /// `floor(pool × c / Σc) + carry`.
    pub gross: U256,
    /// Planned amount (0 when rolled over).
    pub amount: U256,
    /// `gross − amount` (the whole gross when rolled over).
    pub carry_out: U256,
    /// The router (the one whose minimum refused it, when rolled over).
    pub router: RouterKind,
    /// Planned or rolled over.
    pub status: PlanStatus,
    /// `payoutId(period, recipient)`.
    pub payout_id: B256,
    /// The leaf (planned only).
    pub leaf: Option<B256>,
    /// The Merkle proof (planned only).
    pub proof: Vec<B256>,
    /// The attestation that made it KYC.
    pub attestation: Option<Attestation>,
}

/// A period's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The period.
    pub period: u32,
    /// Root of the tree (`None`: nothing planned, no root is set).
    pub root: Option<B256>,
    /// Sum of the planned amounts.
    pub total: U256,
    /// Every member's row, ordered by recipient.
    pub rows: Vec<PlanRow>,
    /// What floor division left of the pool (not paid).
    pub remainder: U256,
}

/// Why a plan cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Two nodes resolve to one recipient (refused overrides must be filtered first).
    #[error("nodes {a} and {b} both resolve to recipient {recipient}")]
    RecipientCollision {
        /// The recipient.
        recipient: Address,
        /// One node.
        a: Address,
        /// The other.
        b: Address,
    },
    /// A zero recipient.
    #[error("node {0} resolves to the zero address")]
    ZeroRecipient(Address),
    /// `pool × credits` overflows uint256.
    #[error("pool × credits overflows uint256")]
    Overflow,
    /// The tree.
    #[error(transparent)]
    Tree(#[from] crate::leaf::PlanError),
}

/// Computes the plan of a period (SPEC §4 "Payout amounts", exactly).
pub fn plan(input: &PlanInput) -> Result<Plan, PlanError> {
    let member = |a: &Address| input.members.as_ref().is_none_or(|m| m.contains(a));
    let credits: BTreeMap<Address, u64> = input
        .credits
        .iter()
        .filter(|(a, c)| member(a) && **c > 0)
        .map(|(a, c)| (*a, *c))
        .collect();
    let sum: U256 = credits.values().map(|c| U256::from(*c)).sum();
    let mut nodes: BTreeSet<Address> = credits.keys().copied().collect();
    nodes.extend(
        input
            .carries
            .iter()
            .filter(|(a, c)| member(a) && !c.is_zero())
            .map(|(a, _)| *a),
    );

    let mut by_recipient: BTreeMap<Address, Address> = BTreeMap::new();
    let mut rows = Vec::with_capacity(nodes.len());
    let mut shared = U256::ZERO;
    let kyc_ok = |a: &Attestation| {
        !a.revoked && a.expiry >= input.planned_at.saturating_add(KYC_MIN_VALIDITY_SEC)
    };
    for node in nodes {
        let recipient = input.recipients.get(&node).copied().unwrap_or(node);
        if recipient.is_zero() {
            return Err(PlanError::ZeroRecipient(node));
        }
        if let Some(other) = by_recipient.insert(recipient, node) {
            return Err(PlanError::RecipientCollision {
                recipient,
                a: other,
                b: node,
            });
        }
        let c = credits.get(&node).copied().unwrap_or(0);
        let share = if sum.is_zero() {
            U256::ZERO
        } else {
            input
                .pool
                .checked_mul(U256::from(c))
                .ok_or(PlanError::Overflow)?
                / sum
        };
        shared += share;
        let carry_in = input.carries.get(&node).copied().unwrap_or_default();
        let gross = share.checked_add(carry_in).ok_or(PlanError::Overflow)?;
        let att = best_attestation(&input.attestations, &recipient, kyc_ok);
        let (router, limits) = match att {
            Some(_) => (RouterKind::Kyc, input.limits_kyc),
            None => (RouterKind::V0, input.limits_v0),
        };
        let amount = gross.min(limits.max_per_payout);
        let (status, amount, carry_out) = if amount < limits.min_payout {
            (PlanStatus::RolledOver, U256::ZERO, gross)
        } else {
            (PlanStatus::Planned, amount, gross - amount)
        };
        rows.push(PlanRow {
            node_id: node,
            recipient,
            credits: c,
            carry_in,
            gross,
            amount,
            carry_out,
            router,
            status,
            payout_id: payout_id(input.period, recipient),
            leaf: None,
            proof: Vec::new(),
            attestation: att.cloned(),
        });
    }
    rows.sort_by_key(|a| a.recipient);
    let router_addr = |k: RouterKind| match k {
        RouterKind::V0 => input.router_v0,
        RouterKind::Kyc => input.router_kyc,
    };
    let items: Vec<PlannedPayout> = rows
        .iter()
        .filter(|r| r.status == PlanStatus::Planned)
        .map(|r| PlannedPayout {
            router: router_addr(r.router),
            to: r.recipient,
            amount: r.amount,
        })
        .collect();
    let tree = if items.is_empty() {
        None
    } else {
        Some(PayoutPlan::new(input.period, items)?)
    };
    let (root, total) = match &tree {
        Some(t) => {
            let planned = rows.iter_mut().filter(|r| r.status == PlanStatus::Planned);
            // Both lists are ordered by recipient.
            for (k, r) in planned.enumerate() {
                r.leaf = t.leaves().get(k).copied();
                r.proof = t.proof_for(r.recipient).map(|(_, p)| p).unwrap_or_default();
            }
            (Some(t.root()), t.total())
        }
        None => (None, U256::ZERO),
    };
    Ok(Plan {
        period: input.period,
        root,
        total,
        rows,
        remainder: input.pool.saturating_sub(shared),
    })
}

// ------------------------------------------------------------------------------------------------
// Execution

/// A planned payout waiting to be paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payable {
    /// `payoutId`.
    pub payout_id: B256,
    /// Recipient.
    pub to: Address,
    /// Planned amount.
    pub amount: U256,
    /// For KYC: the attestation's `kycHash` (the per-recipient daily limit's key).
    pub kyc_hash: Option<B256>,
}

/// A router's limits and what its current UTC day has already spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayBudget {
    /// `minPayout`.
    pub min_payout: U256,
    /// `maxPerPayout`.
    pub max_per_payout: U256,
    /// `dailyLimit − spentOnDay(today)` (0 when spent ≥ limit).
    pub remaining_today: U256,
    /// KYC: `recipientDailyLimit`.
    pub recipient_daily_limit: Option<U256>,
    /// KYC: `recipientSpentOnDay(kycHash, today)` for the hashes involved.
    pub recipient_spent: BTreeMap<B256, U256>,
    /// The period's `total − paid` on this router.
    pub period_remaining: U256,
}

/// Why a payable payout is not paid today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wait {
    /// The day's remaining limit (or the recipient's) is too small: next UTC day.
    DailyLimit,
    /// The amount is outside the router's current min/max (limits changed after planning).
    OutsideLimits,
    /// The period's remaining total is too small (should not happen with the approved plan).
    PeriodTotal,
}

/// SPEC §4 execution order: descending amount, then ascending recipient.
pub fn execution_order(items: &mut [Payable]) {
    items.sort_by(|a, b| b.amount.cmp(&a.amount).then(a.to.cmp(&b.to)));
}

/// Which of `items` (already in [`execution_order`]) the day's limits admit, greedily in order
/// (never split): returns the admitted ones and the waiting ones with the reason.
pub fn fit_day(items: &[Payable], budget: &DayBudget) -> (Vec<Payable>, Vec<(Payable, Wait)>) {
    let mut left = budget.remaining_today;
    let mut period_left = budget.period_remaining;
    let mut spent = budget.recipient_spent.clone();
    let (mut fit, mut wait) = (Vec::new(), Vec::new());
    for it in items {
        if it.amount < budget.min_payout || it.amount > budget.max_per_payout {
            wait.push((it.clone(), Wait::OutsideLimits));
            continue;
        }
        if it.amount > period_left {
            wait.push((it.clone(), Wait::PeriodTotal));
            continue;
        }
        if it.amount > left {
            wait.push((it.clone(), Wait::DailyLimit));
            continue;
        }
        if let (Some(limit), Some(h)) = (budget.recipient_daily_limit, it.kyc_hash) {
            let s = spent.entry(h).or_default();
            if *s + it.amount > limit {
                wait.push((it.clone(), Wait::DailyLimit));
                continue;
            }
            *s += it.amount;
        }
        left -= it.amount;
        period_left -= it.amount;
        fit.push(it.clone());
    }
    (fit, wait)
}

#[cfg(test)]
mod tests;
