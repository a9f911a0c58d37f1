//! The onboarding prompt for a new creator.

use std::collections::HashMap;

use musehub_mcp::prelude::*;

use crate::completions::complete_users;
use crate::prompts::{collect, to_messages};

/// The texts of this domain's prompts, `(description, user message, assistant message)`;
/// `None` for a prompt of another domain. Required arguments are checked before.
pub(crate) fn text(name: &str, args: &HashMap<String, String>) -> Option<(String, String, String)> {
    Some(match name {
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
        _ => return None,
    })
}

/// Onboarding for a new creator, including the interactive tools.
#[prompt(name = "musehub/onboard", title = "Onboarding", complete(username = complete_users))]
pub fn onboard(
    #[arg(desc = "Your handle")] username: Option<String>,
) -> Result<GetPromptResult, McpError> {
    to_messages("musehub/onboard", collect(&[("username", username)]))
}
