//! The stdio transport (basic/transports.mdx, "stdio"): one JSON-RPC message per line on
//! stdin and stdout; logs go to stderr. Requests run concurrently; everything a call sends
//! (progress, log messages, elicitation requests, the response) is written as its own line.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, mpsc};

use crate::context::{Caller, Outgoing};
use crate::engine::modern::{self, META_SUBSCRIPTION};
use crate::engine::{CallEnv, Server};
use crate::error::McpError;
use crate::protocol::jsonrpc::{
    self, Message, Request, encode_error_without_id, encode_message, encode_response,
};
use crate::session::Session;

/// Serves the process's stdin and stdout until stdin closes. Callers are anonymous.
pub async fn serve_stdio(server: Arc<Server>) -> std::io::Result<()> {
    serve_io(server, tokio::io::stdin(), tokio::io::stdout()).await
}

/// Serves stdin and stdout as `caller`: the process that launched the server is trusted to be
/// that user (stdio has no per-request signatures), so write tools work over stdio.
pub async fn serve_stdio_as(server: Arc<Server>, caller: Caller) -> std::io::Result<()> {
    serve_io_as(server, caller, tokio::io::stdin(), tokio::io::stdout()).await
}

/// Serves any line-oriented byte pipe pair (used by tests with in-memory pipes).
pub async fn serve_io<R, W>(server: Arc<Server>, input: R, output: W) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    serve_io_as(server, Caller::anonymous(), input, output).await
}

/// Serves a pipe pair with every request made by `caller`.
pub async fn serve_io_as<R, W>(
    server: Arc<Server>,
    caller: Caller,
    input: R,
    output: W,
) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(server.config.request_queue.max(1));
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(line) = out_rx.recv().await {
            if output.write_all(&line).await.is_err() || output.write_all(b"\n").await.is_err() {
                break;
            }
            let _ = output.flush().await;
        }
    });
    let session: Arc<Mutex<Option<Arc<Session>>>> = Arc::new(Mutex::new(None));
    let limit = server.config.max_body_bytes;
    let mut lines = BufReader::new(input);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        // Read at most one byte past the limit so an endless line cannot exhaust memory.
        let n = (&mut lines)
            .take(limit as u64 + 1)
            .read_until(b'\n', &mut buf)
            .await?;
        if n == 0 {
            break;
        }
        if buf.len() > limit && !buf.ends_with(b"\n") {
            let _ = out_tx
                .send(encode_error_without_id(&McpError::invalid_request(
                    format!("message exceeds {limit} bytes"),
                )))
                .await;
            // Skip the rest of the oversized line.
            loop {
                buf.clear();
                let n = (&mut lines)
                    .take(64 * 1024)
                    .read_until(b'\n', &mut buf)
                    .await?;
                if n == 0 || buf.ends_with(b"\n") {
                    break;
                }
            }
            continue;
        }
        // JSON text is UTF-8 (RFC 8259 §8.1): anything else is a parse error, not a string
        // with replacement characters.
        let Ok(line) = std::str::from_utf8(&buf) else {
            let e = McpError::parse_error("Parse error: the line is not valid UTF-8");
            let _ = out_tx.send(encode_error_without_id(&e)).await;
            continue;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let depth = server.config.max_json_depth;
        if jsonrpc::nesting_exceeds(line.as_bytes(), depth) {
            let e = McpError::invalid_request(format!(
                "Invalid Request: JSON nested deeper than {depth} levels"
            ));
            let _ = out_tx.send(encode_error_without_id(&e)).await;
            continue;
        }
        let value: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                let _ = out_tx
                    .send(encode_error_without_id(&McpError::parse_error(format!(
                        "Parse error: {e}"
                    ))))
                    .await;
                continue;
            }
        };
        handle_line(&server, &session, &out_tx, &caller, value).await;
    }
    drop(out_tx);
    let _ = writer.await;
    if let Some(s) = session.lock().await.take() {
        server.sessions.remove(s.id());
    }
    Ok(())
}

