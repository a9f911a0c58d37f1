//! The ways of writing an item that the macros accept, each compiled here and called: a block
//! of arguments shared through `#[arg(flatten)]`, properties in declaration order, `anyhow`
//! and any `Display` type as the error type, an injected type under another name with
//! `#[inject]`, and a resource whose parameter is named like the function.

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};
use musehub_mcp::{Caller, Ctx as Context};

/// Where a repository is: by id, or by owner and slug.
#[schema]
#[derive(Debug, Clone)]
pub struct Place {
    /// The owner's handle.
    pub owner: Option<String>,
    /// The slug.
    pub slug: Option<String>,
}

/// Describes a place, with a note.
#[tool(read_only)]
fn describe_place(
    #[arg(flatten)] place: Place,
    #[arg(desc = "Zebra comes after alpha alphabetically, but first here.")] zebra: String,
    #[arg(desc = "The note.")] alpha: Option<String>,
) -> String {
    format!(
        "{}/{} {zebra} {}",
        place.owner.unwrap_or_default(),
        place.slug.unwrap_or_default(),
        alpha.unwrap_or_default()
    )
}

/// Fails with an anyhow error.
#[tool(read_only)]
async fn fails_with_anyhow(reason: String) -> anyhow::Result<String> {
    Err(anyhow::anyhow!("inner cause: {reason}").context("outer failure"))
}

/// Fails with a plain string.
#[tool(read_only)]
fn fails_with_text() -> Result<String, String> {
    Err("just text".to_string())
}

/// Keeps a `ToolError`'s code.
#[tool(read_only)]
fn fails_with_code() -> Result<String, ToolError> {
    Err(ToolError::not_found("no such thing"))
}

/// Greets the caller through a renamed context.
#[tool(read_only)]
fn who(#[inject] ctx: &Context) -> String {
    ctx.caller().handle().unwrap_or("anonymous").to_string()
}

/// One track, named after its function.
#[resource(uri = "forms://tracks/{track}", mime_type = "text/plain")]
fn track(track: String) -> String {
    format!("track {track}")
}

async fn call(tool: &str, args: Value) -> Value {
    let server = musehub_tests::build(Default::default());
    server
        .call(
            Caller::anonymous(),
            "tools/call",
            json!({"name": tool, "arguments": args}),
        )
        .await
        .expect("a result")
}

#[tokio::test]
async fn flattened_arguments_are_top_level_and_properties_keep_their_order() {
    let server = musehub_tests::build(Default::default());
    let schema = &server
        .registry()
        .tool("describe_place")
        .expect("registered")
        .input_schema;
    let order: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
    assert_eq!(order, vec!["owner", "slug", "zebra", "alpha"], "{schema}");
    assert_eq!(schema["required"], json!(["zebra"]));
    let r = call(
        "describe_place",
        json!({"owner": "ada", "slug": "song", "zebra": "z", "alpha": "a"}),
    )
    .await;
    assert_eq!(r["content"][0]["text"], "ada/song z a");
}

#[tokio::test]
async fn any_display_error_becomes_a_tool_error() {
    let r = call("fails_with_anyhow", json!({"reason": "disk"})).await;
    assert_eq!(r["isError"], true);
    assert_eq!(r["structuredContent"]["error"]["code"], "error");
    assert_eq!(
        r["content"][0]["text"], "outer failure: inner cause: disk",
        "the whole anyhow chain"
    );
    let r = call("fails_with_text", json!({})).await;
    assert_eq!(r["content"][0]["text"], "just text");
    let r = call("fails_with_code", json!({})).await;
    assert_eq!(r["structuredContent"]["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_renamed_context_is_injected_with_the_marker() {
    let server = musehub_tests::build(Default::default());
    let who = server.registry().tool("who").expect("registered");
    assert_eq!(who.input_schema["properties"], json!({}), "not an argument");
    assert!(who.def.sse, "an injected extractor may stream");
    let r = server
        .call(
            Caller::authenticated(musehub_mcp::Identity::new(
                "ada",
                musehub_mcp::Scheme::Trusted,
            )),
            "tools/call",
            json!({"name": "who"}),
        )
        .await
        .unwrap();
    assert_eq!(r["content"][0]["text"], "ada");
}

#[tokio::test]
async fn a_resource_parameter_may_share_its_function_name() {
    let server = musehub_tests::build(Default::default());
    let r = server
        .call(
            Caller::anonymous(),
            "resources/read",
            json!({"uri": "forms://tracks/bass"}),
        )
        .await
        .unwrap();
    assert_eq!(r["contents"][0]["text"], "track bass");
}
