//! The discovery resources: trending repositories and the domain registry.

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

use crate::completions::{complete_domain_authors, complete_domain_slugs};
use crate::db::Db;
use crate::discovery::{self, DomainList, DomainManifest};

/// The 20 most-starred public repositories.
#[resource(
    uri = "musehub://trending",
    name = "Trending Repositories",
    mime_type = "application/json"
)]
pub async fn trending(State(db): State<Db>) -> Result<Json<Value>, ToolError> {
    let mut repos = discovery::visible_repos(&db, None).await?;
    repos.truncate(20);
    Ok(Json(json!({ "trending": repos })))
}

/// The registered domain plugins (at most 100).
#[resource(
    uri = "muse://domains",
    name = "Registered Domain Plugins",
    mime_type = "application/json"
)]
pub async fn domains(State(db): State<Db>) -> Result<Json<DomainList>, ToolError> {
    let mut all = discovery::all_domains(&db).await?;
    let total = all.len() as i64;
    all.truncate(100);
    Ok(Json(DomainList {
        domains: all,
        total,
        limit: 100,
        offset: 0,
    }))
}

/// A domain plugin's manifest, with install and usage hints.
#[resource(uri = "muse://domains/{author}/{slug}", name = "Domain Plugin Manifest", mime_type = "application/json", complete(author = complete_domain_authors, slug = complete_domain_slugs))]
pub async fn domain_manifest(
    State(db): State<Db>,
    author: String,
    slug: String,
) -> Result<Json<DomainManifest>, ToolError> {
    Ok(Json(
        discovery::domain_manifest(&db, author.trim_start_matches('@'), &slug).await?,
    ))
}
