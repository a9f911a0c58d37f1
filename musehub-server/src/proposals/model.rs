//! Proposals (pull requests) and their reviews: views and queries.

use musehub_mcp::prelude::*;

use crate::db::{Db, DbResultExt, RowExt};
use crate::issues::CommentView;
use sqlx::any::AnyRow;

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
