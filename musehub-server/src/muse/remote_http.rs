//! The HTTP remote: what the URLs `muse_remote` hands out answer, for the `muse` client
//! (`docs/muse-protocol.md`). Under `{hub}/{owner}/{slug}`:
//!
//! | request | what |
//! |---|---|
//! | `GET info/refs` (or the remote URL itself) | branches and heads, the default branch, the hub's limits |
//! | `POST objects/missing` | which of the listed object ids the repository lacks |
//! | `PUT objects/{id}` | upload an object, whole or in `Content-Range` pieces ([`super::transfer`]) |
//! | `GET objects/{id}` | download an object, streamed |
//! | `POST push` | the commits and snapshots of a push (objects uploaded before) |
//! | `POST pull` | the delta of a branch since a commit (objects by URL) |
//!
//! Same semantics as `muse_push`/`muse_pull` (the same code runs), same auth: requests are
//! MSign-signed ([`musehub_mcp::auth::authenticate`] over the database's keys), reads of a
//! public repository may be anonymous, writes need a signature. Every error is a JSON body
//! shaped like a JSON-RPC error (`{"jsonrpc":"2.0","id":null,"error":{"code","message",
//! "data":{"code",...}}}`) with a fitting HTTP status, never plain text.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use musehub_mcp::auth::RateLimits;
use musehub_mcp::error::codes;
use musehub_mcp::protocol::jsonrpc::encode_error;
use musehub_mcp::{Caller, McpError, Server, ToolError};
use serde::Deserialize;
use serde_json::json;

use crate::db::Db;
use crate::history;
use crate::identity;
use crate::muse::pull::{self, PullRequest};
use crate::muse::push::{self, PushCommit, PushRequest, PushSnapshot};
use crate::muse::transfer;
use crate::params::{Need, RepoRef};
use crate::repos::{self, RepoView};

/// What every remote handler shares.
#[derive(Clone)]
pub struct RemoteState {
    pub(crate) server: Arc<Server>,
    pub(crate) db: Db,
    pub(crate) limits: Option<Arc<RateLimits>>,
    pub(crate) uploads: transfer::UploadLocks,
}

/// The routes, authenticated like `/mcp` (the server's own schemes, with their shared replay
/// caches) and rate limited.
pub fn routes(server: Arc<Server>, db: Db, limits: Option<Arc<RateLimits>>) -> Router {
    let state = RemoteState {
        server,
        db,
        limits,
        uploads: transfer::UploadLocks::default(),
    };
    Router::new()
        // The remote URL itself answers like info/refs, so `curl $remote_url` shows it.
        .route("/{owner}/{slug}", get(info_refs))
        .route("/{owner}/{slug}/info/refs", get(info_refs))
        .route("/{owner}/{slug}/objects/missing", post(missing))
        .route(
            "/{owner}/{slug}/objects/{id}",
            get(transfer::download).put(transfer::upload),
        )
        .route("/{owner}/{slug}/push", post(push_handler))
        .route("/{owner}/{slug}/pull", post(pull_handler))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// A remote error: the HTTP status and the tool-style error it carries.
#[derive(Debug)]
pub struct RemoteError {
    status: StatusCode,
    // Boxed: the error travels through `Result`s on the upload path, kept small.
    error: Box<ToolError>,
}

impl RemoteError {
    /// An error with an explicit status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error: Box::new(ToolError::new(code, message)),
        }
    }
}

impl From<ToolError> for RemoteError {
    fn from(error: ToolError) -> Self {
        let status = match error.code.as_ref() {
            "not_found" => StatusCode::NOT_FOUND,
            "unauthenticated" => StatusCode::UNAUTHORIZED,
            "forbidden" => StatusCode::FORBIDDEN,
            "non_fast_forward" | "upload_offset_mismatch" | "conflict" => StatusCode::CONFLICT,
            "too_large" => StatusCode::PAYLOAD_TOO_LARGE,
            "quota_exceeded" => StatusCode::INSUFFICIENT_STORAGE,
            "rate_limited" => StatusCode::TOO_MANY_REQUESTS,
            "internal" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            status,
            error: Box::new(error),
        }
    }
}

