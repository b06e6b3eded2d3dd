//! The HTTP API: java-tron's endpoints, checks and JSON shapes, backed by the anvil.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State as AxState;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use lucid_payout::proto::TransactionRaw;
use lucid_payout::tron::TronAddress;
use lucid_payout::tx::{address_from_bytes21, raw_from_json, recover_signer, txid};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::evm::{Evm, RpcError, data, quantity};

/// Largest request body (java-tron's default `node.http.maxMessageSize` is 4 MiB; payout calls are
/// a few KiB).
const MAX_BODY: usize = 1 << 20;
/// java-tron's `MAXIMUM_TIME_UNTIL_EXPIRATION`: 24 h.
const MAX_EXPIRATION_AHEAD_MS: i64 = 86_400_000;
/// java-tron's maximum fee_limit (15,000 TRX).
const MAX_FEE_LIMIT: i64 = 15_000_000_000;
/// java-tron keeps the last 65,536 blocks for TaPoS.
const RECENT_BLOCKS: u64 = 65_536;
/// anvil's default block gas limit.
const BLOCK_GAS_LIMIT: u64 = 30_000_000;

/// Shared state.
#[derive(Debug)]
pub struct State {
    evm: Evm,
    solid_lag: u64,
    energy_price: u64,
    /// txid → anvil transaction hash of every accepted broadcast.
    known: Mutex<HashMap<[u8; 32], String>>,
    /// One broadcast at a time: checks and execution are atomic, like java-tron's push lock.
    broadcast_lock: Mutex<()>,
    impersonated: Mutex<HashSet<[u8; 20]>>,
    /// Answers the next broadcasts get instead of being processed (`/lucid/faults`, tests only).
    faults: Mutex<VecDeque<String>>,
}

impl State {
    /// New state.
    pub fn new(evm: Evm, solid_lag: u64, energy_price: u64) -> Arc<Self> {
        Arc::new(Self {
            evm,
            solid_lag,
            energy_price: energy_price.max(1),
            known: Mutex::new(HashMap::new()),
            broadcast_lock: Mutex::new(()),
            impersonated: Mutex::new(HashSet::new()),
            faults: Mutex::new(VecDeque::new()),
        })
    }
}

type S = Arc<State>;

/// The routes; `faults`: also serve `/lucid/faults` (tests: make the next broadcasts answer
/// `SERVER_BUSY` / `BLOCK_UNSOLIDIFIED` / … as a loaded java-tron node would).
pub fn router(state: S, faults: bool) -> Router {
    let r = if faults {
        Router::new().route("/lucid/faults", post(add_faults))
    } else {
        Router::new()
    };
    r.route("/wallet/getnowblock", get(now_block).post(now_block))
        .route(
            "/walletsolidity/getnowblock",
            get(solid_block).post(solid_block),
        )
        .route(
            "/wallet/getenergyprices",
            get(energy_prices).post(energy_prices),
        )
        .route("/wallet/triggerconstantcontract", post(trigger_constant))
        .route("/wallet/estimateenergy", post(estimate_energy))
        .route("/wallet/broadcasttransaction", post(broadcast))
        .route("/wallet/gettransactioninfobyid", post(info_head))
        .route("/walletsolidity/gettransactioninfobyid", post(info_solid))
        .route("/jsonrpc", post(jsonrpc))
        .fallback(not_found)
        .with_state(state)
}

// ---------- responses ----------

fn json_resp(status: StatusCode, v: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn ok(v: &Value) -> Response {
    json_resp(StatusCode::OK, v)
}

/// java-tron's `{"Error": "…"}` body, with a 4xx/5xx status.
fn error(status: StatusCode, msg: impl std::fmt::Display) -> Response {
    json_resp(status, &json!({"Error": msg.to_string()}))
}

fn upstream(e: &RpcError) -> Response {
    error(StatusCode::BAD_GATEWAY, format!("anvil: {e}"))
}

async fn not_found(uri: Uri) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "{} is not served by the local TRON stand-in",
            uri.path().chars().take(200).collect::<String>()
        ),
    )
}

