//! The five interactive tools. They ask the user through elicitation (form and URL mode) and
//! report progress with the client's own `progressToken`; with their bypass arguments they
//! never elicit. A client without elicitation gets a tool error that says which arguments
//! to pass instead, with the form's schema in `data`.

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Map, Value, json};

use crate::db::{Db, DbResultExt, new_id, now};
use crate::model::{self, Need, ProposalView, ReleaseView, RepoRef};
use crate::tools::read;
use crate::tools::write::{self, NewRelease};

const KEYS: &[&str] = &[
    "C major", "G major", "D major", "A major", "E major", "B major", "F# major", "F major",
    "Bb major", "Eb major", "Ab major", "Db major", "A minor", "E minor", "B minor", "F# minor",
    "C# minor", "G# minor", "D minor", "G minor", "C minor", "F minor", "Bb minor", "Eb minor",
];
const TIME_SIGNATURES: &[&str] = &["4/4", "3/4", "6/8", "5/4", "7/8", "12/8", "2/4"];
const MOODS: &[&str] = &[
    "peaceful",
    "energetic",
    "melancholic",
    "joyful",
    "mysterious",
    "tense",
    "romantic",
    "epic",
    "playful",
    "dark",
];
const GENRES: &[&str] = &[
    "ambient",
    "jazz",
    "classical",
    "electronic",
    "rock",
    "hip-hop",
    "folk",
    "pop",
    "cinematic",
    "lo-fi",
];
/// Streaming platforms `musehub_connect_streaming_platform` knows.
pub const PLATFORMS: &[&str] = &[
    "Spotify",
    "SoundCloud",
    "Bandcamp",
    "YouTube Music",
    "Apple Music",
    "TIDAL",
    "Amazon Music",
    "Deezer",
];
/// DAW cloud services `musehub_connect_daw_cloud` knows.
pub const DAW_SERVICES: &[&str] = &["LANDR", "Splice", "Soundtrap", "BandLab", "Audiotool"];

/// The compose-preferences form.
pub fn compose_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "key": {"type": "string", "title": "Key", "description": "Key signature", "enum": KEYS, "default": "C major"},
            "tempo_bpm": {"type": "number", "title": "Tempo (BPM)", "description": "Beats per minute", "minimum": 40, "maximum": 300, "default": 120},
            "time_signature": {"type": "string", "title": "Time signature", "description": "Metre", "enum": TIME_SIGNATURES, "default": "4/4"},
            "mood": {"type": "string", "title": "Mood", "description": "Overall mood", "enum": MOODS, "default": "peaceful"},
            "genre": {"type": "string", "title": "Genre", "description": "Style", "enum": GENRES, "default": "ambient"},
            "reference_artist": {"type": "string", "title": "Reference artist", "description": "An artist to take inspiration from", "maxLength": 100},
            "duration_bars": {"type": "number", "title": "Length (bars)", "description": "How long the piece is", "minimum": 8, "maximum": 512, "default": 64},
            "include_modulation": {"type": "boolean", "title": "Modulate", "description": "Include a key change", "default": false}
        },
        "required": ["key", "tempo_bpm", "mood", "genre"]
    })
}

fn unsupported(e: ToolError, bypass: &str) -> ToolError {
    // Keep the framework's code and data (`requiredCapabilities`), add the way around.
    ToolError {
        message: format!(
            "{} Call the tool again with {bypass} to skip the question.",
            e.message
        ),
        ..e
    }
}

/// True when the client declared URL-mode elicitation (checked before asking, so a client
/// without it simply gets the URL in the result).
fn supports_url(ctx: &Ctx) -> bool {
    ctx.client_capabilities()
        .get("elicitation")
        .and_then(|e| e.as_object())
        .is_some_and(|m| m.contains_key("url"))
}

fn declined(what: &str) -> ToolError {
    ToolError::new(
        "elicitation_declined",
        format!("The user declined or cancelled the {what}."),
    )
}

