//! The 2026-07-28 era's wire vocabulary (basic/versioning.mdx and basic/patterns/ of that
//! revision): the `_meta` keys of the per-request envelope, its error codes, the methods it
//! removed, and reading the envelope of a decoded request.

use serde_json::{Value, json};

use crate::error::McpError;
use crate::protocol::request::Meta;
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

/// The per-request envelope of a modern request, checked.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The revision as the client wrote it.
    pub version: String,
    /// `clientCapabilities`, as text (parsed only when a tool asks).
    pub client_capabilities: Box<serde_json::value::RawValue>,
    /// `logLevel`, when given.
    pub log_level: Option<LogLevel>,
}

impl Envelope {
    /// Reads the envelope of a request's `_meta`; a missing or malformed one is -32602.
    pub fn read(meta: &Meta<'_>) -> Result<Envelope, McpError> {
        if meta.protocol_version.is_none() && meta.client_capabilities.is_none() {
            return Err(McpError::invalid_params(format!(
                "params._meta must carry `{META_VERSION}` and `{META_CAPABILITIES}`"
            )));
        }
        let version = meta
            .protocol_version
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
            .ok_or_else(|| {
                McpError::invalid_params(format!("params._meta needs a string `{META_VERSION}`"))
            })?;
        let client_capabilities = meta
            .client_capabilities
            .filter(|raw| raw.get().starts_with('{'))
            .map(|raw| raw.to_owned())
            .ok_or_else(|| {
                McpError::invalid_params(format!(
                    "params._meta needs an object `{META_CAPABILITIES}`"
                ))
            })?;
        let log_level = match meta.log_level {
            None => None,
            Some(raw) if raw.get() == "null" => None,
            Some(raw) => Some(serde_json::from_str(raw.get()).map_err(|_| {
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

/// The filter a listen stream honours: the known keys of what the client asked for
/// (basic/patterns/subscriptions.mdx).
pub fn agreed_filter(requested: &serde_json::Map<String, Value>) -> Value {
    let mut m = serde_json::Map::new();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::request::{Incoming, decode};

    fn meta_of(body: &str) -> Envelope {
        let Ok(Incoming::Request(r)) = decode(body, 256) else {
            panic!("request")
        };
        Envelope::read(&r.meta).expect("envelope")
    }

    #[test]
    fn the_envelope_keeps_capabilities_as_text_and_reads_the_log_level() {
        let e = meta_of(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"elicitation":{}},"io.modelcontextprotocol/logLevel":"info"}}}"#,
        );
        assert_eq!(e.version, "2026-07-28");
        assert_eq!(e.client_capabilities.get(), r#"{"elicitation":{}}"#);
        assert_eq!(e.log_level, Some(LogLevel::Info));
    }

    #[test]
    fn a_bad_envelope_is_invalid_params() {
        for body in [
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":5,"io.modelcontextprotocol/clientCapabilities":{}}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/logLevel":"loud"}}}"#,
        ] {
            let Ok(Incoming::Request(r)) = decode(body, 256) else {
                panic!("request")
            };
            assert_eq!(Envelope::read(&r.meta).unwrap_err().code, -32602, "{body}");
        }
    }

    #[test]
    fn unsupported_versions_list_what_is_spoken() {
        assert!(modern_version("2026-07-28").is_ok());
        let e = modern_version("2025-11-25").unwrap_err();
        assert_eq!(e.code, UNSUPPORTED_VERSION);
        assert_eq!(e.data.unwrap()["supported"][0], "2026-07-28");
    }
}
