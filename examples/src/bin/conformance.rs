//! The fixtures of the official MCP conformance suite (`@modelcontextprotocol/conformance`),
//! declared with our macros. Names, URIs and texts follow the suite's server scenarios.
//!
//! ```text
//! cargo run --release -p musehub-examples --bin conformance -- --bind 127.0.0.1:3001
//! npx conformance server --url http://127.0.0.1:3001/mcp --requirements 2025-11-25
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use clap::Parser;
use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

/// A 1×1 red PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A minimal WAV file.
const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/// Tests simple text content response
#[tool(read_only)]
fn test_simple_text() -> String {
    "This is a simple text response for testing.".into()
}

/// Tests image content response
#[tool(read_only)]
fn test_image_content() -> Content {
    Content::image(PNG, "image/png")
}

/// Tests audio content response
#[tool(read_only)]
fn test_audio_content() -> Content {
    Content::audio(WAV, "audio/wav")
}

/// Tests embedded resource content response
#[tool(read_only)]
fn test_embedded_resource() -> Content {
    Content::embedded(ResourceContents::text(
        "test://embedded-resource",
        Some("text/plain"),
        "This is an embedded resource content.",
    ))
}

/// Tests response with multiple content types (text, image, resource)
#[tool(read_only)]
fn test_multiple_content_types() -> Vec<Content> {
    vec![
        Content::text("Multiple content types test:"),
        Content::image(PNG, "image/png"),
        Content::embedded(ResourceContents::text(
            "test://mixed-content-resource",
            Some("application/json"),
            json!({"test": "data", "value": 123}).to_string(),
        )),
    ]
}

/// Tests tool that emits log messages during execution
#[tool(read_only)]
async fn test_tool_with_logging(log: musehub_mcp::Logger) -> String {
    for (i, msg) in [
        "Tool execution started",
        "Tool processing data",
        "Tool execution completed",
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        log.info(msg).await;
    }
    "Tool with logging executed successfully".into()
}

/// Tests tool that reports progress notifications
#[tool(read_only)]
async fn test_tool_with_progress(progress: Progress) -> String {
    for step in [0u32, 50, 100] {
        if step > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let msg = format!("Completed step {step} of 100");
        progress.report(step.into(), Some(100.0), Some(&msg)).await;
    }
    match progress.token() {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "no progress token".into(),
    }
}

/// Tests error response handling
#[tool(read_only)]
fn test_error_handling() -> Result<String, ToolError> {
    Err(ToolError::new(
        "test_error",
        "This tool intentionally returns an error for testing",
    ))
}

/// Tests SSE stream disconnection and client reconnection (SEP-1699). Server will close the stream mid-call and send the result after client reconnects.
#[tool(read_only, sse)]
async fn test_reconnection(ctx: &Ctx) -> String {
    ctx.close_stream().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    "Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.".into()
}

/// Tests server-initiated sampling (LLM completion request)
#[tool(read_only)]
async fn test_sampling(
    sampling: Sampling,
    #[arg(desc = "The prompt to send to the LLM")] prompt: String,
) -> Result<String, ToolError> {
    let answer = sampling
        .create_message(json!({
            "messages": [{"role": "user", "content": {"type": "text", "text": prompt}}],
            "maxTokens": 100
        }))
        .await?;
    let text = answer["content"]["text"].as_str().unwrap_or_default();
    Ok(format!("LLM response: {text}"))
}

fn describe<T>(r: &ElicitResult<T>, content: impl FnOnce(&T) -> String) -> (String, String) {
    match r {
        ElicitResult::Accept(v) => ("accept".into(), content(v)),
        ElicitResult::Decline => ("decline".into(), "{}".into()),
        ElicitResult::Cancel => ("cancel".into(), "{}".into()),
    }
}

/// Tests server-initiated elicitation (user input request)
#[tool(read_only)]
async fn test_elicitation(
    elicit: Elicitation,
    #[arg(desc = "The message to show the user")] message: String,
) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"}
        },
        "required": ["username", "email"]
    });
    let r = elicit.form_schema(&message, schema).await?;
    let (action, content) = describe(&r, Value::to_string);
    Ok(format!("User response: action={action}, content={content}"))
}

/// Tests elicitation with default values per SEP-1034
#[tool(read_only)]
async fn test_elicitation_sep1034_defaults(elicit: Elicitation) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active"},
            "verified": {"type": "boolean", "description": "Verification status", "default": true}
        },
        "required": []
    });
    let r = elicit
        .form_schema(
            "Please review and update the form fields with defaults",
            schema,
        )
        .await?;
    let (action, content) = describe(&r, Value::to_string);
    Ok(format!(
        "Elicitation completed: action={action}, content={content}"
    ))
}

