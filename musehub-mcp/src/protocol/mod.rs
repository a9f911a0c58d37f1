//! The wire: JSON-RPC 2.0 framing, MCP protocol revisions and the MCP result types.

pub mod jsonrpc;
pub mod types;
pub mod version;