/// Runs a form elicitation, mapping decline/cancel and a missing capability to tool errors.
async fn ask(
    elicit: &Elicitation,
    bypass: &str,
    what: &str,
    message: &str,
    schema: Value,
) -> Result<Map<String, Value>, ToolError> {
    match elicit.form_schema(message, schema).await {
        Ok(ElicitResult::Accept(v)) => Ok(v.as_object().cloned().unwrap_or_default()),
        Ok(ElicitResult::Decline | ElicitResult::Cancel) => Err(declined(what)),
        Err(e) if e.code == musehub_mcp::handler::MISSING_CAPABILITY => Err(unsupported(e, bypass)),
        Err(e) => Err(e),
    }
}

/// One section of a composition plan.
#[schema(no_deserialize)]
pub struct Section {
    /// Section name.
    pub name: String,
    /// Length in bars.
    pub bars: i64,
    /// What happens in it.
    pub guidance: String,
}

/// A composition plan.
#[schema(no_deserialize)]
pub struct CompositionPlan {
    /// Key.
    pub key: String,
    /// Tempo.
    pub tempo_bpm: f64,
    /// Time signature.
    pub time_signature: String,
    /// Mood.
    pub mood: String,
    /// Genre.
    pub genre: String,
    /// Reference artist.
    pub reference_artist: String,
    /// Total length in bars.
    pub duration_bars: i64,
    /// Whether to modulate.
    pub modulation: bool,
    /// Suggested chords.
    pub primary_chords: Vec<String>,
    /// Tension over the sections (0-1).
    pub harmonic_tension_profile: Vec<f64>,
    /// Texture advice.
    pub texture_guidance: String,
    /// The form.
    pub sections: Vec<Section>,
    /// How to record it with Muse.
    pub workflow: Vec<String>,
}

/// The result of `musehub_create_with_preferences`.
#[schema(no_deserialize)]
pub struct ComposeResult {
    /// The plan.
    pub composition_plan: CompositionPlan,
    /// True when the preferences came from the user through elicitation.
    pub elicited: bool,
    /// The repository the plan is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo_id: Option<String>,
    /// How to start the repository's structure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaffold_hint: Option<String>,
}

fn pref_str(p: &Map<String, Value>, keys: &[&str], default: &str) -> String {
    keys.iter()
        .find_map(|k| p.get(*k).and_then(Value::as_str))
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(default)
        .to_string()
}

fn pref_num(p: &Map<String, Value>, key: &str, default: f64, min: f64, max: f64) -> f64 {
    p.get(key)
        .and_then(Value::as_f64)
        .unwrap_or(default)
        .clamp(min, max)
}

