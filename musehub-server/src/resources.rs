//! The 12 static resources and 17 resource templates. Templates are routed by the
//! framework's matcher; a missing or invisible item is a -32002 "resource not found" error,
//! the `musehub://me*` resources need a signed-in caller (-32001 otherwise).

use std::collections::BTreeMap;

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

use crate::completions::{
    complete_commits, complete_domain_authors, complete_domain_slugs, complete_issue_numbers,
    complete_prs, complete_refs, complete_slugs, complete_tags, complete_users,
};
use crate::db::{Db, DbResultExt, RowExt};
use crate::model::{self, Need, ObjectView, RepoRef, RepoView};
use crate::tools::read::{
    self, BranchList, CommitDetail, CommitList, DomainList, DomainManifest, InsightDimension,
    Insights, IssueDetail, IssueList, IssueStateFilter, PrDetail, PrList, PrStateFilter,
    ReleaseList, RemoteInfo, RepoContext,
};

fn signed_in(caller: &Caller, uri: &str) -> Result<String, ToolError> {
    caller
        .handle()
        .map(str::to_string)
        .ok_or_else(|| ToolError::unauthenticated(format!("Authentication required for {uri}")))
}

async fn repo(db: &Db, caller: &Caller, owner: &str, slug: &str) -> Result<RepoView, ToolError> {
    model::resolve_repo(db, caller, &RepoRef::by_name(owner, slug), Need::Read).await
}

/// The 20 most-starred public repositories.
#[resource(
    uri = "musehub://trending",
    name = "Trending Repositories",
    mime_type = "application/json"
)]
pub async fn trending(State(db): State<Db>) -> Result<Json<Value>, ToolError> {
    let mut repos = read::visible_repos(&db, None).await?;
    repos.truncate(20);
    Ok(Json(json!({ "trending": repos })))
}

/// The signed-in caller's profile and repositories.
#[resource(
    uri = "musehub://me",
    name = "My Profile",
    mime_type = "application/json"
)]
pub async fn me(caller: Caller, State(db): State<Db>) -> Result<Json<Value>, ToolError> {
    let handle = signed_in(&caller, "musehub://me")?;
    let profile = user_profile(&db, &caller, &handle).await.ok();
    let rows = sqlx::query(&format!(
        "SELECT {} FROM repos r WHERE r.owner = $1 ORDER BY r.updated_at DESC LIMIT 20",
        model::REPO_COLUMNS
    ))
    .bind(&handle)
    .fetch_all(db.pool())
    .await
    .db()?;
    let repos = rows
        .iter()
        .map(RepoView::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({
        "handle": handle,
        "is_agent": caller.identity.as_ref().is_some_and(|i| i.is_agent),
        "profile": profile.map(|p| p.0),
        "repos": repos,
    })))
}

async fn events(db: &Db, sql: &str, handle: &str) -> Result<Vec<Value>, ToolError> {
    let rows = sqlx::query(sql)
        .bind(handle)
        .fetch_all(db.pool())
        .await
        .db()?;
    rows.iter()
        .map(|r| {
            Ok(json!({
                "event_id": r.text("id")?,
                "repo_id": r.opt_text("repo_id")?,
                "actor": r.text("actor")?,
                "kind": r.text("kind")?,
                "summary": r.text("summary")?,
                "created_at": r.text("created_at")?,
            }))
        })
        .collect()
}

/// What others did on the caller's repositories, newest first (at most 50).
#[resource(
    uri = "musehub://me/notifications",
    name = "My Notifications",
    mime_type = "application/json"
)]
pub async fn my_notifications(
    caller: Caller,
    State(db): State<Db>,
) -> Result<Json<Value>, ToolError> {
    let handle = signed_in(&caller, "musehub://me/notifications")?;
    let notifications = events(
        &db,
        "SELECT a.id, a.repo_id, a.actor, a.kind, a.summary, a.created_at FROM activity a \
         WHERE a.actor <> $1 AND a.repo_id IN (SELECT id FROM repos WHERE owner = $1 \
         UNION SELECT repo_id FROM collaborators WHERE handle = $1) \
         ORDER BY a.created_at DESC LIMIT 50",
        &handle,
    )
    .await?;
    Ok(Json(
        json!({ "handle": handle, "notifications": notifications }),
    ))
}

