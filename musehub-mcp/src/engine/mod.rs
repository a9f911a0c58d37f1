//! The protocol engine: negotiates `initialize` and dispatches every MCP method to the
//! registry. Transports (HTTP, stdio) decode messages, hand them here, and carry the results
//! and any messages a call emits on the way back.

pub mod lists;
pub mod modern;
pub mod mrtr;

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::context::{Caller, Ctx, CtxInner, Outgoing, StateMap};
use crate::error::McpError;
use crate::protocol::jsonrpc::{Notification, Request, RequestId, ResultBody, encode_message};
use crate::protocol::types::LogLevel;
use crate::protocol::version::ProtocolVersion;
use crate::registry::{Completion, CompletionDef, Registry, RegistryError};
use crate::session::{Session, SessionStore};
use crate::shared::{Backplane, BusMessage};
use lists::Lists;
pub use modern::{Change, Notifier};
use mrtr::{Rounds, StateKey};

/// Name, version and the rest of what `initialize` tells clients about the server.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    /// `serverInfo.name`.
    pub name: String,
    /// `serverInfo.version`.
    pub version: String,
    /// `serverInfo.title`.
    pub title: Option<String>,
    /// `instructions` for the model.
    pub instructions: Option<String>,
}

/// A built server: registry, lists, sessions, shared state and settings. Shared by every
/// transport through an `Arc`.
pub struct Server {
    pub(crate) info: ServerInfo,
    pub(crate) config: ServerConfig,
    pub(crate) registry: &'static Registry,
    pub(crate) lists: Lists,
    pub(crate) modern_lists: Lists,
    /// The fields every 2026-07-28 result carries, pre-built.
    pub(crate) modern: modern::ModernResultFields,
    pub(crate) sessions: SessionStore,
    pub(crate) state: Arc<StateMap>,
    /// Seals MRTR request states; see [`Server::state_key`].
    state_key: parking_lot::RwLock<StateKey>,
    /// False until the key was agreed with the other instances (see
    /// [`Server::sync_state_key`]); true from the start without a backplane or with a
    /// configured key.
    state_key_synced: std::sync::atomic::AtomicBool,
    /// True while the bus of the backplane is subscribed (always true without one).
    pub(crate) bus_up: std::sync::atomic::AtomicBool,
    pub(crate) changes: tokio::sync::broadcast::Sender<Change>,
    /// Fires when the server shuts down (ends `subscriptions/listen` streams).
    pub(crate) shutdown: CancellationToken,
    /// MSign verification, when the server authenticates callers.
    pub(crate) auth: Option<Arc<crate::auth::MSignVerifier>>,
    /// Per-identity rate limits, when configured.
    pub(crate) limits: Option<Arc<crate::auth::RateLimits>>,
    /// Requests being handled per client address.
    pub(crate) in_flight_by_ip: crate::util::Counters<Option<std::net::IpAddr>>,
    /// The store shared with the other instances, when the server runs as one of several.
    pub(crate) backplane: Option<Arc<dyn Backplane>>,
    capabilities: Value,
    docs: crate::docs::DocsOptions,
}

/// Configures and builds a [`Server`].
pub struct ServerBuilder {
    info: ServerInfo,
    config: ServerConfig,
    state: StateMap,
    docs: crate::docs::DocsOptions,
    auth: Option<Arc<crate::auth::MSignVerifier>>,
    limits: Option<Arc<crate::auth::RateLimits>>,
    backplane: Option<Arc<dyn Backplane>>,
}

impl ServerBuilder {
    /// Shares sessions, event logs, answers, subscriptions and MSign nonces with other
    /// instances through this store (instead of the one [`ServerConfig::redis_url`] names).
    /// See [`crate::shared`].
    pub fn backplane(mut self, backplane: Arc<dyn Backplane>) -> Self {
        self.backplane = Some(backplane);
        self
    }

    /// Authenticates callers with MSign request signatures (docs/msign.md). Unsigned requests
    /// stay anonymous; write tools then need a signature (HTTP 401 with the challenge, realm =
    /// the server name).
    pub fn auth(mut self, verifier: crate::auth::MSignVerifier) -> Self {
        self.auth = Some(Arc::new(verifier));
        self
    }

    /// Applies per-identity rate limits (HTTP 429 past them).
    pub fn rate_limits(mut self, limits: Arc<crate::auth::RateLimits>) -> Self {
        self.limits = Some(limits);
        self
    }

