//! The keeper's HTTP API (axum; OpenAPI document at `/openapi.json`).
//!
//! Every handler takes its body as bytes and parses it itself, so every client mistake (bad JSON,
//! wrong types, unknown fields, oversized bodies) gets a 4xx with `{"error":{"code","message"}}`
//! and nothing is stored from a rejected request.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use alloy::primitives::{Address, B256};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use lucid_core::Params;
use lucid_core::proof::{ProofCodec, SignedProof};
use lucid_store::{
    ChunkEntry, SessionSubmission, Store, StoreError, SubmitOutcome, TaskProof as StoredProof,
};
use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::intake::{self, Reject};
use crate::txm::outbox::now_ms;

/// Largest accepted body of `POST /v1/proofs` (about 25,000 proofs).
pub const MAX_PROOFS_BODY: usize = 16 << 20;
/// Most proofs in one request.
pub const MAX_PROOFS_PER_REQUEST: usize = 50_000;
/// Largest accepted body of the other POST endpoints.
pub const MAX_BODY: usize = 4 << 20;
/// Most sessions in one request.
pub const MAX_SESSIONS_PER_REQUEST: usize = 400;
/// Widest `GET /v1/schedule` range.
pub const MAX_SCHEDULE_SLOTS: u64 = 1440;

/// Chain time as the daemon last saw it (SPEC §6: the chain is the clock).
#[derive(Debug, Default)]
pub struct Clock {
    head_ts: AtomicU64,
    head_number: AtomicU64,
    /// Wall-clock ms at which a new block was last seen (0: never).
    seen_ms: AtomicU64,
    /// Set when the keeper must not act (e.g. a tally_hash or params_hash mismatch).
    halted: AtomicBool,
    /// Set once start-up checks passed.
    started: AtomicBool,
}

impl Clock {
    /// Records the latest block; returns true if it is new.
    pub fn observe(&self, number: u64, ts: u64) -> bool {
        let prev = self.head_number.swap(number, Ordering::SeqCst);
        self.head_ts.store(ts, Ordering::SeqCst);
        let new = prev != number || self.seen_ms.load(Ordering::SeqCst) == 0;
        if new {
            self.seen_ms.store(now_ms(), Ordering::SeqCst);
        }
        new
    }
    /// Chain time (the latest block's timestamp), once known.
    pub fn now(&self) -> Option<u64> {
        (self.seen_ms.load(Ordering::SeqCst) != 0).then(|| self.head_ts.load(Ordering::SeqCst))
    }
    pub fn head_number(&self) -> u64 {
        self.head_number.load(Ordering::SeqCst)
    }
    /// Why the keeper is not ready, if it is not: no block seen for more than one slot by the
    /// wall clock, start-up not finished, or halted by an alert.
    pub fn not_ready(&self, slot_duration_sec: u64) -> Option<String> {
        if !self.started.load(Ordering::SeqCst) {
            return Some("starting".into());
        }
        if self.halted.load(Ordering::SeqCst) {
            return Some("halted by an alert (see logs and lucid_keeper_alerts_total)".into());
        }
        let seen = self.seen_ms.load(Ordering::SeqCst);
        let age = now_ms().saturating_sub(seen);
        if seen == 0 || age > slot_duration_sec * 1000 {
            return Some(format!("no new block for {} s", age / 1000));
        }
        None
    }
    pub fn set_started(&self) {
        self.started.store(true, Ordering::SeqCst);
    }
    pub fn set_halted(&self, v: bool) {
        self.halted.store(v, Ordering::SeqCst);
    }
    pub fn halted(&self) -> bool {
        self.halted.load(Ordering::SeqCst)
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub proofs_accepted: AtomicU64,
    pub proofs_duplicate: AtomicU64,
    pub proofs_rejected: AtomicU64,
    pub sessions_accepted: AtomicU64,
    pub sessions_duplicate: AtomicU64,
    pub sessions_rejected: AtomicU64,
    pub http_client_errors: AtomicU64,
    pub http_server_errors: AtomicU64,
    pub alerts: AtomicU64,
    pub anchors_enqueued: AtomicU64,
    pub loop_errors: AtomicU64,
    pub registrations_enqueued: AtomicU64,
}

fn inc(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// What the handlers share with the daemon.
#[derive(Debug)]
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub params: Params,
    pub chain_id: u64,
    pub anchors: Address,
    pub node: Address,
    pub codec: ProofCodec,
    pub api_token: Option<String>,
    pub clock: Clock,
    pub metrics: Metrics,
    /// Chunk registrations waiting for their session's anchoring.
    pub registrations: crate::daemon::Registrations,
}

/// An API error: status, stable code, message.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub extra: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            extra: None,
        }
    }
    fn bad(r: Reject) -> Self {
        Self::new(StatusCode::BAD_REQUEST, r.code, r.message)
    }
    pub fn store(e: StoreError) -> Self {
        tracing::error!(error = %e, "store");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the store failed; retry later",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": {"code": self.code, "message": self.message}});
        if let Some(Value::Object(extra)) = self.extra {
            for (k, v) in extra {
                body[k] = v;
            }
        }
        (self.status, axum::Json(body)).into_response()
    }
}

