//! The demo hub: a few users, public and private repositories with branches, commits,
//! artifacts, issues, proposals, reviews, releases, stars and domain plugins, so that a
//! newcomer sees real answers at once. Loaded in one transaction; loading twice is a no-op.

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use sqlx::{Any, Transaction};

use crate::blobs::BlobStore;
use crate::db::{Db, new_id};
use crate::history::mime_for;

struct Seeder<'a> {
    tx: Transaction<'a, Any>,
    blobs: BlobStore,
    clock: i64,
}

impl Seeder<'_> {
    /// A deterministic, increasing timestamp (demo history spans a few weeks of 2025).
    fn tick(&mut self, hours: i64) -> String {
        self.clock += hours;
        (Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap() + Duration::hours(self.clock))
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }

    async fn exec(&mut self, sql: &str, binds: Vec<Option<String>>) -> Result<(), sqlx::Error> {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = q.bind(b);
        }
        q.execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn user(
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
    async fn repo(
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
    async fn commit(
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

    async fn activity(
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

    async fn label(
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
    async fn issue(
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
    async fn proposal(
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

    async fn release(
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

    async fn star(&mut self, repo: &str, who: &str) -> Result<(), sqlx::Error> {
        let ts = self.tick(1);
        self.exec(
            "INSERT INTO stars (repo_id, handle, created_at) VALUES ($1, $2, $3)",
            vec![Some(repo.into()), Some(who.into()), Some(ts)],
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn domain(
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

fn midi(name: &str, bars: u32) -> String {
    // Stand-in MIDI content: a header and a readable event list, enough to give each file a
    // distinct content hash and a realistic extension.
    format!("MThd\0\0\0\x06\0\x01\0\x02\x01\x60 track={name} bars={bars}")
}

/// Loads the demo hub. Returns false (and changes nothing) when it is already there.
pub async fn seed_demo(db: &Db) -> Result<bool, sqlx::Error> {
    let exists: Option<sqlx::any::AnyRow> =
        sqlx::query("SELECT handle FROM users WHERE handle = 'alice'")
            .fetch_optional(db.pool())
            .await?;
    if exists.is_some() {
        return Ok(false);
    }
    let tx = db.pool().begin().await?;
    let mut s = Seeder {
        tx,
        blobs: db.blobs().clone(),
        clock: 0,
    };

    s.user("muse", "Muse Project", "The Muse maintainers.", false)
        .await?;
    s.user("alice", "Alice Moreau", "Jazz pianist and composer.", false)
        .await?;
    s.user(
        "bob",
        "Bob Okafor",
        "Producer: lo-fi, hip-hop, ambient.",
        false,
    )
    .await?;
    s.user(
        "carol",
        "Carol Lindqvist",
        "Violinist; writes for string quartet.",
        false,
    )
    .await?;
    s.user(
        "muse-bot",
        "Muse Bot",
        "An AI agent that arranges and reviews.",
        true,
    )
    .await?;

    // @muse/midi and @muse/code are built in (crate::discovery::builtin); the demo adds a community one.
    s.domain(
        "carol",
        "score",
        "Engraved Score",
        "Engraved notation (MusicXML) with layout as a dimension.",
        json!({"dimensions": ["notes", "layout", "lyrics"]}),
        "score",
        false,
    )
    .await?;

    // alice/jazz-session: public, two branches, issues, an open proposal, a release.
    let jazz = s
        .repo(
            "alice",
            "jazz-session",
            "Jazz Session",
            "A modal jazz tune in D dorian, trio arrangement.",
            "public",
            "@muse/midi",
            json!({"key": "D dorian", "tempo_bpm": 132}),
            &["jazz", "piano", "trio"],
        )
        .await?;
    let empty = BTreeMap::new();
    let (c1, m1) = s
        .commit(
            &jazz,
            "main",
            &[],
            &empty,
            "alice",
            "Initial sketch: head melody",
            &[
                ("README.md", "# Jazz Session\nModal tune in D dorian."),
                ("tracks/piano.mid", &midi("piano", 32)),
            ],
        )
        .await?;
    let (c2, m2) = s
        .commit(
            &jazz,
            "main",
            &[&c1],
            &m1,
            "alice",
            "Add walking bass",
            &[("tracks/bass.mid", &midi("bass", 32))],
        )
        .await?;
    let (c3, m3) = s
        .commit(
            &jazz,
            "main",
            &[&c2],
            &m2,
            "bob",
            "Add brushes on drums",
            &[("tracks/drums.mid", &midi("drums", 32))],
        )
        .await?;
    let (c4, m4) = s
        .commit(
            &jazz,
            "main",
            &[&c3],
            &m3,
            "alice",
            "Voice the comping in fourths",
            &[("tracks/piano.mid", &midi("piano-quartal", 32))],
        )
        .await?;
    let (b1, bm1) = s
        .commit(
            &jazz,
            "feature/bridge",
            &[&c4],
            &m4,
            "carol",
            "Write a bridge in F lydian",
            &[("tracks/bridge.mid", &midi("bridge", 8))],
        )
        .await?;
    s.commit(
        &jazz,
        "feature/bridge",
        &[&b1],
        &bm1,
        "carol",
        "Reharmonise the bridge turnaround",
        &[("tracks/bridge.mid", &midi("bridge-reharm", 8))],
    )
    .await?;
    s.label(&jazz, "bug", "d73a4a", "Something sounds wrong")
        .await?;
    s.label(&jazz, "arrangement", "0e8a16", "Orchestration and voicing")
        .await?;
    s.label(&jazz, "good first issue", "7057ff", "Good for newcomers")
        .await?;
    s.issue(
        &jazz,
        1,
        "Bass clashes with piano in bar 12",
        "The bass plays C# under a C7 voicing.",
        "open",
        "bob",
        &["bug"],
        &[
            ("alice", "Good catch, I'll revoice it."),
            (
                "muse-bot",
                "The clash is on beat 3: the bass walks through C#.",
            ),
        ],
    )
    .await?;
    s.issue(
        &jazz,
        2,
        "Add a solo section",
        "Sixteen bars of open solos after the head.",
        "open",
        "carol",
        &["arrangement", "good first issue"],
        &[],
    )
    .await?;
    s.issue(
        &jazz,
        3,
        "Tempo drifts in the intro",
        "Fixed by the new tempo map.",
        "closed",
        "alice",
        &["bug"],
        &[("alice", "Fixed in 'Voice the comping in fourths'.")],
    )
    .await?;
    let pr = s
        .proposal(
            &jazz,
            1,
            "Bridge in F lydian",
            "Adds an 8-bar bridge and reharmonises its turnaround.",
            "feature/bridge",
            "main",
            "carol",
            None,
        )
        .await?;
    let ts = s.tick(1);
    s.exec(
        "INSERT INTO proposal_comments (id, proposal_id, author, body, dimension, track, beat_start, beat_end, created_at) VALUES ($1, $2, 'alice', 'Lovely colour on the #11.', 'harmonic', 'bridge', NULL, NULL, $3)",
        vec![Some(new_id()), Some(pr.clone()), Some(ts)],
    )
    .await?;
    let ts = s.tick(1);
    s.exec(
        "INSERT INTO proposal_reviews (id, proposal_id, reviewer, event, body, created_at) VALUES ($1, $2, 'bob', 'approve', 'Grooves. Ship it.', $3)",
        vec![Some(new_id()), Some(pr), Some(ts)],
    )
    .await?;
    s.release(
        &jazz,
        "v0.1.0",
        "First take",
        "Head, bass and drums.",
        &c4,
        "alice",
    )
    .await?;

    // alice/private-sketches: private, bob collaborates.
    let sketches = s
        .repo(
            "alice",
            "private-sketches",
            "Private Sketches",
            "Ideas not ready to share.",
            "private",
            "@muse/midi",
            json!({}),
            &["sketch"],
        )
        .await?;
    let (p1, pm1) = s
        .commit(
            &sketches,
            "main",
            &[],
            &empty,
            "alice",
            "Ballad idea in Eb",
            &[("ideas/ballad.mid", &midi("ballad", 16))],
        )
        .await?;
    s.commit(
        &sketches,
        "main",
        &[&p1],
        &pm1,
        "bob",
        "Beat for the ballad",
        &[("ideas/beat.mid", &midi("beat", 16))],
    )
    .await?;
    let ts = s.tick(0);
    s.exec(
        "INSERT INTO collaborators (repo_id, handle, role, created_at) VALUES ($1, 'bob', 'write', $2)",
        vec![Some(sketches.clone()), Some(ts)],
    )
    .await?;
    s.issue(
        &sketches,
        1,
        "Finish the ballad bridge",
        "Needs a bridge before it goes public.",
        "open",
        "alice",
        &[],
        &[],
    )
    .await?;

    // bob/lofi-beats: public, a merged proposal, a release.
    let lofi = s
        .repo(
            "bob",
            "lofi-beats",
            "Lo-fi Beats",
            "Dusty drums and warm keys, 80 BPM.",
            "public",
            "@muse/midi",
            json!({"tempo_bpm": 80}),
            &["lo-fi", "hip-hop", "beats"],
        )
        .await?;
    let (l1, lm1) = s
        .commit(
            &lofi,
            "main",
            &[],
            &empty,
            "bob",
            "Drum loop",
            &[
                ("beats/drums.mid", &midi("lofi-drums", 4)),
                ("README.md", "# Lo-fi Beats"),
            ],
        )
        .await?;
    let (l2, lm2) = s
        .commit(
            &lofi,
            "vinyl-keys",
            &[&l1],
            &lm1,
            "muse-bot",
            "Add Rhodes chords with vinyl crackle",
            &[("beats/keys.mid", &midi("rhodes", 4))],
        )
        .await?;
    let (l3, _) = s
        .commit(
            &lofi,
            "main",
            &[&l1, &l2],
            &lm2,
            "bob",
            "Merge pull request #1 from vinyl-keys",
            &[],
        )
        .await?;
    s.proposal(
        &lofi,
        1,
        "Rhodes chords",
        "Adds a Rhodes part.",
        "vinyl-keys",
        "main",
        "muse-bot",
        Some(("bob", &l3)),
    )
    .await?;
    s.release(
        &lofi,
        "v1.0.0",
        "Tape One",
        "The first beat tape.",
        &l3,
        "bob",
    )
    .await?;
    s.label(&lofi, "idea", "fbca04", "A new idea").await?;
    s.issue(
        &lofi,
        1,
        "Try a swung hi-hat",
        "Swing the hats at 58%.",
        "open",
        "alice",
        &["idea"],
        &[],
    )
    .await?;

    // carol/string-quartet: public, one branch.
    let quartet = s
        .repo(
            "carol",
            "string-quartet",
            "String Quartet No. 1",
            "Four movements for two violins, viola and cello.",
            "public",
            "@muse/midi",
            json!({"key": "G minor"}),
            &["classical", "strings"],
        )
        .await?;
    let (q1, qm1) = s
        .commit(
            &quartet,
            "main",
            &[],
            &empty,
            "carol",
            "First movement exposition",
            &[
                ("movements/1-allegro.mid", &midi("allegro", 96)),
                ("score/1-allegro.musicxml", "<score-partwise/>"),
            ],
        )
        .await?;
    s.commit(
        &quartet,
        "main",
        &[&q1],
        &qm1,
        "carol",
        "Second movement",
        &[("movements/2-adagio.mid", &midi("adagio", 64))],
    )
    .await?;

    s.star(&jazz, "bob").await?;
    s.star(&jazz, "carol").await?;
    s.star(&jazz, "muse-bot").await?;
    s.star(&lofi, "alice").await?;
    s.star(&quartet, "alice").await?;

    s.tx.commit().await?;
    Ok(true)
}
