//! Who may ask for authorization: clients registered dynamically (RFC 7591, `POST
//! /oauth/register`) and clients identified by a Client ID Metadata Document (an https
//! `client_id` whose JSON document the hub fetches, validates and caches).
//!
//! Redirect URIs are the heart of it: a registered URI is https, an http loopback URI
//! (`127.0.0.1`, `[::1]`, `localhost`; RFC 8252 section 7.3, whose port may vary at
//! authorization time), or a private-use scheme with a dot (`com.example.app:/cb`, RFC 8252
//! section 7.1); never with a fragment or user information. A request's redirect URI must
//! match a registered one exactly, except for the loopback port.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use musehub_mcp::auth::bearer::token_hash;
use serde_json::{Value, json};
use url::Url;

use super::metadata::REGISTER_PATH;
use super::page::{json_error, json_ok};
use super::storage::{self, Client};
use super::{OAuth, random_secret, unix_now};

pub(super) fn routes() -> Router<OAuth> {
    Router::new().route(REGISTER_PATH, post(register))
}

const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "[::1]", "localhost"];

/// Why a redirect URI cannot be registered.
pub fn check_redirect_uri(uri: &str) -> Result<(), &'static str> {
    if uri.len() > 2000 {
        return Err("redirect URI too long");
    }
    let u = Url::parse(uri).map_err(|_| "redirect URI is not an absolute URI")?;
    if u.fragment().is_some() {
        return Err("redirect URI has a fragment");
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("redirect URI carries user information");
    }
    match u.scheme() {
        "https" => Ok(()),
        "http" => match u.host_str() {
            Some(h) if LOOPBACK_HOSTS.contains(&h) => Ok(()),
            _ => Err("http redirect URIs must be loopback (127.0.0.1, [::1], localhost)"),
        },
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about" | "ws" | "wss" => {
            Err("redirect URI scheme not allowed")
        }
        s if s.contains('.') => Ok(()),
        _ => Err("custom redirect URI schemes must be reverse domain names (com.example.app)"),
    }
}

/// True when the requested redirect URI matches a registered one: exactly, or for an http
/// loopback URI with the same host, path and query but any port.
pub fn redirect_uri_matches(registered: &[String], requested: &str) -> bool {
    if registered.iter().any(|r| r == requested) {
        return true;
    }
    let Ok(req) = Url::parse(requested) else {
        return false;
    };
    if req.scheme() != "http"
        || !req.host_str().is_some_and(|h| LOOPBACK_HOSTS.contains(&h))
        || req.fragment().is_some()
        || !req.username().is_empty()
        || req.password().is_some()
    {
        return false;
    }
    registered
        .iter()
        .filter_map(|r| Url::parse(r).ok())
        .any(|reg| {
            reg.scheme() == "http"
                && reg.host_str() == req.host_str()
                && reg.path() == req.path()
                && reg.query() == req.query()
        })
}