/// Builds a plan from preferences (missing ones take the defaults).
pub fn compose_plan(p: &Map<String, Value>) -> CompositionPlan {
    let key = pref_str(p, &["key_signature", "key"], "C major");
    let minor = key.to_lowercase().contains("minor");
    let root = key.split_whitespace().next().unwrap_or("C").to_string();
    let primary_chords = if minor {
        vec![
            format!("{root}m"),
            "iv".into(),
            "VI".into(),
            "VII".into(),
            "v".into(),
        ]
    } else {
        vec![
            root.clone(),
            "IV".into(),
            "V".into(),
            "vi".into(),
            "ii".into(),
        ]
    };
    let bars = pref_num(p, "duration_bars", 64.0, 8.0, 512.0) as i64;
    let unit = (bars / 8).max(1);
    let sections = vec![
        Section {
            name: "intro".into(),
            bars: unit,
            guidance: "Establish the key and texture sparsely.".into(),
        },
        Section {
            name: "A".into(),
            bars: unit * 3,
            guidance: "Present the main motif over the primary progression.".into(),
        },
        Section {
            name: "B".into(),
            bars: unit * 2,
            guidance: "Contrast: new register, rising tension.".into(),
        },
        Section {
            name: "A'".into(),
            bars: bars - unit * 7,
            guidance: "Return of the motif, varied; resolve.".into(),
        },
        Section {
            name: "outro".into(),
            bars: unit,
            guidance: "Thin the texture and land on the tonic.".into(),
        },
    ];
    let mood = pref_str(p, &["mood"], "peaceful");
    CompositionPlan {
        tempo_bpm: pref_num(p, "tempo_bpm", 120.0, 40.0, 300.0),
        time_signature: pref_str(p, &["time_signature"], "4/4"),
        genre: pref_str(p, &["genre"], "ambient"),
        reference_artist: pref_str(p, &["reference_artist"], ""),
        duration_bars: bars,
        modulation: p
            .get("include_modulation")
            .or_else(|| p.get("modulation"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        primary_chords,
        harmonic_tension_profile: vec![0.2, 0.4, 0.8, 0.5, 0.1],
        texture_guidance: format!("A {mood} texture: let the density follow the tension profile."),
        sections,
        workflow: vec![
            "Sketch each section on its own branch.".into(),
            "muse commit after each section; push with muse_push.".into(),
            "Open a pull request to merge the sections into main.".into(),
        ],
        mood,
        key,
    }
}

/// Plan a composition from the user's preferences (key, tempo, metre, mood, genre, length).
/// Without `preferences` it asks the user with a form; with `preferences` (even `{}`, which
/// takes the defaults) it does not ask. Reports progress.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    open_world = true,
    title = "Compose with preferences",
    category = "interactive"
)]
pub async fn musehub_create_with_preferences(
    ctx: &Ctx,
    State(db): State<Db>,
    elicit: Elicitation,
    progress: Progress,
    #[arg(desc = "The repository the composition is for (optional).")] repo_id: Option<String>,
    #[arg(
        desc = "Preferences: key (or key_signature), tempo_bpm, time_signature, mood, genre, reference_artist, duration_bars, include_modulation. Given, the tool does not ask."
    )]
    preferences: Option<Map<String, Value>>,
) -> Result<Json<ComposeResult>, ToolError> {
    let repo = match repo_id.filter(|r| !r.is_empty()) {
        Some(id) => Some(
            model::resolve_repo(
                &db,
                ctx.caller(),
                &RepoRef::new(Some(id), None, None),
                Need::Read,
            )
            .await?,
        ),
        None => None,
    };
    let (prefs, elicited) = match preferences {
        Some(p) => (p, false),
        None => {
            progress
                .report(
                    0.0,
                    Some(4.0),
                    Some("Requesting composition preferences from user…"),
                )
                .await;
            let p = ask(
                &elicit,
                "`preferences` (an object; {} takes the defaults)",
                "composition preferences form",
                "Choose the key, tempo, mood and genre of your composition.",
                compose_schema(),
            )
            .await?;
            (p, true)
        }
    };
    progress
        .report(1.0, Some(4.0), Some("Generating harmonic framework…"))
        .await;
    let plan = compose_plan(&prefs);
    progress
        .report(2.0, Some(4.0), Some("Designing section structure…"))
        .await;
    progress
        .report(4.0, Some(4.0), Some("Composition plan ready."))
        .await;
    Ok(Json(ComposeResult {
        scaffold_hint: repo.as_ref().map(|r| {
            format!(
                "Create one branch per section in {}/{} (intro, A, B, A', outro), commit each, then open pull requests into {}.",
                r.owner, r.slug, r.default_branch
            )
        }),
        repo_id: repo.map(|r| r.repo_id),
        composition_plan: plan,
        elicited,
    }))
}

/// Review focus.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDimension {
    /// Melody.
    Melodic,
    /// Harmony.
    Harmonic,
    /// Rhythm.
    Rhythmic,
    /// Form.
    Structural,
    /// Dynamics.
    Dynamic,
    /// Everything.
    All,
}

/// Review depth.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDepth {
    /// A glance.
    Quick,
    /// The usual.
    Standard,
    /// Every file.
    Thorough,
}