/// The repositories the caller starred.
#[resource(
    uri = "musehub://me/starred",
    name = "My Starred Repositories",
    mime_type = "application/json"
)]
pub async fn my_starred(caller: Caller, State(db): State<Db>) -> Result<Json<Value>, ToolError> {
    let handle = signed_in(&caller, "musehub://me/starred")?;
    let rows = sqlx::query(&format!(
        "SELECT {} FROM repos r JOIN stars st ON st.repo_id = r.id WHERE st.handle = $1 ORDER BY st.created_at DESC",
        model::REPO_COLUMNS
    ))
    .bind(&handle)
    .fetch_all(db.pool())
    .await
    .db()?;
    let mut repos = Vec::new();
    for r in &rows {
        let repo = RepoView::from_row(r)?;
        if model::can_read(&db, &repo, Some(&handle)).await? {
            repos.push(repo);
        }
    }
    Ok(Json(
        json!({ "handle": handle, "starred": repos, "total": repos.len() }),
    ))
}

/// Activity on the caller's own and starred repositories, newest first (at most 50).
#[resource(
    uri = "musehub://me/feed",
    name = "My Activity Feed",
    mime_type = "application/json"
)]
pub async fn my_feed(caller: Caller, State(db): State<Db>) -> Result<Json<Value>, ToolError> {
    let handle = signed_in(&caller, "musehub://me/feed")?;
    let events = events(
        &db,
        "SELECT a.id, a.repo_id, a.actor, a.kind, a.summary, a.created_at FROM activity a \
         WHERE a.actor = $1 OR a.repo_id IN (SELECT id FROM repos WHERE owner = $1 \
         UNION SELECT repo_id FROM stars WHERE handle = $1 \
         UNION SELECT repo_id FROM collaborators WHERE handle = $1) \
         ORDER BY a.created_at DESC LIMIT 50",
        &handle,
    )
    .await?;
    Ok(Json(json!({ "handle": handle, "events": events })))
}

/// The caller's agent tokens that have not expired or been revoked (names and expiry, never
/// the tokens).
#[resource(
    uri = "musehub://me/tokens",
    name = "My Active Agent Tokens",
    mime_type = "application/json"
)]
pub async fn my_tokens(caller: Caller, State(db): State<Db>) -> Result<Json<Value>, ToolError> {
    let handle = signed_in(&caller, "musehub://me/tokens")?;
    let now = crate::db::now();
    let rows = sqlx::query(
        "SELECT id, agent_name, expires_at, created_at FROM agent_tokens WHERE handle = $1 AND expires_at > $2 \
         AND revoked_at IS NULL ORDER BY created_at DESC",
    )
    .bind(&handle)
    .bind(&now)
    .fetch_all(db.pool())
    .await
    .db()?;
    let tokens = rows
        .iter()
        .map(|r| {
            Ok(json!({
                "token_id": r.text("id")?,
                "agent_name": r.text("agent_name")?,
                "expires_at": r.text("expires_at")?,
                "created_at": r.text("created_at")?,
            }))
        })
        .collect::<Result<Vec<_>, ToolError>>()?;
    Ok(Json(json!({ "handle": handle, "tokens": tokens })))
}

fn doc(uri: &str, title: &str, content: &str) -> Json<Value> {
    Json(json!({ "uri": uri, "title": title, "content": content }))
}

/// What Muse is: version control for multi-dimensional state.
#[resource(
    uri = "muse://docs/overview",
    name = "Muse Paradigm Overview",
    mime_type = "application/json"
)]
pub fn doc_overview() -> Json<Value> {
    doc(
        "muse://docs/overview",
        "Muse Paradigm Overview",
        "Muse is version control for multi-dimensional state. A repository holds commits; each commit \
         records a snapshot (a manifest of paths to content-addressed objects) and its parents. A domain \
         plugin (MIDI, code, genomics, ...) tells Muse how to diff and merge along each of its dimensions \
         (for MIDI: melodic, harmonic, rhythmic, structural, dynamic, ...). MuseHub hosts repositories, \
         with issues, pull requests, reviews and releases around them.",
    )
}

/// The MuseDomainPlugin protocol.
#[resource(
    uri = "muse://docs/protocol",
    name = "MuseDomainPlugin Protocol Spec",
    mime_type = "application/json"
)]
pub fn doc_protocol() -> Json<Value> {
    doc(
        "muse://docs/protocol",
        "MuseDomainPlugin Protocol Spec",
        "A domain plugin implements: snapshot(workdir) -> manifest; diff(base, head) -> changes per \
         dimension; merge(base, ours, theirs) -> result or conflicts; and a manifest declaring its \
         dimensions, file types and viewer. Plugins are published to MuseHub as '@author/slug' with \
         musehub_publish_domain.",
    )
}

