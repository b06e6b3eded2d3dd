//! The HTTP API: health, readiness, status, metrics and read-only views of the store.
//!
//! Every error is JSON `{"error":{"code","message"}}`: 400 for bad input, 404 for unknown things or
//! routes, 405 for a wrong method; never a 5xx for anything a client sends. Lists are limited
//! (default 100, capped at 1,000) and paged by keyset cursors, stable while rows are inserted.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use alloy_primitives::{Address, B256};
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lucid_core::merkle::MerkleTree;
use lucid_core::models::{Chunk, Session, SessionStatus};
use lucid_store::{EventQuery, Params, SessionQuery, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::cache::{Cached, ResponseCache};
use crate::status::{ReorgInfo, Status};

/// Most items one list request returns.
pub const MAX_LIMIT: u32 = 1000;
/// Items a list returns when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 100;

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub status: Status,
    /// Every event name the decoder knows (`/v1/events?event=` must be one).
    pub event_names: Vec<String>,
    /// SPEC §1 parameters (slot results need the genesis time and slot length).
    pub params: Params,
    /// Answers of the by-id reads (sessions, their chunks and proofs).
    pub cache: ResponseCache,
}

// ---------- errors ----------

/// `{"error":{"code","message"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable: `bad_request`, `not_found`, `method_not_allowed`, `not_ready`, `internal`.
    pub code: String,
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub fn bad(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: message.into(),
        }
    }
}

