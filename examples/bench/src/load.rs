//! The load generator: hyper HTTP/1.1 client connections with keep-alive, one request in
//! flight per connection, latencies recorded for every request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response, body::Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::procs::Proc;

/// The protocol revision the handshake-era scenarios negotiate.
pub const HANDSHAKE_VERSION: &str = "2025-11-25";
/// The message every echo call sends (and every answer must contain).
pub const MESSAGE: &str = "bench-hello";

/// One HTTP/1.1 keep-alive connection to `/mcp`.
pub struct Conn {
    tx: SendRequest<Full<Bytes>>,
    host: String,
}

/// An answer, fully read.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `Mcp-Session-Id`, when the server sent one.
    pub session: Option<String>,
    /// `Content-Type`.
    pub content_type: String,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// The body as text, shortened, for error messages.
    pub fn describe(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let short: String = text.chars().take(300).collect();
        format!("HTTP {} {}: {short}", self.status, self.content_type)
    }

    /// Does the body contain `needle`?
    pub fn has(&self, needle: &str) -> bool {
        let n = needle.as_bytes();
        self.body.windows(n.len()).any(|w| w == n)
    }
}

/// A request: method, extra headers and body.
#[derive(Clone)]
pub struct Req {
    /// `GET` or `POST`.
    pub get: bool,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body (POST).
    pub body: Bytes,
}

impl Req {
    /// A POST of `body`.
    pub fn post(body: String) -> Self {
        Self {
            get: false,
            headers: Vec::new(),
            body: Bytes::from(body),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn build(&self, host: &str) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut b = Request::builder()
            .method(if self.get { "GET" } else { "POST" })
            .uri("/mcp")
            .header("host", host)
            .header(
                "accept",
                if self.get {
                    "text/event-stream"
                } else {
                    "application/json, text/event-stream"
                },
            );
        if !self.get {
            b = b.header("content-type", "application/json");
        }
        for (k, v) in &self.headers {
            b = b.header(*k, v.as_str());
        }
        Ok(b.body(Full::new(self.body.clone()))?)
    }
}

impl Conn {
    /// Opens a connection (TCP_NODELAY on).
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Self {
            tx,
            host: addr.to_string(),
        })
    }

    /// Has the server (or the network) closed the connection?
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Sends a request and returns the response head with its body unread.
    pub async fn start(&mut self, req: &Req) -> anyhow::Result<Response<Incoming>> {
        self.tx.ready().await?;
        Ok(self.tx.send_request(req.build(&self.host)?).await?)
    }

    /// Sends a request and reads the whole answer.
    pub async fn send(&mut self, req: &Req) -> anyhow::Result<Reply> {
        let resp = self.start(req).await?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let session = header("mcp-session-id");
        let content_type = header("content-type").unwrap_or_default();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            session,
            content_type,
            body,
        })
    }
}

/// The JSON-RPC bodies and headers of every scenario.
pub mod msg {
    use super::{HANDSHAKE_VERSION, MESSAGE, Req};

    /// `initialize` (handshake era).
    pub fn initialize(id: u64) -> Req {
        Req::post(format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"initialize","params":{{"protocolVersion":"{HANDSHAKE_VERSION}","capabilities":{{}},"clientInfo":{{"name":"musehub-bench","version":"1.0.0"}}}}}}"#
        ))
    }

    /// `notifications/initialized`.
    pub fn initialized() -> Req {
        Req::post(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.into())
    }

    /// `tools/list`.
    pub fn tools_list(id: u64, cursor: Option<&str>) -> Req {
        match cursor {
            Some(c) => Req::post(format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list","params":{{"cursor":"{c}"}}}}"#
            )),
            None => Req::post(format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/list"}}"#
            )),
        }
    }

    /// `tools/call echo`.
    pub fn call_echo(id: u64) -> Req {
        Req::post(format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"{MESSAGE}"}}}}}}"#
        ))
    }

    /// `tools/call echo_progress` with a progress token: one progress notification, so the
    /// answer is an SSE stream.
    pub fn call_progress(id: u64) -> Req {
        Req::post(format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo_progress","arguments":{{"message":"{MESSAGE}"}},"_meta":{{"progressToken":{id}}}}}}}"#
        ))
    }

    /// `tools/call echo` in the 2026-07-28 era: envelope in `_meta`, mirrored headers.
    pub fn call_modern(id: u64) -> Req {
        Req::post(format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"{MESSAGE}"}},"_meta":{{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{{}},"io.modelcontextprotocol/clientInfo":{{"name":"musehub-bench","version":"1.0.0"}}}}}}}}"#
        ))
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "echo")
    }

    /// The handshake-era headers of a request on `session`.
    pub fn in_session(req: Req, session: Option<&str>) -> Req {
        let req = req.header("mcp-protocol-version", HANDSHAKE_VERSION);
        match session {
            Some(s) => req.header("mcp-session-id", s),
            None => req,
        }
    }

    /// `GET /mcp`: the session's server-to-client stream.
    pub fn get_stream(session: Option<&str>) -> Req {
        in_session(
            Req {
                get: true,
                headers: Vec::new(),
                body: bytes::Bytes::new(),
            },
            session,
        )
    }
}

