//! Users: the row a signed-in caller gets on first write, and the check that a caller is
//! signed in.

use musehub_mcp::prelude::*;

use crate::db::{Db, DbResultExt};

/// Makes sure a signed-in caller has a user row (created on first write).
pub async fn ensure_user(db: &Db, caller: &Caller) -> Result<String, ToolError> {
    let identity = caller
        .identity
        .as_ref()
        .ok_or_else(|| ToolError::unauthenticated("this tool needs an authenticated caller"))?;
    let handle = identity.handle.clone();
    let res = sqlx::query(
        "INSERT INTO users (id, handle, display_name, bio, is_agent, created_at) VALUES ($1, $2, $3, '', $4, $5) \
         ON CONFLICT (handle) DO NOTHING",
    )
    .bind(crate::db::new_id())
    .bind(&handle)
    .bind(&handle)
    .bind(i64::from(identity.is_agent))
    .bind(crate::db::now())
    .execute(db.pool())
    .await;
    res.db()?;
    Ok(handle)
}

/// The caller's handle, or -32001 for an anonymous caller reading `uri`.
pub(crate) fn signed_in(caller: &Caller, uri: &str) -> Result<String, ToolError> {
    caller
        .handle()
        .map(str::to_string)
        .ok_or_else(|| ToolError::unauthenticated(format!("Authentication required for {uri}")))
}
