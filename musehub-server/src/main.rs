//! The MuseHub MCP server binary.
//!
//! With no arguments it serves `http://127.0.0.1:8080/mcp` on a local SQLite file
//! (`musehub.db`), loading the demo hub into an empty database. Every setting comes from, in
//! order of precedence: the command line, the environment (`MUSEHUB_*`), a TOML file given
//! with `--config`, the defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Parser;
use musehub_server::{Db, HubSettings};
use serde::Deserialize;

const DEFAULT_BIND: &str = "127.0.0.1:8080";
const DEFAULT_DATABASE: &str = "sqlite://musehub.db";

#[derive(Parser, Debug)]
#[command(
    name = "musehub-server",
    version,
    about = "MuseHub: the hub for Muse (version control for music), over MCP",
    long_about = "MuseHub: the hub for Muse (version control for music), over MCP.\n\n\
        With no arguments: serves http://127.0.0.1:8080/mcp on a local SQLite file (musehub.db) \
        and loads the demo hub into an empty database.\n\n\
        Precedence: command line, then environment variables, then the --config TOML file \
        (keys: bind, database_url, public_url, push_quota_bytes, seed_demo, log_format), then defaults."
)]
struct Cli {
    /// Address to serve HTTP on (`/mcp`, `/healthz`, `/readyz`). Default 127.0.0.1:8080.
    #[arg(long, env = "MUSEHUB_BIND")]
    bind: Option<SocketAddr>,
    /// Database URL: sqlite://FILE, sqlite::memory:, or postgres://USER:PASS@HOST/DB. Default
    /// sqlite://musehub.db.
    #[arg(long, env = "MUSEHUB_DATABASE_URL")]
    database_url: Option<String>,
    /// Speak MCP on stdin/stdout (one JSON-RPC message per line) instead of HTTP; logs go to
    /// stderr.
    #[arg(long, env = "MUSEHUB_STDIO")]
    stdio: bool,
    /// A TOML file with settings (see above for the keys).
    #[arg(long, env = "MUSEHUB_CONFIG")]
    config: Option<PathBuf>,
    /// Load the demo hub (users, repositories, history, issues, proposals, releases) if it is
    /// not there yet.
    #[arg(long, env = "MUSEHUB_SEED_DEMO")]
    seed_demo: bool,
    /// The public base URL of the hub, used in remote and connect URLs. Default
    /// http://BIND.
    #[arg(long, env = "MUSEHUB_PUBLIC_URL")]
    public_url: Option<String>,
    /// Per-user storage quota for pushed objects, in bytes. Default 10 GiB.
    #[arg(long, env = "MUSEHUB_PUSH_QUOTA_BYTES")]
    push_quota_bytes: Option<i64>,
    /// Log format: text or json. Default text. The level comes from RUST_LOG (default info).
    #[arg(long, env = "MUSEHUB_LOG_FORMAT")]
    log_format: Option<String>,
}

/// The `--config` file.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<SocketAddr>,
    database_url: Option<String>,
    public_url: Option<String>,
    push_quota_bytes: Option<i64>,
    seed_demo: Option<bool>,
    log_format: Option<String>,
}

struct Settings {
    bind: SocketAddr,
    database_url: String,
    stdio: bool,
    seed_demo: bool,
    public_url: String,
    push_quota_bytes: i64,
    log_format: String,
}

fn settings(cli: Cli, no_arguments: bool) -> anyhow::Result<Settings> {
    let file: FileConfig = match &cli.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the config file {}", p.display()))?;
            toml::from_str(&text).with_context(|| format!("parsing {}", p.display()))?
        }
        None => FileConfig::default(),
    };
    let bind = cli
        .bind
        .or(file.bind)
        .unwrap_or_else(|| DEFAULT_BIND.parse().expect("valid default"));
    let database_url = cli
        .database_url
        .or(file.database_url)
        .unwrap_or_else(|| DEFAULT_DATABASE.into());
    Ok(Settings {
        bind,
        stdio: cli.stdio,
        // The demo is loaded on request, and by default on a bare `musehub-server` run.
        seed_demo: cli.seed_demo || file.seed_demo.unwrap_or(false) || no_arguments,
        public_url: cli
            .public_url
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{bind}")),
        push_quota_bytes: cli
            .push_quota_bytes
            .or(file.push_quota_bytes)
            .unwrap_or(HubSettings::default().push_quota_bytes),
        log_format: cli
            .log_format
            .or(file.log_format)
            .unwrap_or_else(|| "text".into()),
        database_url,
    })
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(db): State<Db>) -> Response {
    if db.ping().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    }
}

/// One structured log line per HTTP request: request id, session id, method, path, status,
/// duration.
async fn log_requests(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let session = req
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let response = next.run(req).await;
    tracing::info!(
        request_id = %request_id,
        session_id = %session,
        http_method = %method,
        path = %path,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "http request"
    );
    response
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let no_arguments = std::env::args_os().len() <= 1;
    let cli = Cli::parse();
    let s = settings(cli, no_arguments)?;
    init_logging(&s.log_format);
    musehub_server::link();

    let db = Db::connect(
        &s.database_url,
        HubSettings {
            public_url: s.public_url.clone(),
            push_quota_bytes: s.push_quota_bytes,
        },
    )
    .await
    .with_context(|| format!("opening the database {}", s.database_url))?;
    if s.seed_demo && musehub_server::seed::seed_demo(&db).await? {
        tracing::info!("loaded the demo hub (alice, bob, carol; jazz-session, lofi-beats, ...)");
    }

    let server =
        musehub_server::build_server(db.clone(), musehub_mcp::ServerConfig::default().with_env())?;
    if s.stdio {
        tracing::info!(database = %s.database_url, "serving MCP on stdio");
        musehub_mcp::transport::stdio::serve_stdio(server).await?;
        return Ok(());
    }

    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(db)
        .merge(musehub_mcp::transport::http::router(server.clone()))
        .layer(axum::middleware::from_fn(log_requests));
    let listener = tokio::net::TcpListener::bind(s.bind)
        .await
        .with_context(|| format!("binding {}", s.bind))?;
    let addr = listener.local_addr()?;
    print_banner(addr, &s.database_url);
    musehub_mcp::transport::http::serve_router(
        Arc::clone(&server),
        app,
        listener,
        shutdown_signal(),
    )
    .await?;
    Ok(())
}

fn print_banner(addr: SocketAddr, database: &str) {
    let url = format!("http://{addr}/mcp");
    println!("MuseHub MCP server");
    println!("  endpoint:  {url}");
    println!("  docs:      http://{addr}/mcp/docs");
    println!("  health:    http://{addr}/healthz, http://{addr}/readyz");
    println!("  database:  {database}");
    println!();
    println!("Connect a client:");
    println!("  Claude Code:   claude mcp add --transport http musehub {url}");
    println!(
        "  MCP Inspector: npx @modelcontextprotocol/inspector  (transport: Streamable HTTP, URL above)"
    );
    println!("  JSON config:   {{\"mcpServers\": {{\"musehub\": {{\"url\": \"{url}\"}}}}}}");
    println!("  stdio:         musehub-server --stdio --database-url sqlite://musehub.db");
}
