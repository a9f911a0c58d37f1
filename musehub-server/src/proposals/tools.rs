//! Listing, reading and opening proposals.

use musehub_mcp::prelude::*;

use crate::db::{self, Db, DbResultExt, new_id, now};
use crate::discovery;
use crate::history;
use crate::identity;
use crate::issues::CommentView;
use crate::params::{self, Need, RepoRef};
use crate::proposals::{self, ProposalView, ReviewView};
use crate::repos::{self, RepoView};

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
        proposals::PROPOSAL_COLUMNS
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
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "Which proposals: open, merged, closed or all (default).")] state: Option<
        PrStateFilter,
    >,
) -> Result<Json<PrList>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
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
    proposals::proposal(db, &repo.repo_id, pr_id)
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
        comments: proposals::proposal_comments(db, &pr.pr_id).await?,
        reviews: proposals::proposal_reviews(db, &pr.pr_id).await?,
        pull_request: pr,
    })
}

/// Get one proposal (pull request) by id or number, with its comments and reviews.
#[tool(read_only, title = "Get a pull request", category = "read")]
pub async fn musehub_get_pr(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The pull request id, or its number.")] pr_id: String,
) -> Result<Json<PrDetail>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    Ok(Json(pr_detail(&db, &repo, &pr_id).await?))
}

/// Open a proposal (pull request) to merge `from_branch` into `to_branch`; both must exist
/// and differ.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    title = "Open a pull request",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_create_pr(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "Title.")] title: String,
    #[arg(desc = "The branch with the changes.")] from_branch: String,
    #[arg(desc = "The branch to merge into.")] to_branch: String,
    #[arg(desc = "Description (Markdown).")] body: Option<String>,
) -> Result<Json<ProposalView>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    params::require(&title, "title")?;
    if from_branch == to_branch {
        return Err(ToolError::invalid_argument(
            "from_branch and to_branch must be different.",
        ));
    }
    for b in [&from_branch, &to_branch] {
        if history::branch_head(&db, &repo.repo_id, b).await?.is_none() {
            return Err(ToolError::not_found(format!(
                "Branch '{b}' not found in {}/{}.",
                repo.owner, repo.slug
            )));
        }
    }
    let id = new_id();
    let ts = now();
    let (idc, rid, t, b, f, to, h, tsc) = (
        id.clone(),
        repo.repo_id.clone(),
        title.trim().to_string(),
        body.unwrap_or_default(),
        from_branch.clone(),
        to_branch.clone(),
        handle.clone(),
        ts.clone(),
    );
    let number = db::next_number_insert(
        &db,
        "proposals",
        move |n| {
            sqlx::query(
                "INSERT INTO proposals (id, repo_id, number, title, body, state, from_branch, to_branch, author, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $9)",
            )
            .bind(idc.clone())
            .bind(rid.clone())
            .bind(n)
            .bind(t.clone())
            .bind(b.clone())
            .bind(f.clone())
            .bind(to.clone())
            .bind(h.clone())
            .bind(tsc.clone())
        },
        &repo.repo_id,
    )
    .await?;
    discovery::record_activity(
        db.pool(),
        Some(&repo.repo_id),
        &handle,
        "pr.opened",
        &format!(
            "{handle} opened pull request #{number} ({from_branch} -> {to_branch}) in {}/{}",
            repo.owner, repo.slug
        ),
    )
    .await?;
    let pr = proposals::find_pr(&db, &repo, &id).await?;
    repos::notify_changed(ctx, &repo, &["", "pulls"]);
    Ok(Json(pr))
}
