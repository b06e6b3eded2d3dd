//! The owner's signature of a session anchor (SPEC §3 v1.1): EIP-712 hash, EIP-2098 compact signing
//! (low s) and verification/recovery, and the JSON form `"0x" + 128 hex digits` (`r` then `vs`).
//!
//! Domain `EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)` with name
//! `LucidAnchors`, version `1`, the on-system chain id and the LucidAnchors address; type
//! `SessionAnchor(bytes32 sessionId,bytes32 manifestHash,bytes32 merkleRoot,address owner,uint64 startedAt,uint32 chunkCount)`.
//! `LucidAnchors.anchorBatch` refuses a session whose signature does not recover its `owner`, so the
//! keeper's intake (`POST /v1/sessions`) checks the same with [`verify`] before accepting a session.

use std::fmt;
use std::str::FromStr;

use alloy_primitives::{Address, B256, U256, hex};
use alloy_sol_types::{Eip712Domain, SolStruct};
use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use k256::elliptic_curve::scalar::IsHigh;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::proof::address_of;
use crate::session::SessionAnchor;

/// EIP-712 domain name of session anchors.
pub const DOMAIN_NAME: &str = "LucidAnchors";
/// EIP-712 domain version of session anchors.
pub const DOMAIN_VERSION: &str = "1";
/// The EIP-712 type string, exactly as SPEC §3 spells it.
pub const SESSION_ANCHOR_TYPE: &str = "SessionAnchor(bytes32 sessionId,bytes32 manifestHash,bytes32 merkleRoot,address owner,uint64 startedAt,uint32 chunkCount)";

/// Why an owner signature is refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AnchorSigError {
    /// Not `0x` + 128 hex digits.
    #[error("malformed owner signature: {0}")]
    Malformed(&'static str),
    /// `s > n/2` (the malleable twin of a valid signature; LucidAnchors refuses it).
    #[error("owner signature has a high s")]
    HighS,
    /// `r` or `s` is zero or not below the group order, or no key can be recovered.
    #[error("owner signature is not recoverable")]
    Unrecoverable,
    /// The signature recovers another address than the session's owner.
    #[error("owner signature recovers {recovered}, not the owner {owner}")]
    OwnerMismatch {
        /// The session's `owner`.
        owner: Address,
        /// What the signature recovers.
        recovered: Address,
    },
    /// The key could not sign (never happens for a valid key).
    #[error("signing failed")]
    Signing,
}

/// An EIP-2098 compact signature `[r, vs]` with `vs = (yParity << 255) | s` and `s ≤ n/2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CompactSignature {
    /// `r`.
    pub r: B256,
    /// `(yParity << 255) | s`.
    pub vs: B256,
}

impl CompactSignature {
    /// The two `bytes32` words as `anchorBatch` takes them (`ownerSigs[i]`).
    pub fn words(&self) -> [B256; 2] {
        [self.r, self.vs]
    }

    /// The 64 bytes `r ‖ vs`.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(self.r.as_slice());
        out[32..].copy_from_slice(self.vs.as_slice());
        out
    }

    /// The y parity bit (the top bit of `vs`).
    pub fn y_parity(&self) -> bool {
        self.vs[0] & 0x80 != 0
    }

    /// `s` (the low 255 bits of `vs`).
    pub fn s(&self) -> B256 {
        let mut s = self.vs;
        s[0] &= 0x7f;
        s
    }

    /// From the 65-byte `r ‖ s ‖ v` form (v ∈ {27, 28, 0, 1}); a high s is refused, not normalised.
    pub fn from_rsv(sig: &[u8; 65]) -> Result<Self, AnchorSigError> {
        let parity = match sig[64] {
            27 | 0 => 0u8,
            28 | 1 => 1u8,
            _ => return Err(AnchorSigError::Malformed("v must be 27, 28, 0 or 1")),
        };
        if sig[32] & 0x80 != 0 {
            return Err(AnchorSigError::HighS);
        }
        let mut vs = B256::from_slice(&sig[32..64]);
        vs[0] |= parity << 7;
        Ok(Self {
            r: B256::from_slice(&sig[..32]),
            vs,
        })
    }

    /// The JSON form: `0x` followed by 128 lower-case hex digits (`r` then `vs`).
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.to_bytes()))
    }
}