fn enum_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A review report.
#[schema(no_deserialize)]
pub struct ReviewReport {
    /// The proposal.
    pub pull_request: ProposalView,
    /// Focus.
    pub dimension: String,
    /// Depth.
    pub depth: String,
    /// Commits the proposal adds.
    pub commits_ahead: i64,
    /// Commits the target gained since the proposal branched.
    pub commits_behind: i64,
    /// Paths added.
    pub added: Vec<String>,
    /// Paths removed.
    pub removed: Vec<String>,
    /// Paths modified.
    pub modified: Vec<String>,
    /// Paths both branches changed differently since they split (the merge would refuse them).
    pub conflicts: Vec<String>,
    /// Observations.
    pub findings: Vec<String>,
    /// APPROVE, REQUEST_CHANGES or COMMENT.
    pub recommendation: String,
    /// True when the focus came from the user through elicitation.
    pub elicited: bool,
}

/// Review a proposal interactively: asks the user for the focus (dimension) and depth unless
/// `dimension` or `depth` is given, then compares the branches and reports findings and a
/// recommendation. Reports progress.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    open_world = true,
    title = "Interactive review",
    category = "interactive"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_review_pr_interactive(
    ctx: &Ctx,
    State(db): State<Db>,
    elicit: Elicitation,
    progress: Progress,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "The pull request id, or its number.")] pr_id: String,
    #[arg(
        desc = "Focus: melodic, harmonic, rhythmic, structural, dynamic or all. Given, the tool does not ask."
    )]
    dimension: Option<ReviewDimension>,
    #[arg(desc = "Depth: quick, standard or thorough. Given, the tool does not ask.")]
    depth: Option<ReviewDepth>,
) -> Result<Json<ReviewReport>, ToolError> {
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    let pr = read::find_pr(&db, &repo, &pr_id).await?;
    let (dimension, depth, elicited) = if dimension.is_some() || depth.is_some() {
        (
            dimension
                .map(|d| enum_name(&d))
                .unwrap_or_else(|| "all".into()),
            depth
                .map(|d| enum_name(&d))
                .unwrap_or_else(|| "standard".into()),
            false,
        )
    } else {
        let schema = json!({
            "type": "object",
            "properties": {
                "dimension_focus": {"type": "string", "title": "Focus", "description": "Which musical dimension to review", "enum": ["all", "melodic", "harmonic", "rhythmic", "structural", "dynamic"], "default": "all"},
                "review_depth": {"type": "string", "title": "Depth", "description": "How deep to go", "enum": ["quick", "standard", "thorough"], "default": "standard"}
            },
            "required": ["dimension_focus", "review_depth"]
        });
        let a = ask(
            &elicit,
            "`dimension` and/or `depth`",
            "review focus form",
            &format!("How should pull request #{} be reviewed?", pr.number),
            schema,
        )
        .await?;
        (
            a.get("dimension_focus")
                .and_then(Value::as_str)
                .unwrap_or("all")
                .to_string(),
            a.get("review_depth")
                .and_then(Value::as_str)
                .unwrap_or("standard")
                .to_string(),
            true,
        )
    };
    progress
        .report(
            0.0,
            Some(3.0),
            Some(&format!(
                "Analysing PR #{} ({dimension} / {depth})",
                pr.number
            )),
        )
        .await;
    let from = model::branch_head(&db, &repo.repo_id, &pr.from_branch)
        .await?
        .flatten();
    let to = model::branch_head(&db, &repo.repo_id, &pr.to_branch)
        .await?
        .flatten();
    progress
        .report(1.0, Some(3.0), Some("Computing branch divergence…"))
        .await;
    let all = model::all_commits(&db, &repo.repo_id).await?;
    let set = |h: &Option<String>| -> std::collections::HashSet<String> {
        h.as_ref()
            .map(|h| {
                model::reachable(&all, h)
                    .into_iter()
                    .map(|c| c.commit_id)
                    .collect()
            })
            .unwrap_or_default()
    };
    let (fs, ts) = (set(&from), set(&to));
    let commits_ahead = fs.difference(&ts).count() as i64;
    let commits_behind = ts.difference(&fs).count() as i64;
    // What the proposal changes is measured from where it split off the target (the merge
    // base), so work that landed on the target meanwhile is not reported as "removed".
    let base = match (&from, &to) {
        (Some(f), Some(t)) => crate::merge::merge_base(&all, t, f),
        _ => None,
    };
    let manifest_at = async |c: &Option<String>| match c {
        Some(c) => model::manifest(&db, &repo.repo_id, c).await,
        None => Ok(Default::default()),
    };
    let fm = manifest_at(&from).await?;
    let tm = manifest_at(&to).await?;
    let bm = manifest_at(&base).await?;
    let added: Vec<String> = fm
        .keys()
        .filter(|p| !bm.contains_key(*p))
        .cloned()
        .collect();
    let removed: Vec<String> = bm
        .keys()
        .filter(|p| !fm.contains_key(*p))
        .cloned()
        .collect();
    let modified: Vec<String> = fm
        .iter()
        .filter(|(p, o)| bm.get(*p).is_some_and(|b| b != *o))
        .map(|(p, _)| p.clone())
        .collect();
    let conflicts: Vec<String> = if to.is_some() {
        crate::merge::three_way(&bm, &tm, &fm)
            .conflicts
            .into_iter()
            .map(|c| c.path)
            .collect()
    } else {
        Vec::new()
    };
    progress
        .report(2.0, Some(3.0), Some("Building review report…"))
        .await;
    let reviews = model::proposal_reviews(&db, &pr.pr_id).await?;
    let mut findings = Vec::new();
    if commits_ahead == 0 {
        findings.push("The proposal adds no commits to the target branch.".to_string());
    } else {
        findings.push(format!(
            "{commits_ahead} commit(s) to merge; {} file(s) added, {} removed, {} modified.",
            added.len(),
            removed.len(),
            modified.len()
        ));
    }
    if commits_behind > 0 {
        findings.push(format!(
            "The target branch has {commits_behind} commit(s) the proposal lacks; they are kept by the merge."
        ));
    }
    if !conflicts.is_empty() {
        findings.push(format!(
            "Conflicts with the target branch: {}. Merge the target into the proposal branch first.",
            conflicts.join(", ")
        ));
    }
    if !removed.is_empty() {
        findings.push(format!("Removes: {}.", removed.join(", ")));
    }
    if depth == "thorough" {
        for p in added.iter().chain(modified.iter()) {
            findings.push(format!(
                "Review {p} ({}) for {dimension} consistency.",
                model::mime_for(p)
            ));
        }
    }
    let changes_requested = reviews.iter().any(|r| r.event == "request_changes");
    let recommendation = if changes_requested || !conflicts.is_empty() {
        "REQUEST_CHANGES"
    } else if commits_ahead > 0 && commits_behind == 0 {
        "APPROVE"
    } else {
        "COMMENT"
    };
    if changes_requested {
        findings.push("A reviewer has requested changes.".into());
    }
    progress
        .report(3.0, Some(3.0), Some("Review complete."))
        .await;
    Ok(Json(ReviewReport {
        pull_request: pr,
        dimension,
        depth,
        commits_ahead,
        commits_behind,
        added,
        removed,
        modified,
        conflicts,
        findings,
        recommendation: recommendation.into(),
        elicited,
    }))
}

