//! The few TRON protobuf messages the payout path needs, written by hand with `prost` (no protoc).
//! Field numbers follow java-tron's `Tron.proto` / `smart_contract.proto`; proto3 semantics (default
//! values are not encoded), fields are encoded in tag order, which is what java-tron, tronweb
//! (google-protobuf) and tronpy (python protobuf) produce, so the bytes (and therefore the txid)
//! agree across the implementations (checked by `tests/vectors/tron.json`).

use prost::Message;

/// `Transaction.Contract.ContractType.TriggerSmartContract`.
pub const TRIGGER_SMART_CONTRACT: i32 = 31;
/// The `google.protobuf.Any` type URL of a `TriggerSmartContract` parameter.
pub const TRIGGER_TYPE_URL: &str = "type.googleapis.com/protocol.TriggerSmartContract";

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, Message)]
pub struct Any {
    /// Type URL.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// Encoded message.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `protocol.TriggerSmartContract`.
#[derive(Clone, PartialEq, Message)]
pub struct TriggerSmartContract {
    /// Caller: `0x41 ‖ 20 bytes`.
    #[prost(bytes = "vec", tag = "1")]
    pub owner_address: Vec<u8>,
    /// Contract: `0x41 ‖ 20 bytes`.
    #[prost(bytes = "vec", tag = "2")]
    pub contract_address: Vec<u8>,
    /// TRX sent with the call (sun).
    #[prost(int64, tag = "3")]
    pub call_value: i64,
    /// ABI-encoded call data.
    #[prost(bytes = "vec", tag = "4")]
    pub data: Vec<u8>,
    /// TRC-10 token value.
    #[prost(int64, tag = "5")]
    pub call_token_value: i64,
    /// TRC-10 token id.
    #[prost(int64, tag = "6")]
    pub token_id: i64,
}

/// `protocol.Transaction.Contract`.
#[derive(Clone, PartialEq, Message)]
pub struct Contract {
    /// `ContractType` (31 = TriggerSmartContract).
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// The contract message.
    #[prost(message, optional, tag = "2")]
    pub parameter: Option<Any>,
    /// Unused by the payout path.
    #[prost(bytes = "vec", tag = "3")]
    pub provider: Vec<u8>,
    /// Unused by the payout path.
    #[prost(bytes = "vec", tag = "4")]
    pub contract_name: Vec<u8>,
    /// Permission id (0 = owner).
    #[prost(int32, tag = "5")]
    pub permission_id: i32,
}

/// `protocol.Transaction.raw`: what the txid hashes and the signature signs.
#[derive(Clone, PartialEq, Message)]
pub struct TransactionRaw {
    /// Bytes 6..8 of the reference block's number (big-endian).
    #[prost(bytes = "vec", tag = "1")]
    pub ref_block_bytes: Vec<u8>,
    /// Unused (TaPoS uses the bytes).
    #[prost(int64, tag = "3")]
    pub ref_block_num: i64,
    /// Bytes 8..16 of the reference block's id.
    #[prost(bytes = "vec", tag = "4")]
    pub ref_block_hash: Vec<u8>,
    /// Milliseconds since the epoch after which the transaction is invalid.
    #[prost(int64, tag = "8")]
    pub expiration: i64,
    /// Memo.
    #[prost(bytes = "vec", tag = "10")]
    pub data: Vec<u8>,
    /// Exactly one contract.
    #[prost(message, repeated, tag = "11")]
    pub contract: Vec<Contract>,
    /// Unused.
    #[prost(bytes = "vec", tag = "12")]
    pub scripts: Vec<u8>,
    /// Milliseconds since the epoch when the transaction was built.
    #[prost(int64, tag = "14")]
    pub timestamp: i64,
    /// Maximum TRX (sun) the caller pays for energy.
    #[prost(int64, tag = "18")]
    pub fee_limit: i64,
}

/// `protocol.Transaction` (without `ret`, which a client never sets).
#[derive(Clone, PartialEq, Message)]
pub struct Transaction {
    /// The signed part.
    #[prost(message, optional, tag = "1")]
    pub raw_data: Option<TransactionRaw>,
    /// 65-byte signatures `r ‖ s ‖ v`.
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub signature: Vec<Vec<u8>>,
}

impl TransactionRaw {
    /// The protobuf encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode_to_vec()
    }

    /// Decodes `raw_data` bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, prost::DecodeError> {
        Self::decode(bytes)
    }

    /// The single `TriggerSmartContract` of this transaction, if that is what it carries.
    pub fn trigger(&self) -> Option<TriggerSmartContract> {
        let [c] = self.contract.as_slice() else {
            return None;
        };
        if c.r#type != TRIGGER_SMART_CONTRACT {
            return None;
        }
        let p = c.parameter.as_ref()?;
        if p.type_url != TRIGGER_TYPE_URL {
            return None;
        }
        TriggerSmartContract::decode(p.value.as_slice()).ok()
    }
}
