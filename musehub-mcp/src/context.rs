//! The call context and the injected helpers a tool can take as parameters.
//!
//! `Ctx` is cheap to clone (one `Arc`). The helpers (`Progress`, `Elicitation`, `Logger`,
//! `Caller`, `State<T>`, `CancellationToken`) are extracted from it through [`FromCtx`], the
//! way axum extractors come from request parts.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::mpsc;
pub use tokio_util::sync::CancellationToken;

use crate::engine::mrtr::Rounds;
use crate::error::ToolError;
use crate::protocol::jsonrpc::{RequestId, encode_message};
use crate::protocol::types::LogLevel;
use crate::protocol::version::ProtocolVersion;
use crate::session::Session;

/// The code of the `ToolError` that stops a handler waiting for client input in the
/// 2026-07-28 era; the engine turns the call into an `InputRequiredResult`.
pub const INPUT_REQUIRED: &str = "input_required";
/// The code of the `ToolError` for a client capability the call needs and the client lacks.
pub const MISSING_CAPABILITY: &str = "missing_capability";

/// Who is calling.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The authenticated identity, `None` for anonymous callers.
    pub identity: Option<Identity>,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The handle (user name).
    pub handle: String,
    /// True when the key belongs to an AI agent.
    pub is_agent: bool,
    /// The agent's name, for agent keys.
    pub agent_name: Option<String>,
}

impl Caller {
    /// An anonymous caller.
    pub fn anonymous() -> Self {
        Self::default()
    }
    /// True when the request was authenticated.
    pub fn is_authenticated(&self) -> bool {
        self.identity.is_some()
    }
    /// The caller's handle, if authenticated.
    pub fn handle(&self) -> Option<&str> {
        self.identity.as_ref().map(|i| i.handle.as_str())
    }
}

/// Typed shared state registered on the server, looked up by type.
#[derive(Default)]
pub struct StateMap {
    values: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl StateMap {
    /// Stores a value, replacing one of the same type.
    pub fn insert<T: Clone + Send + Sync + 'static>(&mut self, value: T) {
        self.values.insert(TypeId::of::<T>(), Box::new(value));
    }
    /// A clone of the stored value of type `T`.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|b| b.downcast_ref::<T>())
            .cloned()
    }
}

/// A message a running request sends before (or as) its result.
#[derive(Debug)]
pub enum Outgoing {
    /// A notification or server-to-client request on the request's stream.
    Message(Bytes),
    /// The response; nothing follows it.
    Final(Bytes),
    /// Ask the transport to end the current HTTP response; the client resumes later.
    CloseStream,
}

/// The call context: who calls, over which session and revision, and the channels back to
/// the client.
#[derive(Clone)]
pub struct Ctx {
    pub(crate) inner: Arc<CtxInner>,
}

pub(crate) struct CtxInner {
    pub request_id: Option<RequestId>,
    pub caller: Caller,
    pub protocol_version: ProtocolVersion,
    pub client_capabilities: Arc<Value>,
    pub session: Option<Arc<Session>>,
    pub progress_token: Option<Value>,
    pub cancel: CancellationToken,
    pub outbound: Option<mpsc::Sender<Outgoing>>,
    pub state: Arc<StateMap>,
    pub elicitation_timeout: Duration,
    /// Most server-to-client requests awaiting answers on the session.
    pub max_pending_requests: usize,
    /// Modern era: the call's input rounds (answers so far, requests made).
    pub rounds: Option<Arc<Rounds>>,
    /// Modern era: the request's `io.modelcontextprotocol/logLevel` (no logs when absent).
    pub request_log_level: Option<LogLevel>,
    /// For change notifications raised by tools.
    pub notifier: Option<crate::engine::Notifier>,
}

