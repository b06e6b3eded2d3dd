//! JSON-RPC access to an EVM chain (or TRON's Ethereum-compatible `/jsonrpc`) with classified errors
//! and retry with capped exponential backoff.
//!
//! Blocks and logs are read as plain JSON (only the fields every node returns, TRON's included), so a
//! node that omits fields alloy's full block type requires still works.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use alloy::rpc::client::RpcClient;
use alloy::rpc::json_rpc::{RpcError, RpcRecv, RpcSend};
use alloy::transports::TransportErrorKind;
use alloy::transports::http::reqwest;
use alloy_primitives::{Address, B256, Bytes, U64};
use alloy_sol_types::SolCall;
use serde::{Deserialize, Serialize};

/// What went wrong with a call, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RpcErrorKind {
    /// `eth_getLogs`: the block range is larger than the node serves.
    RangeTooLarge,
    /// `eth_getLogs`: too many results; `suggested` is the range the node proposes, if any.
    TooManyResults { suggested: Option<(u64, u64)> },
    /// No answer in time (client timeout, or a node-side query timeout).
    Timeout,
    /// HTTP 5xx without a JSON-RPC error body.
    Server { status: u16 },
    /// HTTP 429 or a JSON-RPC rate-limit error.
    RateLimited,
    /// Connection refused, reset, DNS failure: the node is not reachable.
    Unavailable,
    /// An answer that is not the JSON expected (truncated body, HTML error page, missing fields).
    BadResponse,
    /// Any other JSON-RPC error (e.g. an `eth_call` revert): retrying the same call will not help.
    Rpc { code: i64 },
    /// A 4xx HTTP status other than 429, or a local error.
    Other,
}

impl RpcErrorKind {
    /// A stable label for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            RpcErrorKind::RangeTooLarge => "range_too_large",
            RpcErrorKind::TooManyResults { suggested: Some(_) } => "too_many_results_suggested",
            RpcErrorKind::TooManyResults { suggested: None } => "too_many_results",
            RpcErrorKind::Timeout => "timeout",
            RpcErrorKind::Server { .. } => "http_5xx",
            RpcErrorKind::RateLimited => "rate_limited",
            RpcErrorKind::Unavailable => "unavailable",
            RpcErrorKind::BadResponse => "bad_response",
            RpcErrorKind::Rpc { .. } => "rpc_error",
            RpcErrorKind::Other => "other",
        }
    }

    /// Every label, for metrics that list zero counts too.
    pub const LABELS: [&'static str; 10] = [
        "range_too_large",
        "too_many_results_suggested",
        "too_many_results",
        "timeout",
        "http_5xx",
        "rate_limited",
        "unavailable",
        "bad_response",
        "rpc_error",
        "other",
    ];

    /// Errors that may pass if the very same call is made again later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RpcErrorKind::Timeout
                | RpcErrorKind::Server { .. }
                | RpcErrorKind::RateLimited
                | RpcErrorKind::Unavailable
                | RpcErrorKind::BadResponse
        )
    }

    /// `eth_getLogs` errors that call for a smaller range (timeouts included: a big range is slow).
    pub fn wants_smaller_range(&self) -> bool {
        matches!(
            self,
            RpcErrorKind::RangeTooLarge
                | RpcErrorKind::TooManyResults { .. }
                | RpcErrorKind::Timeout
        )
    }
}

/// A failed call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{method} failed ({}): {message}", kind.label())]
pub struct ChainError {
    pub kind: RpcErrorKind,
    pub method: String,
    pub message: String,
}

impl ChainError {
    fn local(method: &str, message: String) -> Self {
        ChainError {
            kind: RpcErrorKind::Other,
            method: method.to_owned(),
            message,
        }
    }
}