/// Tests elicitation with enum schema improvements per SEP-1330
#[tool(read_only)]
async fn test_elicitation_sep1330_enums(elicit: Elicitation) -> Result<String, ToolError> {
    let schema = json!({
        "type": "object",
        "properties": {
            "untitledSingle": {"type": "string", "description": "Select one option", "enum": ["option1", "option2", "option3"]},
            "titledSingle": {"type": "string", "description": "Select one option with titles", "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"}
            ]},
            "legacyEnum": {"type": "string", "description": "Select one option (legacy)", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
            "untitledMulti": {"type": "array", "description": "Select multiple options", "minItems": 1, "maxItems": 3, "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
            "titledMulti": {"type": "array", "description": "Select multiple options with titles", "minItems": 1, "maxItems": 3, "items": {"anyOf": [
                {"const": "value1", "title": "First Choice"},
                {"const": "value2", "title": "Second Choice"},
                {"const": "value3", "title": "Third Choice"}
            ]}}
        },
        "required": []
    });
    let r = elicit
        .form_schema("Please select options from the enum fields", schema)
        .await?;
    let (action, content) = describe(&r, Value::to_string);
    Ok(format!(
        "Elicitation completed: action={action}, content={content}"
    ))
}

/// The JSON Schema 2020-12 document served verbatim for `json_schema_2020_12_tool`.
fn schema_2020_12() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "$anchor": "addressDef",
                "type": "object",
                "properties": {"street": {"type": "string"}, "city": {"type": "string"}}
            }
        },
        "properties": {
            "name": {"type": "string"},
            "address": {"$ref": "#/$defs/address"},
            "contactMethod": {"type": "string", "enum": ["phone", "email"]},
            "phone": {"type": "string"},
            "email": {"type": "string"}
        },
        "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
        "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
        "then": {"required": ["phone"]},
        "else": {"required": ["email"]},
        "additionalProperties": false
    })
}

/// Tool with JSON Schema 2020-12 features
#[tool(read_only, input_schema = schema_2020_12)]
fn json_schema_2020_12_tool(musehub_mcp::Args(args): musehub_mcp::Args<Value>) -> String {
    format!("JSON Schema 2020-12 tool called with: {args}")
}

/// A static text resource for testing
#[resource(
    uri = "test://static-text",
    name = "static-text",
    title = "Static Text Resource",
    mime_type = "text/plain"
)]
fn static_text() -> String {
    "This is the content of the static text resource.".into()
}

/// A static binary resource (image) for testing
#[resource(
    uri = "test://static-binary",
    name = "static-binary",
    title = "Static Binary Resource",
    mime_type = "image/png"
)]
fn static_binary() -> Result<Vec<u8>, ToolError> {
    base64::engine::general_purpose::STANDARD
        .decode(PNG)
        .map_err(|e| ToolError::internal(e.to_string()))
}

/// A resource that auto-updates every 3 seconds
#[resource(
    uri = "test://watched-resource",
    name = "watched-resource",
    title = "Watched Resource",
    mime_type = "text/plain"
)]
fn watched_resource() -> String {
    "Watched resource content".into()
}

/// A resource template with parameter substitution
#[resource(
    uri = "test://template/{id}/data",
    name = "template",
    title = "Resource Template",
    mime_type = "application/json"
)]
fn template(id: String) -> Json<Value> {
    Json(json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")}))
}

/// A simple prompt without arguments
#[prompt(title = "Simple Test Prompt")]
fn test_simple_prompt() -> String {
    "This is a simple prompt for testing.".into()
}

async fn complete_arg(c: musehub_mcp::Completion) -> Vec<String> {
    ["testValue1", "testValue2", "other"]
        .into_iter()
        .filter(|v| v.starts_with(&c.value))
        .map(String::from)
        .collect()
}

/// A prompt with required arguments
#[prompt(title = "Prompt With Arguments", complete(arg1 = complete_arg, arg2 = complete_arg))]
fn test_prompt_with_arguments(
    #[arg(desc = "First test argument")] arg1: String,
    #[arg(desc = "Second test argument")] arg2: String,
) -> String {
    format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'")
}

/// A prompt that includes an embedded resource
#[prompt(title = "Prompt With Embedded Resource")]
fn test_prompt_with_embedded_resource(
    #[arg(desc = "URI of the resource to embed", rename = "resourceUri")] resource_uri: String,
) -> Vec<PromptMessage> {
    vec![
        PromptMessage::user_content(Content::embedded(ResourceContents::text(
            resource_uri,
            Some("text/plain"),
            "Embedded resource content for testing.",
        ))),
        PromptMessage::user("Please process the embedded resource above."),
    ]
}

/// A prompt that includes image content
#[prompt(title = "Prompt With Image")]
fn test_prompt_with_image() -> Vec<PromptMessage> {
    vec![
        PromptMessage::user_content(Content::image(PNG, "image/png")),
        PromptMessage::user("Please analyze the image above."),
    ]
}

#[derive(Parser)]
#[command(about = "The MCP conformance suite's fixture server, built on musehub-mcp")]
struct Cli {
    /// Address to serve `/mcp` on.
    #[arg(long, default_value = "127.0.0.1:3001")]
    bind: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let cli = Cli::parse();
    let server = Server::builder("mcp-conformance-test-server")
        .version("1.0.0")
        .build()?;
    eprintln!("conformance server on http://{}/mcp", cli.bind);
    musehub_mcp::transport::http::serve(server, cli.bind).await?;
    Ok(())
}
