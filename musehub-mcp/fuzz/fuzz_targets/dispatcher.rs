//! The dispatcher: arbitrary bytes parsed as JSON, classified as JSON-RPC and served by a
//! server built from a tiny registry (the tools, resource template and prompt declared below;
//! the registry is global per binary, so this crate's items are the whole catalogue).
//!
//! Invariants: nothing panics (a panic inside a handler would be caught and turned into an
//! internal error, so the tools below never panic on purpose: any panic is the framework's);
//! every answer is a JSON object or a JSON-RPC error with a code, and serialises.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use musehub_mcp::engine::CallEnv;
use musehub_mcp::prelude::*;
use musehub_mcp::protocol::jsonrpc::{Message, ResultBody, classify, nesting_exceeds};
use musehub_mcp::{Caller, Identity};
use serde_json::Value;

/// Echo a text, optionally repeated.
#[tool(read_only)]
async fn echo(
    #[arg(desc = "The text")] text: String,
    #[arg(desc = "How often (at most 4)")] times: Option<u8>,
) -> String {
    text.repeat(usize::from(times.unwrap_or(1).min(4)))
}

/// Which colour.
#[schema]
#[derive(Debug, Clone, Copy)]
enum Colour {
    /// Red.
    Red,
    /// Blue.
    Blue,
}

/// A nested argument object.
#[schema]
#[derive(Debug, Clone)]
struct Paint {
    /// The colour.
    colour: Colour,
    /// Layers.
    #[serde(default)]
    layers: Vec<u32>,
    /// A label.
    label: Option<String>,
}

/// The painted result.
#[schema(no_deserialize)]
struct Painted {
    /// The number of layers.
    layers: usize,
    /// What was painted.
    summary: String,
}

/// Paint with nested, typed arguments; a write tool with structured output.
#[tool(write, destructive = false, idempotent = true)]
async fn paint(Args(p): Args<Paint>) -> Result<Json<Painted>, ToolError> {
    if p.layers.len() > 3 {
        return Err(ToolError::invalid_argument("at most three layers"));
    }
    Ok(Json(Painted {
        layers: p.layers.len(),
        summary: format!("{:?} {}", p.colour, p.label.unwrap_or_default()),
    }))
}

/// An item by id.
#[resource(uri = "fuzz://items/{id}/files/{+path}", mime_type = "text/plain")]
fn item(id: String, path: String) -> String {
    format!("{id}:{path}")
}

/// Ask for a poem.
#[prompt]
fn poem(#[arg(desc = "About what")] topic: String) -> String {
    format!("Write a poem about {topic}.")
}

struct Fixture {
    rt: tokio::runtime::Runtime,
    server: Arc<Server>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("tokio runtime");
        let server = Server::builder("fuzz")
            .config(ServerConfig {
                page_size: 2,
                ..ServerConfig::default()
            })
            .build()
            .expect("the fuzz registry builds");
        Fixture { rt, server }
    })
}

fn caller(byte: u8) -> Caller {
    if byte & 1 == 0 {
        Caller::anonymous()
    } else {
        Caller {
            identity: Some(Identity {
                handle: "fuzzer".into(),
                is_agent: byte & 2 != 0,
                agent_name: None,
            }),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let max_depth = f.server.config().max_json_depth;
    if nesting_exceeds(body, max_depth) {
        return;
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let server = f.server.clone();
    f.rt.block_on(async move {
        match classify(value, server.config().max_id_bytes) {
            Ok(Message::Request(req)) if req.method != "initialize" => {
                let env =
                    CallEnv::handshake(None, caller(selector), None, CancellationToken::new());
                let run = server.handle_request(req, env);
                // A tool that waited forever would be a hang, not a crash: bound it.
                match tokio::time::timeout(std::time::Duration::from_secs(5), run).await {
                    Ok(Ok(ResultBody::Value(v))) => {
                        assert!(v.is_object(), "a result must be an object: {v}");
                        serde_json::to_vec(&v).expect("results serialise");
                    }
                    Ok(Ok(ResultBody::Raw(b))) => {
                        let v: Value =
                            serde_json::from_slice(&b[..]).expect("raw results are JSON");
                        assert!(v.is_object());
                    }
                    Ok(Err(e)) => {
                        let v = e.to_value();
                        assert!(v["code"].is_i64(), "error without a code: {v}");
                    }
                    Err(_) => panic!("a request did not finish within 5 s"),
                }
            }
            Ok(Message::Request(req)) => {
                let _ = server.negotiate(req.params.as_ref());
            }
            Ok(Message::Notification(n)) => server.handle_notification(&n, None),
            Ok(Message::Response { .. }) | Err(_) => {}
        }
        // The in-process entry point too, with the body's method and params when present.
        if selector & 4 != 0 {
            if let Ok(Value::Object(mut o)) = serde_json::from_slice::<Value>(body) {
                if let Some(Value::String(method)) = o.remove("method") {
                    let params = o.remove("params").unwrap_or(Value::Null);
                    let _ = tokio::time::timeout(
                        std::time::Duration::from_secs(5),
                        server.call(caller(selector >> 1), &method, params),
                    )
                    .await
                    .expect("Server::call finished within 5 s");
                }
            }
        }
    });
});
