//! PoOT task proofs (SPEC §4): the JSON form, EIP-712 hashing, signing, recovery and validation.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use alloy_primitives::{Address, B256, U256, hex, keccak256};
use alloy_sol_types::Eip712Domain;
use k256::ecdsa::{RecoveryId, Signature, SigningKey};
use serde::{Deserialize, Serialize};

use crate::address::{AddressError, parse_address, to_lower_hex};
use crate::session::SessionId;

/// The Solidity/EIP-712 type of a task proof.
pub mod eip712 {
    alloy_sol_types::sol! {
        /// `TaskProof(address nodeId,uint64 slot,uint8 kind,bytes32 sessionId,uint64 amount,uint32 chunkIndex,bytes32 digest)`
        #[derive(Debug, PartialEq, Eq)]
        struct TaskProof {
            address nodeId;
            uint64 slot;
            uint8 kind;
            bytes32 sessionId;
            uint64 amount;
            uint32 chunkIndex;
            bytes32 digest;
        }
    }
}

/// The EIP-712 type string of task proofs (SPEC §4).
pub const TASK_PROOF_TYPE: &str = "TaskProof(address nodeId,uint64 slot,uint8 kind,bytes32 sessionId,uint64 amount,uint32 chunkIndex,bytes32 digest)";

/// EIP-712 domain name of task proofs.
pub const DOMAIN_NAME: &str = "LucidPoOT";
/// EIP-712 domain version of task proofs.
pub const DOMAIN_VERSION: &str = "1";

/// The kind of work a proof attests (SPEC §4 table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum ProofKind {
    /// 0: sessionId, amount = bytes relayed.
    RelayBandwidth = 0,
    /// 1: sessionId, chunkIndex, digest = chunkHash.
    StorageAvailability = 1,
    /// 2: sessionId, digest = manifestHash.
    ValidationSignature = 2,
    /// 3: no fields.
    UptimeBeacon = 3,
}

impl ProofKind {
    /// All kinds, by number.
    pub const ALL: [Self; 4] = [
        Self::RelayBandwidth,
        Self::StorageAvailability,
        Self::ValidationSignature,
        Self::UptimeBeacon,
    ];

    /// The JSON `type` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::RelayBandwidth => "relay_bandwidth",
            Self::StorageAvailability => "storage_availability",
            Self::ValidationSignature => "validation_signature",
            Self::UptimeBeacon => "uptime_beacon",
        }
    }

    /// From the `uint8 kind` number.
    pub fn from_u8(k: u8) -> Option<Self> {
        Self::ALL.get(usize::from(k)).copied()
    }

    fn uses_session(self) -> bool {
        !matches!(self, Self::UptimeBeacon)
    }
    fn uses_amount(self) -> bool {
        matches!(self, Self::RelayBandwidth)
    }
    fn uses_chunk_index(self) -> bool {
        matches!(self, Self::StorageAvailability)
    }
    fn uses_digest(self) -> bool {
        matches!(self, Self::StorageAvailability | Self::ValidationSignature)
    }
}

impl FromStr for ProofKind {
    type Err = ProofError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| ProofError::UnknownType(s.to_owned()))
    }
}

impl fmt::Display for ProofKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a proof is invalid. [`ProofError::code`] is the stable machine-readable reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Not JSON, or a field of the wrong JSON type / missing.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// `nodeId` is not an address.
    #[error("bad nodeId: {0}")]
    BadNodeId(AddressError),
    /// `type` is not one of the four kinds.
    #[error("unknown proof type {0:?}")]
    UnknownType(String),
    /// `sessionId` is not a UUID.
    #[error("bad sessionId {0:?}")]
    BadSessionId(String),
    /// `digest` is not 32 bytes of hex.
    #[error("bad digest {0:?}")]
    BadDigest(String),
    /// `sig` is not 65 bytes of hex with v in {0, 1, 27, 28}, low s, r and s in range.
    #[error("malformed signature: {0}")]
    MalformedSignature(&'static str),
    /// The signature does not recover `nodeId`.
    #[error("signature recovers {recovered:?}, not nodeId {node_id}")]
    SignatureMismatch {
        /// The claimed signer.
        node_id: Address,
        /// The recovered signer (`None` if recovery failed outright).
        recovered: Option<Address>,
    },
    /// A field not used by the proof's kind is not zero.
    #[error("field {field} is not used by {kind} proofs and must be zero")]
    UnusedFieldNonzero {
        /// The kind.
        kind: ProofKind,
        /// The JSON field name.
        field: &'static str,
    },
    /// `slot` is after the current slot.
    #[error("slot {slot} is after the current slot {current}")]
    FutureSlot {
        /// The proof's slot.
        slot: u64,
        /// The current slot.
        current: u64,
    },
}

