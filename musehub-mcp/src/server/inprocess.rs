//! Serving a request in-process, with no transport: for tests and for embedding.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Server;
use crate::engine::{CallEnv, Conversation};
use crate::error::McpError;
use crate::handler::ctx::{Caller, Outgoing};
use crate::protocol::jsonrpc::parse_response;
use crate::protocol::request::{Incoming, decode};
use crate::protocol::version::ProtocolVersion;

/// What [`Server::call_as_client`] observed: the result and the notifications sent before it.
#[derive(Debug)]
pub struct InProcessOutcome {
    /// The result, or the JSON-RPC error.
    pub result: Result<Value, McpError>,
    /// Progress, log and other notifications, in order.
    pub notifications: Vec<Value>,
}

/// The text of an in-process request.
fn request_text(method: &str, params: Value) -> Result<String, McpError> {
    let params = match params {
        Value::Object(m) => Value::Object(m),
        Value::Null => json!({}),
        _ => return Err(McpError::invalid_params("params must be an object")),
    };
    Ok(
        json!({"jsonrpc": "2.0", "id": "in-process", "method": method, "params": params})
            .to_string(),
    )
}

impl Server {
    /// Serves one request in-process, with no transport and no session (handshake era). The
    /// caller is given; the client declares no capabilities, so tools that elicit or sample
    /// get a clear tool error.
    pub async fn call(
        self: &Arc<Self>,
        caller: Caller,
        method: &str,
        params: Value,
    ) -> Result<Value, McpError> {
        let text = request_text(method, params)?;
        let req = match decode(&text, self.config().max_id_bytes) {
            Ok(Incoming::Request(r)) => r,
            Ok(_) => return Err(McpError::invalid_request("not a request")),
            Err(rej) => return Err(rej.error),
        };
        let env = CallEnv::handshake(None, caller, None, CancellationToken::new());
        let reply = self
            .engine
            .start(self.engine.prepare(req), env)
            .finish()
            .await;
        parse_response(&reply.bytes)
    }

    /// Serves one request in-process as a handshake-era client that declares `capabilities`
    /// (for tests of tools that elicit, sample or report progress): every server-to-client
    /// request the call makes is answered by `answer(method, params)`, and every notification
    /// it sends is collected. A real session is used and ended afterwards.
    pub async fn call_as_client(
        self: &Arc<Self>,
        caller: Caller,
        capabilities: Value,
        method: &str,
        params: Value,
        answer: impl Fn(&str, &Value) -> Value + Send,
    ) -> InProcessOutcome {
        let failed = |e: McpError| InProcessOutcome {
            result: Err(e),
            notifications: Vec::new(),
        };
        let session = match self.sessions.create(
            ProtocolVersion::LATEST,
            capabilities,
            json!({"name": "in-process", "version": "0"}),
            caller.handle().map(str::to_string),
        ) {
            Ok(s) => s,
            Err(e) => return failed(McpError::internal(e.to_string())),
        };
        let text = match request_text(method, params) {
            Ok(t) => t,
            Err(e) => return failed(e),
        };
        let req = match decode(&text, self.config().max_id_bytes) {
            Ok(Incoming::Request(r)) => r,
            Ok(_) => return failed(McpError::invalid_request("not a request")),
            Err(rej) => return failed(rej.error),
        };
        let (tx, mut rx) = mpsc::channel(self.config().request_queue.max(1));
        let conversation: Arc<dyn Conversation> = session.clone();
        let env = CallEnv::handshake(
            Some((
                conversation,
                session.protocol_version,
                session.client_capabilities.clone(),
            )),
            caller,
            Some(tx),
            CancellationToken::new(),
        );
        let mut call = Box::pin(self.engine.start(self.engine.prepare(req), env).finish());
        let mut notifications = Vec::new();
        let reply = loop {
            tokio::select! {
                reply = &mut call => break reply,
                Some(msg) = rx.recv() => {
                    let Outgoing::Message(bytes) = msg else { continue };
                    let Ok(v) = serde_json::from_slice::<Value>(&bytes) else { continue };
                    match (v.get("id"), v.get("method").and_then(Value::as_str)) {
                        (Some(id), Some(m)) => {
                            let reply = answer(m, v.get("params").unwrap_or(&Value::Null));
                            session.resolve_request(id, Ok(reply));
                        }
                        _ => notifications.push(v),
                    }
                }
            }
        };
        // Messages sent just before the result.
        while let Ok(Outgoing::Message(bytes)) = rx.try_recv() {
            if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                notifications.push(v);
            }
        }
        self.sessions.remove(session.id());
        InProcessOutcome {
            result: parse_response(&reply.bytes),
            notifications,
        }
    }
}
