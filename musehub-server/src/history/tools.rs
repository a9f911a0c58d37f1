//! Reading history: branches, commits, one file's metadata, and the comparison of two refs.

use std::collections::{BTreeMap, BTreeSet};

use musehub_mcp::prelude::*;

use crate::db::Db;
use crate::history::{self, BranchView, CommitView, ObjectView};
use crate::params::{self, Need, RepoRef};
use crate::repos::{self, RepoView};

/// The branches of a repository.
#[schema(no_deserialize)]
pub struct BranchList {
    /// Repository id.
    pub repo_id: String,
    /// Branches, by name.
    pub branches: Vec<BranchView>,
    /// Number of branches.
    pub branch_count: i64,
}

impl BranchList {
    /// The list for `repo_id`, its count derived from the branches (the tool and the resource
    /// answer the same shape).
    pub(crate) fn new(repo_id: String, branches: Vec<BranchView>) -> Self {
        Self {
            repo_id,
            branch_count: branches.len() as i64,
            branches,
        }
    }
}

/// List the branches of a repository with their head commits.
#[tool(read_only, title = "List branches", category = "read")]
pub async fn musehub_list_branches(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
) -> Result<Json<BranchList>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    let branches = history::branches(&db, &repo.repo_id).await?;
    Ok(Json(BranchList::new(repo.repo_id, branches)))
}

/// A page of commits.
#[schema(no_deserialize)]
pub struct CommitList {
    /// Repository id.
    pub repo_id: String,
    /// The branch listed, or none for every branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Commits, newest first.
    pub commits: Vec<CommitView>,
    /// Commits in the listed history.
    pub total: i64,
    /// Commits returned.
    pub returned: i64,
}

/// List commits, newest first: the history of `branch`, or of the whole repository when no
/// branch is given. `limit` is clamped to 1-100 (default 20).
#[tool(read_only, title = "List commits", category = "read")]
pub async fn musehub_list_commits(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "Branch whose history to list (default: all commits).")] branch: Option<String>,
    #[arg(desc = "Maximum commits to return, 1-100 (default 20).")] limit: Option<i64>,
) -> Result<Json<CommitList>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    let limit = params::clamp_limit(limit, 20) as usize;
    let all = history::all_commits(&db, &repo.repo_id).await?;
    let mut commits = match &branch {
        Some(b) => match history::branch_head(&db, &repo.repo_id, b).await? {
            None => {
                return Err(ToolError::not_found(format!(
                    "Branch '{b}' not found in {}/{}.",
                    repo.owner, repo.slug
                )));
            }
            Some(None) => Vec::new(),
            Some(Some(h)) => history::reachable(&all, &h),
        },
        None => {
            let mut v: Vec<CommitView> = all.into_values().collect();
            v.sort_by(|a, b| {
                b.timestamp
                    .cmp(&a.timestamp)
                    .then(a.commit_id.cmp(&b.commit_id))
            });
            v
        }
    };
    let total = commits.len() as i64;
    commits.truncate(limit);
    Ok(Json(CommitList {
        repo_id: repo.repo_id,
        branch,
        returned: commits.len() as i64,
        total,
        commits,
    }))
}

/// An artifact's metadata.
#[schema(no_deserialize)]
pub struct FileInfo {
    /// Repository id.
    pub repo_id: String,
    /// The artifact.
    #[serde(flatten)]
    pub object: ObjectView,
    /// The bytes, base64 (unless `include_content` is false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_b64: Option<String>,
    /// Where to GET the bytes over HTTP, streamed (any size; signed for a private repository).
    pub download_url: String,
}

/// Read an artifact by object id: its metadata (path, size, MIME type, content hash) and its
/// bytes, base64. Objects larger than the hub's inline read limit (4 MiB by default) are
/// refused with `too_large`, whose message and data name the HTTP URL that streams them;
/// `include_content: false` returns the metadata alone.
#[tool(read_only, title = "Read a file", category = "read")]
pub async fn musehub_read_file(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The object id (content hash) of the artifact.")] object_id: String,
    #[arg(desc = "Return the bytes too (default true); false for the metadata only.")]
    include_content: Option<bool>,
) -> Result<Json<FileInfo>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    let object = history::object(&db, &repo.repo_id, &object_id)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("Object '{object_id}' not found.")))?;
    let content_b64 = if include_content.unwrap_or(true) {
        Some(history::inline_content(&db, &repo, &object).await?)
    } else {
        None
    };
    Ok(Json(FileInfo {
        download_url: history::object_url(&db, &repo, &object.object_id),
        repo_id: repo.repo_id,
        object,
        content_b64,
    }))
}

/// One commit with the files of its snapshot.
#[schema(no_deserialize)]
pub struct CommitDetail {
    /// Repository id.
    pub repo_id: String,
    /// The commit.
    pub commit: CommitView,
    /// The snapshot manifest: path to object id.
    pub files: BTreeMap<String, String>,
}

