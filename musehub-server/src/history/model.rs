//! Branches, commits, snapshots and objects (the stored files): views and queries.

use musehub_mcp::prelude::*;

use crate::db::{Db, DbResultExt, RowExt};
use crate::repos::RepoView;
use sqlx::any::AnyRow;

/// A branch.
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct BranchView {
    /// Branch id.
    pub branch_id: String,
    /// Name.
    pub name: String,
    /// The commit at the tip, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_commit_id: Option<String>,
}

/// The branches of a repository, by name.
pub async fn branches(db: &Db, repo_id: &str) -> Result<Vec<BranchView>, ToolError> {
    let rows = sqlx::query(
        "SELECT id, name, head_commit_id FROM branches WHERE repo_id = $1 ORDER BY name",
    )
    .bind(repo_id)
    .fetch_all(db.pool())
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(BranchView {
                branch_id: r.text("id")?,
                name: r.text("name")?,
                head_commit_id: r.opt_text("head_commit_id")?,
            })
        })
        .collect()
}

/// One branch's head, `None` when the branch does not exist.
pub async fn branch_head(
    db: &Db,
    repo_id: &str,
    name: &str,
) -> Result<Option<Option<String>>, ToolError> {
    let row = sqlx::query("SELECT head_commit_id FROM branches WHERE repo_id = $1 AND name = $2")
        .bind(repo_id)
        .bind(name)
        .fetch_optional(db.pool())
        .await
        .db()?;
    row.map(|r| r.opt_text("head_commit_id")).transpose()
}

/// A commit.
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct CommitView {
    /// Commit id (content hash).
    pub commit_id: String,
    /// Parent commit ids (two for a merge).
    pub parent_ids: Vec<String>,
    /// Author handle.
    pub author: String,
    /// Message.
    pub message: String,
    /// Authoring time (RFC 3339).
    pub timestamp: String,
    /// The snapshot the commit records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    /// The branch it was pushed to.
    pub branch: String,
}

/// The commit columns.
pub const COMMIT_COLUMNS: &str =
    "commit_id, parent_ids, author, message, timestamp, snapshot_id, branch";

impl CommitView {
    /// Reads a row selected with [`COMMIT_COLUMNS`].
    pub fn from_row(r: &AnyRow) -> Result<Self, ToolError> {
        Ok(CommitView {
            commit_id: r.text("commit_id")?,
            parent_ids: r.string_list("parent_ids")?,
            author: r.text("author")?,
            message: r.text("message")?,
            timestamp: r.text("timestamp")?,
            snapshot_id: r.opt_text("snapshot_id")?,
            branch: r.text("branch")?,
        })
    }
}

/// One commit.
pub async fn commit(
    db: &Db,
    repo_id: &str,
    commit_id: &str,
) -> Result<Option<CommitView>, ToolError> {
    let row = sqlx::query(&format!(
        "SELECT {COMMIT_COLUMNS} FROM commits WHERE repo_id = $1 AND commit_id = $2"
    ))
    .bind(repo_id)
    .bind(commit_id)
    .fetch_optional(db.pool())
    .await
    .db()?;
    row.as_ref().map(CommitView::from_row).transpose()
}

/// Every commit of a repository, by id.
pub async fn all_commits(
    db: &Db,
    repo_id: &str,
) -> Result<std::collections::HashMap<String, CommitView>, ToolError> {
    let rows = sqlx::query(&format!(
        "SELECT {COMMIT_COLUMNS} FROM commits WHERE repo_id = $1"
    ))
    .bind(repo_id)
    .fetch_all(db.pool())
    .await
    .db()?;
    rows.iter()
        .map(|r| CommitView::from_row(r).map(|c| (c.commit_id.clone(), c)))
        .collect()
}

/// The commits reachable from `head` (all parents), newest first.
pub fn reachable(
    all: &std::collections::HashMap<String, CommitView>,
    head: &str,
) -> Vec<CommitView> {
    let mut out: Vec<CommitView> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut frontier = vec![head.to_string()];
    while let Some(id) = frontier.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        if let Some(c) = all.get(&id) {
            frontier.extend(c.parent_ids.iter().cloned());
            out.push(c.clone());
        }
    }
    out.sort_by(|a, b| {
        b.timestamp
            .cmp(&a.timestamp)
            .then(a.commit_id.cmp(&b.commit_id))
    });
    out
}

/// The history reachable from `head`, newest first, at most `limit` commits.
pub async fn history(
    db: &Db,
    repo_id: &str,
    head: &str,
    limit: usize,
) -> Result<Vec<CommitView>, ToolError> {
    let all = all_commits(db, repo_id).await?;
    let mut out = reachable(&all, head);
    out.truncate(limit);
    Ok(out)
}

/// Resolves a ref (branch name, release tag or commit id) to a commit id.
pub async fn resolve_ref(db: &Db, repo: &RepoView, r: &str) -> Result<Option<String>, ToolError> {
    if let Some(head) = branch_head(db, &repo.repo_id, r).await? {
        return Ok(head);
    }
    let tag = sqlx::query("SELECT commit_id FROM releases WHERE repo_id = $1 AND tag = $2")
        .bind(&repo.repo_id)
        .bind(r)
        .fetch_optional(db.pool())
        .await
        .db()?;
    if let Some(t) = tag
        && let Some(c) = t.opt_text("commit_id")?
    {
        return Ok(Some(c));
    }
    Ok(commit(db, &repo.repo_id, r).await?.map(|c| c.commit_id))
}

/// The snapshot manifest (`path -> object_id`) of a commit.
pub async fn manifest(
    db: &Db,
    repo_id: &str,
    commit_id: &str,
) -> Result<std::collections::BTreeMap<String, String>, ToolError> {
    let Some(c) = commit(db, repo_id, commit_id).await? else {
        return Ok(Default::default());
    };
    let Some(snap) = c.snapshot_id else {
        return Ok(Default::default());
    };
    Ok(snapshot_manifest(db, repo_id, &snap)
        .await?
        .unwrap_or_default())
}

/// The manifest (`path -> object_id`) stored under a snapshot id, if the snapshot exists.
pub async fn snapshot_manifest(
    db: &Db,
    repo_id: &str,
    snapshot_id: &str,
) -> Result<Option<std::collections::BTreeMap<String, String>>, ToolError> {
    let row = sqlx::query("SELECT manifest FROM snapshots WHERE repo_id = $1 AND snapshot_id = $2")
        .bind(repo_id)
        .bind(snapshot_id)
        .fetch_optional(db.pool())
        .await
        .db()?;
    match row {
        Some(r) => serde_json::from_value(r.json("manifest")?)
            .map(Some)
            .map_err(|e| {
                ToolError::internal(format!("snapshot '{snapshot_id}' is unreadable: {e}"))
            }),
        None => Ok(None),
    }
}

/// The id of a commit the hub makes itself (a repository's initial commit, a merge): the
/// same scheme as every pushed commit (`muse_core::commit_id`).
pub(crate) fn hub_commit_id(
    parents: &[String],
    snapshot_id: Option<&str>,
    author: &str,
    timestamp: &str,
    message: &str,
) -> Result<String, ToolError> {
    muse_core::commit_id(&muse_core::CommitFields {
        parents,
        snapshot_id,
        author,
        timestamp,
        message,
    })
    .map_err(|e| ToolError::internal(format!("the hub could not name its own commit: {e}")))
}
