//! `completion/complete` hooks: repository ids, owners, slugs, branches, tags, issue and
//! proposal numbers, users and domains, straight from the database. Completions list only
//! what anonymous callers may see (public repositories).

use musehub_mcp::Completion;

use crate::db::{Db, RowExt};

const MAX: i64 = 100;

async fn strings(c: &Completion, sql: &str, binds: &[&str]) -> Vec<String> {
    let Some(db) = c.ctx.state::<Db>() else {
        return Vec::new();
    };
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(b.to_string());
    }
    match q.fetch_all(db.pool()).await {
        Ok(rows) => rows.iter().filter_map(|r| r.text("v").ok()).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "completion query failed");
            Vec::new()
        }
    }
}

fn prefix(c: &Completion) -> String {
    format!("{}%", c.value.replace(['%', '_'], ""))
}

fn context<'a>(c: &'a Completion, name: &str) -> &'a str {
    c.context.get(name).map(String::as_str).unwrap_or("")
}

/// User handles (owners of public repositories and every registered user).
pub async fn complete_users(c: Completion) -> Vec<String> {
    strings(
        &c,
        &format!("SELECT handle AS v FROM users WHERE handle LIKE $1 ORDER BY handle LIMIT {MAX}"),
        &[&prefix(&c)],
    )
    .await
}

/// Public repository slugs, of the owner given in the context when there is one.
pub async fn complete_slugs(c: Completion) -> Vec<String> {
    let owner = context(&c, "owner").to_string();
    if owner.is_empty() {
        strings(
            &c,
            &format!(
                "SELECT DISTINCT slug AS v FROM repos WHERE visibility = 'public' AND slug LIKE $1 ORDER BY v LIMIT {MAX}"
            ),
            &[&prefix(&c)],
        )
        .await
    } else {
        strings(
            &c,
            &format!(
                "SELECT slug AS v FROM repos WHERE visibility = 'public' AND owner = $2 AND slug LIKE $1 ORDER BY v LIMIT {MAX}"
            ),
            &[&prefix(&c), &owner],
        )
        .await
    }
}

/// Public repository ids, matched on the id or on `owner/slug`.
pub async fn complete_repo_ids(c: Completion) -> Vec<String> {
    strings(
        &c,
        &format!(
            "SELECT id AS v FROM repos WHERE visibility = 'public' AND (id LIKE $1 OR owner || '/' || slug LIKE $1) \
             ORDER BY owner, slug LIMIT {MAX}"
        ),
        &[&prefix(&c)],
    )
    .await
}

async fn repo_id_from_context(c: &Completion) -> Option<String> {
    let id = context(c, "repo_id");
    if !id.is_empty() {
        return Some(id.to_string());
    }
    let (owner, slug) = (context(c, "owner"), context(c, "slug"));
    if owner.is_empty() || slug.is_empty() {
        return None;
    }
    strings(
        c,
        "SELECT id AS v FROM repos WHERE owner = $1 AND slug = $2 AND visibility = 'public'",
        &[owner, slug],
    )
    .await
    .into_iter()
    .next()
}

/// Branch names and release tags of the repository in the context.
pub async fn complete_refs(c: Completion) -> Vec<String> {
    let Some(repo) = repo_id_from_context(&c).await else {
        return Vec::new();
    };
    let p = prefix(&c);
    let mut out = strings(
        &c,
        &format!("SELECT name AS v FROM branches WHERE repo_id = $2 AND name LIKE $1 ORDER BY name LIMIT {MAX}"),
        &[&p, &repo],
    )
    .await;
    out.extend(
        strings(
            &c,
            &format!("SELECT tag AS v FROM releases WHERE repo_id = $2 AND tag LIKE $1 ORDER BY tag LIMIT {MAX}"),
            &[&p, &repo],
        )
        .await,
    );
    out
}

/// Release tags of the repository in the context.
pub async fn complete_tags(c: Completion) -> Vec<String> {
    let Some(repo) = repo_id_from_context(&c).await else {
        return Vec::new();
    };
    strings(
        &c,
        &format!("SELECT tag AS v FROM releases WHERE repo_id = $2 AND tag LIKE $1 ORDER BY tag LIMIT {MAX}"),
        &[&prefix(&c), &repo],
    )
    .await
}

/// Commit ids of the repository in the context, newest first.
pub async fn complete_commits(c: Completion) -> Vec<String> {
    let Some(repo) = repo_id_from_context(&c).await else {
        return Vec::new();
    };
    strings(
        &c,
        &format!(
            "SELECT commit_id AS v FROM commits WHERE repo_id = $2 AND commit_id LIKE $1 ORDER BY timestamp DESC LIMIT {MAX}"
        ),
        &[&prefix(&c), &repo],
    )
    .await
}

/// Issue numbers of the repository in the context.
pub async fn complete_issue_numbers(c: Completion) -> Vec<String> {
    let Some(repo) = repo_id_from_context(&c).await else {
        return Vec::new();
    };
    let mut v = strings(
        &c,
        "SELECT CAST(number AS TEXT) AS v FROM issues WHERE repo_id = $1 ORDER BY number DESC",
        &[&repo],
    )
    .await;
    v.retain(|n| n.starts_with(&c.value));
    v
}

/// Proposal numbers of the repository in the context.
pub async fn complete_prs(c: Completion) -> Vec<String> {
    let Some(repo) = repo_id_from_context(&c).await else {
        return Vec::new();
    };
    let mut v = strings(
        &c,
        "SELECT CAST(number AS TEXT) AS v FROM proposals WHERE repo_id = $1 ORDER BY number DESC",
        &[&repo],
    )
    .await;
    v.retain(|n| n.starts_with(&c.value));
    v
}

/// Domain ids (`@author/slug`).
pub async fn complete_domains(c: Completion) -> Vec<String> {
    let value = c.value.trim_start_matches('@').to_string();
    let mut v = strings(
        &c,
        "SELECT '@' || author_slug || '/' || slug AS v FROM domains ORDER BY v",
        &[],
    )
    .await;
    v.retain(|d| d[1..].starts_with(&value));
    v
}

/// Domain authors.
pub async fn complete_domain_authors(c: Completion) -> Vec<String> {
    strings(
        &c,
        &format!(
            "SELECT DISTINCT author_slug AS v FROM domains WHERE author_slug LIKE $1 ORDER BY v LIMIT {MAX}"
        ),
        &[&prefix(&c)],
    )
    .await
}

/// Domain slugs of the author in the context.
pub async fn complete_domain_slugs(c: Completion) -> Vec<String> {
    let author = context(&c, "author").to_string();
    strings(
        &c,
        &format!(
            "SELECT slug AS v FROM domains WHERE slug LIKE $1 AND ($2 = '' OR author_slug = $2) ORDER BY v LIMIT {MAX}"
        ),
        &[&prefix(&c), &author],
    )
    .await
}
