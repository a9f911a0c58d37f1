//! The demo hub: a few users, public and private repositories with branches, commits,
//! artifacts, issues, proposals, reviews, releases, stars and domain plugins, so that a
//! newcomer sees real answers at once. Loaded in one transaction; loading twice is a no-op.

use std::collections::BTreeMap;

use serde_json::json;

mod seeder;

use seeder::Seeder;

use crate::db::{Db, new_id};

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
