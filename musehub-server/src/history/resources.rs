//! The history resources: branches, commits, the file tree and one file at a ref, insights and
//! the timeline.

use musehub_mcp::IntoResourceContents;
use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

use crate::blobs::BlobError;
use crate::completions::{complete_commits, complete_refs, complete_slugs, complete_users};
use crate::db::{self, Db, DbResultExt};
use crate::history::{
    self, BranchList, CommitDetail, CommitList, InsightDimension, Insights, ObjectView,
};
use crate::issues::{self, IssueStateFilter};
use crate::proposals::{self, PrStateFilter};
use crate::repos::{self, RepoView};

/// A repository's branches.
#[resource(uri = "musehub://repos/{owner}/{slug}/branches", name = "Repository Branches", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_branches(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<BranchList>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    let branches = history::branches(&db, &r.repo_id).await?;
    Ok(Json(BranchList::new(r.repo_id, branches)))
}

/// The 20 newest commits of a repository.
#[resource(uri = "musehub://repos/{owner}/{slug}/commits", name = "Repository Commits", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_commits(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<CommitList>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    let total = db::count(
        &db,
        "SELECT COUNT(*) AS n FROM commits WHERE repo_id = $1",
        &r.repo_id,
    )
    .await?;
    let rows = sqlx::query(&format!(
        "SELECT {} FROM commits WHERE repo_id = $1 ORDER BY timestamp DESC, commit_id LIMIT 20",
        history::COMMIT_COLUMNS
    ))
    .bind(&r.repo_id)
    .fetch_all(db.pool())
    .await
    .db()?;
    let commits = rows
        .iter()
        .map(history::CommitView::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(CommitList {
        repo_id: r.repo_id,
        branch: None,
        returned: commits.len() as i64,
        total,
        commits,
    }))
}

/// One commit with its snapshot's files.
#[resource(uri = "musehub://repos/{owner}/{slug}/commits/{commit_id}", name = "Single Commit", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs, commit_id = complete_commits))]
pub async fn repo_commit(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
    commit_id: String,
) -> Result<Json<CommitDetail>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    Ok(Json(history::commit_detail(&db, &r, &commit_id).await?))
}

async fn tree_at(
    db: &Db,
    r: &RepoView,
    ref_name: &str,
) -> Result<(String, Vec<ObjectView>), ToolError> {
    let commit = history::resolve_ref(db, r, ref_name)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("Ref '{ref_name}' not found.")))?;
    let mut files = Vec::new();
    for (path, oid) in history::manifest(db, &r.repo_id, &commit).await? {
        if let Some(o) = history::object(db, &r.repo_id, &oid).await? {
            // One object may sit at several paths (identical files): each entry shows its own.
            files.push(ObjectView { path, ..o });
        }
    }
    Ok((commit, files))
}

/// The files at a ref (branch, tag or commit).
#[resource(uri = "musehub://repos/{owner}/{slug}/tree/{+ref}", name = "File Tree", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs, r#ref = complete_refs))]
pub async fn repo_tree(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
    #[arg(rename = "ref")] ref_name: String,
) -> Result<Json<Value>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    let (commit, files) = tree_at(&db, &r, &ref_name).await?;
    Ok(Json(json!({
        "repo_id": r.repo_id, "ref": ref_name, "commit_id": commit, "files": files, "total": files.len(),
    })))
}

