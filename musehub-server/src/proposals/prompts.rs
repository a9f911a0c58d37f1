//! The proposal prompts: the contribution workflow and a review.

use std::collections::HashMap;

use musehub_mcp::prelude::*;

use crate::completions::{complete_prs, complete_repo_ids, complete_users};
use crate::prompts::{collect, to_messages};

/// The texts of this domain's prompts, `(description, user message, assistant message)`;
/// `None` for a prompt of another domain. Required arguments are checked before.
pub(crate) fn text(name: &str, args: &HashMap<String, String>) -> Option<(String, String, String)> {
    let get = |k: &str| args.get(k).map(String::as_str).unwrap_or("");
    let repo = get("repo_id");
    Some(match name {
        "musehub/contribute" => {
            let target = match (args.get("owner"), args.get("slug")) {
                (Some(o), Some(s)) => format!("{o}/{s}"),
                _ => repo.to_string(),
            };
            (
                format!("Contribute to {target}"),
                format!("I want to contribute to {target} (repo_id {repo}). What is the workflow?"),
                format!(
                    "To contribute to {target}:\n1. musehub_whoami to check you are signed in.\n\
                     2. musehub_get_context with repo_id {repo} to read its state and open issues.\n\
                     3. Pick or open an issue (musehub_create_issue).\n\
                     4. Work on a branch and muse_push your commits.\n\
                     5. musehub_create_pr from your branch into main.\n\
                     6. Address review comments, then a maintainer runs musehub_merge_pr."
                ),
            )
        }
        "musehub/review_pr" => {
            let pr = get("pr_id");
            (
                format!("Review pull request {pr} in {repo}"),
                format!("Review pull request {pr} in repository {repo}."),
                format!(
                    "1. musehub_get_pr (repo_id {repo}, pr_id {pr}) for the description, comments and reviews.\n\
                     2. musehub_compare from the target branch to the source branch: what changed, per file.\n\
                     3. Look at each dimension (melodic, harmonic, rhythmic, structural, dynamic); pin comments \
                        with musehub_create_pr_comment and a dimension_ref.\n\
                     4. musehub_submit_pr_review with approve, request_changes or comment."
                ),
            )
        }
        _ => return None,
    })
}

/// The contribution workflow for a repository: whoami, context, issue, push, pull request,
/// review, merge.
#[prompt(name = "musehub/contribute", title = "Contribute", complete(repo_id = complete_repo_ids, owner = complete_users))]
pub fn contribute(
    #[arg(desc = "Repository id")] repo_id: String,
    #[arg(desc = "Repository owner handle")] owner: Option<String>,
    #[arg(desc = "Repository slug")] slug: Option<String>,
) -> Result<GetPromptResult, McpError> {
    to_messages(
        "musehub/contribute",
        collect(&[("repo_id", Some(repo_id)), ("owner", owner), ("slug", slug)]),
    )
}

/// A dimension-aware review of a pull request.
#[prompt(name = "musehub/review_pr", title = "Review a pull request", complete(repo_id = complete_repo_ids, pr_id = complete_prs))]
pub fn review_pr(
    #[arg(desc = "Repository id")] repo_id: String,
    #[arg(desc = "Pull request id or number")] pr_id: String,
) -> Result<GetPromptResult, McpError> {
    to_messages(
        "musehub/review_pr",
        collect(&[("repo_id", Some(repo_id)), ("pr_id", Some(pr_id))]),
    )
}