async fn handle_line(
    server: &Arc<Server>,
    session: &Arc<Mutex<Option<Arc<Session>>>>,
    out: &mpsc::Sender<Bytes>,
    caller: &Caller,
    value: Value,
) {
    if value.is_array() {
        let _ = out
            .send(encode_error_without_id(&McpError::invalid_request(
                "batches are not supported on stdio",
            )))
            .await;
        return;
    }
    let message = match jsonrpc::classify(value, server.config.max_id_bytes) {
        Ok(m) => m,
        Err(rej) => {
            let bytes = match rej.id {
                Some(id) => encode_response(&id, &Err(rej.error)),
                None => encode_error_without_id(&rej.error),
            };
            let _ = out.send(bytes).await;
            return;
        }
    };
    let current = session.lock().await.clone();
    match message {
        Message::Request(req) if req.method == "initialize" => {
            let bytes = match server.negotiate(req.params.as_ref()) {
                Ok((version, result)) => {
                    let p = req.params.as_ref();
                    let caps = p
                        .and_then(|p| p.get("capabilities"))
                        .cloned()
                        .unwrap_or_default();
                    let info = p
                        .and_then(|p| p.get("clientInfo"))
                        .cloned()
                        .unwrap_or_default();
                    match server.sessions.create(version, caps, info, None) {
                        Ok(s) => {
                            if let Some(old) = session.lock().await.replace(s) {
                                server.sessions.remove(old.id());
                            }
                            encode_response(&req.id, &Ok(result.into()))
                        }
                        Err(e) => encode_response(&req.id, &Err(McpError::internal(e.to_string()))),
                    }
                }
                Err(e) => encode_response(&req.id, &Err(e)),
            };
            let _ = out.send(bytes).await;
        }
        Message::Request(req) => {
            let (tx, mut rx) = mpsc::channel(server.config.request_queue.max(1));
            // The era is chosen per request: a `_meta` envelope means 2026-07-28 (stdio has no
            // headers to compare); anything else uses the session from `initialize`, if any.
            let modern = modern::has_envelope(req.params.as_ref());
            let env = if modern {
                let checked = modern::envelope(req.params.as_ref())
                    .and_then(|e| modern::modern_version(&e.version).map(|v| (v, e)));
                let (version, envelope) = match checked {
                    Ok(x) => x,
                    Err(e) => {
                        let _ = out.send(encode_response(&req.id, &Err(e))).await;
                        return;
                    }
                };
                if req.method == "subscriptions/listen" {
                    listen(server, out, &req);
                    return;
                }
                let cancel = tokio_util::sync::CancellationToken::new();
                CallEnv::modern(version, envelope, caller.clone(), Some(tx), cancel)
            } else {
                let cancel = match &current {
                    Some(s) => s.start_request(&req.id),
                    None => tokio_util::sync::CancellationToken::new(),
                };
                CallEnv::handshake(current.clone(), caller.clone(), Some(tx), cancel)
            };
            let server = server.clone();
            let final_tx = env.outbound.clone();
            // One forwarder per call keeps its messages and its response in order.
            let forward_out = out.clone();
            tokio::spawn(async move {
                while let Some(msg) = rx.recv().await {
                    match msg {
                        Outgoing::Message(b) => {
                            let _ = forward_out.send(b).await;
                        }
                        Outgoing::Final(b) => {
                            let _ = forward_out.send(b).await;
                            break;
                        }
                        Outgoing::CloseStream => {}
                    }
                }
            });
            tokio::spawn(async move {
                let id = req.id.clone();
                let outcome = if modern {
                    server.handle_modern(req, env).await
                } else {
                    server.handle_request(req, env).await
                };
                if let Some(s) = &current {
                    s.finish_request(&id);
                }
                if let Some(tx) = final_tx {
                    let _ = tx
                        .send(Outgoing::Final(encode_response(&id, &outcome)))
                        .await;
                }
            });
        }
        Message::Notification(n) => server.handle_notification(&n, current.as_ref()),
        Message::Response { id, outcome } => {
            if let Some(s) = &current {
                s.resolve_request(&id, outcome);
            }
        }
    }
}

/// `subscriptions/listen` on stdio: the acknowledgement, then every opted-in change, tagged
/// with the subscription id, interleaved with other traffic until stdin closes.
fn listen(server: &Arc<Server>, out: &mpsc::Sender<Bytes>, req: &Request) {
    let Some(requested) = req
        .params
        .as_ref()
        .and_then(|p| p.get("notifications"))
        .filter(|n| n.is_object())
    else {
        let e =
            McpError::invalid_params("subscriptions/listen needs a `notifications` filter object");
        let bytes = encode_response(&req.id, &Err(e));
        let out = out.clone();
        tokio::spawn(async move {
            let _ = out.send(bytes).await;
        });
        return;
    };
    let filter = modern::agreed_filter(requested);
    let id = req.id.clone();
    let mut changes = server.subscribe_changes();
    let out = out.clone();
    tokio::spawn(async move {
        let ack = encode_message(
            None,
            "notifications/subscriptions/acknowledged",
            &serde_json::json!({ "notifications": filter, "_meta": { META_SUBSCRIPTION: id } }),
        );
        if out.send(ack).await.is_err() {
            return;
        }
        while let Ok(change) = changes.recv().await {
            if !change.wanted_by(&filter) {
                continue;
            }
            let mut params = change.params();
            params.insert("_meta".into(), serde_json::json!({ META_SUBSCRIPTION: id }));
            let msg = encode_message(None, &change.method(), &Value::Object(params));
            if out.send(msg).await.is_err() {
                return;
            }
        }
    });
}
