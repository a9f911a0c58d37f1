//! The domain plugin registry: browse, read and publish.

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

use crate::db::{Db, DbResultExt, is_unique_violation, new_id, now};
use crate::discovery::{self, DomainView};
use crate::identity;
use crate::params;

/// A page of domain plugins.
#[schema(no_deserialize)]
pub struct DomainList {
    /// Domains.
    pub domains: Vec<DomainView>,
    /// Number matching before paging.
    pub total: i64,
    /// Page size.
    pub limit: i64,
    /// Offset.
    pub offset: i64,
}

pub(crate) async fn all_domains(db: &Db) -> Result<Vec<DomainView>, ToolError> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM domains d ORDER BY d.verified DESC, d.author_slug, d.slug",
        discovery::DOMAIN_COLUMNS
    ))
    .fetch_all(db.pool())
    .await
    .db()?;
    rows.iter().map(DomainView::from_row).collect()
}

/// Browse the domain plugin registry (MIDI, code, genomics, ...): filter by text, viewer
/// type and verification, page with `limit` (1-100, default 20) and `offset`.
#[tool(read_only, title = "List domains", category = "read")]
pub async fn musehub_list_domains(
    State(db): State<Db>,
    #[arg(desc = "Text to match in id, name or description.")] query: Option<String>,
    #[arg(desc = "Only domains with this viewer type.")] viewer_type: Option<String>,
    #[arg(desc = "Only verified (true) or unverified (false) domains.")] verified: Option<bool>,
    #[arg(desc = "Page size, 1-100 (default 20).")] limit: Option<i64>,
    #[arg(desc = "Results to skip (default 0).")] offset: Option<i64>,
) -> Result<Json<DomainList>, ToolError> {
    let limit = params::clamp_limit(limit, 20);
    let offset = offset.unwrap_or(0).max(0);
    let q = query.unwrap_or_default().to_lowercase();
    let mut domains = all_domains(&db).await?;
    domains.retain(|d| {
        let text = format!("{} {} {}", d.scoped_id, d.display_name, d.description).to_lowercase();
        (q.is_empty() || text.contains(&q))
            && viewer_type.as_ref().is_none_or(|v| &d.viewer_type == v)
            && verified.is_none_or(|v| d.verified == v)
    });
    let total = domains.len() as i64;
    let domains = domains
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    Ok(Json(DomainList {
        domains,
        total,
        limit,
        offset,
    }))
}

/// A domain manifest with install hints.
#[schema(no_deserialize)]
pub struct DomainManifest {
    /// The domain.
    #[serde(flatten)]
    pub domain: DomainView,
    /// How to install the plugin locally.
    pub install_command: String,
    /// How to create a repository that uses it.
    pub create_repo_example: Value,
}

pub(crate) async fn domain_manifest(
    db: &Db,
    author: &str,
    slug: &str,
) -> Result<DomainManifest, ToolError> {
    let domain = discovery::domain(db, author, slug)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("Domain '@{author}/{slug}' not found.")))?;
    Ok(DomainManifest {
        install_command: format!("muse domain install {}", domain.scoped_id),
        create_repo_example: json!({
            "tool": "musehub_create_repo",
            "arguments": { "name": "my-project", "domain": domain.scoped_id },
        }),
        domain,
    })
}

/// Read a domain plugin's manifest by scoped id (`@author/slug`).
#[tool(read_only, title = "Get a domain", category = "read")]
pub async fn musehub_get_domain(
    State(db): State<Db>,
    #[arg(desc = "The domain's scoped id, '@author/slug'.")] scoped_id: String,
) -> Result<Json<DomainManifest>, ToolError> {
    let (author, slug) = discovery::parse_scoped_id(&scoped_id).ok_or_else(|| {
        ToolError::new(
            "invalid_scoped_id",
            format!("'{scoped_id}' is not a scoped domain id of the form '@author/slug'."),
        )
    })?;
    Ok(Json(domain_manifest(&db, &author, &slug).await?))
}

/// A published domain.
#[schema(no_deserialize)]
pub struct PublishedDomain {
    /// The domain.
    #[serde(flatten)]
    pub domain: discovery::DomainView,
}

/// Publish a domain plugin under the caller's own handle (`author_slug` must be the
/// caller's handle); `@author/slug` must be new.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    title = "Publish a domain",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_publish_domain(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Your handle: the '@author' part of the domain id.")] author_slug: String,
    #[arg(desc = "The domain's slug.")] slug: String,
    #[arg(desc = "Display name.")] display_name: String,
    #[arg(desc = "What the domain models.")] description: String,
    #[arg(desc = "Capabilities manifest: dimensions, merge semantics, file types, ...")]
    capabilities: Value,
    #[arg(desc = "The viewer to use (e.g. 'piano_roll', 'code', 'generic').")] viewer_type: String,
    #[arg(desc = "Version (default '0.1.0').")] version: Option<String>,
) -> Result<Json<PublishedDomain>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let author = author_slug.trim_start_matches('@').to_string();
    if author != handle {
        return Err(ToolError::forbidden(format!(
            "You can only publish domains under your own handle '@{handle}', not '@{author}'."
        )));
    }
    if discovery::parse_scoped_id(&format!("@{author}/{slug}")).is_none() {
        return Err(ToolError::new(
            "invalid_scoped_id",
            format!("'@{author}/{slug}' is not a valid domain id."),
        ));
    }
    params::require(&display_name, "display_name")?;
    params::require(&viewer_type, "viewer_type")?;
    if !capabilities.is_object() {
        return Err(ToolError::invalid_argument(
            "`capabilities` must be an object",
        ));
    }
    let res = sqlx::query(
        "INSERT INTO domains (id, author_slug, slug, display_name, description, capabilities, viewer_type, version, verified, published_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)",
    )
    .bind(new_id())
    .bind(&author)
    .bind(&slug)
    .bind(display_name.trim())
    .bind(&description)
    .bind(capabilities.to_string())
    .bind(&viewer_type)
    .bind(version.unwrap_or_else(|| "0.1.0".into()))
    .bind(&handle)
    .bind(now())
    .execute(db.pool())
    .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(ToolError::new(
                "domain_conflict",
                format!("Domain '@{author}/{slug}' already exists."),
            ));
        }
        Err(e) => return Err(crate::db::dberr(e)),
    }
    let domain = discovery::domain(&db, &author, &slug)
        .await?
        .ok_or_else(|| ToolError::internal("the new domain vanished"))?;
    Ok(Json(PublishedDomain { domain }))
}
