//! Stored documents (SPEC §5, v1.1): one struct per collection, serde field names exactly as the
//! SPEC.
//!
//! Pure data: serde only, no I/O. The same structs are the MongoDB documents (`_id` included) and
//! the rows of the SQLite backend (`lucid-store`).
//!
//! Representation rules (see `docs/decisions/store.md`):
//! - addresses and hashes are alloy [`Address`] / [`B256`] (and fixed-size signatures
//!   [`FixedBytes`]): lower-case `0x` hex by construction when serialised, whatever case came in;
//! - integers of at most 64 bits are Rust `u64`/`u32`; the stores keep them as signed 64-bit
//!   integers and refuse values above `i64::MAX` with a typed error;
//! - `uint256` amounts (USDT micro-units) are [`U256`] serialised as decimal strings
//!   ([`u256_dec`]), because they can exceed both `i64` and the JSON-safe integer range.
//!
//! Derived state (SPEC §5 last paragraph) is kept by the store in rows keyed by the event they
//! came from; the models here are what readers get: the §5 shape.

use alloy_primitives::{Address, B256, Bytes, FixedBytes, U256};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The domain enums are stored as they are: one definition each, serialised as the SPEC strings.
pub use crate::poot::{PlanReason, ResultReason};
pub use crate::proof::ProofKind;

/// A 64-byte EIP-2098 compact signature (`r ‖ vs`), SPEC §3 `ownerSig`.
pub type CompactSig = FixedBytes<64>;
/// A 65-byte `r ‖ s ‖ v` signature (task proofs, payout addresses).
pub type Sig65 = FixedBytes<65>;

/// Collection names, exactly as SPEC §5.
pub mod collections {
    pub const SESSIONS: &str = "sessions";
    pub const CHUNKS: &str = "chunks";
    pub const EVENTS: &str = "events";
    pub const TASK_PROOFS: &str = "task_proofs";
    pub const WORK_TALLY: &str = "work_tally";
    pub const EPOCHS: &str = "epochs";
    pub const LEADER_SCHEDULE: &str = "leader_schedule";
    pub const PERIODS: &str = "periods";
    pub const PAYOUTS: &str = "payouts";
    pub const PAYOUT_ADDRESSES: &str = "payout_addresses";
    pub const CHECKPOINTS: &str = "checkpoints";
    /// Every SPEC §5 collection, in SPEC order.
    pub const ALL: [&str; 11] = [
        SESSIONS,
        CHUNKS,
        EVENTS,
        TASK_PROOFS,
        WORK_TALLY,
        EPOCHS,
        LEADER_SCHEDULE,
        PERIODS,
        PAYOUTS,
        PAYOUT_ADDRESSES,
        CHECKPOINTS,
    ];

    /// The store's own derived-state collections (SPEC §5 last paragraph): one row per event,
    /// `_id` = the event id `chainId:txHash:logIndex`.
    pub mod derived {
        /// From `SessionRegistered`.
        pub const SESSION_ANCHORINGS: &str = "session_anchorings";
        /// From `ChunkStored`.
        pub const CHUNK_STORERS: &str = "chunk_storers";
        /// From `SlotAnchored`.
        pub const SLOT_CLAIMS: &str = "slot_claims";
        /// From `Paid` / `PaidKYC`.
        pub const PAYOUT_PAYMENTS: &str = "payout_payments";
        pub const ALL: [&str; 4] = [
            SESSION_ANCHORINGS,
            CHUNK_STORERS,
            SLOT_CLAIMS,
            PAYOUT_PAYMENTS,
        ];
    }
}

/// The nil UUID, used in task proofs whose kind has no session.
pub const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

/// `uint256` as a decimal string (no sign, no leading zeros): `#[serde(with = "u256_dec")]`.
pub mod u256_dec {
    use super::{U256, is_decimal_u256};
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| D::Error::custom(format!("not a decimal uint256: {s:?}")))
    }

    /// Parses a plain decimal uint256.
    pub fn parse(s: &str) -> Option<U256> {
        if !is_decimal_u256(s) {
            return None;
        }
        U256::from_str_radix(s, 10).ok()
    }

    /// `Option<U256>` (null when `None`).
    pub mod option {
        use super::*;
        pub fn serialize<S: Serializer>(v: &Option<U256>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.serialize_str(&v.to_string()),
                None => s.serialize_none(),
            }
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<U256>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(s) => parse(&s)
                    .map(Some)
                    .ok_or_else(|| D::Error::custom(format!("not a decimal uint256: {s:?}"))),
            }
        }
    }
}

