//! MuseHub MCP: a Model Context Protocol server framework in which tools, resources and
//! prompts are plain annotated Rust functions.
//!
//! ```ignore
//! use musehub_mcp::prelude::*;
//!
//! /// Say hello to someone.
//! #[tool(read_only)]
//! async fn hello(#[arg(desc = "Who to greet")] name: String) -> String {
//!     format!("Hello, {name}!")
//! }
//!
//! #[tokio::main]
//! async fn main() -> anyhow::Result<()> {
//!     let server = Server::builder("hello").build()?;
//!     musehub_mcp::transport::http::serve(server, "127.0.0.1:8080".parse()?).await?;
//!     Ok(())
//! }
//! ```
//!
//! Architecture, by module:
//! - [`registry`]: the items the macros registered, built once (schemas, validators, listings);
//! - [`schema`]: the normaliser that makes schemas acceptable to every client;
//! - [`engine`]: `initialize` negotiation and the dispatch of every MCP method;
//! - [`session`]: handshake-era sessions and resumable SSE event logs;
//! - [`transport`]: Streamable HTTP (`/mcp`) and stdio;
//! - [`docs`]: `/mcp/docs`, `/mcp/docs.json` and the offline Markdown reference and lint;
//! - [`context`] and [`handler`]: what a tool takes (injected helpers) and returns.

extern crate self as musehub_mcp;

pub mod auth;
pub mod config;
pub mod context;
pub mod docs;
pub mod engine;
pub mod error;
pub mod handler;
pub mod protocol;
pub mod registry;
pub mod schema;
pub mod session;
pub mod shared;
pub mod transport;
pub mod uri_template;
mod util;

pub use config::ServerConfig;
pub use context::{
    Caller, CancellationToken, Ctx, ElicitResult, Elicitation, FromCtx, Identity, Logger, Progress,
    Roots, Sampling, State,
};
pub use docs::{AuthScheme, DocsOptions};
pub use engine::{Server, ServerBuilder};
pub use error::{McpError, ToolError};
pub use handler::{Args, IntoPromptResult, IntoResourceContents, IntoToolResult, Json};
pub use musehub_macros::{prompt, resource, schema, tool};
pub use protocol::types::{
    CallToolResult, Content, GetPromptResult, LogLevel, PromptMessage, ResourceContents, Role,
};
pub use registry::{Completion, Registry, SSE_TOOLS, WRITE_TOOLS};
pub use schemars;
pub use serde_json;

/// Everything a server author usually needs, in one import.
pub mod prelude {
    pub use crate::{
        Args, CallToolResult, Caller, CancellationToken, Completion, Content, Ctx, ElicitResult,
        Elicitation, GetPromptResult, Json, LogLevel, Logger, McpError, Progress, PromptMessage,
        ResourceContents, Roots, Sampling, Server, ServerConfig, State, ToolError, prompt,
        resource, schema, tool,
    };
}

/// Support for the generated code. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::handler::{
        PromptArg, WholeArgs, assert_schema_arg, parse_arguments, require_send, template_var,
    };
    pub use crate::registry::{
        CompletionDef, Icon, InputSchema, PromptArgDef, PromptArguments, PromptDef, RawArguments,
        ResourceDef, SourceLocation, TemplateVars, ToolDef,
    };
    pub use futures::future::BoxFuture;
    pub use inventory;
    pub use linkme;
    pub use serde;
}
