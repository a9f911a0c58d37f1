//! What the engine is told about a request besides the request itself: its era, the session
//! it belongs to (as the engine sees one), the caller, and the channels back to the client.
//! Transports build a [`CallEnv`]; the engine never learns how the request arrived.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::handler::ctx::{Caller, Capabilities, ClientLink, Outgoing};
use crate::protocol::jsonrpc::RequestId;
use crate::protocol::modern::Envelope;
use crate::protocol::types::LogLevel;
use crate::protocol::version::ProtocolVersion;

/// A handshake-era session, as the engine sees it: what the session-scoped methods change.
pub(crate) trait Conversation: ClientLink {
    /// `resources/subscribe`.
    fn subscribe(&self, uri: &str);
    /// `resources/unsubscribe`.
    fn unsubscribe(&self, uri: &str);
    /// `logging/setLevel`.
    fn set_log_level(&self, level: LogLevel);
    /// `notifications/initialized`.
    fn mark_initialized(&self);
    /// `notifications/cancelled` for a request served here; false when it is not.
    fn cancel_request(&self, id: &RequestId) -> bool;
}

/// What the engine needs from the server around it, besides change announcements: keeping
/// session state that other instances must see.
pub(crate) trait Hub: Send + Sync {
    /// Records a subscription (`on`) or its end in the shared store, when there is one.
    fn share_subscription(
        &self,
        session: &str,
        uri: &str,
        on: bool,
    ) -> BoxFuture<'static, Result<(), String>>;
    /// Passes a cancellation to the instance running the request, when it is not this one.
    fn cancel_elsewhere(&self, session: &str, id: &RequestId);
}

/// A request's environment.
pub(crate) struct CallEnv {
    /// The session, in the handshake era (`None` for in-process calls).
    pub session: Option<Arc<dyn Conversation>>,
    /// Who calls.
    pub caller: Caller,
    /// The revision the request is served under.
    pub version: ProtocolVersion,
    /// The client's capabilities.
    pub capabilities: Capabilities,
    /// The request's own stream back to the client, when the transport has one.
    pub outbound: Option<mpsc::Sender<Outgoing>>,
    /// Fires when the request is cancelled.
    pub cancel: CancellationToken,
    /// 2026-07-28: the request's log level (no log messages when `None`).
    pub log_level: Option<LogLevel>,
}

impl CallEnv {
    /// A handshake-era request, over a session or not (in-process calls).
    pub(crate) fn handshake(
        session: Option<(
            Arc<dyn Conversation>,
            ProtocolVersion,
            Arc<serde_json::Value>,
        )>,
        caller: Caller,
        outbound: Option<mpsc::Sender<Outgoing>>,
        cancel: CancellationToken,
    ) -> Self {
        let (session, version, caps) = match session {
            Some((s, v, c)) => (Some(s), v, c),
            None => (
                None,
                ProtocolVersion::LATEST,
                Arc::new(serde_json::json!({})),
            ),
        };
        Self {
            session,
            caller,
            version,
            capabilities: Capabilities::Value(caps),
            outbound,
            cancel,
            log_level: None,
        }
    }

    /// A 2026-07-28 request, described by its checked envelope.
    pub(crate) fn modern(
        version: ProtocolVersion,
        envelope: Envelope,
        caller: Caller,
        outbound: Option<mpsc::Sender<Outgoing>>,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            session: None,
            caller,
            version,
            capabilities: Capabilities::raw(envelope.client_capabilities),
            outbound,
            cancel,
            log_level: envelope.log_level,
        }
    }
}
