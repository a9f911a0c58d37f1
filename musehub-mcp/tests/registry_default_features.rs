//! A registry of ordinary tools builds on default features, without `validation`: documented
//! enums (a `oneOf` of string `const`s), internally tagged enums and integer types are checked
//! by deserialising into the Rust type, so they need no JSON Schema validator. A wrong variant,
//! tag or out-of-range integer is still refused: a tool error naming the argument, which the
//! model can read and correct (2025-11-25 reports input validation errors that way).
//!
//! Found by the dispatcher fuzz target: its registry (a documented enum argument) refused to
//! build with `NeedsValidation` on default features.

use musehub_mcp::prelude::*;
use musehub_mcp::{Caller, McpError};
use serde_json::{Value, json};

/// The mode of a scale.
#[schema]
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Major.
    Major,
    /// Minor.
    Minor,
}

/// A note or a rest.
#[schema]
#[derive(Debug, Clone)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Event {
    /// A note.
    Note {
        /// MIDI pitch.
        pitch: u8,
    },
    /// A rest.
    Rest {
        /// Beats.
        beats: u32,
    },
}

/// Name a scale and its first event.
#[tool(read_only)]
async fn describe_scale(
    #[arg(desc = "The mode")] mode: Mode,
    #[arg(desc = "The first event")] first: Event,
    #[arg(desc = "Octave")] octave: Option<i8>,
) -> String {
    format!("{mode:?} {first:?} {}", octave.unwrap_or(4))
}

fn server() -> std::sync::Arc<Server> {
    Server::builder("default-features")
        .build()
        .expect("documented and tagged enums build without the validation feature")
}

async fn call(args: Value) -> Result<Value, McpError> {
    server()
        .call(
            Caller::anonymous(),
            "tools/call",
            json!({"name": "describe_scale", "arguments": args}),
        )
        .await
}

#[tokio::test]
async fn documented_and_tagged_enums_build_and_are_served() {
    let r = call(json!({"mode": "Minor", "first": {"kind": "note", "pitch": 60}}))
        .await
        .expect("a result");
    assert!(r.get("isError").is_none(), "{r}");
    assert_eq!(
        r["content"][0]["text"],
        json!("Minor Note { pitch: 60 } 4"),
        "{r}"
    );
}

#[tokio::test]
async fn a_wrong_variant_or_tag_is_still_refused() {
    for args in [
        json!({"mode": "Dorian", "first": {"kind": "rest", "beats": 1}}),
        json!({"mode": "Major", "first": {"kind": "chord", "beats": 1}}),
        json!({"mode": "Major", "first": {"kind": "note", "pitch": 300}}),
    ] {
        let r = call(args.clone()).await.expect("a tool result");
        assert_eq!(r["isError"], json!(true), "{args}: {r}");
        assert_eq!(
            r["structuredContent"]["error"]["code"],
            json!("invalid_argument"),
            "{args}: {r}"
        );
    }
}
