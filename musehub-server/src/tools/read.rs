//! The read tools: anonymous callers may use them; private repositories are visible only to
//! their owner and collaborators.

use std::collections::{BTreeMap, BTreeSet};

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

use crate::db::{Db, DbResultExt, RowExt};
use crate::model::{
    self, BranchView, CommentView, CommitView, DomainView, IssueView, Need, ObjectView,
    ProposalView, ReleaseView, RepoRef, RepoView, ReviewView,
};

pub(crate) fn clamp_limit(limit: Option<i64>, default: i64) -> i64 {
    limit.unwrap_or(default).clamp(1, 100)
}

/// Counts of the artifacts in the default branch's snapshot.
#[schema(no_deserialize)]
pub struct ArtifactSummary {
    /// Number of files.
    pub total: i64,
    /// Files per MIME type.
    pub by_mime_type: BTreeMap<String, i64>,
    /// The file paths (at most 200).
    pub paths: Vec<String>,
}

/// The "start here" document for a repository.
#[schema(no_deserialize)]
pub struct RepoContext {
    /// The repository.
    pub repo: RepoView,
    /// Its branches.
    pub branches: Vec<BranchView>,
    /// The 10 newest commits of the default branch.
    pub recent_commits: Vec<CommitView>,
    /// What the default branch contains.
    pub artifacts: ArtifactSummary,
    /// Open issues.
    pub open_issues: i64,
    /// Open proposals.
    pub open_pull_requests: i64,
    /// The newest release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_release: Option<ReleaseView>,
    /// The domain plugin the repository uses, when registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainView>,
}

pub(crate) async fn count(db: &Db, sql: &str, repo_id: &str) -> Result<i64, ToolError> {
    sqlx::query(sql)
        .bind(repo_id)
        .fetch_one(db.pool())
        .await
        .db()?
        .int("n")
}

pub(crate) async fn context(db: &Db, repo: RepoView) -> Result<RepoContext, ToolError> {
    let branches = model::branches(db, &repo.repo_id).await?;
    let head = branches
        .iter()
        .find(|b| b.name == repo.default_branch)
        .and_then(|b| b.head_commit_id.clone());
    let (recent_commits, manifest) = match &head {
        Some(h) => (
            model::history(db, &repo.repo_id, h, 10).await?,
            model::manifest(db, &repo.repo_id, h).await?,
        ),
        None => (Vec::new(), BTreeMap::new()),
    };
    let mut by_mime_type = BTreeMap::new();
    for path in manifest.keys() {
        *by_mime_type
            .entry(model::mime_for(path).to_string())
            .or_insert(0) += 1;
    }
    let open_issues = count(
        db,
        "SELECT COUNT(*) AS n FROM issues WHERE repo_id = $1 AND state = 'open'",
        &repo.repo_id,
    )
    .await?;
    let open_pull_requests = count(
        db,
        "SELECT COUNT(*) AS n FROM proposals WHERE repo_id = $1 AND state = 'open'",
        &repo.repo_id,
    )
    .await?;
    let latest_release = model::releases(db, &repo.repo_id).await?.into_iter().next();
    let domain = match model::parse_scoped_id(&repo.domain) {
        Some((a, s)) => model::domain(db, &a, &s).await?,
        None => None,
    };
    Ok(RepoContext {
        artifacts: ArtifactSummary {
            total: manifest.len() as i64,
            by_mime_type,
            paths: manifest.keys().take(200).cloned().collect(),
        },
        repo,
        branches,
        recent_commits,
        open_issues,
        open_pull_requests,
        latest_release,
        domain,
    })
}

/// Start here: the context document of a repository (metadata, branches, the 10 newest
/// commits, the artifacts of the default branch by MIME type, open issue and proposal counts,
/// the latest release and the domain plugin). Accepts `repo_id` or `owner` + `slug`.
#[tool(read_only, title = "Repository context", category = "read")]
pub async fn musehub_get_context(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
) -> Result<Json<RepoContext>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    Ok(Json(context(&db, repo).await?))
}

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
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
) -> Result<Json<BranchList>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    let branches = model::branches(&db, &repo.repo_id).await?;
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
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "Branch whose history to list (default: all commits).")] branch: Option<String>,
    #[arg(desc = "Maximum commits to return, 1-100 (default 20).")] limit: Option<i64>,
) -> Result<Json<CommitList>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    let limit = clamp_limit(limit, 20) as usize;
    let all = model::all_commits(&db, &repo.repo_id).await?;
    let mut commits = match &branch {
        Some(b) => match model::branch_head(&db, &repo.repo_id, b).await? {
            None => {
                return Err(ToolError::not_found(format!(
                    "Branch '{b}' not found in {}/{}.",
                    repo.owner, repo.slug
                )));
            }
            Some(None) => Vec::new(),
            Some(Some(h)) => model::reachable(&all, &h),
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
}

/// Read an artifact's metadata (path, size, MIME type, content hash) by object id. The content
/// itself travels with `muse_pull`.
#[tool(read_only, title = "Read file metadata", category = "read")]
pub async fn musehub_read_file(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "The object id (content hash) of the artifact.")] object_id: String,
) -> Result<Json<FileInfo>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    let object = model::object(&db, &repo.repo_id, &object_id)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("Object '{object_id}' not found.")))?;
    Ok(Json(FileInfo {
        repo_id: repo.repo_id,
        object,
    }))
}