impl Ctx {
    /// The caller.
    pub fn caller(&self) -> &Caller {
        &self.inner.caller
    }
    /// The protocol revision of this call.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.protocol_version
    }
    /// The client's declared capabilities.
    pub fn client_capabilities(&self) -> &Value {
        &self.inner.client_capabilities
    }
    /// The session id, in the handshake era.
    pub fn session_id(&self) -> Option<&str> {
        self.inner.session.as_ref().map(|s| s.id())
    }
    /// The JSON-RPC id of the request being served.
    pub fn request_id(&self) -> Option<&RequestId> {
        self.inner.request_id.as_ref()
    }
    /// Fires when the client cancels the request or the session ends.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.inner.cancel
    }
    /// Shared state of type `T`, if registered.
    pub fn state<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.inner.state.get::<T>()
    }

    /// Sends a message on the request's own stream. Returns false when there is no stream
    /// (the client went away, or the request came without one).
    pub(crate) async fn send(&self, bytes: Bytes) -> bool {
        match &self.inner.outbound {
            Some(tx) => tx.send(Outgoing::Message(bytes)).await.is_ok(),
            None => false,
        }
    }

    /// Sends a log message (`notifications/message`) if the client's level lets it through:
    /// the session's `logging/setLevel` in the handshake era (everything until one is set), the
    /// request's `logLevel` in the 2026-07-28 era (nothing unless one is given).
    pub async fn log(&self, level: LogLevel, logger: Option<&str>, data: Value) {
        let threshold = if self.inner.protocol_version.is_modern() {
            match self.inner.request_log_level {
                Some(l) => l,
                None => return,
            }
        } else {
            self.inner
                .session
                .as_ref()
                .and_then(|s| s.log_level())
                .unwrap_or(LogLevel::Debug)
        };
        if level < threshold {
            return;
        }
        let mut params = json!({ "level": level, "data": data });
        if let Some(l) = logger {
            params["logger"] = l.into();
        }
        self.send(encode_message(None, "notifications/message", &params))
            .await;
    }
}

/// Builds an injected parameter from the call context.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be injected into a tool",
    note = "injected parameters implement `FromCtx`; client arguments are plain names with types that derive `Deserialize` and `JsonSchema`"
)]
pub trait FromCtx: Sized {
    /// Extracts the value; an error becomes the call's error.
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError>;
}

impl FromCtx for Ctx {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        Ok(ctx.clone())
    }
}

impl FromCtx for Caller {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        Ok(ctx.inner.caller.clone())
    }
}

impl FromCtx for CancellationToken {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        Ok(ctx.inner.cancel.clone())
    }
}

/// Shared state registered with `ServerBuilder::state`, extracted by type (like axum's `State`).
#[derive(Debug, Clone, Copy, Default)]
pub struct State<T>(pub T);

impl<T: Clone + Send + Sync + 'static> FromCtx for State<T> {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        ctx.state::<T>().map(State).ok_or_else(|| {
            ToolError::internal(format!(
                "no shared state of type `{}` is registered: add it with ServerBuilder::state",
                std::any::type_name::<T>()
            ))
        })
    }
}

/// Reports progress to the client (`notifications/progress`) when it sent a `progressToken`.
#[derive(Clone)]
pub struct Progress {
    ctx: Ctx,
}

impl FromCtx for Progress {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        Ok(Progress { ctx: ctx.clone() })
    }
}

impl Progress {
    /// The client's `progressToken`, exactly as sent (a string or a number).
    pub fn token(&self) -> Option<&Value> {
        self.ctx.inner.progress_token.as_ref()
    }

    /// True when the client asked for progress.
    pub fn is_requested(&self) -> bool {
        self.ctx.inner.progress_token.is_some()
    }

    /// Sends one progress notification; `progress` should increase with each call.
    pub async fn report(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.ctx.inner.progress_token else {
            return;
        };
        let mut params = json!({ "progressToken": token, "progress": progress });
        if let Some(t) = total {
            params["total"] = t.into();
        }
        if let Some(m) = message {
            params["message"] = m.into();
        }
        self.ctx
            .send(encode_message(None, "notifications/progress", &params))
            .await;
    }
}

