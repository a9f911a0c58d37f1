//! The issue tools: list, read, open, update and comment.

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::json;

use crate::db::{self, Db, DbResultExt, new_id, now};
use crate::discovery;
use crate::identity;
use crate::issues::{self, CommentView, IssueView, NewComment};
use crate::params::{self, Need, RepoRef};
use crate::repos::{self, RepoView};

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
        issues::ISSUE_COLUMNS
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
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "Which issues: open (default), closed or all.")] state: Option<IssueStateFilter>,
    #[arg(desc = "Only issues carrying this label.")] label: Option<String>,
) -> Result<Json<IssueList>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
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
    let issue = issues::issue(db, &repo.repo_id, number)
        .await?
        .ok_or_else(|| {
            ToolError::not_found(format!(
                "Issue #{number} not found in {}/{}.",
                repo.owner, repo.slug
            ))
        })?;
    let comments = issues::issue_comments(db, &issue.issue_id).await?;
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
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The issue number.")] issue_number: i64,
) -> Result<Json<IssueDetail>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    Ok(Json(issue_detail(&db, &repo, issue_number).await?))
}

/// Open an issue on a repository the caller can read. Labels must exist in the repository.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    title = "Create an issue",
    category = "write"
)]
pub async fn musehub_create_issue(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "Issue title.")] title: String,
    #[arg(desc = "Issue body (Markdown).")] body: Option<String>,
    #[arg(desc = "Label names (they must exist in the repository).")] labels: Option<Vec<String>>,
) -> Result<Json<IssueView>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    params::require(&title, "title")?;
    let labels = labels.unwrap_or_default();
    issues::check_labels(&db, &repo, &labels).await?;
    let ts = now();
    let id = new_id();
    let (rid, t, b, h, l, tsc, idc) = (
        repo.repo_id.clone(),
        title.trim().to_string(),
        body.unwrap_or_default(),
        handle.clone(),
        json!(labels).to_string(),
        ts.clone(),
        id.clone(),
    );
    let number = db::next_number_insert(
        &db,
        "issues",
        move |n| {
            sqlx::query(
                "INSERT INTO issues (id, repo_id, number, title, body, state, author, assignee, labels, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'open', $6, NULL, $7, $8, $8)",
            )
            .bind(idc.clone())
            .bind(rid.clone())
            .bind(n)
            .bind(t.clone())
            .bind(b.clone())
            .bind(h.clone())
            .bind(l.clone())
            .bind(tsc.clone())
        },
        &repo.repo_id,
    )
    .await?;
    discovery::record_activity(
        db.pool(),
        Some(&repo.repo_id),
        &handle,
        "issue.opened",
        &format!(
            "{handle} opened issue #{number} in {}/{}",
            repo.owner, repo.slug
        ),
    )
    .await?;
    let issue = issues::issue(&db, &repo.repo_id, number)
        .await?
        .ok_or_else(|| ToolError::internal("the new issue vanished"))?;
    repos::notify_changed(ctx, &repo, &["", "issues"]);
    Ok(Json(issue))
}

/// Issue state for updates.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IssueState {
    /// Open (reopen).
    Open,
    /// Closed.
    Closed,
}

/// Edit, close, reopen or (un)assign an issue. Allowed to the issue's author and to the
/// repository's owner and collaborators; `assignee: ""` unassigns.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = true,
    title = "Update an issue",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_update_issue(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The issue number.")] issue_number: i64,
    #[arg(desc = "New title.")] title: Option<String>,
    #[arg(desc = "New body.")] body: Option<String>,
    #[arg(desc = "New label set (replaces the old one).")] labels: Option<Vec<String>>,
    #[arg(desc = "open or closed.")] state: Option<IssueState>,
    #[arg(desc = "Handle to assign; an empty string unassigns.")] assignee: Option<String>,
) -> Result<Json<IssueView>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    let issue = issues::issue(&db, &repo.repo_id, issue_number)
        .await?
        .ok_or_else(|| {
            ToolError::not_found(format!(
                "Issue #{issue_number} not found in {}/{}.",
                repo.owner, repo.slug
            ))
        })?;
    if issue.author != handle && !repos::is_maintainer(&db, &repo, Some(&handle)).await? {
        return Err(ToolError::forbidden(
            "only the issue's author and the repository's maintainers may update it",
        ));
    }
    if let Some(t) = &title {
        params::require(t, "title")?;
    }
    if let Some(l) = &labels {
        issues::check_labels(&db, &repo, l).await?;
    }
    let assignee = match assignee {
        None => issue.assignee.clone(),
        Some(a) if a.trim().is_empty() => None,
        Some(a) => Some(a.trim().to_string()),
    };
    let state = match state {
        None => issue.state.clone(),
        Some(IssueState::Open) => "open".into(),
        Some(IssueState::Closed) => "closed".into(),
    };
    sqlx::query(
        "UPDATE issues SET title = $1, body = $2, labels = $3, state = $4, assignee = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(title.map(|t| t.trim().to_string()).unwrap_or(issue.title.clone()))
    .bind(body.unwrap_or(issue.body.clone()))
    .bind(json!(labels.unwrap_or(issue.labels.clone())).to_string())
    .bind(&state)
    .bind(assignee)
    .bind(now())
    .bind(&issue.issue_id)
    .execute(db.pool())
    .await
    .db()?;
    if state != issue.state {
        discovery::record_activity(
            db.pool(),
            Some(&repo.repo_id),
            &handle,
            if state == "closed" {
                "issue.closed"
            } else {
                "issue.reopened"
            },
            &format!("{handle} {state} issue #{issue_number}"),
        )
        .await?;
    }
    let issue = issues::issue(&db, &repo.repo_id, issue_number)
        .await?
        .ok_or_else(|| ToolError::internal("the issue vanished"))?;
    // The state may have changed, and with it the overview's open-issue count.
    repos::notify_changed(
        ctx,
        &repo,
        &["", "issues", &format!("issues/{issue_number}")],
    );
    Ok(Json(issue))
}

/// Comment on an issue of a repository the caller can read.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    title = "Comment on an issue",
    category = "write"
)]
pub async fn musehub_create_issue_comment(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The issue number.")] issue_number: i64,
    #[arg(desc = "Comment text (Markdown).")] body: String,
) -> Result<Json<NewComment>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    params::require(&body, "body")?;
    let issue = issues::issue(&db, &repo.repo_id, issue_number)
        .await?
        .ok_or_else(|| {
            ToolError::not_found(format!(
                "Issue #{issue_number} not found in {}/{}.",
                repo.owner, repo.slug
            ))
        })?;
    let id = new_id();
    let ts = now();
    let mut tx = db.pool().begin().await.db()?;
    sqlx::query(
        "INSERT INTO issue_comments (id, issue_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(&issue.issue_id)
    .bind(&handle)
    .bind(&body)
    .bind(&ts)
    .execute(&mut *tx)
    .await
    .db()?;
    sqlx::query("UPDATE issues SET updated_at = $1 WHERE id = $2")
        .bind(&ts)
        .bind(&issue.issue_id)
        .execute(&mut *tx)
        .await
        .db()?;
    tx.commit().await.db()?;
    repos::notify_changed(ctx, &repo, &[&format!("issues/{issue_number}")]);
    Ok(Json(NewComment {
        repo_id: repo.repo_id,
        target: format!("#{issue_number}"),
        comment: CommentView {
            comment_id: id,
            author: handle,
            body,
            dimension: None,
            track: None,
            beat_start: None,
            beat_end: None,
            created_at: ts,
        },
    }))
}
