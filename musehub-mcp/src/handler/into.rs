//! What a tool takes as a whole (`Args<T>`) and returns: [`IntoToolResult`] (the
//! `IntoResponse` of this framework) and `Json<T>`. A tool's result is serialised once,
//! straight into the bytes of the response ([`ToolOutput`]).

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::ToolError;
use crate::protocol::types::{CallToolResult, Content};

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
pub trait IntoToolResult: Sized {
    /// The result.
    fn into_tool_result(self) -> CallToolResult;
    /// The output schema, when the value has a stable shape.
    fn output_schema(_g: &mut SchemaGenerator) -> Option<Schema> {
        None
    }
    /// The result serialised: what the runtime sends. The default serialises
    /// [`into_tool_result`](Self::into_tool_result); `Json<T>` writes `T` without building a
    /// `CallToolResult` first.
    #[doc(hidden)]
    fn into_output(self, shape: OutputShape) -> ToolOutput {
        ToolOutput::from_result(self.into_tool_result(), shape)
    }
}

/// Where a tool's structured output goes in `structuredContent`: as it is (an object), or
/// wrapped as `{"result": value}` when its schema is not an object's.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputShape {
    /// The value is the structured content.
    Object,
    /// The value goes under `result`.
    Wrapped,
}

/// A tool's result, serialised: the JSON text of a `CallToolResult` object.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput(pub(crate) Vec<u8>);

impl ToolOutput {
    /// Serialises a `CallToolResult`, wrapping successful structured content for `Wrapped`.
    pub fn from_result(mut result: CallToolResult, shape: OutputShape) -> Self {
        if shape == OutputShape::Wrapped
            && !result.is_error
            && let Some(v) = result.structured_content.take()
        {
            result.structured_content = Some(json!({ "result": v }));
        }
        match serde_json::to_vec(&result) {
            Ok(v) => ToolOutput(v),
            Err(_) => ToolOutput(br#"{"content":[],"isError":true}"#.to_vec()),
        }
    }

    /// The JSON text.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// True when serialised JSON may hold a `null` (a quick byte check: a string containing
/// "null" also counts, and only costs the slower path).
fn may_hold_null(json: &[u8]) -> bool {
    json.windows(4).any(|w| w == b"null")
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
    fn into_output(self, shape: OutputShape) -> ToolOutput {
        // One serialisation of `T`, used twice: as the structured content and, escaped, as
        // the text copy. A value with nulls to strip takes the tree path instead.
        let text = match serde_json::to_vec(&self.0) {
            Ok(t) if !may_hold_null(&t) => t,
            Ok(_) => return ToolOutput::from_result(self.into_tool_result(), shape),
            Err(e) => {
                return ToolOutput::from_result(
                    ToolError::internal(format!("the result could not be serialised: {e}"))
                        .into_result(),
                    shape,
                );
            }
        };
        let mut out = Vec::with_capacity(text.len() * 2 + 96);
        out.extend_from_slice(br#"{"content":[{"type":"text","text":"#);
        // The text is valid UTF-8: serde_json wrote it.
        let as_str = std::str::from_utf8(&text).unwrap_or("");
        if serde_json::to_writer(&mut out, as_str).is_err() {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(br#"}],"structuredContent":"#);
        match shape {
            OutputShape::Object => out.extend_from_slice(&text),
            OutputShape::Wrapped => {
                out.extend_from_slice(br#"{"result":"#);
                out.extend_from_slice(&text);
                out.push(b'}');
            }
        }
        out.push(b'}');
        ToolOutput(out)
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
    fn into_output(self, shape: OutputShape) -> ToolOutput {
        match self {
            Ok(v) => v.into_output(shape),
            Err(e) => ToolOutput::from_result(e.into().into_result(), shape),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_results_are_serialised_once_and_match_the_tree_path() {
        #[derive(serde::Serialize, schemars::JsonSchema)]
        struct Out {
            a: u32,
            s: String,
        }
        let fast = Json(Out {
            a: 1,
            s: "x\"y".into(),
        })
        .into_output(OutputShape::Object);
        let tree = ToolOutput::from_result(
            Json(Out {
                a: 1,
                s: "x\"y".into(),
            })
            .into_tool_result(),
            OutputShape::Object,
        );
        let (f, t): (Value, Value) = (
            serde_json::from_slice(&fast.0).unwrap(),
            serde_json::from_slice(&tree.0).unwrap(),
        );
        assert_eq!(f, t);
        let wrapped = Json(5u32).into_output(OutputShape::Wrapped);
        let v: Value = serde_json::from_slice(&wrapped.0).unwrap();
        assert_eq!(
            v,
            json!({"content": [{"type": "text", "text": "5"}], "structuredContent": {"result": 5}})
        );
        let with_null = Json(json!({"a": null, "b": 1})).into_output(OutputShape::Object);
        let v: Value = serde_json::from_slice(&with_null.0).unwrap();
        assert_eq!(v["structuredContent"], json!({"b": 1}));
        let failed =
            ToolOutput::from_result(ToolError::internal("x").into_result(), OutputShape::Object);
        assert!(failed.0.ends_with(br#","isError":true}"#));
    }

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