/// Opens a connection and, in the handshake era, a session on it (`initialize` then
/// `notifications/initialized`). Returns the connection and the session id, if any.
pub async fn open_session(addr: SocketAddr) -> anyhow::Result<(Conn, Option<String>)> {
    let mut conn = Conn::open(addr).await?;
    let session = handshake(&mut conn).await?;
    Ok((conn, session))
}

/// `initialize` and `notifications/initialized` on an open connection.
pub async fn handshake(conn: &mut Conn) -> anyhow::Result<Option<String>> {
    let r = conn.send(&msg::initialize(0)).await?;
    if r.status != 200 || !r.has("protocolVersion") {
        bail!("initialize failed: {}", r.describe());
    }
    let session = r.session.clone();
    let n = conn
        .send(&msg::in_session(msg::initialized(), session.as_deref()))
        .await?;
    if !(200..300).contains(&n.status) {
        bail!("notifications/initialized failed: {}", n.describe());
    }
    Ok(session)
}

/// What a load scenario sends on each connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// A fresh `initialize` per request.
    Initialize,
    /// `tools/list` in a session.
    ToolsList,
    /// `tools/call echo` in a session, JSON answer.
    CallJson,
    /// `tools/call echo_progress` in a session, SSE answer.
    CallSse,
    /// `tools/call echo` in the 2026-07-28 era.
    CallModern,
}

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Scenario; 5] = [
        Scenario::Initialize,
        Scenario::ToolsList,
        Scenario::CallJson,
        Scenario::CallSse,
        Scenario::CallModern,
    ];

    /// The scenario's short name on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Scenario::Initialize => "initialize",
            Scenario::ToolsList => "tools-list",
            Scenario::CallJson => "call-json",
            Scenario::CallSse => "call-sse",
            Scenario::CallModern => "call-2026",
        }
    }

    /// The scenario's name in the report.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::Initialize => "initialize",
            Scenario::ToolsList => "tools/list",
            Scenario::CallJson => "tools/call echo, handshake era, JSON",
            Scenario::CallSse => "tools/call echo_progress, handshake era, SSE",
            Scenario::CallModern => "tools/call echo, 2026-07-28",
        }
    }

    fn needs_session(self) -> bool {
        matches!(
            self,
            Scenario::ToolsList | Scenario::CallJson | Scenario::CallSse
        )
    }

    fn request(self, id: u64, session: Option<&str>) -> Req {
        match self {
            Scenario::Initialize => msg::initialize(id),
            Scenario::ToolsList => msg::in_session(msg::tools_list(id, None), session),
            Scenario::CallJson => msg::in_session(msg::call_echo(id), session),
            Scenario::CallSse => msg::in_session(msg::call_progress(id), session),
            Scenario::CallModern => msg::call_modern(id),
        }
    }

    /// Checks an answer; `Err` describes what is wrong.
    fn check(self, r: &Reply) -> Result<(), String> {
        let ok = r.status == 200
            && match self {
                Scenario::Initialize => r.has("protocolVersion"),
                Scenario::ToolsList => r.has("echo_progress"),
                Scenario::CallJson | Scenario::CallModern => {
                    r.has("\"result\"") && r.has(MESSAGE) && !r.has("\"isError\":true")
                }
                Scenario::CallSse => {
                    r.content_type.starts_with("text/event-stream")
                        && r.has("notifications/progress")
                        && r.has("\"result\"")
                        && r.has(MESSAGE)
                }
            };
        if ok { Ok(()) } else { Err(r.describe()) }
    }
}

/// The figures of one load run.
#[derive(Clone, Debug, Default)]
pub struct LoadResult {
    /// Requests completed in the measured window.
    pub requests: u64,
    /// Requests per second.
    pub rps: f64,
    /// Latency percentiles, in microseconds: p50, p99, p99.9.
    pub p50_us: f64,
    /// p99 in microseconds.
    pub p99_us: f64,
    /// p99.9 in microseconds.
    pub p999_us: f64,
    /// Server CPU time (user + system) per request, in microseconds.
    pub cpu_us: f64,
    /// Server allocations per request (NaN unless the server counts them).
    pub allocs: f64,
    /// Bytes the server allocated per request (NaN unless it counts them).
    pub alloc_bytes: f64,
    /// Answers that failed their check.
    pub errors: u64,
    /// The first failure, if any.
    pub first_error: Option<String>,
}

const WARMUP: u8 = 0;
const MEASURE: u8 = 1;
const STOP: u8 = 2;

