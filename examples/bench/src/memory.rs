//! Memory and scale: RSS with idle sessions and with open `GET` SSE streams, and cold start.

use std::time::{Duration, Instant};

use anyhow::bail;
use futures::StreamExt as _;
use http_body_util::BodyExt as _;

use crate::load::{self, Conn, msg};
use crate::procs::{Kind, Proc};

/// Connections used to create sessions and open streams.
const SETUP_CONCURRENCY: usize = 32;
/// Time left to the server to settle before reading its RSS.
const SETTLE: Duration = Duration::from_millis(400);

/// RSS with idle sessions.
#[derive(Clone, Debug, Default)]
pub struct Sessions {
    /// RSS with nothing open, KiB.
    pub idle_kib: u64,
    /// (sessions, RSS KiB) at each step.
    pub steps: Vec<(usize, u64)>,
}

impl Sessions {
    /// Bytes per session between 0 and the last step.
    pub fn per_session_bytes(&self) -> Option<f64> {
        let &(n, rss) = self.steps.last()?;
        Some((rss as f64 - self.idle_kib as f64) * 1024.0 / n as f64)
    }
}

/// RSS with open `GET` streams (one per session, each on its own connection).
#[derive(Clone, Debug, Default)]
pub struct Streams {
    /// RSS with the sessions open and no stream, KiB.
    pub base_kib: u64,
    /// (streams, RSS KiB) at each step.
    pub steps: Vec<(usize, u64)>,
    /// Streams the server accepted and still held at the end.
    pub held: usize,
}

impl Streams {
    /// Bytes per stream between the base and the last step.
    pub fn per_stream_bytes(&self) -> Option<f64> {
        let &(n, rss) = self.steps.last()?;
        Some((rss as f64 - self.base_kib as f64) * 1024.0 / n as f64)
    }
}

/// Opens `n` sessions on `server` with a few keep-alive connections; returns their ids.
async fn open_sessions(server: &Proc, n: usize) -> anyhow::Result<Vec<Option<String>>> {
    let addr = server.addr;
    let per = n.div_ceil(SETUP_CONCURRENCY);
    let mut tasks = Vec::new();
    let mut left = n;
    while left > 0 {
        let k = per.min(left);
        left -= k;
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut ids = Vec::with_capacity(k);
            for _ in 0..k {
                ids.push(load::handshake(&mut conn).await?);
            }
            anyhow::Ok(ids)
        }));
    }
    let mut ids = Vec::with_capacity(n);
    for t in tasks {
        ids.extend(t.await??);
    }
    Ok(ids)
}

/// RSS with 0 and then `steps` idle sessions.
pub async fn sessions(kind: Kind, steps: &[usize]) -> anyhow::Result<Sessions> {
    let mut server = Proc::spawn(kind)?;
    server.ready().await?;
    tokio::time::sleep(SETTLE).await;
    let mut out = Sessions {
        idle_kib: server.rss_kib()?,
        steps: Vec::new(),
    };
    let mut open = 0;
    for &n in steps {
        open_sessions(&server, n - open).await?;
        open = n;
        tokio::time::sleep(SETTLE).await;
        out.steps.push((n, server.rss_kib()?));
    }
    Ok(out)
}

/// One held stream: the connection and the response whose body is never read.
type Held = (Conn, hyper::Response<hyper::body::Incoming>);