pub fn body_of(b: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    b.map_err(|e| {
        let status = e.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "body_too_large"
        } else {
            "bad_body"
        };
        ApiError::new(status, code, e.body_text())
    })
}

fn check_token(s: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = s.api_token.as_deref() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "disabled",
            "this keeper has no LUCID_API_TOKEN: the endpoint is disabled",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // Constant-time comparison of equal-length strings.
    let ok = given.is_some_and(|g| {
        g.len() == token.len()
            && g.bytes()
                .zip(token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    });
    if !ok {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid bearer token is required",
        ));
    }
    Ok(())
}

fn chain_now(s: &Shared) -> Result<u64, ApiError> {
    s.clock.now().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "chain_unavailable",
            "the keeper has not seen the on-system chain yet",
        )
    })
}

/// Per-item outcome of `POST /v1/proofs`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ProofResult {
    pub index: usize,
    /// `accepted`, `duplicate` or `rejected`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One proof's validation: the proof and its id, or (reason code, message).
type Checked = Result<(SignedProof, B256), (&'static str, String)>;

/// Validates proofs on up to two threads (signature recovery dominates).
fn validate_all(codec: &ProofCodec, items: &[String], slot_now: Option<u64>) -> Vec<Checked> {
    let one = |line: &String| match slot_now {
        Some(cur) => codec
            .validate_json(line, cur)
            .map_err(|e| (e.code(), e.to_string())),
        None => Err(("future_slot", "the chain is before GENESIS_TIME".to_owned())),
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(4);
    if items.len() < 256 || threads < 2 {
        return items.iter().map(one).collect();
    }
    let per = items.len().div_ceil(threads);
    std::thread::scope(|sc| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|chunk| sc.spawn(move || chunk.iter().map(one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

#[utoipa::path(post, path = "/v1/proofs",
    request_body(content = Vec<ProofDoc>, description = "A JSON array of SPEC §4 task proofs, or JSON Lines", content_type = "application/json"),
    responses(
        (status = 200, description = "One result per item", body = ProofsAnswer),
        (status = 400, description = "Malformed body", body = ErrorDoc),
        (status = 413, description = "Body too large", body = ErrorDoc),
        (status = 422, description = "Every item rejected; nothing stored", body = ProofsAnswer),
        (status = 503, description = "Chain or store unavailable", body = ErrorDoc)))]
async fn post_proofs(
    State(s): State<Arc<Shared>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_of(body)?;
    let now = chain_now(&s)?;
    let items = intake::split_proofs(&body).map_err(ApiError::bad)?;
    if items.len() > MAX_PROOFS_PER_REQUEST {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_items",
            format!("at most {MAX_PROOFS_PER_REQUEST} proofs per request"),
        ));
    }
    let slot_now = s.params.slot_at(now);
    let shared = s.clone();
    let checked =
        tokio::task::spawn_blocking(move || validate_all(&shared.codec, &items, slot_now))
            .await
            .map_err(|e| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            })?;
    let mut results = Vec::with_capacity(checked.len());
    let mut seen = HashSet::new();
    let mut fresh: Vec<StoredProof> = Vec::new();
    let mut fresh_idx = Vec::new();
    for (index, c) in checked.into_iter().enumerate() {
        match c {
            Err((reason, message)) => results.push(ProofResult {
                index,
                status: "rejected",
                id: None,
                reason: Some(reason),
                message: Some(message),
            }),
            Ok((sp, id)) => {
                let status = if seen.insert(id) {
                    "accepted"
                } else {
                    "duplicate"
                };
                if status == "accepted" {
                    fresh_idx.push(results.len());
                    fresh.push(stored_proof(&sp, id, now));
                }
                results.push(ProofResult {
                    index,
                    status,
                    id: Some(format!("{id:#x}")),
                    reason: None,
                    message: None,
                });
            }
        }
    }
    // One batched insert-if-absent: the store names the items it already had (their first ts
    // kept), which are duplicates.
    let dups = s
        .store
        .put_proofs_reporting(&fresh)
        .await
        .map_err(ApiError::store)?;
    for i in dups {
        if let Some(&ri) = fresh_idx.get(i) {
            results[ri].status = "duplicate";
        }
    }
    let count = |st: &str| results.iter().filter(|r| r.status == st).count() as u64;
    let (acc, dup, rej) = (count("accepted"), count("duplicate"), count("rejected"));
    inc(&s.metrics.proofs_accepted, acc);
    inc(&s.metrics.proofs_duplicate, dup);
    inc(&s.metrics.proofs_rejected, rej);
    let answer = json!({"accepted": acc, "duplicate": dup, "rejected": rej, "results": results});
    if acc + dup == 0 {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "all_rejected",
            "every proof was rejected; see results",
        );
        e.extra = Some(answer);
        return Err(e);
    }
    Ok(axum::Json(answer).into_response())
}

