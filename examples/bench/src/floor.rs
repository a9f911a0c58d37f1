//! The floor: a bare axum handler that parses the JSON-RPC body and answers with the same
//! result bytes as an MCP server, with no MCP at all (no sessions, no validation, no
//! registry). What is left is the cost of HTTP, JSON parsing and serialising.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt;
use serde_json::{Value, json};

const SESSION: &str = "floor-session";

fn json_response(body: Vec<u8>) -> Response {
    let mut r = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    r.headers_mut()
        .insert("mcp-session-id", HeaderValue::from_static(SESSION));
    r
}

fn rpc(id: &Value, result: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": id, "result": result})).unwrap_or_default()
}

fn tools() -> Value {
    let string = |d: &str| json!({"type": "string", "description": d});
    let number = |d: &str| json!({"type": "number", "description": d});
    json!({"tools": [
        {"name": "echo", "description": "Returns the message as text.",
         "inputSchema": {"type": "object", "properties": {"message": string("Text to echo")}, "required": ["message"]},
         "annotations": {"readOnlyHint": true}},
        {"name": "add", "description": "Adds two numbers.",
         "inputSchema": {"type": "object", "properties": {"a": number("First term"), "b": number("Second term")}, "required": ["a", "b"]},
         "annotations": {"readOnlyHint": true}},
        {"name": "echo_progress", "description": "Reports progress once, then returns the message as text (the SSE case).",
         "inputSchema": {"type": "object", "properties": {"message": string("Text to echo")}, "required": ["message"]},
         "annotations": {"readOnlyHint": true}}
    ]})
}

async fn mcp(body: Bytes) -> Response {
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Some(id) = msg.get("id") else {
        return StatusCode::ACCEPTED.into_response();
    };
    let params = msg.get("params");
    let modern = params
        .and_then(|p| p.get("_meta"))
        .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
        .is_some();
    match msg.get("method").and_then(Value::as_str).unwrap_or("") {
        "initialize" => json_response(rpc(
            id,
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {"tools": {"listChanged": true}, "logging": {}},
                "serverInfo": {"name": "floor", "version": "0.1.0"}
            }),
        )),
        "tools/list" => json_response(rpc(id, tools())),
        "tools/call" => {
            let name = params
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let args = params.and_then(|p| p.get("arguments"));
            let text = match name {
                "add" => {
                    let n = |k: &str| args.and_then(|a| a.get(k)).and_then(Value::as_f64);
                    (n("a").unwrap_or(0.0) + n("b").unwrap_or(0.0)).to_string()
                }
                _ => args
                    .and_then(|a| a.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            };
            let mut result = json!({"content": [{"type": "text", "text": text}]});
            if modern {
                result["resultType"] = json!("complete");
            }
            let answer = rpc(id, result);
            if name != "echo_progress" {
                return json_response(answer);
            }
            let token = params
                .and_then(|p| p.get("_meta"))
                .and_then(|m| m.get("progressToken"))
                .cloned()
                .unwrap_or(Value::Null);
            let note = json!({"jsonrpc": "2.0", "method": "notifications/progress",
                "params": {"progressToken": token, "progress": 1.0, "total": 1.0}});
            let mut out = Vec::with_capacity(answer.len() + 160);
            out.extend_from_slice(b"event: message\ndata: ");
            out.extend_from_slice(note.to_string().as_bytes());
            out.extend_from_slice(b"\n\nevent: message\ndata: ");
            out.extend_from_slice(&answer);
            out.extend_from_slice(b"\n\n");
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/event-stream")],
                out,
            )
                .into_response()
        }
        _ => json_response(
            serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": id,
            "error": {"code": -32601, "message": "Method not found"}}))
            .unwrap_or_default(),
        ),
    }
}

/// A GET stream that stays open and silent: the floor of holding an SSE connection.
async fn stream() -> Response {
    let body = Body::from_stream(futures::stream::pending::<Result<Bytes, Infallible>>());
    ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

/// Serves the floor on `bind` until killed.
pub async fn serve(bind: SocketAddr) -> anyhow::Result<()> {
    let app = axum::Router::new()
        .route("/mcp", post(mcp).get(stream))
        .route(
            crate::allocs::PATH,
            axum::routing::get(|| async { crate::allocs::report() }),
        );
    let listener = tokio::net::TcpListener::bind(bind).await?;
    println!("listening={}", listener.local_addr()?);
    // TCP_NODELAY, as our server and the fast rmcp configuration: the floor is the best case.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}