/// Lower-case `0x` hex of an address, hash or byte string (the stored form).
pub fn hex_of(x: &impl std::fmt::LowerHex) -> String {
    format!("{x:#x}")
}

/// Anchoring state of a session (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Submitted, no `SessionRegistered` yet.
    Pending,
    /// A `SessionRegistered` with the same digest.
    Anchored,
    /// A `SessionRegistered` with another digest for this id.
    Conflict,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 3] = [
        SessionStatus::Pending,
        SessionStatus::Anchored,
        SessionStatus::Conflict,
    ];

    /// The SPEC string.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Pending => "pending",
            SessionStatus::Anchored => "anchored",
            SessionStatus::Conflict => "conflict",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// `sessions` — `_id` is the session UUID text (SPEC §2). A session known only from the chain
/// (anchored, never submitted to this store) has `owner_sig` and `received_at` null.
///
/// `status`, `slot`, `anchor_txid`, `block_number`, `block_hash` are derived from the first
/// `SessionRegistered` of the session (see [`SessionAnchoring`]); `gas_used` is not in any event:
/// the indexer reads the anchoring transaction's receipt and stores its `gasUsed` divided (integer
/// division) by the number of sessions that transaction registered, i.e. gas per session (null
/// while pending, or when the anchoring was written by someone that did not read the receipt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    #[serde(rename = "_id")]
    pub id: String,
    pub owner_addr: Address,
    /// Unix seconds.
    pub started_at: u64,
    pub manifest_hash: B256,
    pub merkle_root: B256,
    pub chunk_count: u32,
    /// The owner's compact signature over the `SessionAnchor` (first submission kept).
    pub owner_sig: Option<CompactSig>,
    pub status: SessionStatus,
    /// Chain time (unix seconds) of the first submission.
    pub received_at: Option<u64>,
    /// Slot of the anchoring batch (null while pending).
    pub slot: Option<u64>,
    pub anchor_txid: Option<B256>,
    pub block_number: Option<u64>,
    pub block_hash: Option<B256>,
    pub gas_used: Option<u64>,
}

impl Session {
    /// Whether `other` has the same digest (`keccak256(abi.encode(SessionAnchor))`: the same id,
    /// owner, startedAt, manifestHash, merkleRoot and chunkCount).
    pub fn same_digest(&self, other: &Session) -> bool {
        self.id == other.id
            && self.owner_addr == other.owner_addr
            && self.started_at == other.started_at
            && self.manifest_hash == other.manifest_hash
            && self.merkle_root == other.merkle_root
            && self.chunk_count == other.chunk_count
    }
}

/// One entry of a session's chunk list as submitted (SPEC §2): what the keeper builds
/// `registerChunk` proofs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkEntry {
    pub idx: u32,
    pub chunk_hash: B256,
    /// Bytes of ciphertext (1 ≤ size ≤ 16 MiB).
    pub size: u64,
}

/// A session submission (keeper `POST /v1/sessions`): stored insert-if-absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSubmission {
    /// Session UUID text.
    pub id: String,
    pub owner_addr: Address,
    pub started_at: u64,
    pub manifest_hash: B256,
    pub merkle_root: B256,
    pub chunk_count: u32,
    pub owner_sig: CompactSig,
    /// Chain time of the submission (unix seconds).
    pub received_at: u64,
    /// The chunk list when submitted with chunks (empty when only the Merkle root was given).
    pub chunks: Vec<ChunkEntry>,
}

