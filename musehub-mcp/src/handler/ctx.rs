//! The call context a tool, resource or prompt runs in: who calls, over which revision, what
//! the client can do, and the channels back to it.
//!
//! `Ctx` is cheap to clone (one `Arc`). It knows the rest of the runtime only through two
//! small traits defined here, so this layer depends on nothing above it: `ClientLink` (the
//! handshake-era session a call belongs to, for its log level and for requests to the
//! client) and `ChangeSink` (where list and resource changes are announced).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use bytes::Bytes;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
pub use tokio_util::sync::CancellationToken;

use crate::error::ToolError;
use crate::handler::rounds::Rounds;
use crate::protocol::jsonrpc::{RequestId, encode_message};
use crate::protocol::types::LogLevel;
use crate::protocol::version::ProtocolVersion;

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// An MSign request signature (docs/msign.md).
    MSign,
    /// An OAuth 2.1 / RFC 6750 bearer token.
    Bearer,
    /// Trusted by the transport itself (stdio launched as a user, in-process calls).
    Trusted,
}

impl Scheme {
    /// The scheme's name as the `Authorization` header spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::MSign => "MSign",
            Scheme::Bearer => "Bearer",
            Scheme::Trusted => "trusted",
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The authenticated identity, `None` for anonymous callers.
    pub identity: Option<Identity>,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Identity {
    /// The handle (user name).
    pub handle: String,
    /// True when the credential belongs to an AI agent.
    pub is_agent: bool,
    /// The agent's name, for agent credentials.
    pub agent_name: Option<String>,
    /// How the caller authenticated.
    pub scheme: Scheme,
    /// The scopes granted, for credentials that carry them (bearer tokens); `None` means the
    /// credential is not scoped (an MSign key, a trusted transport): every scope is granted.
    pub scopes: Option<Vec<String>>,
}

impl Identity {
    /// A human caller authenticated by `scheme`, unscoped.
    pub fn new(handle: impl Into<String>, scheme: Scheme) -> Self {
        Self {
            handle: handle.into(),
            is_agent: false,
            agent_name: None,
            scheme,
            scopes: None,
        }
    }

    /// Marks the credential as an AI agent's, with its name.
    pub fn agent(mut self, name: Option<String>) -> Self {
        self.is_agent = true;
        self.agent_name = name;
        self
    }

    /// Limits the identity to these scopes.
    pub fn with_scopes(mut self, scopes: Vec<String>) -> Self {
        self.scopes = Some(scopes);
        self
    }

    /// True when the credential grants `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|granted| granted.iter().any(|g| g == scope))
    }
}

impl Caller {
    /// An anonymous caller.
    pub fn anonymous() -> Self {
        Self::default()
    }
    /// An authenticated caller.
    pub fn authenticated(identity: Identity) -> Self {
        Self {
            identity: Some(identity),
        }
    }
    /// True when the request was authenticated.
    pub fn is_authenticated(&self) -> bool {
        self.identity.is_some()
    }
    /// The caller's handle, if authenticated.
    pub fn handle(&self) -> Option<&str> {
        self.identity.as_ref().map(|i| i.handle.as_str())
    }
    /// The scopes of `required` the caller lacks (all of them when anonymous).
    pub fn missing_scopes<'a>(&self, required: &[&'a str]) -> Vec<&'a str> {
        match &self.identity {
            None => required.to_vec(),
            Some(i) => required
                .iter()
                .copied()
                .filter(|s| !i.has_scope(s))
                .collect(),
        }
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
pub(crate) enum Outgoing {
    /// A notification or server-to-client request on the request's stream.
    Message(Bytes),
    /// The response; nothing follows it.
    Final(Bytes),
    /// Ask the transport to end the current HTTP response; the client resumes later.
    CloseStream,
}

/// The answer to a server-to-client request: `Ok(result)` or `Err(error object)`.
pub(crate) type PeerAnswer = Result<Value, Value>;

/// The handshake-era session a call belongs to, as the call sees it.
pub(crate) trait ClientLink: Send + Sync {
    /// The session id.
    fn id(&self) -> &str;
    /// The level set with `logging/setLevel`, if any.
    fn log_level(&self) -> Option<LogLevel>;
    /// An id for a server-to-client request and the receiver of its answer; `None` when
    /// `limit` requests already await answers.
    fn register_request(&self, limit: usize) -> Option<(RequestId, oneshot::Receiver<PeerAnswer>)>;
    /// Drops a request that will not be answered (timeout, cancellation).
    fn forget_request(&self, id: &RequestId);
}

/// Where list and resource changes are announced (every session and listen stream of every
/// instance; the server implements it).
pub(crate) trait ChangeSink: Send + Sync {
    /// `tools`, `resources` or `prompts` changed.
    fn list_changed(&self, kind: &str);
    /// The resource at `uri` changed.
    fn resource_updated(&self, uri: &str);
}

/// The client's capabilities: a shared value (from `initialize`), or the text of a
/// 2026-07-28 request's envelope, parsed the first time a tool looks.
pub(crate) enum Capabilities {
    Value(Arc<Value>),
    Raw(Box<RawValue>, OnceLock<Value>),
}

impl Capabilities {
    pub(crate) fn raw(raw: Box<RawValue>) -> Self {
        Capabilities::Raw(raw, OnceLock::new())
    }

