//! The 2026-07-28 era on the same engine: the per-request envelope in `params._meta`,
//! `server/discover`, `resultType` and caching hints on results, `InputRequiredResult` rounds,
//! and the change feed behind `subscriptions/listen`.
//!
//! Transports decide the era (see `transport::http` for the routing rule), validate their own
//! headers, and call [`Server::handle_modern`] with the envelope already read.

use std::sync::{Arc, Weak};

use bytes::Bytes;
use serde_json::{Map, Value, json};
use tokio::sync::broadcast;

use super::mrtr::{self, Binding, Rounds};
use super::{CallEnv, Server};
use crate::error::McpError;
use crate::protocol::jsonrpc::{Request, ResultBody};
use crate::protocol::types::LogLevel;
use crate::protocol::version::ProtocolVersion;

/// `_meta` key of the request's protocol revision.
pub const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of the request's client capabilities.
pub const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key of the client's identity.
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
/// `_meta` key of the request's log level.
pub const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
/// `_meta` key of the server's identity on results.
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// `_meta` key tagging notifications with their subscription.
pub const META_SUBSCRIPTION: &str = "io.modelcontextprotocol/subscriptionId";

/// `HeaderMismatch`: headers missing or not matching the body (-32020).
pub const HEADER_MISMATCH: i64 = -32020;
/// `MissingRequiredClientCapability` (-32021).
pub const MISSING_CAPABILITY: i64 = -32021;
/// `UnsupportedProtocolVersion` (-32022).
pub const UNSUPPORTED_VERSION: i64 = -32022;

/// Methods of the handshake era that this era removed; they answer "method not found".
pub const REMOVED_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
];

/// The per-request envelope of a modern request.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The revision as the client wrote it.
    pub version: String,
    /// `clientCapabilities`.
    pub client_capabilities: Value,
    /// `logLevel`, when given.
    pub log_level: Option<LogLevel>,
}

/// True when the params carry a modern envelope (the protocol-version key of `_meta`).
pub fn has_envelope(params: Option<&Map<String, Value>>) -> bool {
    params
        .and_then(|p| p.get("_meta"))
        .and_then(|m| m.get(META_VERSION))
        .is_some()
}

/// Reads the envelope; a missing or malformed one is -32602 (HTTP 400).
pub fn envelope(params: Option<&Map<String, Value>>) -> Result<Envelope, McpError> {
    let meta = params
        .and_then(|p| p.get("_meta"))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            McpError::invalid_params(format!(
                "params._meta must carry `{META_VERSION}` and `{META_CAPABILITIES}`"
            ))
        })?;
    let version = meta
        .get(META_VERSION)
        .and_then(Value::as_str)
        .ok_or_else(|| {
            McpError::invalid_params(format!("params._meta needs a string `{META_VERSION}`"))
        })?
        .to_string();
    let client_capabilities = meta
        .get(META_CAPABILITIES)
        .filter(|c| c.is_object())
        .cloned()
        .ok_or_else(|| {
            McpError::invalid_params(format!(
                "params._meta needs an object `{META_CAPABILITIES}`"
            ))
        })?;
    let log_level = match meta.get(META_LOG_LEVEL) {
        None | Some(Value::Null) => None,
        Some(v) => Some(serde_json::from_value(v.clone()).map_err(|_| {
            McpError::invalid_params(format!(
                "`{META_LOG_LEVEL}` must be a log level such as \"info\""
            ))
        })?),
    };
    Ok(Envelope {
        version,
        client_capabilities,
        log_level,
    })
}

/// The modern revision named, or `UnsupportedProtocolVersion` listing what we speak.
pub fn modern_version(requested: &str) -> Result<ProtocolVersion, McpError> {
    match requested.parse::<ProtocolVersion>() {
        Ok(v) if v.is_modern() => Ok(v),
        _ => Err(unsupported_version(requested)),
    }
}

/// -32022 with `data.supported` and `data.requested`.
pub fn unsupported_version(requested: &str) -> McpError {
    let supported: Vec<&str> = ProtocolVersion::ALL_NEWEST_FIRST
        .iter()
        .map(|v| v.as_str())
        .collect();
    McpError::new(UNSUPPORTED_VERSION, "Unsupported protocol version").with_data(json!({
        "supported": supported,
        "requested": crate::util::truncate(requested, 64),
    }))
}

