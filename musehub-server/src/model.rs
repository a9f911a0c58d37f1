//! Entities as the tools and resources return them, the loaders that read them, and the
//! access rules (who may read or maintain a repository).

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::Value;
use sqlx::any::AnyRow;

use crate::db::{Db, DbResultExt, RowExt};

/// A repository, as every tool and resource shows it.
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct RepoView {
    /// Repository id (UUID).
    pub repo_id: String,
    /// Owner handle.
    pub owner: String,
    /// URL-safe name, unique per owner.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// `public` or `private`.
    pub visibility: String,
    /// Domain plugin (`@author/slug`).
    pub domain: String,
    /// Domain-specific metadata.
    pub domain_meta: Value,
    /// Tags.
    pub tags: Vec<String>,
    /// The default branch.
    pub default_branch: String,
    /// Number of stars.
    pub stars: i64,
    /// Number of forks.
    pub forks: i64,
    /// The repository this one was forked from, as `owner/slug`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// The columns of [`RepoView`] with star and fork counts.
pub const REPO_COLUMNS: &str = "r.id, r.owner, r.slug, r.name, r.description, r.visibility, r.domain, \
     r.domain_meta, r.tags, r.default_branch, r.forked_from, r.created_at, r.updated_at, \
     (SELECT COUNT(*) FROM stars s WHERE s.repo_id = r.id) AS stars, \
     (SELECT COUNT(*) FROM repos f WHERE f.forked_from = r.id) AS forks, \
     (SELECT o.owner || '/' || o.slug FROM repos o WHERE o.id = r.forked_from) AS forked_from_name";

impl RepoView {
    /// Reads a row selected with [`REPO_COLUMNS`].
    pub fn from_row(row: &AnyRow) -> Result<Self, ToolError> {
        Ok(RepoView {
            repo_id: row.text("id")?,
            owner: row.text("owner")?,
            slug: row.text("slug")?,
            name: row.text("name")?,
            description: row.text("description")?,
            visibility: row.text("visibility")?,
            domain: row.text("domain")?,
            domain_meta: row.json("domain_meta")?,
            tags: row.string_list("tags")?,
            default_branch: row.text("default_branch")?,
            stars: row.int("stars")?,
            forks: row.int("forks")?,
            forked_from: row.opt_text("forked_from_name")?,
            created_at: row.text("created_at")?,
            updated_at: row.text("updated_at")?,
        })
    }

    /// True for public repositories.
    pub fn is_public(&self) -> bool {
        self.visibility == "public"
    }
}

/// How a tool names a repository: `repo_id`, or `owner` + `slug`.
#[derive(Debug, Clone, Default)]
pub struct RepoRef {
    /// Repository id.
    pub repo_id: Option<String>,
    /// Owner handle.
    pub owner: Option<String>,
    /// Slug.
    pub slug: Option<String>,
}

impl RepoRef {
    /// From the three optional arguments.
    pub fn new(repo_id: Option<String>, owner: Option<String>, slug: Option<String>) -> Self {
        let clean = |s: Option<String>| s.filter(|v| !v.trim().is_empty());
        RepoRef {
            repo_id: clean(repo_id),
            owner: clean(owner),
            slug: clean(slug),
        }
    }
    /// By owner and slug.
    pub fn by_name(owner: &str, slug: &str) -> Self {
        RepoRef::new(None, Some(owner.into()), Some(slug.into()))
    }
    fn describe(&self) -> String {
        match (&self.repo_id, &self.owner, &self.slug) {
            (Some(id), _, _) => id.clone(),
            (None, Some(o), Some(s)) => format!("{o}/{s}"),
            _ => String::new(),
        }
    }
}

/// What the caller needs to do with a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read it (public, or the caller is the owner or a collaborator).
    Read,
    /// Change its content or settings (the owner or a collaborator).
    Maintain,
}

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

