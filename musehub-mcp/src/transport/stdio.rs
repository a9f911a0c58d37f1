//! The stdio transport (basic/transports.mdx, "stdio"): one JSON-RPC message per line on
//! stdin and stdout; logs go to stderr. Requests run concurrently; everything a call sends
//! (progress, log messages, elicitation requests, the response) is written as its own line.

use std::sync::Arc;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use crate::engine::{CallEnv, Conversation, Started, changes};
use crate::error::McpError;
use crate::handler::ctx::{Caller, Outgoing};
use crate::protocol::jsonrpc::{self, encode_error, encode_value};
use crate::protocol::modern::{Envelope, agreed_filter, modern_version};
use crate::protocol::request::{ClientRequest, Incoming, ListenParams, Request, decode};
use crate::server::Server;
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
    server.start();
    let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(server.config().request_queue.max(1));
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
    let limit = server.config().max_body_bytes;
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
                .send(encode_error(
                    None,
                    &McpError::invalid_request(format!("message exceeds {limit} bytes")),
                ))
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
            let _ = out_tx.send(encode_error(None, &e)).await;
            continue;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let depth = server.config().max_json_depth;
        if jsonrpc::nesting_exceeds(line.as_bytes(), depth) {
            let e = McpError::invalid_request(format!(
                "Invalid Request: JSON nested deeper than {depth} levels"
            ));
            let _ = out_tx.send(encode_error(None, &e)).await;
            continue;
        }
        handle_line(&server, &session, &out_tx, &caller, line).await;
    }
    drop(out_tx);
    let _ = writer.await;
    if let Some(s) = session.lock().await.take() {
        server.sessions.remove(s.id());
    }
    Ok(())
}

/// One line: a message, decoded once and served.
async fn handle_line(
    server: &Arc<Server>,
    session: &Arc<Mutex<Option<Arc<Session>>>>,
    out: &mpsc::Sender<Bytes>,
    caller: &Caller,
    line: &str,
) {
    if line.starts_with('[') {
        let e = McpError::invalid_request("batches are not supported on stdio");
        let _ = out.send(encode_error(None, &e)).await;
        return;
    }
    let message = match decode(line, server.config().max_id_bytes) {
        Ok(m) => m,
        Err(rej) => {
            let _ = out.send(encode_error(rej.id.as_ref(), &rej.error)).await;
            return;
        }
    };
    let current = session.lock().await.clone();
    match message {
        Incoming::Request(req) if req.method == "initialize" && !req.meta.has_envelope() => {
            let bytes = initialize(server, session, req).await;
            let _ = out.send(bytes).await;
        }
        Incoming::Request(req) => request(server, out, caller, current, req).await,
        Incoming::Notification(n) => {
            let conversation = current.map(|s| s as Arc<dyn Conversation>);
            server.engine.notification(&n, conversation.as_ref());
        }
        Incoming::Response(resp) => {
            if let Some(s) = &current {
                s.resolve_request(&resp.id, resp.outcome);
            }
        }
    }
}

/// `initialize`: a new session replaces the previous one.
async fn initialize(
    server: &Arc<Server>,
    session: &Arc<Mutex<Option<Arc<Session>>>>,
    req: Request<'_>,
) -> Bytes {
    let params = match req.params {
        Ok(ClientRequest::Initialize(p)) => p,
        Ok(_) => return encode_error(Some(&req.id), &McpError::internal("not an initialize")),
        Err(e) => return encode_error(Some(&req.id), &e),
    };
    let (version, result) = match server.engine.negotiate(&params) {
        Ok(x) => x,
        Err(e) => return encode_error(Some(&req.id), &e),
    };
    match server.sessions.create(
        version,
        params.capabilities.unwrap_or_default(),
        params.client_info.unwrap_or_default(),
        None,
    ) {
        Ok(s) => {
            if let Some(old) = session.lock().await.replace(s) {
                server.sessions.remove(old.id());
            }
            encode_value(&req.id, &result)
        }
        Err(e) => encode_error(Some(&req.id), &McpError::internal(e.to_string())),
    }
}

