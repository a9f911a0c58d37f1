//! A pull: the delta of a branch since a commit, shared by the `muse_pull` tool (objects
//! inline, base64, up to the inline limit) and the HTTP remote (`POST .../pull`, objects by
//! URL, fetched with `GET .../objects/{id}`).

use std::collections::{BTreeMap, HashSet};

use musehub_mcp::prelude::*;

use base64::Engine;

use crate::blobs::BlobError;
use crate::db::{Db, DbResultExt, RowExt};
use crate::history::{self, CommitView, ObjectView};
use crate::params::{Need, RepoRef};
use crate::repos::{self, RepoView};

/// An object in a pull delta.
#[schema(no_deserialize)]
pub struct PulledObject {
    /// Object id.
    pub object_id: String,
    /// Path.
    pub path: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// MIME type.
    pub mime_type: String,
    /// Content, base64: present over MCP for objects up to the hub's inline read limit;
    /// larger ones (and every object over HTTP) are read from `download_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_b64: Option<String>,
    /// Where to GET the bytes (streamed; signed for a private repository).
    pub download_url: String,
}

/// A snapshot in a pull delta.
#[schema(no_deserialize)]
pub struct PulledSnapshot {
    /// Snapshot id.
    pub snapshot_id: String,
    /// Manifest: path to object id.
    pub manifest: BTreeMap<String, String>,
}

/// What changed on a branch since a commit.
#[schema(no_deserialize)]
pub struct PullDelta {
    /// Repository id.
    pub repo_id: String,
    /// The branch.
    pub branch: String,
    /// Its head.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_commit_id: Option<String>,
    /// The commit the delta starts after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since_commit_id: Option<String>,
    /// True when `since_commit_id` is not in the branch's history (the delta is the whole
    /// history; the client must merge).
    pub diverged: bool,
    /// New commits, oldest first (apply in order).
    pub commits: Vec<CommitView>,
    /// Their snapshots.
    pub snapshots: Vec<PulledSnapshot>,
    /// Objects the snapshots need that the client did not list as present.
    pub objects: Vec<PulledObject>,
}

/// What a pull asks for.
#[derive(Debug, Clone, Default)]
pub struct PullRequest {
    /// The branch (default `main`).
    pub branch: Option<String>,
    /// The last commit the client has.
    pub since_commit_id: Option<String>,
    /// Objects the client has (left out).
    pub object_ids: Vec<String>,
}

/// The delta of a branch since a commit, objects without their bytes (`content_b64` unset);
/// see `muse_pull`.
pub(crate) async fn pull(
    db: &Db,
    repo: &RepoView,
    req: PullRequest,
) -> Result<(PullDelta, Vec<ObjectView>), ToolError> {
    let PullRequest {
        branch,
        since_commit_id,
        object_ids,
    } = req;
    let branch = branch.unwrap_or_else(|| "main".into());
    let head = history::branch_head(db, &repo.repo_id, &branch)
        .await?
        .ok_or_else(|| {
            ToolError::not_found(format!(
                "Branch '{branch}' not found in {}/{}.",
                repo.owner, repo.slug
            ))
        })?;
    let all = history::all_commits(db, &repo.repo_id).await?;
    let history = head
        .as_ref()
        .map(|h| history::reachable(&all, h))
        .unwrap_or_default();
    let (mut commits, diverged) = match &since_commit_id {
        None => (history, false),
        Some(since) => {
            if !all.contains_key(since) {
                return Err(ToolError::not_found(format!(
                    "Commit '{since}' is not on the hub."
                )));
            }
            let known: HashSet<String> = history::reachable(&all, since)
                .into_iter()
                .map(|c| c.commit_id)
                .collect();
            let diverged = !history.iter().any(|c| &c.commit_id == since);
            (
                history
                    .into_iter()
                    .filter(|c| !known.contains(&c.commit_id))
                    .collect(),
                diverged,
            )
        }
    };
    commits.reverse();
    let have: HashSet<String> = object_ids.into_iter().collect();
    let mut snapshots = Vec::new();
    let mut wanted: BTreeMap<String, ()> = BTreeMap::new();
    for c in &commits {
        let Some(sid) = &c.snapshot_id else { continue };
        if snapshots
            .iter()
            .any(|s: &PulledSnapshot| &s.snapshot_id == sid)
        {
            continue;
        }
        let row =
            sqlx::query("SELECT manifest FROM snapshots WHERE repo_id = $1 AND snapshot_id = $2")
                .bind(&repo.repo_id)
                .bind(sid)
                .fetch_optional(db.pool())
                .await
                .db()?;
        if let Some(r) = row {
            let manifest: BTreeMap<String, String> =
                serde_json::from_value(r.json("manifest")?).unwrap_or_default();
            for oid in manifest.values() {
                if !have.contains(oid) {
                    wanted.insert(oid.clone(), ());
                }
            }
            snapshots.push(PulledSnapshot {
                snapshot_id: sid.clone(),
                manifest,
            });
        }
    }
    let mut views = Vec::new();
    for oid in wanted.keys() {
        if let Some(o) = history::object(db, &repo.repo_id, oid).await? {
            views.push(o);
        }
    }
    let objects = views
        .iter()
        .map(|o| PulledObject {
            object_id: o.object_id.clone(),
            path: o.path.clone(),
            size_bytes: o.size_bytes,
            mime_type: o.mime_type.clone(),
            content_b64: None,
            download_url: history::object_url(db, repo, &o.object_id),
        })
        .collect();
    Ok((
        PullDelta {
            repo_id: repo.repo_id.clone(),
            branch,
            head_commit_id: head,
            since_commit_id,
            diverged,
            commits,
            snapshots,
            objects,
        },
        views,
    ))
}

/// Pull the delta of a branch (default 'main') since a commit: the new commits (oldest
/// first), their snapshots, and the objects they need, leaving out `object_ids` the client
/// already has. Objects up to the hub's inline read limit carry their bytes (base64); every
/// object names its `download_url`, where larger ones are read over HTTP.
#[tool(read_only, title = "Muse pull", category = "muse")]
pub async fn muse_pull(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "Branch to pull (default 'main').")] branch: Option<String>,
    #[arg(desc = "The last commit the client has; omit for the full history.")]
    since_commit_id: Option<String>,
    #[arg(desc = "Object ids the client already has (left out of the delta).")] object_ids: Option<
        Vec<String>,
    >,
) -> Result<Json<PullDelta>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    let (mut delta, views) = pull(
        &db,
        &repo,
        PullRequest {
            branch,
            since_commit_id,
            object_ids: object_ids.unwrap_or_default(),
        },
    )
    .await?;
    let limit = db.settings().max_inline_read_bytes;
    for (o, view) in delta.objects.iter_mut().zip(&views) {
        if view.size_bytes >= 0 && view.size_bytes as u64 <= limit {
            let bytes = db
                .blobs()
                .read(&view.content_hash)
                .await
                .map_err(BlobError::into_tool)?;
            o.content_b64 = Some(base64::engine::general_purpose::STANDARD.encode(bytes));
        }
    }
    Ok(Json(delta))
}