/// Sends log messages to the client, filtered by the level it set.
#[derive(Clone)]
pub struct Logger {
    ctx: Ctx,
}

impl FromCtx for Logger {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        Ok(Logger { ctx: ctx.clone() })
    }
}

impl Logger {
    /// Logs at a level, with any JSON data.
    pub async fn log(&self, level: LogLevel, data: impl Into<Value>) {
        self.ctx.log(level, None, data.into()).await;
    }
    /// Logs at `info`.
    pub async fn info(&self, data: impl Into<Value>) {
        self.log(LogLevel::Info, data).await;
    }
    /// Logs at `warning`.
    pub async fn warning(&self, data: impl Into<Value>) {
        self.log(LogLevel::Warning, data).await;
    }
    /// Logs at `error`.
    pub async fn error(&self, data: impl Into<Value>) {
        self.log(LogLevel::Error, data).await;
    }
}

/// `200 ms`, `5 s`: a duration for messages.
fn human_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs())
    }
}

/// The client's answer to an elicitation.
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitResult<T> {
    /// The user accepted and (for forms) supplied the content.
    Accept(T),
    /// The user declined.
    Decline,
    /// The user dismissed the request.
    Cancel,
}

/// Asks the client's user for input mid-call (client/elicitation.mdx). The same code works
/// in both eras: a request on the stream in the handshake era, an input round (MRTR) in the
/// 2026-07-28 era, where `key` names the input request (default: `elicitation-N`).
#[derive(Clone)]
pub struct Elicitation {
    ctx: Ctx,
    key: Option<String>,
}

impl FromCtx for Elicitation {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        Ok(Elicitation {
            ctx: ctx.clone(),
            key: None,
        })
    }
}

impl Elicitation {
    /// Names the next request's key in `inputRequests` (2026-07-28 era).
    pub fn key(&self, key: &str) -> Self {
        Elicitation {
            ctx: self.ctx.clone(),
            key: Some(key.to_string()),
        }
    }

    fn capability(&self, mode: &str) -> bool {
        let Some(e) = self.ctx.inner.client_capabilities.get("elicitation") else {
            return false;
        };
        // An empty `elicitation: {}` means form mode only (2025-11-25 backwards compatibility).
        match e.as_object() {
            Some(m) if m.is_empty() => mode == "form",
            Some(m) => m.contains_key(mode),
            None => false,
        }
    }

    /// Form mode with the schema of `T` (a flat object of primitive fields).
    pub async fn form<T: DeserializeOwned + schemars::JsonSchema>(
        &self,
        message: &str,
    ) -> Result<ElicitResult<T>, ToolError> {
        let schema = crate::schema::normalize(crate::schema::generate::<T>(), true)
            .map_err(|e| ToolError::internal(e.to_string()))?;
        match self.form_schema(message, schema).await? {
            ElicitResult::Accept(v) => {
                serde_json::from_value(v)
                    .map(ElicitResult::Accept)
                    .map_err(|e| {
                        ToolError::invalid_argument(format!(
                            "the elicited content does not fit: {e}"
                        ))
                    })
            }
            ElicitResult::Decline => Ok(ElicitResult::Decline),
            ElicitResult::Cancel => Ok(ElicitResult::Cancel),
        }
    }

    /// Form mode with an explicit `requestedSchema`.
    pub async fn form_schema(
        &self,
        message: &str,
        requested_schema: Value,
    ) -> Result<ElicitResult<Value>, ToolError> {
        self.ctx.require_capability(
            self.capability("form"),
            json!({ "elicitation": {} }),
            "this tool needs to ask the user for input, but the client did not declare the `elicitation` capability",
        )?;
        let mut params = json!({ "message": message, "requestedSchema": requested_schema });
        if self.ctx.protocol_version() >= ProtocolVersion::V2025_11_25 {
            params["mode"] = "form".into();
        }
        let answer = self.request(params).await?;
        Ok(parse_action(&answer, |v| {
            v.get("content").cloned().unwrap_or(json!({}))
        }))
    }

