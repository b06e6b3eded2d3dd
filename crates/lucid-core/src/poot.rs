//! Proof of Operational Throughput (SPEC §4): work credits, live score, eligibility, ranking,
//! the leader schedule (cooldown by plan) and slot-result classification, plus the SPEC §6 frozen
//! epoch rows and `tally_hash`. Integer arithmetic only; pure functions of their inputs.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use alloy_primitives::{Address, B256, keccak256};
use serde::{Deserialize, Serialize};

use crate::params::{Overflow, Params};
use crate::proof::{ProofKind, TaskProof};

/// 2^53 − 1: `W_t` and every sum of them saturate here (SPEC §4), so they stay exact as JSON numbers.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// `W_t(e) = max(S_t(e), ceil(B_t(e) / (BASE_MB_PER_SESSION × 2^20)))`, saturating at 2^53 − 1.
pub fn work_units(distinct_sessions: u64, relayed_bytes: u128, bytes_per_session: u64) -> u64 {
    let b = relayed_bytes.div_ceil(u128::from(bytes_per_session.max(1)));
    let b = u64::try_from(b).unwrap_or(u64::MAX);
    distinct_sessions.max(b).min(MAX_SAFE_INTEGER)
}

/// `a + b`, saturating at 2^53 − 1.
pub fn add_credits(a: u64, b: u64) -> u64 {
    a.saturating_add(b).min(MAX_SAFE_INTEGER)
}

/// `floor(1_000_000 × beacon_slots / window)` (ppm).
pub fn live_score_ppm(beacon_slots: u64, window: u64) -> u64 {
    if window == 0 {
        return 0;
    }
    let v = (u128::from(beacon_slots) * 1_000_000) / u128::from(window);
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// `tieKey(e) = keccak256(abi.encode(bytes32 epochSeed, address e))`.
pub fn tie_key(epoch_seed: &B256, node: &Address) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(epoch_seed.as_slice());
    buf[44..].copy_from_slice(node.as_slice());
    keccak256(buf)
}

/// Which proofs a tally counts: a slot range and, optionally, a member list (SPEC §4
/// membership: `None` = everyone counts, as the offline commands do without `--members`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Slots counted (e.g. [`Params::window`]).
    pub range: Range<u64>,
    /// Members; `None` = every node counts.
    pub members: Option<Arc<HashSet<Address>>>,
}

impl Scope {
    /// Everyone counts over `range`.
    pub fn new(range: Range<u64>) -> Self {
        Self {
            range,
            members: None,
        }
    }

    /// Only `members` count.
    pub fn with_members(mut self, members: impl IntoIterator<Item = Address>) -> Self {
        self.members = Some(Arc::new(members.into_iter().collect()));
        self
    }

    /// True if `slot` is in the range.
    pub fn covers(&self, slot: u64) -> bool {
        self.range.contains(&slot)
    }

    /// True if `node` counts (always, without a member list).
    pub fn is_member(&self, node: &Address) -> bool {
        self.members.as_ref().is_none_or(|m| m.contains(node))
    }
}

/// `(node index, slot offset)`.
type Cell = (u32, u32);

/// One node's beacon slots: a short list while it is small, a bitset over the range once the list
/// would take more memory than the bitset. Memory is therefore at most
/// `min(4 × beacons, range / 8)` bytes per node: proportional to the proofs, never more than a
/// bitset of the range (a throwaway key with one beacon costs a few bytes, not a window of bits).
#[derive(Debug, Clone)]
enum BeaconSet {
    /// Slot offsets (unsorted, at most `range / 32` of them, so `contains` is bounded).
    Sparse(Vec<u32>),
    /// One bit per slot offset of the range.
    Dense(Vec<u64>),
}

