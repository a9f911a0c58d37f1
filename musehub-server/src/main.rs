//! The MuseHub MCP server binary.
//!
//! With no arguments it serves `http://127.0.0.1:8080/mcp` on a local SQLite file
//! (`musehub.db`) with the built-in domains; `--demo` also loads the demo hub. Every setting comes from, in
//! order of precedence: the command line, the environment (`MUSEHUB_*`), a TOML file given
//! with `--config`, the defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use musehub_mcp::auth::{MSignSigner, RateLimitConfig};
use musehub_server::admin::{self, KeysCommand};
use musehub_server::config::{FileConfig, FileRateLimits, read_file_config, redacted};
use musehub_server::keys;
use musehub_server::oauth::{OAuthArgs, OAuthSettings};
use musehub_server::{AuthSettings, Db, HubSettings};

mod cli_auth;
mod cli_docs;

use cli_docs::DocsFormat;

const DEFAULT_BIND: &str = "127.0.0.1:8080";
const DEFAULT_DATABASE: &str = "sqlite://musehub.db";

#[derive(Parser, Debug)]
#[command(
    name = "musehub-server",
    version,
    about = "MuseHub: the hub for Muse (version control for music), over MCP",
    long_about = "MuseHub: the hub for Muse (version control for music), over MCP.\n\n\
        With no arguments: serves http://127.0.0.1:8080/mcp on a local SQLite file (musehub.db), \
        ready to create repositories in the built-in domains (@muse/midi, @muse/code, ...). \
        --demo also loads the demo hub (users, repositories, history).\n\n\
        Callers sign each request with their own Ed25519 key (MSign, docs/msign.md): register \
        keys with `musehub-server keys ...`, sign with `musehub-server sign ...` or any MSign \
        client. Unsigned callers can read; write tools need a signature.\n\n\
        Precedence: command line, then environment variables, then the --config TOML file \
        (keys: bind, database_url, public_url, push_quota_bytes, seed_demo, log_format, \
        auth_skew_secs, redis_url, objects_dir, max_object_bytes, upload_chunk_bytes, \
        max_inline_read_bytes, a [rate_limits] table with enabled, agent_per_minute, \
        human_per_minute, anonymous_per_minute, push_per_minute, and an [oauth] table whose \
        keys each --oauth-* flag names; see docs/auth.md), then defaults."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to serve HTTP on (`/mcp`, `/healthz`, `/readyz`). Default 127.0.0.1:8080.
    #[arg(long, env = "MUSEHUB_BIND")]
    bind: Option<SocketAddr>,
    /// Database URL: sqlite://FILE, sqlite::memory:, or postgres://USER:PASS@HOST/DB. Default
    /// sqlite://musehub.db. Also used by the `keys` commands.
    #[arg(long, env = "MUSEHUB_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Speak MCP on stdin/stdout (one JSON-RPC message per line) instead of HTTP; logs go to
    /// stderr. Callers on stdio are anonymous (read-only) unless --stdio-as names them.
    #[arg(long, env = "MUSEHUB_STDIO")]
    stdio: bool,
    /// With --stdio: act as this existing handle. The process that launches the server over
    /// stdio is trusted to be that user (there are no per-request signatures on a pipe).
    #[arg(long, env = "MUSEHUB_STDIO_AS", requires = "stdio")]
    stdio_as: Option<String>,
    /// A TOML file with settings (see above for the keys).
    #[arg(long, env = "MUSEHUB_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Load the demo hub (users, repositories, history, issues, proposals, releases) if it is
    /// not there yet. It registers no signing keys: add your own with `keys generate`.
    /// Default: off (a hub starts with the built-in domains only).
    #[arg(long, visible_alias = "demo", env = "MUSEHUB_SEED_DEMO")]
    seed_demo: bool,
    /// The public base URL of the hub, used in remote and connect URLs. Default
    /// http://BIND.
    #[arg(long, env = "MUSEHUB_PUBLIC_URL", global = true)]
    public_url: Option<String>,
    /// Per-user storage quota for pushed objects, in bytes. Default 10 GiB.
    #[arg(long, env = "MUSEHUB_PUSH_QUOTA_BYTES")]
    push_quota_bytes: Option<i64>,
    /// Where object bytes are stored (content-addressed files; shared by every instance).
    /// Default: next to the SQLite file (musehub.db keeps them in musehub.objects/),
    /// ./musehub-objects with PostgreSQL.
    #[arg(long, env = "MUSEHUB_OBJECTS_DIR", global = true)]
    objects_dir: Option<PathBuf>,
    /// Largest object accepted, in bytes (an upload declaring more gets 413). Default 1 GiB.
    #[arg(long, env = "MUSEHUB_MAX_OBJECT_BYTES")]
    max_object_bytes: Option<u64>,
    /// Largest body of one HTTP object upload request, in bytes; larger objects go up in
    /// Content-Range pieces of at most this size. Default 4 MiB.
    #[arg(long, env = "MUSEHUB_UPLOAD_CHUNK_BYTES")]
    upload_chunk_bytes: Option<usize>,
    /// Largest object whose bytes an MCP call returns inline (musehub_read_file, muse_pull,
    /// the blob resource); larger ones are read over HTTP. Default 4 MiB.
    #[arg(long, env = "MUSEHUB_MAX_INLINE_READ_BYTES")]
    max_inline_read_bytes: Option<u64>,
    /// Log format: text or json. Default text. The level comes from RUST_LOG (default info).
    #[arg(long, env = "MUSEHUB_LOG_FORMAT")]
    log_format: Option<String>,
    /// Accepted clock skew of signed requests, in seconds each side. Default 300.
    #[arg(long, env = "MUSEHUB_AUTH_SKEW_SECS")]
    auth_skew_secs: Option<u64>,
    /// Requests per minute for each agent key's identity. Default 600.
    #[arg(long, env = "MUSEHUB_RATE_AGENT_PER_MINUTE")]
    rate_agent_per_minute: Option<u32>,
    /// Requests per minute for each human identity. Default 300.
    #[arg(long, env = "MUSEHUB_RATE_HUMAN_PER_MINUTE")]
    rate_human_per_minute: Option<u32>,
    /// Requests per minute for anonymous callers, per IP address. Default 120.
    #[arg(long, env = "MUSEHUB_RATE_ANONYMOUS_PER_MINUTE")]
    rate_anonymous_per_minute: Option<u32>,
    /// `muse_push` calls per minute for each caller. Default 30.
    #[arg(long, env = "MUSEHUB_RATE_PUSH_PER_MINUTE")]
    rate_push_per_minute: Option<u32>,
    /// Serve without rate limits (for local development).
    #[arg(long, env = "MUSEHUB_NO_RATE_LIMITS")]
    no_rate_limits: bool,
    /// Run as one of several instances sharing sessions, event logs, answers, nonces and rate
    /// limits through this Redis (redis://[:PASSWORD@]HOST:PORT/DB); see docs/deploy.md.
    /// Default: none (everything in this process).
    #[arg(long, env = "MUSEHUB_REDIS_URL")]
    redis_url: Option<String>,
    /// The OAuth authorization server's lifetimes and limits, or an external issuer.
    #[command(flatten)]
    oauth: OAuthArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Manage the MSign public keys of a handle (in the database of --database-url).
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Manage Bearer agent tokens (`mha_…`) in the database of --database-url.
    Tokens {
        #[command(subcommand)]
        action: cli_auth::TokensCommand,
    },
    /// Print a one-time code that signs HANDLE in on the OAuth sign-in page (for MCP clients
    /// that connect with OAuth). A handle without a user gets one.
    LoginCode {
        /// The handle to sign in as.
        #[arg(long, allow_hyphen_values = true)]
        handle: String,
        /// How long the code is valid, in seconds (default: the oauth login_code_ttl_secs
        /// setting, 600).
        #[arg(long)]
        ttl_secs: Option<u64>,
    },
    /// Write the catalogue's documentation without starting a server: the docs.json manifest
    /// or a Markdown reference. With --check, fail when a tool or a parameter lacks a
    /// description or a write tool does not state destructive/idempotent explicitly.
    Docs {
        /// `json` (the /mcp/docs.json manifest) or `markdown`.
        #[arg(long, default_value = "markdown")]
        format: DocsFormat,
        /// Where to write it (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Lint the catalogue and exit non-zero on any finding.
        #[arg(long)]
        check: bool,
    },
    /// Print the `Authorization` header value that signs one request, for curl:
    /// curl -H "Authorization: $(musehub-server sign --key FILE --handle H --body "$BODY")" ...
    Sign {
        /// The secret key file (as written by `keys generate`: base64url of the 32-byte seed;
        /// base64 and hex are accepted too).
        #[arg(long)]
        key: PathBuf,
        /// The handle the key is registered for.
        #[arg(long, allow_hyphen_values = true)]
        handle: String,
        /// The HTTP method.
        #[arg(long, default_value = "POST")]
        method: String,
        /// The request target: path and query exactly as sent.
        #[arg(long, default_value = "/mcp")]
        path: String,
        /// The exact body bytes (default: empty).
        #[arg(long, conflicts_with = "body_file", allow_hyphen_values = true)]
        body: Option<String>,
        /// Read the exact body bytes from this file instead.
        #[arg(long)]
        body_file: Option<PathBuf>,
        /// The `Mcp-Session-Id` the request carries, if any (base64url, so it may start with
        /// `-`).
        #[arg(long, allow_hyphen_values = true)]
        session: Option<String>,
    },
}

