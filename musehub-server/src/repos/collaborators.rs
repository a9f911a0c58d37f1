//! Collaborators: the people besides the owner who may push to a repository, merge its
//! proposals and publish its releases.

use musehub_mcp::prelude::*;

use crate::db::{Db, DbResultExt, now};
use crate::discovery;
use crate::identity;
use crate::keys;
use crate::params::{Need, RepoRef};
use crate::repos;

/// A collaborator added.
#[schema(no_deserialize)]
pub struct CollaboratorAdded {
    /// Repository id.
    pub repo_id: String,
    /// The collaborator's handle.
    pub handle: String,
    /// Their role (`write`).
    pub role: String,
    /// False when they already were a collaborator (nothing changed).
    pub added: bool,
}

/// Add a collaborator to a repository (the owner only): they may then push, merge proposals
/// and publish releases. The handle must be a user of the hub. Adding someone twice changes
/// nothing.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = true,
    title = "Add a collaborator",
    category = "write"
)]
pub async fn musehub_add_collaborator(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The handle of the user to add.")] handle: String,
) -> Result<Json<CollaboratorAdded>, ToolError> {
    let me = identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Maintain).await?;
    if repo.owner != me {
        return Err(ToolError::forbidden(format!(
            "only {}, the owner of {}/{}, may add collaborators",
            repo.owner, repo.owner, repo.slug
        )));
    }
    let handle = handle.trim().to_string();
    if handle == repo.owner {
        return Err(ToolError::invalid_argument(
            "the owner is not a collaborator of their own repository",
        ));
    }
    let exists = keys::valid_handle(&handle)
        && sqlx::query("SELECT 1 AS one FROM users WHERE handle = $1")
            .bind(&handle)
            .fetch_optional(db.pool())
            .await
            .db()?
            .is_some();
    if !exists {
        return Err(ToolError::not_found(format!("User '{handle}' not found.")));
    }
    let r = sqlx::query(
        "INSERT INTO collaborators (repo_id, handle, role, created_at) VALUES ($1, $2, 'write', $3) \
         ON CONFLICT (repo_id, handle) DO NOTHING",
    )
    .bind(&repo.repo_id)
    .bind(&handle)
    .bind(now())
    .execute(db.pool())
    .await
    .db()?;
    let added = r.rows_affected() == 1;
    if added {
        discovery::record_activity(
            db.pool(),
            Some(&repo.repo_id),
            &me,
            "collaborator.added",
            &format!(
                "{me} added {handle} as a collaborator of {}/{}",
                repo.owner, repo.slug
            ),
        )
        .await?;
    }
    Ok(Json(CollaboratorAdded {
        repo_id: repo.repo_id,
        handle,
        role: "write".into(),
        added,
    }))
}
