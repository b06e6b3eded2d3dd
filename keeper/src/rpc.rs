//! A thin JSON-RPC client over alloy's `RpcClient`: typed calls for what the keeper needs and
//! node errors kept as values (code, message, revert data) so the transaction manager can classify
//! them ("already known", "nonce too low", …) without string-matching alloy's own error text.

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::rpc::client::{ClientBuilder, RpcClient};
use alloy::transports::RpcError;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// An RPC failure: the node answered with an error, or the request did not get an answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RpcErr {
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

impl RpcErr {
    /// Lower-cased node message ("" for transport errors).
    pub fn node_message(&self) -> String {
        match self {
            RpcErr::Node { message, .. } => message.to_ascii_lowercase(),
            RpcErr::Transport(_) => String::new(),
        }
    }
    pub fn revert_data(&self) -> Option<&Bytes> {
        match self {
            RpcErr::Node { data, .. } => data.as_ref(),
            RpcErr::Transport(_) => None,
        }
    }
}

/// The fields of a receipt the keeper uses.
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

/// The fields of a block header the keeper uses.
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

/// A JSON-RPC endpoint.
#[derive(Debug, Clone)]
pub struct Rpc {
    client: RpcClient,
    url: String,
}

impl Rpc {
    pub fn new(url: &str) -> Result<Self, RpcErr> {
        let parsed = url
            .parse()
            .map_err(|e| RpcErr::Transport(format!("bad RPC URL {url:?}: {e}")))?;
        Ok(Self {
            client: ClientBuilder::default().http(parsed),
            url: url.to_owned(),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Any method with JSON params.
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: &'static str,
        params: Value,
    ) -> Result<T, RpcErr> {
        let v: Value = self
            .client
            .request(method, params)
            .await
            .map_err(|e| match e {
                RpcError::ErrorResp(p) => RpcErr::Node {
                    code: p.code,
                    message: p.message.to_string(),
                    data: p
                        .data
                        .as_ref()
                        .and_then(|d| serde_json::from_str::<Bytes>(d.get()).ok()),
                },
                other => RpcErr::Transport(other.to_string()),
            })?;
        serde_json::from_value(v)
            .map_err(|e| RpcErr::Transport(format!("{method}: bad answer: {e}")))
    }

    pub async fn chain_id(&self) -> Result<u64, RpcErr> {
        let v: U256 = self.request("eth_chainId", json!([])).await?;
        u64::try_from(v).map_err(|_| RpcErr::Transport("chain id out of range".into()))
    }

    pub async fn block_number(&self) -> Result<u64, RpcErr> {
        let v: U256 = self.request("eth_blockNumber", json!([])).await?;
        u64::try_from(v).map_err(|_| RpcErr::Transport("block number out of range".into()))
    }

    /// The latest block's header.
    pub async fn latest(&self) -> Result<BlockHead, RpcErr> {
        let b: Option<BlockHead> = self
            .request("eth_getBlockByNumber", json!(["latest", false]))
            .await?;
        b.ok_or_else(|| RpcErr::Transport("no latest block".into()))
    }

    pub async fn block(&self, number: u64) -> Result<Option<BlockHead>, RpcErr> {
        self.request(
            "eth_getBlockByNumber",
            json!([format!("0x{number:x}"), false]),
        )
        .await
    }

    /// Transaction count of `addr` at `tag` (`"latest"` = mined, `"pending"` = with the pool).
    pub async fn nonce(&self, addr: Address, tag: &str) -> Result<u64, RpcErr> {
        let v: U256 = self
            .request("eth_getTransactionCount", json!([addr, tag]))
            .await?;
        u64::try_from(v).map_err(|_| RpcErr::Transport("nonce out of range".into()))
    }

    pub async fn receipt(&self, hash: B256) -> Result<Option<Receipt>, RpcErr> {
        self.request("eth_getTransactionReceipt", json!([hash]))
            .await
    }

    pub async fn send_raw(&self, raw: &[u8]) -> Result<B256, RpcErr> {
        self.request(
            "eth_sendRawTransaction",
            json!([format!("0x{}", hex::encode(raw))]),
        )
        .await
    }

    pub async fn max_priority_fee(&self) -> Result<u128, RpcErr> {
        let v: U256 = self.request("eth_maxPriorityFeePerGas", json!([])).await?;
        Ok(u128::try_from(v).unwrap_or(u128::MAX))
    }

    /// `eth_call` at `block` (a tag or a hex number).
    pub async fn call(
        &self,
        from: Option<Address>,
        to: Address,
        data: &[u8],
        block: &str,
    ) -> Result<Bytes, RpcErr> {
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
    ) -> Result<u64, RpcErr> {
        let v: U256 = self
            .request(
                "eth_estimateGas",
                json!([{"from": from, "to": to, "data": Bytes::copy_from_slice(data)}]),
            )
            .await?;
        u64::try_from(v).map_err(|_| RpcErr::Transport("gas out of range".into()))
    }

    /// Logs of `address` with `topic0` in an inclusive block range.
    pub async fn logs(
        &self,
        address: Address,
        topics: Value,
        from: u64,
        to: u64,
    ) -> Result<Vec<Log>, RpcErr> {
        self.request(
            "eth_getLogs",
            json!([{"address": address, "topics": topics,
                    "fromBlock": format!("0x{from:x}"), "toBlock": format!("0x{to:x}")}]),
        )
        .await
    }
}