/// A connection to an outside service.
#[schema(no_deserialize)]
pub struct ConnectionResult {
    /// The platform or service.
    pub service: String,
    /// `pending_authorization` until the service confirms, or `declined`.
    pub status: String,
    /// The page where the user authorises the hub.
    pub connect_url: String,
    /// Correlates the URL elicitation and the connection.
    pub elicitation_id: String,
    /// True when the URL was shown to the user through URL-mode elicitation.
    pub url_elicited: bool,
    /// What the service offers (DAW services).
    pub capabilities: Vec<String>,
    /// What to do next.
    pub next_steps: Vec<String>,
}

fn url_slug(name: &str) -> String {
    name.to_lowercase().replace(' ', "-")
}

/// Shared flow of the two connect tools.
#[allow(clippy::too_many_arguments)]
async fn connect(
    ctx: &Ctx,
    db: &Db,
    elicit: &Elicitation,
    kind: &str,
    choices: &[&str],
    chosen: Option<String>,
    repo_id: Option<String>,
    capabilities: fn(&str) -> Vec<String>,
) -> Result<ConnectionResult, ToolError> {
    let handle = model::ensure_user(db, ctx.caller()).await?;
    let repo = match repo_id.filter(|r| !r.is_empty()) {
        Some(id) => Some(
            model::resolve_repo(
                db,
                ctx.caller(),
                &RepoRef::new(Some(id), None, None),
                Need::Read,
            )
            .await?,
        ),
        None => None,
    };
    let bypass = chosen.is_some();
    let service = match chosen {
        Some(s) => choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(&s))
            .map(|c| c.to_string())
            .ok_or_else(|| {
                ToolError::invalid_argument(format!(
                    "unknown {kind} '{s}'; choose one of: {}",
                    choices.join(", ")
                ))
            })?,
        None => {
            let schema = json!({
                "type": "object",
                "properties": {
                    "service": {"type": "string", "title": "Service", "description": format!("The {kind} to connect"), "enum": choices, "default": choices[0]},
                    "confirm": {"type": "boolean", "title": "Connect", "description": "Authorise MuseHub to connect to it", "default": false}
                },
                "required": ["service", "confirm"]
            });
            let a = ask(
                elicit,
                &format!("the {kind} argument"),
                "connection form",
                &format!("Which {kind} should MuseHub connect to?"),
                schema,
            )
            .await?;
            if a.get("confirm").and_then(Value::as_bool) != Some(true) {
                return Err(ToolError::new(
                    "not_confirmed",
                    "The user did not confirm the connection.",
                ));
            }
            let s = a.get("service").and_then(Value::as_str).unwrap_or("");
            choices
                .iter()
                .find(|c| c.eq_ignore_ascii_case(s))
                .map(|c| c.to_string())
                .ok_or_else(|| ToolError::invalid_argument(format!("unknown {kind} '{s}'")))?
        }
    };
    let elicitation_id = new_id();
    let base = db.settings().public_url.trim_end_matches('/').to_string();
    let path = if kind == "DAW service" {
        format!("/mcp/connect/daw/{}", url_slug(&service))
    } else {
        format!("/mcp/connect/{}", url_slug(&service))
    };
    let connect_url = format!("{base}{path}?elicitation_id={elicitation_id}");
    // URL mode only on the interactive path, and only when the client supports it; the
    // bypass path hands the URL back without asking.
    let mut url_elicited = false;
    let mut status = "pending_authorization";
    if !bypass && supports_url(ctx) {
        match elicit
            .url(
                &format!("Authorise MuseHub to connect to {service}."),
                &connect_url,
                &elicitation_id,
            )
            .await
        {
            Ok(ElicitResult::Accept(())) => url_elicited = true,
            Ok(_) => status = "declined",
            Err(e) => return Err(e),
        }
    }
    if status == "declined" {
        return Err(ToolError::new(
            "elicitation_declined",
            format!("The user declined or cancelled the {service} authorisation."),
        ));
    }
    sqlx::query(
        "INSERT INTO connections (id, handle, kind, service, repo_id, status, elicitation_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(&handle)
    .bind(kind)
    .bind(&service)
    .bind(repo.as_ref().map(|r| r.repo_id.clone()))
    .bind(status)
    .bind(&elicitation_id)
    .bind(now())
    .execute(db.pool())
    .await
    .db()?;
    Ok(ConnectionResult {
        capabilities: capabilities(&service),
        next_steps: vec![
            format!("Open {connect_url} and authorise MuseHub."),
            match &repo {
                Some(r) => format!(
                    "Publish a release of {}/{} with musehub_create_release_interactive.",
                    r.owner, r.slug
                ),
                None => "Publish a release with musehub_create_release_interactive.".into(),
            },
        ],
        service,
        status: status.into(),
        connect_url,
        elicitation_id,
        url_elicited,
    })
}