impl fmt::Display for CompactSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl FromStr for CompactSignature {
    type Err = AnchorSigError;

    /// Parses `0x` + exactly 128 hex digits (upper or lower case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let body = s
            .strip_prefix("0x")
            .ok_or(AnchorSigError::Malformed("missing 0x prefix"))?;
        if body.len() != 128 {
            return Err(AnchorSigError::Malformed("expected 128 hex digits"));
        }
        let bytes = hex::decode(body).map_err(|_| AnchorSigError::Malformed("not hex"))?;
        Ok(Self {
            r: B256::from_slice(&bytes[..32]),
            vs: B256::from_slice(&bytes[32..]),
        })
    }
}

impl Serialize for CompactSignature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for CompactSignature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The LucidAnchors EIP-712 domain on `chain_id` at `verifying_contract`.
pub fn domain(chain_id: u64, verifying_contract: Address) -> Eip712Domain {
    Eip712Domain::new(
        Some(DOMAIN_NAME.into()),
        Some(DOMAIN_VERSION.into()),
        Some(U256::from(chain_id)),
        Some(verifying_contract),
        None,
    )
}

/// The EIP-712 hash the owner signs: `keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(anchor))`
/// (what `LucidAnchors.sessionDigest(anchor)` returns).
pub fn signing_hash(anchor: &SessionAnchor, chain_id: u64, verifying_contract: Address) -> B256 {
    anchor.eip712_signing_hash(&domain(chain_id, verifying_contract))
}

/// Signs a 32-byte hash in compact form (RFC 6979, low s).
pub fn sign_hash(key: &SigningKey, hash: &B256) -> Result<CompactSignature, AnchorSigError> {
    let (sig, rec): (Signature, RecoveryId) = key
        .sign_prehash_recoverable(hash.as_slice())
        .map_err(|_| AnchorSigError::Signing)?;
    // k256 already returns low-s signatures; normalise anyway (flipping the parity with s).
    let (sig, parity) = match sig.normalize_s() {
        Some(low) => (low, !rec.is_y_odd()),
        None => (sig, rec.is_y_odd()),
    };
    let bytes = sig.to_bytes();
    let mut vs = B256::from_slice(&bytes[32..]);
    if parity {
        vs[0] |= 0x80;
    }
    Ok(CompactSignature {
        r: B256::from_slice(&bytes[..32]),
        vs,
    })
}

/// The owner's signature of `anchor` for the LucidAnchors at `verifying_contract` on `chain_id`.
pub fn sign(
    key: &SigningKey,
    anchor: &SessionAnchor,
    chain_id: u64,
    verifying_contract: Address,
) -> Result<CompactSignature, AnchorSigError> {
    sign_hash(key, &signing_hash(anchor, chain_id, verifying_contract))
}

/// The address that produced `sig` over `hash`. Refuses a high s and zero or out-of-range `r`/`s`,
/// exactly the signatures LucidAnchors refuses.
pub fn recover(hash: &B256, sig: &CompactSignature) -> Result<Address, AnchorSigError> {
    let s = sig.s();
    let signature =
        Signature::from_scalars(sig.r.0, s.0).map_err(|_| AnchorSigError::Unrecoverable)?;
    if bool::from(signature.s().is_high()) {
        return Err(AnchorSigError::HighS);
    }
    let rec = RecoveryId::new(sig.y_parity(), false);
    let vk = VerifyingKey::recover_from_prehash(hash.as_slice(), &signature, rec)
        .map_err(|_| AnchorSigError::Unrecoverable)?;
    let enc = vk.to_encoded_point(false);
    Ok(Address::from_slice(
        &alloy_primitives::keccak256(&enc.as_bytes()[1..])[12..],
    ))
}

/// Checks that `sig` is `anchor.owner`'s signature of `anchor` (the check `anchorBatch` makes).
pub fn verify(
    anchor: &SessionAnchor,
    chain_id: u64,
    verifying_contract: Address,
    sig: &CompactSignature,
) -> Result<(), AnchorSigError> {
    let recovered = recover(&signing_hash(anchor, chain_id, verifying_contract), sig)?;
    if recovered != anchor.owner {
        return Err(AnchorSigError::OwnerMismatch {
            owner: anchor.owner,
            recovered,
        });
    }
    Ok(())
}