impl SessionSubmission {
    /// The `sessions` document of a fresh submission (status `pending`).
    pub fn to_session(&self) -> Session {
        Session {
            id: self.id.clone(),
            owner_addr: self.owner_addr,
            started_at: self.started_at,
            manifest_hash: self.manifest_hash,
            merkle_root: self.merkle_root,
            chunk_count: self.chunk_count,
            owner_sig: Some(self.owner_sig),
            status: SessionStatus::Pending,
            received_at: Some(self.received_at),
            slot: None,
            anchor_txid: None,
            block_number: None,
            block_hash: None,
            gas_used: None,
        }
    }
}

/// `chunks` — `_id` is `sessionId:index`. `chunk_hash`/`size` come from the submitted chunk list,
/// or from the first `ChunkStored` for a chunk known only from the chain; `storers` are the
/// distinct `ChunkStored.storer`s in chain order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    #[serde(rename = "_id")]
    pub id: String,
    pub session_id: String,
    pub idx: u32,
    pub chunk_hash: B256,
    /// Bytes of ciphertext (1 ≤ size ≤ 16 MiB).
    pub size: u64,
    /// EVM addresses of storage nodes that registered the chunk (`ChunkStored`).
    #[serde(default)]
    pub storers: Vec<Address>,
}

impl Chunk {
    pub fn make_id(session_id: &str, idx: u32) -> String {
        format!("{session_id}:{idx}")
    }
}

/// `events` — `_id` is `chainId:txHash:logIndex`.
///
/// `args` is a JSON object keyed by the Solidity parameter names (contracts/src/interfaces);
/// addresses and `bytesN` are lower-case hex, integers of at most 64 bits are JSON numbers,
/// `uint256` are decimal strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainEvent {
    #[serde(rename = "_id")]
    pub id: String,
    pub chain_id: u64,
    /// Emitting contract.
    pub address: Address,
    /// Event name, e.g. `SessionRegistered`.
    pub event: String,
    pub block_number: u64,
    pub block_hash: B256,
    /// Timestamp of the event's block (unix seconds).
    pub block_time: u64,
    pub tx_hash: B256,
    pub log_index: u64,
    pub args: Value,
}

impl ChainEvent {
    pub fn make_id(chain_id: u64, tx_hash: &B256, log_index: u64) -> String {
        format!("{chain_id}:{tx_hash:#x}:{log_index}")
    }
}

fn nil_uuid() -> String {
    NIL_UUID.to_owned()
}

/// `task_proofs` — `_id` is the proof id (EIP-712 signing hash). Field names are the SPEC §4 JSON
/// form (camelCase); unused fields may be omitted on input and default to zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskProof {
    #[serde(rename = "_id")]
    pub id: B256,
    #[serde(rename = "nodeId")]
    pub node_id: Address,
    pub slot: u64,
    #[serde(rename = "type")]
    pub kind: ProofKind,
    #[serde(rename = "sessionId", default = "nil_uuid")]
    pub session_id: String,
    #[serde(default)]
    pub amount: u64,
    #[serde(rename = "chunkIndex", default)]
    pub chunk_index: u32,
    #[serde(default)]
    pub digest: B256,
    pub sig: Sig65,
    /// Chain time (unix seconds) at which the proof was first stored (kept on replays).
    #[serde(default)]
    pub ts: u64,
}

/// One row of an epoch's frozen tally (SPEC §6 `rows`), also the `work_tally` document without
/// its `_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TallyRow {
    pub epoch: u64,
    #[serde(rename = "entityId")]
    pub entity_id: Address,
    pub credits: u64,
    /// ppm.
    #[serde(rename = "liveScore")]
    pub live_score: u64,
    /// 1-based rank among eligible nodes; null when not eligible.
    pub rank: Option<u32>,
    pub eligible: bool,
}

/// `work_tally` — `_id` is `epoch:entityId`; written from the stored [`Epoch`] document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkTally {
    #[serde(rename = "_id")]
    pub id: String,
    pub epoch: u64,
    #[serde(rename = "entityId")]
    pub entity_id: Address,
    pub credits: u64,
    /// ppm.
    #[serde(rename = "liveScore")]
    pub live_score: u64,
    /// 1-based rank among eligible nodes; null when not eligible.
    pub rank: Option<u32>,
    pub eligible: bool,
}

impl WorkTally {
    pub fn make_id(epoch: u64, entity_id: &Address) -> String {
        format!("{epoch}:{entity_id:#x}")
    }

