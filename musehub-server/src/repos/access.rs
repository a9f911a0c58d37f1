//! Who may read or maintain a repository, resolving the repository a call names, and telling
//! subscribers when it changed.

use musehub_mcp::prelude::*;

use crate::db::{Db, DbResultExt, RowExt};
use crate::params::{Need, RepoRef};
use crate::repos::{self, RepoView};

/// True when `handle` owns or collaborates on the repository.
pub async fn is_maintainer(
    db: &Db,
    repo: &RepoView,
    handle: Option<&str>,
) -> Result<bool, ToolError> {
    let Some(h) = handle else { return Ok(false) };
    if repo.owner == h {
        return Ok(true);
    }
    let n: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM collaborators WHERE repo_id = $1 AND handle = $2")
            .bind(&repo.repo_id)
            .bind(h)
            .fetch_one(db.pool())
            .await
            .db()?
            .int("n")?;
    Ok(n > 0)
}

/// True when the caller may read the repository.
pub async fn can_read(db: &Db, repo: &RepoView, handle: Option<&str>) -> Result<bool, ToolError> {
    Ok(repo.is_public() || is_maintainer(db, repo, handle).await?)
}

/// Resolves a repository the caller may use as `need` says. A private repository the caller
/// cannot read is reported as not found, so its existence does not leak.
pub async fn resolve_repo(
    db: &Db,
    caller: &Caller,
    r: &RepoRef,
    need: Need,
) -> Result<RepoView, ToolError> {
    let not_found = || ToolError::not_found(format!("Repository '{}' not found.", r.describe()));
    let repo = repos::find_repo(db, r).await?.ok_or_else(not_found)?;
    let handle = caller.handle();
    match need {
        Need::Read => {
            if !can_read(db, &repo, handle).await? {
                return Err(not_found());
            }
        }
        Need::Maintain => {
            if !is_maintainer(db, &repo, handle).await? {
                if !can_read(db, &repo, handle).await? {
                    return Err(not_found());
                }
                return Err(ToolError::forbidden(format!(
                    "only the owner and collaborators of {}/{} may do this",
                    repo.owner, repo.slug
                )));
            }
        }
    }
    Ok(repo)
}

/// The repository `owner/slug` for a resource read: readable by the caller, or not found.
pub(crate) async fn repo_by_name(
    db: &Db,
    caller: &Caller,
    owner: &str,
    slug: &str,
) -> Result<RepoView, ToolError> {
    resolve_repo(db, caller, &RepoRef::by_name(owner, slug), Need::Read).await
}

/// Tells the sessions subscribed to a repository's resources that they changed
/// (`notifications/resources/updated`). `parts` are paths under
/// `musehub://repos/{owner}/{slug}`, `""` for the repository itself. With a shared backplane
/// the notification reaches subscribers whose stream another instance holds.
pub(crate) fn notify_changed(ctx: &Ctx, repo: &RepoView, parts: &[&str]) {
    let base = format!("musehub://repos/{}/{}", repo.owner, repo.slug);
    for part in parts {
        if part.is_empty() {
            ctx.notify_resource_updated(&base);
        } else {
            ctx.notify_resource_updated(&format!("{base}/{part}"));
        }
    }
}
