//! Asking the user (elicitation), shared by the interactive tools: a form with a way around it
//! for clients without elicitation, and enum values as the form shows them.

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Map, Value};

/// The missing-capability error with the arguments that skip the question.
pub(crate) fn unsupported(e: ToolError, bypass: &str) -> ToolError {
    // Keep the framework's code and data (`requiredCapabilities`), add the way around.
    ToolError {
        message: format!(
            "{} Call the tool again with {bypass} to skip the question.",
            e.message
        ),
        ..e
    }
}

/// True when the client declared URL-mode elicitation (checked before asking, so a client
/// without it simply gets the URL in the result).
pub(crate) fn supports_url(ctx: &Ctx) -> bool {
    ctx.client_capabilities()
        .get("elicitation")
        .and_then(|e| e.as_object())
        .is_some_and(|m| m.contains_key("url"))
}

/// The error for a form the user declined or cancelled.
pub(crate) fn declined(what: &str) -> ToolError {
    ToolError::new(
        "elicitation_declined",
        format!("The user declined or cancelled the {what}."),
    )
}

/// Runs a form elicitation, mapping decline/cancel and a missing capability to tool errors.
pub(crate) async fn ask(
    elicit: &Elicitation,
    bypass: &str,
    what: &str,
    message: &str,
    schema: Value,
) -> Result<Map<String, Value>, ToolError> {
    match elicit.form_schema(message, schema).await {
        Ok(ElicitResult::Accept(v)) => Ok(v.as_object().cloned().unwrap_or_default()),
        Ok(ElicitResult::Decline | ElicitResult::Cancel) => Err(declined(what)),
        Err(e) if e.code == musehub_mcp::handler::MISSING_CAPABILITY => Err(unsupported(e, bypass)),
        Err(e) => Err(e),
    }
}

/// An enum value as its JSON string (the name a form shows).
pub(crate) fn enum_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