/// A request of either era: the era is chosen per request (a `_meta` envelope means
/// 2026-07-28; stdio has no headers to compare); anything else uses the session from
/// `initialize`, if any. Calls run concurrently; each call's messages and its response keep
/// their order.
async fn request(
    server: &Arc<Server>,
    out: &mpsc::Sender<Bytes>,
    caller: &Caller,
    current: Option<Arc<Session>>,
    req: Request<'_>,
) {
    let modern = req.meta.has_envelope();
    let id = req.id.clone();
    let prepared = server.engine.prepare(req);
    let streams = prepared.may_stream();
    let (tx, rx) = if streams {
        let (tx, rx) = mpsc::channel(server.config().request_queue.max(1));
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    let final_tx = tx.clone();
    let env = if modern {
        let checked = Envelope::read(&prepared.req.meta)
            .and_then(|e| modern_version(&e.version).map(|v| (v, e)));
        let (version, envelope) = match checked {
            Ok(x) => x,
            Err(e) => {
                let _ = out.send(encode_error(Some(&id), &e)).await;
                return;
            }
        };
        if let Ok(ClientRequest::Listen(p)) = prepared.req.params {
            listen(server, out, id, p);
            return;
        }
        server.ensure_state_key().await;
        CallEnv::modern(
            version,
            envelope,
            caller.clone(),
            tx,
            CancellationToken::new(),
        )
    } else {
        let cancel = match &current {
            Some(s) => s.start_request(&id),
            None => CancellationToken::new(),
        };
        let session = current.clone().map(|s| {
            (
                s.clone() as Arc<dyn Conversation>,
                s.protocol_version,
                s.client_capabilities.clone(),
            )
        });
        CallEnv::handshake(session, caller.clone(), tx, cancel)
    };
    let started = server.engine.start(prepared, env);
    let fut = match started {
        Started::Done(reply) => {
            if let Some(s) = &current {
                s.finish_request(&id);
            }
            let _ = out.send(reply.bytes).await;
            return;
        }
        Started::Running(fut) => fut,
    };
    // One forwarder per streaming call keeps its messages ahead of its response.
    if let Some(mut rx) = rx {
        let forward = out.clone();
        tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                match msg {
                    Outgoing::Message(b) => {
                        let _ = forward.send(b).await;
                    }
                    Outgoing::Final(b) => {
                        let _ = forward.send(b).await;
                        break;
                    }
                    Outgoing::CloseStream => {}
                }
            }
        });
    }
    let out = out.clone();
    tokio::spawn(async move {
        let reply = fut.await;
        if let Some(s) = &current {
            s.finish_request(&id);
        }
        // A streaming call's response follows its messages through the forwarder.
        match final_tx {
            Some(tx) => {
                let _ = tx.send(Outgoing::Final(reply.bytes)).await;
            }
            None => {
                let _ = out.send(reply.bytes).await;
            }
        }
    });
}

/// `subscriptions/listen` on stdio: the acknowledgement, then every opted-in change, tagged
/// with the subscription id, interleaved with other traffic until stdin closes.
fn listen(
    server: &Arc<Server>,
    out: &mpsc::Sender<Bytes>,
    id: jsonrpc::RequestId,
    p: ListenParams,
) {
    let filter = agreed_filter(&p.notifications);
    let mut feed = server.subscribe_changes();
    let out = out.clone();
    tokio::spawn(async move {
        if out
            .send(changes::acknowledgement(&filter, &id))
            .await
            .is_err()
        {
            return;
        }
        while let Ok(change) = feed.recv().await {
            if change.wanted_by(&filter) && out.send(change.tagged(&id)).await.is_err() {
                return;
            }
        }
    });
}
