//! The discovery prompts: orientation, and finding or authoring a domain plugin.

use std::collections::HashMap;

use musehub_mcp::prelude::*;

use crate::prompts::{collect, to_messages};

/// The texts of this domain's prompts, `(description, user message, assistant message)`;
/// `None` for a prompt of another domain. Required arguments are checked before.
pub(crate) fn text(name: &str, args: &HashMap<String, String>) -> Option<(String, String, String)> {
    let get = |k: &str| args.get(k).map(String::as_str).unwrap_or("");
    Some(match name {
        "musehub/orientation" => {
            let agent = get("caller_type") == "agent";
            let mut a = String::from(
                "MuseHub hosts Muse repositories: version-controlled, multi-dimensional state (MIDI, code, \
                 genomics, any domain plugin). Each repository has branches, commits with snapshot manifests, \
                 artifacts, issues, pull requests and releases.\n\n\
                 Read: musehub_search_repos and musehub_list_domains to discover; musehub_get_context to orient \
                 in a repository; musehub_get_view, musehub_list_commits, musehub_compare to inspect state.\n\
                 Write (signed in): musehub_create_repo, muse_push, musehub_create_issue, musehub_create_pr, \
                 musehub_merge_pr, musehub_create_release.\n\
                 Interactive: musehub_create_with_preferences, musehub_review_pr_interactive, \
                 musehub_create_release_interactive ask the user through forms.\n\
                 Every repository tool takes repo_id, or owner + slug.",
            );
            if agent {
                a.push_str(
                    "\n\nAs an agent: sign requests with your agent key (musehub_create_agent_token mints one for \
                     a human owner); push with muse_push (atomic; non_fast_forward means pull with muse_pull and \
                     merge first); keep pushes small and frequent.",
                );
            }
            (
                "Orientation: the MuseHub model and its tools".to_string(),
                format!(
                    "I am a {} new to MuseHub. How does it work and which tools should I use?",
                    if agent { "AI agent" } else { "musician" }
                ),
                a,
            )
        }
        "musehub/domain-discovery" => {
            let use_case = args
                .get("use_case")
                .map(String::as_str)
                .unwrap_or("my project");
            (
                format!("Find a domain for {use_case}"),
                format!("Which Muse domain plugin fits {use_case}?"),
                format!(
                    "1. musehub_list_domains (query from the use case: {use_case}).\n\
                     2. musehub_get_domain for each candidate: compare dimensions, merge semantics, viewer.\n\
                     3. musehub_search_repos with domain set to see real repositories using it."
                ),
            )
        }
        "musehub/domain-authoring" => {
            let d = args
                .get("domain_name")
                .map(String::as_str)
                .unwrap_or("my-domain");
            (
                format!("Author the domain plugin {d}"),
                format!("How do I build and publish a Muse domain plugin called {d}?"),
                format!(
                    "1. Read muse://docs/protocol and muse://docs/domains.\n\
                     2. Define the dimensions, the diff and merge semantics (muse://docs/merge, muse://docs/crdt).\n\
                     3. musehub_publish_domain with author_slug = your handle, slug {d}, a capabilities manifest \
                        and a viewer type."
                ),
            )
        }
        _ => return None,
    })
}

/// An overview of MuseHub and a guide to its tools, for humans or agents.
#[prompt(name = "musehub/orientation", title = "Orientation")]
pub fn orientation(
    #[arg(desc = "'human' (default) or 'agent'")] caller_type: Option<String>,
) -> Result<GetPromptResult, McpError> {
    to_messages(
        "musehub/orientation",
        collect(&[("caller_type", caller_type)]),
    )
}

/// Find and evaluate a domain plugin for a use case.
#[prompt(name = "musehub/domain-discovery", title = "Domain discovery")]
pub fn domain_discovery(
    #[arg(desc = "What you want to version (e.g. 'film scores')")] use_case: Option<String>,
) -> Result<GetPromptResult, McpError> {
    to_messages(
        "musehub/domain-discovery",
        collect(&[("use_case", use_case)]),
    )
}

/// Build and publish a domain plugin.
#[prompt(name = "musehub/domain-authoring", title = "Domain authoring")]
pub fn domain_authoring(
    #[arg(desc = "The domain's name")] domain_name: Option<String>,
) -> Result<GetPromptResult, McpError> {
    to_messages(
        "musehub/domain-authoring",
        collect(&[("domain_name", domain_name)]),
    )
}
