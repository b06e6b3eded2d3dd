//! A client for the subset of a TRON full node's HTTP API the payout path uses, with java-tron's
//! response shapes (`visible: false`: hex bytes, `41…` addresses) and `GrpcAPI.Return` codes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::tron::TronAddress;
use crate::tx::{RefBlock, SignedTx};

/// Why a call to the node failed (transport or shape; a node's refusal is a [`BroadcastResult`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Connection, timeout, TLS.
    #[error("{path}: request failed: {msg}")]
    Transport {
        /// Endpoint.
        path: String,
        /// Cause.
        msg: String,
    },
    /// A non-2xx HTTP status.
    #[error("{path}: HTTP {status}: {body}")]
    Status {
        /// Endpoint.
        path: String,
        /// HTTP status.
        status: u16,
        /// Body (truncated).
        body: String,
    },
    /// The body is not the JSON java-tron sends.
    #[error("{path}: unexpected response: {msg}")]
    Shape {
        /// Endpoint.
        path: String,
        /// What was wrong.
        msg: String,
    },
    /// java-tron's `{"Error": "…"}` (an exception in the servlet).
    #[error("{path}: node error: {msg}")]
    Node {
        /// Endpoint.
        path: String,
        /// The node's message.
        msg: String,
    },
    /// The node refused a constant call or an estimate (`result.code`).
    #[error("{path}: {code}: {message}")]
    Refused {
        /// Endpoint.
        path: String,
        /// `result.code`.
        code: ReturnCode,
        /// `result.message`, decoded.
        message: String,
    },
    /// A bad base URL.
    #[error("bad TRON_RPC URL {0:?}")]
    BadUrl(String),
}

/// java-tron's `GrpcAPI.Return.response_code`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReturnCode {
    /// Accepted.
    Success,
    /// The signature does not match the owner.
    SigError,
    /// The contract parameters are invalid (e.g. fee_limit, owner missing).
    ContractValidateError,
    /// Execution failed before inclusion.
    ContractExeError,
    /// Not enough bandwidth/TRX for the transaction's bytes.
    BandwidthError,
    /// The transaction is already known.
    DupTransactionError,
    /// The reference block is not in the node's recent blocks.
    TaposError,
    /// Too many bytes.
    TooBigTransactionError,
    /// Expired, or expiration too far ahead.
    TransactionExpirationError,
    /// Too many pending transactions.
    ServerBusy,
    /// No peers.
    NoConnection,
    /// Too few peers.
    NotEnoughEffectiveConnection,
    /// The node's head is too far ahead of its solidified block.
    BlockUnsolidified,
    /// Anything else.
    OtherError,
    /// A code this client does not know.
    Unknown(String),
}

impl ReturnCode {
    /// The name java-tron prints.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Success => "SUCCESS",
            Self::SigError => "SIGERROR",
            Self::ContractValidateError => "CONTRACT_VALIDATE_ERROR",
            Self::ContractExeError => "CONTRACT_EXE_ERROR",
            Self::BandwidthError => "BANDWITH_ERROR",
            Self::DupTransactionError => "DUP_TRANSACTION_ERROR",
            Self::TaposError => "TAPOS_ERROR",
            Self::TooBigTransactionError => "TOO_BIG_TRANSACTION_ERROR",
            Self::TransactionExpirationError => "TRANSACTION_EXPIRATION_ERROR",
            Self::ServerBusy => "SERVER_BUSY",
            Self::NoConnection => "NO_CONNECTION",
            Self::NotEnoughEffectiveConnection => "NOT_ENOUGH_EFFECTIVE_CONNECTION",
            Self::BlockUnsolidified => "BLOCK_UNSOLIDIFIED",
            Self::OtherError => "OTHER_ERROR",
            Self::Unknown(s) => s,
        }
    }

    /// Parses java-tron's name.
    pub fn parse(s: &str) -> Self {
        match s {
            "SUCCESS" => Self::Success,
            "SIGERROR" => Self::SigError,
            "CONTRACT_VALIDATE_ERROR" => Self::ContractValidateError,
            "CONTRACT_EXE_ERROR" => Self::ContractExeError,
            "BANDWITH_ERROR" => Self::BandwidthError,
            "DUP_TRANSACTION_ERROR" => Self::DupTransactionError,
            "TAPOS_ERROR" => Self::TaposError,
            "TOO_BIG_TRANSACTION_ERROR" => Self::TooBigTransactionError,
            "TRANSACTION_EXPIRATION_ERROR" => Self::TransactionExpirationError,
            "SERVER_BUSY" => Self::ServerBusy,
            "NO_CONNECTION" => Self::NoConnection,
            "NOT_ENOUGH_EFFECTIVE_CONNECTION" => Self::NotEnoughEffectiveConnection,
            "BLOCK_UNSOLIDIFIED" => Self::BlockUnsolidified,
            "OTHER_ERROR" => Self::OtherError,
            other => Self::Unknown(other.to_string()),
        }
    }

    /// Transient: the same transaction may be broadcast again after a pause.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::ServerBusy
                | Self::BlockUnsolidified
                | Self::NoConnection
                | Self::NotEnoughEffectiveConnection
        )
    }
}

