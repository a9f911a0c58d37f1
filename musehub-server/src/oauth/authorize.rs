//! The authorization endpoint and the sign-in/consent page.
//!
//! `GET /oauth/authorize` validates the request in the order RFC 6749 section 4.1.2.1
//! requires: the client and its redirect URI first, and any problem there is shown on the
//! page and never redirected (a redirect to an unvalidated URI is an open redirect); only
//! then are errors (PKCE missing or `plain`, unknown scope, foreign resource) sent back to the
//! redirect URI with `state` and `iss` (RFC 9207). A valid request becomes a pending
//! authorization in the database and a page with a form.
//!
//! The form posts to `/oauth/authorize/consent` with the pending id and a CSRF token that is
//! bound to that pending authorization (its hash is stored with it) and to the browser (the
//! same token in a `SameSite=Strict`, `HttpOnly` cookie). The person signs in with a one-time
//! code from `musehub-server login-code` or with an MSign signature over the challenge shown
//! on the page (`musehub-server sign … --body CHALLENGE`), then allows or denies. Allowing
//! issues a single-use authorization code bound to the client, the redirect URI, the PKCE
//! challenge, the scopes and the resource.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use musehub_mcp::auth::SignedRequest;
use musehub_mcp::auth::bearer::{canonical_resource, token_hash};
use serde::Deserialize;

use super::metadata::AUTHORIZE_PATH;
use super::page::{STYLESHEET_PATH, error_page, escape, html, stylesheet};
use super::registration::{ClientError, redirect_target, redirect_uri_matches, resolve_client};
use super::storage::{self, Pending};
use super::{OAuth, random_secret, same_secret};
use crate::scopes;

/// Where the consent form posts.
pub const CONSENT_PATH: &str = "/oauth/authorize/consent";
/// The largest consent form accepted, in bytes.
const MAX_FORM_BYTES: usize = 16 * 1024;

pub(super) fn routes() -> Router<OAuth> {
    Router::new()
        .route(AUTHORIZE_PATH, get(authorize))
        .route(CONSENT_PATH, axum::routing::post(consent))
        .route(STYLESHEET_PATH, get(stylesheet))
}

/// Query or form parameters; a repeated parameter is an error (RFC 6749 section 3.1).
fn params(raw: &[u8]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw) {
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(format!(
                "the parameter {} is repeated",
                k.chars().take(40).collect::<String>()
            ));
        }
    }
    Ok(out)
}

/// `redirect_uri` with the answer's parameters added (its own query kept).
fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page(StatusCode::BAD_REQUEST, "The redirect URI is invalid.");
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    let mut r = StatusCode::SEE_OTHER.into_response();
    match HeaderValue::from_str(url.as_str()) {
        Ok(v) => {
            r.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => return error_page(StatusCode::BAD_REQUEST, "The redirect URI is invalid."),
    }
    super::page::harden(&mut r);
    r
}

/// An OAuth error sent back to the (validated) redirect URI.
fn redirect_error(
    oauth: &OAuth,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", oauth.issuer()));
    redirect_with(redirect_uri, &pairs)
}

fn storage_failure(e: sqlx::Error) -> Response {
    tracing::error!(error = %e, "OAuth storage");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "The hub cannot complete sign-ins right now. Try again shortly.",
    )
}