fn stored_proof(sp: &SignedProof, id: B256, ts: u64) -> StoredProof {
    let p = &sp.proof;
    StoredProof {
        id,
        node_id: p.node_id,
        slot: p.slot,
        kind: p.kind,
        session_id: p.session_id.to_string(),
        amount: p.amount,
        chunk_index: p.chunk_index,
        digest: p.digest,
        sig: sp.sig.into(),
        ts,
    }
}

#[utoipa::path(post, path = "/v1/sessions",
    request_body(content = SessionDoc, description = "One session submission or an array of them", content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Stored (accepted) or already known (duplicate), per item", body = Value),
        (status = 400, description = "Malformed or invalid", body = ErrorDoc),
        (status = 401, description = "Missing or wrong token", body = ErrorDoc),
        (status = 403, description = "No token configured", body = ErrorDoc),
        (status = 409, description = "Another digest is known for a session id; nothing stored", body = ErrorDoc),
        (status = 413, description = "Body too large", body = ErrorDoc),
        (status = 503, description = "Chain or store unavailable", body = ErrorDoc)))]
async fn post_sessions(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    check_token(&s, &headers)?;
    let body = body_of(body)?;
    let now = chain_now(&s)?;
    let (items, is_array) = intake::split_sessions(&body).map_err(ApiError::bad)?;
    if items.len() > MAX_SESSIONS_PER_REQUEST {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_items",
            format!("at most {MAX_SESSIONS_PER_REQUEST} sessions per request"),
        ));
    }
    let mut valid = Vec::with_capacity(items.len());
    for (i, raw) in items.iter().enumerate() {
        match intake::validate_session(raw, s.chain_id, s.anchors) {
            Ok(v) => valid.push(v),
            Err(r) => {
                inc(&s.metrics.sessions_rejected, 1);
                let msg = if is_array {
                    format!("item {i}: {}", r.message)
                } else {
                    r.message
                };
                return Err(ApiError::new(StatusCode::BAD_REQUEST, r.code, msg));
            }
        }
    }
    let subs: Vec<SessionSubmission> = valid
        .iter()
        .map(|v| SessionSubmission {
            id: v.session_id.to_string(),
            owner_addr: v.anchor.owner,
            started_at: v.anchor.startedAt,
            manifest_hash: v.anchor.manifestHash,
            merkle_root: v.anchor.merkleRoot,
            chunk_count: v.anchor.chunkCount,
            owner_sig: v.owner_sig.to_bytes().into(),
            received_at: now,
            chunks: v
                .chunks
                .iter()
                .flatten()
                .map(|c| ChunkEntry {
                    idx: c.index,
                    chunk_hash: c.chunk_hash,
                    size: c.size,
                })
                .collect(),
        })
        .collect();
    // Nothing is stored if any item conflicts with a stored session (checked first).
    let mut ids = HashSet::new();
    for sub in &subs {
        if !ids.insert(sub.id.clone()) {
            let first = subs.iter().find(|x| x.id == sub.id);
            if first.is_some_and(|f| f.to_session() != sub.to_session()) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("session {} appears twice with different content", sub.id),
                ));
            }
        }
        if let Some(stored) = s.store.session(&sub.id).await.map_err(ApiError::store)?
            && !stored.same_digest(&sub.to_session())
        {
            inc(&s.metrics.sessions_rejected, 1);
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("session {} is known with other content", sub.id),
            ));
        }
    }
    let mut results = Vec::new();
    for sub in &subs {
        let status = match s.store.submit_session(sub).await {
            Ok(SubmitOutcome::Inserted) => {
                inc(&s.metrics.sessions_accepted, 1);
                "accepted"
            }
            Ok(SubmitOutcome::Duplicate) => {
                inc(&s.metrics.sessions_duplicate, 1);
                "duplicate"
            }
            Err(StoreError::Conflict { .. }) => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    format!("session {} is known with other content", sub.id),
                ));
            }
            Err(e) => return Err(ApiError::store(e)),
        };
        results.push(json!({"sessionId": sub.id, "status": status}));
    }
    let answer = if is_array {
        json!({"results": results})
    } else {
        results.pop().unwrap_or(Value::Null)
    };
    Ok(axum::Json(answer).into_response())
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RegisterIn {
    session_id: String,
    index: u32,
}

