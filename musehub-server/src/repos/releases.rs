//! Releases: version tags on commits, with notes and a channel.

use musehub_mcp::prelude::*;

use crate::completions::{complete_slugs, complete_tags, complete_users};
use crate::db::{Db, DbResultExt, RowExt, is_unique_violation, new_id, now};
use crate::discovery;
use crate::history;
use crate::identity;
use crate::params::{self, Need, RepoRef};
use crate::repos::{self, RepoView};
use sqlx::any::AnyRow;

/// A release.
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct ReleaseView {
    /// Release id.
    pub release_id: String,
    /// Tag, unique per repository.
    pub tag: String,
    /// Title.
    pub title: String,
    /// Release notes.
    pub body: String,
    /// The commit released.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_id: Option<String>,
    /// Channel (`stable`, `beta`, ...).
    pub channel: String,
    /// True for a pre-release.
    pub pre_release: bool,
    /// Who published it.
    pub author: String,
    /// When it was published.
    pub created_at: String,
}

/// The release columns.
pub const RELEASE_COLUMNS: &str =
    "id, tag, title, body, commit_id, channel, pre_release, author, created_at";

impl ReleaseView {
    /// Reads a row selected with [`RELEASE_COLUMNS`].
    pub fn from_row(r: &AnyRow) -> Result<Self, ToolError> {
        Ok(ReleaseView {
            release_id: r.text("id")?,
            tag: r.text("tag")?,
            title: r.text("title")?,
            body: r.text("body")?,
            commit_id: r.opt_text("commit_id")?,
            channel: r.text("channel")?,
            pre_release: r.int("pre_release")? != 0,
            author: r.text("author")?,
            created_at: r.text("created_at")?,
        })
    }
}

/// The releases of a repository, newest first.
pub async fn releases(db: &Db, repo_id: &str) -> Result<Vec<ReleaseView>, ToolError> {
    let rows = sqlx::query(&format!(
        "SELECT {RELEASE_COLUMNS} FROM releases WHERE repo_id = $1 ORDER BY created_at DESC, tag DESC"
    ))
    .bind(repo_id)
    .fetch_all(db.pool())
    .await
    .db()?;
    rows.iter().map(ReleaseView::from_row).collect()
}

/// A list of releases.
#[schema(no_deserialize)]
pub struct ReleaseList {
    /// Repository id.
    pub repo_id: String,
    /// Releases, newest first.
    pub releases: Vec<ReleaseView>,
    /// Number of releases.
    pub total: i64,
}

impl ReleaseList {
    /// The list for `repo_id`, its total derived from the releases.
    pub(crate) fn new(repo_id: String, releases: Vec<ReleaseView>) -> Self {
        Self {
            repo_id,
            total: releases.len() as i64,
            releases,
        }
    }
}

/// List a repository's releases, newest first.
#[tool(read_only, title = "List releases", category = "read")]
pub async fn musehub_list_releases(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
) -> Result<Json<ReleaseList>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    let releases = repos::releases(&db, &repo.repo_id).await?;
    Ok(Json(ReleaseList::new(repo.repo_id, releases)))
}

pub(crate) struct NewRelease<'a> {
    pub tag: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub commit_id: Option<String>,
    pub channel: &'a str,
    pub pre_release: bool,
}

pub(crate) fn valid_tag(tag: &str) -> bool {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    !tag.is_empty()
        && tag.len() <= 32
        && t.chars().next().is_some_and(|c| c.is_ascii_digit())
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_+".contains(c))
}

pub(crate) async fn create_release(
    db: &Db,
    handle: &str,
    repo: &RepoView,
    r: NewRelease<'_>,
) -> Result<ReleaseView, ToolError> {
    if !valid_tag(r.tag) {
        return Err(ToolError::invalid_argument(format!(
            "'{}' is not a release tag: use a version such as v1.0.0 or 1.2-beta",
            r.tag
        )));
    }
    params::require(r.title, "title")?;
    let commit_id = match r.commit_id {
        Some(c) => {
            if history::commit(db, &repo.repo_id, &c).await?.is_none() {
                return Err(ToolError::not_found(format!("Commit '{c}' not found.")));
            }
            Some(c)
        }
        None => history::branch_head(db, &repo.repo_id, &repo.default_branch)
            .await?
            .flatten(),
    };
    let id = new_id();
    let ts = now();
    let res = sqlx::query(
        "INSERT INTO releases (id, repo_id, tag, title, body, commit_id, channel, pre_release, author, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(&repo.repo_id)
    .bind(r.tag)
    .bind(r.title.trim())
    .bind(r.body)
    .bind(commit_id.clone())
    .bind(r.channel)
    .bind(i64::from(r.pre_release))
    .bind(handle)
    .bind(&ts)
    .execute(db.pool())
    .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(ToolError::new(
                "already_exists",
                format!("Release '{}' already exists.", r.tag),
            ));
        }
        Err(e) => return Err(crate::db::dberr(e)),
    }
    discovery::record_activity(
        db.pool(),
        Some(&repo.repo_id),
        handle,
        "release.published",
        &format!(
            "{handle} published {} of {}/{}",
            r.tag, repo.owner, repo.slug
        ),
    )
    .await?;
    Ok(ReleaseView {
        release_id: id,
        tag: r.tag.into(),
        title: r.title.trim().into(),
        body: r.body.into(),
        commit_id,
        channel: r.channel.into(),
        pre_release: r.pre_release,
        author: handle.into(),
        created_at: ts,
    })
}

/// Publish a release (owner and collaborators only): a version tag on a commit (default: the
/// head of the default branch), with notes and a channel.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    title = "Create a release",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_create_release(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "Version tag, such as v1.0.0 (unique in the repository).")] tag: String,
    #[arg(desc = "Release title.")] title: String,
    #[arg(desc = "Release notes (Markdown).")] body: Option<String>,
    #[arg(desc = "The commit to release (default: head of the default branch).")] commit_id: Option<
        String,
    >,
    #[arg(desc = "Release channel (default 'stable').")] channel: Option<String>,
) -> Result<Json<ReleaseView>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Maintain).await?;
    let channel = channel.unwrap_or_else(|| "stable".into());
    let release = create_release(
        &db,
        &handle,
        &repo,
        NewRelease {
            tag: &tag,
            title: &title,
            body: body.as_deref().unwrap_or(""),
            commit_id,
            pre_release: channel != "stable",
            channel: &channel,
        },
    )
    .await?;
    repos::notify_changed(ctx, &repo, &["", "releases"]);
    Ok(Json(release))
}

/// A repository's releases, newest first.
#[resource(uri = "musehub://repos/{owner}/{slug}/releases", name = "Releases", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_releases(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<ReleaseList>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    let releases = repos::releases(&db, &r.repo_id).await?;
    Ok(Json(ReleaseList::new(r.repo_id, releases)))
}

/// One release by tag.
#[resource(uri = "musehub://repos/{owner}/{slug}/releases/{tag}", name = "Single Release", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs, tag = complete_tags))]
pub async fn repo_release(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
    tag: String,
) -> Result<Json<repos::ReleaseView>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    repos::releases(&db, &r.repo_id)
        .await?
        .into_iter()
        .find(|x| x.tag == tag)
        .map(Json)
        .ok_or_else(|| ToolError::not_found(format!("Release '{tag}' not found.")))
}
