//! MuseHub: the hub for Muse (version control for music) over MCP.
//!
//! The catalogue is organised by domain, each folder owning its tools, resources, prompts and
//! queries: [`repos`] (repositories, stars, forks, releases, the composition planner),
//! [`history`] (branches, commits, snapshots, files, the three-way merge), [`proposals`]
//! (pull requests, reviews, merging), [`issues`] (issues, comments, labels), [`muse`] (the Muse
//! protocol: push, pull, remote, config), [`identity`] (users, whoami, agent tokens,
//! connections) and [`discovery`] (search, domains, trending, activity, the Muse documents).
//! Shared argument types are in [`params`], elicitation helpers in [`elicit`], the prompt
//! registry in [`prompts`], completions in [`completions`]. Around the catalogue: the data layer
//! ([`db`]) and the object store ([`blobs`]), the demo hub ([`seed`]), MSign keys ([`keys`]), the HTTP application with its
//! request log ([`http`]) and the connect pages ([`connect`]). The binary (`src/main.rs`) adds
//! configuration, the key commands and the transports.

// A tool's parameters are its MCP arguments: many tools legitimately take more than seven.
#![allow(clippy::too_many_arguments)]

pub mod admin;
pub mod blobs;
pub mod completions;
pub mod config;
pub mod connect;
pub mod db;
pub mod discovery;
pub mod elicit;
pub mod history;
pub mod html;
pub mod http;
pub mod identity;
pub mod issues;
pub mod keys;
pub mod muse;
pub mod oauth;
pub mod params;
pub mod prompts;
pub mod proposals;
pub mod repos;
pub mod scopes;
pub mod seed;
pub mod tokens;

use std::sync::Arc;
use std::time::Duration;

pub use db::{Db, HubSettings};
use musehub_mcp::Server;
use musehub_mcp::auth::{MSignVerifier, MemoryNonceStore, RateLimitConfig, RateLimits};

/// Instructions sent to clients in `initialize`.
pub const INSTRUCTIONS: &str = "MuseHub is the collaboration hub for Muse, version control for music and any other \
multi-dimensional state (MIDI, code, genomics, circuit design, custom domain plugins). Start with \
musehub_get_context to orient yourself in a repository, musehub_search_repos and musehub_list_domains to \
discover, and musehub_get_view to inspect the full state of a ref. Every repository-scoped tool accepts \
either repo_id or owner + slug. Write tools need a signed-in caller. Errors come as \
{\"error\": {\"code\", \"message\"}} in structuredContent.";

/// Keeps the catalogue's registrations in a binary that links this library: call it once.
pub fn link() {}

/// The server's name, which is also the MSign realm (`WWW-Authenticate: MSign realm="musehub"`).
pub const SERVER_NAME: &str = "musehub";

/// The tool with its own rate limit (pushes).
pub const PUSH_TOOL: &str = "muse_push";

/// The default rate limits: 600/min for agents, 300/min for humans, 120/min for anonymous
/// callers (per IP), and `muse_push` 30/min per caller. The original hub's 60/min for humans
/// and 20/min for anonymous readers sent one ordinary client session into 429 (a session's
/// `initialize`, `notifications/initialized`, three lists and a few reads already come to ten
/// requests or more), so both are higher here.
pub fn default_rate_limits() -> RateLimitConfig {
    RateLimitConfig::new(600, 300, 120).tool(PUSH_TOOL, 30)
}

/// MSign verification and rate-limit settings.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Accepted clock skew, each side (default 300 s).
    pub skew: Duration,
    /// Nonces remembered by the replay cache (default 100,000).
    pub nonce_cache: usize,
    /// Rate limits; `None` serves without any (default [`default_rate_limits`]).
    pub rate_limits: Option<RateLimitConfig>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            skew: Duration::from_secs(300),
            nonce_cache: 100_000,
            rate_limits: Some(default_rate_limits()),
        }
    }
}

/// The MSign verifier over the database's keys ([`keys::DbKeyStore`]).
pub fn verifier(db: &Db, auth: &AuthSettings) -> MSignVerifier {
    MSignVerifier::new(Arc::new(keys::DbKeyStore::new(db.clone())))
        .skew(auth.skew)
        .nonces(Arc::new(MemoryNonceStore::new(auth.nonce_cache.max(1))))
}

/// Builds the MCP server over a database: the catalogue, its two authentication schemes —
/// MSign signatures against the database's keys (realm [`SERVER_NAME`]) and Bearer tokens
/// (agent tokens and the embedded authorization server's JWTs, with the default OAuth
/// settings) — and the rate limits of `auth`. The HTTP transport then refuses
/// unauthenticated write-tool calls (401 with both challenges), binds sessions to their caller
/// and applies the limits (429); in-process calls (`Server::call`) carry their caller and skip
/// both.
pub fn build_server(
    db: Db,
    config: musehub_mcp::ServerConfig,
    auth: &AuthSettings,
) -> Result<Arc<Server>, musehub_mcp::BuildError> {
    let oauth = oauth::OAuth::new(db.clone(), oauth::OAuthSettings::default(), auth);
    build_server_with(db, config, auth, docs_options(None), &oauth)
}

