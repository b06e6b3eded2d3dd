//! Stored documents (SPEC §5): one struct per collection, serde field names exactly as the SPEC.
//!
//! Pure data: serde only, no I/O. The same structs are the MongoDB documents (`_id` included) and
//! the rows of the SQLite backend (`lucid-store`).
//!
//! Representation rules (see `docs/decisions/store.md`):
//! - hex strings (addresses, hashes, signatures, tx ids) are lower-case and `0x`-prefixed;
//! - integers of at most 64 bits are Rust `u64`/`u32`; the stores keep them as signed 64-bit
//!   integers and refuse values above `i64::MAX` with a typed error (never reached in practice:
//!   block numbers, slots, gas, byte counts);
//! - `uint256` amounts (USDT, micro-units) are decimal strings (see [`is_decimal_u256`]), because
//!   they can exceed both `i64` and the JSON-safe integer range.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The domain enums are stored as they are: one definition each, serialised as the SPEC strings.
pub use crate::poot::{PlanReason, ResultReason};
pub use crate::proof::ProofKind;

/// Collection names, exactly as SPEC §5.
pub mod collections {
    pub const SESSIONS: &str = "sessions";
    pub const CHUNKS: &str = "chunks";
    pub const EVENTS: &str = "events";
    pub const TASK_PROOFS: &str = "task_proofs";
    pub const WORK_TALLY: &str = "work_tally";
    pub const LEADER_SCHEDULE: &str = "leader_schedule";
    pub const PAYOUTS: &str = "payouts";
    pub const CHECKPOINTS: &str = "checkpoints";
    /// Every collection, in SPEC order.
    pub const ALL: [&str; 8] = [
        SESSIONS,
        CHUNKS,
        EVENTS,
        TASK_PROOFS,
        WORK_TALLY,
        LEADER_SCHEDULE,
        PAYOUTS,
        CHECKPOINTS,
    ];
}

/// The nil UUID, used in task proofs whose kind has no session.
pub const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

/// Anchoring state of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Pending,
    Anchored,
    Failed,
    Conflict,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 4] = [
        SessionStatus::Pending,
        SessionStatus::Anchored,
        SessionStatus::Failed,
        SessionStatus::Conflict,
    ];

    /// The SPEC string.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Pending => "pending",
            SessionStatus::Anchored => "anchored",
            SessionStatus::Failed => "failed",
            SessionStatus::Conflict => "conflict",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// `sessions` — `_id` is the session UUID text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    #[serde(rename = "_id")]
    pub id: String,
    pub owner_addr: String,
    /// Unix seconds.
    pub started_at: u64,
    pub manifest_hash: String,
    pub merkle_root: String,
    pub chunk_count: u32,
    pub status: SessionStatus,
    /// Slot of the anchoring batch (null while pending).
    pub slot: Option<u64>,
    pub anchor_txid: Option<String>,
    pub block_number: Option<u64>,
    pub block_hash: Option<String>,
    pub gas_used: Option<u64>,
}

/// `chunks` — `_id` is `sessionId:index`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    #[serde(rename = "_id")]
    pub id: String,
    pub session_id: String,
    pub idx: u32,
    pub chunk_hash: String,
    /// Bytes of ciphertext (1 ≤ size ≤ 16 MiB).
    pub size: u64,
    /// EVM addresses of storage nodes that registered the chunk (`ChunkStored`).
    #[serde(default)]
    pub storers: Vec<String>,
}

impl Chunk {
    pub fn make_id(session_id: &str, idx: u32) -> String {
        format!("{session_id}:{idx}")
    }
}

/// `events` — `_id` is `chainId:txHash:logIndex`.
///
/// `args` is a JSON object keyed by the Solidity parameter names; addresses and `bytesN` are
/// lower-case hex, integers of at most 64 bits are JSON numbers, `uint256` are decimal strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainEvent {
    #[serde(rename = "_id")]
    pub id: String,
    pub chain_id: u64,
    /// Emitting contract.
    pub address: String,
    /// Event name, e.g. `SessionRegistered`.
    pub event: String,
    pub block_number: u64,
    pub block_hash: String,
    pub tx_hash: String,
    pub log_index: u64,
    pub args: Value,
}

impl ChainEvent {
    pub fn make_id(chain_id: u64, tx_hash: &str, log_index: u64) -> String {
        format!("{chain_id}:{tx_hash}:{log_index}")
    }
}

