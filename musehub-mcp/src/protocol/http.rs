//! The HTTP vocabulary of MCP's Streamable HTTP transport (basic/transports.mdx of
//! 2025-11-25 and basic/transports/streamable-http.mdx of 2026-07-28): header names and the
//! JSON-RPC codes the transport answers with. Pure constants, so the documentation pages and
//! the transport agree without one importing the other.

/// The session header of the handshake era.
pub const SESSION_HEADER: &str = "mcp-session-id";
/// The protocol revision header.
pub const VERSION_HEADER: &str = "mcp-protocol-version";
/// The resumption header of SSE streams.
pub const LAST_EVENT_ID: &str = "last-event-id";
/// 2026-07-28: the request's method, mirrored from the body.
pub const METHOD_HEADER: &str = "mcp-method";
/// 2026-07-28: the tool or prompt name (or resource URI), mirrored from the body.
pub const NAME_HEADER: &str = "mcp-name";
/// 2026-07-28: the prefix of headers mirroring `x-mcp-header` tool arguments.
pub const PARAM_HEADER_PREFIX: &str = "mcp-param-";

/// JSON-RPC code for transport-level rejections (the code the official SDKs use).
pub const TRANSPORT_ERROR: i64 = -32000;
/// JSON-RPC code for an unknown or expired session (as the official SDKs).
pub const SESSION_NOT_FOUND: i64 = -32001;