fn no_capabilities(_: &str) -> Vec<String> {
    vec!["distribution of releases".into()]
}

fn daw_capabilities(service: &str) -> Vec<String> {
    let c: &[&str] = match service {
        "LANDR" => &[
            "AI mastering",
            "stems export",
            "distribution to 150+ platforms",
        ],
        "Splice" => &["sample library sync", "project backup", "collaboration"],
        "Soundtrap" => &["browser DAW sessions", "real-time collaboration"],
        "BandLab" => &["cloud projects", "mix editor", "social publishing"],
        "Audiotool" => &["browser studio", "device presets", "track publishing"],
        _ => &[],
    };
    c.iter().map(|s| s.to_string()).collect()
}

/// Streaming platforms.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Spotify.
    Spotify,
    /// SoundCloud.
    SoundCloud,
    /// Bandcamp.
    Bandcamp,
    /// YouTube Music.
    #[serde(rename = "YouTube Music")]
    YouTubeMusic,
    /// Apple Music.
    #[serde(rename = "Apple Music")]
    AppleMusic,
    /// TIDAL.
    #[serde(rename = "TIDAL")]
    Tidal,
    /// Amazon Music.
    #[serde(rename = "Amazon Music")]
    AmazonMusic,
    /// Deezer.
    Deezer,
}