    pub fn from_row(r: &TallyRow) -> Self {
        WorkTally {
            id: Self::make_id(r.epoch, &r.entity_id),
            epoch: r.epoch,
            entity_id: r.entity_id,
            credits: r.credits,
            live_score: r.live_score,
            rank: r.rank,
            eligible: r.eligible,
        }
    }

    pub fn row(&self) -> TallyRow {
        TallyRow {
            epoch: self.epoch,
            entity_id: self.entity_id,
            credits: self.credits,
            live_score: self.live_score,
            rank: self.rank,
            eligible: self.eligible,
        }
    }
}

/// `epochs` — `_id` is the epoch number: the frozen tally of SPEC §6, inserted once (first writer
/// wins); every keeper uses the stored document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Epoch {
    #[serde(rename = "_id")]
    pub id: u64,
    pub epoch: u64,
    pub seed: B256,
    pub seed_block: u64,
    pub params_hash: B256,
    pub members: Vec<Address>,
    /// Sorted by entityId.
    pub rows: Vec<TallyRow>,
    pub tally_hash: B256,
    /// Chain time of the freeze (unix seconds): proofs with `ts ≤ frozen_at` count.
    pub frozen_at: u64,
    /// The keeper (node id) that froze it.
    pub frozen_by: Address,
}

/// `leader_schedule.result`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotResult {
    /// The first `SlotAnchored.submitter` of the slot, if any.
    pub winner: Option<Address>,
    pub reason: ResultReason,
    pub txid: Option<B256>,
    /// Timestamp of the claiming block.
    pub block_time: Option<u64>,
}

/// `leader_schedule` — `_id` is the slot. The plan is stored once (insert-if-absent); `result` is
/// derived from the slot's first `SlotAnchored` (see [`SlotClaim`]) when read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderSlot {
    #[serde(rename = "_id")]
    pub id: u64,
    pub slot: u64,
    pub epoch: u64,
    pub primary: Option<Address>,
    #[serde(default)]
    pub fallbacks: Vec<Address>,
    #[serde(rename = "planReason")]
    pub plan_reason: PlanReason,
    /// Null until known.
    #[serde(default)]
    pub result: Option<SlotResult>,
}

/// The first `SlotAnchored` of a slot: who owns it on chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotClaim {
    pub slot: u64,
    pub submitter: Address,
    pub txid: B256,
    pub block_number: u64,
    pub block_time: u64,
    /// The event id (`chainId:txHash:logIndex`).
    pub event_id: String,
}

impl LeaderSlot {
    /// The stored plan of a slot (no result).
    pub fn from_plan(p: &crate::poot::SlotPlan) -> Self {
        LeaderSlot {
            id: p.slot,
            slot: p.slot,
            epoch: p.epoch,
            primary: p.primary,
            fallbacks: p.fallbacks.clone(),
            plan_reason: p.plan_reason,
            result: None,
        }
    }

    /// The plan part.
    pub fn plan(&self) -> crate::poot::SlotPlan {
        crate::poot::SlotPlan {
            slot: self.slot,
            epoch: self.epoch,
            primary: self.primary,
            fallbacks: self.fallbacks.clone(),
            plan_reason: self.plan_reason,
        }
    }
}

/// SPEC §4 result of slot `plan.slot` from its plan, its first `SlotAnchored` (if any) and `now`
/// (the chain time of the latest known block, if known), as `leader_schedule.result`.
///
/// With a claim the reason is [`crate::poot::classify_result`]'s (`primary`, `fallback`,
/// `unscheduled`, `late`). Without one the result is known only once `now ≥ start(s + 2)` (no
/// later block can claim the slot): `missed`, or `no_eligible_leader` when the plan has no
/// primary; before that it is `None`.
pub fn slot_result(
    params: &crate::params::Params,
    plan: &LeaderSlot,
    claim: Option<&SlotClaim>,
    now: Option<u64>,
) -> Option<SlotResult> {
    if claim.is_none() {
        let final_at = params.slot_start(plan.slot.saturating_add(2)).ok()?;
        if now.is_none_or(|n| n < final_at) {
            return None;
        }
    }
    let r = crate::poot::classify_result(
        params,
        &plan.plan(),
        claim.map(|c| crate::poot::FirstAnchor {
            submitter: c.submitter,
            block_time: c.block_time,
        }),
    );
    Some(SlotResult {
        winner: r.winner,
        reason: r.reason,
        txid: claim.map(|c| c.txid),
        block_time: r.block_time,
    })
}

