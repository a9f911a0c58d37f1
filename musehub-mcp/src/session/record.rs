//! What every instance must know about a handshake-era session, stored once when it is
//! created (multi-instance deployments keep it in the shared store).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What every instance must know about a handshake-era session: what `initialize`
/// negotiated and who owns it. Stored once at creation; only its expiry changes afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The `Mcp-Session-Id`.
    pub id: String,
    /// The negotiated revision (`2025-11-25`, ...).
    pub protocol_version: String,
    /// The client's `capabilities` from `initialize`.
    pub client_capabilities: Value,
    /// The client's `clientInfo`.
    pub client_info: Value,
    /// The MSign handle that signed `initialize`, if any.
    pub owner: Option<String>,
    /// The id of the session's standalone (GET) stream, the same on every instance.
    pub standalone: String,
    /// Creation time, Unix milliseconds.
    pub created_ms: u64,
}