/// The JSON-RPC-shaped body of an error: the tool-style code in `data.code`.
pub fn error_body(status: StatusCode, error: &ToolError) -> Response {
    let rpc_code = match error.code.as_ref() {
        "not_found" => codes::RESOURCE_NOT_FOUND,
        "unauthenticated" => codes::UNAUTHORIZED,
        "internal" => codes::INTERNAL_ERROR,
        "parse_error" => codes::PARSE_ERROR,
        _ if status == StatusCode::BAD_REQUEST => codes::INVALID_PARAMS,
        _ => -32000,
    };
    let mut data = json!({ "code": error.code });
    if let Some(serde_json::Value::Object(extra)) = &error.data
        && let Some(d) = data.as_object_mut()
    {
        for (k, v) in extra {
            d.insert(k.clone(), v.clone());
        }
    }
    let body = encode_error(
        None,
        &McpError::new(rpc_code, error.message.clone()).with_data(data),
    );
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

impl IntoResponse for RemoteError {
    fn into_response(self) -> Response {
        error_body(self.status, &self.error)
    }
}

/// The 413 answer for a body over `limit` bytes.
pub fn too_large(limit: usize, what: &str) -> RemoteError {
    RemoteError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        error: Box::new(
            ToolError::new(
                "too_large",
                format!("Payload Too Large: {what} is limited to {limit} bytes"),
            )
            .with_data(json!({ "limit": limit })),
        ),
    }
}

/// The largest body a request may carry: an object upload piece, or a JSON document.
fn body_limit(state: &RemoteState, method: &Method, path: &str) -> usize {
    if method == Method::PUT && path.contains("/objects/") {
        state.db.settings().upload_chunk_bytes
    } else {
        state.server.config().max_body_bytes
    }
}

/// Verifies the signature (when there is one), applies the rate limits, and refuses an
/// over-long body before reading it; every refusal is a JSON error.
async fn guard(State(state): State<RemoteState>, req: Request, next: Next) -> Response {
    let limit = body_limit(&state, req.method(), req.uri().path());
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(limit, "one request body").into_response();
    }
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical().to_string())
        .unwrap_or_else(|| "unknown".into());
    let transfer =
        req.uri().path().contains("/objects/") && !req.uri().path().ends_with("/missing");
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return too_large(limit, "one request body").into_response();
    };
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let auth = state.server.authenticators();
    match auth
        .authenticate(&parts.headers, parts.method.as_str(), &target, &bytes)
        .await
    {
        Ok(caller) => {
            parts.extensions.insert(caller);
        }
        Err(refusal) => return auth.refused(&refusal),
    }
    let req = Request::from_parts(parts, axum::body::Body::from(bytes));
    // Object transfers are bounded by their size, not counted as calls: a large file is
    // many pieces.
    if !transfer && let Some(limits) = &state.limits {
        let caller = req
            .extensions()
            .get::<Caller>()
            .cloned()
            .unwrap_or_default();
        if let Err(l) = limits.check_caller(&caller, &ip, None).await {
            return rate_limited(l.retry_after.as_secs().max(1), l.limit);
        }
    }
    let mut req = req;
    req.extensions_mut().insert(ClientIp(ip));
    let mut resp = next.run(req).await;
    // A handler that needs a signed-in caller answers 401: tell the client how to sign in,
    // with every scheme `/mcp` accepts.
    if resp.status() == StatusCode::UNAUTHORIZED
        && !resp.headers().contains_key(header::WWW_AUTHENTICATE)
    {
        for c in state.server.authenticators().challenges(None, None) {
            resp.headers_mut().append(header::WWW_AUTHENTICATE, c);
        }
    }
    resp
}

/// The caller's address, for the push limit.
#[derive(Clone)]
pub(crate) struct ClientIp(pub(crate) String);

fn rate_limited(retry_after: u64, limit: u32) -> Response {
    let mut r = RemoteError::from(
        ToolError::new(
            "rate_limited",
            format!(
                "Too Many Requests: the limit is {limit} per minute; retry after {retry_after} s"
            ),
        )
        .with_data(json!({ "retryAfter": retry_after, "limit": limit })),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// The caller a request was authenticated as.
pub(crate) fn caller_of(req: &Request) -> Caller {
    req.extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_default()
}

/// The repository of the URL, as the caller may use it.
pub(crate) async fn repo_for(
    db: &Db,
    caller: &Caller,
    owner: &str,
    slug: &str,
    need: Need,
) -> Result<RepoView, RemoteError> {
    if need == Need::Maintain && caller.identity.is_none() {
        return Err(ToolError::unauthenticated(
            "this needs a signed request (MSign): see docs/msign.md, or `muse config user.key`",
        )
        .into());
    }
    Ok(repos::resolve_repo(db, caller, &RepoRef::by_name(owner, slug), need).await?)
}

/// Reads a JSON body (at most `limit` bytes).
pub(crate) async fn json_body<T: serde::de::DeserializeOwned>(
    body: Body,
    limit: usize,
) -> Result<T, RemoteError> {
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large(limit, "a JSON body"))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        RemoteError::new(
            StatusCode::BAD_REQUEST,
            "parse_error",
            format!("the body is not the expected JSON: {e}"),
        )
    })
}

fn json_ok<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => RemoteError::from(ToolError::internal(e.to_string())).into_response(),
    }
}