/// The EVM address of `key` (the `owner` its signatures recover).
pub fn owner_of(key: &SigningKey) -> Address {
    address_of(key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use alloy_primitives::keccak256;

    fn anchor(owner: Address) -> SessionAnchor {
        SessionAnchor {
            sessionId: B256::repeat_byte(0x11),
            manifestHash: B256::repeat_byte(0x22),
            merkleRoot: B256::repeat_byte(0x33),
            owner,
            startedAt: 1_760_000_000,
            chunkCount: 8,
        }
    }

    fn key(n: u8) -> SigningKey {
        SigningKey::from_slice(&[n; 32]).unwrap()
    }

    #[test]
    fn type_hash_is_the_spec_string() {
        let a = anchor(Address::ZERO);
        assert_eq!(
            a.eip712_type_hash(),
            keccak256(SESSION_ANCHOR_TYPE.as_bytes())
        );
    }

    #[test]
    fn sign_verify_roundtrip_and_json_form() {
        let k = key(7);
        let a = anchor(owner_of(&k));
        let contract = Address::repeat_byte(0xaa);
        let sig = sign(&k, &a, 31337, contract).unwrap();
        verify(&a, 31337, contract, &sig).unwrap();
        let text = sig.to_hex();
        assert_eq!(text.len(), 130);
        assert_eq!(text.parse::<CompactSignature>().unwrap(), sig);
        let json = serde_json::to_string(&sig).unwrap();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(
            serde_json::from_str::<CompactSignature>(&json).unwrap(),
            sig
        );
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let k = key(8);
        let a = anchor(owner_of(&k));
        let contract = Address::repeat_byte(0xaa);
        let sig = sign(&k, &a, 31337, contract).unwrap();
        assert!(verify(&a, 31338, contract, &sig).is_err(), "other chain");
        assert!(
            verify(&a, 31337, Address::repeat_byte(0xab), &sig).is_err(),
            "other contract"
        );
        let mut b = a.clone();
        b.merkleRoot = B256::repeat_byte(0x44);
        assert!(matches!(
            verify(&b, 31337, contract, &sig),
            Err(AnchorSigError::OwnerMismatch { .. })
        ));
        let other = sign(&key(9), &a, 31337, contract).unwrap();
        assert!(
            verify(&a, 31337, contract, &other).is_err(),
            "not the owner's key"
        );
    }

    #[test]
    fn high_s_twin_refused() {
        let k = key(10);
        let a = anchor(owner_of(&k));
        let contract = Address::repeat_byte(0xaa);
        let sig = sign(&k, &a, 1, contract).unwrap();
        // n - s with the parity flipped recovers the same key: must be refused
        let n = U256::from_str_radix(
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
            16,
        )
        .unwrap();
        let s = U256::from_be_bytes(sig.s().0);
        let twin_s = n - s;
        let mut vs = B256::from(twin_s.to_be_bytes::<32>());
        assert_eq!(vs[0] & 0x80, 0x80, "n - low s is high");
        // the twin's top bit is set by its magnitude, so the compact form cannot carry it:
        // LucidAnchors reads s = vs & (2^255 - 1), which is not the twin. Both forms are refused.
        vs[0] &= 0x7f;
        if !sig.y_parity() {
            vs[0] |= 0x80;
        }
        let twin = CompactSignature { r: sig.r, vs };
        assert!(verify(&a, 1, contract, &twin).is_err());
        let mut rsv = [0u8; 65];
        rsv[..32].copy_from_slice(sig.r.as_slice());
        rsv[32..64].copy_from_slice(&twin_s.to_be_bytes::<32>());
        rsv[64] = if sig.y_parity() { 27 } else { 28 };
        assert_eq!(CompactSignature::from_rsv(&rsv), Err(AnchorSigError::HighS));
    }

    #[test]
    fn malformed_text_refused() {
        for bad in [
            "",
            "0x",
            "0x00",
            &"0".repeat(130),
            &format!("0x{}", "g".repeat(128)),
        ] {
            assert!(bad.parse::<CompactSignature>().is_err(), "{bad}");
        }
        let zero: CompactSignature = format!("0x{}", "0".repeat(128)).parse().unwrap();
        assert_eq!(
            recover(&B256::ZERO, &zero),
            Err(AnchorSigError::Unrecoverable)
        );
    }
}