async fn open_stream(addr: std::net::SocketAddr, session: Option<String>) -> anyhow::Result<Held> {
    let mut conn = Conn::open(addr).await?;
    let resp = conn.start(&msg::get_stream(session.as_deref())).await?;
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if resp.status() != 200 || !ct.starts_with("text/event-stream") {
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        bail!(
            "GET stream refused: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok((conn, resp))
}

/// RSS with `max(steps)` sessions, then with `steps` open `GET` streams.
pub async fn streams(kind: Kind, steps: &[usize]) -> anyhow::Result<Streams> {
    let mut server = Proc::spawn(kind)?;
    server.ready().await?;
    let total = steps.iter().copied().max().unwrap_or(0);
    let mut sessions = open_sessions(&server, total).await?.into_iter();
    tokio::time::sleep(SETTLE).await;
    let mut out = Streams {
        base_kib: server.rss_kib()?,
        ..Streams::default()
    };
    let mut held: Vec<Held> = Vec::with_capacity(total);
    for &n in steps {
        let batch: Vec<Option<String>> = sessions.by_ref().take(n - held.len()).collect();
        let addr = server.addr;
        let mut opened = futures::stream::iter(batch)
            .map(|s| open_stream(addr, s))
            .buffer_unordered(SETUP_CONCURRENCY);
        while let Some(r) = opened.next().await {
            held.push(r?);
        }
        tokio::time::sleep(SETTLE).await;
        out.steps.push((n, server.rss_kib()?));
    }
    // Still held? A stream the server ended has a closed connection by now.
    tokio::time::sleep(SETTLE).await;
    out.held = held.iter().filter(|(c, _)| !c.is_closed()).count();
    Ok(out)
}

/// Process start to the first successful `tools/call` (handshake era), in microseconds.
pub async fn cold_start(kind: Kind) -> anyhow::Result<f64> {
    let server = Proc::spawn(kind)?;
    first_call(&server, "echo", r#"{"message":"bench-hello"}"#).await
}

/// Polls `server` until a session opens and `tool` answers; microseconds since its spawn.
pub async fn first_call(server: &Proc, tool: &str, arguments: &str) -> anyhow::Result<f64> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((mut conn, session)) = load::open_session(server.addr).await {
            let body = format!(
                r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"{tool}","arguments":{arguments}}}}}"#
            );
            let req = msg::in_session(load::Req::post(body), session.as_deref());
            if let Ok(r) = conn.send(&req).await
                && r.status == 200
                && r.has("\"result\"")
            {
                return Ok(server.spawned.elapsed().as_secs_f64() * 1e6);
            }
        }
        if Instant::now() > deadline {
            bail!("no successful tools/call within 30 s");
        }
        tokio::time::sleep(Duration::from_micros(500)).await;
    }
}

/// The 1,000-tool server: in-process build time, cold start, `tools/list` size and RSS.
#[derive(Clone, Debug, Default)]
pub struct Tools1k {
    /// Registry and server build, measured inside the process, µs.
    pub build_us: f64,
    /// Build plus the router (which renders the documentation surfaces), inside the process, µs.
    pub router_us: f64,
    /// Process start to the first successful `tools/call`, µs.
    pub cold_us: f64,
    /// Tools listed.
    pub tools: usize,
    /// Bytes of the first `tools/list` page (the whole JSON-RPC answer).
    pub first_page_bytes: usize,
    /// Bytes of every page together.
    pub all_pages_bytes: usize,
    /// Pages.
    pub pages: usize,
    /// Latency of one `tools/list` page, µs (median of 200).
    pub list_p50_us: f64,
    /// RSS after start-up, KiB.
    pub rss_kib: u64,
}

/// Measures the 1,000-tool server `reps` times (medians), with or without its documentation
/// surfaces.
pub async fn tools1k(reps: usize, no_docs: bool) -> anyhow::Result<Tools1k> {
    let mut colds = Vec::new();
    let mut builds = Vec::new();
    let mut routers = Vec::new();
    let mut out = Tools1k::default();
    for rep in 0..reps.max(1) {
        let mut server = Proc::spawn_tools1k(no_docs)?;
        let cold = first_call(&server, "tool_0000", r#"{"message":"bench-hello"}"#).await?;
        colds.push(cold);
        let mut line = String::new();
        if let Some(stdout) = server.stdout() {
            use std::io::BufRead as _;
            std::io::BufReader::new(stdout).read_line(&mut line)?;
        }
        let field = |name: &str| -> f64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name))
                .and_then(|v| v.parse().ok())
                .unwrap_or(f64::NAN)
        };
        builds.push(field("build_us="));
        routers.push(field("router_us="));
        if rep == 0 {
            let (mut conn, session) = load::open_session(server.addr).await?;
            let mut cursor: Option<String> = None;
            loop {
                let req =
                    msg::in_session(msg::tools_list(1, cursor.as_deref()), session.as_deref());
                let r = conn.send(&req).await?;
                if r.status != 200 {
                    bail!("tools/list failed: {}", r.describe());
                }
                let v: serde_json::Value = serde_json::from_slice(&r.body)?;
                out.tools += v["result"]["tools"].as_array().map_or(0, Vec::len);
                if out.pages == 0 {
                    out.first_page_bytes = r.body.len();
                }
                out.pages += 1;
                out.all_pages_bytes += r.body.len();
                match v["result"]["nextCursor"].as_str() {
                    Some(c) => cursor = Some(c.to_string()),
                    None => break,
                }
            }
            let mut lat = Vec::new();
            for i in 0..200 {
                let req = msg::in_session(msg::tools_list(i, None), session.as_deref());
                let t0 = Instant::now();
                conn.send(&req).await?;
                lat.push(t0.elapsed().as_secs_f64() * 1e6);
            }
            out.list_p50_us = median(&mut lat);
            out.rss_kib = server.rss_kib()?;
        }
    }
    out.cold_us = median(&mut colds);
    out.build_us = median(&mut builds);
    out.router_us = median(&mut routers);
    Ok(out)
}

/// The median of `v` (NaN when empty).
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