/// Connect a streaming platform for distributing releases. Without `platform` it asks the
/// user which one (form), then shows the authorisation page (URL mode); with `platform` it
/// returns the authorisation URL without asking.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    open_world = true,
    title = "Connect a streaming platform",
    category = "interactive"
)]
pub async fn musehub_connect_streaming_platform(
    ctx: &Ctx,
    State(db): State<Db>,
    elicit: Elicitation,
    #[arg(desc = "The platform. Given, the tool does not ask.")] platform: Option<Platform>,
    #[arg(desc = "The repository whose releases to distribute (optional).")] repo_id: Option<
        String,
    >,
) -> Result<Json<ConnectionResult>, ToolError> {
    let chosen = platform.map(|p| enum_name(&p));
    Ok(Json(
        connect(
            ctx,
            &db,
            &elicit,
            "streaming platform",
            PLATFORMS,
            chosen,
            repo_id,
            no_capabilities,
        )
        .await?,
    ))
}

/// DAW cloud services.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DawService {
    /// LANDR.
    #[serde(rename = "LANDR")]
    Landr,
    /// Splice.
    Splice,
    /// Soundtrap.
    Soundtrap,
    /// BandLab.
    BandLab,
    /// Audiotool.
    Audiotool,
}

/// Connect a DAW cloud service (mastering, samples, cloud projects). Without `service` it asks
/// the user which one (form), then shows the authorisation page (URL mode); with `service` it
/// returns the authorisation URL and the service's capabilities without asking.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    open_world = true,
    title = "Connect a DAW cloud service",
    category = "interactive"
)]
pub async fn musehub_connect_daw_cloud(
    ctx: &Ctx,
    State(db): State<Db>,
    elicit: Elicitation,
    #[arg(desc = "The service. Given, the tool does not ask.")] service: Option<DawService>,
) -> Result<Json<ConnectionResult>, ToolError> {
    let chosen = service.map(|s| enum_name(&s));
    Ok(Json(
        connect(
            ctx,
            &db,
            &elicit,
            "DAW service",
            DAW_SERVICES,
            chosen,
            None,
            daw_capabilities,
        )
        .await?,
    ))
}