    /// URL mode: the client opens `url`; `elicitation_id` correlates the completion.
    pub async fn url(
        &self,
        message: &str,
        url: &str,
        elicitation_id: &str,
    ) -> Result<ElicitResult<()>, ToolError> {
        self.ctx.require_capability(
            self.capability("url"),
            json!({ "elicitation": { "url": {} } }),
            "this tool needs the user to open a URL, but the client did not declare URL-mode elicitation",
        )?;
        let params = json!({ "mode": "url", "message": message, "url": url, "elicitationId": elicitation_id });
        let answer = self.request(params).await?;
        Ok(parse_action(&answer, |_| ()))
    }

    async fn request(&self, params: Value) -> Result<Value, ToolError> {
        self.ctx
            .client_request(self.key.as_deref(), "elicitation/create", params)
            .await
    }
}

/// Asks the client's model for a completion mid-call (client/sampling.mdx), in either era
/// (see [`Elicitation`] for how `key` is used).
#[derive(Clone)]
pub struct Sampling {
    ctx: Ctx,
    key: Option<String>,
}

impl FromCtx for Sampling {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        Ok(Sampling {
            ctx: ctx.clone(),
            key: None,
        })
    }
}

impl Sampling {
    /// Names the next request's key in `inputRequests` (2026-07-28 era).
    pub fn key(&self, key: &str) -> Self {
        Sampling {
            ctx: self.ctx.clone(),
            key: Some(key.to_string()),
        }
    }

    /// Sends `sampling/createMessage` with these params (`messages`, `maxTokens`, ...) and
    /// returns the client's `CreateMessageResult`.
    pub async fn create_message(&self, params: Value) -> Result<Value, ToolError> {
        self.ctx.require_capability(
            self.ctx.inner.client_capabilities.get("sampling").is_some(),
            json!({ "sampling": {} }),
            "this tool needs the client's model, but the client did not declare the `sampling` capability",
        )?;
        self.ctx
            .client_request(self.key.as_deref(), "sampling/createMessage", params)
            .await
    }
}

/// Asks the client for its roots (client/roots.mdx), in either era.
#[derive(Clone)]
pub struct Roots {
    ctx: Ctx,
    key: Option<String>,
}

impl FromCtx for Roots {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        Ok(Roots {
            ctx: ctx.clone(),
            key: None,
        })
    }
}

impl Roots {
    /// Names the next request's key in `inputRequests` (2026-07-28 era).
    pub fn key(&self, key: &str) -> Self {
        Roots {
            ctx: self.ctx.clone(),
            key: Some(key.to_string()),
        }
    }

    /// Sends `roots/list` and returns the client's `ListRootsResult`.
    pub async fn list(&self) -> Result<Value, ToolError> {
        self.ctx.require_capability(
            self.ctx.inner.client_capabilities.get("roots").is_some(),
            json!({ "roots": {} }),
            "this tool needs the client's roots, but the client did not declare the `roots` capability",
        )?;
        self.ctx
            .client_request(self.key.as_deref(), "roots/list", json!({}))
            .await
    }
}

impl Ctx {
    /// Sends a server-to-client request on the request's stream and waits for the answer,
    /// bounded by the elicitation timeout and the call's cancellation.
    pub(crate) async fn peer_request(
        &self,
        method: &str,
        params: Value,
    ) -> Result<Value, ToolError> {
        let Some(session) = &self.inner.session else {
            return Err(ToolError::new(
                "peer_unavailable",
                format!("`{method}` needs a session with a stream back to the client"),
            ));
        };
        let Some((id, rx)) = session.register_request(self.inner.max_pending_requests) else {
            return Err(ToolError::new(
                "too_many_pending_requests",
                "too many requests to the client await answers on this session; answer or cancel some first",
            ));
        };
        let bytes = encode_message(Some(&id), method, &params);
        if !self.send(bytes).await {
            session.forget_request(&id);
            return Err(ToolError::new(
                "peer_unavailable",
                "the client's stream is closed, so it cannot be asked",
            ));
        }
        let timeout = self.inner.elicitation_timeout;
        let outcome = tokio::select! {
            r = rx => r.map_err(|_| ToolError::cancelled()),
            _ = tokio::time::sleep(timeout) => Err(ToolError::new(
                "peer_timeout",
                format!("the client did not answer `{method}` within {}", human_duration(timeout)),
            )),
            _ = self.inner.cancel.cancelled() => Err(ToolError::cancelled()),
        };
        session.forget_request(&id);
        match outcome? {
            Ok(v) => Ok(v),
            Err(e) => Err(ToolError::new(
                "peer_error",
                format!(
                    "the client answered `{method}` with an error: {}",
                    e.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown error")
                ),
            )),
        }
    }