impl std::fmt::Display for ReturnCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `/wallet/broadcasttransaction`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastResult {
    /// `result` (absent = false).
    pub result: bool,
    /// `code` (absent = SUCCESS).
    pub code: ReturnCode,
    /// `message`, hex-decoded to text.
    pub message: String,
    /// `txid` as the node computed it from the JSON.
    pub txid: String,
}

/// A block header as `/wallet(solidity)/getnowblock` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    /// `block_header.raw_data.number`.
    pub number: u64,
    /// `blockID`.
    pub id: [u8; 32],
    /// `block_header.raw_data.timestamp` (ms).
    pub timestamp_ms: i64,
}

impl BlockHeader {
    /// As a transaction's reference block.
    pub fn as_ref_block(&self) -> RefBlock {
        RefBlock {
            number: self.number,
            id: self.id,
            timestamp_ms: self.timestamp_ms,
        }
    }
}

/// `receipt.result` / `Transaction.Result.contractResult`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContractResult {
    /// Executed.
    Success,
    /// REVERT opcode (a Solidity revert).
    Revert,
    /// Ran out of energy (fee_limit too low).
    OutOfEnergy,
    /// Any other failure, by its java-tron name (e.g. `OUT_OF_TIME`, `TRANSFER_FAILED`).
    Other(String),
}

impl ContractResult {
    fn parse(s: &str) -> Self {
        match s {
            "SUCCESS" => Self::Success,
            "REVERT" => Self::Revert,
            "OUT_OF_ENERGY" => Self::OutOfEnergy,
            other => Self::Other(other.to_string()),
        }
    }
}

/// One event log of a TRON transaction (address is the 20-byte TVM address, without 0x41).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// Emitting contract.
    pub address: [u8; 20],
    /// Topics.
    pub topics: Vec<[u8; 32]>,
    /// Data.
    pub data: Vec<u8>,
}

/// `/wallet(solidity)/gettransactioninfobyid`'s answer for a known transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxInfo {
    /// txid.
    pub id: [u8; 32],
    /// Block containing it.
    pub block_number: u64,
    /// That block's timestamp (ms).
    pub block_timestamp_ms: i64,
    /// Sun burnt.
    pub fee: i64,
    /// `receipt.result` (absent = DEFAULT, which only non-contract transactions have).
    pub receipt_result: Option<ContractResult>,
    /// `receipt.energy_usage_total`.
    pub energy_usage_total: i64,
    /// `contractResult[0]`: return data, or revert data.
    pub contract_result: Vec<u8>,
    /// Logs.
    pub logs: Vec<Log>,
    /// `result == "FAILED"`.
    pub failed: bool,
    /// `resMessage`, hex-decoded.
    pub res_message: String,
}

fn hex_text(s: &str) -> String {
    match hex::decode(s) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => s.to_string(),
    }
}

fn hex_n<const N: usize>(v: &Value, path: &str, what: &str) -> Result<[u8; N], ApiError> {
    let s = v.as_str().ok_or_else(|| ApiError::Shape {
        path: path.into(),
        msg: format!("{what}: expected a hex string"),
    })?;
    let b = hex::decode(s.trim_start_matches("0x")).map_err(|e| ApiError::Shape {
        path: path.into(),
        msg: format!("{what}: {e}"),
    })?;
    b.try_into().map_err(|_| ApiError::Shape {
        path: path.into(),
        msg: format!("{what}: expected {N} bytes"),
    })
}