/// True for a PKCE S256 challenge: 43 base64url characters (a SHA-256 digest).
fn valid_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The scopes of a request: known ones only, `offline_access` dropped, the default when
/// none are named. `Err` names the first unknown scope.
fn requested_scopes(scope: Option<&str>) -> Result<String, String> {
    let mut out: Vec<&str> = Vec::new();
    for s in scope.unwrap_or("").split_whitespace() {
        if s == scopes::OFFLINE_ACCESS {
            continue;
        }
        if !scopes::ALL.contains(&s) {
            return Err(s.chars().take(64).collect());
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    if out.is_empty() {
        out = scopes::AGENT_DEFAULT.to_vec();
    }
    Ok(out.join(" "))
}

/// `GET /oauth/authorize`.
async fn authorize(State(oauth): State<OAuth>, RawQuery(query): RawQuery) -> Response {
    let p = match params(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(why) => {
            return error_page(StatusCode::BAD_REQUEST, &format!("Invalid request: {why}."));
        }
    };
    let Some(client_id) = p.get("client_id").filter(|c| !c.is_empty()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Invalid request: client_id is missing.",
        );
    };
    let client = match resolve_client(&oauth, client_id).await {
        Ok(c) => c,
        Err(ClientError::Invalid(why)) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("Unknown or invalid client: {why}."),
            );
        }
        Err(ClientError::Storage(e)) => return storage_failure(e),
    };
    let redirect_uri = match p.get("redirect_uri") {
        Some(r) if redirect_uri_matches(&client.redirect_uris, r) => r.clone(),
        Some(_) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "The redirect URI is not registered for this client, so the hub will not send you there.",
            );
        }
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Invalid request: redirect_uri is missing.",
            );
        }
    };
    // From here on the redirect URI is trusted: errors go back to the client.
    let state = p.get("state").map(String::as_str);
    if state.is_some_and(|s| s.len() > 2048) {
        return redirect_error(
            &oauth,
            &redirect_uri,
            None,
            "invalid_request",
            "state is too long",
        );
    }
    let fail = |error: &str, description: &str| {
        redirect_error(&oauth, &redirect_uri, state, error, description)
    };
    if p.get("response_type").map(String::as_str) != Some("code") {
        return fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    let Some(challenge) = p.get("code_challenge") else {
        return fail(
            "invalid_request",
            "PKCE is required: send code_challenge with code_challenge_method=S256",
        );
    };
    if p.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return fail(
            "invalid_request",
            "code_challenge_method must be S256 (plain is not accepted)",
        );
    }
    if !valid_challenge(challenge) {
        return fail(
            "invalid_request",
            "code_challenge must be the base64url SHA-256 of the verifier",
        );
    }
    let scope = match requested_scopes(p.get("scope").map(String::as_str)) {
        Ok(s) => s,
        Err(unknown) => return fail("invalid_scope", &format!("unknown scope {unknown}")),
    };
    let resource = match p.get("resource") {
        None => oauth.resource().to_string(),
        Some(r) => match canonical_resource(r) {
            Ok(c) if c == oauth.resource() => c,
            _ => return fail("invalid_target", "resource is not this hub's MCP endpoint"),
        },
    };
    match storage::count_pending(oauth.db()).await {
        Ok(n) if n >= oauth.settings().pending_max => {
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many sign-ins are in progress on this hub. Try again in a few minutes.",
            );
        }
        Ok(_) => {}
        Err(e) => return storage_failure(e),
    }
    let id = random_secret(32);
    let csrf = random_secret(32);
    let pending = Pending {
        client_id: client.client_id.clone(),
        redirect_uri,
        state: state.map(str::to_string),
        scope,
        resource,
        code_challenge: challenge.clone(),
        csrf_hash: token_hash(&csrf),
        challenge: format!("musehub-consent:{}", random_secret(24)),
        failures: 0,
    };
    if let Err(e) = storage::put_pending(
        oauth.db(),
        &id,
        &pending,
        oauth.settings().pending_ttl.as_secs() as i64,
    )
    .await
    {
        return storage_failure(e);
    }
    let mut r = consent_page(
        &id,
        &csrf,
        &pending,
        &client.client_name,
        None,
        StatusCode::OK,
    );
    if let Ok(v) = HeaderValue::from_str(&csrf_cookie(&oauth, &id, &csrf)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The cookie carrying the CSRF token of one pending authorization.
fn cookie_name(id: &str) -> String {
    format!("mh_consent_{}", &token_hash(id)[..12])
}

fn csrf_cookie(oauth: &OAuth, id: &str, csrf: &str) -> String {
    let secure = if oauth.issuer().starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={csrf}; Path=/oauth/authorize; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        cookie_name(id),
        oauth.settings().pending_ttl.as_secs()
    )
}

fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn scope_description(scope: &str) -> &'static str {
    match scope {
        scopes::READ => "read your repositories, feed and tokens as you",
        scopes::WRITE => {
            "create and change repositories, issues, proposals and releases, and push, as you"
        }
        _ => "",
    }
}

/// The sign-in/consent page of a pending authorization.
fn consent_page(
    id: &str,
    csrf: &str,
    p: &Pending,
    client_name: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let scopes_html: String = p
        .scope
        .split_whitespace()
        .map(|s| {
            format!(
                "<li><code>{}</code>: {}</li>",
                escape(s),
                escape(scope_description(s))
            )
        })
        .collect();
    let error_html = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "{error_html}\
         <p><strong id=\"client-name\">{name}</strong> <span class=\"muted\">({client_id})</span> asks to use \
         MuseHub for you, with these permissions:</p>\
         <ul class=\"scopes\">{scopes_html}</ul>\
         <p class=\"muted\">After you allow it you will be sent back to <code>{redirect}</code>.</p>\
         <form method=\"post\" action=\"{CONSENT_PATH}\">\
         <input type=\"hidden\" name=\"pending\" value=\"{id}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <fieldset><legend>Sign in with a one-time code</legend>\
         <label for=\"login_code\">The code printed by <code>musehub-server login-code --handle YOU</code></label>\
         <input type=\"text\" id=\"login_code\" name=\"login_code\" autocomplete=\"one-time-code\" spellcheck=\"false\">\
         </fieldset>\
         <fieldset><legend>Or sign with your MSign key</legend>\
         <p>Run <code>musehub-server sign --key YOUR.key --handle YOU --path {CONSENT_PATH} --body {challenge}</code> \
         and paste what it prints:</p>\
         <label for=\"msign\">Authorization value</label>\
         <textarea id=\"msign\" name=\"msign\" spellcheck=\"false\"></textarea>\
         </fieldset>\
         <p class=\"actions\"><button type=\"submit\" name=\"decision\" value=\"allow\" id=\"allow\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button></p>\
         </form>",
        name = escape(client_name),
        client_id = escape(&p.client_id),
        redirect = escape(&p.redirect_uri),
        id = escape(id),
        csrf = escape(csrf),
        challenge = escape(&p.challenge),
    );
    let target = redirect_target(&p.redirect_uri);
    html(status, "Sign in to MuseHub", &body, target.as_deref())
}

#[derive(Deserialize)]
struct ConsentForm {
    pending: String,
    csrf: String,
    decision: Option<String>,
    #[serde(default)]
    login_code: String,
    #[serde(default)]
    msign: String,
}