/// What `musehub_search` searches.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    /// Artifact paths.
    Path,
    /// Commit messages.
    Commit,
}

/// One search hit.
#[schema(no_deserialize)]
pub struct SearchHit {
    /// The object id (path mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// The path (path mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The commit id (commit mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_id: Option<String>,
    /// The commit message (commit mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Search results.
#[schema(no_deserialize)]
pub struct SearchResult {
    /// Repository id.
    pub repo_id: String,
    /// The query.
    pub query: String,
    /// The mode used.
    pub mode: SearchMode,
    /// The hits.
    pub matches: Vec<SearchHit>,
    /// Number of hits.
    pub count: i64,
}

/// Search a repository, case-insensitively: artifact paths (`mode` = path, the default) or
/// the messages of the last 100 commits (`mode` = commit).
#[tool(read_only, title = "Search a repository", category = "read")]
pub async fn musehub_search(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "Text to look for (case-insensitive substring).")] query: String,
    #[arg(desc = "'path' searches artifact paths (default); 'commit' searches commit messages.")]
    mode: Option<SearchMode>,
) -> Result<Json<SearchResult>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    let mode = mode.unwrap_or(SearchMode::Path);
    let needle = query.to_lowercase();
    let mut matches = Vec::new();
    match mode {
        SearchMode::Path => {
            let rows = sqlx::query(
                "SELECT object_id, path FROM objects WHERE repo_id = $1 ORDER BY path, object_id",
            )
            .bind(&repo.repo_id)
            .fetch_all(db.pool())
            .await
            .db()?;
            for r in &rows {
                let path = r.text("path")?;
                if path.to_lowercase().contains(&needle) {
                    matches.push(SearchHit {
                        object_id: Some(r.text("object_id")?),
                        path: Some(path),
                        commit_id: None,
                        message: None,
                    });
                }
            }
        }
        SearchMode::Commit => {
            let rows = sqlx::query(
                "SELECT commit_id, message FROM commits WHERE repo_id = $1 \
                 ORDER BY timestamp DESC, commit_id LIMIT 100",
            )
            .bind(&repo.repo_id)
            .fetch_all(db.pool())
            .await
            .db()?;
            for r in &rows {
                let message = r.text("message")?;
                if message.to_lowercase().contains(&needle) {
                    matches.push(SearchHit {
                        object_id: None,
                        path: None,
                        commit_id: Some(r.text("commit_id")?),
                        message: Some(message),
                    });
                }
            }
        }
    }
    Ok(Json(SearchResult {
        repo_id: repo.repo_id,
        query,
        mode,
        count: matches.len() as i64,
        matches,
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
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "The commit id.")] commit_id: String,
) -> Result<Json<CommitDetail>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    Ok(Json(commit_detail(&db, &repo, &commit_id).await?))
}