    /// The server's display title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.info.title = Some(title.into());
        self
    }
    /// The server's version (defaults to this crate's).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.info.version = version.into();
        self
    }
    /// Instructions sent to the client in `initialize`.
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.info.instructions = Some(text.into());
        self
    }
    /// Replaces the settings.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }
    /// Configures the documentation surfaces (`/mcp/docs`, `/mcp/docs.json`) that
    /// [`crate::transport::http::router`] serves: auth scheme, categories, public URL, or
    /// [`crate::docs::DocsOptions::disabled`].
    pub fn docs(mut self, options: crate::docs::DocsOptions) -> Self {
        self.docs = options;
        self
    }
    /// Registers shared state, extracted in tools with `State<T>`.
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }
    /// Builds the registry (once per process) and the server around it. Fails on duplicate
    /// names or unusable schemas, naming the declarations at fault.
    pub fn build(self) -> Result<Arc<Server>, RegistryError> {
        let registry = Registry::global().map_err(Clone::clone)?;
        let lists = Lists::build(registry, self.config.page_size, &Map::new());
        let capabilities = capabilities(registry);
        let backplane: Option<Arc<dyn Backplane>> = match (self.backplane, &self.config.redis_url) {
            (Some(b), _) => Some(b),
            (None, Some(url)) => Some(Arc::new(crate::shared::RedisBackplane::new(
                url,
                &self.config.redis_prefix,
                self.config.session_idle_timeout,
                self.config.sse_replay_events,
                self.config.redis_timeout,
            )?)),
            (None, None) => None,
        };
        let mut auth = self.auth;
        // Nonces must be shared too, or a request replayed to another instance would pass.
        if let (Some(b), Some(verifier)) = (&backplane, auth.as_mut())
            && let Some(v) = Arc::get_mut(verifier)
        {
            v.share_nonces(b.nonces());
        }
        let sessions = match &backplane {
            Some(b) => SessionStore::shared(
                self.config.max_sessions,
                self.config.session_idle_timeout,
                self.config.sse_replay_events,
                b.instance(),
            ),
            None => SessionStore::new(
                self.config.max_sessions,
                self.config.session_idle_timeout,
                self.config.sse_replay_events,
            ),
        };
        let key_synced = backplane.is_none() || self.config.state_key.is_some();
        // With a backplane, not ready until its bus is subscribed.
        let bus_up = backplane.is_none();
        let modern = modern::ModernResultFields::new(&self.info);
        let mut server = Server {
            modern,
            info: self.info,
            sessions,
            backplane,
            state_key: parking_lot::RwLock::new(StateKey::new(self.config.state_key.as_deref())),
            state_key_synced: std::sync::atomic::AtomicBool::new(key_synced),
            bus_up: std::sync::atomic::AtomicBool::new(bus_up),
            changes: tokio::sync::broadcast::channel(self.config.listen_buffer.max(1)).0,
            shutdown: CancellationToken::new(),
            auth,
            limits: self.limits,
            in_flight_by_ip: crate::util::Counters::default(),
            registry,
            lists,
            // Built below, once the server info their `_meta` carries is in place.
            modern_lists: Lists::empty(),
            state: Arc::new(self.state),
            capabilities,
            config: self.config,
            docs: self.docs,
        };
        server.modern_lists = Lists::build(
            registry,
            server.config.page_size,
            &server.modern_list_fields(),
        );
        Ok(Arc::new(server))
    }
}

fn capabilities(registry: &Registry) -> Value {
    let mut caps = Map::new();
    if !registry.tools.is_empty() {
        caps.insert("tools".into(), json!({ "listChanged": true }));
    }
    if !registry.resources.is_empty() || !registry.templates.is_empty() {
        caps.insert(
            "resources".into(),
            json!({ "subscribe": true, "listChanged": true }),
        );
    }
    if !registry.prompts.is_empty() {
        caps.insert("prompts".into(), json!({ "listChanged": true }));
    }
    caps.insert("logging".into(), json!({}));
    let has_completions = registry
        .prompts
        .iter()
        .any(|p| !p.def.completions.is_empty())
        || registry
            .templates
            .iter()
            .any(|t| !t.def.completions.is_empty());
    if has_completions {
        caps.insert("completions".into(), json!({}));
    }
    Value::Object(caps)
}

/// What the transport knows about one incoming request.
pub struct CallEnv {
    /// The session, in the handshake era.
    pub session: Option<Arc<Session>>,
    /// Who calls.
    pub caller: Caller,
    /// The revision the request is served under.
    pub protocol_version: ProtocolVersion,
    /// The client's capabilities.
    pub client_capabilities: Arc<Value>,
    /// The request's own stream back to the client, when the transport has one.
    pub outbound: Option<mpsc::Sender<Outgoing>>,
    /// Fires when the request is cancelled.
    pub cancel: CancellationToken,
    /// 2026-07-28 era: the request's log level (no log messages when `None`).
    pub log_level: Option<LogLevel>,
    /// 2026-07-28 era: the call's input rounds (set by the engine).
    pub rounds: Option<Arc<Rounds>>,
}

