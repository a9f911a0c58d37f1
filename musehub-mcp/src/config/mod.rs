//! Every limit and timeout the runtime applies, with its default. Nothing is hard-coded
//! elsewhere: a server reads these from its own configuration (TOML, environment, flags).

pub mod docs;

use std::time::Duration;

use serde::Deserialize;

/// Server settings. `Default` gives the documented defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Items per page of `tools/list`, `resources/list`, `resources/templates/list` and
    /// `prompts/list`. Default 100.
    pub page_size: usize,
    /// Largest accepted request body, in bytes (413 above). Default 4 MiB.
    pub max_body_bytes: usize,
    /// Most concurrent sessions; past it `initialize` gets 503 with `Retry-After`. Default 10,000.
    pub max_sessions: usize,
    /// A session unused for this long is ended. Default 30 minutes.
    #[serde(with = "secs")]
    pub session_idle_timeout: Duration,
    /// How often the sweeper looks for idle sessions. Default 30 s.
    #[serde(with = "secs")]
    pub session_sweep_interval: Duration,
    /// Interval of SSE keep-alive comments. Default 15 s.
    #[serde(with = "secs")]
    pub sse_heartbeat: Duration,
    /// The `retry` (ms) sent in SSE priming events: how long a client waits before reconnecting.
    /// Default 1,000 ms.
    pub sse_retry_ms: u64,
    /// Events kept per SSE stream for `Last-Event-ID` replay. Default 1,000.
    pub sse_replay_events: usize,
    /// Messages a running request may queue towards its response stream before it waits.
    /// Default 64.
    pub request_queue: usize,
    /// How long a tool waits for the client's answer to an elicitation. Default 300 s.
    #[serde(with = "secs")]
    pub elicitation_timeout: Duration,
    /// Origins allowed besides localhost (`MUSEHUB_ALLOWED_ORIGINS`, comma-separated).
    /// `*` allows any. Default: none.
    pub allowed_origins: Vec<String>,
    /// Hosts allowed in the `Host` header besides loopback names (DNS-rebinding protection).
    /// `*` allows any. Default: none.
    pub allowed_hosts: Vec<String>,
    /// Requests of one session being served at once; past it, 429. Default 32.
    pub max_in_flight_per_session: usize,
    /// Requests from one client address being handled at once; past it, 429. Default 256.
    pub max_in_flight_per_ip: usize,
    /// SSE streams open at once on one session (GET streams and streaming POST responses);
    /// past it, 429. Default 8.
    pub max_streams_per_session: usize,
    /// Server-to-client requests (elicitations, sampling) awaiting answers on one session;
    /// past it, the tool gets an error. Default 16.
    pub max_pending_requests_per_session: usize,
    /// Longest string request id accepted (every answer echoes its id). Default 256 bytes.
    pub max_id_bytes: usize,
    /// Deepest JSON nesting accepted in a message; deeper is refused before parsing.
    /// Default 64.
    pub max_json_depth: usize,
    /// Longest a tool call may run; past it the call is stopped and answered with an
    /// `isError` result (code `timeout`). Default 10 minutes.
    #[serde(with = "secs")]
    pub call_timeout: Duration,
    /// A client must send its complete request headers within this time, or the connection
    /// is closed (Slowloris protection). Default 10 s.
    #[serde(with = "secs")]
    pub header_read_timeout: Duration,
    /// The most an HTTP/1 connection buffers (hyper's `max_buf_size`; at least 8,192): a
    /// request head (request line and headers) larger than this is refused with 431. The
    /// default, 8 KiB, is hyper's minimum and keeps an open SSE stream's connection near
    /// 16 KiB (hyper's read and write buffers); raise it for clients that send larger
    /// headers (long `Mcp-Param-*` values, big cookies, proxies' forwarded tokens):
    /// `MUSEHUB_HTTP1_MAX_BUF_BYTES`. Default 8,192.
    pub http1_max_buf_bytes: usize,
    /// Deadline for in-flight calls on graceful shutdown. Default 10 s.
    #[serde(with = "secs")]
    pub shutdown_grace: Duration,
    /// Caching hints of the 2026-07-28 era (`ttlMs`, `cacheScope`).
    pub cache: CacheConfig,
    /// Secret for the HMAC that authenticates MRTR `requestState`. Every instance behind one
    /// load balancer must share it (`MUSEHUB_STATE_KEY`). Default: random per process.
    pub state_key: Option<String>,
    /// How long a `requestState` stays valid. Default 10 minutes.
    #[serde(with = "secs")]
    pub state_ttl: Duration,
    /// Change notifications buffered per `subscriptions/listen` stream before a slow
    /// listener is cut off. Default 256.
    pub listen_buffer: usize,
    /// A 2026-07-28 call still running after this long answers with an SSE stream (keep-alive
    /// comments until the result) instead of JSON: HTTP/1 servers only notice a client that
    /// went away when they write, and closing the response must cancel the call. Default 1 s.
    #[serde(with = "secs")]
    pub stream_after: Duration,
    /// Redis shared by every instance of a multi-instance deployment
    /// (`MUSEHUB_REDIS_URL`, `redis://host:port/db`): sessions, event logs, answers to
    /// server-to-client requests, subscriptions and MSign nonces then live there, so any
    /// instance serves any request (docs/deploy.md). Default: none, everything in process.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key and of the bus channel (several deployments may share one
    /// Redis). Default `musehub`.
    pub redis_prefix: String,
    /// Longest wait for one Redis operation; past it (or with Redis down) a request that needs
    /// Redis gets 503 at once. Default 1 s.
    #[serde(with = "secs")]
    pub redis_timeout: Duration,
}

