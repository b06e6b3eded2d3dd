//! Signed recipient overrides (SPEC §4 "Payout amounts", Recipient): the EIP-712
//! `PayoutAddress(address nodeId,address recipient,uint64 validFrom)` in the `LucidPoOT` v1 domain
//! on the on-system chain id, the collision rules, and which override applies to a period.

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::{Address, B256, keccak256};
use alloy_sol_types::SolStruct;
use k256::ecdsa::SigningKey;
use lucid_core::proof::{ProofCodec, ProofError, recover_address};
use serde::{Deserialize, Serialize};

/// The EIP-712 type.
pub mod eip712 {
    alloy_sol_types::sol! {
        /// `PayoutAddress(address nodeId,address recipient,uint64 validFrom)`
        #[derive(Debug, PartialEq, Eq)]
        struct PayoutAddress {
            address nodeId;
            address recipient;
            uint64 validFrom;
        }
    }
}

/// A node's signed override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutAddressRecord {
    /// The node (signer).
    pub node_id: Address,
    /// The account to pay instead of the node's own.
    pub recipient: Address,
    /// Unix seconds from which it applies.
    pub valid_from: u64,
    /// 65-byte `r‖s‖v`.
    #[serde(with = "sig_hex")]
    pub sig: [u8; 65],
}

mod sig_hex {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    pub fn serialize<S: Serializer>(v: &[u8; 65], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(v)))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 65], D::Error> {
        let s = String::deserialize(d)?;
        let b = hex::decode(s.strip_prefix("0x").unwrap_or(&s)).map_err(D::Error::custom)?;
        b.try_into()
            .map_err(|_| D::Error::custom("signature must be 65 bytes"))
    }
}

/// Why an override is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    /// The signature does not recover `nodeId` (or is malformed).
    #[error("signature does not recover nodeId {node}: {reason}")]
    BadSignature {
        /// The claimed node.
        node: Address,
        /// Why.
        reason: String,
    },
    /// The zero address as recipient.
    #[error("recipient is the zero address")]
    ZeroRecipient,
    /// The recipient is another node's own account.
    #[error("recipient {recipient} is node {owner}'s own account")]
    OtherNodesAccount {
        /// The recipient.
        recipient: Address,
        /// The node owning it.
        owner: Address,
    },
    /// An earlier override of another node already names the recipient.
    #[error("recipient {recipient} is already named by node {by} (validFrom {valid_from})")]
    AlreadyNamed {
        /// The recipient.
        recipient: Address,
        /// The node whose earlier override names it.
        by: Address,
        /// That override's validFrom.
        valid_from: u64,
    },
}

/// EIP-712 signing hash of an override on `chain_id` (domain `LucidPoOT`, version `1`).
pub fn signing_hash(
    codec: &ProofCodec,
    node: Address,
    recipient: Address,
    valid_from: u64,
) -> B256 {
    let s = eip712::PayoutAddress {
        nodeId: node,
        recipient,
        validFrom: valid_from,
    };
    let mut buf = [0u8; 66];
    buf[0] = 0x19;
    buf[1] = 0x01;
    buf[2..34].copy_from_slice(codec.domain_separator().as_slice());
    buf[34..].copy_from_slice(s.eip712_hash_struct().as_slice());
    keccak256(buf)
}

/// Signs an override with the node's key.
pub fn sign(
    codec: &ProofCodec,
    key: &SigningKey,
    recipient: Address,
    valid_from: u64,
) -> Result<PayoutAddressRecord, k256::ecdsa::Error> {
    let node = lucid_core::proof::address_of(key);
    let h = signing_hash(codec, node, recipient, valid_from);
    let (sig, recid) = key.sign_prehash_recoverable(h.as_slice())?;
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&sig.to_bytes());
    out[64] = 27 + recid.to_byte();
    Ok(PayoutAddressRecord {
        node_id: node,
        recipient,
        valid_from,
        sig: out,
    })
}

/// Checks the signature (low s, v 27/28/0/1) recovers `nodeId`.
pub fn verify(codec: &ProofCodec, r: &PayoutAddressRecord) -> Result<(), OverrideError> {
    let h = signing_hash(codec, r.node_id, r.recipient, r.valid_from);
    match recover_address(&h, &r.sig) {
        Ok(a) if a == r.node_id => Ok(()),
        Ok(a) => Err(OverrideError::BadSignature {
            node: r.node_id,
            reason: format!("recovers {a}"),
        }),
        Err(e @ ProofError::MalformedSignature(_)) | Err(e) => Err(OverrideError::BadSignature {
            node: r.node_id,
            reason: e.to_string(),
        }),
    }
}