pub(crate) async fn commit_detail(
    db: &Db,
    repo: &RepoView,
    commit_id: &str,
) -> Result<CommitDetail, ToolError> {
    let commit = model::commit(db, &repo.repo_id, commit_id)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("Commit '{commit_id}' not found.")))?;
    let files = model::manifest(db, &repo.repo_id, commit_id).await?;
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
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "The base ref: a branch, a release tag or a commit id.")] base_ref: String,
    #[arg(desc = "The head ref: a branch, a release tag or a commit id.")] head_ref: String,
) -> Result<Json<Comparison>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    let base = resolve_existing_ref(&db, &repo, &base_ref).await?;
    let head = resolve_existing_ref(&db, &repo, &head_ref).await?;
    let all = model::all_commits(&db, &repo.repo_id).await?;
    let ids = |c: &Option<String>| -> BTreeSet<String> {
        c.as_ref()
            .map(|h| {
                model::reachable(&all, h)
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
            model::reachable(&all, h)
                .into_iter()
                .filter(|c| !base_set.contains(&c.commit_id))
                .collect()
        })
        .unwrap_or_default();
    let behind_by = base_set.difference(&head_set).count() as i64;
    let base_files = match &base {
        Some(c) => model::manifest(&db, &repo.repo_id, c).await?,
        None => BTreeMap::new(),
    };
    let head_files = match &head {
        Some(c) => model::manifest(&db, &repo.repo_id, c).await?,
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

async fn resolve_existing_ref(
    db: &Db,
    repo: &RepoView,
    r: &str,
) -> Result<Option<String>, ToolError> {
    if let Some(head) = model::branch_head(db, &repo.repo_id, r).await? {
        return Ok(head);
    }
    match model::resolve_ref(db, repo, r).await? {
        Some(c) => Ok(Some(c)),
        None => Err(ToolError::not_found(format!(
            "Ref '{r}' is neither a branch, a release tag nor a commit of {}/{}.",
            repo.owner, repo.slug
        ))),
    }
}

/// Issue states to list.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IssueStateFilter {
    /// Open issues.
    Open,
    /// Closed issues.
    Closed,
    /// Every issue.
    All,
}

/// A list of issues.
#[schema(no_deserialize)]
pub struct IssueList {
    /// Repository id.
    pub repo_id: String,
    /// Issues, newest first.
    pub issues: Vec<IssueView>,
    /// Number of issues listed.
    pub total: i64,
}

impl IssueList {
    /// The list for `repo_id`, its total derived from the issues.
    pub(crate) fn new(repo_id: String, issues: Vec<IssueView>) -> Self {
        Self {
            repo_id,
            total: issues.len() as i64,
            issues,
        }
    }
}

pub(crate) async fn list_issues(
    db: &Db,
    repo_id: &str,
    state: IssueStateFilter,
    label: Option<&str>,
) -> Result<Vec<IssueView>, ToolError> {
    let state_sql = match state {
        IssueStateFilter::Open => " AND i.state = 'open'",
        IssueStateFilter::Closed => " AND i.state = 'closed'",
        IssueStateFilter::All => "",
    };
    let rows = sqlx::query(&format!(
        "SELECT {} FROM issues i WHERE i.repo_id = $1{state_sql} ORDER BY i.number DESC",
        model::ISSUE_COLUMNS
    ))
    .bind(repo_id)
    .fetch_all(db.pool())
    .await
    .db()?;
    let mut issues = rows
        .iter()
        .map(IssueView::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(l) = label {
        issues.retain(|i| i.labels.iter().any(|x| x.eq_ignore_ascii_case(l)));
    }
    Ok(issues)
}

/// List a repository's issues, newest first, by state (default open) and optionally label.
#[tool(read_only, title = "List issues", category = "read")]
pub async fn musehub_list_issues(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "Which issues: open (default), closed or all.")] state: Option<IssueStateFilter>,
    #[arg(desc = "Only issues carrying this label.")] label: Option<String>,
) -> Result<Json<IssueList>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    let issues = list_issues(
        &db,
        &repo.repo_id,
        state.unwrap_or(IssueStateFilter::Open),
        label.as_deref(),
    )
    .await?;
    Ok(Json(IssueList::new(repo.repo_id, issues)))
}

/// An issue with its comments.
#[schema(no_deserialize)]
pub struct IssueDetail {
    /// Repository id.
    pub repo_id: String,
    /// The issue.
    pub issue: IssueView,
    /// Its comments, oldest first.
    pub comments: Vec<CommentView>,
}

pub(crate) async fn issue_detail(
    db: &Db,
    repo: &RepoView,
    number: i64,
) -> Result<IssueDetail, ToolError> {
    let issue = model::issue(db, &repo.repo_id, number)
        .await?
        .ok_or_else(|| {
            ToolError::not_found(format!(
                "Issue #{number} not found in {}/{}.",
                repo.owner, repo.slug
            ))
        })?;
    let comments = model::issue_comments(db, &issue.issue_id).await?;
    Ok(IssueDetail {
        repo_id: repo.repo_id.clone(),
        issue,
        comments,
    })
}

/// Get one issue, by number, with its comments.
#[tool(read_only, title = "Get an issue", category = "read")]
pub async fn musehub_get_issue(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "The issue number.")] issue_number: i64,
) -> Result<Json<IssueDetail>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    Ok(Json(issue_detail(&db, &repo, issue_number).await?))
}