#[utoipa::path(post, path = "/v1/chunks/register",
    request_body(content = RegisterDoc, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Queued until the session is anchored", body = Value),
        (status = 400, description = "Malformed", body = ErrorDoc),
        (status = 401, description = "Missing or wrong token", body = ErrorDoc),
        (status = 403, description = "No token configured", body = ErrorDoc),
        (status = 404, description = "Unknown session or chunk", body = ErrorDoc),
        (status = 413, description = "Body too large", body = ErrorDoc)))]
async fn post_register(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    check_token(&s, &headers)?;
    let body = body_of(body)?;
    let r: RegisterIn = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed", e.to_string()))?;
    let sid: lucid_core::session::SessionId = r.session_id.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_session_id",
            "sessionId is not a UUID",
        )
    })?;
    let sid = sid.to_string();
    let chunks = s
        .store
        .chunks_of_session(&sid)
        .await
        .map_err(ApiError::store)?;
    if !chunks.iter().any(|c| c.idx == r.index) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_chunk",
            format!(
                "no chunk {} of session {sid} is known (submit the session with its chunks first)",
                r.index
            ),
        ));
    }
    let new = s.registrations.add(&sid, r.index).await.map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "state_unavailable",
            e.to_string(),
        )
    })?;
    if new {
        inc(&s.metrics.registrations_enqueued, 1);
    }
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(json!({"sessionId": sid, "index": r.index, "status": if new {"queued"} else {"duplicate"}})),
    )
        .into_response())
}