/// Conflict-free replicated data types in Muse.
#[resource(
    uri = "muse://docs/crdt",
    name = "Muse CRDT Reference",
    mime_type = "application/json"
)]
pub fn doc_crdt() -> Json<Value> {
    doc(
        "muse://docs/crdt",
        "Muse CRDT Reference",
        "Dimensions may declare CRDT merge semantics: last-writer-wins registers for scalar settings \
         (tempo, key), observed-remove sets for note collections, and sequence CRDTs for ordered \
         material. A dimension with CRDT semantics never conflicts; the others fall back to three-way \
         merge with conflicts reported per dimension.",
    )
}

/// How to write a domain plugin.
#[resource(
    uri = "muse://docs/domains",
    name = "Domain Plugin Authoring Guide",
    mime_type = "application/json"
)]
pub fn doc_domains() -> Json<Value> {
    doc(
        "muse://docs/domains",
        "Domain Plugin Authoring Guide",
        "1. Choose the dimensions your domain versions. 2. Implement snapshot, diff and merge. 3. Declare \
         capabilities (dimensions, merge semantics, file types) and a viewer type. 4. Publish with \
         musehub_publish_domain under your own handle; repositories then name it in their domain field.",
    )
}

/// How Muse merges.
#[resource(
    uri = "muse://docs/merge",
    name = "Muse Merge Semantics",
    mime_type = "application/json"
)]
pub fn doc_merge() -> Json<Value> {
    doc(
        "muse://docs/merge",
        "Muse Merge Semantics",
        "Muse merges per dimension: changes on different dimensions never conflict; changes on the same \
         dimension merge by the domain's rules (CRDT or three-way). On MuseHub a pull request merge is \
         three-way on the snapshots, path by path, against the newest common ancestor of the two branches: \
         a file changed (added, edited or deleted) on one side keeps that change, the same change on both \
         sides is kept once, and a path changed differently on both sides is a conflict. A merge with \
         conflicts is refused with code merge_conflict and the list of conflicting paths, each with the \
         object on the base and on each side; pass resolutions {path: ours | theirs | delete | object id} \
         to settle them. Strategies: merge_commit (both parents kept), squash (one commit) or rebase \
         (fast-forward when the target has not moved). A push must fast-forward its branch unless forced.",
    )
}

/// The registered domain plugins (at most 100).
#[resource(
    uri = "muse://domains",
    name = "Registered Domain Plugins",
    mime_type = "application/json"
)]
pub async fn domains(State(db): State<Db>) -> Result<Json<DomainList>, ToolError> {
    let mut all = read::all_domains(&db).await?;
    let total = all.len() as i64;
    all.truncate(100);
    Ok(Json(DomainList {
        domains: all,
        total,
        limit: 100,
        offset: 0,
    }))
}

/// A repository's context document.
#[resource(uri = "musehub://repos/{owner}/{slug}", name = "Repository Overview", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_overview(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<RepoContext>, ToolError> {
    let r = repo(&db, &caller, &owner, &slug).await?;
    Ok(Json(read::context(&db, r).await?))
}

/// A repository's branches.
#[resource(uri = "musehub://repos/{owner}/{slug}/branches", name = "Repository Branches", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_branches(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<BranchList>, ToolError> {
    let r = repo(&db, &caller, &owner, &slug).await?;
    let branches = model::branches(&db, &r.repo_id).await?;
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
    let r = repo(&db, &caller, &owner, &slug).await?;
    let total = read::count(
        &db,
        "SELECT COUNT(*) AS n FROM commits WHERE repo_id = $1",
        &r.repo_id,
    )
    .await?;
    let rows = sqlx::query(&format!(
        "SELECT {} FROM commits WHERE repo_id = $1 ORDER BY timestamp DESC, commit_id LIMIT 20",
        model::COMMIT_COLUMNS
    ))
    .bind(&r.repo_id)
    .fetch_all(db.pool())
    .await
    .db()?;
    let commits = rows
        .iter()
        .map(model::CommitView::from_row)
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
    let r = repo(&db, &caller, &owner, &slug).await?;
    Ok(Json(read::commit_detail(&db, &r, &commit_id).await?))
}