/// What `serve` runs with: the command line, the environment, the file and the defaults,
/// resolved.
struct Settings {
    bind: SocketAddr,
    /// True when the public URL is the default `http://BIND` (no flag, variable or key).
    public_url_from_bind: bool,
    database_url: String,
    stdio: bool,
    stdio_as: Option<String>,
    seed_demo: bool,
    log_format: String,
    redis_url: Option<String>,
    auth: AuthSettings,
    hub: HubSettings,
    oauth: OAuthSettings,
}

/// The hub settings of the command line and the file (the defaults where neither says).
fn hub_settings(cli: &Cli, file: &FileConfig, bind: Option<SocketAddr>) -> HubSettings {
    let d = HubSettings::default();
    HubSettings {
        public_url: cli
            .public_url
            .clone()
            .or(file.public_url.clone())
            .or(bind.map(|b| format!("http://{b}")))
            .unwrap_or(d.public_url),
        push_quota_bytes: cli
            .push_quota_bytes
            .or(file.push_quota_bytes)
            .unwrap_or(d.push_quota_bytes),
        objects_dir: cli.objects_dir.clone().or(file.objects_dir.clone()),
        max_object_bytes: cli
            .max_object_bytes
            .or(file.max_object_bytes)
            .unwrap_or(d.max_object_bytes),
        upload_chunk_bytes: cli
            .upload_chunk_bytes
            .or(file.upload_chunk_bytes)
            .unwrap_or(d.upload_chunk_bytes)
            .max(1),
        max_inline_read_bytes: cli
            .max_inline_read_bytes
            .or(file.max_inline_read_bytes)
            .unwrap_or(d.max_inline_read_bytes),
    }
}