fn get_i64(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// Parses a getnowblock answer.
pub fn parse_block(path: &str, v: &Value) -> Result<BlockHeader, ApiError> {
    let raw = v
        .pointer("/block_header/raw_data")
        .ok_or_else(|| ApiError::Shape {
            path: path.into(),
            msg: "no block_header.raw_data".into(),
        })?;
    let id: [u8; 32] = hex_n(v.get("blockID").unwrap_or(&Value::Null), path, "blockID")?;
    let number = raw.get("number").and_then(Value::as_u64).unwrap_or(0);
    if id[..8] != number.to_be_bytes() {
        return Err(ApiError::Shape {
            path: path.into(),
            msg: format!("blockID does not start with the block number {number}"),
        });
    }
    Ok(BlockHeader {
        number,
        id,
        timestamp_ms: get_i64(raw, "timestamp"),
    })
}

/// Parses a gettransactioninfobyid answer (`{}` = unknown).
pub fn parse_tx_info(path: &str, v: &Value) -> Result<Option<TxInfo>, ApiError> {
    let Some(obj) = v.as_object() else {
        return Err(ApiError::Shape {
            path: path.into(),
            msg: "expected an object".into(),
        });
    };
    if obj.is_empty() {
        return Ok(None);
    }
    let id = hex_n(v.get("id").unwrap_or(&Value::Null), path, "id")?;
    let mut logs = Vec::new();
    for l in v.get("log").and_then(Value::as_array).into_iter().flatten() {
        let address = hex_n(
            l.get("address").unwrap_or(&Value::Null),
            path,
            "log.address",
        )?;
        let mut topics = Vec::new();
        for t in l
            .get("topics")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            topics.push(hex_n(t, path, "log.topics")?);
        }
        let data = match l.get("data").and_then(Value::as_str) {
            Some(s) => hex::decode(s).map_err(|e| ApiError::Shape {
                path: path.into(),
                msg: format!("log.data: {e}"),
            })?,
            None => Vec::new(),
        };
        logs.push(Log {
            address,
            topics,
            data,
        });
    }
    let contract_result = v
        .get("contractResult")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .map(|s| hex::decode(s).unwrap_or_default())
        .unwrap_or_default();
    let receipt = v.get("receipt").cloned().unwrap_or(json!({}));
    Ok(Some(TxInfo {
        id,
        block_number: v.get("blockNumber").and_then(Value::as_u64).unwrap_or(0),
        block_timestamp_ms: get_i64(v, "blockTimeStamp"),
        fee: get_i64(v, "fee"),
        receipt_result: receipt
            .get("result")
            .and_then(Value::as_str)
            .map(ContractResult::parse),
        energy_usage_total: get_i64(&receipt, "energy_usage_total"),
        contract_result,
        logs,
        failed: v.get("result").and_then(Value::as_str) == Some("FAILED"),
        res_message: v
            .get("resMessage")
            .and_then(Value::as_str)
            .map(hex_text)
            .unwrap_or_default(),
    }))
}

/// Parses `/wallet/getenergyprices` (`"prices": "t0:p0,t1:p1,…"`): the latest price, sun per energy.
pub fn parse_energy_price(path: &str, v: &Value) -> Result<u64, ApiError> {
    let s = v
        .get("prices")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::Shape {
            path: path.into(),
            msg: "no prices".into(),
        })?;
    s.split(',')
        .filter_map(|e| e.split_once(':'))
        .filter_map(|(t, p)| Some((t.trim().parse::<u64>().ok()?, p.trim().parse::<u64>().ok()?)))
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p)
        .ok_or_else(|| ApiError::Shape {
            path: path.into(),
            msg: format!("prices {s:?} has no entry"),
        })
}

/// The outcome of a constant call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstantResult {
    /// `energy_used`.
    pub energy_used: u64,
    /// `constant_result[0]`: return data or revert data.
    pub output: Vec<u8>,
    /// The call reverted or failed (`transaction.ret[0].ret == "FAILED"`).
    pub failed: bool,
    /// `result.message`, decoded ("REVERT opcode executed", …).
    pub message: String,
}

/// A TRON full node's HTTP API.
#[derive(Debug, Clone)]
pub struct TronClient {
    base: String,
    http: reqwest::Client,
}