impl BeaconSet {
    /// Inserts `off` (< `range_len`); true if it was new.
    fn insert(&mut self, off: u32, range_len: u64) -> bool {
        match self {
            Self::Sparse(v) => {
                if v.contains(&off) {
                    return false;
                }
                // 4 bytes per entry against range_len / 8 bytes for the bitset.
                if (v.len() as u64 + 1) * 32 > range_len {
                    let words = usize::try_from(range_len.div_ceil(64)).unwrap_or(usize::MAX);
                    let mut bits = vec![0u64; words];
                    for o in v.iter().chain(std::iter::once(&off)) {
                        bits[(*o / 64) as usize] |= 1u64 << (*o % 64);
                    }
                    *self = Self::Dense(bits);
                } else {
                    v.push(off);
                }
                true
            }
            Self::Dense(bits) => {
                let (w, b) = ((off / 64) as usize, 1u64 << (off % 64));
                let new = bits[w] & b == 0;
                bits[w] |= b;
                new
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Self::Sparse(v) => v.capacity() * 4,
            Self::Dense(b) => b.capacity() * 8,
        }
    }
}

/// Incremental per-(node, slot) tally of valid proofs over a [`Scope`].
///
/// Feed it verified proofs in any order with [`Tally::add`]; exact duplicates count once.
/// Proofs outside the scope (slot range, members) are ignored. Memory is proportional to the
/// distinct proofs counted (hash sets with a randomly keyed hasher; beacons in a list that becomes
/// a bitset only once that is smaller), and every `add` is O(1) expected, whatever a node sends.
#[derive(Debug, Clone)]
pub struct Tally {
    scope: Scope,
    index: HashMap<Address, u32>,
    nodes: Vec<Address>,
    /// Per node: number of distinct slots with an uptime beacon.
    beacon_slots: Vec<u64>,
    /// Per node: slots with an uptime beacon.
    beacons: Vec<BeaconSet>,
    /// Distinct (cell, session) of storage_availability / validation_signature proofs.
    sessions_seen: HashSet<(Cell, u128)>,
    /// `S_t` per cell.
    sessions: HashMap<Cell, u64>,
    /// Distinct (cell, session, amount) relay proofs: for kind 0 this is the whole signed content
    /// (node, slot and kind being fixed), so exact duplicates count once.
    relay_seen: HashSet<(Cell, u128, u64)>,
    /// `B_t` per cell.
    relay: HashMap<Cell, u128>,
}

/// Totals of one node over a tally's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeTotals {
    /// The node.
    pub node: Address,
    /// `Σ W_t` over the range (saturating at 2^53 − 1).
    pub credits: u64,
    /// Number of slots with an uptime beacon.
    pub beacon_slots: u64,
}

impl Tally {
    /// A tally over the slots `range`, everyone counting.
    pub fn new(range: Range<u64>) -> Self {
        Self::with_scope(Scope::new(range))
    }

    /// A tally over `scope`.
    pub fn with_scope(scope: Scope) -> Self {
        Self {
            scope,
            index: HashMap::new(),
            nodes: Vec::new(),
            beacon_slots: Vec::new(),
            beacons: Vec::new(),
            sessions_seen: HashSet::new(),
            sessions: HashMap::new(),
            relay_seen: HashSet::new(),
            relay: HashMap::new(),
        }
    }

    /// A tally over the credit window of `epoch`, everyone counting.
    pub fn for_epoch(params: &Params, epoch: u64) -> Result<Self, Overflow> {
        Ok(Self::new(params.window(epoch)?))
    }

    /// The scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The slot range.
    pub fn range(&self) -> Range<u64> {
        self.scope.range.clone()
    }

    /// True if `slot` is in the range (use it to skip verifying irrelevant proofs).
    pub fn covers(&self, slot: u64) -> bool {
        self.scope.covers(slot)
    }

    /// Number of nodes with at least one counted proof.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Distinct entries held (beacon slots, session and relay proofs): what memory scales with.
    pub fn entries(&self) -> usize {
        let beacons: u64 = self.beacon_slots.iter().sum();
        usize::try_from(beacons).unwrap_or(usize::MAX)
            + self.sessions_seen.len()
            + self.relay_seen.len()
    }

