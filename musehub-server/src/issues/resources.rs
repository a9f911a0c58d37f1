//! The issue resources.

use musehub_mcp::prelude::*;

use crate::completions::{complete_issue_numbers, complete_slugs, complete_users};
use crate::db::Db;
use crate::issues::{self, IssueDetail, IssueList, IssueStateFilter};
use crate::repos;

/// A repository's open issues.
#[resource(uri = "musehub://repos/{owner}/{slug}/issues", name = "Issues", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_issues(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<IssueList>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    let issues = issues::list_issues(&db, &r.repo_id, IssueStateFilter::Open, None).await?;
    Ok(Json(IssueList::new(r.repo_id, issues)))
}

/// One issue with its comments.
#[resource(uri = "musehub://repos/{owner}/{slug}/issues/{number}", name = "Single Issue", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs, number = complete_issue_numbers))]
pub async fn repo_issue(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
    number: i64,
) -> Result<Json<IssueDetail>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    Ok(Json(issues::issue_detail(&db, &r, number).await?))
}