impl CallEnv {
    /// A request in the handshake era, over a session or not.
    pub fn handshake(
        session: Option<Arc<Session>>,
        caller: Caller,
        outbound: Option<mpsc::Sender<Outgoing>>,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            protocol_version: session
                .as_ref()
                .map(|s| s.protocol_version)
                .unwrap_or(ProtocolVersion::LATEST),
            client_capabilities: session
                .as_ref()
                .map(|s| s.client_capabilities.clone())
                .unwrap_or_else(|| Arc::new(json!({}))),
            session,
            caller,
            outbound,
            cancel,
            log_level: None,
            rounds: None,
        }
    }

    /// A request of the 2026-07-28 era, described by its envelope.
    pub fn modern(
        version: ProtocolVersion,
        envelope: modern::Envelope,
        caller: Caller,
        outbound: Option<mpsc::Sender<Outgoing>>,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            session: None,
            caller,
            protocol_version: version,
            client_capabilities: Arc::new(envelope.client_capabilities),
            outbound,
            cancel,
            log_level: envelope.log_level,
            rounds: None,
        }
    }
}

/// What [`Server::call_as_client`] observed: the result and the notifications sent before it.
#[derive(Debug)]
pub struct InProcessOutcome {
    /// The result, or the JSON-RPC error.
    pub result: Result<Value, McpError>,
    /// Progress, log and other notifications, in order.
    pub notifications: Vec<Value>,
}

/// The JSON-RPC code for a request cancelled by the client (`notifications/cancelled`); the
/// client ignores this response (basic/utilities/cancellation.mdx).
pub const REQUEST_CANCELLED: i64 = -32800;