fn parse_u64(q: &str, key: &str) -> Result<Option<u64>, ApiError> {
    let mut out = None;
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == key {
            out = Some(v.parse::<u64>().map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_query",
                    format!("{key} must be a slot number"),
                )
            })?);
        } else if k != "from" && k != "to" {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!("unknown parameter {k:?}"),
            ));
        }
    }
    Ok(out)
}

#[utoipa::path(get, path = "/v1/schedule",
    params(("from" = Option<u64>, Query, description = "first slot (default: the current slot)"),
           ("to" = Option<u64>, Query, description = "end slot, exclusive (default from + 30)")),
    responses(
        (status = 200, description = "Plans with results (null until known), by slot", body = Value),
        (status = 400, description = "Bad range", body = ErrorDoc),
        (status = 503, description = "Chain or store unavailable", body = ErrorDoc)))]
async fn get_schedule(
    State(s): State<Arc<Shared>>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let q = q.unwrap_or_default();
    let now = s.clock.now();
    let from = match parse_u64(&q, "from")? {
        Some(f) => f,
        None => now.and_then(|n| s.params.slot_at(n)).unwrap_or(0),
    };
    let to = parse_u64(&q, "to")?.unwrap_or(from.saturating_add(30));
    if to < from || to - from > MAX_SCHEDULE_SLOTS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_range",
            format!("need from <= to and at most {MAX_SCHEDULE_SLOTS} slots"),
        ));
    }
    let rows = s
        .store
        .schedule(from, to, &s.params, now)
        .await
        .map_err(ApiError::store)?;
    Ok(axum::Json(json!({"from": from, "to": to, "slots": rows})).into_response())
}

#[utoipa::path(get, path = "/v1/epochs/{epoch}",
    params(("epoch" = u64, Path, description = "epoch number")),
    responses(
        (status = 200, description = "The frozen epochs document", body = Value),
        (status = 400, description = "Not a number", body = ErrorDoc),
        (status = 404, description = "Not frozen yet", body = ErrorDoc)))]
async fn get_epoch(
    State(s): State<Arc<Shared>>,
    Path(epoch): Path<String>,
) -> Result<Response, ApiError> {
    let e: u64 = epoch.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_epoch",
            "epoch must be a number",
        )
    })?;
    match s.store.epoch(e).await.map_err(ApiError::store)? {
        Some(doc) => Ok(axum::Json(doc).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_frozen",
            format!("epoch {e} is not frozen"),
        )),
    }
}

#[utoipa::path(get, path = "/health", responses((status = 200, description = "The process is up", body = Value)))]
async fn health() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

#[utoipa::path(get, path = "/ready", responses(
    (status = 200, description = "Chain fresh, start-up done, no alert", body = Value),
    (status = 503, description = "Not ready, with the reason", body = ErrorDoc)))]
async fn ready(State(s): State<Arc<Shared>>) -> Response {
    match s.clock.not_ready(s.params.slot_duration_sec()) {
        None => {
            axum::Json(json!({"status": "ready", "node": format!("{:#x}", s.node)})).into_response()
        }
        Some(why) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", why).into_response()
        }
    }
}