async fn read_body(body: Body) -> Result<Vec<u8>, Response> {
    axum::body::to_bytes(body, MAX_BODY)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| {
            error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("body size is too big, the limit is {MAX_BODY}"),
            )
        })
}

async fn read_json(body: Body) -> Result<Value, Response> {
    let bytes = read_body(body).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("invalid JSON: {e}")))?;
    if !v.is_object() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "invalid JSON: expected an object",
        ));
    }
    Ok(v)
}

// ---------- blocks ----------

/// A block as the stand-in sees it.
#[derive(Debug, Clone)]
struct Block {
    number: u64,
    id: [u8; 32],
    parent_id: [u8; 32],
    timestamp_ms: i64,
    miner: String,
    tx_root: String,
}

/// TRON's block id: 8-byte big-endian number ‖ the last 24 bytes of the header hash.
fn block_id(number: u64, hash: &[u8]) -> [u8; 32] {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&number.to_be_bytes());
    if hash.len() == 32 {
        id[8..].copy_from_slice(&hash[8..]);
    }
    id
}

async fn block(st: &State, tag: Value) -> Result<Option<Block>, RpcError> {
    let b = st
        .evm
        .call("eth_getBlockByNumber", json!([tag, false]))
        .await?;
    if b.is_null() {
        return Ok(None);
    }
    let bad = |what: &str| RpcError {
        code: 0,
        message: format!("block without {what}"),
        data: None,
    };
    let number = quantity(&b["number"]).ok_or_else(|| bad("number"))?;
    let hash = data(&b["hash"]).ok_or_else(|| bad("hash"))?;
    let parent = data(&b["parentHash"]).ok_or_else(|| bad("parentHash"))?;
    let ts = quantity(&b["timestamp"]).ok_or_else(|| bad("timestamp"))?;
    Ok(Some(Block {
        number,
        id: block_id(number, &hash),
        parent_id: if number == 0 {
            [0u8; 32]
        } else {
            block_id(number - 1, &parent)
        },
        timestamp_ms: i64::try_from(ts).unwrap_or(i64::MAX / 1000) * 1000,
        miner: b["miner"]
            .as_str()
            .unwrap_or("0x0000000000000000000000000000000000000000")
            .trim_start_matches("0x")
            .to_lowercase(),
        tx_root: b["transactionsRoot"]
            .as_str()
            .unwrap_or("")
            .trim_start_matches("0x")
            .to_string(),
    }))
}

async fn head(st: &State) -> Result<Block, RpcError> {
    block(st, json!("latest")).await?.ok_or(RpcError {
        code: 0,
        message: "no latest block".into(),
        data: None,
    })
}

async fn solid(st: &State) -> Result<Block, RpcError> {
    let h = head(st).await?;
    let n = h.number.saturating_sub(st.solid_lag);
    block(st, json!(format!("0x{n:x}"))).await?.ok_or(RpcError {
        code: 0,
        message: format!("no block {n}"),
        data: None,
    })
}

fn block_json(b: &Block) -> Value {
    json!({
        "blockID": hex::encode(b.id),
        "block_header": {
            "raw_data": {
                "number": b.number,
                "txTrieRoot": b.tx_root,
                "witness_address": format!("41{}", b.miner),
                "parentHash": hex::encode(b.parent_id),
                "version": 32,
                "timestamp": b.timestamp_ms,
            }
        }
    })
}

fn block_string(b: &Block) -> String {
    format!("Num:{},ID:{}", b.number, hex::encode(b.id))
}

async fn now_block(AxState(st): AxState<S>) -> Response {
    match head(&st).await {
        Ok(b) => ok(&block_json(&b)),
        Err(e) => upstream(&e),
    }
}