fn nil_uuid() -> String {
    NIL_UUID.to_owned()
}

fn zero32() -> String {
    format!("0x{}", "0".repeat(64))
}

/// `task_proofs` — `_id` is the proof id (EIP-712 signing hash). Field names are the SPEC §4 JSON
/// form (camelCase); unused fields may be omitted on input and default to zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskProof {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(rename = "nodeId")]
    pub node_id: String,
    pub slot: u64,
    #[serde(rename = "type")]
    pub kind: ProofKind,
    #[serde(rename = "sessionId", default = "nil_uuid")]
    pub session_id: String,
    #[serde(default)]
    pub amount: u64,
    #[serde(rename = "chunkIndex", default)]
    pub chunk_index: u32,
    #[serde(default = "zero32")]
    pub digest: String,
    pub sig: String,
    /// Unix milliseconds at which the proof was first accepted (kept on replays).
    #[serde(default)]
    pub ts: u64,
}

/// `work_tally` — `_id` is `epoch:entityId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkTally {
    #[serde(rename = "_id")]
    pub id: String,
    pub epoch: u64,
    #[serde(rename = "entityId")]
    pub entity_id: String,
    pub credits: u64,
    /// ppm.
    #[serde(rename = "liveScore")]
    pub live_score: u32,
    /// 1-based rank among eligible nodes; null when not eligible.
    pub rank: Option<u32>,
    pub eligible: bool,
}

impl WorkTally {
    pub fn make_id(epoch: u64, entity_id: &str) -> String {
        format!("{epoch}:{entity_id}")
    }
}

/// Outcome of a slot, read from `SlotAnchored.submitter` after the slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotResult {
    pub winner: Option<String>,
    pub reason: ResultReason,
    pub txid: Option<String>,
}

/// `leader_schedule` — `_id` is the slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderSlot {
    #[serde(rename = "_id")]
    pub id: u64,
    pub slot: u64,
    pub epoch: u64,
    pub primary: Option<String>,
    #[serde(default)]
    pub fallbacks: Vec<String>,
    #[serde(rename = "planReason")]
    pub plan_reason: PlanReason,
    /// Null until the slot is over.
    pub result: Option<SlotResult>,
}

/// Which router pays (SPEC §3: V0 or KYC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutRouter {
    V0,
    Kyc,
}

/// Life cycle of a payout (SPEC is silent; see `docs/decisions/store.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    /// Computed, not yet sent.
    Planned,
    /// Transaction sent (txid set), not yet seen in a block.
    Sent,
    /// `Paid`/`PaidKYC` event seen.
    Paid,
    /// Below the minimum: rolls over into the next month.
    RolledOver,
    Failed,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Planned => "planned",
            PayoutStatus::Sent => "sent",
            PayoutStatus::Paid => "paid",
            PayoutStatus::RolledOver => "rolled_over",
            PayoutStatus::Failed => "failed",
        }
    }
}

/// `payouts` — `_id` is the payoutId (bytes32 hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    #[serde(rename = "_id")]
    pub id: String,
    /// `year × 12 + month − 1` of the UTC month paid for.
    pub period: u32,
    /// TRON base58check address (`T…`).
    pub to_tron: String,
    /// The same 20 bytes as an EVM address.
    pub to_evm: String,
    /// micro-USDT (uint256) as a decimal string.
    pub amount: String,
    pub router: PayoutRouter,
    pub status: PayoutStatus,
    pub txid: Option<String>,
    /// Unix seconds.
    pub created_at: u64,
}

/// `checkpoints` — `_id` is the chain id: the last block fully indexed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    #[serde(rename = "_id")]
    pub chain_id: u64,
    pub block_number: u64,
    pub block_hash: String,
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

    #[test]
    fn proof_json_names() {
        let p = TaskProof {
            id: format!("0x{}", "ab".repeat(32)),
            node_id: format!("0x{}", "11".repeat(20)),
            slot: 7,
            kind: ProofKind::UptimeBeacon,
            session_id: NIL_UUID.into(),
            amount: 0,
            chunk_index: 0,
            digest: zero32(),
            sig: format!("0x{}", "22".repeat(65)),
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
        // unused fields may be omitted
        let back: TaskProof = serde_json::from_value(serde_json::json!({
            "_id": p.id, "nodeId": p.node_id, "slot": 7, "type": "uptime_beacon", "sig": p.sig, "ts": 1
        }))
        .expect("deserialise");
        assert_eq!(back, p);
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
}