/// Proposal states to list.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PrStateFilter {
    /// Open proposals.
    Open,
    /// Merged proposals.
    Merged,
    /// Closed without merging.
    Closed,
    /// Every proposal.
    All,
}

/// A list of proposals.
#[schema(no_deserialize)]
pub struct PrList {
    /// Repository id.
    pub repo_id: String,
    /// Proposals, newest first.
    pub pull_requests: Vec<ProposalView>,
    /// Number listed.
    pub total: i64,
}

impl PrList {
    /// The list for `repo_id`, its total derived from the proposals.
    pub(crate) fn new(repo_id: String, pull_requests: Vec<ProposalView>) -> Self {
        Self {
            repo_id,
            total: pull_requests.len() as i64,
            pull_requests,
        }
    }
}

pub(crate) async fn list_prs(
    db: &Db,
    repo_id: &str,
    state: PrStateFilter,
) -> Result<Vec<ProposalView>, ToolError> {
    let state_sql = match state {
        PrStateFilter::Open => " AND state = 'open'",
        PrStateFilter::Merged => " AND state = 'merged'",
        PrStateFilter::Closed => " AND state = 'closed'",
        PrStateFilter::All => "",
    };
    let rows = sqlx::query(&format!(
        "SELECT {} FROM proposals WHERE repo_id = $1{state_sql} ORDER BY number DESC",
        model::PROPOSAL_COLUMNS
    ))
    .bind(repo_id)
    .fetch_all(db.pool())
    .await
    .db()?;
    rows.iter().map(ProposalView::from_row).collect()
}

/// List a repository's proposals (pull requests), newest first, by state (default all).
#[tool(read_only, title = "List pull requests", category = "read")]
pub async fn musehub_list_prs(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "Which proposals: open, merged, closed or all (default).")] state: Option<
        PrStateFilter,
    >,
) -> Result<Json<PrList>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    let prs = list_prs(&db, &repo.repo_id, state.unwrap_or(PrStateFilter::All)).await?;
    Ok(Json(PrList::new(repo.repo_id, prs)))
}

/// A proposal with its comments and reviews.
#[schema(no_deserialize)]
pub struct PrDetail {
    /// Repository id.
    pub repo_id: String,
    /// The proposal.
    pub pull_request: ProposalView,
    /// Comments, oldest first.
    pub comments: Vec<CommentView>,
    /// Reviews, oldest first.
    pub reviews: Vec<ReviewView>,
}

pub(crate) async fn find_pr(
    db: &Db,
    repo: &RepoView,
    pr_id: &str,
) -> Result<ProposalView, ToolError> {
    model::proposal(db, &repo.repo_id, pr_id)
        .await?
        .ok_or_else(|| {
            ToolError::not_found(format!(
                "Pull request '{pr_id}' not found in {}/{}.",
                repo.owner, repo.slug
            ))
        })
}

pub(crate) async fn pr_detail(
    db: &Db,
    repo: &RepoView,
    pr_id: &str,
) -> Result<PrDetail, ToolError> {
    let pr = find_pr(db, repo, pr_id).await?;
    Ok(PrDetail {
        repo_id: repo.repo_id.clone(),
        comments: model::proposal_comments(db, &pr.pr_id).await?,
        reviews: model::proposal_reviews(db, &pr.pr_id).await?,
        pull_request: pr,
    })
}

/// Get one proposal (pull request) by id or number, with its comments and reviews.
#[tool(read_only, title = "Get a pull request", category = "read")]
pub async fn musehub_get_pr(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "The pull request id, or its number.")] pr_id: String,
) -> Result<Json<PrDetail>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    Ok(Json(pr_detail(&db, &repo, &pr_id).await?))
}

/// A list of releases.
#[schema(no_deserialize)]
pub struct ReleaseList {
    /// Repository id.
    pub repo_id: String,
    /// Releases, newest first.
    pub releases: Vec<ReleaseView>,
    /// Number of releases.
    pub total: i64,
}

impl ReleaseList {
    /// The list for `repo_id`, its total derived from the releases.
    pub(crate) fn new(repo_id: String, releases: Vec<ReleaseView>) -> Self {
        Self {
            repo_id,
            total: releases.len() as i64,
            releases,
        }
    }
}

/// List a repository's releases, newest first.
#[tool(read_only, title = "List releases", category = "read")]
pub async fn musehub_list_releases(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
) -> Result<Json<ReleaseList>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    let releases = model::releases(&db, &repo.repo_id).await?;
    Ok(Json(ReleaseList::new(repo.repo_id, releases)))
}