impl ProofError {
    /// Stable snake_case reason code (the same codes as `tests/vectors/task_proofs.json`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::BadNodeId(_) => "bad_node_id",
            Self::UnknownType(_) => "unknown_type",
            Self::BadSessionId(_) => "bad_session_id",
            Self::BadDigest(_) => "bad_digest",
            Self::MalformedSignature(_) => "malformed_signature",
            Self::SignatureMismatch { .. } => "signature_mismatch",
            Self::UnusedFieldNonzero { .. } => "unused_field_nonzero",
            Self::FutureSlot { .. } => "future_slot",
        }
    }
}

/// The signed content of a task proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskProof {
    /// The signer's EVM address.
    pub node_id: Address,
    /// Slot the work was done in.
    pub slot: u64,
    /// Kind of work.
    pub kind: ProofKind,
    /// Session (nil when unused).
    pub session_id: SessionId,
    /// Bytes relayed (relay_bandwidth only).
    pub amount: u64,
    /// Chunk index (storage_availability only).
    pub chunk_index: u32,
    /// chunkHash / manifestHash (storage_availability / validation_signature).
    pub digest: B256,
}

impl TaskProof {
    /// An uptime beacon.
    pub fn beacon(node_id: Address, slot: u64) -> Self {
        Self {
            node_id,
            slot,
            kind: ProofKind::UptimeBeacon,
            session_id: SessionId::NIL,
            amount: 0,
            chunk_index: 0,
            digest: B256::ZERO,
        }
    }

    /// The EIP-712 struct.
    pub fn to_sol(&self) -> eip712::TaskProof {
        eip712::TaskProof {
            nodeId: self.node_id,
            slot: self.slot,
            kind: self.kind as u8,
            sessionId: self.session_id.to_bytes32(),
            amount: self.amount,
            chunkIndex: self.chunk_index,
            digest: self.digest,
        }
    }

    /// EIP-712 `hashStruct`: `keccak256(typeHash ‖ abi.encode(fields))`, with the type hash
    /// computed once (equal to alloy's `eip712_hash_struct`, which rebuilds the type string and
    /// hashes it on every call).
    pub fn struct_hash(&self) -> B256 {
        static TYPE_HASH: std::sync::LazyLock<B256> =
            std::sync::LazyLock::new(|| keccak256(TASK_PROOF_TYPE.as_bytes()));
        let mut buf = [0u8; 8 * 32];
        buf[..32].copy_from_slice(TYPE_HASH.as_slice());
        buf[32 + 12..64].copy_from_slice(self.node_id.as_slice());
        buf[96 - 8..96].copy_from_slice(&self.slot.to_be_bytes());
        buf[127] = self.kind as u8;
        buf[128..160].copy_from_slice(self.session_id.to_bytes32().as_slice());
        buf[192 - 8..192].copy_from_slice(&self.amount.to_be_bytes());
        buf[224 - 4..224].copy_from_slice(&self.chunk_index.to_be_bytes());
        buf[224..].copy_from_slice(self.digest.as_slice());
        keccak256(buf)
    }

    /// Checks that every field the kind does not use is zero.
    pub fn check_unused_fields(&self) -> Result<(), ProofError> {
        let k = self.kind;
        let bad = |field| Err(ProofError::UnusedFieldNonzero { kind: k, field });
        if !k.uses_session() && !self.session_id.is_nil() {
            return bad("sessionId");
        }
        if !k.uses_amount() && self.amount != 0 {
            return bad("amount");
        }
        if !k.uses_chunk_index() && self.chunk_index != 0 {
            return bad("chunkIndex");
        }
        if !k.uses_digest() && !self.digest.is_zero() {
            return bad("digest");
        }
        Ok(())
    }
}