impl ApiError {
    fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
            },
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(m) => ApiError::bad(m),
            other => {
                tracing::error!(error = %other, "store read failed");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal",
                    message: "the store failed to answer; see the indexer's log".into(),
                }
            }
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        ApiError::bad(format!("bad query string: {}", e.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        ApiError::bad(format!("bad path parameter: {}", e.body_text()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

// ---------- input parsing ----------

fn parse_limit(limit: Option<&str>) -> ApiResult<u32> {
    match limit {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(s) => match s.parse::<u64>() {
            Ok(0) => Err(ApiError::bad("limit must be at least 1")),
            Ok(n) => Ok(u32::try_from(n.min(u64::from(MAX_LIMIT))).unwrap_or(MAX_LIMIT)),
            Err(_) => Err(ApiError::bad(format!(
                "limit must be a positive integer, got {s:?}"
            ))),
        },
    }
}

fn parse_u64(name: &str, v: Option<&str>) -> ApiResult<Option<u64>> {
    match v {
        None | Some("") => Ok(None),
        Some(s) => s.parse::<u64>().map(Some).map_err(|_| {
            ApiError::bad(format!("{name} must be a non-negative integer, got {s:?}"))
        }),
    }
}

fn parse_address(name: &str, s: &str) -> ApiResult<Address> {
    lucid_core::address::parse_address(s)
        .map_err(|e| ApiError::bad(format!("{name} is not an address: {e}")))
}

fn lower(a: &Address) -> String {
    lucid_core::address::to_lower_hex(a)
}

/// A session id: UUID text, or its bytes32 form (16 bytes then 16 zero bytes).
/// The `{id}` path parameter of the session routes, as the store's session key.
fn session_id_param(id: Result<Path<String>, PathRejection>) -> ApiResult<String> {
    id.map_err(ApiError::from)
        .and_then(|Path(id)| parse_session_id(&id))
}

fn parse_session_id(s: &str) -> ApiResult<String> {
    if let Ok(u) = uuid::Uuid::parse_str(s)
        && s.len() == 36
    {
        return Ok(u.hyphenated().to_string());
    }
    if let Ok(b) = s.parse::<B256>()
        && s.starts_with("0x")
        && let Ok(id) = lucid_core::session::SessionId::from_bytes32(&b)
    {
        return Ok(id.0.hyphenated().to_string());
    }
    Err(ApiError::bad(format!(
        "session id must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) or its bytes32 form, got {:?}",
        truncate(s)
    )))
}

fn truncate(s: &str) -> String {
    if s.len() <= 80 {
        s.to_owned()
    } else {
        let mut cut = 80;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &s[..cut])
    }
}

/// A TRON `T…` base58check address or an EVM `0x…` address, as the EVM address.
fn parse_recipient(s: &str) -> ApiResult<Address> {
    if s.starts_with('T') {
        let bytes = bs58::decode(s)
            .into_vec()
            .map_err(|e| ApiError::bad(format!("recipient is not base58: {e}")))?;
        if bytes.len() != 25 || bytes[0] != 0x41 {
            return Err(ApiError::bad(
                "recipient is not a TRON address (T…, 0x41 prefix, 25 bytes)",
            ));
        }
        use sha2::Digest;
        let check = sha2::Sha256::digest(sha2::Sha256::digest(&bytes[..21]));
        if check[..4] != bytes[21..] {
            return Err(ApiError::bad("recipient: bad TRON address checksum"));
        }
        return Ok(Address::from_slice(&bytes[1..21]));
    }
    parse_address("recipient", s)
}

// ---------- documents ----------

/// The exact `SessionAnchor` struct to pass to `verifyChunk` / `registerChunk(s)`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionAnchorView {
    /// bytes32: the 16 UUID bytes then 16 zero bytes.
    pub session_id: String,
    pub manifest_hash: String,
    pub merkle_root: String,
    pub owner: String,
    pub started_at: u64,
    pub chunk_count: u32,
}

/// How a session was anchored (null while pending).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnchoringView {
    pub slot: Option<u64>,
    pub tx_hash: Option<String>,
    pub block_number: Option<u64>,
    pub block_hash: Option<String>,
    /// Gas per session of the anchoring transaction: its receipt's `gasUsed` divided (integer
    /// division) by the number of sessions it registered (`SessionRegistered` events); null when
    /// the indexer has not read the receipt. Same value as the session's `gas_used`.
    pub gas_used: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// The `sessions` document (SPEC §5 shape). Its `gas_used` is the gas per session of the
    /// anchoring transaction: the receipt's `gasUsed` divided (integer division) by the number of
    /// sessions that transaction registered; null while pending or before the receipt was read.
    #[schema(value_type = Object)]
    pub session: Session,
    pub anchoring: Option<AnchoringView>,
    pub session_anchor: SessionAnchorView,
    /// `session_anchor` as the ABI tuple, in struct order.
    #[schema(value_type = Vec<Object>)]
    pub session_anchor_tuple: Value,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionPage {
    /// `sessions` documents (SPEC §5 shape), newest first.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Value>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChunkList {
    /// `chunks` documents (SPEC §5) by index, with their storers.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Chunk>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChunkProofView {
    pub session_id: String,
    pub index: u32,
    pub chunk_hash: String,
    pub size: u64,
    pub leaf: String,
    pub merkle_root: String,
    pub proof: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SlotList {
    /// `leader_schedule` documents (plan and result) by slot.
    #[schema(value_type = Vec<Object>)]
    pub items: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TallyView {
    pub epoch: u64,
    /// `work_tally` rows: ranked by rank, then the others by entityId.
    #[schema(value_type = Vec<Object>)]
    pub rows: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutList {
    pub recipient: String,
    /// `payouts` documents by period then id.
    #[schema(value_type = Vec<Object>)]
    pub items: Value,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    /// `events` documents ordered by chain, block, log index.
    #[schema(value_type = Vec<Object>)]
    pub items: Value,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChainStatusView {
    pub chain_id: u64,
    /// `onsystem` or `payment`.
    pub role: String,
    pub head: Option<u64>,
    pub checkpoint: Option<u64>,
    pub lag: Option<u64>,
    pub confirmations: u64,
    pub events_indexed: u64,
    pub blocks_indexed: u64,
    pub reorgs: u64,
    pub last_reorg: Option<ReorgInfo>,
    pub halted: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusView {
    pub chains: Vec<ChainStatusView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    pub ready: bool,
    pub reasons: Vec<String>,
}

// ---------- query parameters ----------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionsQuery {
    /// The owner's EVM address.
    pub owner: Option<String>,
    /// `pending`, `anchored` or `conflict`.
    pub status: Option<String>,
    /// 1–1,000 (larger values are capped); default 100.
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotsQuery {
    /// First slot (inclusive).
    pub from: Option<String>,
    /// Last slot (inclusive); at most 1,000 slots per request.
    pub to: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PayoutsQuery {
    /// `T…` (TRON) or `0x…` (EVM) address.
    pub recipient: Option<String>,
    /// `year × 12 + month − 1`.
    pub period: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct EventsQuery {
    pub chain_id: Option<String>,
    /// Event name, e.g. `SessionRegistered`.
    pub event: Option<String>,
    pub from_block: Option<String>,
    pub to_block: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

// ---------- handlers ----------

#[utoipa::path(get, path = "/health", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

#[utoipa::path(get, path = "/ready", responses(
    (status = 200, body = Readiness, description = "every chain is within its confirmations of the head"),
    (status = 503, body = Readiness, description = "a chain lags, is unreachable or halted")))]
async fn ready(State(st): State<Arc<AppState>>) -> Response {
    match st.status.readiness() {
        Ok(()) => Json(Readiness {
            ready: true,
            reasons: vec![],
        })
        .into_response(),
        Err(reasons) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Readiness {
                ready: false,
                reasons,
            }),
        )
            .into_response(),
    }
}

#[utoipa::path(get, path = "/v1/status", responses((status = 200, body = StatusView)))]
async fn status(State(st): State<Arc<AppState>>) -> Json<StatusView> {
    let chains = st
        .status
        .chains()
        .into_iter()
        .map(|c| ChainStatusView {
            chain_id: c.chain_id,
            role: c.role.to_owned(),
            head: c.head,
            checkpoint: c.checkpoint,
            lag: c.head.map(|h| h.saturating_sub(c.checkpoint.unwrap_or(0))),
            confirmations: c.confirmations,
            events_indexed: c.events_indexed,
            blocks_indexed: c.blocks_indexed,
            reorgs: c.reorgs,
            last_reorg: c.last_reorg,
            halted: c.halted,
            last_error: c.last_error,
        })
        .collect();
    Json(StatusView { chains })
}

#[utoipa::path(get, path = "/metrics", responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        st.status.prometheus() + &st.cache.prometheus(),
    )
        .into_response()
}

fn session_anchor(s: &Session) -> ApiResult<(SessionAnchorView, Value)> {
    let sid = uuid::Uuid::parse_str(&s.id)
        .map(|u| lucid_core::session::SessionId(u).to_bytes32())
        .map_err(|e| ApiError::bad(format!("stored session id {:?} is not a UUID: {e}", s.id)))?;
    let v = SessionAnchorView {
        session_id: lucid_chain::events::hex0x(sid),
        manifest_hash: lucid_chain::events::hex0x(s.manifest_hash),
        merkle_root: lucid_chain::events::hex0x(s.merkle_root),
        owner: lower(&s.owner_addr),
        started_at: s.started_at,
        chunk_count: s.chunk_count,
    };
    let tuple = json!([
        v.session_id,
        v.manifest_hash,
        v.merkle_root,
        v.owner,
        v.started_at,
        v.chunk_count
    ]);
    Ok((v, tuple))
}

fn to_value<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

#[utoipa::path(get, path = "/v1/sessions/{id}",
    params(("id" = String, Path, description = "session UUID or its bytes32 form")),
    responses((status = 200, body = SessionView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn session(
    State(st): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = match session_id_param(id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    cached(&st, format!("s/{id}"), || session_view(&st, id)).await
}

/// A by-id read through the response cache: 200 and 404 answers are kept (see [`crate::cache`]).
async fn cached<T: Serialize, F: Future<Output = ApiResult<T>>>(
    st: &AppState,
    key: String,
    load: impl FnOnce() -> F,
) -> Response {
    let stamp = match st.cache.lookup(&key) {
        Ok(hit) => return json_bytes(hit.status, hit.body),
        Err(stamp) => stamp,
    };
    let (status, body) = match load().await {
        Ok(v) => match serde_json::to_vec(&v) {
            Ok(b) => (StatusCode::OK, Bytes::from(b)),
            Err(e) => {
                tracing::error!(error = %e, "response not serializable");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        },
        Err(e) if e.status == StatusCode::NOT_FOUND => match serde_json::to_vec(&e.body()) {
            Ok(b) => (StatusCode::NOT_FOUND, Bytes::from(b)),
            Err(_) => return e.into_response(),
        },
        Err(e) => return e.into_response(),
    };
    if let Some(stamp) = stamp {
        st.cache.insert(
            key,
            stamp,
            Cached {
                status,
                body: body.clone(),
            },
        );
    }
    json_bytes(status, body)
}

fn json_bytes(status: StatusCode, body: Bytes) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

async fn session_view(st: &AppState, id: String) -> ApiResult<SessionView> {
    let s = st
        .store
        .session(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no session {id}")))?;
    let (anchor, tuple) = session_anchor(&s)?;
    let anchoring = (s.status == SessionStatus::Anchored).then(|| AnchoringView {
        slot: s.slot,
        tx_hash: s.anchor_txid.map(lucid_chain::events::hex0x),
        block_number: s.block_number,
        block_hash: s.block_hash.map(lucid_chain::events::hex0x),
        gas_used: s.gas_used,
    });
    Ok(SessionView {
        session: s,
        anchoring,
        session_anchor: anchor,
        session_anchor_tuple: tuple,
    })
}

#[utoipa::path(get, path = "/v1/sessions", params(SessionsQuery),
    responses((status = 200, body = SessionPage), (status = 400, body = ErrorBody)))]
async fn sessions(
    State(st): State<Arc<AppState>>,
    q: Result<Query<SessionsQuery>, QueryRejection>,
) -> ApiResult<Json<SessionPage>> {
    let Query(q) = q?;
    let owner = match q.owner.as_deref() {
        None | Some("") => None,
        Some(o) => Some(parse_address("owner", o)?),
    };
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(SessionStatus::parse(s).ok_or_else(|| {
            ApiError::bad(format!(
                "status must be pending, anchored or conflict, got {:?}",
                truncate(s)
            ))
        })?),
    };
    let limit = parse_limit(q.limit.as_deref())?;
    let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
    let page = st
        .store
        .sessions(&SessionQuery { owner, status }, cursor, limit)
        .await?;
    Ok(Json(SessionPage {
        items: page.items.iter().map(to_value).collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/v1/sessions/{id}/chunks",
    params(("id" = String, Path, description = "session UUID or its bytes32 form")),
    responses((status = 200, body = ChunkList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn session_chunks(
    State(st): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = match session_id_param(id) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    cached(&st, format!("c/{id}"), || async {
        let chunks = st.store.chunks_of_session(&id).await?;
        if chunks.is_empty() && st.store.session(&id).await?.is_none() {
            return Err(ApiError::not_found(format!("no session {id}")));
        }
        Ok(ChunkList { items: chunks })
    })
    .await
}

#[utoipa::path(get, path = "/v1/sessions/{id}/chunks/{index}/proof",
    params(("id" = String, Path, description = "session UUID or its bytes32 form"), ("index" = u32, Path)),
    responses((status = 200, body = ChunkProofView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn chunk_proof(
    State(st): State<Arc<AppState>>,
    p: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let parsed = p.map_err(ApiError::from).and_then(|Path((id, index))| {
        let id = parse_session_id(&id)?;
        let index: u32 = index.parse().map_err(|_| {
            ApiError::bad(format!(
                "index must be a uint32, got {:?}",
                truncate(&index)
            ))
        })?;
        Ok((id, index))
    });
    let (id, index) = match parsed {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    cached(&st, format!("p/{id}/{index}"), || {
        chunk_proof_view(&st, id, index)
    })
    .await
}

async fn chunk_proof_view(st: &AppState, id: String, index: u32) -> ApiResult<ChunkProofView> {
    let s = st
        .store
        .session(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no session {id}")))?;
    if index >= s.chunk_count {
        return Err(ApiError::not_found(format!(
            "session {id} has {} chunks; no index {index}",
            s.chunk_count
        )));
    }
    let chunks = st.store.chunks_of_session(&id).await?;
    let known: BTreeSet<u32> = chunks.iter().map(|c| c.idx).collect();
    if known.len() != s.chunk_count as usize
        || known.iter().next_back() != Some(&(s.chunk_count - 1))
    {
        return Err(ApiError::not_found(format!(
            "the chunk list of session {id} is not known ({} of {} chunks): no proof",
            known.len(),
            s.chunk_count
        )));
    }
    let sid = lucid_core::session::SessionId(
        uuid::Uuid::parse_str(&id).map_err(|e| ApiError::bad(e.to_string()))?,
    )
    .to_bytes32();
    let mut leaves = Vec::with_capacity(chunks.len());
    let mut mine = None;
    for c in &chunks {
        let h: B256 = c.chunk_hash;
        if c.idx == index {
            mine = Some((h, c.size));
        }
        leaves.push(lucid_core::merkle::leaf(&sid, c.idx, &h, c.size));
    }
    let (chunk_hash, size) = mine.ok_or_else(|| ApiError::not_found("chunk not found"))?;
    let tree =
        MerkleTree::new(leaves).ok_or_else(|| ApiError::not_found("session has no chunks"))?;
    let proof = tree
        .proof(index as usize)
        .ok_or_else(|| ApiError::not_found("chunk not found"))?;
    Ok(ChunkProofView {
        session_id: id,
        index,
        chunk_hash: lucid_chain::events::hex0x(chunk_hash),
        size,
        leaf: lucid_chain::events::hex0x(tree.leaves()[index as usize]),
        merkle_root: lucid_chain::events::hex0x(tree.root()),
        proof: proof.iter().map(lucid_chain::events::hex0x).collect(),
    })
}

#[utoipa::path(get, path = "/v1/slots", params(SlotsQuery),
    responses((status = 200, body = SlotList), (status = 400, body = ErrorBody)))]
async fn slots(
    State(st): State<Arc<AppState>>,
    q: Result<Query<SlotsQuery>, QueryRejection>,
) -> ApiResult<Json<SlotList>> {
    let Query(q) = q?;
    let from =
        parse_u64("from", q.from.as_deref())?.ok_or_else(|| ApiError::bad("from is required"))?;
    let to =
        parse_u64("to", q.to.as_deref())?.unwrap_or(from.saturating_add(u64::from(MAX_LIMIT) - 1));
    if to < from {
        return Err(ApiError::bad(format!("to ({to}) is below from ({from})")));
    }
    if to - from >= u64::from(MAX_LIMIT) {
        return Err(ApiError::bad(format!(
            "at most {MAX_LIMIT} slots per request (from {from} to {to})"
        )));
    }
    let rows = st
        .store
        .schedule(
            from,
            to.saturating_add(1),
            &st.params,
            st.status.chain_time(),
        )
        .await?;
    Ok(Json(SlotList {
        items: to_value(&rows),
    }))
}

#[utoipa::path(get, path = "/v1/slots/{slot}", params(("slot" = u64, Path)),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn slot(
    State(st): State<Arc<AppState>>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let Path(slot) = p?;
    let slot: u64 = slot.parse().map_err(|_| {
        ApiError::bad(format!(
            "slot must be a non-negative integer, got {:?}",
            truncate(&slot)
        ))
    })?;
    let rows = st
        .store
        .schedule(
            slot,
            slot.saturating_add(1),
            &st.params,
            st.status.chain_time(),
        )
        .await?;
    let row = rows
        .into_iter()
        .find(|r| r.slot == slot)
        .ok_or_else(|| ApiError::not_found(format!("no plan for slot {slot}")))?;
    Ok(Json(to_value(&row)))
}

#[utoipa::path(get, path = "/v1/epochs/{epoch}/tally", params(("epoch" = u64, Path)),
    responses((status = 200, body = TallyView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn tally(
    State(st): State<Arc<AppState>>,
    p: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<TallyView>> {
    let Path(epoch) = p?;
    let epoch: u64 = epoch.parse().map_err(|_| {
        ApiError::bad(format!(
            "epoch must be a non-negative integer, got {:?}",
            truncate(&epoch)
        ))
    })?;
    let rows = st.store.tally_by_rank(epoch).await?;
    if rows.is_empty() {
        return Err(ApiError::not_found(format!("no tally for epoch {epoch}")));
    }
    Ok(Json(TallyView {
        epoch,
        rows: to_value(&rows),
    }))
}

#[utoipa::path(get, path = "/v1/payouts", params(PayoutsQuery),
    responses((status = 200, body = PayoutList), (status = 400, body = ErrorBody)))]
async fn payouts(
    State(st): State<Arc<AppState>>,
    q: Result<Query<PayoutsQuery>, QueryRejection>,
) -> ApiResult<Json<PayoutList>> {
    let Query(q) = q?;
    let r = q
        .recipient
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad("recipient is required"))?;
    let evm = parse_recipient(r)?;
    let period = match parse_u64("period", q.period.as_deref())? {
        None => None,
        Some(p) => Some(
            u32::try_from(p).map_err(|_| ApiError::bad(format!("period {p} is out of range")))?,
        ),
    };
    let rows = st.store.payouts_by_recipient(&evm, period).await?;
    Ok(Json(PayoutList {
        recipient: lower(&evm),
        items: to_value(&rows),
    }))
}

#[utoipa::path(get, path = "/v1/events", params(EventsQuery),
    responses((status = 200, body = EventPage), (status = 400, body = ErrorBody)))]
async fn events(
    State(st): State<Arc<AppState>>,
    q: Result<Query<EventsQuery>, QueryRejection>,
) -> ApiResult<Json<EventPage>> {
    let Query(q) = q?;
    let chain_id = parse_u64("chainId", q.chain_id.as_deref())?;
    let from = parse_u64("fromBlock", q.from_block.as_deref())?.unwrap_or(0);
    let to = parse_u64("toBlock", q.to_block.as_deref())?.unwrap_or(i64::MAX as u64);
    if to < from {
        return Err(ApiError::bad(format!(
            "toBlock ({to}) is below fromBlock ({from})"
        )));
    }
    let limit = parse_limit(q.limit.as_deref())?;
    let cursor = q.cursor.as_deref().filter(|c| !c.is_empty());
    let event = match q.event.as_deref() {
        None | Some("") => None,
        Some(e) => {
            if !st.event_names.iter().any(|n| n == e) {
                return Err(ApiError::bad(format!("unknown event {:?}", truncate(e))));
            }
            Some(e.to_owned())
        }
    };
    let page = st
        .store
        .events(
            &EventQuery {
                chain_id,
                event,
                from_block: from,
                to_block: to,
            },
            cursor,
            limit,
        )
        .await?;
    Ok(Json(EventPage {
        items: to_value(&page.items),
        next_cursor: page.next_cursor,
    }))
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: "only GET is served".into(),
    }
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "lucid-indexer",
        description = "Lucid's indexed chain data (SPEC §5 shapes)"
    ),
    paths(
        health,
        ready,
        status,
        metrics,
        session,
        sessions,
        session_chunks,
        chunk_proof,
        slots,
        slot,
        tally,
        payouts,
        events
    ),
    components(schemas(ErrorBody, ErrorDetail, ReorgInfo))
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn track(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let t0 = Instant::now();
    // MatchedPath is a shared string: cloning it allocates nothing.
    let route = req.extensions().get::<MatchedPath>().cloned();
    let resp = next.run(req).await;
    st.status.record_http(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        resp.status().as_u16(),
        t0.elapsed(),
    );
    resp
}

/// The operator dashboard (docs/operations.md): one static page over this API.
const DASHBOARD: &str = include_str!("../dashboard/index.html");

async fn dashboard() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        DASHBOARD,
    )
        .into_response()
}

/// The API router.
pub fn router(state: AppState) -> Router {
    // One shared state: axum clones it for every extractor of every request.
    let state = Arc::new(state);
    Router::new()
        .route("/", get(dashboard))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/status", get(status))
        .route("/v1/sessions", get(sessions))
        .route("/v1/sessions/{id}", get(session))
        .route("/v1/sessions/{id}/chunks", get(session_chunks))
        .route("/v1/sessions/{id}/chunks/{index}/proof", get(chunk_proof))
        .route("/v1/slots", get(slots))
        .route("/v1/slots/{slot}", get(slot))
        .route("/v1/epochs/{epoch}/tally", get(tally))
        .route("/v1/payouts", get(payouts))
        .route("/v1/events", get(events))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}
