//! Who the caller is, and agent tokens.

use musehub_mcp::prelude::*;

use crate::db::{Db, DbResultExt, RowExt};
use crate::identity;

/// Who the caller is.
#[schema(no_deserialize)]
pub struct WhoAmI {
    /// True for a signed-in caller.
    pub authenticated: bool,
    /// The caller's handle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// True for an AI agent's key.
    pub is_agent: bool,
    /// The agent's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// Repositories the caller owns.
    pub repo_count: i64,
    /// The hub's URL.
    pub hub_url: String,
}

/// Who am I? Anonymous callers get `authenticated: false` (never an error); signed-in callers
/// get their handle, agent status and repository count.
#[tool(read_only, title = "Who am I", category = "read")]
pub async fn musehub_whoami(ctx: &Ctx, State(db): State<Db>) -> Result<Json<WhoAmI>, ToolError> {
    let identity = ctx.caller().identity.clone();
    let repo_count = match &identity {
        Some(i) => sqlx::query("SELECT COUNT(*) AS n FROM repos WHERE owner = $1")
            .bind(&i.handle)
            .fetch_one(db.pool())
            .await
            .db()?
            .int("n")?,
        None => 0,
    };
    Ok(Json(WhoAmI {
        authenticated: identity.is_some(),
        handle: identity.as_ref().map(|i| i.handle.clone()),
        is_agent: identity.as_ref().is_some_and(|i| i.is_agent),
        agent_name: identity.and_then(|i| i.agent_name),
        repo_count,
        hub_url: db.settings().public_url.clone(),
    }))
}

/// A minted agent token.
#[schema(no_deserialize)]
pub struct AgentToken {
    /// The token (shown once; only its hash is stored).
    pub token: String,
    /// The agent's name.
    pub agent_name: String,
    /// The owner's handle.
    pub handle: String,
    /// Validity in days.
    pub expires_in_days: i64,
    /// Expiry time.
    pub expires_at: String,
    /// How to use it.
    pub usage: String,
}

/// Mint a token for an AI agent acting for the caller. `expires_in_days` is clamped to
/// 1-365 (default 90). The token is shown once; the hub stores only its hash. A bearer token
/// cannot mint another (a leaked token must not be able to outlive its own revocation): sign
/// with your key, or run `musehub-server tokens create`.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    title = "Create an agent token",
    category = "write"
)]
pub async fn musehub_create_agent_token(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "The agent's name (default 'mcp-agent').")] agent_name: String,
    #[arg(desc = "Validity in days, 1-365 (default 90).")] expires_in_days: Option<i64>,
) -> Result<Json<AgentToken>, ToolError> {
    if ctx
        .caller()
        .identity
        .as_ref()
        .is_some_and(|i| i.scheme == musehub_mcp::Scheme::Bearer)
    {
        return Err(ToolError::forbidden(
            "a bearer token cannot mint agent tokens: sign the call with your key (MSign) or run \
             `musehub-server tokens create` on the hub",
        ));
    }
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let minted = crate::tokens::mint(
        &db,
        &handle,
        &agent_name,
        Some(
            expires_in_days
                .unwrap_or(crate::tokens::DEFAULT_DAYS)
                .clamp(1, crate::tokens::MAX_DAYS),
        ),
        &crate::tokens::parse_scopes(None).map_err(crate::tokens::tool_error)?,
    )
    .await
    .map_err(crate::tokens::tool_error)?;
    Ok(Json(AgentToken {
        token: minted.token,
        agent_name: minted.agent_name,
        handle,
        expires_in_days: minted.days,
        expires_at: minted.expires_at,
        usage: "Give this token to the agent's MCP client as `Authorization: Bearer <token>`; it \
                identifies the agent as acting for you (scopes repo:read repo:write). It is shown \
                once: store it now. Revoke it with `musehub-server tokens revoke`."
            .into(),
    }))
}
