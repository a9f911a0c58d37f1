//! `muse_push` over MCP: the push of [`super::push`] with the objects' bytes in the call
//! (base64), for small objects; large ones go up over the HTTP remote.

use base64::Engine;
use musehub_mcp::prelude::*;

use crate::db::Db;
use crate::identity;
use crate::muse::push::{
    self, InlineObject, PushCommit, PushRequest, PushResult, PushSnapshot, push_error,
};
use crate::params::{Need, RepoRef};
use crate::repos;

/// An object in a push.
#[schema]
#[derive(Debug, Clone)]
pub struct PushObject {
    /// The object id: the SHA-256 of its bytes, lower-case hex.
    pub object_id: String,
    /// Its path.
    pub path: String,
    /// The content, base64.
    pub content_b64: String,
}

/// Push commits, snapshots and objects to a branch, atomically: everything is stored or
/// nothing is. Ids are checked against content (object = SHA-256 of its bytes, snapshot =
/// hash of its manifest, commit = hash of its fields; see docs/muse-protocol.md): a wrong id
/// is refused with object_id_mismatch, snapshot_id_mismatch or commit_id_mismatch and the
/// expected id in data. The new head must descend from the branch's current head
/// (fast-forward) unless `force` is set; pushes count against the owner's storage quota.
/// Owner and collaborators only. Objects travel base64 here: large files go up over the HTTP
/// remote (`muse push`).
#[tool(
    write,
    scopes = "repo:write",
    destructive = true,
    idempotent = false,
    title = "Muse push",
    category = "muse"
)]
#[allow(clippy::too_many_arguments)]
pub async fn muse_push(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The branch to update (created when missing).")] branch: String,
    #[arg(desc = "The branch's new head commit.")] head_commit_id: String,
    #[arg(desc = "Commits: {commit_id, parent_ids, message, author, timestamp, snapshot_id}.")]
    commits: Option<Vec<PushCommit>>,
    #[arg(desc = "Snapshots: {snapshot_id, manifest: {path: object_id}}.")] snapshots: Option<
        Vec<PushSnapshot>,
    >,
    #[arg(desc = "Objects: {object_id, path, content_b64}.")] objects: Option<Vec<PushObject>>,
    #[arg(desc = "Allow a non-fast-forward update (rewrites the branch; default false).")]
    force: Option<bool>,
) -> Result<Json<PushResult>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Maintain).await?;
    // Decode every object first: nothing is written if any is malformed.
    let mut inline = Vec::new();
    for o in objects.unwrap_or_default() {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(o.content_b64.as_bytes())
            .map_err(|_| {
                push_error(
                    "push_failed",
                    format!("object '{}' is not valid base64", o.object_id),
                )
            })?;
        inline.push(InlineObject {
            object_id: o.object_id,
            path: o.path,
            bytes,
        });
    }
    let result = push::push(
        &db,
        &handle,
        &repo,
        PushRequest {
            branch,
            head_commit_id,
            commits: commits.unwrap_or_default(),
            snapshots: snapshots.unwrap_or_default(),
            force: force.unwrap_or(false),
        },
        inline,
    )
    .await?;
    let parts = push::changed_parts(&result.branch);
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    repos::notify_changed(ctx, &repo, &parts);
    Ok(Json(result))
}