impl TronClient {
    /// A client for `base_url` (e.g. `http://127.0.0.1:8090`), 30 s per request.
    pub fn new(base_url: &str) -> Result<Self, ApiError> {
        let base = base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ApiError::BadUrl(base_url.to_string()));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ApiError::Transport {
                path: String::new(),
                msg: e.to_string(),
            })?;
        Ok(Self { base, http })
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// POSTs JSON to `path` and returns the JSON answer; `{"Error": …}` becomes [`ApiError::Node`].
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        let resp = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| ApiError::Transport {
                path: path.into(),
                msg: e.to_string(),
            })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| ApiError::Transport {
            path: path.into(),
            msg: e.to_string(),
        })?;
        if !(200..300).contains(&status) {
            return Err(ApiError::Status {
                path: path.into(),
                status,
                body: text.chars().take(500).collect(),
            });
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| ApiError::Shape {
            path: path.into(),
            msg: format!(
                "not JSON ({e}): {}",
                text.chars().take(200).collect::<String>()
            ),
        })?;
        if let Some(msg) = v.get("Error").and_then(Value::as_str) {
            return Err(ApiError::Node {
                path: path.into(),
                msg: msg.to_string(),
            });
        }
        Ok(v)
    }

    /// The chain id of the node's Ethereum-style JSON-RPC (`/jsonrpc`, `eth_chainId`): the chain
    /// id under which an indexer of `TRON_RPC/jsonrpc` records the chain's events.
    pub async fn chain_id(&self) -> Result<u64, ApiError> {
        let p = "/jsonrpc";
        let v = self
            .post(
                p,
                &json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}),
            )
            .await?;
        v.get("result")
            .and_then(Value::as_str)
            .and_then(|h| u64::from_str_radix(h.trim_start_matches("0x"), 16).ok())
            .ok_or_else(|| ApiError::Shape {
                path: p.into(),
                msg: format!("eth_chainId answered {v}"),
            })
    }

    /// `/wallet/getnowblock`: the head block.
    pub async fn now_block(&self) -> Result<BlockHeader, ApiError> {
        let p = "/wallet/getnowblock";
        parse_block(p, &self.post(p, &json!({})).await?)
    }

    /// `/walletsolidity/getnowblock`: the solidified head.
    pub async fn solid_block(&self) -> Result<BlockHeader, ApiError> {
        let p = "/walletsolidity/getnowblock";
        parse_block(p, &self.post(p, &json!({})).await?)
    }

    fn call_body(owner: &TronAddress, contract: &TronAddress, data: &[u8]) -> Value {
        json!({
            "owner_address": owner.to_hex41(),
            "contract_address": contract.to_hex41(),
            "data": hex::encode(data),
            "visible": false,
        })
    }

    /// `/wallet/triggerconstantcontract`: runs a call without a transaction.
    pub async fn trigger_constant(
        &self,
        owner: &TronAddress,
        contract: &TronAddress,
        data: &[u8],
    ) -> Result<ConstantResult, ApiError> {
        let p = "/wallet/triggerconstantcontract";
        let v = self
            .post(p, &Self::call_body(owner, contract, data))
            .await?;
        let res = v.get("result").cloned().unwrap_or(json!({}));
        let message = res
            .get("message")
            .and_then(Value::as_str)
            .map(hex_text)
            .unwrap_or_default();
        if res.get("result").and_then(Value::as_bool) != Some(true) {
            return Err(ApiError::Refused {
                path: p.into(),
                code: ReturnCode::parse(res.get("code").and_then(Value::as_str).unwrap_or("")),
                message,
            });
        }
        let output = v
            .get("constant_result")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .map(|s| hex::decode(s).unwrap_or_default())
            .unwrap_or_default();
        let failed = v.pointer("/transaction/ret/0/ret").and_then(Value::as_str) == Some("FAILED");
        Ok(ConstantResult {
            energy_used: v.get("energy_used").and_then(Value::as_u64).unwrap_or(0),
            output,
            failed,
            message,
        })
    }

    /// `/wallet/estimateenergy`: the energy a call needs (nodes may have it switched off: then
    /// [`ApiError::Refused`] with `CONTRACT_VALIDATE_ERROR`).
    pub async fn estimate_energy(
        &self,
        owner: &TronAddress,
        contract: &TronAddress,
        data: &[u8],
    ) -> Result<u64, ApiError> {
        let p = "/wallet/estimateenergy";
        let v = self
            .post(p, &Self::call_body(owner, contract, data))
            .await?;
        let res = v.get("result").cloned().unwrap_or(json!({}));
        if res.get("result").and_then(Value::as_bool) != Some(true) {
            return Err(ApiError::Refused {
                path: p.into(),
                code: ReturnCode::parse(res.get("code").and_then(Value::as_str).unwrap_or("")),
                message: res
                    .get("message")
                    .and_then(Value::as_str)
                    .map(hex_text)
                    .unwrap_or_default(),
            });
        }
        v.get("energy_required")
            .and_then(Value::as_u64)
            .ok_or_else(|| ApiError::Shape {
                path: p.into(),
                msg: "no energy_required".into(),
            })
    }

    /// `/wallet/getenergyprices`: the current price of one energy in sun.
    pub async fn energy_price(&self) -> Result<u64, ApiError> {
        let p = "/wallet/getenergyprices";
        parse_energy_price(p, &self.post(p, &json!({})).await?)
    }

    /// `/wallet/broadcasttransaction`.
    pub async fn broadcast(&self, tx: &SignedTx) -> Result<BroadcastResult, ApiError> {
        let p = "/wallet/broadcasttransaction";
        let body = tx.to_broadcast_json().map_err(|e| ApiError::Shape {
            path: p.into(),
            msg: e.to_string(),
        })?;
        let v = self.post(p, &body).await?;
        Ok(BroadcastResult {
            result: v.get("result").and_then(Value::as_bool).unwrap_or(false),
            code: ReturnCode::parse(v.get("code").and_then(Value::as_str).unwrap_or("SUCCESS")),
            message: v
                .get("message")
                .and_then(Value::as_str)
                .map(hex_text)
                .unwrap_or_default(),
            txid: v
                .get("txid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// `/wallet/gettransactioninfobyid` (`solidified = false`) or `/walletsolidity/…` (`true`).
    pub async fn tx_info(
        &self,
        txid: &[u8; 32],
        solidified: bool,
    ) -> Result<Option<TxInfo>, ApiError> {
        let p = if solidified {
            "/walletsolidity/gettransactioninfobyid"
        } else {
            "/wallet/gettransactioninfobyid"
        };
        let v = self.post(p, &json!({"value": hex::encode(txid)})).await?;
        parse_tx_info(p, &v)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn energy_prices() {
        let v = json!({"prices": "0:100,1575129600000:10,1606537680000:40,1748502000000:210"});
        assert_eq!(parse_energy_price("p", &v).unwrap(), 210);
        assert!(parse_energy_price("p", &json!({"prices": ""})).is_err());
        assert!(parse_energy_price("p", &json!({})).is_err());
    }

    #[test]
    fn codes_round_trip() {
        for c in [
            "SUCCESS",
            "SIGERROR",
            "CONTRACT_VALIDATE_ERROR",
            "CONTRACT_EXE_ERROR",
            "BANDWITH_ERROR",
            "DUP_TRANSACTION_ERROR",
            "TAPOS_ERROR",
            "TOO_BIG_TRANSACTION_ERROR",
            "TRANSACTION_EXPIRATION_ERROR",
            "SERVER_BUSY",
            "NO_CONNECTION",
            "NOT_ENOUGH_EFFECTIVE_CONNECTION",
            "BLOCK_UNSOLIDIFIED",
            "OTHER_ERROR",
            "SOMETHING_NEW",
        ] {
            assert_eq!(ReturnCode::parse(c).as_str(), c);
        }
        assert!(ReturnCode::ServerBusy.is_retryable());
        assert!(!ReturnCode::DupTransactionError.is_retryable());
    }

    #[test]
    fn tx_info_shapes() {
        assert_eq!(parse_tx_info("p", &json!({})).unwrap(), None);
        assert!(parse_tx_info("p", &json!([])).is_err());
        let v = json!({
            "id": "11".repeat(32), "fee": 345000, "blockNumber": 7, "blockTimeStamp": 1700000000000i64,
            "contractResult": ["08c379a0"], "receipt": {"energy_usage_total": 1000, "result": "REVERT"},
            "result": "FAILED", "resMessage": hex::encode("REVERT opcode executed"),
            "log": [{"address": "22".repeat(20), "topics": ["33".repeat(32)], "data": "00"}]
        });
        let i = parse_tx_info("p", &v).unwrap().unwrap();
        assert_eq!(i.receipt_result, Some(ContractResult::Revert));
        assert!(i.failed);
        assert_eq!(i.res_message, "REVERT opcode executed");
        assert_eq!(i.logs[0].address, [0x22; 20]);
        assert_eq!(i.contract_result, vec![0x08, 0xc3, 0x79, 0xa0]);
        let bad = json!({"id": "11", "log": []});
        assert!(parse_tx_info("p", &bad).is_err());
    }

    #[test]
    fn block_id_must_carry_the_number() {
        let mut id = [0xabu8; 32];
        id[..8].copy_from_slice(&5u64.to_be_bytes());
        let v = json!({"blockID": hex::encode(id), "block_header": {"raw_data": {"number": 5, "timestamp": 9}}});
        let b = parse_block("p", &v).unwrap();
        assert_eq!((b.number, b.timestamp_ms), (5, 9));
        let v = json!({"blockID": hex::encode(id), "block_header": {"raw_data": {"number": 6}}});
        assert!(parse_block("p", &v).is_err());
        assert!(parse_block("p", &json!({})).is_err());
        assert!(TronClient::new("ftp://x").is_err());
    }
}
