//! Proof of Operational Throughput (SPEC §4): work credits, live score, eligibility, ranking,
//! the leader schedule and slot-result classification. Integer arithmetic only.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

use alloy_primitives::{Address, B256, keccak256};
use serde::{Deserialize, Serialize};

use crate::params::Params;
use crate::proof::{ProofKind, TaskProof};

/// A small fast hasher for integer keys (FxHash); the keys are not attacker-chosen in a way that
/// matters for an offline tally (node indices and slot offsets).
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// `W_t(e) = max(S_t(e), ceil(B_t(e) / (BASE_MB_PER_SESSION × 2^20)))`.
pub fn work_units(distinct_sessions: u64, relayed_bytes: u128, bytes_per_session: u64) -> u64 {
    let b = relayed_bytes.div_ceil(u128::from(bytes_per_session.max(1)));
    let b = u64::try_from(b).unwrap_or(u64::MAX);
    distinct_sessions.max(b)
}

/// `floor(1_000_000 × beacon_slots / window)` (ppm).
pub fn live_score_ppm(beacon_slots: u64, window: u64) -> u64 {
    if window == 0 {
        return 0;
    }
    ((u128::from(beacon_slots) * 1_000_000) / u128::from(window)) as u64
}

/// `tieKey(e) = keccak256(abi.encode(bytes32 epochSeed, address e))`.
pub fn tie_key(epoch_seed: &B256, node: &Address) -> B256 {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(epoch_seed.as_slice());
    buf[44..].copy_from_slice(node.as_slice());
    keccak256(buf)
}

/// A small set: no heap allocation for zero or one element (the common case per (node, slot)).
#[derive(Debug, Clone, Default)]
enum SmallSet<T> {
    #[default]
    Empty,
    One(T),
    Many(Vec<T>),
}

impl<T: Copy + PartialEq> SmallSet<T> {
    fn insert(&mut self, v: T) {
        match self {
            Self::Empty => *self = Self::One(v),
            Self::One(x) => {
                if *x != v {
                    *self = Self::Many(vec![*x, v]);
                }
            }
            Self::Many(xs) => {
                if !xs.contains(&v) {
                    xs.push(v);
                }
            }
        }
    }

    fn as_slice(&self) -> &[T] {
        match self {
            Self::Empty => &[],
            Self::One(x) => std::slice::from_ref(x),
            Self::Many(xs) => xs,
        }
    }
}

/// Incremental per-(node, slot) tally of valid proofs over a slot range.
///
/// Feed it verified proofs in any order with [`Tally::add`]; exact duplicates count once.
/// Proofs outside the range are ignored.
#[derive(Debug, Clone)]
pub struct Tally {
    range: Range<u64>,
    index: FxMap<Address, u32>,
    nodes: Vec<Address>,
    /// Per node: bitset of window slots with an uptime beacon.
    beacons: Vec<Vec<u64>>,
    /// Per (node, slot offset): distinct sessions of storage_availability / validation_signature
    /// proofs (`S_t`).
    sessions: FxMap<(u32, u32), SmallSet<u128>>,
    /// Per (node, slot offset): distinct (session, amount) relay proofs. For kind 0 this pair is
    /// the whole signed content (node, slot and kind being fixed), so exact duplicates count once.
    relay: FxMap<(u32, u32), SmallSet<(u128, u64)>>,
}

/// Totals of one node over a tally's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeTotals {
    /// The node.
    pub node: Address,
    /// `Σ W_t` over the range.
    pub credits: u64,
    /// Number of slots with an uptime beacon.
    pub beacon_slots: u64,
}

impl Tally {
    /// A tally over the slots `range` (e.g. [`Params::window`]).
    pub fn new(range: Range<u64>) -> Self {
        Self {
            range,
            index: FxMap::default(),
            nodes: Vec::new(),
            beacons: Vec::new(),
            sessions: FxMap::default(),
            relay: FxMap::default(),
        }
    }

    /// A tally over the credit window of `epoch`.
    pub fn for_epoch(params: &Params, epoch: u64) -> Self {
        Self::new(params.window(epoch))
    }

    /// The slot range.
    pub fn range(&self) -> Range<u64> {
        self.range.clone()
    }

    /// True if `slot` is in the range (use it to skip verifying irrelevant proofs).
    pub fn covers(&self, slot: u64) -> bool {
        self.range.contains(&slot)
    }