    /// Heap bytes of the beacon sets (at most 4 per beacon, at most range / 8 per node).
    pub fn beacon_heap_bytes(&self) -> usize {
        self.beacons.iter().map(BeaconSet::heap_bytes).sum()
    }

    fn node_idx(&mut self, node: Address) -> u32 {
        if let Some(i) = self.index.get(&node) {
            return *i;
        }
        // More than 2^32 nodes cannot be held in memory anyway.
        let i = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
        self.index.insert(node, i);
        self.nodes.push(node);
        self.beacon_slots.push(0);
        self.beacons.push(BeaconSet::Sparse(Vec::new()));
        i
    }

    /// Adds one **valid** proof (validate it first). Returns whether it is in scope (range and
    /// members); an exact duplicate returns true and changes nothing.
    pub fn add(&mut self, p: &TaskProof) -> bool {
        if !self.covers(p.slot) || !self.scope.is_member(&p.node_id) {
            return false;
        }
        let off = p.slot - self.scope.range.start;
        // Ranges are at most a window or a month in practice; a larger one still works as long as
        // offsets fit in 32 bits (136 years of slots).
        let Ok(off) = u32::try_from(off) else {
            return false;
        };
        let cell = (self.node_idx(p.node_id), off);
        match p.kind {
            ProofKind::UptimeBeacon => {
                let len = self.scope.range.end - self.scope.range.start;
                if self.beacons[cell.0 as usize].insert(off, len) {
                    self.beacon_slots[cell.0 as usize] += 1;
                }
            }
            ProofKind::RelayBandwidth => {
                if self
                    .relay_seen
                    .insert((cell, p.session_id.as_u128(), p.amount))
                {
                    *self.relay.entry(cell).or_default() += u128::from(p.amount);
                }
            }
            ProofKind::StorageAvailability | ProofKind::ValidationSignature => {
                if self.sessions_seen.insert((cell, p.session_id.as_u128())) {
                    *self.sessions.entry(cell).or_default() += 1;
                }
            }
        }
        true
    }

    /// `W_t(node)` for one slot (0 if no work).
    pub fn work_at(&self, params: &Params, node: &Address, slot: u64) -> u64 {
        let (Some(n), true) = (self.index.get(node), self.covers(slot)) else {
            return 0;
        };
        let Ok(off) = u32::try_from(slot - self.scope.range.start) else {
            return 0;
        };
        self.cell_work(&(*n, off), params.bytes_per_session())
    }

    fn cell_work(&self, cell: &Cell, bytes_per_session: u64) -> u64 {
        let s = self.sessions.get(cell).copied().unwrap_or(0);
        let b = self.relay.get(cell).copied().unwrap_or(0);
        work_units(s, b, bytes_per_session)
    }

    /// Totals per node (in first-seen order).
    pub fn totals(&self, params: &Params) -> Vec<NodeTotals> {
        let bps = params.bytes_per_session();
        let mut credits = vec![0u64; self.nodes.len()];
        // Every (node, slot) with work once: all S cells, then relay-only cells.
        let cells = self
            .sessions
            .keys()
            .chain(self.relay.keys().filter(|k| !self.sessions.contains_key(k)));
        for cell in cells {
            let c = &mut credits[cell.0 as usize];
            *c = add_credits(*c, self.cell_work(cell, bps));
        }
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, node)| NodeTotals {
                node: *node,
                credits: credits[i],
                beacon_slots: self.beacon_slots[i],
            })
            .collect()
    }

    /// Scores for epoch `epoch` (see [`score_nodes`]); the divisor of the live score is `WINDOW`.
    pub fn scores(&self, params: &Params, epoch: u64, epoch_seed: &B256) -> Vec<NodeScore> {
        score_nodes(params, epoch, epoch_seed, &self.totals(params))
    }
}