    pub(crate) fn get(&self) -> &Value {
        match self {
            Capabilities::Value(v) => v,
            Capabilities::Raw(raw, parsed) => {
                parsed.get_or_init(|| serde_json::from_str(raw.get()).unwrap_or(json!({})))
            }
        }
    }
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
    pub client_capabilities: Capabilities,
    pub link: Option<Arc<dyn ClientLink>>,
    pub progress_token: Option<Value>,
    pub cancel: CancellationToken,
    pub outbound: Option<mpsc::Sender<Outgoing>>,
    pub state: Arc<StateMap>,
    pub elicitation_timeout: Duration,
    /// Most server-to-client requests awaiting answers on the session.
    pub max_pending_requests: usize,
    /// 2026-07-28: the call's input rounds (answers so far, requests made).
    pub rounds: Option<Arc<Rounds>>,
    /// 2026-07-28: the request's `io.modelcontextprotocol/logLevel` (no logs when absent).
    pub request_log_level: Option<LogLevel>,
    /// For change notifications raised by tools.
    pub changes: Option<Weak<dyn ChangeSink>>,
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
        self.inner.client_capabilities.get()
    }
    /// The session id, in the handshake era.
    pub fn session_id(&self) -> Option<&str> {
        self.inner.link.as_ref().map(|s| s.id())
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
                .link
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

    /// Tells clients that a list changed (`tools`, `resources` or `prompts`): handshake-era
    /// sessions' GET streams and 2026-07-28 `subscriptions/listen` streams alike.
    pub fn notify_list_changed(&self, kind: &str) {
        if let Some(sink) = self.inner.changes.as_ref().and_then(Weak::upgrade) {
            sink.list_changed(kind);
        }
    }

    /// Tells subscribers that a resource changed.
    pub fn notify_resource_updated(&self, uri: &str) {
        if let Some(sink) = self.inner.changes.as_ref().and_then(Weak::upgrade) {
            sink.resource_updated(uri);
        }
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

/// Builds an injected parameter from the call context.
///
/// A parameter is injected when its type is one of the runtime's (`&Ctx`, `State<T>`,
/// `Progress`, `Logger`, `Elicitation`, `Sampling`, `Roots`, `Caller`, `CancellationToken`)
/// written with its own name, or when the parameter is marked `#[inject]`: the macro sees
/// names, not types, so a renamed import (`use musehub_mcp::Ctx as C`) or your own extractor
/// needs the marker.
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use parking_lot::Mutex;

    /// A context with these capabilities, recording what it sends.
    pub(crate) fn ctx_with(
        version: ProtocolVersion,
        capabilities: Value,
        rounds: Option<Arc<Rounds>>,
    ) -> (Ctx, mpsc::Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(16);
        let ctx = Ctx {
            inner: Arc::new(CtxInner {
                request_id: Some(json!(1)),
                caller: Caller::anonymous(),
                protocol_version: version,
                client_capabilities: Capabilities::Value(Arc::new(capabilities)),
                link: None,
                progress_token: Some(json!("tok")),
                cancel: CancellationToken::new(),
                outbound: Some(tx),
                state: Arc::new(StateMap::default()),
                elicitation_timeout: Duration::from_secs(5),
                max_pending_requests: 4,
                rounds,
                request_log_level: Some(LogLevel::Warning),
                changes: None,
            }),
        };
        (ctx, rx)
    }

    struct Sink(Mutex<Vec<String>>);
    impl ChangeSink for Sink {
        fn list_changed(&self, kind: &str) {
            self.0.lock().push(format!("list:{kind}"));
        }
        fn resource_updated(&self, uri: &str) {
            self.0.lock().push(format!("resource:{uri}"));
        }
    }

    #[test]
    fn scopes_are_granted_unless_the_credential_is_scoped() {
        let msign = Identity::new("alice", Scheme::MSign);
        assert!(msign.has_scope("repo:write"));
        let token = Identity::new("alice", Scheme::Bearer).with_scopes(vec!["repo:read".into()]);
        assert!(token.has_scope("repo:read"));
        let caller = Caller::authenticated(token);
        assert_eq!(
            caller.missing_scopes(&["repo:read", "repo:write"]),
            vec!["repo:write"]
        );
        assert_eq!(Caller::anonymous().missing_scopes(&["a"]), vec!["a"]);
    }

    #[tokio::test]
    async fn logs_follow_the_request_level_in_the_modern_era() {
        let (ctx, mut rx) = ctx_with(ProtocolVersion::V2026_07_28, json!({}), None);
        ctx.log(LogLevel::Info, None, json!("quiet")).await;
        ctx.log(LogLevel::Error, Some("db"), json!("loud")).await;
        let Some(Outgoing::Message(b)) = rx.try_recv().ok() else {
            panic!("one log message")
        };
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(
            v["params"],
            json!({"level": "error", "logger": "db", "data": "loud"})
        );
        assert!(rx.try_recv().is_err(), "the info message was filtered");
    }

    #[test]
    fn changes_reach_the_sink_while_it_lives() {
        let sink: Arc<Sink> = Arc::new(Sink(Mutex::new(Vec::new())));
        let (ctx, _rx) = ctx_with(ProtocolVersion::V2025_11_25, json!({}), None);
        let mut inner = Arc::try_unwrap(ctx.inner).ok().expect("sole owner");
        let weak: Weak<dyn ChangeSink> = Arc::downgrade(&(sink.clone() as Arc<dyn ChangeSink>));
        inner.changes = Some(weak);
        let ctx = Ctx {
            inner: Arc::new(inner),
        };
        ctx.notify_list_changed("tools");
        ctx.notify_resource_updated("r://x");
        assert_eq!(*sink.0.lock(), vec!["list:tools", "resource:r://x"]);
        drop(sink);
        ctx.notify_list_changed("tools"); // no sink any more: nothing happens, no panic
    }

    #[test]
    fn raw_capabilities_are_parsed_on_first_use() {
        let raw = RawValue::from_string(r#"{"sampling":{}}"#.into()).unwrap();
        let caps = Capabilities::raw(raw);
        assert!(caps.get().get("sampling").is_some());
    }
}
