//! The wire, and nothing but the wire: JSON-RPC 2.0 framing, decoding a message once into
//! typed MCP requests, the protocol revisions, the 2026-07-28 vocabulary, the HTTP header
//! names, the MCP result types, and the normaliser that makes JSON Schemas acceptable to every client. No I/O and no state: every other layer builds on this one.

pub mod http;
pub mod jsonrpc;
pub mod modern;
pub mod params;
pub mod request;
pub mod schema;
pub mod types;
pub mod version;