/// `periods` — `_id` is the period (`year × 12 + month − 1`): the fixed inputs of a payout plan
/// (SPEC §4 "Payout amounts").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    #[serde(rename = "_id")]
    pub id: u32,
    pub period: u32,
    /// micro-USDT.
    #[serde(with = "u256_dec")]
    pub pool: U256,
    /// keccak256 of the sorted ids of the proofs the plan used.
    pub inputs_hash: B256,
    pub members: Vec<Address>,
    #[serde(with = "u256_dec")]
    pub min_payout: U256,
    #[serde(with = "u256_dec")]
    pub max_v0: U256,
    #[serde(with = "u256_dec")]
    pub max_kyc: U256,
    /// Merkle root of the plan (null when nothing is planned).
    pub root: Option<B256>,
    /// Sum of the planned amounts.
    #[serde(with = "u256_dec")]
    pub total: U256,
    /// Chain time (unix seconds) of planning.
    pub planned_at: u64,
}

/// Which router pays (SPEC §3: V0 or KYC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutRouter {
    V0,
    Kyc,
}

/// Life cycle of a payout (SPEC §5 v1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    /// In the plan, not yet sent.
    Planned,
    /// A transaction was sent (txid set), no `Paid`/`PaidKYC` seen yet.
    Submitted,
    /// `Paid`/`PaidKYC` seen on chain (derived from the event; txid = its transaction).
    Paid,
    /// Below the minimum: the gross is carried to the next period.
    RolledOver,
}

impl PayoutStatus {
    pub const ALL: [PayoutStatus; 4] = [
        PayoutStatus::Planned,
        PayoutStatus::Submitted,
        PayoutStatus::Paid,
        PayoutStatus::RolledOver,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Planned => "planned",
            PayoutStatus::Submitted => "submitted",
            PayoutStatus::Paid => "paid",
            PayoutStatus::RolledOver => "rolled_over",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// `payouts` — `_id` is the payoutId (`keccak256(abi.encode("lucid.payout.v1", period, to))`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    #[serde(rename = "_id")]
    pub id: B256,
    /// `year × 12 + month − 1` of the UTC month paid for.
    pub period: u32,
    pub node_id: Address,
    /// TRON base58check address (`T…`) of the recipient.
    pub to_tron: String,
    /// The same 20 bytes as an EVM address.
    pub to_evm: Address,
    pub credits: u64,
    #[serde(with = "u256_dec")]
    pub carry_in: U256,
    #[serde(with = "u256_dec")]
    pub gross: U256,
    /// Planned amount (0 when rolled over).
    #[serde(with = "u256_dec")]
    pub amount: U256,
    #[serde(with = "u256_dec")]
    pub carry_out: U256,
    pub router: PayoutRouter,
    /// The Merkle leaf (null when rolled over).
    pub leaf: Option<B256>,
    #[serde(default)]
    pub proof: Vec<B256>,
    pub kyc_hash: Option<B256>,
    pub kyc_expiry: Option<u64>,
    pub kyc_sig: Option<Bytes>,
    pub status: PayoutStatus,
    pub txid: Option<B256>,
    /// Chain time (unix seconds) of planning.
    pub created_at: u64,
}

/// `payout_addresses` — `_id` is `nodeId:validFrom`: a node's signed `PayoutAddress` (SPEC §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutAddress {
    #[serde(rename = "_id")]
    pub id: String,
    pub node_id: Address,
    pub recipient: Address,
    pub valid_from: u64,
    pub sig: Sig65,
}

impl PayoutAddress {
    pub fn make_id(node_id: &Address, valid_from: u64) -> String {
        format!("{node_id:#x}:{valid_from}")
    }
}