fn rate_limits(cli: &Cli, file: &FileRateLimits) -> Option<RateLimitConfig> {
    if cli.no_rate_limits || file.enabled == Some(false) {
        return None;
    }
    let mut limits = musehub_server::default_rate_limits();
    limits
        .tools_per_minute
        .extend(file.tools_per_minute.clone());
    let pick = |c: Option<u32>, f: Option<u32>, d: u32| c.or(f).unwrap_or(d);
    limits.agent_per_minute = pick(
        cli.rate_agent_per_minute,
        file.agent_per_minute,
        limits.agent_per_minute,
    );
    limits.human_per_minute = pick(
        cli.rate_human_per_minute,
        file.human_per_minute,
        limits.human_per_minute,
    );
    limits.anonymous_per_minute = pick(
        cli.rate_anonymous_per_minute,
        file.anonymous_per_minute,
        limits.anonymous_per_minute,
    );
    if let Some(push) = cli.rate_push_per_minute.or(file.push_per_minute) {
        limits
            .tools_per_minute
            .insert(musehub_server::PUSH_TOOL.into(), push);
    }
    Some(limits)
}

fn settings(cli: Cli) -> anyhow::Result<Settings> {
    let file = read_file_config(cli.config.as_deref())?;
    let hub = hub_settings(
        &cli,
        &file,
        Some(cli.bind.or(file.bind).unwrap_or(DEFAULT_BIND.parse()?)),
    );
    let bind = match cli.bind.or(file.bind) {
        Some(b) => b,
        None => DEFAULT_BIND.parse()?,
    };
    let auth = AuthSettings {
        skew: Duration::from_secs(
            cli.auth_skew_secs
                .or(file.auth_skew_secs)
                .unwrap_or(AuthSettings::default().skew.as_secs()),
        ),
        rate_limits: rate_limits(&cli, &file.rate_limits),
        ..AuthSettings::default()
    };
    let database_url = cli
        .database_url
        .or(file.database_url)
        .unwrap_or_else(|| DEFAULT_DATABASE.into());
    let oauth = OAuthSettings::resolve(&cli.oauth, &file.oauth);
    Ok(Settings {
        public_url_from_bind: file.public_url.is_none(),
        oauth,
        bind,
        stdio: cli.stdio,
        stdio_as: cli.stdio_as.clone(),
        seed_demo: cli.seed_demo || file.seed_demo.unwrap_or(false),
        log_format: cli
            .log_format
            .or(file.log_format)
            .unwrap_or_else(|| "text".into()),
        database_url,
        redis_url: cli
            .redis_url
            .or(file.redis_url)
            .filter(|u| !u.trim().is_empty()),
        auth,
        hub,
    })
}