/// The Bearer scheme of `/mcp`: tokens checked by the hub's verifier (agent tokens, the
/// embedded or external authorization server's JWTs) for the resource `/mcp`, whose
/// Protected Resource Metadata names the authorization server; `repo:write` implies
/// `repo:read`.
pub fn bearer(
    oauth: &oauth::OAuth,
) -> Result<musehub_mcp::auth::bearer::BearerAuth, musehub_mcp::BuildError> {
    use musehub_mcp::auth::bearer::{BearerAuth, TokenError};
    let err = |e: TokenError| musehub_mcp::BuildError::Auth(e.to_string());
    Ok(BearerAuth::new(
        oauth.token_verifier().map_err(err)?,
        oauth.protected_resource_metadata(),
    )
    .map_err(err)?
    .implying(scopes::implies))
}

/// The signing example the docs page shows: make a key, then call `musehub_whoami` with a
/// signed request (the 2026-07-28 form: one request, no session) against `endpoint`. It works
/// as written in a shell where `musehub-server` is on the `PATH` and the database is the
/// server's (the default `musehub.db` in the server's folder, or `MUSEHUB_DATABASE_URL`);
/// `tests/docs_auth_examples.rs` runs exactly this text (and [`bearer_example`]).
pub fn signing_example(endpoint: &str) -> String {
    format!(
        "musehub-server keys generate --handle alice --out alice.key\n\
         BODY='{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"musehub_whoami\",\"arguments\":{{}},\
         \"_meta\":{{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{{}}}}}}}}'\n\
         curl -s {endpoint} \\\n  \
         -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\\n  \
         -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: musehub_whoami' \\\n  \
         -H \"Authorization: $(musehub-server sign --key alice.key --handle alice --body \"$BODY\")\" \\\n  \
         -d \"$BODY\""
    )
}

/// The Bearer example the docs page shows: an agent token used for one call.
pub fn bearer_example(endpoint: &str) -> String {
    format!(
        "TOKEN=$(musehub-server tokens create --handle alice --agent my-agent --quiet)\n\
         curl -s {endpoint} \\\n  \
         -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\\n  \
         -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: musehub_whoami' \\\n  \
         -H \"Authorization: Bearer $TOKEN\" \\\n  \
         -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"musehub_whoami\",\"arguments\":{{}},\
         \"_meta\":{{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{{}}}}}}}}'"
    )
}

/// How `/mcp/docs` presents MuseHub: its two schemes (Bearer, then MSign), each with an
/// example, and the tool groups. `public_url` makes the endpoint shown absolute (and the example's URL).
pub fn docs_options(public_url: Option<&str>) -> musehub_mcp::DocsOptions {
    let endpoint = format!(
        "{}/mcp",
        public_url
            .unwrap_or("http://127.0.0.1:8080")
            .trim_end_matches('/')
    );
    let mut docs = musehub_mcp::DocsOptions::new()
        .auth(
            musehub_mcp::AuthScheme::new("Bearer", "Authorization")
                .description(
                    "OAuth 2.1, as MCP clients (Claude Code, VS Code, the MCP Inspector, the SDKs) speak it: \
                     connect without credentials, and the client finds the hub's authorization server \
                     through the 401's `resource_metadata` and signs you in in the browser (a one-time \
                     code from `musehub-server login-code`, or your MSign key). Scopes: `repo:read`, \
                     `repo:write` (implies `repo:read`). For a headless agent, mint a token with \
                     `musehub-server tokens create --handle you` and send it as \
                     `Authorization: Bearer mha_…`.",
                )
                .example(bearer_example(&endpoint)),
        )
        .auth(
            musehub_mcp::AuthScheme::new("MSign", "Authorization")
                .description(
                    "Sign each request with your own Ed25519 key: a signature over the method, path, \
                     time, a nonce, the body's SHA-256 and the session id. Reads work unsigned; write \
                     tools need a signature. Register keys with `musehub-server keys` (or, from another \
                     machine, with a one-time code: `keys invite`, then `muse auth enroll`).",
                )
                .example(signing_example(&endpoint)),
        )
        .category("read", "Read", "Browse repositories, history, issues, proposals and people. No sign-in needed.")
        .category("write", "Write", "Create and change repositories, issues, proposals and releases. Signed-in callers only (scope `repo:write`).")
        .category("interactive", "Interactive", "Tools that ask the user for choices (elicitation) and report progress.")
        .category("muse", "Muse CLI", "Push and pull Muse history: what `muse push` and `muse pull` do.")
        .category("keys", "Keys", "Register a signing key from a new machine with a one-time code. No signature needed: the code is the proof.");
    if let Some(url) = public_url {
        docs = docs.public_url(url);
    }
    docs
}

/// [`build_server`] with explicit documentation and OAuth settings.
pub fn build_server_with(
    db: Db,
    config: musehub_mcp::ServerConfig,
    auth: &AuthSettings,
    docs: musehub_mcp::DocsOptions,
    oauth: &oauth::OAuth,
) -> Result<Arc<Server>, musehub_mcp::BuildError> {
    link();
    let mut builder = Server::builder(SERVER_NAME)
        .title("MuseHub")
        .instructions(INSTRUCTIONS)
        .config(config)
        .docs(docs)
        .auth(verifier(&db, auth))
        .authenticator(Arc::new(bearer(oauth)?));
    if let Some(limits) = &auth.rate_limits {
        builder = builder.rate_limits(RateLimits::new(limits));
    }
    builder.state(db).build()
}