async fn solid_block(AxState(st): AxState<S>) -> Response {
    match solid(&st).await {
        Ok(b) => ok(&block_json(&b)),
        Err(e) => upstream(&e),
    }
}

async fn energy_prices(AxState(st): AxState<S>) -> Response {
    ok(&json!({"prices": format!("0:{}", st.energy_price)}))
}

// ---------- constant calls ----------

struct CallReq {
    owner: TronAddress,
    contract: TronAddress,
    data: Vec<u8>,
    call_value: u64,
}

fn parse_address(v: &Value, field: &str, visible: bool) -> Result<TronAddress, String> {
    let s = v
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{field} is required"))?;
    let parsed = if visible {
        TronAddress::decode(s)
    } else {
        TronAddress::from_hex41(s)
    };
    parsed.map_err(|e| format!("invalid {field}: {e}"))
}

fn parse_call(v: &Value) -> Result<CallReq, String> {
    let visible = v.get("visible").and_then(Value::as_bool).unwrap_or(false);
    let owner = parse_address(v, "owner_address", visible)?;
    let contract = parse_address(v, "contract_address", visible)?;
    let data = match v.get("function_selector").and_then(Value::as_str) {
        Some(sel) if !sel.is_empty() => {
            let mut d = alloy_primitives::keccak256(sel.as_bytes())[..4].to_vec();
            let p = v.get("parameter").and_then(Value::as_str).unwrap_or("");
            d.extend(hex::decode(p).map_err(|e| format!("invalid parameter: {e}"))?);
            d
        }
        _ => match v.get("data").and_then(Value::as_str) {
            Some(s) => hex::decode(s).map_err(|e| format!("invalid data: {e}"))?,
            None => Vec::new(),
        },
    };
    let call_value = match v.get("call_value") {
        None | Some(Value::Null) => 0,
        Some(x) => x
            .as_u64()
            .ok_or_else(|| "call_value must be a non-negative integer".to_string())?,
    };
    Ok(CallReq {
        owner,
        contract,
        data,
        call_value,
    })
}

fn eth_call_obj(c: &CallReq) -> Value {
    json!({
        "from": format!("0x{}", hex::encode(c.owner.0)),
        "to": format!("0x{}", hex::encode(c.contract.0)),
        "data": format!("0x{}", hex::encode(&c.data)),
        "value": format!("0x{:x}", c.call_value),
    })
}

/// Revert data of a failed `eth_call` / `eth_estimateGas` (anvil: code 3, `data` = revert bytes).
fn revert_data(e: &RpcError) -> Option<Vec<u8>> {
    if e.code == 3 || e.message.contains("revert") {
        Some(e.data.as_ref().and_then(data).unwrap_or_default())
    } else {
        None
    }
}

