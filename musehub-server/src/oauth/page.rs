//! What the authorization server answers with: server-rendered HTML pages under a strict
//! Content-Security-Policy (no script at all, no inline style: the stylesheet is a separate
//! same-origin file), framing forbidden, never cached; and OAuth JSON errors.

pub use crate::html::escape;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The stylesheet's path (served by [`stylesheet`]).
pub const STYLESHEET_PATH: &str = "/oauth/static/consent.css";

const STYLESHEET: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;\
padding:0 1rem;color:#1b1b1f;line-height:1.5}h1{font-size:1.5rem}fieldset{border:1px solid #ccd;\
border-radius:.4rem;margin:1rem 0;padding:.75rem 1rem}legend{font-weight:600}label{display:block;\
margin:.25rem 0}input[type=text],textarea{width:100%;box-sizing:border-box;font:inherit;\
padding:.4rem}textarea{min-height:5rem;font-family:monospace}code{background:#f2f2f6;padding:0 .2rem;\
border-radius:.2rem;word-break:break-all}.actions button{font:inherit;padding:.5rem 1.25rem;\
margin-right:.5rem}.error{color:#a00;font-weight:600}.scopes li{margin:.2rem 0}.muted{color:#555}";

/// The CSP of every page: nothing but same-origin stylesheets, forms posting to this origin
/// (plus, on the consent page, the validated redirect URI's origin, which the form's answer
/// redirects to), no framing, no `<base>`.
pub fn csp(form_target: Option<&str>) -> String {
    let mut form_action = "'self'".to_string();
    if let Some(t) = form_target {
        form_action.push(' ');
        form_action.push_str(t);
    }
    format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// Security headers every answer of the authorization server carries.
pub fn harden(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// An HTML page: `body` is trusted markup (callers escape what they put in it).
pub fn html(status: StatusCode, title: &str, body: &str, form_target: Option<&str>) -> Response {
    let doc = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\
         <title>{t} · MuseHub</title></head><body><main><h1>{t}</h1>{body}</main></body></html>",
        t = escape(title)
    );
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        doc,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&csp(form_target)) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    harden(&mut r);
    r
}

/// An error page for a request that cannot be sent back to the client (unknown client, a
/// redirect URI that is not registered, an expired page): shown, never redirected.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    html(
        status,
        "Sign-in failed",
        &format!(
            "<p class=\"error\">{}</p><p class=\"muted\">Start again from your MCP client.</p>",
            escape(message)
        ),
        None,
    )
}

/// `GET /oauth/static/consent.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// An OAuth error as JSON (RFC 6749 section 5.2): `{"error", "error_description"}`.
pub fn json_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "error": error, "error_description": description }).to_string(),
    )
        .into_response();
    harden(&mut r);
    r
}

/// A JSON answer that must never be cached (tokens, registrations).
pub fn json_ok(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    harden(&mut r);
    r
}