    /// Number of nodes with at least one proof in the range.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    fn node_idx(&mut self, node: Address) -> u32 {
        if let Some(i) = self.index.get(&node) {
            return *i;
        }
        let i = self.nodes.len() as u32;
        self.index.insert(node, i);
        self.nodes.push(node);
        let words = (self.range.end - self.range.start).div_ceil(64) as usize;
        self.beacons.push(vec![0u64; words]);
        i
    }

    /// Adds one **valid** proof (validate it first). Returns false if its slot is out of range.
    pub fn add(&mut self, p: &TaskProof) -> bool {
        if !self.covers(p.slot) {
            return false;
        }
        let off = p.slot - self.range.start;
        let n = self.node_idx(p.node_id);
        let off32 = off as u32;
        match p.kind {
            ProofKind::UptimeBeacon => {
                self.beacons[n as usize][(off / 64) as usize] |= 1u64 << (off % 64);
            }
            ProofKind::RelayBandwidth => {
                self.relay
                    .entry((n, off32))
                    .or_default()
                    .insert((p.session_id.as_u128(), p.amount));
            }
            ProofKind::StorageAvailability | ProofKind::ValidationSignature => {
                self.sessions
                    .entry((n, off32))
                    .or_default()
                    .insert(p.session_id.as_u128());
            }
        }
        true
    }

    /// `W_t(node)` for one slot (0 if no work).
    pub fn work_at(&self, params: &Params, node: &Address, slot: u64) -> u64 {
        let (Some(n), true) = (self.index.get(node), self.covers(slot)) else {
            return 0;
        };
        let key = (*n, (slot - self.range.start) as u32);
        self.cell_work(&key, params.bytes_per_session())
    }

    fn cell_work(&self, key: &(u32, u32), bytes_per_session: u64) -> u64 {
        let s = self
            .sessions
            .get(key)
            .map_or(0, |x| x.as_slice().len() as u64);
        let b: u128 = self.relay.get(key).map_or(0, |x| {
            x.as_slice().iter().map(|(_, a)| u128::from(*a)).sum()
        });
        work_units(s, b, bytes_per_session)
    }

    /// Totals per node (in first-seen order).
    pub fn totals(&self, params: &Params) -> Vec<NodeTotals> {
        let bps = params.bytes_per_session();
        let mut credits = vec![0u64; self.nodes.len()];
        // Every (node, slot) with work once: all S cells, then relay-only cells.
        for key in self.sessions.keys() {
            let c = &mut credits[key.0 as usize];
            *c = c.saturating_add(self.cell_work(key, bps));
        }
        for key in self.relay.keys().filter(|k| !self.sessions.contains_key(k)) {
            let c = &mut credits[key.0 as usize];
            *c = c.saturating_add(self.cell_work(key, bps));
        }
        self.nodes
            .iter()
            .enumerate()
            .map(|(i, node)| NodeTotals {
                node: *node,
                credits: credits[i],
                beacon_slots: self.beacons[i]
                    .iter()
                    .map(|w| u64::from(w.count_ones()))
                    .sum(),
            })
            .collect()
    }

    /// Scores for epoch `epoch` (see [`score_nodes`]); the divisor of the live score is `WINDOW`.
    pub fn scores(&self, params: &Params, epoch: u64, epoch_seed: &B256) -> Vec<NodeScore> {
        score_nodes(params, epoch, epoch_seed, &self.totals(params))
    }
}

/// One node's standing for an epoch: the SPEC §5 `work_tally` content.
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
                eligible: t.credits > 0 && live >= params.d_min_ppm,
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
        s.rank = Some(i as u32 + 1);
    }
    out
}

/// The ranked list R (eligible nodes, rank 1 first) from scores.
pub fn ranked(scores: &[NodeScore]) -> Vec<Address> {
    let mut r: Vec<&NodeScore> = scores.iter().filter(|s| s.rank.is_some()).collect();
    r.sort_by_key(|s| s.rank);
    r.into_iter().map(|s| s.node).collect()
}

/// Why a slot's plan is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanReason {
    /// Primary and fallbacks are the best-ranked nodes not cooling down.
    Ranked,
    /// Everyone in R was cooling down: ordered by lastWin ascending, then rank.
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
    /// Milliseconds after the slot start from which `node` may act: 0 for the primary,
    /// `k × SLOT_TIMEOUT_MS` for fallback k; `None` if `node` is not in the plan.
    pub fn may_act_after_ms(&self, params: &Params, node: &Address) -> Option<u64> {
        if self.primary.as_ref() == Some(node) {
            return Some(0);
        }
        self.fallbacks
            .iter()
            .position(|f| f == node)
            .map(|k| (k as u64 + 1) * params.slot_timeout_ms)
    }
}

/// Leader scheduler over a ranked list R, tracking `lastWin` across slots (and epochs).
#[derive(Debug, Clone)]
pub struct Scheduler {
    params: Params,
    ranked: Vec<Address>,
    index: HashMap<Address, usize>,
    /// lastWin by rank index.
    last_win: Vec<Option<u64>>,
}

