//! The transaction side of [`ChainClient`]: node errors kept as values (code, message, revert data)
//! so a transaction manager can classify them ("already known", "nonce too low", …) without
//! matching alloy's own error text, and the typed calls a sender needs (head with gas limit and base
//! fee, nonces, receipts, raw sends, fee suggestions, `eth_call` / `eth_estimateGas` with revert
//! data). One attempt per call: the caller's loop decides about retries.

use alloy::transports::RpcError;
use alloy_primitives::{Address, B256, Bytes, U256};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::rpc::{ChainClient, DEFAULT_TIMEOUT};

/// A failed call: the node answered with an error, or no answer came.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NodeError {
    #[error("node error {code}: {message}")]
    Node {
        code: i64,
        message: String,
        /// Revert data of a failed `eth_call`/`eth_estimateGas`, when the node gives it.
        data: Option<Bytes>,
    },
    #[error("rpc transport: {0}")]
    Transport(String),
}

impl NodeError {
    /// Lower-cased node message ("" for transport errors).
    pub fn node_message(&self) -> String {
        match self {
            NodeError::Node { message, .. } => message.to_ascii_lowercase(),
            NodeError::Transport(_) => String::new(),
        }
    }
    pub fn revert_data(&self) -> Option<&Bytes> {
        match self {
            NodeError::Node { data, .. } => data.as_ref(),
            NodeError::Transport(_) => None,
        }
    }
}

/// The fields of a receipt a sender uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub transaction_hash: B256,
    pub block_hash: B256,
    #[serde(with = "alloy::serde::quantity")]
    pub block_number: u64,
    #[serde(with = "alloy::serde::quantity")]
    pub status: u64,
    #[serde(with = "alloy::serde::quantity")]
    pub gas_used: u64,
    #[serde(default)]
    pub logs: Vec<Log>,
}

/// A log of a receipt or of `eth_getLogs` (block fields absent for pending logs).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Log {
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Bytes,
    #[serde(default)]
    pub transaction_hash: Option<B256>,
    #[serde(default)]
    pub block_hash: Option<B256>,
    #[serde(default, with = "alloy::serde::quantity::opt")]
    pub block_number: Option<u64>,
    #[serde(default, with = "alloy::serde::quantity::opt")]
    pub log_index: Option<u64>,
    #[serde(default)]
    pub removed: bool,
}

/// A block header with what a sender needs (gas limit, base fee).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockHead {
    pub hash: B256,
    #[serde(with = "alloy::serde::quantity")]
    pub number: u64,
    #[serde(with = "alloy::serde::quantity")]
    pub timestamp: u64,
    #[serde(with = "alloy::serde::quantity")]
    pub gas_limit: u64,
    #[serde(default, with = "alloy::serde::quantity::opt")]
    pub base_fee_per_gas: Option<u128>,
}

impl ChainClient {
    /// A client for `url` with the default timeout, its errors as [`NodeError`].
    pub fn connect(url: &str) -> Result<Self, NodeError> {
        ChainClient::new(url, DEFAULT_TIMEOUT).map_err(|e| NodeError::Transport(e.to_string()))
    }

    /// Any method with JSON params, one attempt.
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: &'static str,
        params: Value,
    ) -> Result<T, NodeError> {
        let v: Value = self
            .client
            .request(method, params)
            .await
            .map_err(|e| match e {
                RpcError::ErrorResp(p) => NodeError::Node {
                    code: p.code,
                    message: p.message.to_string(),
                    data: p
                        .data
                        .as_ref()
                        .and_then(|d| serde_json::from_str::<Bytes>(d.get()).ok()),
                },
                other => NodeError::Transport(other.to_string()),
            })?;
        serde_json::from_value(v)
            .map_err(|e| NodeError::Transport(format!("{method}: bad answer: {e}")))
    }

    /// The latest block's header.
    pub async fn latest(&self) -> Result<BlockHead, NodeError> {
        let b: Option<BlockHead> = self
            .request("eth_getBlockByNumber", json!(["latest", false]))
            .await?;
        b.ok_or_else(|| NodeError::Transport("no latest block".into()))
    }

    /// A block's header by number (`None` if the node does not have it).
    pub async fn block_head(&self, number: u64) -> Result<Option<BlockHead>, NodeError> {
        self.request(
            "eth_getBlockByNumber",
            json!([format!("0x{number:x}"), false]),
        )
        .await
    }

    /// Transaction count of `addr` at `tag` (`"latest"` = mined, `"pending"` = with the pool).
    pub async fn nonce(&self, addr: Address, tag: &str) -> Result<u64, NodeError> {
        let v: U256 = self
            .request("eth_getTransactionCount", json!([addr, tag]))
            .await?;
        u64::try_from(v).map_err(|_| NodeError::Transport("nonce out of range".into()))
    }

    pub async fn receipt(&self, hash: B256) -> Result<Option<Receipt>, NodeError> {
        self.request("eth_getTransactionReceipt", json!([hash]))
            .await
    }

    pub async fn send_raw(&self, raw: &[u8]) -> Result<B256, NodeError> {
        self.request(
            "eth_sendRawTransaction",
            json!([alloy_primitives::hex::encode_prefixed(raw)]),
        )
        .await
    }

    pub async fn max_priority_fee(&self) -> Result<u128, NodeError> {
        let v: U256 = self.request("eth_maxPriorityFeePerGas", json!([])).await?;
        Ok(u128::try_from(v).unwrap_or(u128::MAX))
    }

    /// `eth_call` of raw calldata at `block` (a tag or a hex number), revert data kept.
    pub async fn call_raw(
        &self,
        from: Option<Address>,
        to: Address,
        data: &[u8],
        block: &str,
    ) -> Result<Bytes, NodeError> {
        let mut tx = json!({"to": to, "data": Bytes::copy_from_slice(data)});
        if let Some(f) = from {
            tx["from"] = json!(f);
        }
        self.request("eth_call", json!([tx, block])).await
    }

    pub async fn estimate_gas(
        &self,
        from: Address,
        to: Address,
        data: &[u8],
    ) -> Result<u64, NodeError> {
        let v: U256 = self
            .request(
                "eth_estimateGas",
                json!([{"from": from, "to": to, "data": Bytes::copy_from_slice(data)}]),
            )
            .await?;
        u64::try_from(v).map_err(|_| NodeError::Transport("gas out of range".into()))
    }

    /// Logs of `address` with `topics` in an inclusive block range.
    pub async fn logs(
        &self,
        address: Address,
        topics: Value,
        from: u64,
        to: u64,
    ) -> Result<Vec<Log>, NodeError> {
        self.request(
            "eth_getLogs",
            json!([{"address": address, "topics": topics,
                    "fromBlock": format!("0x{from:x}"), "toBlock": format!("0x{to:x}")}]),
        )
        .await
    }
}