impl Server {
    /// Starts configuring a server named `name`.
    pub fn builder(name: impl Into<String>) -> ServerBuilder {
        ServerBuilder {
            info: ServerInfo {
                name: name.into(),
                version: env!("CARGO_PKG_VERSION").into(),
                title: None,
                instructions: None,
            },
            config: ServerConfig::default(),
            state: StateMap::default(),
            auth: None,
            limits: None,
            backplane: None,
            docs: crate::docs::DocsOptions::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The documentation settings (see [`ServerBuilder::docs`]).
    pub fn docs_options(&self) -> &crate::docs::DocsOptions {
        &self.docs
    }

    /// The registry served.
    pub fn registry(&self) -> &'static Registry {
        self.registry
    }

    /// The live sessions.
    pub fn sessions(&self) -> &SessionStore {
        &self.sessions
    }

    /// Server name, version, title and instructions.
    pub fn info(&self) -> &ServerInfo {
        &self.info
    }

    /// The capabilities advertised in `initialize`, derived from what is registered.
    pub fn capabilities(&self) -> &Value {
        &self.capabilities
    }

    /// Answers an `initialize`: the negotiated revision and the result object. The caller
    /// (the transport) creates the session.
    pub fn negotiate(
        &self,
        params: Option<&Map<String, Value>>,
    ) -> Result<(ProtocolVersion, Value), McpError> {
        let params = params.ok_or_else(|| McpError::invalid_params("initialize needs params"))?;
        let requested = params
            .get("protocolVersion")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                McpError::invalid_params("initialize needs a string `protocolVersion`")
            })?;
        if !params.get("capabilities").is_some_and(Value::is_object) {
            return Err(McpError::invalid_params(
                "initialize needs a `capabilities` object",
            ));
        }
        // Lifecycle, "Version Negotiation": answer the client's revision when we speak it,
        // otherwise the latest we support.
        // `initialize` is the handshake era's: a client asking for a modern revision in it is
        // answered with the newest handshake revision, as for any revision we lack.
        let version = requested
            .parse::<ProtocolVersion>()
            .ok()
            .filter(|v| !v.is_modern())
            .unwrap_or(ProtocolVersion::LATEST);
        let mut info = Map::new();
        info.insert("name".into(), self.info.name.clone().into());
        info.insert("version".into(), self.info.version.clone().into());
        if let Some(t) = &self.info.title {
            info.insert("title".into(), t.clone().into());
        }
        let mut result = Map::new();
        result.insert("protocolVersion".into(), version.as_str().into());
        result.insert("capabilities".into(), self.capabilities.clone());
        result.insert("serverInfo".into(), Value::Object(info));
        if let Some(i) = &self.info.instructions {
            result.insert("instructions".into(), i.clone().into());
        }
        Ok((version, Value::Object(result)))
    }

    /// Serves one request (anything but `initialize`).
    pub async fn handle_request(
        self: &Arc<Self>,
        req: Request,
        env: CallEnv,
    ) -> Result<ResultBody, McpError> {
        let params = req.params;
        match req.method.as_str() {
            "ping" => Ok(json!({}).into()),
            "tools/list" => self.lists.tools.page(cursor(&params)?).map(ResultBody::Raw),
            "resources/list" => self
                .lists
                .resources
                .page(cursor(&params)?)
                .map(ResultBody::Raw),
            "resources/templates/list" => self
                .lists
                .templates
                .page(cursor(&params)?)
                .map(ResultBody::Raw),
            "prompts/list" => self
                .lists
                .prompts
                .page(cursor(&params)?)
                .map(ResultBody::Raw),
            "tools/call" => self.call_tool(req.id, params, env).await,
            "resources/read" => self.read_resource(req.id, params, env).await,
            "resources/subscribe" | "resources/unsubscribe" => {
                let uri = string_param(&params, "uri")?;
                let session = env
                    .session
                    .as_ref()
                    .ok_or_else(|| McpError::invalid_request("subscriptions need a session"))?;
                if req.method == "resources/subscribe" {
                    session.subscribe(uri);
                } else {
                    session.unsubscribe(uri);
                }
                if let Some(b) = &self.backplane {
                    let stored = if req.method == "resources/subscribe" {
                        b.subscribe(session.id(), uri).await
                    } else {
                        b.unsubscribe(session.id(), uri).await
                    };
                    stored.map_err(|e| McpError::internal(e.to_string()))?;
                }
                Ok(json!({}).into())
            }
            "prompts/get" => self.get_prompt(req.id, params, env).await,
            "completion/complete" => self.complete(req.id, params, env).await,
            "logging/setLevel" => {
                let level: LogLevel = params
                    .as_ref()
                    .and_then(|p| p.get("level"))
                    .cloned()
                    .and_then(|l| serde_json::from_value(l).ok())
                    .ok_or_else(|| McpError::invalid_params("`level` must be one of debug, info, notice, warning, error, critical, alert, emergency"))?;
                if let Some(s) = &env.session {
                    s.set_log_level(level);
                }
                Ok(json!({}).into())
            }
            "initialize" => Err(McpError::invalid_request(
                "the session is already initialized",
            )),
            other => Err(McpError::method_not_found(other)),
        }
    }

    /// Handles a client notification.
    pub fn handle_notification(&self, n: &Notification, session: Option<&Arc<Session>>) {
        match n.method.as_str() {
            "notifications/initialized" => {
                if let Some(s) = session {
                    s.mark_initialized();
                }
            }
            "notifications/cancelled" => {
                let id = n.params.as_ref().and_then(|p| p.get("requestId"));
                if let (Some(s), Some(id)) = (session, id)
                    && !s.cancel_request(id)
                {
                    // The request may run on another instance.
                    self.spawn_publish(BusMessage::Cancel {
                        session: s.id().to_string(),
                        id: id.clone(),
                    });
                }
            }
            // Progress from the client, roots changes and unknown notifications need no action;
            // JSON-RPC forbids answering a notification, even with an error.
            _ => {}
        }
    }

    fn ctx(
        self: &Arc<Self>,
        id: RequestId,
        params: &Option<Map<String, Value>>,
        env: CallEnv,
    ) -> Ctx {
        let progress_token = params
            .as_ref()
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get("progressToken"))
            .filter(|t| t.is_string() || t.is_number())
            .cloned();
        Ctx {
            inner: Arc::new(CtxInner {
                request_id: Some(id),
                caller: env.caller,
                protocol_version: env.protocol_version,
                client_capabilities: env.client_capabilities,
                session: env.session,
                progress_token,
                cancel: env.cancel,
                outbound: env.outbound,
                state: self.state.clone(),
                elicitation_timeout: self.config.elicitation_timeout,
                max_pending_requests: self.config.max_pending_requests_per_session,
                rounds: env.rounds,
                request_log_level: env.log_level,
                notifier: Some(Notifier(Arc::downgrade(self))),
            }),
        }
    }

    async fn call_tool(
        self: &Arc<Self>,
        id: RequestId,
        mut params: Option<Map<String, Value>>,
        env: CallEnv,
    ) -> Result<ResultBody, McpError> {
        let name = string_param(&params, "name")?.to_string();
        let rpc_id = crate::util::truncate(&id.to_string(), 64).to_string();
        let Some(entry) = self.registry.tool(&name) else {
            return Err(McpError::invalid_params(format!(
                "Unknown tool: {}",
                crate::util::truncate(&name, 128)
            )));
        };
        let arguments = match params.as_mut().and_then(|p| p.remove("arguments")) {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m),
            Some(_) => return Err(McpError::invalid_params("`arguments` must be an object")),
        };
        if entry.def.write && !env.caller.is_authenticated() {
            // Transports that authenticate answer earlier (HTTP 401); this is the last line.
            let e = crate::ToolError::unauthenticated(format!(
                "tool `{}` changes data and needs an authenticated caller",
                entry.def.name
            ));
            return Ok(to_result(e.into_result(), false));
        }
        let cancel = env.cancel.clone();
        let ctx = self.ctx(id, &params, env);
        let args_value = Value::Object(arguments.clone().unwrap_or_default());
        if let Some(err) = entry.validator.iter_errors(&args_value).next() {
            let path = err.instance_path().to_string();
            let field = if path.is_empty() {
                "arguments".to_string()
            } else {
                format!("`{}`", path.trim_start_matches('/').replace('/', "."))
            };
            let message = format!("invalid argument {field}: {err}");
            return Ok(to_result(
                crate::ToolError::invalid_argument(message).into_result(),
                false,
            ));
        }
        let fut = AssertUnwindSafe((entry.def.handler)(ctx, arguments)).catch_unwind();
        // Cancellation wins a tie: a cancelled request gets no ordinary answer.
        let limit = self.config.call_timeout;
        let outcome = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(McpError::new(REQUEST_CANCELLED, "Request cancelled")),
            r = fut => r,
            _ = tokio::time::sleep(limit) => {
                tracing::warn!(tool = %name, rpc_id = %rpc_id, "tool call stopped at the call timeout");
                let e = crate::ToolError::new(
                    "timeout",
                    format!("tool `{name}` did not finish within {} s and was stopped", limit.as_secs_f64()),
                );
                return Ok(to_result(e.into_result(), false));
            }
        };
        match outcome {
            Ok(result) => Ok(to_result(result, entry.wraps_output)),
            Err(panic) => {
                tracing::error!(tool = %name, rpc_id = %rpc_id, panic = %panic_message(&panic), "tool panicked");
                Err(McpError::internal(format!(
                    "tool `{name}` failed unexpectedly"
                )))
            }
        }
    }

    async fn read_resource(
        self: &Arc<Self>,
        id: RequestId,
        params: Option<Map<String, Value>>,
        env: CallEnv,
    ) -> Result<ResultBody, McpError> {
        let uri = string_param(&params, "uri")?.to_string();
        let (def, vars) = if let Some(r) = self.registry.resource(&uri) {
            (r.def, HashMap::new())
        } else if let Some((t, vars)) = self.registry.match_template(&uri) {
            (t.def, vars)
        } else if env.protocol_version.is_modern() {
            // SEP-2164: the 2026-07-28 era reports an unknown resource as invalid params.
            return Err(
                McpError::invalid_params("Resource not found").with_data(json!({ "uri": uri }))
            );
        } else {
            return Err(McpError::resource_not_found(&uri));
        };
        let modern = env.protocol_version.is_modern();
        let ctx = self.ctx(id, &params, env);
        let fut = AssertUnwindSafe((def.handler)(ctx, uri.clone(), vars)).catch_unwind();
        match fut.await {
            Ok(Ok(contents)) if modern => Ok(json!({
                "contents": contents,
                "ttlMs": def.ttl_ms.unwrap_or(self.config.cache.read_ttl_ms),
                "cacheScope": def.cache_scope.unwrap_or(&self.config.cache.read_scope),
            })
            .into()),
            Ok(Ok(contents)) => Ok(json!({ "contents": contents }).into()),
            Ok(Err(e)) => Err(e),
            Err(panic) => {
                tracing::error!(uri = %uri, panic = %panic_message(&panic), "resource panicked");
                Err(McpError::internal("the resource failed unexpectedly"))
            }
        }
    }

    async fn get_prompt(
        self: &Arc<Self>,
        id: RequestId,
        params: Option<Map<String, Value>>,
        env: CallEnv,
    ) -> Result<ResultBody, McpError> {
        let name = string_param(&params, "name")?.to_string();
        let entry = self.registry.prompt(&name).ok_or_else(|| {
            McpError::invalid_params(format!(
                "Unknown prompt: {}",
                crate::util::truncate(&name, 128)
            ))
        })?;
        let mut args = HashMap::new();
        if let Some(a) = params.as_ref().and_then(|p| p.get("arguments")) {
            let obj = a.as_object().ok_or_else(|| {
                McpError::invalid_params("`arguments` must be an object of strings")
            })?;
            for (k, v) in obj {
                let s = v.as_str().ok_or_else(|| {
                    McpError::invalid_params(format!(
                        "argument `{}` must be a string",
                        crate::util::truncate(k, 64)
                    ))
                })?;
                args.insert(k.clone(), s.to_string());
            }
        }
        let ctx = self.ctx(id, &params, env);
        let fut = AssertUnwindSafe((entry.def.handler)(ctx, args)).catch_unwind();
        match fut.await {
            Ok(Ok(result)) => serde_json::to_value(result)
                .map(ResultBody::from)
                .map_err(|e| McpError::internal(e.to_string())),
            Ok(Err(e)) => Err(e),
            Err(panic) => {
                tracing::error!(prompt = %name, panic = %panic_message(&panic), "prompt panicked");
                Err(McpError::internal("the prompt failed unexpectedly"))
            }
        }
    }

    async fn complete(
        self: &Arc<Self>,
        id: RequestId,
        params: Option<Map<String, Value>>,
        env: CallEnv,
    ) -> Result<ResultBody, McpError> {
        let p = params
            .as_ref()
            .ok_or_else(|| McpError::invalid_params("completion/complete needs params"))?;
        let reference = p
            .get("ref")
            .ok_or_else(|| McpError::invalid_params("missing `ref`"))?;
        let argument = p
            .get("argument")
            .ok_or_else(|| McpError::invalid_params("missing `argument`"))?;
        let arg_name = argument
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| McpError::invalid_params("missing `argument.name`"))?;
        let value = argument.get("value").and_then(Value::as_str).unwrap_or("");
        let hooks: &[CompletionDef] = match reference.get("type").and_then(Value::as_str) {
            Some("ref/prompt") => {
                let name = reference.get("name").and_then(Value::as_str).unwrap_or("");
                self.registry
                    .prompt(name)
                    .ok_or_else(|| {
                        McpError::invalid_params(format!(
                            "Unknown prompt: {}",
                            crate::util::truncate(name, 128)
                        ))
                    })?
                    .def
                    .completions
            }
            Some("ref/resource") => {
                let uri = reference.get("uri").and_then(Value::as_str).unwrap_or("");
                match self.registry.templates.iter().find(|t| t.def.uri == uri) {
                    Some(t) => t.def.completions,
                    None => match self.registry.resource(uri) {
                        Some(r) => r.def.completions,
                        None => {
                            return Err(McpError::invalid_params(
                                "unknown resource template in `ref.uri`",
                            ));
                        }
                    },
                }
            }
            _ => {
                return Err(McpError::invalid_params(
                    "`ref.type` must be ref/prompt or ref/resource",
                ));
            }
        };
        let context: HashMap<String, String> = p
            .get("context")
            .and_then(|c| c.get("arguments"))
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let mut values = match hooks.iter().find(|h| h.argument == arg_name) {
            Some(hook) => {
                let req = Completion {
                    argument: arg_name.to_string(),
                    value: value.to_string(),
                    context,
                    ctx: self.ctx(id, &params, env),
                };
                (hook.handler)(req).await
            }
            None => Vec::new(),
        };
        // The spec caps a completion response at 100 values (server/utilities/completion.mdx).
        let total = values.len();
        values.truncate(100);
        Ok(
            json!({ "completion": { "values": values, "total": total, "hasMore": total > 100 } })
                .into(),
        )
    }

    /// Serves one request in-process, with no transport and no session: for tests and for
    /// embedding. The caller is given; the client declares no capabilities, so tools that
    /// elicit or sample get a clear tool error.
    pub async fn call(
        self: &Arc<Self>,
        caller: Caller,
        method: &str,
        params: Value,
    ) -> Result<Value, McpError> {
        let params = match params {
            Value::Object(m) => Some(m),
            Value::Null => None,
            _ => return Err(McpError::invalid_params("params must be an object")),
        };
        let req = Request {
            id: json!("in-process"),
            method: method.to_string(),
            params,
        };
        let env = CallEnv::handshake(None, caller, None, CancellationToken::new());
        match self.handle_request(req, env).await? {
            ResultBody::Value(v) => Ok(v),
            ResultBody::Raw(b) => {
                serde_json::from_slice(&b).map_err(|e| McpError::internal(e.to_string()))
            }
        }
    }

    /// Serves one request in-process as a handshake-era client that declares `capabilities`
    /// (for tests of tools that elicit, sample or report progress): every server-to-client
    /// request the call makes is answered by `answer(method, params)`, and every notification
    /// it sends is collected. A real session is used and ended afterwards.
    pub async fn call_as_client(
        self: &Arc<Self>,
        caller: Caller,
        capabilities: Value,
        method: &str,
        params: Value,
        answer: impl Fn(&str, &Value) -> Value + Send,
    ) -> InProcessOutcome {
        let session = match self.sessions.create(
            ProtocolVersion::LATEST,
            capabilities,
            json!({"name": "in-process", "version": "0"}),
            caller.handle().map(str::to_string),
        ) {
            Ok(s) => s,
            Err(e) => {
                return InProcessOutcome {
                    result: Err(McpError::internal(e.to_string())),
                    notifications: Vec::new(),
                };
            }
        };
        let req = Request {
            id: json!("in-process"),
            method: method.to_string(),
            params: params.as_object().cloned(),
        };
        let (tx, mut rx) = mpsc::channel(self.config.request_queue.max(1));
        let env = CallEnv::handshake(
            Some(session.clone()),
            caller,
            Some(tx),
            CancellationToken::new(),
        );
        let server = self.clone();
        let mut call = Box::pin(async move { server.handle_request(req, env).await });
        let mut notifications = Vec::new();
        let outcome = loop {
            tokio::select! {
                outcome = &mut call => break outcome,
                Some(msg) = rx.recv() => {
                    let Outgoing::Message(bytes) = msg else { continue };
                    let Ok(v) = serde_json::from_slice::<Value>(&bytes) else { continue };
                    match (v.get("id"), v.get("method").and_then(Value::as_str)) {
                        (Some(id), Some(m)) => {
                            let reply = answer(m, v.get("params").unwrap_or(&Value::Null));
                            session.resolve_request(id, Ok(reply));
                        }
                        _ => notifications.push(v),
                    }
                }
            }
        };
        // Messages sent just before the result.
        while let Ok(Outgoing::Message(bytes)) = rx.try_recv() {
            if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                notifications.push(v);
            }
        }
        self.sessions.remove(session.id());
        let result = outcome.and_then(|body| match body {
            ResultBody::Value(v) => Ok(v),
            ResultBody::Raw(b) => {
                serde_json::from_slice(&b).map_err(|e| McpError::internal(e.to_string()))
            }
        });
        InProcessOutcome {
            result,
            notifications,
        }
    }

    /// Tells every session subscribed to `uri` that it changed (`notifications/resources/updated`).
    /// With a shared store, every instance's sessions (through the shared logs).
    pub fn notify_resource_updated(&self, uri: &str) {
        let msg = encode_message(
            None,
            "notifications/resources/updated",
            &json!({ "uri": uri }),
        );
        match &self.backplane {
            Some(b) => {
                let (store, uri_owned) = (b.clone(), uri.to_string());
                spawn(async move {
                    match store.subscribers(&uri_owned).await {
                        Ok(targets) => append_all(&*store, targets, msg).await,
                        Err(e) => tracing::warn!(error = %e, "resource-updated not shared"),
                    }
                });
            }
            None => {
                for s in self.sessions.all() {
                    if s.is_subscribed(uri) {
                        s.standalone().push(msg.clone());
                    }
                }
            }
        }
        self.announce(Change::ResourceUpdated(uri.to_string()));
    }

    /// Tells the 2026-07-28 listen streams about a change: this instance's at once (whether or
    /// not a shared store answers), the other instances' through the bus.
    fn announce(&self, change: Change) {
        if let Some(b) = &self.backplane {
            self.spawn_publish(BusMessage::Changed {
                origin: b.instance().to_string(),
                change: change.clone(),
            });
        }
        self.broadcast(change);
    }

    /// Tells every session that a list changed: `kind` is `tools`, `resources` or `prompts`.
    pub fn notify_list_changed(&self, kind: &str) {
        let msg = encode_message(
            None,
            &format!("notifications/{kind}/list_changed"),
            &json!({}),
        );
        match &self.backplane {
            Some(b) => {
                let store = b.clone();
                spawn(async move {
                    match store.sessions().await {
                        Ok(targets) => append_all(&*store, targets, msg).await,
                        Err(e) => tracing::warn!(error = %e, "list-changed not shared"),
                    }
                });
            }
            None => {
                for s in self.sessions.all() {
                    s.standalone().push(msg.clone());
                }
            }
        }
        self.announce(Change::ListChanged(kind.to_string()));
    }
}