impl Scheduler {
    /// A scheduler for the ranked list `ranked` (rank 1 first), with no known wins.
    pub fn new(params: Params, ranked: Vec<Address>) -> Self {
        let index = ranked.iter().enumerate().map(|(i, a)| (*a, i)).collect();
        let last_win = vec![None; ranked.len()];
        Self {
            params,
            ranked,
            index,
            last_win,
        }
    }

    /// The ranked list.
    pub fn ranked(&self) -> &[Address] {
        &self.ranked
    }

    /// Records that `node` won `slot` (keeps the latest). Nodes not in R are ignored (they are
    /// never scheduled in this epoch).
    pub fn record_win(&mut self, node: &Address, slot: u64) {
        if let Some(i) = self.index.get(node) {
            let lw = &mut self.last_win[*i];
            if lw.is_none_or(|w| w < slot) {
                *lw = Some(slot);
            }
        }
    }

    /// Seeds `lastWin` from known wins (e.g. previous epochs' results).
    pub fn with_last_wins<'a>(
        mut self,
        wins: impl IntoIterator<Item = (&'a Address, u64)>,
    ) -> Self {
        for (a, s) in wins {
            self.record_win(a, s);
        }
        self
    }

    /// Whether rank index `i` is cooling down at `slot`: `slot − lastWin ≤ COOLDOWN_SLOTS`.
    fn cooling(&self, i: usize, slot: u64) -> bool {
        match self.last_win[i] {
            Some(w) if w < slot => slot - w <= self.params.cooldown_slots,
            _ => false,
        }
    }

    /// Plans `slot` from the wins recorded so far (does not record anything).
    pub fn plan(&self, slot: u64) -> SlotPlan {
        let epoch = self.params.epoch_of(slot);
        let want = 1 + self.params.max_fallbacks;
        if self.ranked.is_empty() {
            return SlotPlan {
                slot,
                epoch,
                primary: None,
                fallbacks: Vec::new(),
                plan_reason: PlanReason::NoEligibleLeader,
            };
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
            // Everyone is cooling down: lastWin ascending, then rank.
            let mut order: Vec<usize> = (0..self.ranked.len()).collect();
            order.sort_by_key(|i| (self.last_win[*i], *i));
            picked = order.iter().take(want).map(|i| self.ranked[*i]).collect();
            PlanReason::CooldownRelaxed
        } else {
            PlanReason::Ranked
        };
        let primary = picked.first().copied();
        SlotPlan {
            slot,
            epoch,
            primary,
            fallbacks: picked.into_iter().skip(1).collect(),
            plan_reason: reason,
        }
    }

    /// Plans every slot of `slots` in order, assuming each primary wins its slot.
    pub fn plan_range(&mut self, slots: Range<u64>) -> Vec<SlotPlan> {
        slots
            .map(|s| {
                let p = self.plan(s);
                if let Some(w) = p.primary {
                    self.record_win(&w, s);
                }
                p
            })
            .collect()
    }
}

/// The whole schedule of `epoch` from its ranked list, assuming each primary wins; `last_wins`
/// are wins known from before the epoch (slot numbers; across epochs).
pub fn schedule_epoch<'a>(
    params: &Params,
    epoch: u64,
    ranked: Vec<Address>,
    last_wins: impl IntoIterator<Item = (&'a Address, u64)>,
) -> Vec<SlotPlan> {
    let mut s = Scheduler::new(*params, ranked).with_last_wins(last_wins);
    s.plan_range(params.epoch_slots(epoch))
}

/// Result reason of a slot, read from the chain after it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultReason {
    /// The primary anchored the slot.
    Primary,
    /// A scheduled fallback anchored the slot.
    Fallback,
    /// Nothing anchored, or only a node outside the plan (see `docs/decisions/core.md`).
    Missed,
    /// The plan had no eligible leader.
    NoEligibleLeader,
}

/// `leader_schedule.result` without the txid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotResult {
    /// Whoever owns the slot on chain (`SlotAnchored.submitter`), if anyone.
    #[serde(with = "crate::address::serde_lower::option")]
    pub winner: Option<Address>,
    /// Classification.
    pub reason: ResultReason,
}

/// Classifies a finished slot from its plan and the `SlotAnchored.submitter` (if any).
pub fn classify_result(plan: &SlotPlan, submitter: Option<Address>) -> SlotResult {
    let reason = match (plan.plan_reason, submitter) {
        (PlanReason::NoEligibleLeader, _) => ResultReason::NoEligibleLeader,
        (_, None) => ResultReason::Missed,
        (_, Some(w)) if plan.primary == Some(w) => ResultReason::Primary,
        (_, Some(w)) if plan.fallbacks.contains(&w) => ResultReason::Fallback,
        (_, Some(_)) => ResultReason::Missed,
    };
    SlotResult {
        winner: submitter,
        reason,
    }
}

#[cfg(test)]
mod tests;
