//! Connections to outside services (streaming platforms, DAW clouds), authorised through
//! URL-mode elicitation.

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

use crate::db::{Db, DbResultExt, new_id, now};
use crate::elicit;
use crate::identity;
use crate::params::{Need, RepoRef};
use crate::repos;

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
    let handle = identity::ensure_user(db, ctx.caller()).await?;
    let repo = match repo_id.filter(|r| !r.is_empty()) {
        Some(id) => Some(
            repos::resolve_repo(
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
            let a = elicit::ask(
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
    if !bypass && elicit::supports_url(ctx) {
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
    scopes = "repo:write",
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
    let chosen = platform.map(|p| elicit::enum_name(&p));
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
    scopes = "repo:write",
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
    let chosen = service.map(|s| elicit::enum_name(&s));
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
