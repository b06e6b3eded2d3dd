//! A fault-injecting JSON-RPC proxy in front of a real node (anvil): every request is forwarded unless a
//! rule says otherwise. It injects the errors real providers return (too many results with and without
//! a suggested range, range too large, timeouts, HTTP 5xx, rate limits, dropped connections, `null`
//! blocks), a lagging or frozen head, and downtime. Runs on its own thread and tokio runtime, so
//! synchronous tests can drive it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// What a rule does to a matching request.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// `query returned more than 10000 results` with a suggested range of the first half
    /// (`suggest = Half`), the very range asked (`Equal`), or none.
    TooManyResults(Suggest),
    /// `block range is too large` whenever the asked range exceeds `max` blocks (else forwarded).
    MaxRange(u64),
    /// Answers only after this delay (longer than the client's timeout: a timeout).
    Delay(Duration),
    /// HTTP status with a non-JSON body (e.g. 502 from a load balancer, 429 rate limit).
    Http(u16),
    /// A JSON-RPC error object.
    RpcError(i64, String),
    /// `{"result": null}`.
    Null,
    /// Forwarded, then the block's `timestamp` replaced by `0x0` (a node that serves a header without
    /// its time).
    ZeroTimestamp,
    /// A body that is not JSON.
    Garbage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suggest {
    None,
    Half,
    Equal,
    /// The first `n` blocks of the asked range.
    Blocks(u64),
}

/// Applies `shape` to requests of `method`: every `every`-th matching call, `remaining` times
/// (`None`: forever).
#[derive(Debug, Clone)]
pub struct Rule {
    pub method: String,
    pub shape: Shape,
    pub every: u64,
    pub remaining: Option<u64>,
    seen: u64,
}

impl Rule {
    pub fn new(method: &str, shape: Shape) -> Self {
        Rule {
            method: method.to_owned(),
            shape,
            every: 1,
            remaining: None,
            seen: 0,
        }
    }
    pub fn every(mut self, k: u64) -> Self {
        self.every = k.max(1);
        self
    }
    pub fn times(mut self, n: u64) -> Self {
        self.remaining = Some(n);
        self
    }
}

#[derive(Debug, Default)]
struct ProxyState {
    rules: Vec<Rule>,
    /// The node pretends its head is `real − lag` (and has no blocks above it).
    lag: u64,
    /// Calls by method, and faults injected by method.
    calls: BTreeMap<String, u64>,
    injected: BTreeMap<String, u64>,
    /// Every `eth_getLogs` asked: (fromBlock, toBlock, whether a fault answered it).
    log_ranges: Vec<(u64, u64, bool)>,
}

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    pub port: u16,
    state: Arc<Mutex<ProxyState>>,
    ctl: tokio::sync::watch::Sender<(bool, bool)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Clone)]