fn init_logging(format: &str, default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| default_filter.into());
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut cli = Cli::parse();
    match cli.command.take() {
        Some(Command::Sign {
            key,
            handle,
            method,
            path,
            body,
            body_file,
            session,
        }) => sign(&key, &handle, &method, &path, body, body_file, session),
        Some(Command::Keys { action }) => {
            init_logging("text", "warn");
            let file = read_file_config(cli.config.as_deref())?;
            let url = cli
                .database_url
                .clone()
                .or(file.database_url.clone())
                .unwrap_or_else(|| DEFAULT_DATABASE.into());
            // The same object store as the server, since opening a database may move old
            // inline objects into it.
            let hub = hub_settings(&cli, &file, None);
            let public_url = hub.public_url.clone();
            let db = Db::connect(&url, hub)
                .await
                .with_context(|| format!("opening the database {url}"))?;
            let out = admin::run_keys(&db, action, &public_url).await?;
            print!("{}", out.stdout);
            if !out.note.is_empty() {
                eprintln!("{}", out.note);
            }
            Ok(())
        }
        Some(Command::Tokens { action }) => {
            init_logging("text", "warn");
            let db = open_for_command(&cli).await?;
            cli_auth::tokens_command(&db, action).await
        }
        Some(Command::LoginCode { handle, ttl_secs }) => {
            init_logging("text", "warn");
            let file = read_file_config(cli.config.as_deref())?;
            let ttl = ttl_secs.unwrap_or_else(|| {
                OAuthSettings::resolve(&cli.oauth, &file.oauth)
                    .login_code_ttl
                    .as_secs()
            });
            let db = open_for_command(&cli).await?;
            cli_auth::login_code_command(&db, &handle, ttl).await
        }
        Some(Command::Docs { format, out, check }) => cli_docs::run(format, out, check).await,
        None => serve(cli).await,
    }
}

/// The database of --database-url (or the config file, or the default) for a management
/// command.
async fn open_for_command(cli: &Cli) -> anyhow::Result<Db> {
    let file = read_file_config(cli.config.as_deref())?;
    let url = cli
        .database_url
        .clone()
        .or(file.database_url)
        .unwrap_or_else(|| DEFAULT_DATABASE.into());
    Db::connect(&url, HubSettings::default())
        .await
        .with_context(|| format!("opening the database {}", redacted(&url)))
}

fn sign(
    key: &Path,
    handle: &str,
    method: &str,
    path: &str,
    body: Option<String>,
    body_file: Option<PathBuf>,
    session: Option<String>,
) -> anyhow::Result<()> {
    if !keys::valid_handle(handle) {
        anyhow::bail!("invalid handle `{handle}`: use 1-64 of A-Z a-z 0-9 _ . -");
    }
    let secret = keys::read_secret_key(key)?;
    let body = match body_file {
        Some(f) => std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?,
        None => body.unwrap_or_default().into_bytes(),
    };
    let signer = MSignSigner::new(handle, secret);
    println!(
        "{}",
        signer.sign_parts(method, path, &body, session.as_deref())
    );
    Ok(())
}

