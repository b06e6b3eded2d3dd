//! Offline `TriggerSmartContract` transactions: build `raw_data`, txid = sha256(raw_data), a 65-byte
//! secp256k1 signature `r ‖ s ‖ v` over the txid (v = 27/28 like tronweb and java-tron's own ECKey;
//! java-tron also accepts 0/1), and the JSON form `/wallet/broadcasttransaction` takes (java-tron
//! re-encodes that JSON into protobuf, so the JSON and the bytes must say the same thing).

use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::proto::{
    Any, Contract, TRIGGER_SMART_CONTRACT, TRIGGER_TYPE_URL, TransactionRaw, TriggerSmartContract,
};
use crate::tron::{PREFIX, TronAddress};

/// How long a transaction stays valid after the head block it was built on (java-tron's default
/// `trx.expiration.timeInMilliseconds`).
pub const EXPIRATION_MS: i64 = 60_000;

/// The reference block of a transaction (TaPoS): a recent block the signer saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefBlock {
    /// Block number.
    pub number: u64,
    /// TRON block id: 8-byte big-endian number ‖ the last 24 bytes of the header hash.
    #[serde(with = "hex32")]
    pub id: [u8; 32],
    /// Block timestamp, milliseconds since the epoch.
    pub timestamp_ms: i64,
}

impl RefBlock {
    /// `ref_block_bytes`: bytes 6..8 of the big-endian block number.
    pub fn ref_block_bytes(&self) -> [u8; 2] {
        let n = self.number.to_be_bytes();
        [n[6], n[7]]
    }

    /// `ref_block_hash`: bytes 8..16 of the block id.
    pub fn ref_block_hash(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        out.copy_from_slice(&self.id[8..16]);
        out
    }
}

/// Everything a `TriggerSmartContract` transaction says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerParams {
    /// The caller (pays the energy; the signer).
    pub owner: TronAddress,
    /// The contract called.
    pub contract: TronAddress,
    /// ABI-encoded call data (selector ‖ arguments).
    pub data: Vec<u8>,
    /// TRX sent (sun); 0 for payouts.
    pub call_value: i64,
    /// Maximum sun burnt for energy.
    pub fee_limit: i64,
    /// `ref_block_bytes`.
    pub ref_block_bytes: [u8; 2],
    /// `ref_block_hash`.
    pub ref_block_hash: [u8; 8],
    /// Milliseconds since the epoch.
    pub expiration_ms: i64,
    /// Milliseconds since the epoch.
    pub timestamp_ms: i64,
}

impl TriggerParams {
    /// The protobuf `raw_data`.
    pub fn raw(&self) -> TransactionRaw {
        let trigger = TriggerSmartContract {
            owner_address: self.owner.to_bytes21().to_vec(),
            contract_address: self.contract.to_bytes21().to_vec(),
            call_value: self.call_value,
            data: self.data.clone(),
            call_token_value: 0,
            token_id: 0,
        };
        TransactionRaw {
            ref_block_bytes: self.ref_block_bytes.to_vec(),
            ref_block_num: 0,
            ref_block_hash: self.ref_block_hash.to_vec(),
            expiration: self.expiration_ms,
            data: Vec::new(),
            contract: vec![Contract {
                r#type: TRIGGER_SMART_CONTRACT,
                parameter: Some(Any {
                    type_url: TRIGGER_TYPE_URL.to_string(),
                    value: prost::Message::encode_to_vec(&trigger),
                }),
                provider: Vec::new(),
                contract_name: Vec::new(),
                permission_id: 0,
            }],
            scripts: Vec::new(),
            timestamp: self.timestamp_ms,
            fee_limit: self.fee_limit,
        }
    }

    /// Builds the unsigned transaction.
    pub fn build(&self) -> UnsignedTx {
        let raw_bytes = self.raw().to_bytes();
        UnsignedTx {
            txid: txid(&raw_bytes),
            raw_bytes,
            expiration_ms: self.expiration_ms,
            fee_limit: self.fee_limit,
        }
    }
}

/// sha256 of the `raw_data` bytes.
pub fn txid(raw_bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(raw_bytes).into()
}

/// A built, not yet signed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsignedTx {
    /// Protobuf `raw_data`.
    pub raw_bytes: Vec<u8>,
    /// sha256(raw_bytes).
    pub txid: [u8; 32],
    /// Milliseconds since the epoch.
    pub expiration_ms: i64,
    /// Sun.
    pub fee_limit: i64,
}

impl UnsignedTx {
    /// Signs the txid (RFC 6979, low-s, v = 27/28).
    pub fn sign(self, key: &SigningKey) -> Result<SignedTx, TxError> {
        let signature = sign_txid(&self.txid, key)?;
        Ok(SignedTx {
            txid: self.txid,
            raw_bytes: self.raw_bytes,
            signature,
            expiration_ms: self.expiration_ms,
            fee_limit: self.fee_limit,
        })
    }
}

