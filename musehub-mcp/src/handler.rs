//! What tools, resources and prompts may take and return: `Args<T>`, `Json<T>` and the
//! `Into*` conversion traits (the `IntoResponse` of this framework).

use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{McpError, ToolError};
use crate::protocol::types::{
    CallToolResult, Content, GetPromptResult, PromptMessage, ResourceContents,
};
use crate::registry::RawArguments;

/// The whole argument object of a tool, deserialised into `T`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args<T>(pub T);

/// A structured result: `structuredContent` plus a text copy, with an `outputSchema` from `T`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Json<T>(pub T);

/// Converts a tool's return value into a `CallToolResult`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a tool",
    note = "return `String`, `Content`, `Vec<Content>`, `Json<T>`, `CallToolResult`, `()` or `Result<_, E>` of one of them, where `E: Into<ToolError>`"
)]
pub trait IntoToolResult {
    /// The result.
    fn into_tool_result(self) -> CallToolResult;
    /// The output schema, when the value has a stable shape.
    fn output_schema(_g: &mut SchemaGenerator) -> Option<Schema> {
        None
    }
}

impl IntoToolResult for CallToolResult {
    fn into_tool_result(self) -> CallToolResult {
        self
    }
}

impl IntoToolResult for () {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(Vec::new())
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![Content::text(self)])
    }
}

impl IntoToolResult for &'static str {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![Content::text(self)])
    }
}

impl IntoToolResult for Content {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(vec![self])
    }
}

impl IntoToolResult for Vec<Content> {
    fn into_tool_result(self) -> CallToolResult {
        CallToolResult::success(self)
    }
}

impl<T: Serialize + JsonSchema> IntoToolResult for Json<T> {
    fn into_tool_result(self) -> CallToolResult {
        match serde_json::to_value(&self.0) {
            // The registry wraps non-object values in `{"result": ...}` to match the schema.
            Ok(mut v) => {
                strip_null_members(&mut v);
                CallToolResult {
                    content: vec![Content::text(v.to_string())],
                    structured_content: Some(v),
                    is_error: false,
                }
            }
            Err(e) => ToolError::internal(format!("the result could not be serialised: {e}"))
                .into_result(),
        }
    }
    fn output_schema(g: &mut SchemaGenerator) -> Option<Schema> {
        Some(g.root_schema_for::<T>())
    }
}

/// Removes object members whose value is `null`, at every depth. The published output schema
/// shows an `Option<T>` field as a plain `T` that is not required (see `schema`), so an absent
/// member is what it allows; strict clients reject `null` there.
fn strip_null_members(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_null_members);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_null_members),
        _ => {}
    }
}

impl<T: IntoToolResult, E: Into<ToolError>> IntoToolResult for Result<T, E> {
    fn into_tool_result(self) -> CallToolResult {
        match self {
            Ok(v) => v.into_tool_result(),
            Err(e) => e.into().into_result(),
        }
    }
    fn output_schema(g: &mut SchemaGenerator) -> Option<Schema> {
        T::output_schema(g)
    }
}

impl ToolError {
    /// The `isError` result: the message as text, and `{"error": {code, message}}` as
    /// structured content so programs can branch on the code.
    pub fn into_result(self) -> CallToolResult {
        let mut err = json!({ "code": self.code, "message": self.message });
        if let Some(d) = self.data {
            err["data"] = d;
        }
        CallToolResult {
            content: vec![Content::text(self.message)],
            structured_content: Some(json!({ "error": err })),
            is_error: true,
        }
    }
}

/// Converts a resource function's return value into resource contents.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a resource",
    note = "return `String`, `Vec<u8>`, `Json<T>`, `ResourceContents`, `Vec<ResourceContents>` or `Result<_, E>` of one of them"
)]
pub trait IntoResourceContents {
    /// The contents for `uri`, with the resource's declared MIME type as the default.
    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, McpError>;
}

impl IntoResourceContents for String {
    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, McpError> {
        Ok(vec![ResourceContents::text(
            uri,
            mime_type.or(Some("text/plain")),
            self,
        )])
    }
}

impl IntoResourceContents for &'static str {
    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, McpError> {
        self.to_string().into_contents(uri, mime_type)
    }
}

impl IntoResourceContents for Vec<u8> {
    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, McpError> {
        Ok(vec![ResourceContents::blob(
            uri,
            mime_type.or(Some("application/octet-stream")),
            &self,
        )])
    }
}

impl<T: Serialize> IntoResourceContents for Json<T> {
    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, McpError> {
        let text = serde_json::to_string(&self.0).map_err(|e| {
            McpError::internal(format!("the resource could not be serialised: {e}"))
        })?;
        Ok(vec![ResourceContents::text(
            uri,
            mime_type.or(Some("application/json")),
            text,
        )])
    }
}

impl IntoResourceContents for ResourceContents {
    fn into_contents(
        self,
        _uri: &str,
        _mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, McpError> {
        Ok(vec![self])
    }
}

impl IntoResourceContents for Vec<ResourceContents> {
    fn into_contents(
        self,
        _uri: &str,
        _mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, McpError> {
        Ok(self)
    }
}

impl<T: IntoResourceContents, E: Into<McpError>> IntoResourceContents for Result<T, E> {
    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, McpError> {
        match self {
            Ok(v) => v.into_contents(uri, mime_type),
            Err(e) => Err(e.into()),
        }
    }
}

/// Converts a prompt function's return value into a `GetPromptResult`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a prompt",
    note = "return `String`, `PromptMessage`, `Vec<PromptMessage>`, `GetPromptResult` or `Result<_, E>` of one of them"
)]
pub trait IntoPromptResult {
    /// The result.
    fn into_prompt_result(self) -> Result<GetPromptResult, McpError>;
}