/// A task proof with its 65-byte `r‖s‖v` signature: the SPEC §4 JSON form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignedProof {
    /// The signed content.
    pub proof: TaskProof,
    /// `r‖s‖v`, v as given (27/28 or 0/1).
    pub sig: [u8; 65],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProofJsonOut {
    node_id: String,
    slot: u64,
    #[serde(rename = "type")]
    kind: &'static str,
    session_id: SessionId,
    amount: u64,
    chunk_index: u32,
    digest: B256,
    sig: String,
}

impl Serialize for SignedProof {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = &self.proof;
        ProofJsonOut {
            node_id: to_lower_hex(&p.node_id),
            slot: p.slot,
            kind: p.kind.name(),
            session_id: p.session_id,
            amount: p.amount,
            chunk_index: p.chunk_index,
            digest: p.digest,
            sig: hex::encode_prefixed(self.sig),
        }
        .serialize(s)
    }
}

/// The JSON form as parsed (strings borrowed from the input when they have no escapes, owned
/// otherwise; numbers as JSON numbers).
#[derive(Deserialize)]
struct ProofJsonIn<'a> {
    #[serde(rename = "nodeId", borrow)]
    node_id: Cow<'a, str>,
    slot: u64,
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(rename = "sessionId", default, borrow)]
    session_id: Option<Cow<'a, str>>,
    #[serde(default)]
    amount: Option<u64>,
    #[serde(rename = "chunkIndex", default)]
    chunk_index: Option<u32>,
    #[serde(default, borrow)]
    digest: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sig: Cow<'a, str>,
}

fn parse_b256(s: &str) -> Option<B256> {
    let body = s.strip_prefix("0x")?;
    let mut out = [0u8; 32];
    if body.len() != 64 {
        return None;
    }
    hex::decode_to_slice(body, &mut out).ok()?;
    Some(B256::from(out))
}

fn parse_sig(s: &str) -> Result<[u8; 65], ProofError> {
    let body = s
        .strip_prefix("0x")
        .ok_or(ProofError::MalformedSignature("missing 0x prefix"))?;
    if body.len() != 130 {
        return Err(ProofError::MalformedSignature("not 65 bytes"));
    }
    let mut out = [0u8; 65];
    hex::decode_to_slice(body, &mut out).map_err(|_| ProofError::MalformedSignature("not hex"))?;
    Ok(out)
}

impl SignedProof {
    /// Parses one SPEC §4 JSON proof (syntax and field formats only: no signature check).
    pub fn from_json(line: &str) -> Result<Self, ProofError> {
        let raw: ProofJsonIn<'_> =
            serde_json::from_str(line).map_err(|e| ProofError::Malformed(e.to_string()))?;
        let node_id = parse_address(&raw.node_id).map_err(ProofError::BadNodeId)?;
        let kind: ProofKind = raw.kind.parse()?;
        let session_id = match raw.session_id.as_deref() {
            None => SessionId::NIL,
            Some(s) => s
                .parse()
                .map_err(|_| ProofError::BadSessionId(s.to_owned()))?,
        };
        let digest = match raw.digest.as_deref() {
            None => B256::ZERO,
            Some(d) => parse_b256(d).ok_or_else(|| ProofError::BadDigest(d.to_owned()))?,
        };
        let sig = parse_sig(&raw.sig)?;
        Ok(Self {
            proof: TaskProof {
                node_id,
                slot: raw.slot,
                kind,
                session_id,
                amount: raw.amount.unwrap_or(0),
                chunk_index: raw.chunk_index.unwrap_or(0),
                digest,
            },
            sig,
        })
    }

    /// The JSON form (all fields present, lower-case hex).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The secp256k1 group order n, big-endian.
const CURVE_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
];
/// floor(n / 2), big-endian: the largest low `s` (EIP-2).
const CURVE_HALF_N: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// Recovers the EVM address that produced `sig` (`r‖s‖v`) over the 32-byte `prehash`.
///
/// Rules: v ∈ {27, 28, 0, 1}; `0 < r, s < n`; `s ≤ n/2` (low s, EIP-2, as OpenZeppelin's ECDSA).
/// Recovery is libsecp256k1's (`secp256k1_ecdsa_recover`, the `secp256k1` crate).
pub fn recover_address(prehash: &B256, sig: &[u8; 65]) -> Result<Address, ProofError> {
    recover_opt(prehash, sig)?.ok_or(ProofError::MalformedSignature("unrecoverable"))
}