/// What can go wrong with a transaction's bytes, JSON or signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// secp256k1 signing failed (only with an invalid key).
    #[error("signing failed: {0}")]
    Sign(String),
    /// The signature is not 65 bytes.
    #[error("signature is {0} bytes, expected 65")]
    SignatureLength(usize),
    /// The recovery byte is not 0, 1, 27 or 28.
    #[error("signature recovery byte {0} is not 0, 1, 27 or 28")]
    RecoveryByte(u8),
    /// No public key recovers from the signature.
    #[error("no public key recovers from the signature: {0}")]
    Recover(String),
    /// `raw_data` does not decode as protobuf.
    #[error("raw_data is not a protobuf Transaction.raw: {0}")]
    Protobuf(String),
    /// The JSON form is malformed.
    #[error("malformed transaction JSON: {0}")]
    Json(String),
    /// Not exactly one `TriggerSmartContract`.
    #[error("the transaction does not carry exactly one TriggerSmartContract")]
    NotTrigger,
}

/// Signs a txid: `r ‖ s ‖ (27 + recovery id)`.
pub fn sign_txid(txid: &[u8; 32], key: &SigningKey) -> Result<[u8; 65], TxError> {
    let (sig, recid) = key
        .sign_prehash_recoverable(txid)
        .map_err(|e| TxError::Sign(e.to_string()))?;
    let mut out = [0u8; 65];
    out[..64].copy_from_slice(&sig.to_bytes());
    out[64] = 27 + recid.to_byte();
    Ok(out)
}

/// The address whose key made `signature` over `txid` (v may be 0/1 or 27/28, as java-tron accepts).
pub fn recover_signer(txid: &[u8; 32], signature: &[u8]) -> Result<TronAddress, TxError> {
    if signature.len() != 65 {
        return Err(TxError::SignatureLength(signature.len()));
    }
    let v = signature[64];
    let rec = match v {
        0 | 1 => v,
        27 | 28 => v - 27,
        _ => return Err(TxError::RecoveryByte(v)),
    };
    let sig =
        Signature::from_slice(&signature[..64]).map_err(|e| TxError::Recover(e.to_string()))?;
    let recid = RecoveryId::from_byte(rec).ok_or(TxError::RecoveryByte(v))?;
    let vk = VerifyingKey::recover_from_prehash(txid, &sig, recid)
        .map_err(|e| TxError::Recover(e.to_string()))?;
    Ok(address_of(&vk))
}

/// The TRON address of a public key: the last 20 bytes of keccak256 of the uncompressed point.
pub fn address_of(vk: &VerifyingKey) -> TronAddress {
    let point = vk.to_encoded_point(false);
    let hash = alloy_primitives::keccak256(&point.as_bytes()[1..]);
    let mut a = [0u8; 20];
    a.copy_from_slice(&hash[12..]);
    TronAddress(a)
}

/// The TRON address of a signing key.
pub fn address_of_key(key: &SigningKey) -> TronAddress {
    address_of(key.verifying_key())
}

/// A signed transaction: what is persisted before broadcasting and what is broadcast.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTx {
    /// sha256(raw_bytes).
    #[serde(with = "hex32")]
    pub txid: [u8; 32],
    /// Protobuf `raw_data`.
    #[serde(with = "hexvec")]
    pub raw_bytes: Vec<u8>,
    /// `r ‖ s ‖ v`.
    #[serde(with = "hex65")]
    pub signature: [u8; 65],
    /// Milliseconds since the epoch.
    pub expiration_ms: i64,
    /// Sun.
    pub fee_limit: i64,
}

impl std::fmt::Debug for SignedTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedTx")
            .field("txid", &hex::encode(self.txid))
            .field("expiration_ms", &self.expiration_ms)
            .field("fee_limit", &self.fee_limit)
            .finish_non_exhaustive()
    }
}

impl SignedTx {
    /// Rebuilds a signed transaction from persisted bytes, re-deriving txid, expiration and fee limit
    /// (so a journal row cannot disagree with itself).
    pub fn from_parts(raw_bytes: Vec<u8>, signature: [u8; 65]) -> Result<Self, TxError> {
        let raw =
            TransactionRaw::from_bytes(&raw_bytes).map_err(|e| TxError::Protobuf(e.to_string()))?;
        Ok(Self {
            txid: txid(&raw_bytes),
            expiration_ms: raw.expiration,
            fee_limit: raw.fee_limit,
            raw_bytes,
            signature,
        })
    }

    /// `txID` as java-tron prints it (lower-case hex, no prefix).
    pub fn txid_hex(&self) -> String {
        hex::encode(self.txid)
    }

