//! The documentation routes: every body is computed once and served as shared bytes with a
//! content-hash `ETag`, honouring `If-None-Match` with 304. The bodies generated from the
//! registry (manifest, page, Markdown) are computed on their first request, not when the router
//! is built: with a large catalogue, rendering them is most of a server's start-up time (see
//! BENCHMARKS.md, start-up with 1,000 tools).

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::manifest::{MANIFEST_SCHEMA, manifest_json};
use super::markdown::markdown;
use super::page;
use super::{MANIFEST_PATH, MARKDOWN_PATH, PAGE_PATH, SCHEMA_PATH};
use crate::server::Server;

/// Path of the page's stylesheet.
pub(crate) const CSS_PATH: &str = "/mcp/docs/assets/docs.css";
/// Path of the page's script.
pub(crate) const JS_PATH: &str = "/mcp/docs/assets/docs.js";
/// Path of the page's icon.
pub(crate) const ICON_PATH: &str = "/mcp/docs/assets/icon.svg";

const CSS: &str = include_str!("assets/docs.css");
const JS: &str = include_str!("assets/docs.js");
const ICON: &str = include_str!("assets/icon.svg");

/// The page's policy: its own script and stylesheet only, no inline code, nothing from other
/// origins (item icons are shown only when they are `data:` URIs).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const CACHE: &str = "public, max-age=300";

/// One pre-rendered response body.
#[derive(Clone)]
struct Doc {
    body: Bytes,
    etag: HeaderValue,
    content_type: &'static str,
}

impl Doc {
    fn new(body: impl Into<Bytes>, content_type: &'static str) -> Self {
        let body = body.into();
        let etag = HeaderValue::from_str(&format!("\"{}\"", sha256_hex(&body)))
            .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
        Self {
            body,
            etag,
            content_type,
        }
    }

    fn respond(&self, request: &HeaderMap) -> Response {
        let mut response = if not_modified(request, &self.etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            (
                [(header::CONTENT_TYPE, self.content_type)],
                self.body.clone(),
            )
                .into_response()
        };
        let headers = response.headers_mut();
        headers.insert(header::ETAG, self.etag.clone());
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        response
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `If-None-Match` (RFC 9110, 13.1.2): `*`, or a list of entity tags compared weakly.
fn not_modified(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t).as_bytes() == ours)
}

/// A short hash of the assets, appended to their URLs by the page.
pub(crate) fn assets_version() -> String {
    let mut h = Sha256::new();
    for part in [CSS, JS, ICON] {
        h.update(part.as_bytes());
    }
    h.finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Site {
    server: Arc<Server>,
    manifest: OnceLock<Doc>,
    page: OnceLock<Doc>,
    markdown: OnceLock<Doc>,
    schema: Doc,
    css: Doc,
    js: Doc,
    icon: Doc,
}

impl Site {
    fn manifest(&self) -> &Doc {
        self.manifest
            .get_or_init(|| Doc::new(manifest_json(&self.server), "application/json"))
    }

    fn page(&self) -> &Doc {
        self.page.get_or_init(|| {
            let html = page::render(&self.server, &assets_version()).unwrap_or_else(|e| {
                tracing::error!(error = %e, "the docs page could not be rendered");
                "<!doctype html><title>Docs unavailable</title><p>The documentation page could not be rendered; see the server log. The manifest is at docs.json.</p>".to_string()
            });
            Doc::new(html, "text/html; charset=utf-8")
        })
    }

    fn markdown(&self) -> &Doc {
        self.markdown
            .get_or_init(|| Doc::new(markdown(&self.server), "text/markdown; charset=utf-8"))
    }
}

pub(crate) fn router(server: &Arc<Server>) -> Router {
    let site = Arc::new(Site {
        server: Arc::clone(server),
        manifest: OnceLock::new(),
        page: OnceLock::new(),
        markdown: OnceLock::new(),
        schema: Doc::new(MANIFEST_SCHEMA, "application/schema+json"),
        css: Doc::new(CSS, "text/css; charset=utf-8"),
        js: Doc::new(JS, "text/javascript; charset=utf-8"),
        icon: Doc::new(ICON, "image/svg+xml"),
    });
    macro_rules! doc {
        ($doc:expr) => {
            get(
                |State(site): State<Arc<Site>>, headers: HeaderMap| async move {
                    let doc: fn(&Site) -> &Doc = $doc;
                    doc(&site).respond(&headers)
                },
            )
        };
    }
    Router::new()
        .route(MANIFEST_PATH, doc!(Site::manifest))
        .route(SCHEMA_PATH, doc!(|site| &site.schema))
        .route(PAGE_PATH, doc!(Site::page))
        // `/mcp/docs/` would break the page's relative links.
        .route(
            &format!("{PAGE_PATH}/"),
            get(|| async { Redirect::permanent("../docs") }),
        )
        .route(MARKDOWN_PATH, doc!(Site::markdown))
        .route(CSS_PATH, doc!(|site| &site.css))
        .route(JS_PATH, doc!(|site| &site.js))
        .route(ICON_PATH, doc!(|site| &site.icon))
        .with_state(site)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let etag = HeaderValue::from_static("\"abc\"");
        let mut h = HeaderMap::new();
        assert!(!not_modified(&h, &etag));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"x\", W/\"abc\""),
        );
        assert!(not_modified(&h, &etag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"abcd\""));
        assert!(!not_modified(&h, &etag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(not_modified(&h, &etag));
    }
}
