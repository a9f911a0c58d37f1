//! Discovery documents: the authorization server's RFC 8414 metadata, and the RFC 9728
//! Protected Resource Metadata of `/mcp` (which the MCP transport serves; built here so that
//! it names the right authorization server and scopes).
//!
//! The issuer is the hub's public URL. RFC 8414 section 3.1 puts the metadata at
//! `/.well-known/oauth-authorization-server` followed by the issuer's path, so a hub published
//! under a path prefix (`https://example.com/hub`) answers at
//! `/.well-known/oauth-authorization-server/hub` as well. OpenID Connect discovery
//! (`/.well-known/openid-configuration`) is not served: the hub issues no ID tokens, and MCP
//! clients try the RFC 8414 location first.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use musehub_mcp::auth::bearer::ProtectedResourceMetadata;
use serde_json::{Value, json};

use super::page::{json_error, json_ok};
use super::{OAuth, keys::JWKS_PATH};
use crate::scopes;

/// The RFC 8414 well-known path.
pub const AS_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
/// The authorization endpoint.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
/// The token endpoint.
pub const TOKEN_PATH: &str = "/oauth/token";
/// The registration endpoint.
pub const REGISTER_PATH: &str = "/oauth/register";
/// The revocation endpoint.
pub const REVOKE_PATH: &str = "/oauth/revoke";

pub(super) fn routes() -> Router<OAuth> {
    Router::new()
        .route(AS_WELL_KNOWN, get(root))
        .route(&format!("{AS_WELL_KNOWN}/{{*path}}"), get(with_path))
}

impl OAuth {
    /// The authorization server metadata document.
    pub fn authorization_server_metadata(&self) -> Value {
        let s = self.settings();
        let auth_methods = json!(["none", "client_secret_basic", "client_secret_post"]);
        let mut m = json!({
            "issuer": self.issuer(),
            "authorization_endpoint": self.url(AUTHORIZE_PATH),
            "token_endpoint": self.url(TOKEN_PATH),
            "revocation_endpoint": self.url(REVOKE_PATH),
            "jwks_uri": self.url(JWKS_PATH),
            "scopes_supported": scopes::ALL,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
            "client_id_metadata_document_supported": s.cimd_enabled,
            "service_documentation": self.url("/mcp/docs"),
        });
        if s.dcr_enabled {
            m["registration_endpoint"] = json!(self.url(REGISTER_PATH));
        }
        m
    }

    /// The Protected Resource Metadata of `/mcp`: this resource, its authorization server
    /// (the hub, or the external issuer), the scopes, tokens in the header only.
    /// With OAuth turned off (`--no-oauth`) it names no authorization server: agent tokens
    /// still work, but a client cannot sign in by itself.
    pub fn protected_resource_metadata(&self) -> ProtectedResourceMetadata {
        let mut m = ProtectedResourceMetadata::new(self.resource(), self.authorization_server())
            .scopes(scopes::ALL)
            .name("MuseHub")
            .documentation(self.url("/mcp/docs"));
        if !self.settings().enabled {
            m.authorization_servers.clear();
        }
        m
    }
}

async fn root(State(oauth): State<OAuth>) -> Response {
    serve(&oauth, "")
}

async fn with_path(State(oauth): State<OAuth>, Path(path): Path<String>) -> Response {
    serve(&oauth, &format!("/{}", path.trim_end_matches('/')))
}

/// The document when `path` is the issuer's path, 404 otherwise.
fn serve(oauth: &OAuth, path: &str) -> Response {
    let issuer_path = url::Url::parse(oauth.issuer())
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default();
    if path != issuer_path {
        return json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no authorization server has this issuer",
        );
    }
    let mut r = json_ok(StatusCode::OK, &oauth.authorization_server_metadata());
    // Metadata is public and changes rarely: let clients cache it briefly.
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("public, max-age=300"),
    );
    r
}