/// Classifies a JSON-RPC error object by its code and message (the providers' wordings differ).
pub fn classify_rpc_error(code: i64, message: &str) -> RpcErrorKind {
    let m = message.to_ascii_lowercase();
    let has = |s: &str| m.contains(s);
    if has("rate limit") || has("too many requests") || has("exceeded the quota") || code == 429 {
        return RpcErrorKind::RateLimited;
    }
    let too_many = has("more than") && (has("results") || has("logs"))
        || has("too many results")
        || has("too many logs")
        || has("response size")
        || has("response is too big")
        || has("result set too large")
        || has("query returned more than");
    if too_many || (has("try with this block range") || has("this block range should work")) {
        return RpcErrorKind::TooManyResults {
            suggested: suggested_range(message),
        };
    }
    if has("timeout") || has("timed out") || has("deadline exceeded") {
        return RpcErrorKind::Timeout;
    }
    if (has("range") || has("blocks"))
        && (has("too large")
            || has("too wide")
            || has("too big")
            || has("exceed")
            || has("maximum")
            || has("limit")
            || has("max "))
    {
        return RpcErrorKind::RangeTooLarge;
    }
    RpcErrorKind::Rpc { code }
}

/// The `[0xFROM, 0xTO]` range a node proposes in a too-many-results error, if any.
pub fn suggested_range(message: &str) -> Option<(u64, u64)> {
    let start = message.find('[')?;
    let end = start + message[start..].find(']')?;
    let inner = &message[start + 1..end];
    let (a, b) = inner.split_once(',')?;
    let parse = |s: &str| {
        let s = s.trim();
        match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => s.parse::<u64>().ok(),
        }
    };
    let (a, b) = (parse(a)?, parse(b)?);
    (a <= b).then_some((a, b))
}

fn classify(err: &RpcError<TransportErrorKind>) -> RpcErrorKind {
    match err {
        RpcError::ErrorResp(p) => classify_rpc_error(p.code, &p.message),
        RpcError::NullResp | RpcError::DeserError { .. } => RpcErrorKind::BadResponse,
        RpcError::Transport(t) => match t {
            TransportErrorKind::HttpError(h) => status_kind(h.status),
            TransportErrorKind::HttpErrorWithRetryAfter { error, .. } => status_kind(error.status),
            TransportErrorKind::Custom(e) | TransportErrorKind::NonRetryable(e) => {
                match e.downcast_ref::<reqwest::Error>() {
                    Some(r) if r.is_timeout() => RpcErrorKind::Timeout,
                    Some(r) if r.is_connect() || r.is_request() => RpcErrorKind::Unavailable,
                    Some(r) if r.is_body() || r.is_decode() => RpcErrorKind::BadResponse,
                    _ => RpcErrorKind::Unavailable,
                }
            }
            TransportErrorKind::BackendGone => RpcErrorKind::Unavailable,
            _ => RpcErrorKind::Other,
        },
        _ => RpcErrorKind::Other,
    }
}

fn status_kind(status: u16) -> RpcErrorKind {
    match status {
        429 => RpcErrorKind::RateLimited,
        408 | 504 => RpcErrorKind::Timeout,
        500..=599 => RpcErrorKind::Server { status },
        _ => RpcErrorKind::Other,
    }
}

/// Capped exponential backoff with jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First delay.
    pub initial: Duration,
    /// No delay exceeds this.
    pub max_delay: Duration,
    /// `None`: retry transient errors forever (the indexer); `Some(n)`: give up after n attempts.
    pub max_attempts: Option<u32>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            max_attempts: Some(8),
        }
    }
}

impl RetryPolicy {
    /// Retries transient errors forever, delays from 100 ms up to 5 s.
    pub fn forever() -> Self {
        RetryPolicy {
            max_attempts: None,
            ..Self::default()
        }
    }

    /// The delay before retry number `attempt` (0-based): `initial × 2^attempt`, capped, with up to
    /// 25 % jitter taken off so that many clients do not retry in lockstep.
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self
            .initial
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.max_delay);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = base.mul_f64(f64::from(nanos % 250) / 1000.0);
        base.saturating_sub(jitter)
    }
}

/// Counts of failed calls by [`RpcErrorKind::label`], shared by the clones of a client.
#[derive(Debug, Default)]
pub struct ErrorCounters {
    counts: [AtomicU64; RpcErrorKind::LABELS.len()],
}

impl ErrorCounters {
    fn record(&self, kind: &RpcErrorKind) {
        if let Some(i) = RpcErrorKind::LABELS.iter().position(|l| *l == kind.label()) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `(label, count)` for every kind.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        RpcErrorKind::LABELS
            .iter()
            .zip(self.counts.iter())
            .map(|(l, c)| (*l, c.load(Ordering::Relaxed)))
            .collect()
    }
}