/// `ttlMs` / `cacheScope` hints for the cacheable results of the 2026-07-28 era
/// (server/utilities/caching.mdx). A resource may override them in `#[resource]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct CacheConfig {
    /// `server/discover`. Default 1 hour, public.
    pub discover_ttl_ms: u64,
    /// The four list results. Default 60 s, public (lists change only with a deploy or a
    /// list-changed notification).
    pub list_ttl_ms: u64,
    /// `resources/read`. Default 0 (immediately stale), private: contents may be per caller.
    pub read_ttl_ms: u64,
    /// `cacheScope` of the lists and discover: `public` or `private`. Default public.
    pub list_scope: String,
    /// `cacheScope` of `resources/read`. Default private.
    pub read_scope: String,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            discover_ttl_ms: 3_600_000,
            list_ttl_ms: 60_000,
            read_ttl_ms: 0,
            list_scope: "public".into(),
            read_scope: "private".into(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            page_size: 100,
            max_body_bytes: 4 * 1024 * 1024,
            max_sessions: 10_000,
            session_idle_timeout: Duration::from_secs(30 * 60),
            session_sweep_interval: Duration::from_secs(30),
            sse_heartbeat: Duration::from_secs(15),
            sse_retry_ms: 1_000,
            sse_replay_events: 1_000,
            request_queue: 64,
            elicitation_timeout: Duration::from_secs(300),
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            max_in_flight_per_session: 32,
            max_in_flight_per_ip: 256,
            max_streams_per_session: 8,
            max_pending_requests_per_session: 16,
            max_json_depth: 64,
            max_id_bytes: 256,
            call_timeout: Duration::from_secs(600),
            header_read_timeout: Duration::from_secs(10),
            http1_max_buf_bytes: 8192,
            shutdown_grace: Duration::from_secs(10),
            cache: CacheConfig::default(),
            state_key: None,
            state_ttl: Duration::from_secs(600),
            listen_buffer: 256,
            stream_after: Duration::from_secs(1),
            redis_url: None,
            redis_prefix: "musehub".into(),
            redis_timeout: Duration::from_secs(1),
        }
    }
}

impl ServerConfig {
    /// Reads overrides from the environment: adds origins from `MUSEHUB_ALLOWED_ORIGINS` and
    /// hosts from `MUSEHUB_ALLOWED_HOSTS` (comma-separated), and takes
    /// `MUSEHUB_SESSION_IDLE_SECS`, `MUSEHUB_SESSION_SWEEP_SECS`, `MUSEHUB_MAX_SESSIONS`,
    /// `MUSEHUB_MAX_BODY_BYTES`, `MUSEHUB_HTTP1_MAX_BUF_BYTES`, `MUSEHUB_SHUTDOWN_GRACE_SECS`, `MUSEHUB_STATE_KEY` and
    /// `MUSEHUB_REDIS_URL` when set; unparsable numbers are ignored.
    pub fn with_env(mut self) -> Self {
        if let Ok(v) = std::env::var("MUSEHUB_ALLOWED_ORIGINS") {
            self.allowed_origins.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            );
        }
        let secs = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .and_then(|v| Duration::try_from_secs_f64(v).ok())
        };
        let count = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
        };
        if let Some(d) = secs("MUSEHUB_SESSION_IDLE_SECS") {
            self.session_idle_timeout = d;
        }
        if let Some(d) = secs("MUSEHUB_SESSION_SWEEP_SECS") {
            self.session_sweep_interval = d;
        }
        if let Some(n) = count("MUSEHUB_MAX_SESSIONS") {
            self.max_sessions = n;
        }
        if let Some(n) = count("MUSEHUB_MAX_BODY_BYTES") {
            self.max_body_bytes = n;
        }
        if let Some(n) = count("MUSEHUB_HTTP1_MAX_BUF_BYTES") {
            self.http1_max_buf_bytes = n;
        }
        if let Some(d) = secs("MUSEHUB_SHUTDOWN_GRACE_SECS") {
            self.shutdown_grace = d;
        }
        if let Ok(v) = std::env::var("MUSEHUB_STATE_KEY") {
            self.state_key = Some(v);
        }
        if let Ok(v) = std::env::var("MUSEHUB_REDIS_URL")
            && !v.trim().is_empty()
        {
            self.redis_url = Some(v.trim().to_string());
        }
        if let Ok(v) = std::env::var("MUSEHUB_ALLOWED_HOSTS") {
            self.allowed_hosts.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            );
        }
        self
    }
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        f64::deserialize(d).and_then(|s| {
            Duration::try_from_secs_f64(s)
                .map_err(|_| serde::de::Error::custom("expected a non-negative number of seconds"))
        })
    }
}
