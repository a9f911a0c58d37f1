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

// ---- Fixtures of the 2026-07-28 scenarios. The MRTR tools below are ordinary tools: the
// same `Elicitation` / `Sampling` / `Roots` calls that send requests on a stream in the
// handshake era become input rounds in this one.

/// Requires the sampling client capability; rejects with -32021 if undeclared (SEP-2575)
#[tool(read_only)]
fn test_missing_capability(ctx: &Ctx) -> Result<String, ToolError> {
    ctx.require_client_capability("sampling")?;
    Ok("Client declared the sampling capability".into())
}

fn confirm_schema() -> Value {
    json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]})
}

fn name_schema() -> Value {
    json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})
}

fn action(r: &ElicitResult<Value>) -> &'static str {
    match r {
        ElicitResult::Accept(_) => "accept",
        ElicitResult::Decline => "decline",
        ElicitResult::Cancel => "cancel",
    }
}

fn field(r: &ElicitResult<Value>, name: &str) -> Option<Value> {
    match r {
        ElicitResult::Accept(v) => v.get(name).cloned(),
        _ => None,
    }
}

/// Asks for elicitation via an InputRequiredResult, never via a request on the response stream (SEP-2575)
#[tool(read_only)]
async fn test_streaming_elicitation(elicit: Elicitation) -> Result<String, ToolError> {
    let r = elicit
        .key("confirm")
        .form_schema("Please confirm", confirm_schema())
        .await?;
    Ok(format!(
        "Streaming elicitation completed: action={}",
        action(&r)
    ))
}

/// Emits notifications/message only when _meta io.modelcontextprotocol/logLevel is set (SEP-2575)
#[tool(read_only)]
async fn test_logging_tool(log: musehub_mcp::Logger) -> String {
    log.info("Logging tool started").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    log.info("Logging tool finished").await;
    "Logging tool executed".into()
}

/// Sends notifications/tools/list_changed to subscriptions/listen streams (SEP-2575)
#[tool(read_only)]
fn test_trigger_tool_change(ctx: &Ctx) -> String {
    ctx.notify_list_changed("tools");
    "Sent notifications/tools/list_changed".into()
}

/// Sends notifications/prompts/list_changed to subscriptions/listen streams (SEP-2575)
#[tool(read_only)]
fn test_trigger_prompt_change(ctx: &Ctx) -> String {
    ctx.notify_list_changed("prompts");
    "Sent notifications/prompts/list_changed".into()
}

/// Mirrors its region argument into the Mcp-Param-Region header (SEP-2243)
#[tool(read_only)]
fn test_header_param(
    #[arg(desc = "Region; mirrored into Mcp-Param-Region", header = "Region")] region: String,
) -> String {
    format!("Region: {region}")
}

/// MRTR: asks for the user name via elicitation, then greets (SEP-2322)
#[tool(read_only)]
async fn test_input_required_result_elicitation(elicit: Elicitation) -> Result<String, ToolError> {
    let r = elicit
        .key("user_name")
        .form_schema("What is your name?", name_schema())
        .await?;
    Ok(match field(&r, "name") {
        Some(Value::String(n)) => format!("Hello, {n}!"),
        _ => format!("Elicitation ended: action={}", action(&r)),
    })
}

fn question(text: &str, max_tokens: u32) -> Value {
    json!({"messages": [{"role": "user", "content": {"type": "text", "text": text}}], "maxTokens": max_tokens})
}