fn order_key(r: &PayoutAddressRecord) -> (u64, Address) {
    (r.valid_from, r.node_id)
}

/// The collision rules for a newly submitted (signature-checked) override against the accepted
/// ones: refused if it names another known node's own account, or a recipient that an earlier
/// override (lower `validFrom`, then lower nodeId) of another node already names.
pub fn check_new(
    new: &PayoutAddressRecord,
    accepted: &[PayoutAddressRecord],
    known_nodes: &BTreeSet<Address>,
) -> Result<(), OverrideError> {
    if new.recipient.is_zero() {
        return Err(OverrideError::ZeroRecipient);
    }
    if new.recipient != new.node_id && known_nodes.contains(&new.recipient) {
        return Err(OverrideError::OtherNodesAccount {
            recipient: new.recipient,
            owner: new.recipient,
        });
    }
    if let Some(e) = accepted.iter().find(|e| {
        e.node_id != new.node_id && e.recipient == new.recipient && order_key(e) < order_key(new)
    }) {
        return Err(OverrideError::AlreadyNamed {
            recipient: new.recipient,
            by: e.node_id,
            valid_from: e.valid_from,
        });
    }
    Ok(())
}

/// Applies [`check_new`] to a whole set in `(validFrom, nodeId)` order (whatever order they were
/// submitted in): the deterministic accepted set a planner uses. Signatures are checked too.
/// Returns the accepted records and the refused ones with the reason.
pub fn accepted(
    codec: &ProofCodec,
    all: &[PayoutAddressRecord],
    known_nodes: &BTreeSet<Address>,
) -> (
    Vec<PayoutAddressRecord>,
    Vec<(PayoutAddressRecord, OverrideError)>,
) {
    let mut sorted: Vec<&PayoutAddressRecord> = all.iter().collect();
    sorted.sort_by(|a, b| {
        order_key(a)
            .cmp(&order_key(b))
            .then(a.recipient.cmp(&b.recipient))
    });
    let (mut ok, mut refused): (Vec<PayoutAddressRecord>, Vec<_>) = (Vec::new(), Vec::new());
    for r in sorted {
        match verify(codec, r).and_then(|()| check_new(r, &ok, known_nodes)) {
            Ok(()) => ok.push(r.clone()),
            Err(e) => refused.push((r.clone(), e)),
        }
    }
    (ok, refused)
}