#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format", body = String)))]
async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    let m = &s.metrics;
    let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let mut out = String::new();
    let mut line = |name: &str, help: &str, kind: &str, v: String| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n"
        ));
    };
    line(
        "lucid_keeper_proofs_accepted_total",
        "proofs stored",
        "counter",
        g(&m.proofs_accepted).to_string(),
    );
    line(
        "lucid_keeper_proofs_duplicate_total",
        "proofs already known",
        "counter",
        g(&m.proofs_duplicate).to_string(),
    );
    line(
        "lucid_keeper_proofs_rejected_total",
        "invalid proofs",
        "counter",
        g(&m.proofs_rejected).to_string(),
    );
    line(
        "lucid_keeper_sessions_accepted_total",
        "sessions stored pending",
        "counter",
        g(&m.sessions_accepted).to_string(),
    );
    line(
        "lucid_keeper_sessions_duplicate_total",
        "sessions already known",
        "counter",
        g(&m.sessions_duplicate).to_string(),
    );
    line(
        "lucid_keeper_sessions_rejected_total",
        "invalid or conflicting sessions",
        "counter",
        g(&m.sessions_rejected).to_string(),
    );
    line(
        "lucid_keeper_alerts_total",
        "tally/params mismatches and unscheduled wins seen",
        "counter",
        g(&m.alerts).to_string(),
    );
    line(
        "lucid_keeper_anchors_enqueued_total",
        "anchoring transactions enqueued",
        "counter",
        g(&m.anchors_enqueued).to_string(),
    );
    line(
        "lucid_keeper_registrations_enqueued_total",
        "chunk registrations queued",
        "counter",
        g(&m.registrations_enqueued).to_string(),
    );
    line(
        "lucid_keeper_loop_errors_total",
        "failed daemon loop steps",
        "counter",
        g(&m.loop_errors).to_string(),
    );
    line(
        "lucid_keeper_chain_head",
        "latest on-system block",
        "gauge",
        s.clock.head_number().to_string(),
    );
    line(
        "lucid_keeper_chain_time",
        "chain time (latest block timestamp)",
        "gauge",
        s.clock.now().unwrap_or(0).to_string(),
    );
    line(
        "lucid_keeper_ready",
        "1 when ready",
        "gauge",
        u8::from(s.clock.not_ready(s.params.slot_duration_sec()).is_none()).to_string(),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

async fn openapi() -> Response {
    axum::Json(ApiDoc::openapi()).into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this endpoint",
    )
}

/// OpenAPI shapes (documentation only; handlers parse bodies themselves).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProofDoc {
    pub node_id: String,
    pub slot: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub session_id: Option<String>,
    pub amount: Option<u64>,
    pub chunk_index: Option<u32>,
    pub digest: Option<String>,
    pub sig: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ProofsAnswer {
    pub accepted: u64,
    pub duplicate: u64,
    pub rejected: u64,
    pub results: Vec<ProofResult>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionDoc {
    /// SPEC §2 manifest.
    pub manifest: Value,
    /// `[{index, chunkHash, size}]`, or give `merkleRoot`.
    pub chunks: Option<Vec<Value>>,
    pub merkle_root: Option<String>,
    /// `0x` + 128 hex digits: the owner's EIP-2098 signature over the SessionAnchor.
    pub owner_sig: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterDoc {
    pub session_id: String,
    pub index: u32,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDoc {
    pub error: ErrorBody,
}

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "lucid-keeper",
        description = "The Lucid keeper daemon's API (SPEC §6, issue 9)"
    ),
    paths(
        post_proofs,
        post_sessions,
        post_register,
        crate::payout::post_payout_address,
        get_schedule,
        get_epoch,
        health,
        ready,
        metrics
    ),
    components(schemas(
        ProofDoc,
        ProofsAnswer,
        ProofResult,
        SessionDoc,
        RegisterDoc,
        crate::payout::PayoutAddressIn,
        ErrorDoc,
        ErrorBody
    ))
)]
pub struct ApiDoc;

/// The router.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/v1/proofs",
            post(post_proofs).layer(DefaultBodyLimit::max(MAX_PROOFS_BODY)),
        )
        .route("/v1/sessions", post(post_sessions))
        .route("/v1/chunks/register", post(post_register))
        .route("/v1/schedule", get(get_schedule))
        .route("/v1/epochs/{epoch}", get(get_epoch))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .merge(crate::payout::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}