async fn trigger_constant(AxState(st): AxState<S>, body: Body) -> Response {
    let v = match read_json(body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let c = match parse_call(&v) {
        Ok(c) => c,
        Err(m) => {
            return json_resp(
                StatusCode::BAD_REQUEST,
                &json!({"result": {"code": "CONTRACT_VALIDATE_ERROR", "message": hex::encode(m)}}),
            );
        }
    };
    let call = eth_call_obj(&c);
    match st.evm.call("eth_call", json!([call, "latest"])).await {
        Ok(out) => {
            let energy = st
                .evm
                .call("eth_estimateGas", json!([call, "latest"]))
                .await
                .ok()
                .and_then(|g| quantity(&g))
                .unwrap_or(0);
            ok(&json!({
                "result": {"result": true},
                "energy_used": energy,
                "constant_result": [hex::encode(data(&out).unwrap_or_default())],
                "transaction": {"ret": [{}], "visible": false},
            }))
        }
        Err(e) => match revert_data(&e) {
            Some(d) => ok(&json!({
                "result": {"result": true, "message": hex::encode("REVERT opcode executed")},
                "energy_used": 0,
                "constant_result": [hex::encode(d)],
                "transaction": {"ret": [{"ret": "FAILED"}], "visible": false},
            })),
            None => upstream(&e),
        },
    }
}

async fn estimate_energy(AxState(st): AxState<S>, body: Body) -> Response {
    let v = match read_json(body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let c = match parse_call(&v) {
        Ok(c) => c,
        Err(m) => {
            return json_resp(
                StatusCode::BAD_REQUEST,
                &json!({"result": {"code": "CONTRACT_VALIDATE_ERROR", "message": hex::encode(m)}}),
            );
        }
    };
    match st
        .evm
        .call("eth_estimateGas", json!([eth_call_obj(&c), "latest"]))
        .await
    {
        Ok(g) => ok(&json!({
            "result": {"result": true},
            "energy_required": quantity(&g).unwrap_or(0),
        })),
        Err(e) => match revert_data(&e) {
            Some(_) => ok(&json!({
                "result": {"code": "CONTRACT_EXE_ERROR", "message": hex::encode("REVERT opcode executed")}
            })),
            None => upstream(&e),
        },
    }
}

// ---------- broadcast ----------

fn refused(code: &str, txid: &[u8; 32], message: &str) -> Response {
    ok(&json!({"code": code, "txid": hex::encode(txid), "message": hex::encode(message)}))
}

/// EVM intrinsic gas upper bound (EIP-2028 and the EIP-7623 floor), so a tiny fee_limit still
/// executes and runs out of energy inside the call, as on TRON, instead of being refused.
fn intrinsic_gas(data: &[u8]) -> u64 {
    let zeros = data.iter().filter(|b| **b == 0).count() as u64;
    let nonzeros = data.len() as u64 - zeros;
    21_000 + (4 * zeros + 16 * nonzeros).max(10 * zeros + 40 * nonzeros)
}

async fn broadcast(AxState(st): AxState<S>, body: Body) -> Response {
    let v = match read_json(body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    // java-tron re-encodes the JSON `raw_data`; `raw_data_hex` and `txID` are not read.
    let raw = match v.get("raw_data").map(raw_from_json) {
        Some(Ok(raw)) => raw,
        Some(Err(e)) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("cannot parse raw_data: {e}"),
            );
        }
        None => return error(StatusCode::BAD_REQUEST, "raw_data is required"),
    };
    let mut sigs = Vec::new();
    for s in v
        .get("signature")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match s.as_str().map(hex::decode) {
            Some(Ok(b)) => sigs.push(b),
            _ => return error(StatusCode::BAD_REQUEST, "signature: expected hex strings"),
        }
    }
    let raw_bytes = raw.to_bytes();
    let id = txid(&raw_bytes);
    let _guard = st.broadcast_lock.lock().await;
    if let Some(code) = st.faults.lock().await.pop_front() {
        let msg = match code.as_str() {
            "SERVER_BUSY" => "Server busy.",
            "BLOCK_UNSOLIDIFIED" => "Block unsolidified.",
            "NO_CONNECTION" => "No connection.",
            _ => "injected by the local TRON stand-in",
        };
        return ok(&json!({"code": code, "txid": hex::encode(id), "message": hex::encode(msg)}));
    }
    match check_and_execute(&st, &raw, &raw_bytes, &id, &sigs).await {
        Ok(()) => ok(&json!({"result": true, "txid": hex::encode(id)})),
        Err(Refusal::Code(code, msg)) => {
            tracing::info!(txid = %hex::encode(id), code, msg = %msg, "broadcast refused");
            refused(code, &id, &msg)
        }
        Err(Refusal::Upstream(e)) => upstream(&e),
    }
}