/// Drives `conns` connections against `server` for `warmup` then `window`, measuring the
/// window only.
pub async fn run(
    server: &Proc,
    scenario: Scenario,
    conns: usize,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<LoadResult> {
    run_at(server.addr, Some(server), scenario, conns, warmup, window).await
}

/// [`run`] against any address; the server's CPU time is read only when `server` is given.
pub async fn run_at(
    addr: SocketAddr,
    server: Option<&Proc>,
    scenario: Scenario,
    conns: usize,
    warmup: Duration,
    window: Duration,
) -> anyhow::Result<LoadResult> {
    let cpu = || -> anyhow::Result<f64> { server.map_or(Ok(f64::NAN), Proc::cpu_us) };
    // Connect (and open the sessions) first, so that set-up is not measured.
    let mut set = Vec::with_capacity(conns);
    for _ in 0..conns {
        let (conn, session) = if scenario.needs_session() {
            open_session(addr).await.context("session set-up")?
        } else {
            (Conn::open(addr).await?, None)
        };
        set.push((conn, session));
    }
    // Check the scenario works once per connection before loading it.
    let mut first_error = None;
    for (conn, session) in set.iter_mut() {
        let r = conn.send(&scenario.request(1, session.as_deref())).await?;
        if let Err(e) = scenario.check(&r) {
            first_error = Some(e);
            break;
        }
    }
    if let Some(e) = first_error {
        return Ok(LoadResult {
            errors: 1,
            first_error: Some(e),
            ..LoadResult::default()
        });
    }
    let phase = Arc::new(AtomicU8::new(WARMUP));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(conns);
    for (mut conn, mut session) in set {
        let phase = phase.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<u32> = Vec::with_capacity(1 << 16);
            let mut first_error: Option<String> = None;
            let mut id = 2u64;
            loop {
                let p = phase.load(Ordering::Relaxed);
                if p == STOP {
                    break;
                }
                let req = scenario.request(id, session.as_deref());
                id += 1;
                let t0 = Instant::now();
                let outcome = conn.send(&req).await;
                let dt = t0.elapsed();
                let failed = match outcome {
                    Ok(r) => scenario.check(&r).err(),
                    Err(e) => Some(format!("{e:#}")),
                };
                if p != MEASURE {
                    continue;
                }
                match failed {
                    None => lat.push(dt.as_micros().min(u128::from(u32::MAX)) as u32),
                    Some(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        if first_error.is_none() {
                            first_error = Some(e);
                        }
                        // A broken connection: reopen it (and its session).
                        if conn.is_closed() {
                            match reopen(addr, scenario).await {
                                Ok((c, s)) => {
                                    conn = c;
                                    session = s;
                                }
                                Err(_) => break,
                            }
                        }
                    }
                }
            }
            (lat, first_error)
        }));
    }
    tokio::time::sleep(warmup).await;
    let counting = server.filter(|p| p.counting);
    let allocs0 = match counting {
        Some(p) => Some(p.allocs().await?),
        None => None,
    };
    let cpu0 = cpu()?;
    let t0 = Instant::now();
    phase.store(MEASURE, Ordering::Relaxed);
    tokio::time::sleep(window).await;
    phase.store(STOP, Ordering::Relaxed);
    let elapsed = t0.elapsed();
    let cpu1 = cpu()?;
    let allocs1 = match counting {
        Some(p) => Some(p.allocs().await?),
        None => None,
    };
    let mut all: Vec<u32> = Vec::new();
    let mut first_error = None;
    for t in tasks {
        let (lat, err) = t.await?;
        all.extend(lat);
        if first_error.is_none() {
            first_error = err;
        }
    }
    all.sort_unstable();
    let n = all.len() as u64;
    let pct = |q: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((q * all.len() as f64).ceil() as usize).clamp(1, all.len()) - 1;
        f64::from(all[i])
    };
    let cpu_us = (cpu1 - cpu0).max(0.0); // NaN without a server process
    Ok(LoadResult {
        requests: n,
        rps: n as f64 / elapsed.as_secs_f64(),
        p50_us: pct(0.5),
        p99_us: pct(0.99),
        p999_us: pct(0.999),
        cpu_us: if n > 0 { cpu_us / n as f64 } else { f64::NAN },
        // The report read between the two counts is itself counted: a few dozen allocations
        // over thousands of calls.
        allocs: match (allocs0, allocs1) {
            (Some(a), Some(b)) if n > 0 => b.0.saturating_sub(a.0) as f64 / n as f64,
            _ => f64::NAN,
        },
        alloc_bytes: match (allocs0, allocs1) {
            (Some(a), Some(b)) if n > 0 => b.1.saturating_sub(a.1) as f64 / n as f64,
            _ => f64::NAN,
        },
        errors: errors.load(Ordering::Relaxed),
        first_error,
    })
}

async fn reopen(addr: SocketAddr, scenario: Scenario) -> anyhow::Result<(Conn, Option<String>)> {
    if scenario.needs_session() {
        open_session(addr).await
    } else {
        Ok((Conn::open(addr).await?, None))
    }
}
