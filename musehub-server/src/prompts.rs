//! The 10 prompts, and `musehub_get_prompt` (the same prompts as a tool, for clients without
//! prompt support). Required arguments are enforced: `prompts/get` answers -32602 naming the
//! argument; the tool answers `invalid_argument`.

use std::collections::HashMap;

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Map, Value};

use crate::completions::{complete_domains, complete_prs, complete_repo_ids, complete_users};

/// The prompt names, in catalogue order.
pub const PROMPT_NAMES: &[&str] = &[
    "musehub/orientation",
    "musehub/contribute",
    "musehub/create",
    "musehub/review_pr",
    "musehub/issue_triage",
    "musehub/release_prep",
    "musehub/onboard",
    "musehub/release_to_world",
    "musehub/domain-discovery",
    "musehub/domain-authoring",
];

/// The arguments of each prompt: (name, required).
fn arguments(name: &str) -> &'static [(&'static str, bool)] {
    match name {
        "musehub/orientation" => &[("caller_type", false)],
        "musehub/contribute" => &[("repo_id", true), ("owner", false), ("slug", false)],
        "musehub/create" => &[("repo_id", true), ("domain", false)],
        "musehub/review_pr" => &[("repo_id", true), ("pr_id", true)],
        "musehub/issue_triage" | "musehub/release_prep" | "musehub/release_to_world" => {
            &[("repo_id", true)]
        }
        "musehub/onboard" => &[("username", false)],
        "musehub/domain-discovery" => &[("use_case", false)],
        "musehub/domain-authoring" => &[("domain_name", false)],
        _ => &[],
    }
}

/// A rendered prompt: description, then (role, text) messages.
pub struct Rendered {
    /// The description.
    pub description: String,
    /// User then assistant.
    pub messages: Vec<(&'static str, String)>,
}

/// Renders a prompt. `Err` names a missing required argument; `None` is an unknown prompt.
pub fn render(name: &str, args: &HashMap<String, String>) -> Option<Result<Rendered, String>> {
    if !PROMPT_NAMES.contains(&name) {
        return None;
    }
    for (arg, required) in arguments(name) {
        if *required && args.get(*arg).is_none_or(|v| v.trim().is_empty()) {
            return Some(Err((*arg).to_string()));
        }
    }
    let get = |k: &str| args.get(k).map(String::as_str).unwrap_or("");
    let repo = get("repo_id");
    let (description, user, assistant) = match name {
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
        "musehub/onboard" => {
            let user = args.get("username").map(String::as_str).unwrap_or("there");
            (
                format!("Onboarding for {user}"),
                format!("Hi, I'm {user} and I'm new to MuseHub. Help me get started."),
                format!(
                    "Welcome, {user}! 1. musehub_whoami to check your sign-in. 2. musehub_search_repos to find \
                     music you like; star it with musehub_star_repo. 3. musehub_create_repo for your own project. \
                     4. musehub_create_with_preferences asks you (with a form) about key, tempo and mood and plans \
                     a piece. 5. Connect a DAW service with musehub_connect_daw_cloud."
                ),
            )
        }
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
    };
    Some(Ok(Rendered {
        description,
        messages: vec![("user", user), ("assistant", assistant)],
    }))
}

fn to_messages(name: &str, args: HashMap<String, String>) -> Result<GetPromptResult, McpError> {
    match render(name, &args) {
        None => Err(McpError::invalid_params(format!("Unknown prompt: {name}"))),
        Some(Err(arg)) => Err(McpError::invalid_params(format!(
            "missing required argument `{arg}`"
        ))),
        Some(Ok(r)) => Ok(GetPromptResult {
            description: Some(r.description),
            messages: r
                .messages
                .into_iter()
                .map(|(role, text)| {
                    if role == "user" {
                        PromptMessage::user(text)
                    } else {
                        PromptMessage::assistant(text)
                    }
                })
                .collect(),
        }),
    }
}

fn collect(pairs: &[(&str, Option<String>)]) -> HashMap<String, String> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
        .collect()
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

/// Onboarding for a new creator, including the interactive tools.
#[prompt(name = "musehub/onboard", title = "Onboarding", complete(username = complete_users))]
pub fn onboard(
    #[arg(desc = "Your handle")] username: Option<String>,
) -> Result<GetPromptResult, McpError> {
    to_messages("musehub/onboard", collect(&[("username", username)]))
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

/// The names of the prompts.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptName {
    /// musehub/orientation.
    #[serde(rename = "musehub/orientation")]
    Orientation,
    /// musehub/contribute.
    #[serde(rename = "musehub/contribute")]
    Contribute,
    /// musehub/create.
    #[serde(rename = "musehub/create")]
    Create,
    /// musehub/review_pr.
    #[serde(rename = "musehub/review_pr")]
    ReviewPr,
    /// musehub/issue_triage.
    #[serde(rename = "musehub/issue_triage")]
    IssueTriage,
    /// musehub/release_prep.
    #[serde(rename = "musehub/release_prep")]
    ReleasePrep,
    /// musehub/onboard.
    #[serde(rename = "musehub/onboard")]
    Onboard,
    /// musehub/release_to_world.
    #[serde(rename = "musehub/release_to_world")]
    ReleaseToWorld,
    /// musehub/domain-discovery.
    #[serde(rename = "musehub/domain-discovery")]
    DomainDiscovery,
    /// musehub/domain-authoring.
    #[serde(rename = "musehub/domain-authoring")]
    DomainAuthoring,
}

/// One message of a rendered prompt.
#[schema(no_deserialize)]
pub struct FlatMessage {
    /// `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// A rendered prompt.
#[schema(no_deserialize)]
pub struct PromptText {
    /// The prompt's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The messages, user then assistant.
    pub messages: Vec<FlatMessage>,
}

/// Render one of the 10 prompts as a tool result (for clients without prompt support).
/// Arguments are strings; required ones must be present.
#[tool(read_only, title = "Get a prompt", category = "read")]
pub fn musehub_get_prompt(
    #[arg(desc = "The prompt's name.")] name: PromptName,
    #[arg(desc = "The prompt's arguments (string values).")] arguments: Option<Map<String, Value>>,
) -> Result<Json<PromptText>, ToolError> {
    let name = serde_json::to_value(name)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut args = HashMap::new();
    for (k, v) in arguments.unwrap_or_default() {
        match v {
            Value::String(s) => {
                args.insert(k, s);
            }
            Value::Null => {}
            other => {
                args.insert(k, other.to_string());
            }
        }
    }
    match render(&name, &args) {
        None => Err(ToolError::not_found(format!(
            "Unknown prompt '{name}'. Available prompts: {}",
            PROMPT_NAMES.join(", ")
        ))),
        Some(Err(arg)) => Err(ToolError::invalid_argument(format!(
            "prompt '{name}' needs the argument `{arg}`"
        ))),
        Some(Ok(r)) => Ok(Json(PromptText {
            name,
            description: r.description,
            messages: r
                .messages
                .into_iter()
                .map(|(role, content)| FlatMessage {
                    role: role.into(),
                    content,
                })
                .collect(),
        })),
    }
}