/// `GET info/refs`.
async fn info_refs(
    State(state): State<RemoteState>,
    Path((owner, slug)): Path<(String, String)>,
    req: Request,
) -> Result<Response, RemoteError> {
    let caller = caller_of(&req);
    let repo = repo_for(&state.db, &caller, &owner, &slug, Need::Read).await?;
    let branches: BTreeMap<String, Option<String>> = history::branches(&state.db, &repo.repo_id)
        .await?
        .into_iter()
        .map(|b| (b.name, b.head_commit_id))
        .collect();
    let s = state.db.settings();
    Ok(json_ok(
        StatusCode::OK,
        &json!({
            "repo_id": repo.repo_id,
            "owner": repo.owner,
            "slug": repo.slug,
            "default_branch": repo.default_branch,
            "branches": branches,
            "id_scheme": muse_core::ids::COMMIT_VERSION,
            "limits": {
                "max_object_bytes": s.max_object_bytes,
                "upload_chunk_bytes": s.upload_chunk_bytes,
                "max_request_bytes": state.server.config().max_body_bytes,
            },
        }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MissingBody {
    object_ids: Vec<String>,
}

/// `POST objects/missing`: `{object_ids}` -> `{missing}` (those the repository holds neither
/// as objects nor as uploads staged by the caller).
async fn missing(
    State(state): State<RemoteState>,
    Path((owner, slug)): Path<(String, String)>,
    req: Request,
) -> Result<Response, RemoteError> {
    let caller = caller_of(&req);
    let repo = repo_for(&state.db, &caller, &owner, &slug, Need::Read).await?;
    let limit = state.server.config().max_body_bytes;
    let body: MissingBody = json_body(req.into_body(), limit).await?;
    let mut out = Vec::new();
    for id in body.object_ids {
        if !muse_core::is_id(&id) {
            return Err(ToolError::invalid_argument(format!("'{id}' is not an object id")).into());
        }
        if !transfer::present(&state.db, &repo, caller.handle(), &id).await? {
            out.push(id);
        }
    }
    Ok(json_ok(StatusCode::OK, &json!({ "missing": out })))
}

/// The body of `POST push`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushBody {
    branch: String,
    head_commit_id: String,
    #[serde(default)]
    commits: Vec<PushCommit>,
    #[serde(default)]
    snapshots: Vec<PushSnapshot>,
    #[serde(default)]
    force: bool,
}

/// `POST push`: like `muse_push`, with the objects uploaded before.
async fn push_handler(
    State(state): State<RemoteState>,
    Path((owner, slug)): Path<(String, String)>,
    req: Request,
) -> Result<Response, RemoteError> {
    let caller = caller_of(&req);
    let ip = req
        .extensions()
        .get::<ClientIp>()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    let repo = repo_for(&state.db, &caller, &owner, &slug, Need::Maintain).await?;
    if let Some(limits) = &state.limits
        && let Err(l) = limits
            .check_tool(crate::PUSH_TOOL, &caller, &ip, None)
            .await
    {
        return Ok(rate_limited(l.retry_after.as_secs().max(1), l.limit));
    }
    let handle = identity::ensure_user(&state.db, &caller).await?;
    let limit = state.server.config().max_body_bytes;
    let body: PushBody = json_body(req.into_body(), limit).await?;
    let result = push::push(
        &state.db,
        &handle,
        &repo,
        PushRequest {
            branch: body.branch,
            head_commit_id: body.head_commit_id,
            commits: body.commits,
            snapshots: body.snapshots,
            force: body.force,
        },
        Vec::new(),
    )
    .await?;
    let base = format!("musehub://repos/{}/{}", repo.owner, repo.slug);
    for part in push::changed_parts(&result.branch) {
        let uri = if part.is_empty() {
            base.clone()
        } else {
            format!("{base}/{part}")
        };
        state.server.notify_resource_updated(&uri);
    }
    Ok(json_ok(StatusCode::OK, &result))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PullBody {
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    since_commit_id: Option<String>,
    #[serde(default)]
    object_ids: Vec<String>,
}

/// `POST pull`: like `muse_pull`, objects by `download_url`.
async fn pull_handler(
    State(state): State<RemoteState>,
    Path((owner, slug)): Path<(String, String)>,
    req: Request,
) -> Result<Response, RemoteError> {
    let caller = caller_of(&req);
    let repo = repo_for(&state.db, &caller, &owner, &slug, Need::Read).await?;
    let limit = state.server.config().max_body_bytes;
    let body: PullBody = json_body(req.into_body(), limit).await?;
    let (delta, _) = pull::pull(
        &state.db,
        &repo,
        PullRequest {
            branch: body.branch,
            since_commit_id: body.since_commit_id,
            object_ids: body.object_ids,
        },
    )
    .await?;
    Ok(json_ok(StatusCode::OK, &delta))
}