/// Finds a repository by id or owner/slug, without access checks.
pub async fn find_repo(db: &Db, r: &RepoRef) -> Result<Option<RepoView>, ToolError> {
    let row = if let Some(id) = &r.repo_id {
        sqlx::query(&format!(
            "SELECT {REPO_COLUMNS} FROM repos r WHERE r.id = $1"
        ))
        .bind(id)
        .fetch_optional(db.pool())
        .await
        .db()?
    } else if let (Some(o), Some(s)) = (&r.owner, &r.slug) {
        sqlx::query(&format!(
            "SELECT {REPO_COLUMNS} FROM repos r WHERE r.owner = $1 AND r.slug = $2"
        ))
        .bind(o)
        .bind(s)
        .fetch_optional(db.pool())
        .await
        .db()?
    } else {
        return Err(ToolError::invalid_argument(
            "name the repository with `repo_id`, or with `owner` and `slug`",
        ));
    };
    row.as_ref().map(RepoView::from_row).transpose()
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
    let repo = find_repo(db, r).await?.ok_or_else(not_found)?;
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

/// A comment on an issue or proposal.
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct CommentView {
    /// Comment id.
    pub comment_id: String,
    /// Author handle.
    pub author: String,
    /// Text.
    pub body: String,
    /// What the comment points at (`general`, or a musical dimension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimension: Option<String>,
    /// Track the comment points at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track: Option<String>,
    /// First beat of the range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beat_start: Option<f64>,
    /// Last beat of the range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beat_end: Option<f64>,
    /// When it was written.
    pub created_at: String,
}

/// An issue.
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct IssueView {
    /// Issue id.
    pub issue_id: String,
    /// Number, unique per repository.
    pub number: i64,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
    /// Author handle.
    pub author: String,
    /// Assignee handle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Label names.
    pub labels: Vec<String>,
    /// Number of comments.
    pub comment_count: i64,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

/// The issue columns (table alias `i`).
pub const ISSUE_COLUMNS: &str = "i.id, i.number, i.title, i.body, i.state, i.author, i.assignee, i.labels, \
     i.created_at, i.updated_at, (SELECT COUNT(*) FROM issue_comments c WHERE c.issue_id = i.id) AS comment_count";

impl IssueView {
    /// Reads a row selected with [`ISSUE_COLUMNS`].
    pub fn from_row(r: &AnyRow) -> Result<Self, ToolError> {
        Ok(IssueView {
            issue_id: r.text("id")?,
            number: r.int("number")?,
            title: r.text("title")?,
            body: r.text("body")?,
            state: r.text("state")?,
            author: r.text("author")?,
            assignee: r.opt_text("assignee")?,
            labels: r.string_list("labels")?,
            comment_count: r.int("comment_count")?,
            created_at: r.text("created_at")?,
            updated_at: r.text("updated_at")?,
        })
    }
}

/// One issue by number.
pub async fn issue(db: &Db, repo_id: &str, number: i64) -> Result<Option<IssueView>, ToolError> {
    let row = sqlx::query(&format!(
        "SELECT {ISSUE_COLUMNS} FROM issues i WHERE i.repo_id = $1 AND i.number = $2"
    ))
    .bind(repo_id)
    .bind(number)
    .fetch_optional(db.pool())
    .await
    .db()?;
    row.as_ref().map(IssueView::from_row).transpose()
}

/// The comments of an issue, oldest first.
pub async fn issue_comments(db: &Db, issue_id: &str) -> Result<Vec<CommentView>, ToolError> {
    let rows = sqlx::query(
        "SELECT id, author, body, created_at FROM issue_comments WHERE issue_id = $1 ORDER BY created_at, id",
    )
    .bind(issue_id)
    .fetch_all(db.pool())
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(CommentView {
                comment_id: r.text("id")?,
                author: r.text("author")?,
                body: r.text("body")?,
                dimension: None,
                track: None,
                beat_start: None,
                beat_end: None,
                created_at: r.text("created_at")?,
            })
        })
        .collect()
}

/// A proposal (pull request).
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct ProposalView {
    /// Proposal id.
    pub pr_id: String,
    /// Number, unique per repository.
    pub number: i64,
    /// Title.
    pub title: String,
    /// Description.
    pub body: String,
    /// `open`, `merged` or `closed`.
    pub state: String,
    /// Source branch.
    pub from_branch: String,
    /// Target branch.
    pub to_branch: String,
    /// Author handle.
    pub author: String,
    /// How it was merged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_strategy: Option<String>,
    /// The commit the merge produced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_commit_id: Option<String>,
    /// Who merged it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_by: Option<String>,
    /// Creation time.
    pub created_at: String,
    /// Merge time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_at: Option<String>,
}

