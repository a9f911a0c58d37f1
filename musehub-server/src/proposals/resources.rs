//! The proposal resources.

use musehub_mcp::prelude::*;

use crate::completions::{complete_prs, complete_slugs, complete_users};
use crate::db::Db;
use crate::proposals::{self, PrDetail, PrList, PrStateFilter};
use crate::repos;

/// A repository's pull requests, every state.
#[resource(uri = "musehub://repos/{owner}/{slug}/pulls", name = "Pull Requests", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_pulls(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<PrList>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    let prs = proposals::list_prs(&db, &r.repo_id, PrStateFilter::All).await?;
    Ok(Json(PrList::new(r.repo_id, prs)))
}

/// One pull request (by number or id) with comments and reviews.
#[resource(uri = "musehub://repos/{owner}/{slug}/pulls/{number}", name = "Single Pull Request", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs, number = complete_prs))]
pub async fn repo_pull(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
    number: String,
) -> Result<Json<PrDetail>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    Ok(Json(proposals::pr_detail(&db, &r, &number).await?))
}