impl IntoPromptResult for GetPromptResult {
    fn into_prompt_result(self) -> Result<GetPromptResult, McpError> {
        Ok(self)
    }
}

impl IntoPromptResult for Vec<PromptMessage> {
    fn into_prompt_result(self) -> Result<GetPromptResult, McpError> {
        Ok(GetPromptResult {
            description: None,
            messages: self,
        })
    }
}

impl IntoPromptResult for PromptMessage {
    fn into_prompt_result(self) -> Result<GetPromptResult, McpError> {
        vec![self].into_prompt_result()
    }
}

impl IntoPromptResult for String {
    fn into_prompt_result(self) -> Result<GetPromptResult, McpError> {
        PromptMessage::user(self).into_prompt_result()
    }
}

impl<T: IntoPromptResult, E: Into<McpError>> IntoPromptResult for Result<T, E> {
    fn into_prompt_result(self) -> Result<GetPromptResult, McpError> {
        self.map_err(Into::into)?.into_prompt_result()
    }
}

/// Deserialises a tool's arguments; a failure is an `isError` result naming the field.
pub fn parse_arguments<T: DeserializeOwned>(raw: RawArguments) -> Result<T, CallToolResult> {
    let value = Value::Object(raw.unwrap_or_default());
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let msg = if path == "." {
            format!("invalid arguments: {}", e.inner())
        } else {
            format!("invalid argument `{path}`: {}", e.inner())
        };
        ToolError::invalid_argument(msg).into_result()
    })
}

/// Reads one template variable, parsed with `FromStr`.
pub fn template_var<T: FromStr>(vars: &HashMap<String, String>, name: &str) -> Result<T, McpError> {
    let raw = vars
        .get(name)
        .ok_or_else(|| McpError::invalid_params(format!("missing template variable `{name}`")))?;
    raw.parse().map_err(|_| {
        McpError::invalid_params(format!("template variable `{name}` has an invalid value"))
    })
}

/// A prompt argument type: `String` (required) or `Option<String>`.
pub trait PromptArg: Sized {
    /// Takes the argument out of the map.
    fn take(args: &mut HashMap<String, String>, name: &str) -> Result<Self, McpError>;
}

impl PromptArg for String {
    fn take(args: &mut HashMap<String, String>, name: &str) -> Result<Self, McpError> {
        args.remove(name)
            .ok_or_else(|| McpError::invalid_params(format!("missing required argument `{name}`")))
    }
}

impl PromptArg for Option<String> {
    fn take(args: &mut HashMap<String, String>, name: &str) -> Result<Self, McpError> {
        Ok(args.remove(name))
    }
}

/// A type that can be a client argument: deserialisable and with a JSON Schema.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is neither a client argument type nor an injected type",
    label = "not usable as a tool parameter",
    note = "a client argument derives `Deserialize` and `JsonSchema` (use `#[musehub_mcp::schema]` on your type)",
    note = "injected parameters are `&Ctx`, `State<T>`, `Progress`, `Elicitation`, `Sampling`, `Roots`, `Logger`, `Caller`, `CancellationToken`, or a type marked `#[inject]` that implements `FromCtx`"
)]
pub trait SchemaArg {}
impl<T: DeserializeOwned + JsonSchema> SchemaArg for T {}

/// Compile-time check that a parameter type is a [`SchemaArg`].
pub fn assert_schema_arg<T: SchemaArg + ?Sized>() {}

/// Names the argument type behind `Args<T>` for the generated code.
pub trait WholeArgs {
    /// `T`.
    type Inner: DeserializeOwned + JsonSchema;
}

impl<T: DeserializeOwned + JsonSchema> WholeArgs for Args<T> {
    type Inner = T;
}

/// Marks futures that can move between threads; its message explains how to fix one that can't.
#[diagnostic::on_unimplemented(
    message = "the future returned by this async function is not `Send`, so the server cannot run it on its thread pool",
    label = "this call's future is not `Send`",
    note = "a value that is not `Send` (an `Rc`, a `RefCell` borrow, a `std::sync::MutexGuard`) is held across an `.await`",
    note = "drop it before the `.await`, or use `Arc` / `tokio::sync::Mutex` instead"
)]
pub trait SendFuture {}
impl<F: Send> SendFuture for F {}

/// Passes a future through, failing to compile (with a hint) when it is not `Send`.
pub fn require_send<F: Future + SendFuture>(f: F) -> F {
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_results_drop_null_members() {
        let r = Json(json!({"a": null, "b": [{"c": null, "d": 1}], "e": "x"})).into_tool_result();
        assert_eq!(
            r.structured_content,
            Some(json!({"b": [{"d": 1}], "e": "x"}))
        );
        assert_eq!(r.content, vec![Content::text(r#"{"b":[{"d":1}],"e":"x"}"#)]);
    }
}
