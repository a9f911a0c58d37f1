//! The issue prompt: triage.

use std::collections::HashMap;

use musehub_mcp::prelude::*;

use crate::completions::complete_repo_ids;
use crate::prompts::{collect, to_messages};

/// The texts of this domain's prompts, `(description, user message, assistant message)`;
/// `None` for a prompt of another domain. Required arguments are checked before.
pub(crate) fn text(name: &str, args: &HashMap<String, String>) -> Option<(String, String, String)> {
    let get = |k: &str| args.get(k).map(String::as_str).unwrap_or("");
    let repo = get("repo_id");
    Some(match name {
        "musehub/issue_triage" => (
            format!("Triage the issues of {repo}"),
            format!("Help me triage the open issues of repository {repo}."),
            format!(
                "1. musehub_list_issues (repo_id {repo}, state open).\n\
                 2. For each: musehub_get_issue; label it (musehub_create_label if needed), assign it, or close \
                    duplicates with musehub_update_issue.\n\
                 3. Summarise what is urgent, what is a good first issue, what needs information."
            ),
        ),
        _ => return None,
    })
}

/// Triage a repository's open issues.
#[prompt(name = "musehub/issue_triage", title = "Issue triage", complete(repo_id = complete_repo_ids))]
pub fn issue_triage(
    #[arg(desc = "Repository id")] repo_id: String,
) -> Result<GetPromptResult, McpError> {
    to_messages(
        "musehub/issue_triage",
        collect(&[("repo_id", Some(repo_id))]),
    )
}