/// A list of repositories.
#[schema(no_deserialize)]
pub struct RepoList {
    /// Repositories.
    pub repos: Vec<RepoView>,
    /// Number returned.
    pub total: i64,
}

/// Repositories the caller can see (public ones, plus private ones it owns or collaborates
/// on), most starred first.
pub(crate) async fn visible_repos(
    db: &Db,
    handle: Option<&str>,
) -> Result<Vec<RepoView>, ToolError> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM repos r WHERE r.visibility = 'public' OR r.owner = $1 \
         OR EXISTS (SELECT 1 FROM collaborators c WHERE c.repo_id = r.id AND c.handle = $1) \
         ORDER BY stars DESC, r.updated_at DESC, r.id",
        model::REPO_COLUMNS
    ))
    .bind(handle.unwrap_or(""))
    .fetch_all(db.pool())
    .await
    .db()?;
    rows.iter().map(RepoView::from_row).collect()
}

/// Discover repositories: a case-insensitive match of `query` on name, slug, owner and
/// description, with optional `domain` and `tags` filters (all must match). Returns public
/// repositories plus the caller's own and shared private ones, most starred first.
#[tool(read_only, title = "Search repositories", category = "read")]
pub async fn musehub_search_repos(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Text to match in name, slug, owner or description.")] query: Option<String>,
    #[arg(desc = "Only repositories of this domain plugin ('@author/slug').")] domain: Option<
        String,
    >,
    #[arg(desc = "Only repositories carrying all these tags.")] tags: Option<Vec<String>>,
    #[arg(desc = "Maximum results, 1-100 (default 20).")] limit: Option<i64>,
) -> Result<Json<RepoList>, ToolError> {
    let limit = clamp_limit(limit, 20) as usize;
    let q = query.unwrap_or_default().to_lowercase();
    let tags: Vec<String> = tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.to_lowercase())
        .collect();
    let mut repos = visible_repos(&db, ctx.caller().handle()).await?;
    repos.retain(|r| {
        let text = format!("{} {} {} {}", r.name, r.slug, r.owner, r.description).to_lowercase();
        (q.is_empty() || text.contains(&q))
            && domain
                .as_ref()
                .is_none_or(|d| r.domain.eq_ignore_ascii_case(d))
            && tags
                .iter()
                .all(|t| r.tags.iter().any(|rt| rt.to_lowercase() == *t))
    });
    repos.truncate(limit);
    Ok(Json(RepoList {
        total: repos.len() as i64,
        repos,
    }))
}

/// A page of domain plugins.
#[schema(no_deserialize)]
pub struct DomainList {
    /// Domains.
    pub domains: Vec<DomainView>,
    /// Number matching before paging.
    pub total: i64,
    /// Page size.
    pub limit: i64,
    /// Offset.
    pub offset: i64,
}

pub(crate) async fn all_domains(db: &Db) -> Result<Vec<DomainView>, ToolError> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM domains d ORDER BY d.verified DESC, d.author_slug, d.slug",
        model::DOMAIN_COLUMNS
    ))
    .fetch_all(db.pool())
    .await
    .db()?;
    rows.iter().map(DomainView::from_row).collect()
}

/// Browse the domain plugin registry (MIDI, code, genomics, ...): filter by text, viewer
/// type and verification, page with `limit` (1-100, default 20) and `offset`.
#[tool(read_only, title = "List domains", category = "read")]
pub async fn musehub_list_domains(
    State(db): State<Db>,
    #[arg(desc = "Text to match in id, name or description.")] query: Option<String>,
    #[arg(desc = "Only domains with this viewer type.")] viewer_type: Option<String>,
    #[arg(desc = "Only verified (true) or unverified (false) domains.")] verified: Option<bool>,
    #[arg(desc = "Page size, 1-100 (default 20).")] limit: Option<i64>,
    #[arg(desc = "Results to skip (default 0).")] offset: Option<i64>,
) -> Result<Json<DomainList>, ToolError> {
    let limit = clamp_limit(limit, 20);
    let offset = offset.unwrap_or(0).max(0);
    let q = query.unwrap_or_default().to_lowercase();
    let mut domains = all_domains(&db).await?;
    domains.retain(|d| {
        let text = format!("{} {} {}", d.scoped_id, d.display_name, d.description).to_lowercase();
        (q.is_empty() || text.contains(&q))
            && viewer_type.as_ref().is_none_or(|v| &d.viewer_type == v)
            && verified.is_none_or(|v| d.verified == v)
    });
    let total = domains.len() as i64;
    let domains = domains
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    Ok(Json(DomainList {
        domains,
        total,
        limit,
        offset,
    }))
}