/// Get one commit: message, author, parents, timestamp and the files of its snapshot.
#[tool(read_only, title = "Get a commit", category = "read")]
pub async fn musehub_get_commit(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The commit id.")] commit_id: String,
) -> Result<Json<CommitDetail>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    Ok(Json(commit_detail(&db, &repo, &commit_id).await?))
}

pub(crate) async fn commit_detail(
    db: &Db,
    repo: &RepoView,
    commit_id: &str,
) -> Result<CommitDetail, ToolError> {
    let commit = history::commit(db, &repo.repo_id, commit_id)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("Commit '{commit_id}' not found.")))?;
    let files = history::manifest(db, &repo.repo_id, commit_id).await?;
    Ok(CommitDetail {
        repo_id: repo.repo_id.clone(),
        commit,
        files,
    })
}

/// A ref resolved to a commit.
#[schema(no_deserialize)]
pub struct ResolvedRef {
    /// The ref as given.
    #[serde(rename = "ref")]
    pub ref_name: String,
    /// The commit it points at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_id: Option<String>,
}

/// The difference between two refs.
#[schema(no_deserialize)]
pub struct Comparison {
    /// Repository id.
    pub repo_id: String,
    /// The base.
    pub base: ResolvedRef,
    /// The head.
    pub head: ResolvedRef,
    /// Commits in head and not in base, newest first.
    pub commits: Vec<CommitView>,
    /// Number of commits head is ahead of base.
    pub ahead_by: i64,
    /// Number of commits head is behind base.
    pub behind_by: i64,
    /// Paths only in head.
    pub added: Vec<String>,
    /// Paths only in base.
    pub removed: Vec<String>,
    /// Paths in both with different content.
    pub modified: Vec<String>,
}

/// Compare two refs (branches, tags or commit ids): commits ahead and behind, and the
/// artifacts added, removed and modified between their snapshots.
#[tool(read_only, title = "Compare refs", category = "read")]
pub async fn musehub_compare(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The base ref: a branch, a release tag or a commit id.")] base_ref: String,
    #[arg(desc = "The head ref: a branch, a release tag or a commit id.")] head_ref: String,
) -> Result<Json<Comparison>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    let base = resolve_existing_ref(&db, &repo, &base_ref).await?;
    let head = resolve_existing_ref(&db, &repo, &head_ref).await?;
    let all = history::all_commits(&db, &repo.repo_id).await?;
    let ids = |c: &Option<String>| -> BTreeSet<String> {
        c.as_ref()
            .map(|h| {
                history::reachable(&all, h)
                    .into_iter()
                    .map(|c| c.commit_id)
                    .collect()
            })
            .unwrap_or_default()
    };
    let base_set = ids(&base);
    let head_set = ids(&head);
    let commits: Vec<CommitView> = head
        .as_ref()
        .map(|h| {
            history::reachable(&all, h)
                .into_iter()
                .filter(|c| !base_set.contains(&c.commit_id))
                .collect()
        })
        .unwrap_or_default();
    let behind_by = base_set.difference(&head_set).count() as i64;
    let base_files = match &base {
        Some(c) => history::manifest(&db, &repo.repo_id, c).await?,
        None => BTreeMap::new(),
    };
    let head_files = match &head {
        Some(c) => history::manifest(&db, &repo.repo_id, c).await?,
        None => BTreeMap::new(),
    };
    let added = head_files
        .keys()
        .filter(|p| !base_files.contains_key(*p))
        .cloned()
        .collect();
    let removed = base_files
        .keys()
        .filter(|p| !head_files.contains_key(*p))
        .cloned()
        .collect();
    let modified = head_files
        .iter()
        .filter(|(p, o)| base_files.get(*p).is_some_and(|b| b != *o))
        .map(|(p, _)| p.clone())
        .collect();
    Ok(Json(Comparison {
        repo_id: repo.repo_id,
        base: ResolvedRef {
            ref_name: base_ref,
            commit_id: base,
        },
        head: ResolvedRef {
            ref_name: head_ref,
            commit_id: head,
        },
        ahead_by: commits.len() as i64,
        commits,
        behind_by,
        added,
        removed,
        modified,
    }))
}

/// A ref that must exist: a branch (possibly empty), a release tag or a commit id.
pub(crate) async fn resolve_existing_ref(
    db: &Db,
    repo: &RepoView,
    r: &str,
) -> Result<Option<String>, ToolError> {
    if let Some(head) = history::branch_head(db, &repo.repo_id, r).await? {
        return Ok(head);
    }
    match history::resolve_ref(db, repo, r).await? {
        Some(c) => Ok(Some(c)),
        None => Err(ToolError::not_found(format!(
            "Ref '{r}' is neither a branch, a release tag nor a commit of {}/{}.",
            repo.owner, repo.slug
        ))),
    }
}