/// One file at a ref: its metadata, then its bytes (a `blob` content with the file's MIME
/// type) when they are within the hub's inline read limit; `download_url` streams any size. The path may contain `/` (`tracks/bridge.mid`): it is an
/// RFC 6570 reserved expansion, which never admits empty, `.` or `..` segments.
#[resource(uri = "musehub://repos/{owner}/{slug}/blob/{ref}/{+path}", name = "File Metadata", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs, r#ref = complete_refs))]
pub async fn repo_blob(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
    #[arg(rename = "ref")] ref_name: String,
    path: String,
) -> Result<BlobContents, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    let (commit, files) = tree_at(&db, &r, &ref_name).await?;
    let file = files
        .into_iter()
        .find(|f| f.path == path)
        .ok_or_else(|| ToolError::not_found(format!("No file '{path}' at '{}'.", ref_name)))?;
    let download_url = history::object_url(&db, &r, &file.object_id);
    let mut meta = json!({
        "repo_id": r.repo_id, "ref": ref_name, "commit_id": commit, "file": file,
        "download_url": download_url,
    });
    let limit = db.settings().max_inline_read_bytes;
    let bytes = if file.size_bytes >= 0 && file.size_bytes as u64 <= limit {
        Some(
            db.blobs()
                .read(&file.content_hash)
                .await
                .map_err(BlobError::into_tool)?,
        )
    } else {
        meta["content_omitted"] = json!(format!(
            "{} bytes, more than the {limit} bytes a resource read carries: GET download_url",
            file.size_bytes
        ));
        None
    };
    Ok(BlobContents {
        meta,
        mime_type: file.mime_type.clone(),
        bytes,
    })
}

/// One file at a ref: its metadata as JSON, then (up to the inline read limit) its bytes as a
/// `blob` content with the file's own MIME type.
pub struct BlobContents {
    meta: Value,
    mime_type: String,
    bytes: Option<Vec<u8>>,
}

impl IntoResourceContents for BlobContents {
    fn into_contents(
        self,
        uri: &str,
        _mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, McpError> {
        let mut out = vec![ResourceContents::text(
            uri,
            Some("application/json"),
            self.meta.to_string(),
        )];
        if let Some(bytes) = &self.bytes {
            out.push(ResourceContents::blob(uri, Some(&self.mime_type), bytes));
        }
        Ok(out)
    }
}

/// The overview analytics of a repository at a ref.
#[resource(uri = "musehub://repos/{owner}/{slug}/insights/{+ref}", name = "Domain Insights", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs, r#ref = complete_refs))]
pub async fn repo_insights(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
    #[arg(rename = "ref")] ref_name: String,
) -> Result<Json<Insights>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    Ok(Json(
        history::insights(&db, &r, InsightDimension::Overview, Some(ref_name)).await?,
    ))
}

/// A repository's timeline: commits, issues, proposals and releases in time order (newest
/// first, at most 100 entries).
#[resource(uri = "musehub://repos/{owner}/{slug}/timeline", name = "State Timeline", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_timeline(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<Value>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    let mut entries: Vec<(String, Value)> = Vec::new();
    for c in history::all_commits(&db, &r.repo_id).await?.into_values() {
        entries.push((
            c.timestamp.clone(),
            json!({"kind": "commit", "at": c.timestamp, "commit_id": c.commit_id, "author": c.author, "summary": c.message, "branch": c.branch}),
        ));
    }
    for i in issues::list_issues(&db, &r.repo_id, IssueStateFilter::All, None).await? {
        entries.push((
            i.created_at.clone(),
            json!({"kind": "issue", "at": i.created_at, "number": i.number, "author": i.author, "summary": i.title, "state": i.state}),
        ));
    }
    for p in proposals::list_prs(&db, &r.repo_id, PrStateFilter::All).await? {
        entries.push((
            p.created_at.clone(),
            json!({"kind": "pull_request", "at": p.created_at, "number": p.number, "author": p.author, "summary": p.title, "state": p.state}),
        ));
    }
    for rel in repos::releases(&db, &r.repo_id).await? {
        entries.push((
            rel.created_at.clone(),
            json!({"kind": "release", "at": rel.created_at, "tag": rel.tag, "author": rel.author, "summary": rel.title}),
        ));
    }
    entries.sort_by(|a, b| b.0.cmp(&a.0));
    entries.truncate(100);
    Ok(Json(json!({
        "repo_id": r.repo_id,
        "timeline": entries.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    })))
}