async fn tree_at(
    db: &Db,
    r: &RepoView,
    ref_name: &str,
) -> Result<(String, Vec<ObjectView>), ToolError> {
    let commit = model::resolve_ref(db, r, ref_name)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("Ref '{ref_name}' not found.")))?;
    let mut files = Vec::new();
    for oid in model::manifest(db, &r.repo_id, &commit).await?.values() {
        if let Some(o) = model::object(db, &r.repo_id, oid).await? {
            files.push(o);
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
    let r = repo(&db, &caller, &owner, &slug).await?;
    let (commit, files) = tree_at(&db, &r, &ref_name).await?;
    Ok(Json(json!({
        "repo_id": r.repo_id, "ref": ref_name, "commit_id": commit, "files": files, "total": files.len(),
    })))
}

/// One file's metadata at a ref. The path may contain `/` (`tracks/bridge.mid`): it is an
/// RFC 6570 reserved expansion, which never admits empty, `.` or `..` segments.
#[resource(uri = "musehub://repos/{owner}/{slug}/blob/{ref}/{+path}", name = "File Metadata", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs, r#ref = complete_refs))]
pub async fn repo_blob(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
    #[arg(rename = "ref")] ref_name: String,
    path: String,
) -> Result<Json<Value>, ToolError> {
    let r = repo(&db, &caller, &owner, &slug).await?;
    let (commit, files) = tree_at(&db, &r, &ref_name).await?;
    let file = files
        .into_iter()
        .find(|f| f.path == path)
        .ok_or_else(|| ToolError::not_found(format!("No file '{path}' at '{}'.", ref_name)))?;
    Ok(Json(
        json!({ "repo_id": r.repo_id, "ref": ref_name, "commit_id": commit, "file": file }),
    ))
}

/// A repository's open issues.
#[resource(uri = "musehub://repos/{owner}/{slug}/issues", name = "Issues", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_issues(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<IssueList>, ToolError> {
    let r = repo(&db, &caller, &owner, &slug).await?;
    let issues = read::list_issues(&db, &r.repo_id, IssueStateFilter::Open, None).await?;
    Ok(Json(IssueList::new(r.repo_id, issues)))
}

/// One issue with its comments.
#[resource(uri = "musehub://repos/{owner}/{slug}/issues/{number}", name = "Single Issue", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs, number = complete_issue_numbers))]
pub async fn repo_issue(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
    number: i64,
) -> Result<Json<IssueDetail>, ToolError> {
    let r = repo(&db, &caller, &owner, &slug).await?;
    Ok(Json(read::issue_detail(&db, &r, number).await?))
}

/// A repository's pull requests, every state.
#[resource(uri = "musehub://repos/{owner}/{slug}/pulls", name = "Pull Requests", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_pulls(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<PrList>, ToolError> {
    let r = repo(&db, &caller, &owner, &slug).await?;
    let prs = read::list_prs(&db, &r.repo_id, PrStateFilter::All).await?;
    Ok(Json(PrList::new(r.repo_id, prs)))
}

/// One pull request (by number or id) with comments and reviews.
#[resource(uri = "musehub://repos/{owner}/{slug}/pulls/{number}", name = "Single Pull Request", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs, number = complete_prs))]
pub async fn repo_pull(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
    number: String,
) -> Result<Json<PrDetail>, ToolError> {
    let r = repo(&db, &caller, &owner, &slug).await?;
    Ok(Json(read::pr_detail(&db, &r, &number).await?))
}

