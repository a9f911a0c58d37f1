//! Issues and the comments on issues and proposals: views and queries.

use musehub_mcp::prelude::*;

use crate::db::{Db, DbResultExt, RowExt};
use sqlx::any::AnyRow;

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

/// A new comment.
#[schema(no_deserialize)]
pub struct NewComment {
    /// Repository id.
    pub repo_id: String,
    /// The issue number or pull request id commented on.
    pub target: String,
    /// The comment.
    pub comment: CommentView,
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
