//! The writer behind the demo hub: users, repositories, commits with real content ids (bytes
//! in the object store), issues, proposals, releases, stars and domains, on a clock that
//! advances by the hour so that the history reads as a few weeks of 2025.

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use sqlx::{Any, Transaction};

use crate::blobs::BlobStore;
use crate::db::new_id;
use crate::history::mime_for;

/// Writes the demo hub inside one transaction, with a deterministic clock.
pub(super) struct Seeder<'a> {
    pub(super) tx: Transaction<'a, Any>,
    pub(super) blobs: BlobStore,
    pub(super) clock: i64,
}

impl Seeder<'_> {
    /// A deterministic, increasing timestamp (demo history spans a few weeks of 2025).
    pub(super) fn tick(&mut self, hours: i64) -> String {
        self.clock += hours;
        (Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap() + Duration::hours(self.clock))
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }

    pub(super) async fn exec(
        &mut self,
        sql: &str,
        binds: Vec<Option<String>>,
    ) -> Result<(), sqlx::Error> {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(b);
        }
        q.execute(&mut *self.tx).await?;
        Ok(())
    }

    pub(super) async fn user(
        &mut self,
        handle: &str,
        name: &str,
        bio: &str,
        agent: bool,
    ) -> Result<(), sqlx::Error> {
        let ts = self.tick(1);
        let id = new_id();
        sqlx::query(
            "INSERT INTO users (id, handle, display_name, bio, is_agent, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(handle)
        .bind(name)
        .bind(bio)
        .bind(i64::from(agent))
        .bind(&ts)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn repo(
        &mut self,
        owner: &str,
        slug: &str,
        name: &str,
        description: &str,
        visibility: &str,
        domain: &str,
        meta: serde_json::Value,
        tags: &[&str],
    ) -> Result<String, sqlx::Error> {
        let id = new_id();
        let ts = self.tick(2);
        self.exec(
            "INSERT INTO repos (id, owner, slug, name, description, visibility, domain, domain_meta, tags, default_branch, forked_from, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'main', NULL, $10, $10)",
            vec![
                Some(id.clone()),
                Some(owner.into()),
                Some(slug.into()),
                Some(name.into()),
                Some(description.into()),
                Some(visibility.into()),
                Some(domain.into()),
                Some(meta.to_string()),
                Some(json!(tags).to_string()),
                Some(ts),
            ],
        )
        .await?;
        Ok(id)
    }

    /// Adds a commit whose snapshot is the parent's plus `files`; moves (or creates) the branch.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn commit(
        &mut self,
        repo: &str,
        branch: &str,
        parents: &[&str],
        base: &BTreeMap<String, String>,
        author: &str,
        message: &str,
        files: &[(&str, &str)],
    ) -> Result<(String, BTreeMap<String, String>), sqlx::Error> {
        let ts = self.tick(5);
        let mut manifest = base.clone();
        for (path, content) in files {
            // Ids by the protocol's scheme (docs/muse-protocol.md), bytes in the object store.
            let oid = self
                .blobs
                .put(content.as_bytes())
                .await
                .map_err(|e| sqlx::Error::Io(std::io::Error::other(e.to_string())))?;
            sqlx::query(
                "INSERT INTO objects (repo_id, object_id, path, size_bytes, mime_type, content_hash, content_b64, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, NULL, $7) ON CONFLICT (repo_id, object_id) DO NOTHING",
            )
            .bind(repo)
            .bind(&oid)
            .bind(*path)
            .bind(content.len() as i64)
            .bind(mime_for(path))
            .bind(&oid)
            .bind(&ts)
            .execute(&mut *self.tx)
            .await?;
            manifest.insert(path.to_string(), oid);
        }
        let snapshot = muse_core::snapshot_id(&manifest);
        sqlx::query(
            "INSERT INTO snapshots (repo_id, snapshot_id, manifest, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (repo_id, snapshot_id) DO NOTHING",
        )
        .bind(repo)
        .bind(&snapshot)
        .bind(json!(manifest).to_string())
        .bind(&ts)
        .execute(&mut *self.tx)
        .await?;
        let parent_ids: Vec<String> = parents.iter().map(|p| p.to_string()).collect();
        let commit = muse_core::commit_id(&muse_core::CommitFields {
            parents: &parent_ids,
            snapshot_id: Some(&snapshot),
            author,
            timestamp: &ts,
            message,
        })
        .map_err(|e| sqlx::Error::Protocol(format!("demo commit: {e}")))?;
        sqlx::query(
            "INSERT INTO commits (repo_id, commit_id, parent_ids, author, message, timestamp, snapshot_id, branch, pushed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $6)",
        )
        .bind(repo)
        .bind(&commit)
        .bind(json!(parents).to_string())
        .bind(author)
        .bind(message)
        .bind(&ts)
        .bind(&snapshot)
        .bind(branch)
        .execute(&mut *self.tx)
        .await?;
        let moved = sqlx::query(
            "UPDATE branches SET head_commit_id = $1, updated_at = $2 WHERE repo_id = $3 AND name = $4",
        )
        .bind(&commit)
        .bind(&ts)
        .bind(repo)
        .bind(branch)
        .execute(&mut *self.tx)
        .await?;
        if moved.rows_affected() == 0 {
            sqlx::query(
                "INSERT INTO branches (id, repo_id, name, head_commit_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(new_id())
            .bind(repo)
            .bind(branch)
            .bind(&commit)
            .bind(&ts)
            .execute(&mut *self.tx)
            .await?;
        }
        self.activity(
            repo,
            author,
            "push",
            &format!("{author} pushed \"{message}\" to {branch}"),
            &ts,
        )
        .await?;
        Ok((commit, manifest))
    }

    pub(super) async fn activity(
        &mut self,
        repo: &str,
        actor: &str,
        kind: &str,
        summary: &str,
        ts: &str,
    ) -> Result<(), sqlx::Error> {
        self.exec(
            "INSERT INTO activity (id, repo_id, actor, kind, summary, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                Some(new_id()),
                Some(repo.into()),
                Some(actor.into()),
                Some(kind.into()),
                Some(summary.into()),
                Some(ts.into()),
            ],
        )
        .await
    }

    pub(super) async fn label(
        &mut self,
        repo: &str,
        name: &str,
        color: &str,
        description: &str,
    ) -> Result<(), sqlx::Error> {
        let ts = self.tick(0);
        self.exec(
            "INSERT INTO labels (id, repo_id, name, color, description, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                Some(new_id()),
                Some(repo.into()),
                Some(name.into()),
                Some(color.into()),
                Some(description.into()),
                Some(ts),
            ],
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn issue(
        &mut self,
        repo: &str,
        number: i64,
        title: &str,
        body: &str,
        state: &str,
        author: &str,
        labels: &[&str],
        comments: &[(&str, &str)],
    ) -> Result<(), sqlx::Error> {
        let id = new_id();
        let ts = self.tick(3);
        sqlx::query(
            "INSERT INTO issues (id, repo_id, number, title, body, state, author, assignee, labels, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $9)",
        )
        .bind(&id)
        .bind(repo)
        .bind(number)
        .bind(title)
        .bind(body)
        .bind(state)
        .bind(author)
        .bind(json!(labels).to_string())
        .bind(&ts)
        .execute(&mut *self.tx)
        .await?;
        self.activity(
            repo,
            author,
            "issue.opened",
            &format!("{author} opened issue #{number}"),
            &ts,
        )
        .await?;
        for (who, text) in comments {
            let ts = self.tick(1);
            self.exec(
                "INSERT INTO issue_comments (id, issue_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5)",
                vec![Some(new_id()), Some(id.clone()), Some((*who).into()), Some((*text).into()), Some(ts)],
            )
            .await?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn proposal(
        &mut self,
        repo: &str,
        number: i64,
        title: &str,
        body: &str,
        from: &str,
        to: &str,
        author: &str,
        merged: Option<(&str, &str)>,
    ) -> Result<String, sqlx::Error> {
        let id = new_id();
        let ts = self.tick(2);
        let (state, merged_by, merge_commit, merged_at) = match merged {
            Some((by, commit)) => (
                "merged",
                Some(by.to_string()),
                Some(commit.to_string()),
                Some(ts.clone()),
            ),
            None => ("open", None, None, None),
        };
        sqlx::query(
            "INSERT INTO proposals (id, repo_id, number, title, body, state, from_branch, to_branch, author, merge_strategy, \
             merge_commit_id, merged_by, created_at, updated_at, merged_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)",
        )
        .bind(&id)
        .bind(repo)
        .bind(number)
        .bind(title)
        .bind(body)
        .bind(state)
        .bind(from)
        .bind(to)
        .bind(author)
        .bind(merged.map(|_| "merge_commit".to_string()))
        .bind(merge_commit)
        .bind(merged_by)
        .bind(&ts)
        .bind(merged_at)
        .execute(&mut *self.tx)
        .await?;
        self.activity(
            repo,
            author,
            "pr.opened",
            &format!("{author} opened pull request #{number}"),
            &ts,
        )
        .await?;
        Ok(id)
    }

    pub(super) async fn release(
        &mut self,
        repo: &str,
        tag: &str,
        title: &str,
        body: &str,
        commit: &str,
        author: &str,
    ) -> Result<(), sqlx::Error> {
        let ts = self.tick(4);
        self.exec(
            "INSERT INTO releases (id, repo_id, tag, title, body, commit_id, channel, pre_release, author, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'stable', 0, $7, $8)",
            vec![
                Some(new_id()),
                Some(repo.into()),
                Some(tag.into()),
                Some(title.into()),
                Some(body.into()),
                Some(commit.into()),
                Some(author.into()),
                Some(ts.clone()),
            ],
        )
        .await?;
        self.activity(
            repo,
            author,
            "release.published",
            &format!("{author} published {tag}"),
            &ts,
        )
        .await
    }

    pub(super) async fn star(&mut self, repo: &str, who: &str) -> Result<(), sqlx::Error> {
        let ts = self.tick(1);
        self.exec(
            "INSERT INTO stars (repo_id, handle, created_at) VALUES ($1, $2, $3)",
            vec![Some(repo.into()), Some(who.into()), Some(ts)],
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn domain(
        &mut self,
        author: &str,
        slug: &str,
        name: &str,
        description: &str,
        capabilities: serde_json::Value,
        viewer: &str,
        verified: bool,
    ) -> Result<(), sqlx::Error> {
        let ts = self.tick(0);
        sqlx::query(
            "INSERT INTO domains (id, author_slug, slug, display_name, description, capabilities, viewer_type, version, verified, published_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, '1.0.0', $8, $2, $9)",
        )
        .bind(new_id())
        .bind(author)
        .bind(slug)
        .bind(name)
        .bind(description)
        .bind(capabilities.to_string())
        .bind(viewer)
        .bind(i64::from(verified))
        .bind(&ts)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