/// The proposal columns.
pub const PROPOSAL_COLUMNS: &str = "id, number, title, body, state, from_branch, to_branch, author, \
     merge_strategy, merge_commit_id, merged_by, created_at, merged_at";

impl ProposalView {
    /// Reads a row selected with [`PROPOSAL_COLUMNS`].
    pub fn from_row(r: &AnyRow) -> Result<Self, ToolError> {
        Ok(ProposalView {
            pr_id: r.text("id")?,
            number: r.int("number")?,
            title: r.text("title")?,
            body: r.text("body")?,
            state: r.text("state")?,
            from_branch: r.text("from_branch")?,
            to_branch: r.text("to_branch")?,
            author: r.text("author")?,
            merge_strategy: r.opt_text("merge_strategy")?,
            merge_commit_id: r.opt_text("merge_commit_id")?,
            merged_by: r.opt_text("merged_by")?,
            created_at: r.text("created_at")?,
            merged_at: r.opt_text("merged_at")?,
        })
    }
}

/// One proposal, by id or by number (a string of digits).
pub async fn proposal(db: &Db, repo_id: &str, pr: &str) -> Result<Option<ProposalView>, ToolError> {
    let row = if let Ok(n) = pr.trim_start_matches('#').parse::<i64>() {
        sqlx::query(&format!(
            "SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE repo_id = $1 AND number = $2"
        ))
        .bind(repo_id)
        .bind(n)
        .fetch_optional(db.pool())
        .await
        .db()?
    } else {
        sqlx::query(&format!(
            "SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE repo_id = $1 AND id = $2"
        ))
        .bind(repo_id)
        .bind(pr)
        .fetch_optional(db.pool())
        .await
        .db()?
    };
    row.as_ref().map(ProposalView::from_row).transpose()
}

/// A review of a proposal.
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct ReviewView {
    /// Review id.
    pub review_id: String,
    /// Reviewer handle.
    pub reviewer: String,
    /// `approve`, `request_changes` or `comment`.
    pub event: String,
    /// Text.
    pub body: String,
    /// When it was submitted.
    pub created_at: String,
}

/// The comments of a proposal, oldest first.
pub async fn proposal_comments(db: &Db, pr_id: &str) -> Result<Vec<CommentView>, ToolError> {
    let rows = sqlx::query(
        "SELECT id, author, body, dimension, track, beat_start, beat_end, created_at \
         FROM proposal_comments WHERE proposal_id = $1 ORDER BY created_at, id",
    )
    .bind(pr_id)
    .fetch_all(db.pool())
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(CommentView {
                comment_id: r.text("id")?,
                author: r.text("author")?,
                body: r.text("body")?,
                dimension: Some(r.text("dimension")?),
                track: r.opt_text("track")?,
                beat_start: r.opt_float("beat_start")?,
                beat_end: r.opt_float("beat_end")?,
                created_at: r.text("created_at")?,
            })
        })
        .collect()
}

/// The reviews of a proposal, oldest first.
pub async fn proposal_reviews(db: &Db, pr_id: &str) -> Result<Vec<ReviewView>, ToolError> {
    let rows = sqlx::query(
        "SELECT id, reviewer, event, body, created_at FROM proposal_reviews \
         WHERE proposal_id = $1 ORDER BY created_at, id",
    )
    .bind(pr_id)
    .fetch_all(db.pool())
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(ReviewView {
                review_id: r.text("id")?,
                reviewer: r.text("reviewer")?,
                event: r.text("event")?,
                body: r.text("body")?,
                created_at: r.text("created_at")?,
            })
        })
        .collect()
}

