//! How to reach a repository as a Muse remote (`muse_remote`, the remote resource) and help
//! with `muse config`.

use musehub_mcp::prelude::*;

use crate::completions::{complete_slugs, complete_users};
use crate::db::Db;
use crate::muse;
use crate::params::{Need, RepoRef};
use crate::repos::{self, RepoView};

/// How to reach a repository as a Muse remote.
#[schema(no_deserialize)]
pub struct RemoteInfo {
    /// `owner/slug`.
    pub repo: String,
    /// Repository id.
    pub repo_id: String,
    /// The remote's URL.
    pub remote_url: String,
    /// Where `muse push` sends to.
    pub push_url: String,
    /// Where `muse pull` reads from.
    pub pull_url: String,
    /// `muse clone ...`.
    pub clone_command: String,
    /// `muse remote add ...`.
    pub add_remote_command: String,
}

pub(crate) fn remote_info(db: &Db, repo: &RepoView, r: Option<&str>) -> RemoteInfo {
    let base = db.settings().public_url.trim_end_matches('/');
    let remote_url = format!("{base}/{}/{}", repo.owner, repo.slug);
    let mut clone_command = format!("muse clone {remote_url}");
    if let Some(r) = r {
        clone_command.push_str(&format!(" --branch {r}"));
    }
    RemoteInfo {
        repo: format!("{}/{}", repo.owner, repo.slug),
        repo_id: repo.repo_id.clone(),
        push_url: format!("{remote_url}/push"),
        pull_url: format!("{remote_url}/pull"),
        add_remote_command: format!("muse remote add origin {remote_url}"),
        clone_command,
        remote_url,
    }
}

/// The Muse remote of a repository: remote, push and pull URLs, and the clone and
/// `remote add` commands (with `--branch` when `ref` is given).
#[tool(read_only, title = "Muse remote", category = "muse")]
pub async fn muse_remote(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository owner handle.")] owner: String,
    #[arg(desc = "Repository slug.")] slug: String,
    #[arg(
        rename = "ref",
        desc = "Branch to clone (adds --branch to the clone command)."
    )]
    ref_name: Option<String>,
) -> Result<Json<RemoteInfo>, ToolError> {
    let repo = repos::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::by_name(&owner, &slug),
        Need::Read,
    )
    .await?;
    Ok(Json(remote_info(&db, &repo, ref_name.as_deref())))
}

/// One configuration key of the Muse CLI.
#[schema(no_deserialize)]
pub struct ConfigKey {
    /// The key.
    pub key: String,
    /// What it does.
    pub description: String,
}

/// Muse CLI configuration help.
#[schema(no_deserialize)]
pub struct ConfigHelp {
    /// The known keys (when no key was given).
    pub keys: Vec<ConfigKey>,
    /// The command to run (when a key was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

/// The keys of the shipped `muse` client's `muse config` (muse-cli).
const CONFIG_KEYS: &[(&str, &str)] = &[
    (
        "user.name",
        "Your display name, recorded as the commit author (default: user.handle).",
    ),
    (
        "user.handle",
        "Your MuseHub handle: the one requests are signed for.",
    ),
    (
        "user.key",
        "Your secret key file (from `musehub-server keys generate` or `muse auth enroll`).",
    ),
    (
        "remote.origin.url",
        "Where `muse push` and `muse pull` go: http://HUB/OWNER/SLUG (muse_remote gives it).",
    ),
];

/// Help with `muse config`: with no key, the known keys; with a key (and value), the command
/// that reads (or sets) it. Pure information: it changes nothing, so it needs no sign-in.
#[tool(read_only, title = "Muse config", category = "muse")]
pub fn muse_config(
    #[arg(desc = "A configuration key, such as 'user.name'.")] key: Option<String>,
    #[arg(desc = "A value to set for the key.")] value: Option<String>,
) -> Result<Json<ConfigHelp>, ToolError> {
    let keys = CONFIG_KEYS
        .iter()
        .map(|(k, d)| ConfigKey {
            key: (*k).into(),
            description: (*d).into(),
        })
        .collect::<Vec<_>>();
    match key {
        None => Ok(Json(ConfigHelp {
            keys,
            command: None,
        })),
        Some(k) => {
            if !CONFIG_KEYS.iter().any(|(known, _)| *known == k) {
                return Err(ToolError::invalid_argument(format!(
                    "unknown configuration key '{k}'; known keys: {}",
                    CONFIG_KEYS
                        .iter()
                        .map(|(k, _)| *k)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let command = match value {
                Some(v) => format!("muse config {k} {}", shell_quote(&v)),
                None => format!("muse config {k}"),
            };
            Ok(Json(ConfigHelp {
                keys: keys.into_iter().filter(|c| c.key == k).collect(),
                command: Some(command),
            }))
        }
    }
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// How to reach a repository as a Muse remote.
#[resource(uri = "musehub://repos/{owner}/{slug}/remote", name = "Repository Remote Info", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_remote(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<RemoteInfo>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    Ok(Json(muse::remote_info(&db, &r, None)))
}
