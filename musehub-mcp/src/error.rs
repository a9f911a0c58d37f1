//! Errors: `McpError` is a JSON-RPC error sent to the client; `ToolError` is what a tool,
//! resource or prompt returns when it fails, rendered as an `isError` tool result (tools) or
//! mapped to a JSON-RPC error (resources, prompts).

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

/// JSON-RPC and MCP error codes used by the runtime.
pub mod codes {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON sent is not a valid request object.
    pub const INVALID_REQUEST: i64 = -32600;
    /// The method does not exist or is not available.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method parameters.
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal error.
    pub const INTERNAL_ERROR: i64 = -32603;
    /// Authentication required (MuseHub's write-tool gate).
    pub const UNAUTHORIZED: i64 = -32001;
    /// Resource not found (server/resources.mdx, "Error Handling").
    pub const RESOURCE_NOT_FOUND: i64 = -32002;
    /// The caller's credential lacks a scope the item needs (over HTTP: 403
    /// `insufficient_scope`).
    pub const FORBIDDEN: i64 = -32003;
}

/// A JSON-RPC error object: what the client receives in `error`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} ({code})")]
pub struct McpError {
    /// The JSON-RPC error code.
    pub code: i64,
    /// A short description for the caller.
    pub message: String,
    /// Optional structured details.
    pub data: Option<Value>,
}

impl McpError {
    /// An error with a code and message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }
    /// Adds structured `data`.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
    /// -32700.
    pub fn parse_error(message: impl Into<String>) -> Self {
        Self::new(codes::PARSE_ERROR, message)
    }
    /// -32600.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(codes::INVALID_REQUEST, message)
    }
    /// -32601, naming the method.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            codes::METHOD_NOT_FOUND,
            format!("Method not found: {}", crate::util::truncate(method, 128)),
        )
    }
    /// -32602.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(codes::INVALID_PARAMS, message)
    }
    /// -32603.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(codes::INTERNAL_ERROR, message)
    }
    /// -32002 with the URI in `data`, as the spec's example shows.
    pub fn resource_not_found(uri: &str) -> Self {
        Self::new(codes::RESOURCE_NOT_FOUND, "Resource not found")
            .with_data(serde_json::json!({ "uri": uri }))
    }

    /// The error object as JSON.
    pub fn to_value(&self) -> Value {
        let mut obj = serde_json::Map::new();
        obj.insert("code".into(), self.code.into());
        obj.insert("message".into(), self.message.clone().into());
        if let Some(d) = &self.data {
            obj.insert("data".into(), d.clone());
        }
        Value::Object(obj)
    }
}

/// A failure reported by a tool, resource or prompt.
///
/// For tools it becomes an `isError: true` result whose text is the message (so the model can
/// read it and recover) and whose `structuredContent` is `{"error": {"code", "message"}}`.
/// Like `anyhow::Error`, it converts from any `std::error::Error` with `?`, which is why it
/// does not implement `std::error::Error` itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError {
    /// A stable, machine-readable code such as `not_found` or `invalid_argument`.
    pub code: Cow<'static, str>,
    /// A message for the caller (and the model).
    pub message: String,
    /// Optional structured details.
    pub data: Option<Value>,
}

impl ToolError {
    /// An error with a code and a message.
    pub fn new(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            data: None,
        }
    }
    /// `invalid_argument`: the caller sent something unusable.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new("invalid_argument", message)
    }
    /// `not_found`: the thing asked for does not exist (or is not visible to the caller).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("not_found", message)
    }
    /// `unauthenticated`: the call needs an authenticated caller.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new("unauthenticated", message)
    }
    /// `forbidden`: the caller may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new("forbidden", message)
    }
    /// `cancelled`: the client cancelled the call.
    pub fn cancelled() -> Self {
        Self::new("cancelled", "the request was cancelled")
    }
    /// `internal`: something broke on the server side.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("internal", message)
    }
    /// Adds structured `data`.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for ToolError {
    fn from(e: E) -> Self {
        ToolError::new("error", e.to_string())
    }
}

impl From<ToolError> for McpError {
    /// Used where a failure must be a protocol error (resources, prompts): `not_found` maps
    /// to -32002, `invalid_argument` to -32602, everything else to -32603.
    fn from(e: ToolError) -> Self {
        let code = match e.code.as_ref() {
            "not_found" => codes::RESOURCE_NOT_FOUND,
            "invalid_argument" => codes::INVALID_PARAMS,
            "unauthenticated" => codes::UNAUTHORIZED,
            _ => codes::INTERNAL_ERROR,
        };
        McpError {
            code,
            message: e.message,
            data: e.data,
        }
    }
}