/// A domain manifest with install hints.
#[schema(no_deserialize)]
pub struct DomainManifest {
    /// The domain.
    #[serde(flatten)]
    pub domain: DomainView,
    /// How to install the plugin locally.
    pub install_command: String,
    /// How to create a repository that uses it.
    pub create_repo_example: Value,
}

pub(crate) async fn domain_manifest(
    db: &Db,
    author: &str,
    slug: &str,
) -> Result<DomainManifest, ToolError> {
    let domain = model::domain(db, author, slug)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("Domain '@{author}/{slug}' not found.")))?;
    Ok(DomainManifest {
        install_command: format!("muse domain install {}", domain.scoped_id),
        create_repo_example: json!({
            "tool": "musehub_create_repo",
            "arguments": { "name": "my-project", "domain": domain.scoped_id },
        }),
        domain,
    })
}

/// Read a domain plugin's manifest by scoped id (`@author/slug`).
#[tool(read_only, title = "Get a domain", category = "read")]
pub async fn musehub_get_domain(
    State(db): State<Db>,
    #[arg(desc = "The domain's scoped id, '@author/slug'.")] scoped_id: String,
) -> Result<Json<DomainManifest>, ToolError> {
    let (author, slug) = model::parse_scoped_id(&scoped_id).ok_or_else(|| {
        ToolError::new(
            "invalid_scoped_id",
            format!("'{scoped_id}' is not a scoped domain id of the form '@author/slug'."),
        )
    })?;
    Ok(Json(domain_manifest(&db, &author, &slug).await?))
}

/// Which analysis `musehub_get_domain_insights` computes.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InsightDimension {
    /// Counts of commits, branches, artifacts, contributors.
    Overview,
    /// Commits per author and per day.
    Commits,
    /// Artifacts per MIME type, and the largest ones.
    Objects,
}

/// Analytics for a repository at a ref.
#[schema(no_deserialize)]
pub struct Insights {
    /// Repository id.
    pub repo_id: String,
    /// The ref analysed.
    #[serde(rename = "ref")]
    pub ref_name: String,
    /// The commit it resolved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_id: Option<String>,
    /// The analysis.
    pub dimension: InsightDimension,
    /// The numbers.
    pub data: Value,
}

pub(crate) async fn insights(
    db: &Db,
    repo: &RepoView,
    dimension: InsightDimension,
    ref_name: Option<String>,
) -> Result<Insights, ToolError> {
    let ref_name = ref_name.unwrap_or_else(|| repo.default_branch.clone());
    let commit_id = resolve_existing_ref(db, repo, &ref_name).await?;
    let all = model::all_commits(db, &repo.repo_id).await?;
    let history = commit_id
        .as_ref()
        .map(|h| model::reachable(&all, h))
        .unwrap_or_default();
    let files = match &commit_id {
        Some(c) => model::manifest(db, &repo.repo_id, c).await?,
        None => BTreeMap::new(),
    };
    let mut objects = Vec::new();
    for oid in files.values() {
        if let Some(o) = model::object(db, &repo.repo_id, oid).await? {
            objects.push(o);
        }
    }
    let data = match dimension {
        InsightDimension::Overview => {
            let contributors: BTreeSet<&str> = history.iter().map(|c| c.author.as_str()).collect();
            json!({
                "commit_count": history.len(),
                "branch_count": model::branches(db, &repo.repo_id).await?.len(),
                "artifact_count": files.len(),
                "total_bytes": objects.iter().map(|o| o.size_bytes).sum::<i64>(),
                "contributors": contributors,
                "first_commit_at": history.last().map(|c| c.timestamp.clone()),
                "last_commit_at": history.first().map(|c| c.timestamp.clone()),
            })
        }
        InsightDimension::Commits => {
            let mut per_author: BTreeMap<&str, i64> = BTreeMap::new();
            let mut per_day: BTreeMap<String, i64> = BTreeMap::new();
            for c in &history {
                *per_author.entry(c.author.as_str()).or_insert(0) += 1;
                *per_day
                    .entry(c.timestamp.chars().take(10).collect())
                    .or_insert(0) += 1;
            }
            json!({ "commit_count": history.len(), "per_author": per_author, "per_day": per_day })
        }
        InsightDimension::Objects => {
            let mut by_mime: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
            for o in &objects {
                let e = by_mime.entry(o.mime_type.as_str()).or_insert((0, 0));
                e.0 += 1;
                e.1 += o.size_bytes;
            }
            let mut largest: Vec<&ObjectView> = objects.iter().collect();
            largest.sort_by_key(|o| std::cmp::Reverse(o.size_bytes));
            largest.truncate(10);
            json!({
                "by_mime_type": by_mime.iter().map(|(k, (n, b))| (k.to_string(), json!({"count": n, "bytes": b}))).collect::<BTreeMap<_, _>>(),
                "largest": largest.iter().map(|o| json!({"path": o.path, "object_id": o.object_id, "size_bytes": o.size_bytes})).collect::<Vec<_>>(),
            })
        }
    };
    Ok(Insights {
        repo_id: repo.repo_id.clone(),
        ref_name,
        commit_id,
        dimension,
        data,
    })
}

