//! Creating, starring and forking repositories.

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

use muse_core::Manifest;

use crate::blobs::BlobError;
use crate::db::{self, Db, DbResultExt, is_unique_violation, new_id, now};
use crate::discovery;
use crate::history;
use crate::identity;
use crate::params::{self, Need, RepoRef};
use crate::repos::{self, RepoContext, RepoView};

/// Repository visibility.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone can read it.
    Public,
    /// Only the owner and collaborators can read it.
    Private,
}

/// Create a repository owned by the caller. With `initialize` (default true) it gets a
/// `main` branch with an initial commit holding a README. `domain` names a registered domain
/// plugin (default '@muse/midi') and `domain_meta` is stored with it.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    title = "Create a repository",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_create_repo(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository name; the slug is derived from it.")] name: String,
    #[arg(desc = "A short description.")] description: Option<String>,
    #[arg(desc = "public (default) or private.")] visibility: Option<Visibility>,
    #[arg(desc = "Domain plugin, '@author/slug' (default '@muse/midi').")] domain: Option<String>,
    #[arg(desc = "Domain-specific metadata (key, tempo, instrumentation, ...).")]
    domain_meta: Option<Value>,
    #[arg(desc = "Tags for discovery.")] tags: Option<Vec<String>>,
    #[arg(desc = "Create a main branch with an initial commit (default true).")] initialize: Option<
        bool,
    >,
) -> Result<Json<RepoContext>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    params::require(&name, "name")?;
    let slug = repos::slugify(&name);
    if slug.is_empty() {
        return Err(ToolError::invalid_argument(
            "`name` must contain at least one letter or digit",
        ));
    }
    let domain = domain.unwrap_or_else(|| "@muse/midi".into());
    let (da, ds) = discovery::parse_scoped_id(&domain).ok_or_else(|| {
        ToolError::new(
            "invalid_scoped_id",
            format!("'{domain}' is not a domain id of the form '@author/slug'."),
        )
    })?;
    if discovery::domain(&db, &da, &ds).await?.is_none() {
        return Err(ToolError::not_found(format!(
            "Domain '@{da}/{ds}' is not registered; see musehub_list_domains."
        )));
    }
    let domain_meta = match domain_meta {
        None | Some(Value::Null) => json!({}),
        Some(v @ Value::Object(_)) => v,
        Some(_) => {
            return Err(ToolError::invalid_argument(
                "`domain_meta` must be an object",
            ));
        }
    };
    let tags: Vec<String> = tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    let visibility = match visibility.unwrap_or(Visibility::Public) {
        Visibility::Public => "public",
        Visibility::Private => "private",
    };
    let repo_id = new_id();
    let ts = now();
    let mut tx = db.pool().begin().await.db()?;
    let inserted = sqlx::query(
        "INSERT INTO repos (id, owner, slug, name, description, visibility, domain, domain_meta, tags, \
         default_branch, forked_from, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'main', NULL, $10, $10)",
    )
    .bind(&repo_id)
    .bind(&handle)
    .bind(&slug)
    .bind(name.trim())
    .bind(description.unwrap_or_default())
    .bind(visibility)
    .bind(format!("@{da}/{ds}"))
    .bind(domain_meta.to_string())
    .bind(json!(tags).to_string())
    .bind(&ts)
    .execute(&mut *tx)
    .await;
    if let Err(e) = inserted {
        if is_unique_violation(&e) {
            return Err(ToolError::new(
                "already_exists",
                format!("You already have a repository named '{slug}'."),
            ));
        }
        return Err(crate::db::dberr(e));
    }
    if initialize.unwrap_or(true) {
        // Ids by the same scheme as every pushed commit, so clients can verify them.
        let readme = format!("# {}\n", name.trim());
        let object_id = db
            .blobs()
            .put(readme.as_bytes())
            .await
            .map_err(BlobError::into_tool)?;
        let manifest = Manifest::from([("README.md".to_string(), object_id.clone())]);
        let snapshot_id = muse_core::snapshot_id(&manifest);
        let commit_id =
            history::hub_commit_id(&[], Some(&snapshot_id), &handle, &ts, "Initial commit")?;
        history::insert_object(
            &mut tx,
            &repo_id,
            &object_id,
            "README.md",
            readme.len() as i64,
            &object_id,
            &ts,
        )
        .await?;
        sqlx::query(
            "INSERT INTO snapshots (repo_id, snapshot_id, manifest, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&repo_id)
        .bind(&snapshot_id)
        .bind(json!({ "README.md": object_id }).to_string())
        .bind(&ts)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query(
            "INSERT INTO commits (repo_id, commit_id, parent_ids, author, message, timestamp, snapshot_id, branch, pushed_at) \
             VALUES ($1, $2, '[]', $3, 'Initial commit', $4, $5, 'main', $4)",
        )
        .bind(&repo_id)
        .bind(&commit_id)
        .bind(&handle)
        .bind(&ts)
        .bind(&snapshot_id)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query(
            "INSERT INTO branches (id, repo_id, name, head_commit_id, created_at, updated_at) VALUES ($1, $2, 'main', $3, $4, $4)",
        )
        .bind(new_id())
        .bind(&repo_id)
        .bind(&commit_id)
        .bind(&ts)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    discovery::record_activity(
        &mut *tx,
        Some(&repo_id),
        &handle,
        "repo.created",
        &format!("{handle} created {handle}/{slug}"),
    )
    .await?;
    tx.commit().await.db()?;
    let repo = repos::find_repo(&db, &RepoRef::new(Some(repo_id), None, None))
        .await?
        .ok_or_else(|| ToolError::internal("the new repository vanished"))?;
    Ok(Json(repos::context(&db, repo).await?))
}

/// A star.
#[schema(no_deserialize)]
pub struct StarResult {
    /// Repository id.
    pub repo_id: String,
    /// Always true.
    pub starred: bool,
    /// The repository's star count.
    pub stars: i64,
}

/// Star a repository (idempotent: starring twice keeps one star).
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = true,
    title = "Star a repository",
    category = "write"
)]
pub async fn musehub_star_repo(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
) -> Result<Json<StarResult>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    sqlx::query(
        "INSERT INTO stars (repo_id, handle, created_at) VALUES ($1, $2, $3) ON CONFLICT (repo_id, handle) DO NOTHING",
    )
    .bind(&repo.repo_id)
    .bind(&handle)
    .bind(now())
    .execute(db.pool())
    .await
    .db()?;
    let stars = db::count(
        &db,
        "SELECT COUNT(*) AS n FROM stars WHERE repo_id = $1",
        &repo.repo_id,
    )
    .await?;
    repos::notify_changed(ctx, &repo, &[""]);
    Ok(Json(StarResult {
        repo_id: repo.repo_id,
        starred: true,
        stars,
    }))
}