/// A change clients may subscribe to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A list changed: `tools`, `resources` or `prompts`.
    ListChanged(String),
    /// A resource's contents changed.
    ResourceUpdated(String),
}

impl Change {
    /// The notification's method.
    pub fn method(&self) -> String {
        match self {
            Change::ListChanged(kind) => format!("notifications/{kind}/list_changed"),
            Change::ResourceUpdated(_) => "notifications/resources/updated".into(),
        }
    }

    /// The notification's params (without `_meta`).
    pub fn params(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if let Change::ResourceUpdated(uri) = self {
            m.insert("uri".into(), uri.clone().into());
        }
        m
    }

    /// Does a `subscriptions/listen` filter (a `SubscriptionFilter`) opt in to this change?
    pub fn wanted_by(&self, filter: &Value) -> bool {
        let flag = |k: &str| filter.get(k).and_then(Value::as_bool).unwrap_or(false);
        match self {
            Change::ListChanged(kind) => match kind.as_str() {
                "tools" => flag("toolsListChanged"),
                "prompts" => flag("promptsListChanged"),
                "resources" => flag("resourcesListChanged"),
                _ => false,
            },
            Change::ResourceUpdated(uri) => filter
                .get("resourceSubscriptions")
                .and_then(Value::as_array)
                .is_some_and(|uris| uris.iter().any(|u| u.as_str() == Some(uri))),
        }
    }
}

/// The filter a listen stream honours: the known keys of what the client asked for.
pub fn agreed_filter(requested: &Value) -> Value {
    let mut m = Map::new();
    for k in [
        "toolsListChanged",
        "promptsListChanged",
        "resourcesListChanged",
    ] {
        if let Some(Value::Bool(b)) = requested.get(k) {
            m.insert(k.into(), (*b).into());
        }
    }
    if let Some(Value::Array(uris)) = requested.get("resourceSubscriptions") {
        let uris: Vec<Value> = uris.iter().filter(|u| u.is_string()).cloned().collect();
        m.insert("resourceSubscriptions".into(), Value::Array(uris));
    }
    Value::Object(m)
}

/// A handle tools use to announce changes to every client of a server, in both eras.
#[derive(Clone)]
pub struct Notifier(pub(crate) Weak<Server>);

impl Notifier {
    /// See [`Server::notify_list_changed`].
    pub fn list_changed(&self, kind: &str) {
        if let Some(s) = self.0.upgrade() {
            s.notify_list_changed(kind);
        }
    }
    /// See [`Server::notify_resource_updated`].
    pub fn resource_updated(&self, uri: &str) {
        if let Some(s) = self.0.upgrade() {
            s.notify_resource_updated(uri);
        }
    }
}

/// What every 2026-07-28 result carries, built once per server.
pub(crate) struct ModernResultFields {
    /// `{"io.modelcontextprotocol/serverInfo": {name, version, title}}`.
    pub(crate) meta: Value,
    /// `,"resultType":"complete","_meta":{...}}`: the end of a result object.
    pub(crate) tail: Bytes,
}

impl ModernResultFields {
    pub(crate) fn new(info: &super::ServerInfo) -> Self {
        let mut server_info = Map::new();
        server_info.insert("name".into(), info.name.clone().into());
        server_info.insert("version".into(), info.version.clone().into());
        if let Some(t) = &info.title {
            server_info.insert("title".into(), t.clone().into());
        }
        let meta = json!({ META_SERVER_INFO: server_info });
        let mut tail = br#","resultType":"complete","_meta":"#.to_vec();
        // A `Value` of strings always serialises.
        tail.extend_from_slice(meta.to_string().as_bytes());
        tail.push(b'}');
        Self {
            meta,
            tail: Bytes::from(tail),
        }
    }

