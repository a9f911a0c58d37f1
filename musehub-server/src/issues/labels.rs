//! Issue labels: created by maintainers, checked when an issue names them.

use musehub_mcp::prelude::*;

use crate::db::{Db, DbResultExt, RowExt, is_unique_violation, new_id, now};
use crate::identity;
use crate::params::{self, Need, RepoRef};
use crate::repos::{self, RepoView};

async fn known_labels(db: &Db, repo_id: &str) -> Result<Vec<String>, ToolError> {
    let rows = sqlx::query("SELECT name FROM labels WHERE repo_id = $1 ORDER BY name")
        .bind(repo_id)
        .fetch_all(db.pool())
        .await
        .db()?;
    rows.iter().map(|r| r.text("name")).collect()
}

/// Refuses labels the repository does not have, listing the ones it has.
pub(crate) async fn check_labels(
    db: &Db,
    repo: &RepoView,
    labels: &[String],
) -> Result<(), ToolError> {
    let known = known_labels(db, &repo.repo_id).await?;
    let unknown: Vec<&String> = labels.iter().filter(|l| !known.contains(l)).collect();
    if !unknown.is_empty() {
        return Err(ToolError::invalid_argument(format!(
            "unknown label(s) {}; this repository's labels are: {} (create one with musehub_create_label)",
            unknown
                .iter()
                .map(|l| format!("'{l}'"))
                .collect::<Vec<_>>()
                .join(", "),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    Ok(())
}

/// A label.
#[schema(no_deserialize)]
pub struct LabelView {
    /// Label id.
    pub label_id: String,
    /// Repository id.
    pub repo_id: String,
    /// Name, unique per repository.
    pub name: String,
    /// Colour, six hex digits without '#'.
    pub color: String,
    /// Description.
    pub description: String,
}

/// Create an issue label (owner and collaborators only); names are unique per repository.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    title = "Create a label",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_create_label(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "Label name.")] name: String,
    #[arg(desc = "Colour: six hex digits, no '#' (e.g. 'ff8800').")] color: String,
    #[arg(desc = "What the label means.")] description: Option<String>,
) -> Result<Json<LabelView>, ToolError> {
    identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Maintain).await?;
    params::require(&name, "name")?;
    let color = color.trim_start_matches('#').to_ascii_lowercase();
    if color.len() != 6 || !color.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ToolError::invalid_argument(
            "`color` must be six hex digits, such as 'ff8800'",
        ));
    }
    let id = new_id();
    let description = description.unwrap_or_default();
    let res = sqlx::query(
        "INSERT INTO labels (id, repo_id, name, color, description, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&repo.repo_id)
    .bind(name.trim())
    .bind(&color)
    .bind(&description)
    .bind(now())
    .execute(db.pool())
    .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(ToolError::new(
                "already_exists",
                format!("Label '{}' already exists.", name.trim()),
            ));
        }
        Err(e) => return Err(crate::db::dberr(e)),
    }
    Ok(Json(LabelView {
        label_id: id,
        repo_id: repo.repo_id,
        name: name.trim().into(),
        color,
        description,
    }))
}