/// Runs a task on the current runtime, if any (notifications raised outside one are dropped
/// with a warning rather than panicking).
fn spawn(f: impl Future<Output = ()> + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(h) => {
            h.spawn(f);
        }
        Err(_) => tracing::warn!("no async runtime: a shared notification was dropped"),
    }
}

/// Appends one message to the standalone stream of each `(session, stream)`; the bus brings
/// it to whichever instance holds the session's GET stream.
async fn append_all(b: &dyn Backplane, targets: Vec<(String, String)>, msg: bytes::Bytes) {
    for (session, stream) in targets {
        if let Err(e) = b.append_event(&session, &stream, &msg).await {
            tracing::warn!(error = %e, "notification not stored");
            return;
        }
    }
}

impl Server {
    /// Publishes on the shared bus in the background (no-op without a shared store).
    pub(crate) fn spawn_publish(&self, message: BusMessage) {
        if let Some(b) = &self.backplane {
            let b = b.clone();
            spawn(async move {
                if let Err(e) = b.publish(message).await {
                    tracing::warn!(error = %e, "bus message not published");
                }
            });
        }
    }

    /// The store shared with other instances, if any.
    pub fn backplane(&self) -> Option<&Arc<dyn Backplane>> {
        self.backplane.as_ref()
    }