/// A block as the indexer needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockHeader {
    pub number: U64,
    pub hash: B256,
    pub parent_hash: B256,
    pub timestamp: U64,
}

impl BlockHeader {
    pub fn number(&self) -> u64 {
        self.number.to::<u64>()
    }
    pub fn timestamp(&self) -> u64 {
        self.timestamp.to::<u64>()
    }
}

/// The fields of a transaction receipt the indexer needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxReceipt {
    pub transaction_hash: B256,
    pub block_hash: B256,
    pub block_number: U64,
    pub gas_used: U64,
}

impl TxReceipt {
    pub fn block_number(&self) -> u64 {
        self.block_number.to::<u64>()
    }
    pub fn gas_used(&self) -> u64 {
        self.gas_used.to::<u64>()
    }
}

/// A log as returned by `eth_getLogs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawLog {
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Bytes,
    pub block_number: U64,
    pub block_hash: B256,
    pub transaction_hash: B256,
    pub log_index: U64,
    #[serde(default)]
    pub removed: bool,
}

impl RawLog {
    pub fn block_number(&self) -> u64 {
        self.block_number.to::<u64>()
    }
    pub fn log_index(&self) -> u64 {
        self.log_index.to::<u64>()
    }
}

/// `eth_getLogs` filter: these contracts, these blocks (inclusive).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct LogFilter<'a> {
    address: &'a [Address],
    from_block: U64,
    to_block: U64,
}

#[derive(Debug, Clone, Serialize)]
struct CallRequest {
    to: Address,
    data: Bytes,
}

/// A block to read state at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockTag {
    Latest,
    Number(u64),
}

impl BlockTag {
    fn json(&self) -> serde_json::Value {
        match self {
            BlockTag::Latest => serde_json::Value::from("latest"),
            BlockTag::Number(n) => serde_json::Value::from(format!("{n:#x}")),
        }
    }
}