fn sampled_text(answer: &Value) -> String {
    answer["content"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// MRTR: asks the client LLM a question via sampling (SEP-2322)
#[tool(read_only)]
async fn test_input_required_result_sampling(sampling: Sampling) -> Result<String, ToolError> {
    let answer = sampling
        .key("capital_question")
        .create_message(question("What is the capital of France?", 100))
        .await?;
    Ok(format!("LLM response: {}", sampled_text(&answer)))
}

fn root_uris(roots: &Value) -> String {
    let uris: Vec<&str> = roots["roots"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["uri"].as_str()).collect())
        .unwrap_or_default();
    if uris.is_empty() {
        "(none)".into()
    } else {
        uris.join(", ")
    }
}

/// MRTR: asks the client for its roots (SEP-2322)
#[tool(read_only)]
async fn test_input_required_result_list_roots(
    roots: musehub_mcp::Roots,
) -> Result<String, ToolError> {
    let listed = roots.key("client_roots").list().await?;
    Ok(format!("Client roots: {}", root_uris(&listed)))
}

/// MRTR: round-trips an integrity-protected requestState (SEP-2322)
#[tool(read_only)]
async fn test_input_required_result_request_state(
    elicit: Elicitation,
) -> Result<String, ToolError> {
    // The framework seals every round's answers into an HMAC-protected requestState and
    // refuses a state that fails verification, so reaching this line means it was verified.
    let r = elicit
        .key("confirm")
        .form_schema("Please confirm", confirm_schema())
        .await?;
    let confirmed = field(&r, "ok") == Some(Value::Bool(true));
    Ok(format!(
        "state-ok: requestState verified (confirmed={confirmed})"
    ))
}

/// MRTR: elicitation + sampling + roots in one InputRequiredResult (SEP-2322)
#[tool(read_only)]
async fn test_input_required_result_multiple_inputs(
    elicit: Elicitation,
    sampling: Sampling,
    roots: musehub_mcp::Roots,
) -> Result<String, ToolError> {
    // Asked together, so all three go out in one round.
    let (elicit, sampling, roots) = (
        elicit.key("user_name"),
        sampling.key("greeting"),
        roots.key("client_roots"),
    );
    let (name, greeting, listed) = tokio::join!(
        elicit.form_schema("What is your name?", name_schema()),
        sampling.create_message(question("Generate a greeting", 50)),
        roots.list(),
    );
    let (name, greeting, listed) = (name?, greeting?, listed?);
    let count = listed["roots"].as_array().map_or(0, Vec::len);
    Ok(format!(
        "Name: {}; Greeting: {}; Roots: {count}",
        field(&name, "name")
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        sampled_text(&greeting)
    ))
}

/// MRTR: two rounds of elicitation with evolving requestState (SEP-2322)
#[tool(read_only)]
async fn test_input_required_result_multi_round(elicit: Elicitation) -> Result<String, ToolError> {
    let step1 = elicit
        .key("step1")
        .form_schema("Step 1: What is your name?", name_schema())
        .await?;
    let color_schema = json!({"type": "object", "properties": {"color": {"type": "string"}}, "required": ["color"]});
    let step2 = elicit
        .key("step2")
        .form_schema("Step 2: What is your favorite color?", color_schema)
        .await?;
    let text = |v: Option<Value>| {
        v.and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    };
    Ok(format!(
        "Multi-round complete: name={}, color={}",
        text(field(&step1, "name")),
        text(field(&step2, "color"))
    ))
}

/// MRTR: rejects a tampered requestState (SEP-2322)
#[tool(read_only)]
async fn test_input_required_result_tampered_state(
    elicit: Elicitation,
) -> Result<String, ToolError> {
    elicit
        .key("confirm")
        .form_schema("Please confirm", confirm_schema())
        .await?;
    Ok("state-ok: untampered requestState accepted".into())
}

/// MRTR: only asks for inputs whose client capability was declared (SEP-2322)
#[tool(read_only)]
async fn test_input_required_result_capabilities(
    ctx: &Ctx,
    elicit: Elicitation,
    sampling: Sampling,
    roots: musehub_mcp::Roots,
) -> Result<String, ToolError> {
    let caps = ctx.client_capabilities();
    let has = |c: &str| caps.get(c).is_some();
    if !has("elicitation") && !has("sampling") && !has("roots") {
        ctx.require_client_capability("sampling")?;
    }
    let mut asked = Vec::new();
    let (a, b, c) = tokio::join!(
        async {
            if has("elicitation") {
                elicit
                    .key("user_name")
                    .form_schema("What is your name?", name_schema())
                    .await
                    .map(|_| ())
            } else {
                Ok(())
            }
        },
        async {
            if has("sampling") {
                sampling
                    .key("capital_question")
                    .create_message(question("What is the capital of France?", 100))
                    .await
                    .map(|_| ())
            } else {
                Ok(())
            }
        },
        async {
            if has("roots") {
                roots.key("client_roots").list().await.map(|_| ())
            } else {
                Ok(())
            }
        },
    );
    a?;
    b?;
    c?;
    for (cap, key) in [
        ("elicitation", "user_name"),
        ("sampling", "capital_question"),
        ("roots", "client_roots"),
    ] {
        if has(cap) {
            asked.push(key);
        }
    }
    Ok(format!("Received inputs for: {}", asked.join(", ")))
}

/// MRTR: asks for context via elicitation before rendering (SEP-2322)
#[prompt(title = "Prompt With Input Required")]
async fn test_input_required_result_prompt(
    elicit: Elicitation,
) -> Result<GetPromptResult, ToolError> {
    let schema = json!({"type": "object", "properties": {"context": {"type": "string"}}, "required": ["context"]});
    let r = elicit
        .key("user_context")
        .form_schema("What context should the prompt use?", schema)
        .await?;
    let context = field(&r, "context")
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_else(|| "(none)".into());
    Ok(GetPromptResult {
        description: Some("Prompt rendered with elicited context".into()),
        messages: vec![PromptMessage::user(format!("Use this context: {context}"))],
    })
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
    musehub_mcp::serve(server, cli.bind).await?;
    Ok(())
}
