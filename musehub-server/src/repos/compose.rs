//! Planning a composition from the user's preferences (asked with a form when not given).

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Map, Value, json};

use crate::db::Db;
use crate::elicit;
use crate::params::{Need, RepoRef};
use crate::repos;

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
    scopes = "repo:write",
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
            repos::resolve_repo(
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
            let p = elicit::ask(
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