/// A JSON-RPC endpoint with a per-request timeout, error counters and a retry policy.
#[derive(Debug, Clone)]
pub struct ChainClient {
    pub(crate) client: RpcClient,
    url: String,
    pub retry: RetryPolicy,
    errors: Arc<ErrorCounters>,
}

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl ChainClient {
    /// A client for `url` (http or https) with the given per-request timeout.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, ChainError> {
        let parsed: reqwest::Url = url
            .parse()
            .map_err(|e| ChainError::local("connect", format!("bad RPC URL {url:?}: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| ChainError::local("connect", format!("HTTP client: {e}")))?;
        let client = RpcClient::new_http_with_client(http, parsed);
        Ok(ChainClient {
            client,
            url: url.to_owned(),
            retry: RetryPolicy::default(),
            errors: Arc::new(ErrorCounters::default()),
        })
    }

    /// The same client with another retry policy (counters shared).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Failed calls so far, by kind.
    pub fn error_counts(&self) -> Vec<(&'static str, u64)> {
        self.errors.snapshot()
    }

    /// One call, no retry.
    pub async fn call_once<P: RpcSend, R: RpcRecv>(
        &self,
        method: &'static str,
        params: P,
    ) -> Result<R, ChainError> {
        match self.client.request(method, params).await {
            Ok(r) => Ok(r),
            Err(e) => {
                let kind = classify(&e);
                self.errors.record(&kind);
                let mut message = e.to_string();
                if message.len() > 500 {
                    let mut cut = 500;
                    while !message.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    message.truncate(cut);
                }
                Err(ChainError {
                    kind,
                    method: method.to_owned(),
                    message,
                })
            }
        }
    }

    /// A call retried on transient errors per [`ChainClient::retry`].
    pub async fn call<P: RpcSend + Clone, R: RpcRecv>(
        &self,
        method: &'static str,
        params: P,
    ) -> Result<R, ChainError> {
        let mut attempt = 0u32;
        loop {
            match self.call_once(method, params.clone()).await {
                Ok(r) => return Ok(r),
                Err(e) if e.kind.is_transient() => {
                    if self.retry.max_attempts.is_some_and(|m| attempt + 1 >= m) {
                        return Err(e);
                    }
                    let d = self.retry.delay(attempt);
                    tracing::debug!(method, error = %e, delay_ms = d.as_millis() as u64, "retrying");
                    tokio::time::sleep(d).await;
                    attempt = attempt.saturating_add(1);
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub async fn chain_id(&self) -> Result<u64, ChainError> {
        let v: U64 = self.call("eth_chainId", ()).await?;
        Ok(v.to::<u64>())
    }

    pub async fn block_number(&self) -> Result<u64, ChainError> {
        let v: U64 = self.call("eth_blockNumber", ()).await?;
        Ok(v.to::<u64>())
    }

    /// A block by number (`None` if the node does not have it yet).
    pub async fn block(&self, number: u64) -> Result<Option<BlockHeader>, ChainError> {
        self.call(
            "eth_getBlockByNumber",
            (BlockTag::Number(number).json(), false),
        )
        .await
    }

    /// `eth_getTransactionReceipt` (retried on transient errors); `None` when the node does not
    /// know the transaction (yet).
    pub async fn tx_receipt(&self, tx: B256) -> Result<Option<TxReceipt>, ChainError> {
        self.call("eth_getTransactionReceipt", [tx]).await
    }

    /// The latest block.
    pub async fn latest_block(&self) -> Result<BlockHeader, ChainError> {
        let b: Option<BlockHeader> = self
            .call("eth_getBlockByNumber", (BlockTag::Latest.json(), false))
            .await?;
        b.ok_or_else(|| ChainError {
            kind: RpcErrorKind::BadResponse,
            method: "eth_getBlockByNumber".into(),
            message: "the node returned no latest block".into(),
        })
    }

    /// `eth_getLogs` of some contracts over `from..=to`, one attempt (the caller adapts the range).
    pub async fn logs_once(
        &self,
        addresses: &[Address],
        from: u64,
        to: u64,
    ) -> Result<Vec<RawLog>, ChainError> {
        let filter = LogFilter {
            address: addresses,
            from_block: U64::from(from),
            to_block: U64::from(to),
        };
        self.call_once("eth_getLogs", [filter]).await
    }

    /// `eth_call` of a typed contract function.
    pub async fn eth_call<C: SolCall>(
        &self,
        to: Address,
        call: &C,
        at: BlockTag,
    ) -> Result<C::Return, ChainError> {
        let req = CallRequest {
            to,
            data: Bytes::from(call.abi_encode()),
        };
        let out: Bytes = self
            .call(
                "eth_call",
                (
                    serde_json::to_value(req)
                        .map_err(|e| ChainError::local("eth_call", e.to_string()))?,
                    at.json(),
                ),
            )
            .await?;
        C::abi_decode_returns(&out).map_err(|e| ChainError {
            kind: RpcErrorKind::BadResponse,
            method: format!("eth_call {}", C::SIGNATURE),
            message: e.to_string(),
        })
    }

    /// Chain time (SPEC §6): the timestamp of the latest block.
    pub async fn chain_time(&self) -> Result<u64, ChainError> {
        Ok(self.latest_block().await?.timestamp())
    }

    /// The last block at or below `head` whose timestamp is strictly below `t` (binary search over
    /// block numbers; timestamps never decrease along a chain). `None` if even block 0 is not below `t`.
    pub async fn last_block_before(
        &self,
        t: u64,
        head: u64,
    ) -> Result<Option<BlockHeader>, ChainError> {
        let get = |n: u64| async move {
            self.block(n).await?.ok_or_else(|| ChainError {
                kind: RpcErrorKind::BadResponse,
                method: "eth_getBlockByNumber".into(),
                message: format!("block {n} not found"),
            })
        };
        let first = get(0).await?;
        if first.timestamp() >= t {
            return Ok(None);
        }
        let top = get(head).await?;
        if top.timestamp() < t {
            return Ok(Some(top));
        }
        // Invariant: ts(lo) < t <= ts(hi).
        let (mut lo, mut hi) = (first, top);
        while hi.number() - lo.number() > 1 {
            let mid = lo.number() + (hi.number() - lo.number()) / 2;
            let b = get(mid).await?;
            if b.timestamp() < t {
                lo = b;
            } else {
                hi = b;
            }
        }
        Ok(Some(lo))
    }

    /// The epoch seed block (SPEC §6): the last block below `start`, or block 0 if none.
    pub async fn seed_block(&self, start: u64, head: u64) -> Result<BlockHeader, ChainError> {
        match self.last_block_before(start, head).await? {
            Some(b) => Ok(b),
            None => self.block(0).await?.ok_or_else(|| ChainError {
                kind: RpcErrorKind::BadResponse,
                method: "eth_getBlockByNumber".into(),
                message: "block 0 not found".into(),
            }),
        }
    }

    /// `GENESIS_TIME()` of a LucidAnchors contract.
    pub async fn genesis_time(&self, anchors: Address) -> Result<u64, ChainError> {
        self.eth_call(
            anchors,
            &crate::bindings::ILucidAnchors::GENESIS_TIMECall {},
            BlockTag::Latest,
        )
        .await
    }

    /// OpenZeppelin `hasRole(role, account)` of any of the contracts.
    pub async fn has_role(
        &self,
        contract: Address,
        role: B256,
        account: Address,
    ) -> Result<bool, ChainError> {
        self.eth_call(
            contract,
            &crate::bindings::IAccessControl::hasRoleCall { role, account },
            BlockTag::Latest,
        )
        .await
    }
}

/// `keccak256(name)`, the OpenZeppelin role id of e.g. `ANCHORER_ROLE` (`DEFAULT_ADMIN_ROLE` is zero).
pub fn role_id(name: &str) -> B256 {
    if name == "DEFAULT_ADMIN_ROLE" {
        B256::ZERO
    } else {
        alloy_primitives::keccak256(name.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_provider_wordings() {
        let cases: &[(i64, &str, RpcErrorKind)] = &[
            (
                -32005,
                "query returned more than 10000 results. Try with this block range [0x1a, 0x2f].",
                RpcErrorKind::TooManyResults {
                    suggested: Some((0x1a, 0x2f)),
                },
            ),
            (
                -32602,
                "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the response size, or you can request any block range with a cap of 10K logs in the response. Based on your parameters, this block range should work: [0x10, 0x20]",
                RpcErrorKind::TooManyResults {
                    suggested: Some((0x10, 0x20)),
                },
            ),
            (
                -32005,
                "query returned more than 10000 results",
                RpcErrorKind::TooManyResults { suggested: None },
            ),
            (
                -32600,
                "eth_getLogs block range is too large, max 1000",
                RpcErrorKind::RangeTooLarge,
            ),
            (
                -32000,
                "exceed maximum block range: 5000",
                RpcErrorKind::RangeTooLarge,
            ),
            (-32000, "query timeout exceeded", RpcErrorKind::Timeout),
            (-32005, "rate limit exceeded", RpcErrorKind::RateLimited),
            (429, "Too Many Requests", RpcErrorKind::RateLimited),
            (3, "execution reverted", RpcErrorKind::Rpc { code: 3 }),
        ];
        for (code, msg, want) in cases {
            assert_eq!(classify_rpc_error(*code, msg), *want, "{msg}");
        }
        assert_eq!(suggested_range("try [0x5, 0x3]"), None);
        assert_eq!(suggested_range("no range"), None);
        assert_eq!(suggested_range("[12, 20]"), Some((12, 20)));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            initial: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_attempts: None,
        };
        assert!(p.delay(0) <= Duration::from_millis(100));
        assert!(p.delay(0) >= Duration::from_millis(75));
        assert!(p.delay(3) >= Duration::from_millis(600));
        assert!(p.delay(30) <= Duration::from_secs(2));
        assert!(p.delay(30) >= Duration::from_millis(1500));
    }

    #[test]
    fn kinds_have_distinct_labels() {
        let mut labels = RpcErrorKind::LABELS.to_vec();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), RpcErrorKind::LABELS.len());
        assert!(RpcErrorKind::Timeout.wants_smaller_range());
        assert!(!RpcErrorKind::Rpc { code: 3 }.is_transient());
    }

    #[test]
    fn role_ids() {
        assert_eq!(role_id("DEFAULT_ADMIN_ROLE"), B256::ZERO);
        assert_eq!(
            role_id("ANCHORER_ROLE"),
            alloy_primitives::keccak256(b"ANCHORER_ROLE")
        );
    }
}
