//! Publishing a release with the metadata asked from the user (elicitation).

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

use crate::db::Db;
use crate::elicit;
use crate::identity;
use crate::params::{Need, RepoRef};
use crate::repos::{self, NewRelease, ReleaseView};

/// The result of the interactive release.
#[schema(no_deserialize)]
pub struct InteractiveRelease {
    /// The release.
    pub release: ReleaseView,
    /// The highlight line, if the user gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highlight: Option<String>,
    /// True when the metadata came from the user through elicitation.
    pub elicited: bool,
    /// What to do next.
    pub workflow_hint: String,
}

/// Publish a release interactively (owner and collaborators only): without `tag` it asks the
/// user for tag, title, notes, channel and a highlight (form); with `tag` it publishes at once
/// (title defaults to the tag). `pre_release` marks it as a pre-release. Reports progress.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    open_world = true,
    title = "Interactive release",
    category = "interactive"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_create_release_interactive(
    ctx: &Ctx,
    State(db): State<Db>,
    elicit: Elicitation,
    progress: Progress,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "Version tag, such as v1.0.0. Given, the tool does not ask.")] tag: Option<String>,
    #[arg(desc = "Release title (default: the tag).")] title: Option<String>,
    #[arg(desc = "Release notes (Markdown).")] notes: Option<String>,
    #[arg(desc = "Mark as a pre-release (default false).")] pre_release: Option<bool>,
) -> Result<Json<InteractiveRelease>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Maintain).await?;
    let pre_release = pre_release.unwrap_or(false);
    let (tag, title, notes, channel, highlight, elicited, total) = match tag {
        Some(t) => {
            let title = title.unwrap_or_else(|| t.clone());
            (t, title, notes.unwrap_or_default(), None, None, false, 2.0)
        }
        None => {
            progress
                .report(0.0, Some(3.0), Some("Collecting release metadata…"))
                .await;
            let schema = json!({
                "type": "object",
                "properties": {
                    "tag": {"type": "string", "title": "Tag", "description": "Version tag, e.g. v1.0.0", "minLength": 2, "maxLength": 32},
                    "title": {"type": "string", "title": "Title", "description": "Release title", "minLength": 2, "maxLength": 120},
                    "release_notes": {"type": "string", "title": "Notes", "description": "What changed", "maxLength": 4000},
                    "channel": {"type": "string", "title": "Channel", "description": "stable, beta, ...", "default": "stable"},
                    "highlight": {"type": "string", "title": "Highlight", "description": "One line for the announcement", "maxLength": 280}
                },
                "required": ["tag", "title"]
            });
            let a = elicit::ask(
                &elicit,
                "`tag` (and optionally `title`, `notes`)",
                "release form",
                &format!("Describe the new release of {}/{}.", repo.owner, repo.slug),
                schema,
            )
            .await?;
            let get = |k: &str| {
                a.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .filter(|s| !s.trim().is_empty())
            };
            let tag =
                get("tag").ok_or_else(|| ToolError::invalid_argument("the form has no tag"))?;
            let highlight = get("highlight");
            let mut notes = get("release_notes").or(notes).unwrap_or_default();
            if let Some(h) = &highlight {
                notes = format!("**Highlight:** {h}\n\n{notes}");
            }
            (
                tag.clone(),
                get("title").or(title).unwrap_or(tag),
                notes,
                get("channel"),
                highlight,
                true,
                3.0,
            )
        }
    };
    let step = total - 2.0;
    progress
        .report(step, Some(total), Some(&format!("Creating release {tag}…")))
        .await;
    let channel = channel.unwrap_or_else(|| {
        if pre_release {
            "beta".into()
        } else {
            "stable".into()
        }
    });
    let release = repos::create_release(
        &db,
        &handle,
        &repo,
        NewRelease {
            tag: &tag,
            title: &title,
            body: &notes,
            commit_id: None,
            channel: &channel,
            pre_release: pre_release || channel != "stable",
        },
    )
    .await?;
    progress.report(total, Some(total), Some("Done.")).await;
    Ok(Json(InteractiveRelease {
        workflow_hint: format!(
            "Release {} is live. Distribute it with musehub_connect_streaming_platform, or share muse://{}/{}@{}.",
            release.tag, repo.owner, repo.slug, release.tag
        ),
        release,
        highlight,
        elicited,
    }))
}