/// The recipient of each node that has an override in force at `period_start`: the one with the
/// highest `validFrom ≤ period_start` (ties: the lowest recipient). Nodes without one are absent
/// (paid at their own account).
pub fn resolve_recipients(
    accepted: &[PayoutAddressRecord],
    period_start: u64,
) -> BTreeMap<Address, Address> {
    let mut best: BTreeMap<Address, (u64, Address)> = BTreeMap::new();
    for r in accepted.iter().filter(|r| r.valid_from <= period_start) {
        let cand = (r.valid_from, r.recipient);
        best.entry(r.node_id)
            .and_modify(|b| {
                if cand.0 > b.0 || (cand.0 == b.0 && cand.1 < b.1) {
                    *b = cand;
                }
            })
            .or_insert(cand);
    }
    best.into_iter().map(|(n, (_, r))| (n, r)).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key(i: u8) -> SigningKey {
        let mut b = [0u8; 32];
        b[31] = i;
        b[0] = 1;
        SigningKey::from_slice(&b).unwrap()
    }

    #[test]
    fn hash_matches_hand_encoding() {
        let codec = ProofCodec::new(31337);
        let (n, r) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let th = keccak256("PayoutAddress(address nodeId,address recipient,uint64 validFrom)");
        let mut enc = [0u8; 128];
        enc[..32].copy_from_slice(th.as_slice());
        enc[44..64].copy_from_slice(n.as_slice());
        enc[76..96].copy_from_slice(r.as_slice());
        enc[120..128].copy_from_slice(&77u64.to_be_bytes());
        let sh = keccak256(enc);
        let mut buf = vec![0x19, 0x01];
        buf.extend_from_slice(codec.domain_separator().as_slice());
        buf.extend_from_slice(sh.as_slice());
        assert_eq!(signing_hash(&codec, n, r, 77), keccak256(&buf));
        // Another chain id is another domain.
        assert_ne!(
            signing_hash(&ProofCodec::new(1), n, r, 77),
            signing_hash(&codec, n, r, 77)
        );
    }

    #[test]
    fn sign_verify_and_tamper() {
        let codec = ProofCodec::new(31337);
        let k = key(1);
        let rec = sign(&codec, &k, Address::repeat_byte(9), 100).unwrap();
        assert_eq!(rec.node_id, lucid_core::proof::address_of(&k));
        verify(&codec, &rec).unwrap();
        let mut bad = rec.clone();
        bad.valid_from = 101;
        assert!(matches!(
            verify(&codec, &bad),
            Err(OverrideError::BadSignature { .. })
        ));
        let mut bad = rec.clone();
        bad.sig[64] = 30;
        assert!(matches!(
            verify(&codec, &bad),
            Err(OverrideError::BadSignature { .. })
        ));
        assert!(verify(&ProofCodec::new(1), &rec).is_err());
        // JSON round trip.
        let j = serde_json::to_string(&rec).unwrap();
        assert!(j.contains("\"nodeId\"") && j.contains("\"validFrom\":100"));
        let back: PayoutAddressRecord = serde_json::from_str(&j).unwrap();
        assert_eq!(back, rec);
    }

    #[test]
    fn collisions_refused_deterministically() {
        let codec = ProofCodec::new(31337);
        let (ka, kb, kc) = (key(1), key(2), key(3));
        let (a, b, c) = (
            lucid_core::proof::address_of(&ka),
            lucid_core::proof::address_of(&kb),
            lucid_core::proof::address_of(&kc),
        );
        let known: BTreeSet<Address> = [a, b, c].into_iter().collect();
        let r = Address::repeat_byte(0x77);
        // A names R at 100; B names R at 200 (later): B refused. C names R at 100 too: the tie on
        // validFrom goes to the lower nodeId.
        let ra = sign(&codec, &ka, r, 100).unwrap();
        let rb = sign(&codec, &kb, r, 200).unwrap();
        let rc = sign(&codec, &kc, r, 100).unwrap();
        // B names A's own account: refused.
        let rb2 = sign(&codec, &kb, a, 50).unwrap();
        // A names its own account again later: fine (its own).
        let ra2 = sign(&codec, &ka, a, 300).unwrap();
        // Submitted in any order, the result is the same.
        let all = vec![rb.clone(), rc.clone(), rb2.clone(), ra2.clone(), ra.clone()];
        let (ok, refused) = accepted(&codec, &all, &known);
        let first_of_ac = if a < c { &ra } else { &rc };
        let second_of_ac = if a < c { &rc } else { &ra };
        assert!(ok.contains(first_of_ac));
        assert!(ok.contains(&ra2));
        assert!(!ok.contains(second_of_ac));
        assert_eq!(refused.len(), 3);
        assert!(refused.iter().any(|(x, e)| x == &rb2
            && matches!(e, OverrideError::OtherNodesAccount { recipient, .. } if *recipient == a)));
        assert!(refused.iter().any(|(x, e)| x == &rb
            && matches!(e, OverrideError::AlreadyNamed { recipient, .. } if *recipient == r)));
        let mut rev = all.clone();
        rev.reverse();
        assert_eq!(accepted(&codec, &rev, &known).0, ok);
        // check_new on submission: B's later naming of R refused against the accepted set.
        assert!(check_new(&rb, &ok, &known).is_err());
        let zero = PayoutAddressRecord {
            recipient: Address::ZERO,
            ..ra.clone()
        };
        assert_eq!(
            check_new(&zero, &[], &known),
            Err(OverrideError::ZeroRecipient)
        );
    }

    #[test]
    fn highest_valid_from_at_period_start_wins_ties_lowest_recipient() {
        let n = Address::repeat_byte(1);
        let rec = |r: u8, vf: u64| PayoutAddressRecord {
            node_id: n,
            recipient: Address::repeat_byte(r),
            valid_from: vf,
            sig: [0; 65],
        };
        let set = vec![rec(5, 10), rec(4, 20), rec(3, 20), rec(2, 31)];
        // period starting at 30: validFrom 20 wins (31 is later), tie 20 → lowest recipient (3).
        assert_eq!(resolve_recipients(&set, 30)[&n], Address::repeat_byte(3));
        assert_eq!(resolve_recipients(&set, 31)[&n], Address::repeat_byte(2));
        assert_eq!(resolve_recipients(&set, 15)[&n], Address::repeat_byte(5));
        assert!(resolve_recipients(&set, 9).is_empty());
    }
}
