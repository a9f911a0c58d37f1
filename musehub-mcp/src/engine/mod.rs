//! The protocol engine: every MCP method of both eras, dispatched once to the registry. It
//! knows nothing of HTTP, sessions' storage or other instances: a transport decodes a request
//! ([`crate::protocol::request`]), describes it in a [`CallEnv`], and gets back either the
//! finished response or the running call that will produce it ([`Started`]).
//!
//! What the engine needs from the server around it comes through three traits: `ChangeSink`
//! (announcing changes), [`Hub`] (state other instances must see) and [`Conversation`] (the
//! handshake-era session a request belongs to).

mod call;
pub(crate) mod changes;
pub(crate) mod env;
mod items;
pub(crate) mod lists;
pub(crate) mod modern;
pub(crate) mod mrtr;

use std::sync::{Arc, Weak};

use bytes::Bytes;
use futures::future::BoxFuture;
use parking_lot::RwLock;
use serde_json::{Map, Value, json};

pub use changes::Change;
pub(crate) use env::{CallEnv, Conversation, Hub};
use lists::Lists;
use modern::ModernResultFields;
use mrtr::StateKey;

use crate::config::ServerConfig;
use crate::error::McpError;
use crate::handler::ctx::{ChangeSink, StateMap};
use crate::protocol::jsonrpc::{RequestId, encode_error, encode_result, encode_value};
use crate::protocol::modern::REMOVED_METHODS;
use crate::protocol::request::{ClientRequest, InitializeParams, ListKind, Notification, Request};
use crate::protocol::version::ProtocolVersion;
use crate::registry::{Registry, ToolEntry};

/// Name, version and the rest of what `initialize` tells clients about the server.
#[derive(Debug, Clone)]
#[non_exhaustive]
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

/// A finished response: the bytes, and the JSON-RPC error code when it is an error (the
/// 2026-07-28 HTTP binding gives some errors their own status).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub bytes: Bytes,
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub error: Option<i64>,
}

impl Reply {
    pub(crate) fn ok(bytes: Bytes) -> Self {
        Self { bytes, error: None }
    }

    pub(crate) fn error(id: Option<&RequestId>, e: &McpError) -> Self {
        Self {
            bytes: encode_error(id, e),
            error: Some(e.code),
        }
    }
}

/// What dispatching a request gives: its response, or the call producing it.
pub(crate) enum Started {
    /// Answered at once.
    Done(Reply),
    /// Running; the future owns everything it needs.
    Running(BoxFuture<'static, Reply>),
}

impl Started {
    fn error(id: &RequestId, e: McpError) -> Self {
        Started::Done(Reply::error(Some(id), &e))
    }

    /// Runs the call to its end, in this task.
    pub(crate) async fn finish(self) -> Reply {
        match self {
            Started::Done(r) => r,
            Started::Running(f) => f.await,
        }
    }
}

/// A decoded request with its registry entry resolved: the one lookup of a `tools/call`,
/// which the transport's gates read before the call runs.
pub(crate) struct Prepared<'a> {
    pub(crate) req: Request<'a>,
    pub(crate) tool: Option<&'static ToolEntry>,
}

impl Prepared<'_> {
    /// Can the call send messages before its result (so the transport gives it a stream)?
    /// Tools say so by what they take; resources, prompts and completions may take anything.
    pub(crate) fn may_stream(&self) -> bool {
        match &self.req.params {
            Ok(ClientRequest::CallTool(_)) => self.tool.is_some_and(|t| t.def.sse),
            Ok(ClientRequest::ReadResource(_))
            | Ok(ClientRequest::GetPrompt(_))
            | Ok(ClientRequest::Complete(_)) => true,
            _ => false,
        }
    }
}

