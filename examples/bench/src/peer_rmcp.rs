//! The peer: the same three tools written with the official Rust SDK (`rmcp`), served by its
//! Streamable HTTP service on axum, in its fastest configuration (stateless, JSON responses)
//! or its default one (sessions, SSE responses).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::serve::ListenerExt;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{ProgressNotificationParam, RequestMetaObject};
use rmcp::schemars;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{Peer, RoleServer, ServerHandler, tool, tool_handler, tool_router};
use serde::Deserialize;

/// The rmcp server with the bench tools.
#[derive(Clone, Default)]
pub struct Peer3;

/// Arguments of `echo` and `echo_progress`.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct EchoArgs {
    /// Text to echo.
    pub message: String,
}

/// Arguments of `add`.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct AddArgs {
    /// First term.
    pub a: f64,
    /// Second term.
    pub b: f64,
}

impl Peer3 {
    /// The tool router, built once. rmcp's `#[tool_handler]` default (`Self::tool_router()`)
    /// rebuilds the router on every call; the shared one is its fastest use.
    fn shared_router() -> &'static ToolRouter<Peer3> {
        static ROUTER: OnceLock<ToolRouter<Peer3>> = OnceLock::new();
        ROUTER.get_or_init(Self::tool_router)
    }
}

#[tool_handler(router = Self::shared_router())]
impl ServerHandler for Peer3 {}

#[tool_router]
impl Peer3 {
    /// Returns the message as text.
    #[tool(description = "Returns the message as text")]
    fn echo(&self, Parameters(EchoArgs { message }): Parameters<EchoArgs>) -> String {
        message
    }

    /// Adds two numbers.
    #[tool(description = "Adds two numbers")]
    fn add(&self, Parameters(AddArgs { a, b }): Parameters<AddArgs>) -> String {
        (a + b).to_string()
    }

    /// Reports one progress notification, then returns the message.
    #[tool(description = "Reports progress once, then returns the message as text")]
    async fn echo_progress(
        &self,
        peer: Peer<RoleServer>,
        meta: RequestMetaObject,
        Parameters(EchoArgs { message }): Parameters<EchoArgs>,
    ) -> String {
        if let Some(token) = meta.get_progress_token() {
            let mut p = ProgressNotificationParam::new(token, 1.0);
            p.total = Some(1.0);
            let _ = peer.notify_progress(p).await;
        }
        message
    }
}

/// Which rmcp configuration to serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// `legacy_session_mode = false`, `json_response = true`, TCP_NODELAY: rmcp's fastest.
    StatelessJson,
    /// `StreamableHttpServerConfig::default()` behind a plain `axum::serve`: sessions, SSE
    /// responses.
    Session,
}

/// Serves the peer on `bind` until killed.
pub async fn serve(bind: SocketAddr, mode: Mode) -> anyhow::Result<()> {
    let config = match mode {
        Mode::StatelessJson => StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true),
        Mode::Session => StreamableHttpServerConfig::default(),
    };
    let service = StreamableHttpService::new(
        || Ok(Peer3),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let app = axum::Router::new().route_service("/mcp", service).route(
        crate::allocs::PATH,
        axum::routing::get(|| async { crate::allocs::report() }),
    );
    let listener = tokio::net::TcpListener::bind(bind).await?;
    println!("listening={}", listener.local_addr()?);
    match mode {
        // Tuned for speed: TCP_NODELAY on every connection, as our server and the floor.
        Mode::StatelessJson => {
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app).await?;
        }
        // As rmcp's own examples serve it: `axum::serve` with its defaults.
        Mode::Session => axum::serve(listener, app).await?,
    }
    Ok(())
}