/// Analytics for a repository at a ref (default: the default branch): `overview` (default),
/// `commits` or `objects`.
#[tool(read_only, title = "Domain insights", category = "read")]
pub async fn musehub_get_domain_insights(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "The analysis: overview (default), commits or objects.")] dimension: Option<
        InsightDimension,
    >,
    #[arg(
        rename = "ref",
        desc = "Branch, tag or commit to analyse (default: the default branch)."
    )]
    ref_name: Option<String>,
) -> Result<Json<Insights>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    Ok(Json(
        insights(
            &db,
            &repo,
            dimension.unwrap_or(InsightDimension::Overview),
            ref_name,
        )
        .await?,
    ))
}

/// The viewer payload: the full state of a ref.
#[schema(no_deserialize)]
pub struct ViewPayload {
    /// The repository.
    pub repo: RepoView,
    /// The ref shown.
    #[serde(rename = "ref")]
    pub ref_name: String,
    /// The commit it resolved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_commit: Option<CommitView>,
    /// The domain plugin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainView>,
    /// The viewer to use.
    pub viewer_type: String,
    /// The dimension asked for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimension: Option<String>,
    /// Every artifact of the snapshot.
    pub files: Vec<ObjectView>,
}

/// Inspect the full state of a ref (default: the default branch): head commit, domain plugin
/// and viewer type, and every artifact of the snapshot.
#[tool(read_only, title = "Get the state view", category = "read")]
pub async fn musehub_get_view(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(
        rename = "ref",
        desc = "Branch, tag or commit (default: the default branch)."
    )]
    ref_name: Option<String>,
    #[arg(desc = "A dimension of the domain to focus on (e.g. 'harmonic').")] dimension: Option<
        String,
    >,
) -> Result<Json<ViewPayload>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    let ref_name = ref_name.unwrap_or_else(|| repo.default_branch.clone());
    let commit_id = resolve_existing_ref(&db, &repo, &ref_name).await?;
    let head_commit = match &commit_id {
        Some(c) => model::commit(&db, &repo.repo_id, c).await?,
        None => None,
    };
    let mut files = Vec::new();
    if let Some(c) = &commit_id {
        for oid in model::manifest(&db, &repo.repo_id, c).await?.values() {
            if let Some(o) = model::object(&db, &repo.repo_id, oid).await? {
                files.push(o);
            }
        }
    }
    let domain = match model::parse_scoped_id(&repo.domain) {
        Some((a, s)) => model::domain(&db, &a, &s).await?,
        None => None,
    };
    Ok(Json(ViewPayload {
        viewer_type: domain
            .as_ref()
            .map(|d| d.viewer_type.clone())
            .unwrap_or_else(|| "generic".into()),
        repo,
        ref_name,
        head_commit,
        domain,
        dimension,
        files,
    }))
}

/// Who the caller is.
#[schema(no_deserialize)]
pub struct WhoAmI {
    /// True for a signed-in caller.
    pub authenticated: bool,
    /// The caller's handle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// True for an AI agent's key.
    pub is_agent: bool,
    /// The agent's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// Repositories the caller owns.
    pub repo_count: i64,
    /// The hub's URL.
    pub hub_url: String,
}

/// Who am I? Anonymous callers get `authenticated: false` (never an error); signed-in callers
/// get their handle, agent status and repository count.
#[tool(read_only, title = "Who am I", category = "read")]
pub async fn musehub_whoami(ctx: &Ctx, State(db): State<Db>) -> Result<Json<WhoAmI>, ToolError> {
    let identity = ctx.caller().identity.clone();
    let repo_count = match &identity {
        Some(i) => sqlx::query("SELECT COUNT(*) AS n FROM repos WHERE owner = $1")
            .bind(&i.handle)
            .fetch_one(db.pool())
            .await
            .db()?
            .int("n")?,
        None => 0,
    };
    Ok(Json(WhoAmI {
        authenticated: identity.is_some(),
        handle: identity.as_ref().map(|i| i.handle.clone()),
        is_agent: identity.as_ref().is_some_and(|i| i.is_agent),
        agent_name: identity.and_then(|i| i.agent_name),
        repo_count,
        hub_url: db.settings().public_url.clone(),
    }))
}

