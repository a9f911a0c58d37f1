//! OAuth 2.0 Protected Resource Metadata (RFC 9728): the document that tells a client which
//! authorization servers issue tokens for this resource, and where it is served.
//!
//! RFC 9728 section 3.1 builds the metadata URL by inserting
//! `/.well-known/oauth-protected-resource` between the host and the resource's path, so the
//! metadata of `https://hub.example/mcp` is at
//! `https://hub.example/.well-known/oauth-protected-resource/mcp`. MCP clients try that form
//! first and then the root form (`/.well-known/oauth-protected-resource`); a server whose
//! endpoint is `/mcp` serves both.

use serde::{Deserialize, Serialize};

use super::TokenError;

/// The well-known path prefix of RFC 9728.
pub const PROTECTED_RESOURCE_WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// The RFC 9728 metadata document (the fields MCP uses; unknown fields round-trip through
/// `extra`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProtectedResourceMetadata {
    /// The resource identifier: the canonical URL of the MCP endpoint (RFC 8707), which is
    /// also the audience its tokens must carry.
    pub resource: String,
    /// The issuers of the authorization servers that issue tokens for it (none when tokens
    /// are issued out of band, e.g. by an admin command).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_servers: Vec<String>,
    /// The scopes a client may request (the minimal set for basic use, per the MCP
    /// specification's scope selection strategy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// How tokens may be presented: only `header` (never the query or the body).
    pub bearer_methods_supported: Vec<String>,
    /// A human-readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// A page with documentation for developers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
    /// Other members, kept as they are.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ProtectedResourceMetadata {
    /// The metadata of `resource`, protected by the authorization server `issuer`: bearer
    /// tokens in the header only.
    pub fn new(resource: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self {
            resource: resource.into(),
            authorization_servers: vec![issuer.into()],
            scopes_supported: Vec::new(),
            bearer_methods_supported: vec!["header".into()],
            resource_name: None,
            resource_documentation: None,
            extra: serde_json::Map::new(),
        }
    }
    /// With another authorization server.
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }
    /// With these scopes advertised.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }
    /// With a name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }
    /// With a documentation page.
    pub fn documentation(mut self, url: impl Into<String>) -> Self {
        self.resource_documentation = Some(url.into());
        self
    }
}

/// The canonical form of a resource identifier (RFC 8707 section 2, the MCP specification's
/// "Canonical Server URI"): an absolute `http`/`https` URL with the scheme and host in lower
/// case, no fragment, no query, and no trailing slash (except for the bare root, which has
/// none either: `https://hub.example`).
pub fn canonical_resource(resource: &str) -> Result<String, TokenError> {
    let url = url::Url::parse(resource.trim())
        .map_err(|_| TokenError::Malformed("the resource is not an absolute URL".into()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TokenError::Malformed(
            "the resource is not an http or https URL".into(),
        ));
    }
    if url.fragment().is_some() {
        return Err(TokenError::Malformed("the resource has a fragment".into()));
    }
    if url.query().is_some() {
        return Err(TokenError::Malformed("the resource has a query".into()));
    }
    let Some(host) = url.host_str() else {
        return Err(TokenError::Malformed("the resource has no host".into()));
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TokenError::Malformed(
            "the resource carries user information".into(),
        ));
    }
    // `Url` already lower-cases the scheme and host and drops default ports.
    let mut out = format!("{}://{}", url.scheme(), host);
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    let path = url.path().trim_end_matches('/');
    out.push_str(path);
    Ok(out)
}

/// The paths at which the metadata of `resource` is served: the path-inserted form first
/// (`/.well-known/oauth-protected-resource/mcp` for `…/mcp`), then the root form. A resource
/// at the root has only the root form.
pub fn protected_resource_metadata_paths(resource: &str) -> Result<Vec<String>, TokenError> {
    let canonical = canonical_resource(resource)?;
    let path = url::Url::parse(&canonical)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default();
    let mut out = Vec::new();
    if !path.is_empty() {
        out.push(format!("{PROTECTED_RESOURCE_WELL_KNOWN}{path}"));
    }
    out.push(PROTECTED_RESOURCE_WELL_KNOWN.to_string());
    Ok(out)
}

/// The absolute metadata URL to name in `WWW-Authenticate: Bearer resource_metadata="…"`:
/// the path-inserted form of RFC 9728 section 3.1.
pub fn protected_resource_metadata_url(resource: &str) -> Result<String, TokenError> {
    let canonical = canonical_resource(resource)?;
    let url = url::Url::parse(&canonical)
        .map_err(|_| TokenError::Malformed("the resource is not an absolute URL".into()))?;
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    Ok(format!("{origin}{PROTECTED_RESOURCE_WELL_KNOWN}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_resources() {
        assert_eq!(
            canonical_resource("HTTPS://Hub.Example/mcp").unwrap(),
            "https://hub.example/mcp"
        );
        assert_eq!(
            canonical_resource("https://hub.example/mcp/").unwrap(),
            "https://hub.example/mcp"
        );
        assert_eq!(
            canonical_resource("https://hub.example:443/").unwrap(),
            "https://hub.example"
        );
        assert_eq!(
            canonical_resource("http://127.0.0.1:8080/mcp").unwrap(),
            "http://127.0.0.1:8080/mcp"
        );
        for bad in [
            "hub.example",
            "https://hub.example/mcp#frag",
            "https://hub.example/mcp?x=1",
            "ftp://hub.example",
            "https://user:pw@hub.example/mcp",
        ] {
            assert!(canonical_resource(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn well_known_urls() {
        assert_eq!(
            protected_resource_metadata_paths("https://hub.example/mcp").unwrap(),
            vec![
                "/.well-known/oauth-protected-resource/mcp".to_string(),
                "/.well-known/oauth-protected-resource".to_string()
            ]
        );
        assert_eq!(
            protected_resource_metadata_paths("https://hub.example").unwrap(),
            vec!["/.well-known/oauth-protected-resource".to_string()]
        );
        assert_eq!(
            protected_resource_metadata_url("http://127.0.0.1:8080/mcp").unwrap(),
            "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"
        );
    }

    #[test]
    fn metadata_serialises_per_rfc_9728() {
        let m = ProtectedResourceMetadata::new("https://hub.example/mcp", "https://hub.example")
            .scopes(["repo:read", "repo:write"])
            .name("MuseHub");
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "resource": "https://hub.example/mcp",
                "authorization_servers": ["https://hub.example"],
                "scopes_supported": ["repo:read", "repo:write"],
                "bearer_methods_supported": ["header"],
                "resource_name": "MuseHub"
            })
        );
        let back: ProtectedResourceMetadata = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);
    }
}
