//! A minimal JSON-RPC client for the anvil behind the stand-in.

use std::time::Duration;

use serde_json::{Value, json};

/// A JSON-RPC error or transport failure.
#[derive(Debug, Clone)]
pub struct RpcError {
    /// JSON-RPC error code (0 for transport/shape errors).
    pub code: i64,
    /// Message.
    pub message: String,
    /// `error.data` (revert data for `eth_call`).
    pub data: Option<Value>,
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for RpcError {}

fn transport(e: impl std::fmt::Display) -> RpcError {
    RpcError {
        code: 0,
        message: e.to_string(),
        data: None,
    }
}

/// The anvil.
#[derive(Debug, Clone)]
pub struct Evm {
    url: String,
    http: reqwest::Client,
}

impl Evm {
    /// A client for `url`.
    pub fn new(url: &str) -> Result<Self, RpcError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(transport)?;
        Ok(Self {
            url: url.to_string(),
            http,
        })
    }

    /// Passes a raw JSON-RPC body through and returns the raw answer.
    pub async fn raw(&self, body: Vec<u8>) -> Result<(u16, Vec<u8>), RpcError> {
        let r = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        let status = r.status().as_u16();
        let bytes = r.bytes().await.map_err(transport)?;
        Ok((status, bytes.to_vec()))
    }

    /// One JSON-RPC call.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let r = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(transport)?;
        let bytes = r.bytes().await.map_err(transport)?;
        let v: Value = serde_json::from_slice(&bytes).map_err(transport)?;
        if let Some(e) = v.get("error") {
            return Err(RpcError {
                code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                data: e.get("data").cloned(),
            });
        }
        Ok(v.get("result").cloned().unwrap_or(Value::Null))
    }
}

/// `0x…` quantity → u64.
pub fn quantity(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.trim_start_matches("0x"), 16).ok()
}

/// `0x…` data → bytes.
pub fn data(v: &Value) -> Option<Vec<u8>> {
    hex::decode(v.as_str()?.trim_start_matches("0x")).ok()
}