/// `checkpoints` — `_id` is the chain id: the last block fully indexed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    #[serde(rename = "_id")]
    pub chain_id: u64,
    pub block_number: u64,
    pub block_hash: B256,
}

/// True iff `s` is `0x` followed by exactly `bytes` bytes of lower-case hex.
pub fn is_hex(s: &str, bytes: usize) -> bool {
    s.len() == 2 + 2 * bytes
        && s.starts_with("0x")
        && s[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// True iff `s` is a plain decimal integer (no sign, no leading zeros except "0") of at most 78
/// digits (uint256 fits in 78 digits).
pub fn is_decimal_u256(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 78
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'))
}

/// The session UUID text of a `bytes32 sessionId` (16 UUID bytes then 16 zero bytes, SPEC §2).
/// `None` if `hex32` is not such a value.
pub fn session_uuid_from_bytes32(hex32: &str) -> Option<String> {
    let h = hex32.to_ascii_lowercase();
    if !is_hex(&h, 32) || &h[34..] != "0".repeat(32).as_str() {
        return None;
    }
    let u = &h[2..34];
    Some(format!(
        "{}-{}-{}-{}-{}",
        &u[0..8],
        &u[8..12],
        &u[12..16],
        &u[16..20],
        &u[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;

    #[test]
    fn proof_json_names() {
        let p = TaskProof {
            id: B256::repeat_byte(0xab),
            node_id: Address::repeat_byte(0x11),
            slot: 7,
            kind: ProofKind::UptimeBeacon,
            session_id: NIL_UUID.into(),
            amount: 0,
            chunk_index: 0,
            digest: B256::ZERO,
            sig: Sig65::repeat_byte(0x22),
            ts: 1,
        };
        let v = serde_json::to_value(&p).expect("serialise");
        for k in [
            "_id",
            "nodeId",
            "slot",
            "type",
            "sessionId",
            "amount",
            "chunkIndex",
            "digest",
            "sig",
            "ts",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(v["type"], "uptime_beacon");
        assert_eq!(v["nodeId"], format!("0x{}", "11".repeat(20)));
        // unused fields may be omitted; upper-case hex in, lower-case out
        let back: TaskProof = serde_json::from_value(serde_json::json!({
            "_id": format!("0x{}", "AB".repeat(32)), "nodeId": format!("0x{}", "11".repeat(20)),
            "slot": 7, "type": "uptime_beacon", "sig": format!("0x{}", "22".repeat(65)), "ts": 1
        }))
        .expect("deserialise");
        assert_eq!(back, p);
        assert_eq!(
            serde_json::to_value(&back).expect("ser")["_id"],
            format!("0x{}", "ab".repeat(32))
        );
    }

    #[test]
    fn enums_are_spec_strings() {
        assert_eq!(
            serde_json::to_value(SessionStatus::Conflict).expect("ser"),
            "conflict"
        );
        assert_eq!(
            serde_json::to_value(PlanReason::CooldownRelaxed).expect("ser"),
            "cooldown_relaxed"
        );
        assert_eq!(
            serde_json::to_value(ResultReason::NoEligibleLeader).expect("ser"),
            "no_eligible_leader"
        );
        assert_eq!(
            serde_json::to_value(PayoutStatus::RolledOver).expect("ser"),
            "rolled_over"
        );
        for s in PayoutStatus::ALL {
            assert_eq!(PayoutStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn u256_decimal() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct X {
            #[serde(with = "u256_dec")]
            a: U256,
        }
        let x = X {
            a: U256::MAX - U256::from(1),
        };
        let v = serde_json::to_value(&x).expect("ser");
        assert_eq!(
            v["a"],
            "115792089237316195423570985008687907853269984665640564039457584007913129639934"
        );
        assert_eq!(serde_json::from_value::<X>(v).expect("de"), x);
        for bad in ["01", "-1", "0x10", "", "1e3"] {
            assert!(serde_json::from_value::<X>(serde_json::json!({ "a": bad })).is_err());
        }
        assert!(serde_json::from_value::<X>(serde_json::json!({ "a": 5 })).is_err());
    }

    #[test]
    fn event_id_is_lower_hex() {
        let tx = B256::repeat_byte(0xcd);
        assert_eq!(
            ChainEvent::make_id(31337, &tx, 4),
            format!("31337:0x{}:4", "cd".repeat(32))
        );
        let a = Address::repeat_byte(0xef);
        assert_eq!(
            PayoutAddress::make_id(&a, 9),
            format!("0x{}:9", "ef".repeat(20))
        );
        assert_eq!(hex_of(&a), format!("0x{}", "ef".repeat(20)));
    }

    #[test]
    fn uuid_from_bytes32() {
        let b = format!("0x{}{}", "0123456789abcdef0123456789abcdef", "0".repeat(32));
        assert_eq!(
            session_uuid_from_bytes32(&b).as_deref(),
            Some("01234567-89ab-cdef-0123-456789abcdef")
        );
        assert!(session_uuid_from_bytes32("0x12").is_none());
        assert!(is_decimal_u256("0") && is_decimal_u256("1000000") && !is_decimal_u256("01"));
    }

    fn plan(slot: u64) -> LeaderSlot {
        LeaderSlot {
            id: slot,
            slot,
            epoch: slot / 720,
            primary: Some(Address::repeat_byte(1)),
            fallbacks: vec![Address::repeat_byte(2), Address::repeat_byte(3)],
            plan_reason: PlanReason::Ranked,
            result: None,
        }
    }

    fn claim(slot: u64, who: u8, t: u64) -> SlotClaim {
        SlotClaim {
            slot,
            submitter: Address::repeat_byte(who),
            txid: B256::repeat_byte(9),
            block_number: 1,
            block_time: t,
            event_id: "x".into(),
        }
    }

    #[test]
    fn slot_results_follow_spec_4() {
        let p = Params::default();
        let s = 100;
        let start = p.slot_start(s).expect("slot start");
        let r = |c: Option<SlotClaim>, now: Option<u64>, pl: &LeaderSlot| {
            slot_result(&p, pl, c.as_ref(), now).map(|r| r.reason)
        };
        let pl = plan(s);
        assert_eq!(
            r(Some(claim(s, 1, start)), None, &pl),
            Some(ResultReason::Primary)
        );
        // fallback 1 acts from start + 5 s, fallback 2 from start + 10 s
        assert_eq!(
            r(Some(claim(s, 2, start + 5)), None, &pl),
            Some(ResultReason::Fallback)
        );
        assert_eq!(
            r(Some(claim(s, 2, start + 4)), None, &pl),
            Some(ResultReason::Unscheduled)
        );
        assert_eq!(
            r(Some(claim(s, 3, start + 9)), None, &pl),
            Some(ResultReason::Unscheduled)
        );
        assert_eq!(
            r(Some(claim(s, 3, start + 10)), None, &pl),
            Some(ResultReason::Fallback)
        );
        assert_eq!(
            r(Some(claim(s, 7, start + 60)), None, &pl),
            Some(ResultReason::Unscheduled)
        );
        // claimed in the next slot: late, even by the primary
        assert_eq!(
            r(Some(claim(s, 1, start + 120)), None, &pl),
            Some(ResultReason::Late)
        );
        // nothing claimed: unknown until start(s + 2)
        assert_eq!(r(None, None, &pl), None);
        assert_eq!(r(None, Some(start + 239), &pl), None);
        assert_eq!(r(None, Some(start + 240), &pl), Some(ResultReason::Missed));
        let mut none = plan(s);
        none.primary = None;
        none.fallbacks.clear();
        none.plan_reason = PlanReason::NoEligibleLeader;
        assert_eq!(
            r(None, Some(start + 240), &none),
            Some(ResultReason::NoEligibleLeader)
        );
        assert_eq!(
            r(Some(claim(s, 1, start + 6)), None, &none),
            Some(ResultReason::Unscheduled)
        );
        let full = slot_result(&p, &pl, Some(&claim(s, 1, start + 1)), None).expect("known");
        assert_eq!(full.winner, Some(Address::repeat_byte(1)));
        assert_eq!(full.txid, Some(B256::repeat_byte(9)));
        assert_eq!(full.block_time, Some(start + 1));
    }
}
