//! The prompt registry: the 10 prompts' names and arguments, rendering (each domain writes the
//! texts of its own prompts, in `<domain>/prompts.rs`), and `musehub_get_prompt` (the same
//! prompts as a tool, for clients without prompt support). Required arguments are enforced:
//! `prompts/get` answers -32602 naming the argument; the tool answers `invalid_argument`.

use std::collections::HashMap;

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Map, Value};

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
    let (description, user, assistant) = crate::discovery::prompts::text(name, args)
        .or_else(|| crate::repos::prompts::text(name, args))
        .or_else(|| crate::proposals::prompts::text(name, args))
        .or_else(|| crate::issues::prompts::text(name, args))
        .or_else(|| crate::identity::prompts::text(name, args))?;
    Some(Ok(Rendered {
        description,
        messages: vec![("user", user), ("assistant", assistant)],
    }))
}

/// A rendered prompt as a `prompts/get` result; an unknown prompt or a missing required
/// argument is -32602.
pub(crate) fn to_messages(
    name: &str,
    args: HashMap<String, String>,
) -> Result<GetPromptResult, McpError> {
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

/// The arguments that were given, by name.
pub(crate) fn collect(pairs: &[(&str, Option<String>)]) -> HashMap<String, String> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
        .collect()
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
