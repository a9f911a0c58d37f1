//! Activity: the events write tools record, and the feeds that read them.

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

use crate::db::{Db, DbResultExt, RowExt};
use crate::identity;

/// Records an activity event (inside or outside a transaction).
pub async fn record_activity<'e, E>(
    exec: E,
    repo_id: Option<&str>,
    actor: &str,
    kind: &str,
    summary: &str,
) -> Result<(), ToolError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO activity (id, repo_id, actor, kind, summary, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(crate::db::new_id())
    .bind(repo_id.map(str::to_string))
    .bind(actor)
    .bind(kind)
    .bind(summary)
    .bind(crate::db::now())
    .execute(exec)
    .await
    .db()?;
    Ok(())
}

async fn events(db: &Db, sql: &str, handle: &str) -> Result<Vec<Value>, ToolError> {
    let rows = sqlx::query(sql)
        .bind(handle)
        .fetch_all(db.pool())
        .await
        .db()?;
    rows.iter()
        .map(|r| {
            Ok(json!({
                "event_id": r.text("id")?,
                "repo_id": r.opt_text("repo_id")?,
                "actor": r.text("actor")?,
                "kind": r.text("kind")?,
                "summary": r.text("summary")?,
                "created_at": r.text("created_at")?,
            }))
        })
        .collect()
}

/// What others did on the caller's repositories, newest first (at most 50).
#[resource(
    uri = "musehub://me/notifications",
    name = "My Notifications",
    mime_type = "application/json"
)]
pub async fn my_notifications(
    caller: Caller,
    State(db): State<Db>,
) -> Result<Json<Value>, ToolError> {
    let handle = identity::signed_in(&caller, "musehub://me/notifications")?;
    let notifications = events(
        &db,
        "SELECT a.id, a.repo_id, a.actor, a.kind, a.summary, a.created_at FROM activity a \
         WHERE a.actor <> $1 AND a.repo_id IN (SELECT id FROM repos WHERE owner = $1 \
         UNION SELECT repo_id FROM collaborators WHERE handle = $1) \
         ORDER BY a.created_at DESC LIMIT 50",
        &handle,
    )
    .await?;
    Ok(Json(
        json!({ "handle": handle, "notifications": notifications }),
    ))
}

/// Activity on the caller's own and starred repositories, newest first (at most 50).
#[resource(
    uri = "musehub://me/feed",
    name = "My Activity Feed",
    mime_type = "application/json"
)]
pub async fn my_feed(caller: Caller, State(db): State<Db>) -> Result<Json<Value>, ToolError> {
    let handle = identity::signed_in(&caller, "musehub://me/feed")?;
    let events = events(
        &db,
        "SELECT a.id, a.repo_id, a.actor, a.kind, a.summary, a.created_at FROM activity a \
         WHERE a.actor = $1 OR a.repo_id IN (SELECT id FROM repos WHERE owner = $1 \
         UNION SELECT repo_id FROM stars WHERE handle = $1 \
         UNION SELECT repo_id FROM collaborators WHERE handle = $1) \
         ORDER BY a.created_at DESC LIMIT 50",
        &handle,
    )
    .await?;
    Ok(Json(json!({ "handle": handle, "events": events })))
}