    /// Applies one bus message to this instance's replicas.
    pub(crate) fn on_bus(&self, message: BusMessage) {
        match message {
            BusMessage::Event {
                session,
                stream,
                seq,
                data,
            } => {
                if let Some(s) = self.sessions.peek(&session)
                    && let Some(st) = s.stream(&stream)
                {
                    st.merge(seq, data);
                }
            }
            BusMessage::Finished { session, stream } => {
                if let Some(s) = self.sessions.peek(&session)
                    && let Some(st) = s.stream(&stream)
                {
                    st.finish();
                }
            }
            BusMessage::Answer {
                session,
                id,
                answer,
            } => {
                if let Some(s) = self.sessions.peek(&session) {
                    s.resolve_request(&id, answer);
                }
            }
            BusMessage::Cancel { session, id } => {
                if let Some(s) = self.sessions.peek(&session) {
                    s.cancel_request(&id);
                }
            }
            BusMessage::Deleted { session } => {
                self.sessions.remove(&session);
            }
            BusMessage::Changed { origin, change } => {
                let ours = self
                    .backplane
                    .as_ref()
                    .is_some_and(|b| b.instance() == origin);
                if !ours {
                    self.broadcast(change);
                }
            }
            BusMessage::Connected | BusMessage::Disconnected => {}
        }
    }

