//! Comments pinned in the music, and reviews (approve, request changes, comment).

use musehub_mcp::prelude::*;

use crate::db::{Db, DbResultExt, new_id, now};
use crate::identity;
use crate::issues::{CommentView, NewComment};
use crate::params::{self, Need, RepoRef};
use crate::proposals::{self, ReviewView};
use crate::repos;

/// Where a proposal comment points in the music.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct DimensionRef {
    /// The dimension: general (default), melodic, harmonic, rhythmic, structural, dynamic.
    #[serde(rename = "type", default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The track.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track: Option<String>,
    /// First beat of the range.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beat_start: Option<f64>,
    /// Last beat of the range.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beat_end: Option<f64>,
}

/// Comment on a proposal, optionally pinned to a dimension, track and beat range.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    title = "Comment on a pull request",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_create_pr_comment(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The pull request id, or its number.")] pr_id: String,
    #[arg(desc = "Comment text (Markdown).")] body: String,
    #[arg(desc = "What the comment points at: {type, track, beat_start, beat_end}.")]
    dimension_ref: Option<DimensionRef>,
) -> Result<Json<NewComment>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    params::require(&body, "body")?;
    let pr = proposals::find_pr(&db, &repo, &pr_id).await?;
    let d = dimension_ref.unwrap_or_default();
    if let (Some(a), Some(b)) = (d.beat_start, d.beat_end)
        && a > b
    {
        return Err(ToolError::invalid_argument(
            "`dimension_ref.beat_start` must not be after `beat_end`",
        ));
    }
    let dimension = d.kind.clone().unwrap_or_else(|| "general".into());
    let id = new_id();
    let ts = now();
    sqlx::query(
        "INSERT INTO proposal_comments (id, proposal_id, author, body, dimension, track, beat_start, beat_end, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(&pr.pr_id)
    .bind(&handle)
    .bind(&body)
    .bind(&dimension)
    .bind(d.track.clone())
    .bind(d.beat_start)
    .bind(d.beat_end)
    .bind(&ts)
    .execute(db.pool())
    .await
    .db()?;
    repos::notify_changed(ctx, &repo, &[&format!("pulls/{}", pr.number)]);
    Ok(Json(NewComment {
        repo_id: repo.repo_id,
        target: pr.pr_id,
        comment: CommentView {
            comment_id: id,
            author: handle,
            body,
            dimension: Some(dimension),
            track: d.track,
            beat_start: d.beat_start,
            beat_end: d.beat_end,
            created_at: ts,
        },
    }))
}

/// A review verdict.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReviewEvent {
    /// Approve.
    Approve,
    /// Ask for changes.
    RequestChanges,
    /// Comment without a verdict.
    Comment,
}

/// Review a proposal: approve, request changes, or comment. Authors cannot approve or
/// request changes on their own proposals.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    title = "Review a pull request",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_submit_pr_review(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The pull request id, or its number.")] pr_id: String,
    #[arg(desc = "approve, request_changes or comment.")] event: ReviewEvent,
    #[arg(desc = "Review text.")] body: Option<String>,
) -> Result<Json<ReviewView>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    let pr = proposals::find_pr(&db, &repo, &pr_id).await?;
    if pr.state != "open" {
        return Err(ToolError::new(
            "invalid_state",
            format!("Pull request #{} is {}, not open.", pr.number, pr.state),
        ));
    }
    let event = match event {
        ReviewEvent::Approve => "approve",
        ReviewEvent::RequestChanges => "request_changes",
        ReviewEvent::Comment => "comment",
    };
    if pr.author == handle && event != "comment" {
        return Err(ToolError::forbidden(
            "you cannot approve or request changes on your own pull request",
        ));
    }
    let id = new_id();
    let ts = now();
    let body = body.unwrap_or_default();
    sqlx::query(
        "INSERT INTO proposal_reviews (id, proposal_id, reviewer, event, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&pr.pr_id)
    .bind(&handle)
    .bind(event)
    .bind(&body)
    .bind(&ts)
    .execute(db.pool())
    .await
    .db()?;
    repos::notify_changed(ctx, &repo, &[&format!("pulls/{}", pr.number)]);
    Ok(Json(ReviewView {
        review_id: id,
        reviewer: handle,
        event: event.into(),
        body,
        created_at: ts,
    }))
}
