//! Branches, commits, snapshots and objects (the stored files): views and queries.

use musehub_mcp::prelude::*;

use crate::db::{Db, DbResultExt, RowExt};
use crate::history;
use crate::repos::RepoView;
use sha2::{Digest, Sha256};
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

/// A stored object (artifact) without its content.
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct ObjectView {
    /// Object id (content hash).
    pub object_id: String,
    /// Path in the repository.
    pub path: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// MIME type, from the extension.
    pub mime_type: String,
    /// SHA-256 of the content.
    pub content_hash: String,
    /// When it was first pushed.
    pub created_at: String,
}

/// The object columns.
pub const OBJECT_COLUMNS: &str = "object_id, path, size_bytes, mime_type, content_hash, created_at";

impl ObjectView {
    /// Reads a row selected with [`OBJECT_COLUMNS`].
    pub fn from_row(r: &AnyRow) -> Result<Self, ToolError> {
        Ok(ObjectView {
            object_id: r.text("object_id")?,
            path: r.text("path")?,
            size_bytes: r.int("size_bytes")?,
            mime_type: r.text("mime_type")?,
            content_hash: r.text("content_hash")?,
            created_at: r.text("created_at")?,
        })
    }
}

/// One object.
pub async fn object(
    db: &Db,
    repo_id: &str,
    object_id: &str,
) -> Result<Option<ObjectView>, ToolError> {
    let row = sqlx::query(&format!(
        "SELECT {OBJECT_COLUMNS} FROM objects WHERE repo_id = $1 AND object_id = $2"
    ))
    .bind(repo_id)
    .bind(object_id)
    .fetch_optional(db.pool())
    .await
    .db()?;
    row.as_ref().map(ObjectView::from_row).transpose()
}

/// The MIME type for a path, from its extension.
pub fn mime_for(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "mid" | "midi" => "audio/midi",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "ogg" => "audio/ogg",
        "aif" | "aiff" => "audio/aiff",
        "webp" => "image/webp",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "md" => "text/markdown",
        "txt" => "text/plain",
        "xml" | "musicxml" => "application/xml",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// A hash-derived id for content the hub creates itself (initial and merge commits).
pub(crate) fn content_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    format!("{:x}", h.finalize())
}

pub(crate) async fn insert_object(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    repo_id: &str,
    object_id: &str,
    path: &str,
    content: &[u8],
    ts: &str,
) -> Result<(), ToolError> {
    use base64::Engine;
    let hash = format!("{:x}", Sha256::digest(content));
    sqlx::query(
        "INSERT INTO objects (repo_id, object_id, path, size_bytes, mime_type, content_hash, content_b64, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (repo_id, object_id) DO NOTHING",
    )
    .bind(repo_id)
    .bind(object_id)
    .bind(path)
    .bind(content.len() as i64)
    .bind(history::mime_for(path))
    .bind(hash)
    .bind(base64::engine::general_purpose::STANDARD.encode(content))
    .bind(ts)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}