    /// True when this instance hears the others: always without a backplane; with one, while
    /// its bus subscription is up, so changes, answers and stream events raised on other
    /// instances reach it. For readiness probes: an instance that just started (or lost
    /// Redis) should not get traffic before it is.
    pub fn is_ready(&self) -> bool {
        self.bus_up.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The key that seals MRTR request states: the configured one (`state_key`), else, with a
    /// backplane, one agreed with the other instances through the store so a state sealed by
    /// one opens on any, else this process's random key.
    pub(crate) async fn state_key(&self) -> StateKey {
        if !self
            .state_key_synced
            .load(std::sync::atomic::Ordering::Acquire)
        {
            self.sync_state_key().await;
        }
        self.state_key.read().clone()
    }

    /// Offers this instance's key to the store and adopts the one it holds (the first
    /// offered wins). Runs on first use, after each bus (re)connection and at every session
    /// sweep, so a Redis that restarted empty (or evicted the key) gets it back from the
    /// instances that hold it. While the store is unreachable the instance keeps its own key
    /// (states it seals then open only on it) and tries again on the next use.
    pub(crate) async fn sync_state_key(&self) {
        let Some(b) = &self.backplane else { return };
        if self.config.state_key.is_some() {
            return;
        }
        use std::sync::atomic::Ordering;
        let ours = self.state_key.read().to_bytes();
        match b.shared_secret("mrtr-state-key", &ours).await {
            Ok(bytes) => match StateKey::from_bytes(&bytes) {
                Some(key) => {
                    let was_synced = self.state_key_synced.load(Ordering::Acquire);
                    if was_synced && key.to_bytes() != ours {
                        tracing::warn!(
                            "the shared requestState key changed (the store lost it and another \
                             instance set a new one); states sealed before no longer open"
                        );
                    }
                    *self.state_key.write() = key;
                    self.state_key_synced.store(true, Ordering::Release);
                }
                None => {
                    self.state_key_synced.store(false, Ordering::Release);
                    tracing::warn!("the shared store holds a malformed requestState key");
                }
            },
            Err(e) => {
                self.state_key_synced.store(false, Ordering::Release);
                tracing::warn!(error = %e, "requestState key not agreed yet");
            }
        }
    }

    /// Catches this instance's live streams up with the shared logs (after the bus was
    /// down, messages sent meanwhile were not received).
    pub(crate) async fn resync(&self) {
        let Some(b) = &self.backplane else { return };
        for s in self.sessions.all() {
            for st in s.live_streams() {
                let after = st.next_seq().saturating_sub(1);
                match b.read_events(s.id(), st.id(), after).await {
                    Ok(Some(stored)) => {
                        for (seq, data) in stored.events {
                            st.merge(seq, data);
                        }
                        if stored.finished {
                            st.finish();
                        }
                    }
                    Ok(None) => {}
                    Err(_) => return,
                }
            }
        }
    }
}

fn to_result(mut result: crate::protocol::types::CallToolResult, wraps_output: bool) -> ResultBody {
    if wraps_output
        && !result.is_error
        && let Some(v) = result.structured_content.take()
    {
        result.structured_content = Some(json!({ "result": v }));
    }
    match serde_json::to_value(&result) {
        Ok(v) => ResultBody::Value(v),
        Err(_) => ResultBody::Value(json!({"content": [], "isError": true})),
    }
}

pub(crate) fn cursor(params: &Option<Map<String, Value>>) -> Result<Option<&str>, McpError> {
    match params.as_ref().and_then(|p| p.get("cursor")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(McpError::invalid_params("`cursor` must be a string")),
    }
}

fn string_param<'a>(
    params: &'a Option<Map<String, Value>>,
    key: &str,
) -> Result<&'a str, McpError> {
    params
        .as_ref()
        .and_then(|p| p.get(key))
        .and_then(Value::as_str)
        .ok_or_else(|| McpError::invalid_params(format!("missing string parameter `{key}`")))
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".into())
}