/// The origin a redirect goes to, for the consent page's `form-action` (a private-use scheme
/// as `scheme:`).
pub fn redirect_target(uri: &str) -> Option<String> {
    let u = Url::parse(uri).ok()?;
    match u.scheme() {
        "http" | "https" => Some(u.origin().ascii_serialization()),
        s => Some(format!("{s}:")),
    }
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v?.as_array()?
        .iter()
        .map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// A checked client registration (from a registration request or a metadata document).
struct Checked {
    name: String,
    redirect_uris: Vec<String>,
    grant_types: Vec<String>,
    auth_method: String,
}

fn check_metadata(
    m: &Value,
    max_uris: usize,
    cimd: bool,
) -> Result<Checked, (&'static str, String)> {
    let bad = |e: &'static str, d: String| Err((e, d));
    let Some(obj) = m.as_object() else {
        return bad(
            "invalid_client_metadata",
            "the metadata is not a JSON object".into(),
        );
    };
    let Some(uris) = strings(obj.get("redirect_uris")) else {
        return bad(
            "invalid_redirect_uri",
            "redirect_uris must be an array of strings".into(),
        );
    };
    if uris.is_empty() {
        return bad("invalid_redirect_uri", "redirect_uris is empty".into());
    }
    if uris.len() > max_uris {
        return bad(
            "invalid_redirect_uri",
            format!("at most {max_uris} redirect URIs"),
        );
    }
    for u in &uris {
        if let Err(why) = check_redirect_uri(u) {
            return bad("invalid_redirect_uri", why.into());
        }
    }
    let grant_types = match obj.get("grant_types") {
        None => vec!["authorization_code".to_string()],
        Some(v) => match strings(Some(v)) {
            Some(g) => g,
            None => {
                return bad(
                    "invalid_client_metadata",
                    "grant_types must be an array of strings".into(),
                );
            }
        },
    };
    if !grant_types.iter().any(|g| g == "authorization_code")
        || grant_types
            .iter()
            .any(|g| g != "authorization_code" && g != "refresh_token")
    {
        return bad(
            "invalid_client_metadata",
            "grant_types: only authorization_code (and refresh_token) are supported".into(),
        );
    }
    if let Some(rt) = obj.get("response_types")
        && strings(Some(rt)).is_none_or(|r| r.iter().any(|t| t != "code"))
    {
        return bad(
            "invalid_client_metadata",
            "response_types: only code is supported".into(),
        );
    }
    let auth_method = match obj.get("token_endpoint_auth_method") {
        None if cimd => "none".to_string(),
        None => "client_secret_basic".to_string(),
        Some(Value::String(m))
            if matches!(
                m.as_str(),
                "none" | "client_secret_basic" | "client_secret_post"
            ) =>
        {
            m.clone()
        }
        Some(_) => {
            return bad(
                "invalid_client_metadata",
                "token_endpoint_auth_method: none, client_secret_basic or client_secret_post"
                    .into(),
            );
        }
    };
    if cimd && auth_method != "none" {
        return bad(
            "invalid_client_metadata",
            "a metadata-document client must use token_endpoint_auth_method none".into(),
        );
    }
    let name = match obj.get("client_name") {
        None => String::new(),
        Some(Value::String(n)) if n.chars().count() <= 200 && !n.chars().any(char::is_control) => {
            n.trim().to_string()
        }
        Some(_) => {
            return bad(
                "invalid_client_metadata",
                "client_name: at most 200 characters without control characters".into(),
            );
        }
    };
    Ok(Checked {
        name,
        redirect_uris: uris,
        grant_types,
        auth_method,
    })
}

/// `POST /oauth/register` (RFC 7591).
async fn register(State(oauth): State<OAuth>, headers: HeaderMap, body: Bytes) -> Response {
    let s = oauth.settings();
    if !s.dcr_enabled {
        return json_error(
            StatusCode::FORBIDDEN,
            "access_denied",
            "dynamic registration is closed",
        );
    }
    if body.len() > s.dcr_max_body_bytes {
        return json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_client_metadata",
            &format!(
                "the registration request exceeds {} bytes",
                s.dcr_max_body_bytes
            ),
        );
    }
    let json_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if !json_type {
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            "the registration request must be application/json",
        );
    }
    let Ok(metadata) = serde_json::from_slice::<Value>(&body) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            "the body is not JSON",
        );
    };
    let checked = match check_metadata(&metadata, s.dcr_max_redirect_uris, false) {
        Ok(c) => c,
        Err((code, why)) => return json_error(StatusCode::BAD_REQUEST, code, &why),
    };
    match storage::count_clients(oauth.db()).await {
        Ok(n) if n >= s.dcr_max_clients => {
            return json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the hub has as many registered clients as it keeps",
            );
        }
        Ok(_) => {}
        Err(e) => return db_unavailable(e),
    }
    let client_id = format!("mhc_{}", random_secret(18));
    let secret = (checked.auth_method != "none").then(|| random_secret(32));
    let issued = unix_now();
    let client = Client {
        client_id: client_id.clone(),
        kind: "dcr".into(),
        secret_hash: secret.as_deref().map(token_hash),
        client_name: if checked.name.is_empty() {
            "Unnamed MCP client".into()
        } else {
            checked.name.clone()
        },
        redirect_uris: checked.redirect_uris.clone(),
        grant_types: checked.grant_types.clone(),
        auth_method: checked.auth_method.clone(),
        fetched_at: issued,
    };
    if let Err(e) = storage::put_client(oauth.db(), &client, &metadata).await {
        return db_unavailable(e);
    }
    tracing::info!(client_id = %client_id, client_name = %client.client_name.escape_debug(), "registered an OAuth client");
    let mut answer = json!({
        "client_id": client_id,
        "client_id_issued_at": issued,
        "client_name": client.client_name,
        "redirect_uris": client.redirect_uris,
        "grant_types": client.grant_types,
        "response_types": ["code"],
        "token_endpoint_auth_method": client.auth_method,
    });
    if let Some(secret) = secret {
        answer["client_secret"] = json!(secret);
        answer["client_secret_expires_at"] = json!(0);
    }
    for k in [
        "scope",
        "client_uri",
        "logo_uri",
        "software_id",
        "software_version",
        "application_type",
    ] {
        if let Some(v) = metadata.get(k).filter(|v| v.is_string()) {
            answer[k] = v.clone();
        }
    }
    json_ok(StatusCode::CREATED, &answer)
}

fn db_unavailable(e: sqlx::Error) -> Response {
    tracing::error!(error = %e, "OAuth storage");
    json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "the authorization server is unavailable",
    )
}

/// Why a client could not be resolved (shown on the page, never redirected).
#[derive(Debug)]
pub enum ClientError {
    /// No such client, or its metadata document is unusable.
    Invalid(String),
    /// The database failed.
    Storage(sqlx::Error),
}

