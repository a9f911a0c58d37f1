//! What resources and prompts may return: the `IntoResponse` of those items.

use serde::Serialize;

use crate::error::McpError;
use crate::handler::into::Json;
use crate::protocol::types::{GetPromptResult, PromptMessage, ResourceContents};

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