async fn serve(cli: Cli) -> anyhow::Result<()> {
    let public_url_given = cli.public_url.is_some();
    let mut s = settings(cli)?;
    init_logging(&s.log_format, "info,sqlx=warn");
    musehub_server::link();

    // Bind first: with port 0 the default public URL (remote and connect URLs, the docs'
    // example) names the port actually bound.
    let listener = if s.stdio {
        None
    } else {
        let l = tokio::net::TcpListener::bind(s.bind)
            .await
            .with_context(|| format!("binding {}", s.bind))?;
        if !public_url_given && s.public_url_from_bind {
            s.hub.public_url = format!("http://{}", l.local_addr()?);
        }
        Some(l)
    };
    let public_url = s.hub.public_url.clone();
    let db = Db::connect(&s.database_url, s.hub.clone())
        .await
        .with_context(|| format!("opening the database {}", s.database_url))?;
    if s.seed_demo && musehub_server::seed::seed_demo(&db).await? {
        tracing::info!("loaded the demo hub (alice, bob, carol; jazz-session, lofi-beats, ...)");
    }

    let mut config = musehub_mcp::ServerConfig::default().with_env();
    if let Some(url) = &s.redis_url {
        config.redis_url = Some(url.clone());
    }
    let oauth = musehub_server::oauth::OAuth::new(db.clone(), s.oauth.clone(), &s.auth);
    let server = musehub_server::build_server_with(
        db.clone(),
        config,
        &s.auth,
        musehub_server::docs_options(Some(&public_url)),
        &oauth,
    )?;
    if s.stdio {
        tracing::info!(database = %s.database_url, "serving MCP on stdio");
        match &s.stdio_as {
            Some(handle) => {
                anyhow::ensure!(
                    musehub_server::keys::user_exists(&db, handle).await?,
                    "--stdio-as {handle}: no such user"
                );
                // The process that launched the server is trusted to be this user.
                let caller = musehub_mcp::Caller::authenticated(musehub_mcp::Identity::new(
                    handle.clone(),
                    musehub_mcp::Scheme::Trusted,
                ));
                musehub_mcp::transport::stdio::serve_stdio_as(server, caller).await?;
            }
            None => musehub_mcp::transport::stdio::serve_stdio(server).await?,
        }
        return Ok(());
    }

    let app = musehub_server::http::app_with(server.clone(), db, &s.auth, &oauth);
    let listener = listener.context("no listener")?;
    let addr = listener.local_addr()?;
    print_banner(
        addr,
        &s.database_url,
        server.config().redis_url.as_deref(),
        &s.auth,
    );
    cli_auth::print_oauth_banner(&oauth);
    musehub_mcp::transport::http::serve_router(
        Arc::clone(&server),
        app,
        listener,
        musehub_mcp::transport::http::shutdown_signal(),
    )
    .await?;
    Ok(())
}

fn print_banner(addr: SocketAddr, database: &str, redis: Option<&str>, auth: &AuthSettings) {
    let url = format!("http://{addr}/mcp");
    println!("MuseHub MCP server");
    println!("  endpoint:  {url}");
    println!("  docs:      http://{addr}/mcp/docs");
    println!("  health:    http://{addr}/healthz, http://{addr}/readyz");
    println!("  database:  {}", redacted(database));
    match redis {
        Some(url) => println!(
            "  sessions:  shared through {} (see docs/deploy.md)",
            redacted(url)
        ),
        None => println!("  sessions:  in this process"),
    }
    match &auth.rate_limits {
        Some(l) => println!(
            "  limits:    {}/min agents, {}/min humans, {}/min anonymous (per IP), {}/min {}",
            l.agent_per_minute,
            l.human_per_minute,
            l.anonymous_per_minute,
            l.tools_per_minute
                .get(musehub_server::PUSH_TOOL)
                .copied()
                .unwrap_or(0),
            musehub_server::PUSH_TOOL
        ),
        None => println!("  limits:    none"),
    }
    println!();
    println!("Sign requests (writes need it; see docs/msign.md):");
    println!(
        "  musehub-server keys generate --handle YOU --database-url {}",
        redacted(database)
    );
    println!(
        "  curl -H \"Authorization: $(musehub-server sign --key FILE --handle YOU --body \"$BODY\")\" ..."
    );
    println!();
    println!("Connect a client:");
    println!("  Claude Code:   claude mcp add --transport http musehub {url}");
    println!(
        "  MCP Inspector: npx @modelcontextprotocol/inspector  (transport: Streamable HTTP, URL above)"
    );
    println!("  JSON config:   {{\"mcpServers\": {{\"musehub\": {{\"url\": \"{url}\"}}}}}}");
    // The same database as this server, so a stdio client sees the same hub.
    println!(
        "  stdio:         musehub-server --stdio --database-url {}",
        redacted(database)
    );
}