/// One node's standing for an epoch: the SPEC §5 `work_tally` content and one SPEC §6 `rows` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeScore {
    /// Epoch.
    pub epoch: u64,
    /// The node (`entityId`).
    #[serde(rename = "entityId", with = "crate::address::serde_lower")]
    pub node: Address,
    /// `Σ W_t` over the window.
    pub credits: u64,
    /// Live score in ppm.
    pub live_score: u64,
    /// 1-based rank; `None` when not eligible.
    pub rank: Option<u32>,
    /// `credits > 0 && liveScore ≥ D_MIN_PPM`.
    pub eligible: bool,
    /// The tie key (not serialized).
    #[serde(skip)]
    pub tie_key: B256,
}

/// Eligibility, tie keys and ranking of an epoch from per-node totals over its window.
/// Output order: eligible nodes by rank, then ineligible nodes by credits desc, tie key asc.
pub fn score_nodes(
    params: &Params,
    epoch: u64,
    epoch_seed: &B256,
    totals: &[NodeTotals],
) -> Vec<NodeScore> {
    let window = params.window_slots();
    let mut out: Vec<NodeScore> = totals
        .iter()
        .map(|t| {
            let live = live_score_ppm(t.beacon_slots, window);
            NodeScore {
                epoch,
                node: t.node,
                credits: t.credits,
                live_score: live,
                rank: None,
                eligible: t.credits > 0 && live >= params.d_min_ppm(),
                tie_key: tie_key(epoch_seed, &t.node),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.eligible
            .cmp(&a.eligible)
            .then(b.credits.cmp(&a.credits))
            .then(a.tie_key.cmp(&b.tie_key))
    });
    for (i, s) in out.iter_mut().take_while(|s| s.eligible).enumerate() {
        s.rank = Some(u32::try_from(i + 1).unwrap_or(u32::MAX));
    }
    out
}

/// The ranked list R (eligible nodes, rank 1 first) from scores or frozen rows.
pub fn ranked(scores: &[NodeScore]) -> Vec<Address> {
    let mut r: Vec<&NodeScore> = scores.iter().filter(|s| s.rank.is_some()).collect();
    r.sort_by_key(|s| s.rank);
    r.into_iter().map(|s| s.node).collect()
}

/// SPEC §6 `rows`: the scores sorted by entityId (lower-case hex, i.e. the address bytes).
pub fn tally_rows(scores: &[NodeScore]) -> Vec<NodeScore> {
    let mut rows = scores.to_vec();
    rows.sort_by_key(|r| r.node);
    rows
}

/// RFC 8785 JSON of `rows` (SPEC §6): an array of
/// `{"credits","eligible","entityId","epoch","liveScore","rank"}` objects, in the given order.
pub fn rows_jcs(rows: &[NodeScore]) -> String {
    // Keys in RFC 8785 order; every value is an integer < 2^53, a bool, null or lower-case hex.
    let mut s = String::with_capacity(rows.len() * 120 + 2);
    s.push('[');
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let rank = r.rank.map_or_else(|| "null".to_owned(), |k| k.to_string());
        s.push_str(&format!(
            "{{\"credits\":{},\"eligible\":{},\"entityId\":\"{}\",\"epoch\":{},\"liveScore\":{},\"rank\":{}}}",
            r.credits,
            r.eligible,
            crate::address::to_lower_hex(&r.node),
            r.epoch,
            r.live_score,
            rank
        ));
    }
    s.push(']');
    s
}

/// SPEC §6 `tally_hash`: keccak256 of the RFC 8785 form of `rows` (pass [`tally_rows`]).
pub fn tally_hash(rows: &[NodeScore]) -> B256 {
    keccak256(rows_jcs(rows).as_bytes())
}

/// The computed part of a SPEC §6 `epochs` document (the caller adds seed_block, frozen_at/by).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrozenTally {
    /// Epoch E.
    pub epoch: u64,
    /// epochSeed used for tie keys.
    pub seed: B256,
    /// [`Params::params_hash`].
    pub params_hash: B256,
    /// Members (sorted), or `None` when everyone counted (offline without `--members`).
    pub members: Option<Vec<Address>>,
    /// [`tally_rows`].
    pub rows: Vec<NodeScore>,
    /// [`tally_hash`] of `rows`.
    pub tally_hash: B256,
}