    /// Tells clients that a list changed (`tools`, `resources` or `prompts`): legacy sessions'
    /// GET streams and modern `subscriptions/listen` streams alike.
    pub fn notify_list_changed(&self, kind: &str) {
        if let Some(n) = &self.inner.notifier {
            n.list_changed(kind);
        }
    }

    /// Tells subscribers that a resource changed.
    pub fn notify_resource_updated(&self, uri: &str) {
        if let Some(n) = &self.inner.notifier {
            n.resource_updated(uri);
        }
    }

    /// Fails unless the client declared `capability` (`sampling`, `elicitation`, `roots`):
    /// a tool error in the handshake era, -32021 with `requiredCapabilities` in the
    /// 2026-07-28 era.
    pub fn require_client_capability(&self, capability: &str) -> Result<(), ToolError> {
        let present = self.inner.client_capabilities.get(capability).is_some();
        self.require_capability(
            present,
            json!({ capability: {} }),
            &format!("this tool needs the client's `{capability}` capability"),
        )
    }

    /// Checks a client capability; without it the call fails: a tool error in the handshake
    /// era, `MissingRequiredClientCapability` (-32021) in the 2026-07-28 era.
    pub(crate) fn require_capability(
        &self,
        present: bool,
        capability: Value,
        what: &str,
    ) -> Result<(), ToolError> {
        if present {
            return Ok(());
        }
        if let Some(rounds) = &self.inner.rounds {
            rounds.require_capability(capability.clone());
        }
        Err(ToolError::new(MISSING_CAPABILITY, what.to_string())
            .with_data(json!({ "requiredCapabilities": capability })))
    }

    /// A request to the client in either era: sent on the request's stream and awaited in the
    /// handshake era; in the 2026-07-28 era answered from the call's `inputResponses`, or
    /// recorded as an input request (and the handler stopped) when there is no answer yet.
    pub(crate) async fn client_request(
        &self,
        key: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, ToolError> {
        if let Some(rounds) = &self.inner.rounds {
            let key = key
                .map(str::to_string)
                .unwrap_or_else(|| rounds.next_key(method));
            if let Some(answer) = rounds.answer(&key) {
                return Ok(answer.clone());
            }
            rounds.request(key, method, params);
            return Err(ToolError::new(
                INPUT_REQUIRED,
                "waiting for the client's input",
            ));
        }
        self.peer_request(method, params).await
    }

    /// Ends the HTTP response stream of this request early (SSE polling, SEP-1699): the call
    /// goes on, its events are kept, and the client resumes with `Last-Event-ID`. Does
    /// nothing for clients that cannot resume (before 2025-11-25) or off HTTP.
    pub async fn close_stream(&self) {
        if let Some(tx) = &self.inner.outbound {
            let _ = tx.send(Outgoing::CloseStream).await;
        }
    }
}

fn parse_action<T>(answer: &Value, content: impl FnOnce(&Value) -> T) -> ElicitResult<T> {
    match answer.get("action").and_then(Value::as_str) {
        Some("accept") => ElicitResult::Accept(content(answer)),
        Some("decline") => ElicitResult::Decline,
        _ => ElicitResult::Cancel,
    }
}