/// How to reach a repository as a Muse remote.
#[schema(no_deserialize)]
pub struct RemoteInfo {
    /// `owner/slug`.
    pub repo: String,
    /// Repository id.
    pub repo_id: String,
    /// The remote's URL.
    pub remote_url: String,
    /// Where `muse push` sends to.
    pub push_url: String,
    /// Where `muse pull` reads from.
    pub pull_url: String,
    /// `muse clone ...`.
    pub clone_command: String,
    /// `muse remote add ...`.
    pub add_remote_command: String,
}

pub(crate) fn remote_info(db: &Db, repo: &RepoView, r: Option<&str>) -> RemoteInfo {
    let base = db.settings().public_url.trim_end_matches('/');
    let remote_url = format!("{base}/{}/{}", repo.owner, repo.slug);
    let mut clone_command = format!("muse clone {remote_url}");
    if let Some(r) = r {
        clone_command.push_str(&format!(" --branch {r}"));
    }
    RemoteInfo {
        repo: format!("{}/{}", repo.owner, repo.slug),
        repo_id: repo.repo_id.clone(),
        push_url: format!("{remote_url}/push"),
        pull_url: format!("{remote_url}/pull"),
        add_remote_command: format!("muse remote add origin {remote_url}"),
        clone_command,
        remote_url,
    }
}

/// The Muse remote of a repository: remote, push and pull URLs, and the clone and
/// `remote add` commands (with `--branch` when `ref` is given).
#[tool(read_only, title = "Muse remote", category = "muse")]
pub async fn muse_remote(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository owner handle.")] owner: String,
    #[arg(desc = "Repository slug.")] slug: String,
    #[arg(
        rename = "ref",
        desc = "Branch to clone (adds --branch to the clone command)."
    )]
    ref_name: Option<String>,
) -> Result<Json<RemoteInfo>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::by_name(&owner, &slug),
        Need::Read,
    )
    .await?;
    Ok(Json(remote_info(&db, &repo, ref_name.as_deref())))
}

/// One configuration key of the Muse CLI.
#[schema(no_deserialize)]
pub struct ConfigKey {
    /// The key.
    pub key: String,
    /// What it does.
    pub description: String,
}

/// Muse CLI configuration help.
#[schema(no_deserialize)]
pub struct ConfigHelp {
    /// The known keys (when no key was given).
    pub keys: Vec<ConfigKey>,
    /// The command to run (when a key was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

const CONFIG_KEYS: &[(&str, &str)] = &[
    (
        "user.name",
        "Your display name, recorded as the commit author.",
    ),
    ("user.handle", "Your MuseHub handle."),
    ("hub.url", "The MuseHub base URL used for remotes."),
    (
        "core.domain",
        "The default domain plugin for new repositories.",
    ),
    (
        "push.default",
        "Which branch `muse push` pushes when none is given.",
    ),
    ("merge.strategy", "The default strategy for `muse merge`."),
];

/// Help with `muse config`: with no key, the known keys; with a key (and value), the command
/// that reads (or sets) it. Pure information: it changes nothing, so it needs no sign-in.
#[tool(read_only, title = "Muse config", category = "muse")]
pub fn muse_config(
    #[arg(desc = "A configuration key, such as 'user.name'.")] key: Option<String>,
    #[arg(desc = "A value to set for the key.")] value: Option<String>,
) -> Result<Json<ConfigHelp>, ToolError> {
    let keys = CONFIG_KEYS
        .iter()
        .map(|(k, d)| ConfigKey {
            key: (*k).into(),
            description: (*d).into(),
        })
        .collect::<Vec<_>>();
    match key {
        None => Ok(Json(ConfigHelp {
            keys,
            command: None,
        })),
        Some(k) => {
            if !CONFIG_KEYS.iter().any(|(known, _)| *known == k) {
                return Err(ToolError::invalid_argument(format!(
                    "unknown configuration key '{k}'; known keys: {}",
                    CONFIG_KEYS
                        .iter()
                        .map(|(k, _)| *k)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let command = match value {
                Some(v) => format!("muse config set {k} {}", shell_quote(&v)),
                None => format!("muse config get {k}"),
            };
            Ok(Json(ConfigHelp {
                keys: keys.into_iter().filter(|c| c.key == k).collect(),
                command: Some(command),
            }))
        }
    }
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