/// True when `client_id` names a metadata document the hub may fetch.
fn cimd_url(oauth: &OAuth, client_id: &str) -> Option<Url> {
    let u = Url::parse(client_id).ok()?;
    if u.fragment().is_some() || !u.username().is_empty() || u.password().is_some() {
        return None;
    }
    if u.path().is_empty() || u.path() == "/" {
        return None;
    }
    match u.scheme() {
        "https" => {
            // Refuse literal private and loopback addresses (a cheap guard against using the
            // hub to probe its own network; names are resolved by the HTTP client).
            let private = match u.host() {
                Some(url::Host::Ipv4(ip)) => {
                    ip.is_private() || ip.is_loopback() || ip.is_link_local() || ip.is_unspecified()
                }
                Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unspecified(),
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                None => true,
            };
            (!private || oauth.settings().cimd_allow_http_loopback).then_some(u)
        }
        "http" if oauth.settings().cimd_allow_http_loopback => matches!(
            u.host_str(),
            Some("127.0.0.1") | Some("[::1]") | Some("localhost")
        )
        .then_some(u),
        _ => None,
    }
}

/// The client of an authorization or token request: a registered one, or one whose metadata
/// document is fetched (again when the cached copy is older than the cache TTL).
pub async fn resolve_client(oauth: &OAuth, client_id: &str) -> Result<Client, ClientError> {
    if client_id.is_empty() || client_id.len() > 2000 {
        return Err(ClientError::Invalid(
            "missing or oversized client_id".into(),
        ));
    }
    let known = storage::get_client(oauth.db(), client_id)
        .await
        .map_err(ClientError::Storage)?;
    let s = oauth.settings();
    match known {
        Some(c) if c.kind != "cimd" => return Ok(c),
        Some(c) if unix_now() - c.fetched_at < s.cimd_cache_ttl.as_secs() as i64 => return Ok(c),
        _ => {}
    }
    if !s.cimd_enabled {
        return Err(ClientError::Invalid("unknown client".into()));
    }
    let Some(url) = cimd_url(oauth, client_id) else {
        return Err(ClientError::Invalid("unknown client".into()));
    };
    let document = fetch_document(oauth, url)
        .await
        .map_err(ClientError::Invalid)?;
    if document.get("client_id").and_then(Value::as_str) != Some(client_id) {
        return Err(ClientError::Invalid(
            "the client metadata document's client_id is not its URL".into(),
        ));
    }
    let checked = check_metadata(&document, s.dcr_max_redirect_uris, true)
        .map_err(|(_, why)| ClientError::Invalid(format!("client metadata document: {why}")))?;
    if checked.name.is_empty() {
        return Err(ClientError::Invalid(
            "the client metadata document has no client_name".into(),
        ));
    }
    let client = Client {
        client_id: client_id.to_string(),
        kind: "cimd".into(),
        secret_hash: None,
        client_name: checked.name,
        redirect_uris: checked.redirect_uris,
        grant_types: checked.grant_types,
        auth_method: checked.auth_method,
        fetched_at: unix_now(),
    };
    storage::put_client(oauth.db(), &client, &document)
        .await
        .map_err(ClientError::Storage)?;
    Ok(client)
}

async fn fetch_document(oauth: &OAuth, url: Url) -> Result<Value, String> {
    let s = oauth.settings();
    let mut response = oauth
        .http()
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(s.cimd_timeout)
        .send()
        .await
        .map_err(|_| "the client metadata document could not be fetched".to_string())?;
    if !response.status().is_success() {
        return Err(format!(
            "the client metadata document answered HTTP {}",
            response.status().as_u16()
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|_| "the client metadata document could not be read".to_string())?
    {
        if body.len() + chunk.len() > s.cimd_max_bytes {
            return Err("the client metadata document is too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|_| "the client metadata document is not JSON".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_that_can_be_registered() {
        for ok in [
            "https://app.example/cb",
            "http://127.0.0.1:3000/callback",
            "http://localhost/callback",
            "http://[::1]:8080/cb",
            "com.example.app:/oauth",
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://evil.example/cb",
            "https://app.example/cb#frag",
            "https://user:pw@app.example/cb",
            "javascript:alert(1)",
            "data:text/html,hi",
            "myapp:/cb",
            "/relative",
            "http://127.0.0.1.evil.example/cb",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_is_exact_except_the_loopback_port() {
        let reg = vec![
            "http://127.0.0.1:3000/callback".to_string(),
            "https://app.example/cb".to_string(),
        ];
        assert!(redirect_uri_matches(&reg, "http://127.0.0.1:3000/callback"));
        assert!(redirect_uri_matches(
            &reg,
            "http://127.0.0.1:49152/callback"
        ));
        assert!(redirect_uri_matches(&reg, "https://app.example/cb"));
        for bad in [
            "http://127.0.0.1:3000/callback/../x",
            "http://127.0.0.1:3000/other",
            "http://localhost:3000/callback",
            "http://127.0.0.1:3000/callback?next=https://evil",
            "https://app.example/cb/",
            "https://app.example:8443/cb",
            "https://app.example.evil/cb",
            "https://app.example/cb#x",
            "http://127.0.0.1:3000@evil.example/callback",
            "http://evil.example/callback",
        ] {
            assert!(!redirect_uri_matches(&reg, bad), "{bad}");
        }
    }
}