/// Checks the encoding of `r‖s‖v`: v ∈ {27, 28, 0, 1}, `0 < r < n`, `0 < s ≤ n/2`.
/// Returns the y parity (0 or 1).
pub fn check_signature_encoding(sig: &[u8; 65]) -> Result<u8, ProofError> {
    let v = match sig[64] {
        27 | 0 => 0u8,
        28 | 1 => 1u8,
        _ => return Err(ProofError::MalformedSignature("v must be 27, 28, 0 or 1")),
    };
    let (r, s) = (&sig[..32], &sig[32..64]);
    let zero = |x: &[u8]| x.iter().all(|b| *b == 0);
    if zero(r) || zero(s) || r >= &CURVE_N[..] || s >= &CURVE_N[..] {
        return Err(ProofError::MalformedSignature("r or s out of range"));
    }
    if s > &CURVE_HALF_N[..] {
        return Err(ProofError::MalformedSignature("high s"));
    }
    Ok(v)
}

/// `Ok(None)`: well-formed signature from which no key can be recovered.
fn recover_opt(prehash: &B256, sig: &[u8; 65]) -> Result<Option<Address>, ProofError> {
    use secp256k1::ecdsa::{RecoverableSignature, RecoveryId as SecpRecoveryId};
    let v = check_signature_encoding(sig)?;
    let recid = if v == 0 {
        SecpRecoveryId::Zero
    } else {
        SecpRecoveryId::One
    };
    // r and s are in range (checked above), so parsing cannot fail; be safe anyway.
    let Ok(rs) = RecoverableSignature::from_compact(&sig[..64], recid) else {
        return Err(ProofError::MalformedSignature("r or s out of range"));
    };
    let msg = secp256k1::Message::from_digest(prehash.0);
    let Ok(pk) = secp256k1::SECP256K1.recover_ecdsa(msg, &rs) else {
        return Ok(None);
    };
    let enc = pk.serialize_uncompressed();
    Ok(Some(Address::from_slice(&keccak256(&enc[1..])[12..])))
}

/// EVM address of a secp256k1 signing key.
pub fn address_of(key: &SigningKey) -> Address {
    let enc = key.verifying_key().to_encoded_point(false);
    Address::from_slice(&keccak256(&enc.as_bytes()[1..])[12..])
}

/// EIP-712 hashing, signing and validation of task proofs for one chain.
#[derive(Debug, Clone)]
pub struct ProofCodec {
    domain: Eip712Domain,
    domain_separator: B256,
}

impl ProofCodec {
    /// The `LucidPoOT` v1 domain on `chain_id`.
    pub fn new(chain_id: u64) -> Self {
        let domain = Eip712Domain::new(
            Some(DOMAIN_NAME.into()),
            Some(DOMAIN_VERSION.into()),
            Some(U256::from(chain_id)),
            None,
            None,
        );
        let domain_separator = domain.separator();
        Self {
            domain,
            domain_separator,
        }
    }

    /// The EIP-712 domain.
    pub fn domain(&self) -> &Eip712Domain {
        &self.domain
    }

    /// The domain separator.
    pub fn domain_separator(&self) -> B256 {
        self.domain_separator
    }

    /// EIP-712 signing hash `keccak256(0x1901 ‖ domainSeparator ‖ hashStruct)`: the proof id.
    pub fn signing_hash(&self, p: &TaskProof) -> B256 {
        let mut buf = [0u8; 66];
        buf[0] = 0x19;
        buf[1] = 0x01;
        buf[2..34].copy_from_slice(self.domain_separator.as_slice());
        buf[34..].copy_from_slice(p.struct_hash().as_slice());
        keccak256(buf)
    }