/// The result of the interactive release.
#[schema(no_deserialize)]
pub struct InteractiveRelease {
    /// The release.
    pub release: ReleaseView,
    /// The highlight line, if the user gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highlight: Option<String>,
    /// True when the metadata came from the user through elicitation.
    pub elicited: bool,
    /// What to do next.
    pub workflow_hint: String,
}

/// Publish a release interactively (owner and collaborators only): without `tag` it asks the
/// user for tag, title, notes, channel and a highlight (form); with `tag` it publishes at once
/// (title defaults to the tag). `pre_release` marks it as a pre-release. Reports progress.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    open_world = true,
    title = "Interactive release",
    category = "interactive"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_create_release_interactive(
    ctx: &Ctx,
    State(db): State<Db>,
    elicit: Elicitation,
    progress: Progress,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "Version tag, such as v1.0.0. Given, the tool does not ask.")] tag: Option<String>,
    #[arg(desc = "Release title (default: the tag).")] title: Option<String>,
    #[arg(desc = "Release notes (Markdown).")] notes: Option<String>,
    #[arg(desc = "Mark as a pre-release (default false).")] pre_release: Option<bool>,
) -> Result<Json<InteractiveRelease>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Maintain,
    )
    .await?;
    let pre_release = pre_release.unwrap_or(false);
    let (tag, title, notes, channel, highlight, elicited, total) = match tag {
        Some(t) => {
            let title = title.unwrap_or_else(|| t.clone());
            (t, title, notes.unwrap_or_default(), None, None, false, 2.0)
        }
        None => {
            progress
                .report(0.0, Some(3.0), Some("Collecting release metadata…"))
                .await;
            let schema = json!({
                "type": "object",
                "properties": {
                    "tag": {"type": "string", "title": "Tag", "description": "Version tag, e.g. v1.0.0", "minLength": 2, "maxLength": 32},
                    "title": {"type": "string", "title": "Title", "description": "Release title", "minLength": 2, "maxLength": 120},
                    "release_notes": {"type": "string", "title": "Notes", "description": "What changed", "maxLength": 4000},
                    "channel": {"type": "string", "title": "Channel", "description": "stable, beta, ...", "default": "stable"},
                    "highlight": {"type": "string", "title": "Highlight", "description": "One line for the announcement", "maxLength": 280}
                },
                "required": ["tag", "title"]
            });
            let a = ask(
                &elicit,
                "`tag` (and optionally `title`, `notes`)",
                "release form",
                &format!("Describe the new release of {}/{}.", repo.owner, repo.slug),
                schema,
            )
            .await?;
            let get = |k: &str| {
                a.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .filter(|s| !s.trim().is_empty())
            };
            let tag =
                get("tag").ok_or_else(|| ToolError::invalid_argument("the form has no tag"))?;
            let highlight = get("highlight");
            let mut notes = get("release_notes").or(notes).unwrap_or_default();
            if let Some(h) = &highlight {
                notes = format!("**Highlight:** {h}\n\n{notes}");
            }
            (
                tag.clone(),
                get("title").or(title).unwrap_or(tag),
                notes,
                get("channel"),
                highlight,
                true,
                3.0,
            )
        }
    };
    let step = total - 2.0;
    progress
        .report(step, Some(total), Some(&format!("Creating release {tag}…")))
        .await;
    let channel = channel.unwrap_or_else(|| {
        if pre_release {
            "beta".into()
        } else {
            "stable".into()
        }
    });
    let release = write::create_release(
        &db,
        &handle,
        &repo,
        NewRelease {
            tag: &tag,
            title: &title,
            body: &notes,
            commit_id: None,
            channel: &channel,
            pre_release: pre_release || channel != "stable",
        },
    )
    .await?;
    progress.report(total, Some(total), Some("Done.")).await;
    Ok(Json(InteractiveRelease {
        workflow_hint: format!(
            "Release {} is live. Distribute it with musehub_connect_streaming_platform, or share muse://{}/{}@{}.",
            release.tag, repo.owner, repo.slug, release.tag
        ),
        release,
        highlight,
        elicited,
    }))
}