/// Fork a public repository into the caller's account, with its branches, history,
/// snapshots and artifacts.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    title = "Fork a repository",
    category = "write"
)]
pub async fn musehub_fork_repo(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
) -> Result<Json<RepoView>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let src = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    if !src.is_public() {
        return Err(ToolError::forbidden(
            "Only public repositories can be forked.",
        ));
    }
    if src.owner == handle {
        return Err(ToolError::invalid_argument(
            "You cannot fork your own repository.",
        ));
    }
    let new_repo = new_id();
    let ts = now();
    // Read before the transaction: with one connection (in-memory SQLite) a read on the pool
    // inside it would wait for the transaction's own connection.
    let src_branches = history::branches(&db, &src.repo_id).await?;
    let mut tx = db.pool().begin().await.db()?;
    let res = sqlx::query(
        "INSERT INTO repos (id, owner, slug, name, description, visibility, domain, domain_meta, tags, \
         default_branch, forked_from, created_at, updated_at) \
         SELECT $1, $2, slug, name, description, visibility, domain, domain_meta, tags, default_branch, id, $3, $3 \
         FROM repos WHERE id = $4",
    )
    .bind(&new_repo)
    .bind(&handle)
    .bind(&ts)
    .bind(&src.repo_id)
    .execute(&mut *tx)
    .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(ToolError::new(
                "already_exists",
                format!("You already have a repository named '{}'.", src.slug),
            ));
        }
        Err(e) => return Err(crate::db::dberr(e)),
    }
    for sql in [
        "INSERT INTO commits (repo_id, commit_id, parent_ids, author, message, timestamp, snapshot_id, branch, pushed_at) \
         SELECT $1, commit_id, parent_ids, author, message, timestamp, snapshot_id, branch, pushed_at FROM commits WHERE repo_id = $2",
        "INSERT INTO snapshots (repo_id, snapshot_id, manifest, created_at) \
         SELECT $1, snapshot_id, manifest, created_at FROM snapshots WHERE repo_id = $2",
        "INSERT INTO objects (repo_id, object_id, path, size_bytes, mime_type, content_hash, content_b64, created_at) \
         SELECT $1, object_id, path, size_bytes, mime_type, content_hash, content_b64, created_at FROM objects WHERE repo_id = $2",
    ] {
        sqlx::query(sql)
            .bind(&new_repo)
            .bind(&src.repo_id)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    for b in src_branches {
        sqlx::query(
            "INSERT INTO branches (id, repo_id, name, head_commit_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(new_id())
        .bind(&new_repo)
        .bind(&b.name)
        .bind(b.head_commit_id)
        .bind(&ts)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    discovery::record_activity(
        &mut *tx,
        Some(&new_repo),
        &handle,
        "repo.forked",
        &format!(
            "{handle} forked {}/{} to {handle}/{}",
            src.owner, src.slug, src.slug
        ),
    )
    .await?;
    tx.commit().await.db()?;
    let repo = repos::find_repo(&db, &RepoRef::new(Some(new_repo), None, None))
        .await?
        .ok_or_else(|| ToolError::internal("the fork vanished"))?;
    Ok(Json(repo))
}