/// The engine of one server.
pub(crate) struct Engine {
    pub(crate) info: ServerInfo,
    pub(crate) config: ServerConfig,
    pub(crate) registry: &'static Registry,
    lists: Lists,
    modern_lists: Lists,
    pub(crate) modern: ModernResultFields,
    pub(crate) state: Arc<StateMap>,
    capabilities: Value,
    /// Seals 2026-07-28 request states (replaced when the instances agree on a shared one).
    state_key: RwLock<StateKey>,
    changes: Weak<dyn ChangeSink>,
    hub: Weak<dyn Hub>,
}

impl Engine {
    /// An engine over `registry`; `changes` and `hub` are the server that owns it.
    pub(crate) fn new(
        info: ServerInfo,
        config: ServerConfig,
        registry: &'static Registry,
        state: StateMap,
        changes: Weak<dyn ChangeSink>,
        hub: Weak<dyn Hub>,
    ) -> Self {
        let modern = ModernResultFields::new(&info);
        let lists = Lists::build(registry, config.page_size, &Map::new());
        let modern_lists = Lists::build(registry, config.page_size, &modern.list_fields(&config));
        Self {
            capabilities: capabilities(registry),
            state_key: RwLock::new(StateKey::new(config.state_key.as_deref())),
            info,
            registry,
            lists,
            modern_lists,
            modern,
            state: Arc::new(state),
            config,
            changes,
            hub,
        }
    }

    /// The capabilities advertised, derived from what is registered.
    pub(crate) fn capabilities(&self) -> &Value {
        &self.capabilities
    }

    /// The key sealing request states.
    pub(crate) fn state_key(&self) -> StateKey {
        self.state_key.read().clone()
    }

    /// Adopts the key the instances agreed on.
    pub(crate) fn set_state_key(&self, key: StateKey) {
        *self.state_key.write() = key;
    }