/// Freezes epoch `epoch` from a tally over its window (SPEC §6).
pub fn freeze_tally(params: &Params, epoch: u64, epoch_seed: &B256, tally: &Tally) -> FrozenTally {
    let rows = tally_rows(&tally.scores(params, epoch, epoch_seed));
    let members = tally.scope().members.as_ref().map(|m| {
        let mut v: Vec<Address> = m.iter().copied().collect();
        v.sort();
        v
    });
    FrozenTally {
        epoch,
        seed: *epoch_seed,
        params_hash: params.params_hash(),
        members,
        tally_hash: tally_hash(&rows),
        rows,
    }
}

/// Why a slot's plan is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanReason {
    /// Primary and fallbacks are the best-ranked nodes not cooling down.
    Ranked,
    /// Everyone in R was cooling down: ordered by lastTurn ascending, then rank.
    CooldownRelaxed,
    /// R is empty.
    NoEligibleLeader,
}

/// The plan of one slot (SPEC §5 `leader_schedule`, without the result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotPlan {
    /// The slot.
    pub slot: u64,
    /// Its epoch.
    pub epoch: u64,
    /// The primary leader (`None` with `no_eligible_leader`).
    #[serde(with = "crate::address::serde_lower::option")]
    pub primary: Option<Address>,
    /// Fallbacks in order; fallback k (1-based) may act after `k × SLOT_TIMEOUT_MS`.
    #[serde(with = "crate::address::serde_lower::vec")]
    pub fallbacks: Vec<Address>,
    /// Reason.
    pub plan_reason: PlanReason,
}

impl SlotPlan {
    /// Milliseconds after the slot start from which `node` may act (SPEC §4 acting times): 0 for
    /// the primary, `k × SLOT_TIMEOUT_MS` for fallback k, and `SLOT_TIMEOUT_MS` for anyone under
    /// `no_eligible_leader` (the caller checks that `node` holds `ANCHORER_ROLE`); `None` if
    /// `node` may not act in this slot.
    pub fn may_act_after_ms(&self, params: &Params, node: &Address) -> Option<u64> {
        if self.plan_reason == PlanReason::NoEligibleLeader {
            return Some(params.slot_timeout_ms());
        }
        if self.primary.as_ref() == Some(node) {
            return Some(0);
        }
        self.fallbacks
            .iter()
            .position(|f| f == node)
            .map(|k| (k as u64 + 1) * params.slot_timeout_ms())
    }

    /// Absolute acting time of `node` in unix **milliseconds** (see [`SlotPlan::may_act_after_ms`]).
    pub fn acting_time_ms(&self, params: &Params, node: &Address) -> Option<Result<u64, Overflow>> {
        let after = self.may_act_after_ms(params, node)?;
        Some(params.acting_time_ms(self.slot, 0).and_then(|t| {
            t.checked_add(after).ok_or(Overflow {
                what: "acting time",
                arg: self.slot,
            })
        }))
    }
}

/// Why a schedule cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Slot or epoch arithmetic overflow.
    #[error(transparent)]
    Overflow(#[from] Overflow),
    /// A previous plan is not before the slots being planned (plans are made in slot order).
    #[error(
        "plan of slot {plan_slot} is not before slot {slot}: previous plans must precede what is planned"
    )]
    NotBefore {
        /// The offending plan's slot.
        plan_slot: u64,
        /// The first slot to plan.
        slot: u64,
    },
}

/// Leader scheduler over a ranked list R (SPEC §4), tracking `lastTurn`, the latest slot whose
/// **planned primary** was a node, across slots and epochs. Plans never depend on results.
#[derive(Debug, Clone)]
pub struct Scheduler {
    params: Params,
    ranked: Vec<Address>,
    index: HashMap<Address, usize>,
    /// lastTurn by rank index.
    last_turn: Vec<Option<u64>>,
    /// Slots below this have been planned or given as previous plans.
    next: u64,
}