    /// Serialises a result that carries neither `resultType` nor `_meta`, with both added:
    /// `{...}` becomes `{...,"resultType":"complete","_meta":{...}}`.
    pub(crate) fn close(&self, result: &Map<String, Value>) -> Result<Bytes, serde_json::Error> {
        let mut out = serde_json::to_vec(result)?;
        out.pop();
        let tail = &self.tail[..];
        out.extend_from_slice(if result.is_empty() { &tail[1..] } else { tail });
        Ok(Bytes::from(out))
    }
}

impl Server {
    /// The `_meta` every modern result carries (built once, with the server).
    fn result_meta(&self) -> Value {
        self.modern.meta.clone()
    }

    /// The fields every cacheable list result of this era carries (merged into the
    /// pre-serialised pages).
    pub(crate) fn modern_list_fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("resultType".into(), "complete".into());
        m.insert("ttlMs".into(), self.config.cache.list_ttl_ms.into());
        m.insert(
            "cacheScope".into(),
            self.config.cache.list_scope.clone().into(),
        );
        m.insert("_meta".into(), self.result_meta());
        m
    }

    /// Adds `resultType` and the server's identity to a result. A result that has neither
    /// (every tool result) is serialised here with the pre-serialised tail spliced in, so no
    /// `_meta` tree is built per call.
    fn decorate(&self, body: ResultBody) -> Result<ResultBody, McpError> {
        let mut v = match body {
            ResultBody::Raw(b) => return Ok(ResultBody::Raw(b)),
            ResultBody::Value(v) => v,
        };
        if let Value::Object(m) = &mut v {
            if !m.contains_key("resultType") && !m.contains_key("_meta") {
                return self
                    .modern
                    .close(m)
                    .map(ResultBody::Raw)
                    .map_err(|e| McpError::internal(e.to_string()));
            }
            m.entry("resultType").or_insert_with(|| "complete".into());
            let meta = m.entry("_meta").or_insert_with(|| json!({}));
            if let (Value::Object(meta), Value::Object(ours)) = (meta, self.result_meta()) {
                for (k, val) in ours {
                    meta.entry(k).or_insert(val);
                }
            }
        }
        Ok(ResultBody::Value(v))
    }

    fn discover(&self) -> Value {
        let supported: Vec<&str> = ProtocolVersion::ALL_NEWEST_FIRST
            .iter()
            .map(|v| v.as_str())
            .collect();
        let mut m = Map::new();
        m.insert("resultType".into(), "complete".into());
        m.insert("supportedVersions".into(), json!(supported));
        m.insert("capabilities".into(), self.capabilities.clone());
        if let Some(i) = &self.info.instructions {
            m.insert("instructions".into(), i.clone().into());
        }
        m.insert("ttlMs".into(), self.config.cache.discover_ttl_ms.into());
        m.insert(
            "cacheScope".into(),
            self.config.cache.list_scope.clone().into(),
        );
        m.insert("_meta".into(), self.result_meta());
        Value::Object(m)
    }

    /// Serves one modern request whose envelope the transport has validated. `env` carries
    /// the envelope's revision, capabilities and log level.
    pub async fn handle_modern(
        self: &Arc<Self>,
        mut req: Request,
        mut env: CallEnv,
    ) -> Result<ResultBody, McpError> {
        let method_owned = req.method.clone();
        let method = method_owned.as_str();
        if REMOVED_METHODS.contains(&method) {
            return Err(McpError::method_not_found(method));
        }
        match method {
            "server/discover" => Ok(ResultBody::Value(self.discover())),
            "tools/list" => self
                .modern_lists
                .tools
                .page(super::cursor(&req.params)?)
                .map(ResultBody::Raw),
            "resources/list" => self
                .modern_lists
                .resources
                .page(super::cursor(&req.params)?)
                .map(ResultBody::Raw),
            "resources/templates/list" => self
                .modern_lists
                .templates
                .page(super::cursor(&req.params)?)
                .map(ResultBody::Raw),
            "prompts/list" => self
                .modern_lists
                .prompts
                .page(super::cursor(&req.params)?)
                .map(ResultBody::Raw),
            "tools/call" | "prompts/get" | "resources/read" => {
                let (binding_name, arguments) = {
                    let p = req.params.as_ref();
                    let key = if method == "resources/read" {
                        "uri"
                    } else {
                        "name"
                    };
                    let name = p
                        .and_then(|p| p.get(key))
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            McpError::invalid_params(format!("missing string parameter `{key}`"))
                        })?
                        .to_string();
                    let args = p
                        .and_then(|p| p.get("arguments"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    (name, args)
                };
                let principal = env.caller.handle().unwrap_or("").to_string();
                let binding = Binding {
                    method,
                    name: &binding_name,
                    arguments: &arguments,
                    principal: &principal,
                };
                let params = req.params.get_or_insert_with(Map::new);
                let state_key = self.state_key().await;
                let mut answers = match params.remove("requestState") {
                    None | Some(Value::Null) => Map::new(),
                    Some(Value::String(token)) => mrtr::open(&state_key, &token, &binding)
                        .map_err(|e| {
                            McpError::invalid_params(format!("invalid requestState: {e}"))
                        })?,
                    Some(_) => {
                        return Err(McpError::invalid_params("`requestState` must be a string"));
                    }
                };
                match params.remove("inputResponses") {
                    None | Some(Value::Null) => {}
                    Some(Value::Object(responses)) => {
                        for (k, v) in responses {
                            if !v.is_object() {
                                return Err(McpError::invalid_params(format!(
                                    "inputResponses[{}] must be an object",
                                    crate::util::truncate(&k, 64)
                                )));
                            }
                            answers.insert(k, v);
                        }
                    }
                    Some(_) => {
                        return Err(McpError::invalid_params(
                            "`inputResponses` must be an object",
                        ));
                    }
                }
                let rounds = Arc::new(Rounds::new(answers));
                env.rounds = Some(rounds.clone());
                let outcome = self.handle_request(req, env).await;
                if let Some(caps) = rounds.missing_capability() {
                    return Err(McpError::new(
                        MISSING_CAPABILITY,
                        "Missing required client capability",
                    )
                    .with_data(json!({ "requiredCapabilities": caps })));
                }
                let pending = rounds.pending();
                if !pending.is_empty() {
                    let state = mrtr::seal(
                        &state_key,
                        &binding,
                        rounds.answers(),
                        self.config.state_ttl,
                    );
                    return Ok(ResultBody::Value(json!({
                        "resultType": "input_required",
                        "inputRequests": pending,
                        "requestState": state,
                        "_meta": self.result_meta(),
                    })));
                }
                self.decorate(outcome?)
            }
            "completion/complete" => {
                let outcome = self.handle_request(req, env).await?;
                self.decorate(outcome)
            }
            other => Err(McpError::method_not_found(other)),
        }
    }

    /// Announces a change on the modern listen streams.
    pub(crate) fn broadcast(&self, change: Change) {
        // No listener is not an error.
        let _ = self.changes.send(change);
    }

    /// A receiver of every change from now on (one per `subscriptions/listen` stream).
    pub fn subscribe_changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// The `_meta` for results, exposed to transports building listen results.
    pub fn modern_result_meta(&self) -> Value {
        self.result_meta()
    }

    /// The result `_meta` with one more key (the subscription id of a listen result).
    pub fn modern_result_meta_with(&self, key: &str, value: Value) -> Value {
        let mut meta = self.result_meta();
        if let Value::Object(m) = &mut meta {
            m.insert(key.to_string(), value);
        }
        meta
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> ModernResultFields {
        ModernResultFields::new(&super::super::ServerInfo {
            name: "s".into(),
            version: "1".into(),
            title: Some("T \"q\"".into()),
            instructions: None,
        })
    }

    #[test]
    fn the_tail_closes_empty_and_filled_results_into_valid_json() {
        let f = fields();
        let expected_meta =
            json!({META_SERVER_INFO: {"name": "s", "version": "1", "title": "T \"q\""}});
        assert_eq!(f.meta, expected_meta);
        for mut result in [json!({}), json!({"content": [], "isError": false})] {
            let Value::Object(m) = &result else {
                unreachable!()
            };
            let out = f.close(m).expect("serialises");
            let parsed: Value = serde_json::from_slice(&out).expect("valid JSON");
            result["resultType"] = "complete".into();
            result["_meta"] = expected_meta.clone();
            assert_eq!(parsed, result);
        }
    }
}