    /// The decoded `raw_data`.
    pub fn raw(&self) -> Result<TransactionRaw, TxError> {
        TransactionRaw::from_bytes(&self.raw_bytes).map_err(|e| TxError::Protobuf(e.to_string()))
    }

    /// The signer's address.
    pub fn signer(&self) -> Result<TronAddress, TxError> {
        recover_signer(&self.txid, &self.signature)
    }

    /// The body of `/wallet/broadcasttransaction` (`visible: false`, hex addresses).
    pub fn to_broadcast_json(&self) -> Result<Value, TxError> {
        let raw = self.raw()?;
        Ok(json!({
            "visible": false,
            "txID": self.txid_hex(),
            "raw_data": raw_to_json(&raw)?,
            "raw_data_hex": hex::encode(&self.raw_bytes),
            "signature": [hex::encode(self.signature)],
        }))
    }
}

/// `raw_data` as java-tron prints it with `visible: false` (the form tronweb builds).
pub fn raw_to_json(raw: &TransactionRaw) -> Result<Value, TxError> {
    let t = raw.trigger().ok_or(TxError::NotTrigger)?;
    let mut value = serde_json::Map::new();
    value.insert("data".into(), Value::String(hex::encode(&t.data)));
    value.insert(
        "owner_address".into(),
        Value::String(hex::encode(&t.owner_address)),
    );
    value.insert(
        "contract_address".into(),
        Value::String(hex::encode(&t.contract_address)),
    );
    if t.call_value != 0 {
        value.insert("call_value".into(), json!(t.call_value));
    }
    let mut out = serde_json::Map::new();
    out.insert(
        "contract".into(),
        json!([{
            "parameter": {"value": value, "type_url": TRIGGER_TYPE_URL},
            "type": "TriggerSmartContract",
        }]),
    );
    out.insert(
        "ref_block_bytes".into(),
        Value::String(hex::encode(&raw.ref_block_bytes)),
    );
    out.insert(
        "ref_block_hash".into(),
        Value::String(hex::encode(&raw.ref_block_hash)),
    );
    out.insert("expiration".into(), json!(raw.expiration));
    if raw.fee_limit != 0 {
        out.insert("fee_limit".into(), json!(raw.fee_limit));
    }
    out.insert("timestamp".into(), json!(raw.timestamp));
    Ok(Value::Object(out))
}

fn hex_field(v: &Value, name: &str) -> Result<Vec<u8>, TxError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => {
            hex::decode(s).map_err(|e| TxError::Json(format!("{name}: not hex: {e}")))
        }
        Some(_) => Err(TxError::Json(format!("{name}: expected a hex string"))),
    }
}

fn int_field(v: &Value, name: &str) -> Result<i64, TxError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(0),
        Some(x) => x
            .as_i64()
            .ok_or_else(|| TxError::Json(format!("{name}: expected a 64-bit integer"))),
    }
}

/// Parses the `visible: false` JSON form of a transaction's `raw_data` back into protobuf, the way
/// java-tron's `/wallet/broadcasttransaction` does (hex bytes, `0x41`-prefixed addresses). Only
/// `TriggerSmartContract` is understood.
pub fn raw_from_json(raw: &Value) -> Result<TransactionRaw, TxError> {
    if !raw.is_object() {
        return Err(TxError::Json("raw_data: expected an object".into()));
    }
    let contracts = raw
        .get("contract")
        .and_then(Value::as_array)
        .ok_or_else(|| TxError::Json("raw_data.contract: expected an array".into()))?;
    let mut contract = Vec::with_capacity(contracts.len());
    for c in contracts {
        if c.get("type").and_then(Value::as_str) != Some("TriggerSmartContract") {
            return Err(TxError::NotTrigger);
        }
        let param = c
            .get("parameter")
            .ok_or_else(|| TxError::Json("contract.parameter missing".into()))?;
        let value = param
            .get("value")
            .filter(|v| v.is_object())
            .ok_or_else(|| TxError::Json("contract.parameter.value: expected an object".into()))?;
        let trigger = TriggerSmartContract {
            owner_address: hex_field(value, "owner_address")?,
            contract_address: hex_field(value, "contract_address")?,
            call_value: int_field(value, "call_value")?,
            data: hex_field(value, "data")?,
            call_token_value: int_field(value, "call_token_value")?,
            token_id: int_field(value, "token_id")?,
        };
        let type_url = param
            .get("type_url")
            .and_then(Value::as_str)
            .unwrap_or(TRIGGER_TYPE_URL)
            .to_string();
        contract.push(Contract {
            r#type: TRIGGER_SMART_CONTRACT,
            parameter: Some(Any {
                type_url,
                value: prost::Message::encode_to_vec(&trigger),
            }),
            provider: Vec::new(),
            contract_name: Vec::new(),
            permission_id: int_field(c, "Permission_id")?
                .try_into()
                .map_err(|_| TxError::Json("Permission_id out of range".into()))?,
        });
    }
    Ok(TransactionRaw {
        ref_block_bytes: hex_field(raw, "ref_block_bytes")?,
        ref_block_num: int_field(raw, "ref_block_num")?,
        ref_block_hash: hex_field(raw, "ref_block_hash")?,
        expiration: int_field(raw, "expiration")?,
        data: hex_field(raw, "data")?,
        contract,
        scripts: hex_field(raw, "scripts")?,
        timestamp: int_field(raw, "timestamp")?,
        fee_limit: int_field(raw, "fee_limit")?,
    })
}