enum Refusal {
    Code(&'static str, String),
    Upstream(RpcError),
}

impl From<RpcError> for Refusal {
    fn from(e: RpcError) -> Self {
        Self::Upstream(e)
    }
}

/// java-tron's order: contract count, TaPoS, expiration (and size), duplicates, signature, then
/// the contract's own validation and execution.
async fn check_and_execute(
    st: &State,
    raw: &TransactionRaw,
    raw_bytes: &[u8],
    id: &[u8; 32],
    sigs: &[Vec<u8>],
) -> Result<(), Refusal> {
    let Some(trigger) = raw.trigger() else {
        return Err(Refusal::Code(
            "CONTRACT_VALIDATE_ERROR",
            "Contract validate error : the local TRON stand-in executes exactly one TriggerSmartContract".into(),
        ));
    };
    let h = head(st).await?;
    // TaPoS.
    let tapos_fail =
        |detail: String| Refusal::Code("TAPOS_ERROR", format!("Tapos check error. ({detail})"));
    if raw.ref_block_bytes.len() != 2 || raw.ref_block_hash.len() != 8 {
        return Err(tapos_fail(format!(
            "Tapos failed, ref_block_bytes is {} bytes and ref_block_hash {} bytes",
            raw.ref_block_bytes.len(),
            raw.ref_block_hash.len()
        )));
    }
    let low = u64::from(u16::from_be_bytes([
        raw.ref_block_bytes[0],
        raw.ref_block_bytes[1],
    ]));
    let mut n = (h.number & !0xffff) | low;
    if n > h.number {
        n = n.wrapping_sub(RECENT_BLOCKS);
    }
    let sb = solid(st).await?;
    let found = if n <= h.number {
        block(st, json!(format!("0x{n:x}"))).await?
    } else {
        None
    };
    match found {
        None => {
            return Err(tapos_fail(format!(
                "Tapos failed, block not found, ref block {low}, {} , solid block {} head block {}",
                hex::encode(&raw.ref_block_hash),
                block_string(&sb),
                block_string(&h)
            )));
        }
        Some(b) if b.id[8..16] != raw.ref_block_hash[..] => {
            return Err(tapos_fail(format!(
                "Tapos failed, different block hash, {low}, {} , recent block {}, solid block {} head block {}",
                hex::encode(&raw.ref_block_hash),
                hex::encode(&b.id[8..16]),
                block_string(&sb),
                block_string(&h)
            )));
        }
        Some(_) => {}
    }
    // Expiration.
    if raw.expiration <= h.timestamp_ms || raw.expiration > h.timestamp_ms + MAX_EXPIRATION_AHEAD_MS
    {
        return Err(Refusal::Code(
            "TRANSACTION_EXPIRATION_ERROR",
            format!(
                "Transaction expired (Transaction expiration, transaction expiration time is {}, but headBlockTime is {})",
                raw.expiration, h.timestamp_ms
            ),
        ));
    }
    // Duplicates.
    if st.known.lock().await.contains_key(id) {
        return Err(Refusal::Code(
            "DUP_TRANSACTION_ERROR",
            "Dup transaction.".into(),
        ));
    }
    // Signature.
    let owner = address_from_bytes21(&trigger.owner_address);
    let Some(sig) = sigs.first() else {
        return Err(Refusal::Code(
            "SIGERROR",
            "Validate signature error: miss sig or contract".into(),
        ));
    };
    if sigs.len() > 1 {
        return Err(Refusal::Code(
            "SIGERROR",
            format!(
                "Validate signature error: Signature count is {} more than key counts of permission : 1",
                sigs.len()
            ),
        ));
    }
    if sig.len() < 65 {
        return Err(Refusal::Code(
            "SIGERROR",
            format!("Validate signature error: Signature size is {}", sig.len()),
        ));
    }
    let signer = recover_signer(id, &sig[..65])
        .map_err(|e| Refusal::Code("SIGERROR", format!("Validate signature error: {e}")))?;
    let Some(owner) = owner.filter(|o| *o == signer) else {
        return Err(Refusal::Code(
            "SIGERROR",
            format!(
                "Validate signature error: {} is signed by {} but it is not contained of permission.",
                hex::encode(sig),
                signer
            ),
        ));
    };
    // The contract's own validation.
    let contract = address_from_bytes21(&trigger.contract_address).ok_or_else(|| {
        Refusal::Code(
            "CONTRACT_VALIDATE_ERROR",
            "Contract validate error : Invalid contract address".into(),
        )
    })?;
    if raw.fee_limit < 0 || raw.fee_limit > MAX_FEE_LIMIT {
        return Err(Refusal::Code(
            "CONTRACT_VALIDATE_ERROR",
            format!("Contract validate error : feeLimit must be >= 0 and <= {MAX_FEE_LIMIT}"),
        ));
    }
    if trigger.call_value < 0 || trigger.call_token_value != 0 || trigger.token_id != 0 {
        return Err(Refusal::Code(
            "CONTRACT_VALIDATE_ERROR",
            "Contract validate error : callValue must be >= 0 and TRC-10 values are not modelled"
                .into(),
        ));
    }
    let code = st
        .evm
        .call(
            "eth_getCode",
            json!([format!("0x{}", hex::encode(contract.0)), "latest"]),
        )
        .await?;
    if data(&code).unwrap_or_default().is_empty() {
        return Err(Refusal::Code(
            "CONTRACT_VALIDATE_ERROR",
            "Contract validate error : No contract or not a smart contract".into(),
        ));
    }
    // Execute as the signer.
    let from = format!("0x{}", hex::encode(owner.0));
    if st.impersonated.lock().await.insert(owner.0) {
        st.evm
            .call("anvil_impersonateAccount", json!([from]))
            .await?;
    }
    let bal = st
        .evm
        .call("eth_getBalance", json!([from, "latest"]))
        .await?;
    // A balance that fits in a u64 is below 18.4 ETH: top it up.
    if quantity(&bal).is_some() {
        // Gas on anvil is not TRON's energy: keep the signer able to pay it.
        st.evm
            .call("anvil_setBalance", json!([from, "0x3635c9adc5dea00000000"]))
            .await?;
    }
    let energy_limit = u64::try_from(raw.fee_limit).unwrap_or(0) / st.energy_price;
    let gas = (intrinsic_gas(&trigger.data) + energy_limit).min(BLOCK_GAS_LIMIT);
    let tx = json!({
        "from": from,
        "to": format!("0x{}", hex::encode(contract.0)),
        "data": format!("0x{}", hex::encode(&trigger.data)),
        "value": format!("0x{:x}", trigger.call_value),
        "gas": format!("0x{gas:x}"),
    });
    let hash = st
        .evm
        .call("eth_sendTransaction", json!([tx]))
        .await
        .map_err(|e| Refusal::Code("OTHER_ERROR", format!("Error: {e}")))?;
    let hash = hash.as_str().unwrap_or_default().to_string();
    tracing::info!(txid = %hex::encode(id), evm_tx = %hash, bytes = raw_bytes.len(), "executed");
    st.known.lock().await.insert(*id, hash);
    Ok(())
}

// ---------- fault injection (tests) ----------

async fn add_faults(AxState(st): AxState<S>, body: Body) -> Response {
    let v = match read_json(body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(codes) = v.get("broadcast").and_then(Value::as_array) else {
        return error(
            StatusCode::BAD_REQUEST,
            "broadcast: expected an array of codes",
        );
    };
    let mut q = st.faults.lock().await;
    for c in codes {
        match c.as_str() {
            Some(c) if c.len() <= 64 && c.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') => {
                q.push_back(c.to_string());
            }
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "codes are java-tron names like SERVER_BUSY",
                );
            }
        }
    }
    ok(&json!({"queued": q.len()}))
}