/// `POST /oauth/authorize/consent`.
async fn consent(State(oauth): State<OAuth>, headers: HeaderMap, body: Bytes) -> Response {
    if body.len() > MAX_FORM_BYTES {
        return error_page(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.");
    }
    let Ok(form) = serde_urlencoded::from_bytes::<ConsentForm>(&body) else {
        return error_page(StatusCode::BAD_REQUEST, "The form is incomplete.");
    };
    let db = oauth.db();
    let pending = match storage::get_pending(db, &form.pending).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "This sign-in page has expired or was already used.",
            );
        }
        Err(e) => return storage_failure(e),
    };
    let cookie_ok = cookie_value(&headers, &cookie_name(&form.pending))
        .is_some_and(|c| same_secret(c, &form.csrf));
    if !same_secret(&token_hash(&form.csrf), &pending.csrf_hash) || !cookie_ok {
        tracing::warn!(client_id = %pending.client_id, "consent form failed the CSRF check");
        return error_page(
            StatusCode::FORBIDDEN,
            "The form could not be verified (CSRF check failed). Start again from your MCP client.",
        );
    }
    let client_name = match resolve_client(&oauth, &pending.client_id).await {
        Ok(c) => c.client_name,
        Err(ClientError::Invalid(_)) => pending.client_id.clone(),
        Err(ClientError::Storage(e)) => return storage_failure(e),
    };
    let state = pending.state.as_deref();
    match form.decision.as_deref() {
        Some("deny") => {
            if let Err(e) = storage::take_pending(db, &form.pending).await {
                return storage_failure(e);
            }
            return redirect_error(
                &oauth,
                &pending.redirect_uri,
                state,
                "access_denied",
                "the user denied access",
            );
        }
        Some("allow") => {}
        _ => return error_page(StatusCode::BAD_REQUEST, "Choose Allow or Deny."),
    }
    let again = |error: &str, status| {
        consent_page(
            &form.pending,
            &form.csrf,
            &pending,
            &client_name,
            Some(error),
            status,
        )
    };
    let handle = if !form.login_code.trim().is_empty() {
        match storage::use_login_code(db, &form.login_code).await {
            Ok(h) => h,
            Err(e) => return storage_failure(e),
        }
    } else if !form.msign.trim().is_empty() {
        let signed = SignedRequest {
            authorization: form.msign.trim(),
            method: "POST",
            target: CONSENT_PATH,
            body: pending.challenge.as_bytes(),
            session_id: None,
        };
        match oauth.msign().verify(&signed).await {
            Ok(identity) => Some(identity.handle),
            Err(e) if matches!(e, musehub_mcp::auth::AuthError::Unavailable(_)) => {
                tracing::error!(
                    reason = e.reason(),
                    "MSign key store unavailable during sign-in"
                );
                return error_page(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Sign-in is unavailable right now.",
                );
            }
            Err(e) => {
                tracing::info!(reason = e.reason(), "MSign sign-in refused");
                None
            }
        }
    } else {
        return again(
            "Enter a one-time code or paste an MSign signature.",
            StatusCode::BAD_REQUEST,
        );
    };
    let Some(handle) = handle else {
        let max = i64::from(oauth.settings().consent_max_attempts);
        return match storage::fail_pending(db, &form.pending, max).await {
            Ok(true) => error_page(
                StatusCode::UNAUTHORIZED,
                "Too many failed sign-ins. Start again from your MCP client.",
            ),
            Ok(false) => again(
                "That code or signature was not accepted (codes work once and expire).",
                StatusCode::UNAUTHORIZED,
            ),
            Err(e) => storage_failure(e),
        };
    };
    match storage::take_pending(db, &form.pending).await {
        Ok(true) => {}
        Ok(false) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "This sign-in page was already used.",
            );
        }
        Err(e) => return storage_failure(e),
    }
    let code = random_secret(32);
    let issued = async {
        let grant = storage::new_grant(
            db,
            &pending.client_id,
            &handle,
            &pending.scope,
            &pending.resource,
        )
        .await?;
        storage::put_code(
            db,
            &code,
            &grant,
            &pending.client_id,
            &pending.redirect_uri,
            &pending.code_challenge,
            oauth.settings().code_ttl.as_secs() as i64,
        )
        .await
    };
    if let Err(e) = issued.await {
        return storage_failure(e);
    }
    tracing::info!(client_id = %pending.client_id, handle = %handle, scope = %pending.scope, "authorization granted");
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", oauth.issuer()));
    redirect_with(&pending.redirect_uri, &pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_checked_and_defaulted() {
        assert_eq!(requested_scopes(None).unwrap(), "repo:read repo:write");
        assert_eq!(
            requested_scopes(Some("repo:read offline_access")).unwrap(),
            "repo:read"
        );
        assert_eq!(
            requested_scopes(Some("repo:write repo:write")).unwrap(),
            "repo:write"
        );
        assert_eq!(requested_scopes(Some("admin")).unwrap_err(), "admin");
    }

    #[test]
    fn challenges_are_s256_shaped() {
        assert!(valid_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!valid_challenge("short"));
        assert!(!valid_challenge(
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"
        ));
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(params(b"a=1&b=2").is_ok());
        assert!(params(b"client_id=a&client_id=b").is_err());
    }
}