struct Ctx {
    upstream: String,
    http: reqwest::Client,
    state: Arc<Mutex<ProxyState>>,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` (an http URL) on a free port.
    pub fn start(upstream: &str) -> Self {
        let state = Arc::new(Mutex::new(ProxyState::default()));
        let ctx = Ctx {
            upstream: upstream.to_owned(),
            http: reqwest::Client::new(),
            state: state.clone(),
        };
        // (down, stop): while down the port is closed (connection refused), as a crashed node's.
        let (ctl_tx, mut ctl_rx) = tokio::sync::watch::channel((false, false));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut port = 0u16;
                loop {
                    let listener = loop {
                        match tokio::net::TcpListener::bind(SocketAddr::from((
                            [127, 0, 0, 1],
                            port,
                        )))
                        .await
                        {
                            Ok(l) => break l,
                            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                        }
                    };
                    if port == 0 {
                        port = listener.local_addr().unwrap().port();
                        port_tx.send(port).unwrap();
                    }
                    let app = axum::Router::new()
                        .fallback(axum::routing::post(handle))
                        .with_state(ctx.clone());
                    let mut rx = ctl_rx.clone();
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = rx.wait_for(|(down, stop)| *down || *stop).await;
                        })
                        .await
                        .unwrap();
                    if ctl_rx.borrow().1 {
                        return;
                    }
                    let _ = ctl_rx.wait_for(|(down, stop)| !*down || *stop).await;
                    if ctl_rx.borrow().1 {
                        return;
                    }
                }
            });
        });
        let port = port_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        FaultProxy {
            port,
            state,
            ctl: ctl_tx,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn with<R>(&self, f: impl FnOnce(&mut ProxyState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    pub fn add_rule(&self, r: Rule) {
        self.with(|s| s.rules.push(r));
    }

    pub fn clear_rules(&self) {
        self.with(|s| s.rules.clear());
    }

    /// Downtime: the port is closed (connection refused) until `set_down(false)`.
    pub fn set_down(&self, down: bool) {
        self.ctl.send_modify(|c| c.0 = down);
    }

    /// A lagging node: head and blocks as of `lag` blocks ago.
    pub fn set_lag(&self, lag: u64) {
        self.with(|s| s.lag = lag);
    }

    /// Calls seen for a method.
    pub fn calls(&self, method: &str) -> u64 {
        self.with(|s| s.calls.get(method).copied().unwrap_or(0))
    }

    /// Every `eth_getLogs` asked so far: (fromBlock, toBlock, whether a fault answered it).
    pub fn log_ranges(&self) -> Vec<(u64, u64, bool)> {
        self.with(|s| s.log_ranges.clone())
    }

    /// Faults injected for a method.
    pub fn injected(&self, method: &str) -> u64 {
        self.with(|s| s.injected.get(method).copied().unwrap_or(0))
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.ctl.send_modify(|c| c.1 = true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn hex_u64(v: &Value) -> Option<u64> {
    v.as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .and_then(|h| u64::from_str_radix(h, 16).ok())
}

fn rpc_error(id: &Value, code: i64, message: &str) -> Response {
    axum::Json(json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}))
        .into_response()
}

async fn forward(ctx: &Ctx, body: Bytes) -> Result<Value, Response> {
    let resp = ctx
        .http
        .post(&ctx.upstream)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()).into_response())?;
    resp.json::<Value>()
        .await
        .map_err(|e| (StatusCode::BAD_GATEWAY, e.to_string()).into_response())
}

async fn handle(State(ctx): State<Ctx>, body: Bytes) -> Result<Response, Response> {
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return Ok((StatusCode::BAD_REQUEST, "not JSON").into_response()),
    };
    if req.is_array() {
        // Batches are forwarded untouched.
        return Ok(match forward(&ctx, body).await {
            Ok(v) => axum::Json(v).into_response(),
            Err(r) => r,
        });
    }
    let method = req["method"].as_str().unwrap_or("").to_owned();
    let id = req["id"].clone();
    let (fault, lag) = {
        let mut s = ctx.state.lock().unwrap();
        *s.calls.entry(method.clone()).or_default() += 1;
        let mut fault = None;
        for r in s.rules.iter_mut() {
            if r.method != method || r.remaining == Some(0) {
                continue;
            }
            if let Shape::MaxRange(max) = r.shape {
                let from = hex_u64(&req["params"][0]["fromBlock"]).unwrap_or(0);
                let to = hex_u64(&req["params"][0]["toBlock"]).unwrap_or(u64::MAX);
                if to.saturating_sub(from) < max {
                    continue;
                }
            }
            r.seen += 1;
            if r.seen % r.every != 0 {
                continue;
            }
            if let Some(n) = r.remaining.as_mut() {
                *n -= 1;
            }
            fault = Some(r.shape.clone());
            break;
        }
        if fault.is_some() {
            *s.injected.entry(method.clone()).or_default() += 1;
        }
        if method == "eth_getLogs" {
            let from = hex_u64(&req["params"][0]["fromBlock"]).unwrap_or(0);
            let to = hex_u64(&req["params"][0]["toBlock"]).unwrap_or(u64::MAX);
            s.log_ranges.push((from, to, fault.is_some()));
        }
        (fault, s.lag)
    };
    if let Some(shape) = fault {
        let from = hex_u64(&req["params"][0]["fromBlock"]).unwrap_or(0);
        let to = hex_u64(&req["params"][0]["toBlock"]).unwrap_or(from);
        return match shape {
            Shape::TooManyResults(sug) => {
                let msg = match sug {
                    Suggest::None => "query returned more than 10000 results".to_owned(),
                    Suggest::Half => format!(
                        "query returned more than 10000 results. Try with this block range [{:#x}, {:#x}].",
                        from,
                        from + (to - from) / 2
                    ),
                    Suggest::Equal => format!(
                        "query returned more than 10000 results. Try with this block range [{from:#x}, {to:#x}]."
                    ),
                    Suggest::Blocks(n) => format!(
                        "query returned more than 10000 results. Try with this block range [{:#x}, {:#x}].",
                        from,
                        to.min(from + n.max(1) - 1)
                    ),
                };
                Ok(rpc_error(&id, -32005, &msg))
            }
            Shape::MaxRange(max) => Ok(rpc_error(
                &id,
                -32600,
                &format!("eth_getLogs block range is too large, max {max} blocks"),
            )),
            Shape::Delay(d) => {
                tokio::time::sleep(d).await;
                Ok(match forward(&ctx, body).await {
                    Ok(v) => axum::Json(v).into_response(),
                    Err(r) => r,
                })
            }
            Shape::Http(status) => Ok((
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                "<html><body>upstream error</body></html>",
            )
                .into_response()),
            Shape::RpcError(code, msg) => Ok(rpc_error(&id, code, &msg)),
            Shape::Null => {
                Ok(axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": null})).into_response())
            }
            Shape::Garbage => Ok((StatusCode::OK, "{\"jsonrpc\":\"2.0\",\"id\":").into_response()),
            Shape::ZeroTimestamp => Ok(match forward(&ctx, body).await {
                Ok(mut v) => {
                    if v["result"].is_object() {
                        v["result"]["timestamp"] = json!("0x0");
                    }
                    axum::Json(v).into_response()
                }
                Err(r) => r,
            }),
        };
    }
    if lag > 0 {
        match method.as_str() {
            "eth_blockNumber" => {
                let v = match forward(&ctx, body).await {
                    Ok(v) => v,
                    Err(r) => return Ok(r),
                };
                let real = hex_u64(&v["result"]).unwrap_or(0);
                let shown = real.saturating_sub(lag);
                return Ok(axum::Json(
                    json!({"jsonrpc": "2.0", "id": id, "result": format!("{shown:#x}")}),
                )
                .into_response());
            }
            "eth_getBlockByNumber" => {
                let head_req =
                    json!({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []});
                let real = match forward(&ctx, Bytes::from(head_req.to_string())).await {
                    Ok(v) => hex_u64(&v["result"]).unwrap_or(0),
                    Err(r) => return Ok(r),
                };
                let shown = real.saturating_sub(lag);
                let mut req2 = req.clone();
                let n = match req["params"][0].as_str() {
                    Some("latest") | Some("pending") | Some("safe") | Some("finalized") => {
                        Some(shown)
                    }
                    _ => hex_u64(&req["params"][0]),
                };
                if let Some(n) = n {
                    if n > shown {
                        return Ok(
                            axum::Json(json!({"jsonrpc": "2.0", "id": id, "result": null}))
                                .into_response(),
                        );
                    }
                    req2["params"][0] = json!(format!("{n:#x}"));
                }
                return Ok(match forward(&ctx, Bytes::from(req2.to_string())).await {
                    Ok(v) => axum::Json(v).into_response(),
                    Err(r) => r,
                });
            }
            "eth_getLogs" => {
                // Logs only up to the lagging head.
                let head_req =
                    json!({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []});
                let real = match forward(&ctx, Bytes::from(head_req.to_string())).await {
                    Ok(v) => hex_u64(&v["result"]).unwrap_or(0),
                    Err(r) => return Ok(r),
                };
                let shown = real.saturating_sub(lag);
                let mut req2 = req.clone();
                if let Some(to) = hex_u64(&req["params"][0]["toBlock"])
                    && to > shown
                {
                    req2["params"][0]["toBlock"] = json!(format!("{shown:#x}"));
                }
                return Ok(match forward(&ctx, Bytes::from(req2.to_string())).await {
                    Ok(v) => axum::Json(v).into_response(),
                    Err(r) => r,
                });
            }
            _ => {}
        }
    }
    Ok(match forward(&ctx, body).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(r) => r,
    })
}
