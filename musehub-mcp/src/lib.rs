//! MuseHub MCP: a Model Context Protocol server framework in which tools, resources and
//! prompts are plain annotated Rust functions.
//!
//! ```no_run
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
//!     musehub_mcp::serve(server, "127.0.0.1:8080".parse()?).await?;
//!     Ok(())
//! }
//! ```
//!
//! # Architecture
//!
//! The modules are layers, each using only those before it (checked by
//! `tests/architecture.rs`; ARCHITECTURE.md draws the path of one call):
//!
//! `protocol` → `handler` → `registry` → `engine` → `session` → `shared` → `auth` → `server`
//! → `transport` → `docs`
//!
//! - [`protocol`]: the wire, pure types and no I/O (decoding a request once, encoding
//!   responses, revisions, header names);
//! - [`handler`]: what an item takes ([`Ctx`] and the injected helpers) and returns;
//! - [`registry`]: the items the macros registered, built once (schemas, listings);
//! - `engine`: every MCP method of both eras, dispatched once, knowing nothing of HTTP;
//! - `session` and [`shared`]: handshake-era sessions with their resumable event logs, and
//!   the store shared between instances;
//! - [`auth`]: the authentication seam (MSign, bearer tokens) and rate limits;
//! - [`server`]: the [`Server`] and its builder, owning the background work;
//! - [`transport`]: Streamable HTTP and stdio;
//! - [`docs`]: `/mcp/docs`, `/mcp/docs.json` and the offline Markdown reference and lint.
//!
//! `util`, `error` and `config` sit below them all.

// Built without any transport, the crate serves in-process calls only, and without HTTP the
// SSE streams and per-address limits have no user: those parts are then unused.
#![cfg_attr(not(any(feature = "http", feature = "stdio")), allow(unused_imports))]
#![cfg_attr(not(feature = "http"), allow(dead_code))]

extern crate self as musehub_mcp;

pub mod auth;
pub mod config;
#[cfg(feature = "docs")]
pub mod docs;
pub(crate) mod engine;
pub mod error;
pub mod handler;
pub mod protocol;
pub mod registry;
pub mod server;
pub(crate) mod session;
pub mod shared;
pub mod transport;
pub(crate) mod util;

pub use config::ServerConfig;
pub use config::docs::{AuthScheme, DocsOptions};
pub use engine::{Change, ServerInfo};
pub use error::{McpError, ToolError};
pub use handler::ctx::{Scheme, StateMap};
pub use handler::{
    Args, Caller, CancellationToken, Ctx, ElicitResult, Elicitation, FromCtx, Identity,
    IntoPromptResult, IntoResourceContents, IntoToolResult, Json, Logger, Progress, Roots,
    Sampling, State,
};
pub use musehub_macros::{prompt, resource, schema, tool};
pub use protocol::types::{
    CallToolResult, Content, GetPromptResult, LogLevel, PromptMessage, ResourceContents, Role,
};
pub use registry::{Completion, Registry};
pub use schemars;
pub use serde_json;
pub use server::{BuildError, InProcessOutcome, Server, ServerBuilder};

/// Everything a server author usually needs, in one import.
pub mod prelude {
    pub use crate::{
        Args, CallToolResult, Caller, CancellationToken, Completion, Content, Ctx, ElicitResult,
        Elicitation, GetPromptResult, Json, LogLevel, Logger, McpError, Progress, PromptMessage,
        ResourceContents, Roots, Sampling, Server, ServerConfig, State, ToolError, prompt,
        resource, schema, serde_json, tool,
    };
}

#[cfg(feature = "http")]
/// The whole HTTP application of a server: `/mcp` and, unless the server was built with
/// [`DocsOptions::disabled`], the documentation surfaces (`/mcp/docs`, `/mcp/docs.json`,
/// `/mcp/docs.schema.json`, `/mcp/docs.md`). Merge your own routes into it.
pub fn router(server: std::sync::Arc<Server>) -> axum::Router {
    let mcp = transport::http::router(server.clone());
    #[cfg(feature = "docs")]
    if server.docs_options().enabled() {
        return mcp.merge(docs::router(&server));
    }
    mcp
}

#[cfg(feature = "http")]
/// Serves [`router`] on `addr` until Ctrl-C or SIGTERM, then shuts down gracefully (in-flight
/// calls finish, streams close, background work stops).
pub async fn serve(
    server: std::sync::Arc<Server>,
    addr: std::net::SocketAddr,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_listener(server, listener, transport::http::shutdown_signal()).await
}

#[cfg(feature = "http")]
/// Serves [`router`] on a bound listener until `shutdown` resolves.
pub async fn serve_listener(
    server: std::sync::Arc<Server>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(server.clone());
    transport::http::serve_router(server, app, listener, shutdown).await
}

/// Support for the generated code. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::handler::generated::{
        ArgFallback, ArgProbe, ArgViaSerde, ErrorValue, ErrorViaDisplay, ErrorViaInto, PromptArg,
        ProtocolViaDisplay, ProtocolViaMcp, ProtocolViaTool, WholeArgs, assert_schema_arg,
        parse_arguments, require_send, template_var,
    };
    pub use crate::handler::into::{OutputShape, ToolOutput};
    pub use crate::registry::{
        CompletionDef, Icon, InputSchema, PromptArgDef, PromptArguments, PromptDef, ResourceDef,
        SourceLocation, TemplateVars, ToolDef, ToolStart,
    };
    pub use futures::future::BoxFuture;
    pub use inventory;
    pub use serde;
    pub use serde_json::value::RawValue;
}

/// Entry points for the fuzz targets (`musehub-mcp/fuzz`). Not a public API.
#[doc(hidden)]
pub mod __fuzz {
    use std::sync::Arc;

    #[cfg(feature = "msign")]
    pub use crate::auth::msign::header::MAX_HEADER_LEN;
    pub use crate::protocol::jsonrpc::nesting_exceeds;
    pub use crate::protocol::request::{Body, Incoming, Rejected, decode, decode_body};
    pub use crate::registry::uri_template::UriTemplate;
    pub use crate::session::events::parse_event_id;

    /// Decodes `text` and serves it the way the transports do, without a session: a request
    /// is dispatched (an `initialize` negotiated), a notification handled. Returns the
    /// response's bytes for a request, `None` for anything else.
    pub async fn dispatch(
        server: &Arc<crate::Server>,
        text: &str,
        caller: crate::Caller,
    ) -> Option<Vec<u8>> {
        use crate::engine::CallEnv;
        use crate::protocol::request::ClientRequest;
        match decode(text, server.config().max_id_bytes) {
            Ok(Incoming::Request(req)) => {
                if let Ok(ClientRequest::Initialize(p)) = &req.params {
                    let _ = server.engine.negotiate(p);
                    return None;
                }
                let env = CallEnv::handshake(
                    None,
                    caller,
                    None,
                    tokio_util::sync::CancellationToken::new(),
                );
                let reply = server
                    .engine
                    .start(server.engine.prepare(req), env)
                    .finish()
                    .await;
                Some(reply.bytes.to_vec())
            }
            Ok(Incoming::Notification(n)) => {
                server.engine.notification(&n, None);
                None
            }
            Ok(Incoming::Response(_)) | Err(_) => None,
        }
    }
}