/// A repository's releases, newest first.
#[resource(uri = "musehub://repos/{owner}/{slug}/releases", name = "Releases", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_releases(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<ReleaseList>, ToolError> {
    let r = repo(&db, &caller, &owner, &slug).await?;
    let releases = model::releases(&db, &r.repo_id).await?;
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
) -> Result<Json<model::ReleaseView>, ToolError> {
    let r = repo(&db, &caller, &owner, &slug).await?;
    model::releases(&db, &r.repo_id)
        .await?
        .into_iter()
        .find(|x| x.tag == tag)
        .map(Json)
        .ok_or_else(|| ToolError::not_found(format!("Release '{tag}' not found.")))
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
    let r = repo(&db, &caller, &owner, &slug).await?;
    Ok(Json(
        read::insights(&db, &r, InsightDimension::Overview, Some(ref_name)).await?,
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
    let r = repo(&db, &caller, &owner, &slug).await?;
    let mut entries: Vec<(String, Value)> = Vec::new();
    for c in model::all_commits(&db, &r.repo_id).await?.into_values() {
        entries.push((
            c.timestamp.clone(),
            json!({"kind": "commit", "at": c.timestamp, "commit_id": c.commit_id, "author": c.author, "summary": c.message, "branch": c.branch}),
        ));
    }
    for i in read::list_issues(&db, &r.repo_id, IssueStateFilter::All, None).await? {
        entries.push((
            i.created_at.clone(),
            json!({"kind": "issue", "at": i.created_at, "number": i.number, "author": i.author, "summary": i.title, "state": i.state}),
        ));
    }
    for p in read::list_prs(&db, &r.repo_id, PrStateFilter::All).await? {
        entries.push((
            p.created_at.clone(),
            json!({"kind": "pull_request", "at": p.created_at, "number": p.number, "author": p.author, "summary": p.title, "state": p.state}),
        ));
    }
    for rel in model::releases(&db, &r.repo_id).await? {
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

/// How to reach a repository as a Muse remote.
#[resource(uri = "musehub://repos/{owner}/{slug}/remote", name = "Repository Remote Info", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_remote(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<RemoteInfo>, ToolError> {
    let r = repo(&db, &caller, &owner, &slug).await?;
    Ok(Json(read::remote_info(&db, &r, None)))
}

async fn user_profile(db: &Db, caller: &Caller, username: &str) -> Result<Json<Value>, ToolError> {
    let row = sqlx::query(
        "SELECT handle, display_name, bio, is_agent, created_at FROM users WHERE handle = $1",
    )
    .bind(username)
    .fetch_optional(db.pool())
    .await
    .db()?
    .ok_or_else(|| ToolError::not_found(format!("User '{username}' not found.")))?;
    let rows = sqlx::query(&format!(
        "SELECT {} FROM repos r WHERE r.owner = $1 ORDER BY r.updated_at DESC",
        model::REPO_COLUMNS
    ))
    .bind(username)
    .fetch_all(db.pool())
    .await
    .db()?;
    let mut repos = Vec::new();
    for r in &rows {
        let repo = RepoView::from_row(r)?;
        if model::can_read(db, &repo, caller.handle()).await? {
            repos.push(repo);
        }
    }
    let keys = sqlx::query(
        "SELECT k.kid, k.label, k.algorithm, k.public_key, k.is_agent, k.agent_name, k.created_at \
         FROM signing_keys k JOIN users u ON u.id = k.user_id \
         WHERE u.handle = $1 AND k.revoked_at IS NULL ORDER BY k.created_at",
    )
    .bind(username)
    .fetch_all(db.pool())
    .await
    .db()?
    .iter()
    .map(|k| {
        Ok(json!({
            "kid": k.opt_text("kid")?,
            "label": k.text("label")?,
            "algorithm": k.text("algorithm")?,
            "is_agent": k.int("is_agent")? != 0,
            "agent_name": k.opt_text("agent_name")?,
            "public_key": k.text("public_key")?,
            "created_at": k.text("created_at")?,
        }))
    })
    .collect::<Result<Vec<_>, ToolError>>()?;
    let stars: BTreeMap<&str, i64> = repos.iter().map(|r| (r.slug.as_str(), r.stars)).collect();
    Ok(Json(json!({
        "handle": row.text("handle")?,
        "display_name": row.text("display_name")?,
        "bio": row.text("bio")?,
        "is_agent": row.int("is_agent")? != 0,
        "created_at": row.text("created_at")?,
        "public_keys": keys,
        "repos": repos,
        "total_stars": stars.values().sum::<i64>(),
    })))
}

/// A user's profile, public keys and repositories (private ones only when the caller may
/// read them).
#[resource(uri = "musehub://users/{username}", name = "User Profile", mime_type = "application/json", complete(username = complete_users))]
pub async fn user(
    caller: Caller,
    State(db): State<Db>,
    username: String,
) -> Result<Json<Value>, ToolError> {
    user_profile(&db, &caller, &username).await
}

/// A domain plugin's manifest, with install and usage hints.
#[resource(uri = "muse://domains/{author}/{slug}", name = "Domain Plugin Manifest", mime_type = "application/json", complete(author = complete_domain_authors, slug = complete_domain_slugs))]
pub async fn domain_manifest(
    State(db): State<Db>,
    author: String,
    slug: String,
) -> Result<Json<DomainManifest>, ToolError> {
    Ok(Json(
        read::domain_manifest(&db, author.trim_start_matches('@'), &slug).await?,
    ))
}