    /// Signs a proof (RFC 6979, low s, v = 27/28).
    pub fn sign(&self, p: TaskProof, key: &SigningKey) -> Result<SignedProof, k256::ecdsa::Error> {
        let h = self.signing_hash(&p);
        let (sig, recid): (Signature, RecoveryId) = key.sign_prehash_recoverable(h.as_slice())?;
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&sig.to_bytes());
        out[64] = 27 + recid.to_byte();
        Ok(SignedProof { proof: p, sig: out })
    }

    /// Full validation (SPEC §4): unused fields zero, `slot ≤ current_slot`, the signature recovers
    /// `nodeId`. Cheap checks run first. Returns the proof id (signing hash).
    pub fn validate(&self, sp: &SignedProof, current_slot: u64) -> Result<B256, ProofError> {
        let p = &sp.proof;
        p.check_unused_fields()?;
        if p.slot > current_slot {
            return Err(ProofError::FutureSlot {
                slot: p.slot,
                current: current_slot,
            });
        }
        let id = self.signing_hash(p);
        let recovered = recover_opt(&id, &sp.sig)?;
        if recovered != Some(p.node_id) {
            return Err(ProofError::SignatureMismatch {
                node_id: p.node_id,
                recovered,
            });
        }
        Ok(id)
    }

    /// Parses and validates one JSON proof; returns the proof and its id.
    pub fn validate_json(
        &self,
        line: &str,
        current_slot: u64,
    ) -> Result<(SignedProof, B256), ProofError> {
        let sp = SignedProof::from_json(line)?;
        let id = self.validate(&sp, current_slot)?;
        Ok((sp, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_sol_types::SolStruct;

    fn key(i: u8) -> SigningKey {
        let mut b = [0u8; 32];
        b[31] = i;
        b[0] = 0x11;
        SigningKey::from_slice(&b).expect("key")
    }

    fn relay(node: Address) -> TaskProof {
        TaskProof {
            node_id: node,
            slot: 100,
            kind: ProofKind::RelayBandwidth,
            session_id: "0f8fad5b-d9cb-469f-a165-70867728950e"
                .parse()
                .expect("uuid"),
            amount: 12345,
            chunk_index: 0,
            digest: B256::ZERO,
        }
    }

    /// k256's recovery (with its own verification) as the reference: `None` when k256 refuses.
    fn k256_recover(prehash: &B256, sig: &[u8; 65]) -> Option<Address> {
        let recid = RecoveryId::from_byte(match sig[64] {
            27 | 0 => 0,
            28 | 1 => 1,
            _ => return None,
        })?;
        let signature = Signature::from_slice(&sig[..64]).ok()?;
        let vk =
            k256::ecdsa::VerifyingKey::recover_from_prehash(prehash.as_slice(), &signature, recid)
                .ok()?;
        Some(Address::from_slice(
            &keccak256(&vk.to_encoded_point(false).as_bytes()[1..])[12..],
        ))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// libsecp256k1 recovery agrees with k256 for honest signatures with v as 0/1/27/28,
        /// and high s is rejected as malformed even though it recovers a key.
        #[test]
        fn recovery_matches_k256(key in proptest::prelude::any::<[u8; 32]>(),
                                 prehash in proptest::prelude::any::<[u8; 32]>(),
                                 v_style in 0u8..2) {
            let Ok(k) = SigningKey::from_slice(&key) else { return Ok(()); };
            let h = B256::from(prehash);
            let (sig, recid): (Signature, RecoveryId) =
                k.sign_prehash_recoverable(h.as_slice()).expect("sign");
            let mut raw = [0u8; 65];
            raw[..64].copy_from_slice(&sig.to_bytes());
            raw[64] = recid.to_byte() + if v_style == 0 { 0 } else { 27 };
            let want = address_of(&k);
            proptest::prop_assert_eq!(k256_recover(&h, &raw), Some(want));
            proptest::prop_assert_eq!(recover_address(&h, &raw), Ok(want));
            // The other parity recovers another key (or none), never `want`.
            let mut flipped = raw;
            flipped[64] = if raw[64] >= 27 { 55 - raw[64] } else { 1 - raw[64] };
            proptest::prop_assert_eq!(recover_opt(&h, &flipped).expect("well formed"), k256_recover(&h, &flipped));
            proptest::prop_assert_ne!(recover_opt(&h, &flipped).expect("well formed"), Some(want));
            // High s (n − s with the other parity) is the same signature mathematically: rejected.
            let (r, s) = sig.split_scalars();
            let high = Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).expect("high");
            let mut hs = raw;
            hs[..64].copy_from_slice(&high.to_bytes());
            hs[64] = flipped[64];
            proptest::prop_assert_eq!(recover_address(&h, &hs), Err(ProofError::MalformedSignature("high s")));
            // v outside {0, 1, 27, 28}.
            let mut bad_v = raw;
            bad_v[64] = 2 + v_style * 27;
            proptest::prop_assert_eq!(recover_address(&h, &bad_v).map_err(|e| e.code()), Err("malformed_signature"));
        }

        /// Arbitrary 65-byte strings: same answer as k256 whenever the encoding is accepted.
        #[test]
        fn random_signatures_match_k256(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 65),
                                        prehash in proptest::prelude::any::<[u8; 32]>(),
                                        v in proptest::sample::select(vec![0u8, 1, 27, 28, 29, 4])) {
            let mut sig = [0u8; 65];
            sig.copy_from_slice(&raw);
            sig[64] = v;
            let h = B256::from(prehash);
            match recover_opt(&h, &sig) {
                Ok(got) => proptest::prop_assert_eq!(got, k256_recover(&h, &sig)),
                Err(e) => proptest::prop_assert_eq!(e.code(), "malformed_signature"),
            }
        }
    }

    #[test]
    fn signature_encoding_edges() {
        let h = B256::repeat_byte(9);
        let mut sig = [0u8; 65];
        sig[64] = 27;
        sig[31] = 1; // r = 1
        sig[63] = 1; // s = 1
        assert!(check_signature_encoding(&sig).is_ok());
        // r = 0, s = 0, r = n, s = n/2 + 1 are malformed; s = n/2 is fine.
        let mut z = sig;
        z[31] = 0;
        assert_eq!(
            recover_address(&h, &z),
            Err(ProofError::MalformedSignature("r or s out of range"))
        );
        let mut z = sig;
        z[63] = 0;
        assert_eq!(
            recover_address(&h, &z),
            Err(ProofError::MalformedSignature("r or s out of range"))
        );
        let mut rn = sig;
        rn[..32].copy_from_slice(&CURVE_N);
        assert_eq!(
            recover_address(&h, &rn),
            Err(ProofError::MalformedSignature("r or s out of range"))
        );
        let mut half = sig;
        half[32..64].copy_from_slice(&CURVE_HALF_N);
        assert!(check_signature_encoding(&half).is_ok());
        half[63] += 1;
        assert_eq!(
            check_signature_encoding(&half),
            Err(ProofError::MalformedSignature("high s"))
        );
        // n/2 really is floor(n / 2).
        let n = alloy_primitives::U256::from_be_bytes(CURVE_N);
        assert_eq!(alloy_primitives::U256::from_be_bytes(CURVE_HALF_N), n >> 1);
    }

    proptest::proptest! {
        #[test]
        fn struct_hash_matches_alloy(node in proptest::prelude::any::<[u8; 20]>(), slot in proptest::prelude::any::<u64>(),
                                     kind in 0u8..4, sid in proptest::prelude::any::<u128>(), amount in proptest::prelude::any::<u64>(),
                                     chunk in proptest::prelude::any::<u32>(), digest in proptest::prelude::any::<[u8; 32]>()) {
            let p = TaskProof {
                node_id: Address::from(node),
                slot,
                kind: ProofKind::from_u8(kind).expect("kind"),
                session_id: SessionId(uuid::Uuid::from_u128(sid)),
                amount,
                chunk_index: chunk,
                digest: B256::from(digest),
            };
            proptest::prop_assert_eq!(p.struct_hash(), p.to_sol().eip712_hash_struct());
            let c = ProofCodec::new(slot);
            proptest::prop_assert_eq!(c.signing_hash(&p), p.to_sol().eip712_signing_hash(c.domain()));
        }
    }

    #[test]
    fn signing_hash_matches_alloy() {
        let c = ProofCodec::new(31337);
        let k = key(1);
        let p = relay(address_of(&k));
        assert_eq!(
            c.signing_hash(&p),
            p.to_sol().eip712_signing_hash(c.domain())
        );
    }

    #[test]
    fn sign_recover_roundtrip_and_json() {
        let c = ProofCodec::new(31337);
        for i in 1..20u8 {
            let k = key(i);
            let p = relay(address_of(&k));
            let sp = c.sign(p, &k).expect("sign");
            let id = c.validate(&sp, 100).expect("valid");
            assert_eq!(id, c.signing_hash(&p));
            // Same as k256's own recovery.
            let sig = Signature::from_slice(&sp.sig[..64]).expect("sig");
            let vk = k256::ecdsa::VerifyingKey::recover_from_prehash(
                id.as_slice(),
                &sig,
                RecoveryId::from_byte(sp.sig[64] - 27).expect("recid"),
            )
            .expect("recover");
            assert_eq!(
                Address::from_slice(&keccak256(&vk.to_encoded_point(false).as_bytes()[1..])[12..]),
                p.node_id
            );
            // v as 0/1 accepted.
            let mut sp01 = sp;
            sp01.sig[64] -= 27;
            assert!(c.validate(&sp01, 100).is_ok());
            // JSON round trip.
            let j = sp.to_json();
            let back = SignedProof::from_json(&j).expect("parse");
            assert_eq!(back, sp);
        }
    }

    #[test]
    fn invalid_reasons() {
        let c = ProofCodec::new(31337);
        let k = key(3);
        let node = address_of(&k);
        let sp = c.sign(relay(node), &k).expect("sign");
        // Future slot.
        assert_eq!(
            c.validate(&sp, 99).map_err(|e| e.code()),
            Err("future_slot")
        );
        // Tampered amount → another signer.
        let mut t = sp;
        t.proof.amount += 1;
        assert_eq!(
            c.validate(&t, 100).map_err(|e| e.code()),
            Err("signature_mismatch")
        );
        // Wrong chain.
        assert_eq!(
            ProofCodec::new(1).validate(&sp, 100).map_err(|e| e.code()),
            Err("signature_mismatch")
        );
        // Bad v.
        let mut t = sp;
        t.sig[64] = 29;
        assert_eq!(
            c.validate(&t, 100).map_err(|e| e.code()),
            Err("malformed_signature")
        );
        // High s rejected.
        let sig = Signature::from_slice(&sp.sig[..64]).expect("sig");
        let (r, s) = sig.split_scalars();
        let high = Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).expect("high");
        let mut t = sp;
        t.sig[..64].copy_from_slice(&high.to_bytes());
        t.sig[64] = 55 - t.sig[64];
        assert_eq!(
            c.validate(&t, 100),
            Err(ProofError::MalformedSignature("high s"))
        );
        // Unused fields.
        let mut b = TaskProof::beacon(node, 5);
        b.amount = 1;
        let sb = c.sign(b, &k).expect("sign");
        assert_eq!(
            c.validate(&sb, 100).map_err(|e| e.code()),
            Err("unused_field_nonzero")
        );
        let mut r = relay(node);
        r.chunk_index = 2;
        let sr = c.sign(r, &k).expect("sign");
        assert!(matches!(
            c.validate(&sr, 100),
            Err(ProofError::UnusedFieldNonzero {
                field: "chunkIndex",
                ..
            })
        ));
        let mut v = relay(node);
        v.kind = ProofKind::ValidationSignature;
        v.amount = 0;
        v.digest = B256::repeat_byte(1);
        let sv = c.sign(v, &k).expect("sign");
        assert!(c.validate(&sv, 100).is_ok());
        // Parse errors.
        let code = |s: &str| SignedProof::from_json(s).map(|_| ()).map_err(|e| e.code());
        assert_eq!(code("{"), Err("malformed"));
        let j = sp.to_json();
        assert_eq!(
            code(&j.replace("relay_bandwidth", "mining")),
            Err("unknown_type")
        );
        assert_eq!(code(&j.replace("0x", "0X")), Err("bad_node_id"));
        assert_eq!(
            code(&j.replace("0f8fad5b-", "0f8fad5bz")),
            Err("bad_session_id")
        );
        // Omitted unused fields parse as zero.
        let beacon = c.sign(TaskProof::beacon(node, 7), &k).expect("sign");
        let short = format!(
            "{{\"nodeId\":\"{}\",\"slot\":7,\"type\":\"uptime_beacon\",\"sig\":\"{}\"}}",
            to_lower_hex(&node),
            hex::encode_prefixed(beacon.sig)
        );
        let parsed = SignedProof::from_json(&short).expect("short form");
        assert_eq!(parsed, beacon);
        assert!(c.validate(&parsed, 7).is_ok());
    }
}