/// The `0x41`-prefixed 21 bytes of an address inside a protobuf message, as a [`TronAddress`].
pub fn address_from_bytes21(b: &[u8]) -> Option<TronAddress> {
    if b.len() != 21 || b[0] != PREFIX {
        return None;
    }
    let mut a = [0u8; 20];
    a.copy_from_slice(&b[1..]);
    Some(TronAddress(a))
}

mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        let v = hex::decode(s.trim_start_matches("0x")).map_err(D::Error::custom)?;
        v.try_into()
            .map_err(|_| D::Error::custom("expected 32 bytes"))
    }
}

mod hex65 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    pub fn serialize<S: Serializer>(v: &[u8; 65], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 65], D::Error> {
        let s = String::deserialize(d)?;
        let v = hex::decode(s.trim_start_matches("0x")).map_err(D::Error::custom)?;
        v.try_into()
            .map_err(|_| D::Error::custom("expected 65 bytes"))
    }
}

mod hexvec {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        hex::decode(s.trim_start_matches("0x")).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn params() -> TriggerParams {
        TriggerParams {
            owner: TronAddress([0x11; 20]),
            contract: TronAddress([0x22; 20]),
            data: vec![0xa9, 0x05, 0x9c, 0xbb, 1, 2, 3],
            call_value: 0,
            fee_limit: 30_000_000,
            ref_block_bytes: [0x12, 0x34],
            ref_block_hash: [1, 2, 3, 4, 5, 6, 7, 8],
            expiration_ms: 1_900_000_060_000,
            timestamp_ms: 1_900_000_000_000,
        }
    }

    #[test]
    fn json_round_trip_gives_the_same_bytes() {
        let raw = params().raw();
        let j = raw_to_json(&raw).unwrap();
        assert_eq!(raw_from_json(&j).unwrap().to_bytes(), raw.to_bytes());
    }

    #[test]
    fn sign_and_recover() {
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let mut p = params();
        p.owner = address_of_key(&key);
        let signed = p.build().sign(&key).unwrap();
        assert_eq!(signed.signer().unwrap(), p.owner);
        let mut v01 = signed.signature;
        v01[64] -= 27;
        assert_eq!(recover_signer(&signed.txid, &v01).unwrap(), p.owner);
        let again = SignedTx::from_parts(signed.raw_bytes.clone(), signed.signature).unwrap();
        assert_eq!(again, signed);
        let js = serde_json::to_string(&signed).unwrap();
        assert_eq!(serde_json::from_str::<SignedTx>(&js).unwrap(), signed);
        let mut bad = signed.signature;
        bad[64] = 5;
        assert_eq!(
            recover_signer(&signed.txid, &bad),
            Err(TxError::RecoveryByte(5))
        );
        assert_eq!(
            recover_signer(&signed.txid, &bad[..64]),
            Err(TxError::SignatureLength(64))
        );
    }

    #[test]
    fn ref_block_fields() {
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&0x0102_0304_0506_0708u64.to_be_bytes());
        id[8..16].copy_from_slice(&[9, 10, 11, 12, 13, 14, 15, 16]);
        let rb = RefBlock {
            number: 0x0102_0304_0506_0708,
            id,
            timestamp_ms: 0,
        };
        assert_eq!(rb.ref_block_bytes(), [7, 8]);
        assert_eq!(rb.ref_block_hash(), [9, 10, 11, 12, 13, 14, 15, 16]);
    }

    #[test]
    fn malformed_json() {
        assert!(raw_from_json(&json!([])).is_err());
        assert!(raw_from_json(&json!({"contract": "x"})).is_err());
        assert_eq!(
            raw_from_json(&json!({"contract": [{"type": "TransferContract"}]})),
            Err(TxError::NotTrigger)
        );
        let mut j = raw_to_json(&params().raw()).unwrap();
        j["ref_block_hash"] = json!("zz");
        assert!(matches!(raw_from_json(&j), Err(TxError::Json(_))));
        j["ref_block_hash"] = json!("0102030405060708");
        j["expiration"] = json!("soon");
        assert!(matches!(raw_from_json(&j), Err(TxError::Json(_))));
    }
}
