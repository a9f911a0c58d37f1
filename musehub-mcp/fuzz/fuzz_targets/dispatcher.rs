//! The dispatcher: arbitrary bytes decoded as a JSON-RPC message (once, into typed params, as
//! the transports do) and served by a server built from a tiny registry (the tools, resource template and prompt declared below;
//! the registry is global per binary, so this crate's items are the whole catalogue).
//!
//! Invariants: nothing panics (a panic inside a handler would be caught and turned into an
//! internal error, so the tools below never panic on purpose: any panic is the framework's);
//! every answer is a JSON object or a JSON-RPC error with a code, and serialises.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use musehub_mcp::__fuzz::{dispatch, nesting_exceeds};
use musehub_mcp::prelude::*;
use musehub_mcp::{Caller, Identity, Scheme};
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
        let mut config = ServerConfig::default();
        config.page_size = 2;
        let server = rt.block_on(async {
            Server::builder("fuzz")
                .config(config)
                .build()
                .expect("the fuzz registry builds")
        });
        Fixture { rt, server }
    })
}

fn caller(byte: u8) -> Caller {
    if byte & 1 == 0 {
        Caller::anonymous()
    } else {
        let id = Identity::new("fuzzer", Scheme::Trusted);
        Caller::authenticated(if byte & 2 != 0 { id.agent(None) } else { id })
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
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    let server = f.server.clone();
    f.rt.block_on(async move {
        // A tool that waited forever would be a hang, not a crash: bound it.
        let run = dispatch(&server, text, caller(selector));
        match tokio::time::timeout(std::time::Duration::from_secs(5), run).await {
            Ok(Some(bytes)) => {
                let v: Value = serde_json::from_slice(&bytes).expect("responses are JSON");
                assert_eq!(v["jsonrpc"], "2.0", "{v}");
                match (v.get("result"), v.get("error")) {
                    (Some(r), None) => assert!(r.is_object(), "a result must be an object: {v}"),
                    (None, Some(e)) => assert!(e["code"].is_i64(), "error without a code: {v}"),
                    _ => panic!("a response needs exactly one of result and error: {v}"),
                }
            }
            Ok(None) => {}
            Err(_) => panic!("a request did not finish within 5 s"),
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