    /// Answers `initialize`: the negotiated revision and the result. The transport creates
    /// the session.
    pub(crate) fn negotiate(
        &self,
        params: &InitializeParams,
    ) -> Result<(ProtocolVersion, Value), McpError> {
        let requested = params
            .protocol_version
            .as_ref()
            .and_then(Value::as_str)
            .ok_or_else(|| {
                McpError::invalid_params("initialize needs a string `protocolVersion`")
            })?;
        if !params.capabilities.as_ref().is_some_and(Value::is_object) {
            return Err(McpError::invalid_params(
                "initialize needs a `capabilities` object",
            ));
        }
        // Lifecycle, "Version Negotiation": the client's revision when we speak it, otherwise
        // the latest we support. `initialize` belongs to the handshake era: a client asking
        // for a modern revision in it gets the newest handshake revision.
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

    /// Resolves a request's registry entry (a `tools/call`'s tool), once.
    pub(crate) fn prepare<'a>(&self, req: Request<'a>) -> Prepared<'a> {
        let tool = match &req.params {
            Ok(ClientRequest::CallTool(p)) => self.registry.tool(&p.name),
            _ => None,
        };
        Prepared { req, tool }
    }

    /// Dispatches one request of either era (`env.version` says which); `initialize` and
    /// `subscriptions/listen` are the transports' (they open a session or a stream).
    pub(crate) fn start(self: &Arc<Self>, prepared: Prepared<'_>, env: CallEnv) -> Started {
        let Prepared { req, tool } = prepared;
        let Request {
            id,
            method,
            meta,
            params,
        } = req;
        let modern = env.version.is_modern();
        if modern && REMOVED_METHODS.contains(&&*method) {
            return Started::error(&id, McpError::method_not_found(&method));
        }
        let params = match params {
            Ok(p) => p,
            Err(e) => return Started::error(&id, e),
        };
        match params {
            ClientRequest::CallTool(p) => self.call_tool(id, p, tool, &meta, env),
            ClientRequest::List(kind, p) => {
                let lists = if modern {
                    &self.modern_lists
                } else {
                    &self.lists
                };
                let pages = match kind {
                    ListKind::Tools => &lists.tools,
                    ListKind::Resources => &lists.resources,
                    ListKind::Templates => &lists.templates,
                    ListKind::Prompts => &lists.prompts,
                };
                Started::Done(match pages.page(p.cursor.as_deref()) {
                    Ok(page) => Reply::ok(encode_result(&id, &page)),
                    Err(e) => Reply::error(Some(&id), &e),
                })
            }
            ClientRequest::ReadResource(p) => self.read_resource(id, p, &meta, env),
            ClientRequest::GetPrompt(p) => self.get_prompt(id, p, &meta, env),
            ClientRequest::Complete(p) => self.complete(id, p, &meta, env),
            ClientRequest::Discover if modern => Started::Done(Reply::ok(encode_value(
                &id,
                &self.modern.discover(
                    &self.config,
                    &self.capabilities,
                    self.info.instructions.as_deref(),
                ),
            ))),
            ClientRequest::Ping if !modern => Started::Done(Reply::ok(encode_result(&id, b"{}"))),
            ClientRequest::Subscribe(p) if !modern => self.subscribe(id, &p.uri, true, env),
            ClientRequest::Unsubscribe(p) if !modern => self.subscribe(id, &p.uri, false, env),
            ClientRequest::SetLogLevel(p) if !modern => {
                if let Some(s) = &env.session {
                    s.set_log_level(p.level);
                }
                Started::Done(Reply::ok(encode_result(&id, b"{}")))
            }
            ClientRequest::Initialize(_) if !modern => Started::error(
                &id,
                McpError::invalid_request("the session is already initialized"),
            ),
            _ => Started::error(&id, McpError::method_not_found(&method)),
        }
    }

    fn subscribe(&self, id: RequestId, uri: &str, on: bool, env: CallEnv) -> Started {
        let Some(session) = env.session else {
            return Started::error(
                &id,
                McpError::invalid_request("subscriptions need a session"),
            );
        };
        if on {
            session.subscribe(uri);
        } else {
            session.unsubscribe(uri);
        }
        let Some(hub) = self.hub.upgrade() else {
            return Started::Done(Reply::ok(encode_result(&id, b"{}")));
        };
        let shared = hub.share_subscription(session.id(), uri, on);
        Started::Running(Box::pin(async move {
            match shared.await {
                Ok(()) => Reply::ok(encode_result(&id, b"{}")),
                Err(e) => Reply::error(Some(&id), &McpError::internal(e)),
            }
        }))
    }

    /// Handles a client notification (JSON-RPC forbids answering one, even with an error).
    pub(crate) fn notification(
        &self,
        n: &Notification<'_>,
        session: Option<&Arc<dyn Conversation>>,
    ) {
        match &*n.method {
            "notifications/initialized" => {
                if let Some(s) = session {
                    s.mark_initialized();
                }
            }
            "notifications/cancelled" => {
                #[derive(serde::Deserialize)]
                struct Cancelled {
                    #[serde(rename = "requestId")]
                    request_id: Option<Value>,
                }
                let id = n
                    .params
                    .and_then(|p| serde_json::from_str::<Cancelled>(p.get()).ok())
                    .and_then(|c| c.request_id);
                if let (Some(s), Some(id)) = (session, id)
                    && !s.cancel_request(&id)
                    && let Some(hub) = self.hub.upgrade()
                {
                    // The request may run on another instance.
                    hub.cancel_elsewhere(s.id(), &id);
                }
            }
            // Progress from the client, roots changes and unknown notifications need no action.
            _ => {}
        }
    }
}

/// The capabilities a registry implies.
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

/// The JSON-RPC code for a request cancelled by the client (`notifications/cancelled`); the
/// client ignores this response (basic/utilities/cancellation.mdx).
pub(crate) const REQUEST_CANCELLED: i64 = -32800;

/// The text of a panic's payload, for the log.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic".into())
}

#[cfg(test)]
mod tests;
