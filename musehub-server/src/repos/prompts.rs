//! The repository prompts: creating new state, preparing and distributing a release.

use std::collections::HashMap;

use musehub_mcp::prelude::*;

use crate::completions::{complete_domains, complete_repo_ids};
use crate::prompts::{collect, to_messages};

/// The texts of this domain's prompts, `(description, user message, assistant message)`;
/// `None` for a prompt of another domain. Required arguments are checked before.
pub(crate) fn text(name: &str, args: &HashMap<String, String>) -> Option<(String, String, String)> {
    let get = |k: &str| args.get(k).map(String::as_str).unwrap_or("");
    let repo = get("repo_id");
    Some(match name {
        "musehub/create" => {
            let domain = args
                .get("domain")
                .map(String::as_str)
                .unwrap_or("the repository's domain");
            (
                format!("Create new state in {repo}"),
                format!("Help me create new work in repository {repo} using {domain}."),
                format!(
                    "1. musehub_get_context (repo_id {repo}) and musehub_get_domain for {domain}: learn its dimensions.\n\
                     2. Plan the piece (musehub_create_with_preferences can ask for key, tempo, mood).\n\
                     3. Commit each step locally with muse, then muse_push to a feature branch.\n\
                     4. musehub_get_view on your branch to check the result; open a pull request when ready."
                ),
            )
        }
        "musehub/release_prep" => (
            format!("Prepare a release of {repo}"),
            format!("Prepare the next release of repository {repo}."),
            format!(
                "1. musehub_list_releases (repo_id {repo}) for the last tag.\n\
                 2. musehub_list_commits and musehub_list_prs (state merged) since then: draft the notes.\n\
                 3. Check no open issue blocks the release (musehub_list_issues).\n\
                 4. musehub_create_release with the next version tag and the notes."
            ),
        ),
        "musehub/release_to_world" => (
            format!("Release {repo} to the world"),
            format!("I want to release repository {repo} and distribute it."),
            format!(
                "1. musehub_create_release_interactive (repo_id {repo}) asks for the tag, title, notes and a \
                    highlight.\n\
                 2. musehub_connect_streaming_platform lets you pick and authorise platforms.\n\
                 3. musehub_connect_daw_cloud for mastering (e.g. LANDR) before distribution."
            ),
        ),
        _ => return None,
    })
}

/// A domain-agnostic workflow for creating new state in a repository.
#[prompt(name = "musehub/create", title = "Create", complete(repo_id = complete_repo_ids, domain = complete_domains))]
pub fn create(
    #[arg(desc = "Repository id")] repo_id: String,
    #[arg(desc = "Domain plugin, '@author/slug'")] domain: Option<String>,
) -> Result<GetPromptResult, McpError> {
    to_messages(
        "musehub/create",
        collect(&[("repo_id", Some(repo_id)), ("domain", domain)]),
    )
}

/// Prepare a release: notes from merged work, blockers, the next tag.
#[prompt(name = "musehub/release_prep", title = "Release preparation", complete(repo_id = complete_repo_ids))]
pub fn release_prep(
    #[arg(desc = "Repository id")] repo_id: String,
) -> Result<GetPromptResult, McpError> {
    to_messages(
        "musehub/release_prep",
        collect(&[("repo_id", Some(repo_id))]),
    )
}

/// Release and distribute a repository with the interactive tools.
#[prompt(name = "musehub/release_to_world", title = "Release to the world", complete(repo_id = complete_repo_ids))]
pub fn release_to_world(
    #[arg(desc = "Repository id")] repo_id: String,
) -> Result<GetPromptResult, McpError> {
    to_messages(
        "musehub/release_to_world",
        collect(&[("repo_id", Some(repo_id))]),
    )
}