/// A release.
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct ReleaseView {
    /// Release id.
    pub release_id: String,
    /// Tag, unique per repository.
    pub tag: String,
    /// Title.
    pub title: String,
    /// Release notes.
    pub body: String,
    /// The commit released.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_id: Option<String>,
    /// Channel (`stable`, `beta`, ...).
    pub channel: String,
    /// True for a pre-release.
    pub pre_release: bool,
    /// Who published it.
    pub author: String,
    /// When it was published.
    pub created_at: String,
}

/// The release columns.
pub const RELEASE_COLUMNS: &str =
    "id, tag, title, body, commit_id, channel, pre_release, author, created_at";

impl ReleaseView {
    /// Reads a row selected with [`RELEASE_COLUMNS`].
    pub fn from_row(r: &AnyRow) -> Result<Self, ToolError> {
        Ok(ReleaseView {
            release_id: r.text("id")?,
            tag: r.text("tag")?,
            title: r.text("title")?,
            body: r.text("body")?,
            commit_id: r.opt_text("commit_id")?,
            channel: r.text("channel")?,
            pre_release: r.int("pre_release")? != 0,
            author: r.text("author")?,
            created_at: r.text("created_at")?,
        })
    }
}

/// The releases of a repository, newest first.
pub async fn releases(db: &Db, repo_id: &str) -> Result<Vec<ReleaseView>, ToolError> {
    let rows = sqlx::query(&format!(
        "SELECT {RELEASE_COLUMNS} FROM releases WHERE repo_id = $1 ORDER BY created_at DESC, tag DESC"
    ))
    .bind(repo_id)
    .fetch_all(db.pool())
    .await
    .db()?;
    rows.iter().map(ReleaseView::from_row).collect()
}

/// A domain plugin.
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct DomainView {
    /// `@author/slug`.
    pub scoped_id: String,
    /// Author handle.
    pub author_slug: String,
    /// Slug.
    pub slug: String,
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: String,
    /// Capabilities manifest (dimensions, merge semantics, ...).
    pub capabilities: Value,
    /// The viewer the hub uses for this domain.
    pub viewer_type: String,
    /// Version.
    pub version: String,
    /// True for domains verified by the hub.
    pub verified: bool,
    /// Repositories using the domain.
    pub repo_count: i64,
    /// When it was published.
    pub created_at: String,
}

/// The domain columns (table alias `d`).
pub const DOMAIN_COLUMNS: &str = "d.author_slug, d.slug, d.display_name, d.description, d.capabilities, \
     d.viewer_type, d.version, d.verified, d.created_at, \
     (SELECT COUNT(*) FROM repos r WHERE r.domain = '@' || d.author_slug || '/' || d.slug) AS repo_count";

impl DomainView {
    /// Reads a row selected with [`DOMAIN_COLUMNS`].
    pub fn from_row(r: &AnyRow) -> Result<Self, ToolError> {
        let author = r.text("author_slug")?;
        let slug = r.text("slug")?;
        Ok(DomainView {
            scoped_id: format!("@{author}/{slug}"),
            author_slug: author,
            slug,
            display_name: r.text("display_name")?,
            description: r.text("description")?,
            capabilities: r.json("capabilities")?,
            viewer_type: r.text("viewer_type")?,
            version: r.text("version")?,
            verified: r.int("verified")? != 0,
            repo_count: r.int("repo_count")?,
            created_at: r.text("created_at")?,
        })
    }
}

/// One domain by author and slug.
pub async fn domain(db: &Db, author: &str, slug: &str) -> Result<Option<DomainView>, ToolError> {
    let row = sqlx::query(&format!(
        "SELECT {DOMAIN_COLUMNS} FROM domains d WHERE d.author_slug = $1 AND d.slug = $2"
    ))
    .bind(author)
    .bind(slug)
    .fetch_optional(db.pool())
    .await
    .db()?;
    row.as_ref().map(DomainView::from_row).transpose()
}

/// Parses `@author/slug` (the `@` is optional).
pub fn parse_scoped_id(s: &str) -> Option<(String, String)> {
    let s = s.strip_prefix('@').unwrap_or(s);
    let (a, b) = s.split_once('/')?;
    let ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 64
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    };
    (ok(a) && ok(b)).then(|| (a.to_string(), b.to_string()))
}

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

/// Makes a URL-safe slug from a name.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}