impl Scheduler {
    /// A scheduler for the ranked list `ranked` (rank 1 first), with no previous turns.
    pub fn new(params: Params, ranked: Vec<Address>) -> Self {
        let index = ranked.iter().enumerate().map(|(i, a)| (*a, i)).collect();
        let last_turn = vec![None; ranked.len()];
        Self {
            params,
            ranked,
            index,
            last_turn,
            next: 0,
        }
    }

    /// The ranked list.
    pub fn ranked(&self) -> &[Address] {
        &self.ranked
    }

    /// Takes the turns (planned primaries) of earlier plans, e.g. the previous epoch's 720 plans.
    /// Primaries not in R are ignored. Any order. Planning a slot at or before the latest of
    /// these plans is then refused ([`ScheduleError::NotBefore`]): a turn "in the future" of the
    /// slot being planned cannot exist, so it can never exempt a node from its cooldown.
    pub fn with_previous_plans<'a>(
        mut self,
        plans: impl IntoIterator<Item = &'a SlotPlan>,
    ) -> Self {
        for p in plans {
            if let Some(a) = p.primary {
                self.record_turn(&a, p.slot);
            }
            self.next = self.next.max(p.slot.saturating_add(1));
        }
        self
    }

    fn record_turn(&mut self, node: &Address, slot: u64) {
        if let Some(i) = self.index.get(node) {
            let t = &mut self.last_turn[*i];
            if t.is_none_or(|w| w < slot) {
                *t = Some(slot);
            }
        }
    }

    /// Whether rank index `i` is cooling down at `slot`: `slot − lastTurn ≤ COOLDOWN_SLOTS`.
    fn cooling(&self, i: usize, slot: u64) -> bool {
        match self.last_turn[i] {
            Some(w) if w < slot => slot - w <= self.params.cooldown_slots(),
            // A turn at or after `slot` cannot exist: `plan` refuses such slots.
            _ => false,
        }
    }

    /// Plans `slot` from the turns so far (records nothing). `slot` must be after every slot
    /// planned or given as a previous plan.
    pub fn plan(&self, slot: u64) -> Result<SlotPlan, ScheduleError> {
        if slot < self.next {
            return Err(ScheduleError::NotBefore {
                plan_slot: self.next - 1,
                slot,
            });
        }
        let epoch = self.params.epoch_of(slot);
        let want = 1 + self.params.max_fallbacks();
        if self.ranked.is_empty() {
            return Ok(SlotPlan {
                slot,
                epoch,
                primary: None,
                fallbacks: Vec::new(),
                plan_reason: PlanReason::NoEligibleLeader,
            });
        }
        let mut picked: Vec<Address> = Vec::with_capacity(want);
        for (i, a) in self.ranked.iter().enumerate() {
            if !self.cooling(i, slot) {
                picked.push(*a);
                if picked.len() == want {
                    break;
                }
            }
        }
        let reason = if picked.is_empty() {
            // Everyone is cooling down: lastTurn ascending, then rank.
            let mut order: Vec<usize> = (0..self.ranked.len()).collect();
            order.sort_by_key(|i| (self.last_turn[*i], *i));
            picked = order.iter().take(want).map(|i| self.ranked[*i]).collect();
            PlanReason::CooldownRelaxed
        } else {
            PlanReason::Ranked
        };
        let primary = picked.first().copied();
        Ok(SlotPlan {
            slot,
            epoch,
            primary,
            fallbacks: picked.into_iter().skip(1).collect(),
            plan_reason: reason,
        })
    }

    /// Plans every slot of `slots` in order; each planned primary takes its turn.
    pub fn plan_range(&mut self, slots: Range<u64>) -> Result<Vec<SlotPlan>, ScheduleError> {
        let mut out =
            Vec::with_capacity(usize::try_from(slots.end.saturating_sub(slots.start)).unwrap_or(0));
        for s in slots {
            let p = self.plan(s)?;
            if let Some(w) = p.primary {
                self.record_turn(&w, s);
            }
            self.next = s + 1;
            out.push(p);
        }
        Ok(out)
    }
}