// ---------- transaction info ----------

async fn info_head(AxState(st): AxState<S>, body: Body) -> Response {
    info(st, body, false).await
}

async fn info_solid(AxState(st): AxState<S>, body: Body) -> Response {
    info(st, body, true).await
}

async fn info(st: S, body: Body, solidified: bool) -> Response {
    let v = match read_json(body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id: [u8; 32] = match v
        .get("value")
        .and_then(Value::as_str)
        .and_then(|s| hex::decode(s).ok())
        .and_then(|b| b.try_into().ok())
    {
        Some(id) => id,
        None => {
            return error(
                StatusCode::BAD_REQUEST,
                "value must be a transaction id (64 hex digits)",
            );
        }
    };
    let Some(hash) = st.known.lock().await.get(&id).cloned() else {
        return ok(&json!({}));
    };
    match tx_info(&st, &id, &hash, solidified).await {
        Ok(v) => ok(&v),
        Err(e) => upstream(&e),
    }
}

async fn tx_info(
    st: &State,
    id: &[u8; 32],
    hash: &str,
    solidified: bool,
) -> Result<Value, RpcError> {
    let r = st
        .evm
        .call("eth_getTransactionReceipt", json!([hash]))
        .await?;
    if r.is_null() {
        return Ok(json!({}));
    }
    let number = quantity(&r["blockNumber"]).unwrap_or(0);
    if solidified && number > solid(st).await?.number {
        return Ok(json!({}));
    }
    let b = block(st, json!(format!("0x{number:x}"))).await?;
    let used = quantity(&r["gasUsed"]).unwrap_or(0);
    let success = quantity(&r["status"]) == Some(1);
    let trace = st
        .evm
        .call(
            "debug_traceTransaction",
            json!([hash, {"tracer": "callTracer"}]),
        )
        .await
        .unwrap_or(Value::Null);
    let output = data(&trace["output"]).unwrap_or_default();
    let err = trace["error"].as_str().unwrap_or("").to_lowercase();
    let to = r["to"]
        .as_str()
        .unwrap_or("")
        .trim_start_matches("0x")
        .to_lowercase();
    let logs: Vec<Value> = r["logs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let mut o = json!({
                "address": l["address"].as_str().unwrap_or("").trim_start_matches("0x").to_lowercase(),
                "topics": l["topics"].as_array().into_iter().flatten()
                    .map(|t| Value::String(t.as_str().unwrap_or("").trim_start_matches("0x").to_string()))
                    .collect::<Vec<_>>(),
            });
            let d = l["data"].as_str().unwrap_or("0x").trim_start_matches("0x");
            if !d.is_empty() {
                o["data"] = Value::String(d.to_string());
            }
            o
        })
        .collect();
    let fee = used.saturating_mul(st.energy_price);
    let mut out = json!({
        "id": hex::encode(id),
        "fee": fee,
        "blockNumber": number,
        "blockTimeStamp": b.map(|b| b.timestamp_ms).unwrap_or(0),
        "contractResult": [hex::encode(&output)],
        "contract_address": format!("41{to}"),
        "receipt": {"energy_fee": fee, "energy_usage_total": used},
    });
    if !logs.is_empty() {
        out["log"] = Value::Array(logs);
    }
    let result = if success {
        "SUCCESS"
    } else if err.contains("gas") {
        out["result"] = json!("FAILED");
        out["resMessage"] = json!(hex::encode("Not enough energy"));
        "OUT_OF_ENERGY"
    } else {
        out["result"] = json!("FAILED");
        out["resMessage"] = json!(hex::encode("REVERT opcode executed"));
        "REVERT"
    };
    out["receipt"]["result"] = json!(result);
    Ok(out)
}

// ---------- /jsonrpc ----------

async fn jsonrpc(AxState(st): AxState<S>, body: Body) -> Response {
    let bytes = match read_body(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match st.evm.raw(bytes).await {
        Ok((status, body)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Err(e) => upstream(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_gas() {
        let hash: Vec<u8> = (0u8..32).collect();
        let id = block_id(0x0102, &hash);
        assert_eq!(&id[..8], &0x0102u64.to_be_bytes());
        assert_eq!(&id[8..], &hash[8..]);
        assert_eq!(intrinsic_gas(&[]), 21_000);
        assert_eq!(intrinsic_gas(&[0, 1]), 21_000 + 50);
    }
}
