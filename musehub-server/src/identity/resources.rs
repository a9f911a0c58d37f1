//! The caller's own resources (`musehub://me`, starred, tokens) and user profiles.

use std::collections::BTreeMap;

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

use crate::completions::complete_users;
use crate::db::{Db, DbResultExt, RowExt};
use crate::identity;
use crate::repos::{self, RepoView};

/// The signed-in caller's profile and repositories.
#[resource(
    uri = "musehub://me",
    name = "My Profile",
    mime_type = "application/json"
)]
pub async fn me(caller: Caller, State(db): State<Db>) -> Result<Json<Value>, ToolError> {
    let handle = identity::signed_in(&caller, "musehub://me")?;
    let profile = user_profile(&db, &caller, &handle).await.ok();
    let rows = sqlx::query(&format!(
        "SELECT {} FROM repos r WHERE r.owner = $1 ORDER BY r.updated_at DESC LIMIT 20",
        repos::REPO_COLUMNS
    ))
    .bind(&handle)
    .fetch_all(db.pool())
    .await
    .db()?;
    let repos = rows
        .iter()
        .map(RepoView::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({
        "handle": handle,
        "is_agent": caller.identity.as_ref().is_some_and(|i| i.is_agent),
        "profile": profile.map(|p| p.0),
        "repos": repos,
    })))
}

/// The repositories the caller starred.
#[resource(
    uri = "musehub://me/starred",
    name = "My Starred Repositories",
    mime_type = "application/json"
)]
pub async fn my_starred(caller: Caller, State(db): State<Db>) -> Result<Json<Value>, ToolError> {
    let handle = identity::signed_in(&caller, "musehub://me/starred")?;
    let rows = sqlx::query(&format!(
        "SELECT {} FROM repos r JOIN stars st ON st.repo_id = r.id WHERE st.handle = $1 ORDER BY st.created_at DESC",
        repos::REPO_COLUMNS
    ))
    .bind(&handle)
    .fetch_all(db.pool())
    .await
    .db()?;
    let mut repos = Vec::new();
    for r in &rows {
        let repo = RepoView::from_row(r)?;
        if repos::can_read(&db, &repo, Some(&handle)).await? {
            repos.push(repo);
        }
    }
    Ok(Json(
        json!({ "handle": handle, "starred": repos, "total": repos.len() }),
    ))
}

/// The caller's agent tokens that have not expired or been revoked (names and expiry, never
/// the tokens).
#[resource(
    uri = "musehub://me/tokens",
    name = "My Active Agent Tokens",
    mime_type = "application/json"
)]
pub async fn my_tokens(caller: Caller, State(db): State<Db>) -> Result<Json<Value>, ToolError> {
    let handle = identity::signed_in(&caller, "musehub://me/tokens")?;
    let now = crate::db::now();
    let rows = sqlx::query(
        "SELECT id, agent_name, expires_at, created_at FROM agent_tokens WHERE handle = $1 AND expires_at > $2 \
         AND revoked_at IS NULL ORDER BY created_at DESC",
    )
    .bind(&handle)
    .bind(&now)
    .fetch_all(db.pool())
    .await
    .db()?;
    let tokens = rows
        .iter()
        .map(|r| {
            Ok(json!({
                "token_id": r.text("id")?,
                "agent_name": r.text("agent_name")?,
                "expires_at": r.text("expires_at")?,
                "created_at": r.text("created_at")?,
            }))
        })
        .collect::<Result<Vec<_>, ToolError>>()?;
    Ok(Json(json!({ "handle": handle, "tokens": tokens })))
}

async fn user_profile(db: &Db, caller: &Caller, username: &str) -> Result<Json<Value>, ToolError> {
    let row = sqlx::query(
        "SELECT handle, display_name, bio, is_agent, created_at FROM users WHERE handle = $1",
    )
    .bind(username)
    .fetch_optional(db.pool())
    .await
    .db()?
    .ok_or_else(|| ToolError::not_found(format!("User '{username}' not found.")))?;
    let rows = sqlx::query(&format!(
        "SELECT {} FROM repos r WHERE r.owner = $1 ORDER BY r.updated_at DESC",
        repos::REPO_COLUMNS
    ))
    .bind(username)
    .fetch_all(db.pool())
    .await
    .db()?;
    let mut repos = Vec::new();
    for r in &rows {
        let repo = RepoView::from_row(r)?;
        if repos::can_read(db, &repo, caller.handle()).await? {
            repos.push(repo);
        }
    }
    let keys = sqlx::query(
        "SELECT k.kid, k.label, k.algorithm, k.public_key, k.is_agent, k.agent_name, k.created_at \
         FROM signing_keys k JOIN users u ON u.id = k.user_id \
         WHERE u.handle = $1 AND k.revoked_at IS NULL ORDER BY k.created_at",
    )
    .bind(username)
    .fetch_all(db.pool())
    .await
    .db()?
    .iter()
    .map(|k| {
        Ok(json!({
            "kid": k.opt_text("kid")?,
            "label": k.text("label")?,
            "algorithm": k.text("algorithm")?,
            "is_agent": k.int("is_agent")? != 0,
            "agent_name": k.opt_text("agent_name")?,
            "public_key": k.text("public_key")?,
            "created_at": k.text("created_at")?,
        }))
    })
    .collect::<Result<Vec<_>, ToolError>>()?;
    let stars: BTreeMap<&str, i64> = repos.iter().map(|r| (r.slug.as_str(), r.stars)).collect();
    Ok(Json(json!({
        "handle": row.text("handle")?,
        "display_name": row.text("display_name")?,
        "bio": row.text("bio")?,
        "is_agent": row.int("is_agent")? != 0,
        "created_at": row.text("created_at")?,
        "public_keys": keys,
        "repos": repos,
        "total_stars": stars.values().sum::<i64>(),
    })))
}

/// A user's profile, public keys and repositories (private ones only when the caller may
/// read them).
#[resource(uri = "musehub://users/{username}", name = "User Profile", mime_type = "application/json", complete(username = complete_users))]
pub async fn user(
    caller: Caller,
    State(db): State<Db>,
    username: String,
) -> Result<Json<Value>, ToolError> {
    user_profile(&db, &caller, &username).await
}