/// The 720 plans of `epoch` (SPEC §4, §6) from its ranked list R and the previous epoch's plans
/// (empty for the first epoch, or when they do not exist). Only plans before the epoch are
/// allowed in `previous`.
pub fn schedule_epoch<'a>(
    params: &Params,
    epoch: u64,
    ranked: Vec<Address>,
    previous: impl IntoIterator<Item = &'a SlotPlan>,
) -> Result<Vec<SlotPlan>, ScheduleError> {
    let slots = params.epoch_slots(epoch)?;
    let prev: Vec<&SlotPlan> = previous.into_iter().collect();
    if let Some(bad) = prev.iter().find(|p| p.slot >= slots.start) {
        return Err(ScheduleError::NotBefore {
            plan_slot: bad.slot,
            slot: slots.start,
        });
    }
    let mut s = Scheduler::new(*params, ranked).with_previous_plans(prev);
    s.plan_range(slots)
}

/// Result reason of a slot (SPEC §4), from its plan and its first `SlotAnchored`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultReason {
    /// The primary anchored the slot.
    Primary,
    /// Fallback k anchored the slot at or after its acting time.
    Fallback,
    /// Anchored in a block whose slot is after the slot.
    Late,
    /// Anchored by someone else: outside the plan, a fallback acting early, or anyone under
    /// `no_eligible_leader`. A fault to alert on.
    Unscheduled,
    /// Nothing was anchored although the plan had a primary.
    Missed,
    /// Nothing was anchored and the plan had no primary.
    NoEligibleLeader,
}

/// The first `SlotAnchored` of a slot: its submitter and its block's timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstAnchor {
    /// `SlotAnchored.submitter`.
    pub submitter: Address,
    /// Timestamp (unix seconds) of the block holding the event.
    pub block_time: u64,
}

/// `leader_schedule.result` without the txid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotResult {
    /// Whoever owns the slot on chain (`SlotAnchored.submitter`), if anyone.
    #[serde(with = "crate::address::serde_lower::option")]
    pub winner: Option<Address>,
    /// Classification.
    pub reason: ResultReason,
    /// The block timestamp of the first `SlotAnchored`, if any.
    pub block_time: Option<u64>,
}

/// Classifies slot `plan.slot` (SPEC §4): a pure function of the plan, the first `SlotAnchored`
/// (if any) and the parameters.
pub fn classify_result(params: &Params, plan: &SlotPlan, first: Option<FirstAnchor>) -> SlotResult {
    let Some(FirstAnchor {
        submitter: w,
        block_time: t,
    }) = first
    else {
        return SlotResult {
            winner: None,
            reason: if plan.primary.is_some() {
                ResultReason::Missed
            } else {
                ResultReason::NoEligibleLeader
            },
            block_time: None,
        };
    };
    let reason = if params.slot_at(t).is_some_and(|st| st > plan.slot) {
        ResultReason::Late
    } else if plan.primary == Some(w) {
        ResultReason::Primary
    } else if let Some(k) = plan.fallbacks.iter().position(|f| *f == w) {
        // Acting time of fallback k (1-based): 1000 × t ≥ 1000 × start(s) + k × SLOT_TIMEOUT_MS.
        let on_time = params
            .acting_time_ms(plan.slot, k as u64 + 1)
            .is_ok_and(|at| u128::from(t) * 1000 >= u128::from(at));
        if on_time {
            ResultReason::Fallback
        } else {
            ResultReason::Unscheduled
        }
    } else {
        ResultReason::Unscheduled
    };
    SlotResult {
        winner: Some(w),
        reason,
        block_time: Some(t),
    }
}

#[cfg(test)]
mod tests;
