//! The OAuth settings: every lifetime and limit of the embedded authorization server, and the
//! external identity provider a deployment may use instead. Each has a default, a flag, an
//! environment variable and a key of the `[oauth]` table of the `--config` TOML file
//! (precedence: flag, environment, file, default).

use std::time::Duration;

use serde::Deserialize;

/// The OAuth settings in force.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// Serve the embedded authorization server (default true). With an external issuer the
    /// embedded one is off whatever this says.
    pub enabled: bool,
    /// How long an authorization code can be redeemed (default 60 s).
    pub code_ttl: Duration,
    /// How long an access token is valid (default 1 h).
    pub access_token_ttl: Duration,
    /// How long a refresh token is valid (default 30 days); each use rotates it.
    pub refresh_token_ttl: Duration,
    /// How long the sign-in/consent page stays usable (default 10 min).
    pub pending_ttl: Duration,
    /// How long a `login-code` one-time code is valid (default 10 min).
    pub login_code_ttl: Duration,
    /// Failed sign-ins on one consent page before it is closed (default 5).
    pub consent_max_attempts: u32,
    /// Sign-in pages open at once, hub-wide (default 10,000; more get 503 until some expire:
    /// the authorization endpoint needs no credentials, so this bounds what it can store).
    pub pending_max: i64,
    /// Dynamic client registration (RFC 7591) open (default true).
    pub dcr_enabled: bool,
    /// The largest registration request, in bytes (default 16 KiB).
    pub dcr_max_body_bytes: usize,
    /// Redirect URIs one client may register (default 10).
    pub dcr_max_redirect_uris: usize,
    /// Registered clients the hub keeps at most (default 10,000; registrations past it get
    /// 503 until old ones are removed).
    pub dcr_max_clients: i64,
    /// Accept Client ID Metadata Documents (an https `client_id` the hub fetches; default
    /// true).
    pub cimd_enabled: bool,
    /// Also accept `http://` metadata documents on loopback addresses (tests and development
    /// only; default false).
    pub cimd_allow_http_loopback: bool,
    /// How long a fetched metadata document is reused (default 300 s).
    pub cimd_cache_ttl: Duration,
    /// The largest metadata document, in bytes (default 64 KiB).
    pub cimd_max_bytes: usize,
    /// The timeout of one metadata document fetch (default 5 s).
    pub cimd_timeout: Duration,
    /// An external authorization server's issuer (Keycloak realm, Auth0 tenant, ...): tokens
    /// are then JWTs from it, verified with its JWKS, and the embedded server is off.
    pub external_issuer: Option<String>,
    /// The external issuer's JWKS URL (default: `<issuer>/.well-known/jwks.json`, Auth0's; a
    /// Keycloak realm's is `<issuer>/protocol/openid-connect/certs`).
    pub external_jwks_url: Option<String>,
    /// The claim of an external token that holds the MuseHub handle (default `sub`).
    pub external_subject_claim: String,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            code_ttl: Duration::from_secs(60),
            access_token_ttl: Duration::from_secs(3600),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            pending_ttl: Duration::from_secs(600),
            login_code_ttl: Duration::from_secs(600),
            consent_max_attempts: 5,
            pending_max: 10_000,
            dcr_enabled: true,
            dcr_max_body_bytes: 16 * 1024,
            dcr_max_redirect_uris: 10,
            dcr_max_clients: 10_000,
            cimd_enabled: true,
            cimd_allow_http_loopback: false,
            cimd_cache_ttl: Duration::from_secs(300),
            cimd_max_bytes: 64 * 1024,
            cimd_timeout: Duration::from_secs(5),
            external_issuer: None,
            external_jwks_url: None,
            external_subject_claim: "sub".into(),
        }
    }
}

/// The OAuth flags of `musehub-server` (flattened into its command line).
#[derive(clap::Args, Debug, Default, Clone)]
pub struct OAuthArgs {
    /// Do not serve the embedded OAuth authorization server (agent tokens and MSign still
    /// work). TOML: oauth.enabled = false.
    #[arg(long, env = "MUSEHUB_NO_OAUTH")]
    pub no_oauth: bool,
    /// Authorization code lifetime, seconds. Default 60. TOML: oauth.code_ttl_secs.
    #[arg(long, env = "MUSEHUB_OAUTH_CODE_TTL_SECS")]
    pub oauth_code_ttl_secs: Option<u64>,
    /// Access token lifetime, seconds. Default 3600. TOML: oauth.access_token_ttl_secs.
    #[arg(long, env = "MUSEHUB_OAUTH_ACCESS_TOKEN_TTL_SECS")]
    pub oauth_access_token_ttl_secs: Option<u64>,
    /// Refresh token lifetime, seconds. Default 2592000 (30 days). TOML:
    /// oauth.refresh_token_ttl_secs.
    #[arg(long, env = "MUSEHUB_OAUTH_REFRESH_TOKEN_TTL_SECS")]
    pub oauth_refresh_token_ttl_secs: Option<u64>,
    /// Sign-in/consent page lifetime, seconds. Default 600. TOML: oauth.pending_ttl_secs.
    #[arg(long, env = "MUSEHUB_OAUTH_PENDING_TTL_SECS")]
    pub oauth_pending_ttl_secs: Option<u64>,
    /// One-time login code lifetime, seconds. Default 600. TOML: oauth.login_code_ttl_secs.
    #[arg(long, env = "MUSEHUB_OAUTH_LOGIN_CODE_TTL_SECS")]
    pub oauth_login_code_ttl_secs: Option<u64>,
    /// Failed sign-ins allowed on one consent page. Default 5. TOML:
    /// oauth.consent_max_attempts.
    #[arg(long, env = "MUSEHUB_OAUTH_CONSENT_MAX_ATTEMPTS")]
    pub oauth_consent_max_attempts: Option<u32>,
    /// Sign-in pages open at once, hub-wide. Default 10000. TOML: oauth.pending_max.
    #[arg(long, env = "MUSEHUB_OAUTH_PENDING_MAX")]
    pub oauth_pending_max: Option<i64>,
    /// Close dynamic client registration. TOML: oauth.dcr_enabled = false.
    #[arg(long, env = "MUSEHUB_OAUTH_NO_DCR")]
    pub oauth_no_dcr: bool,
    /// Largest registration request, bytes. Default 16384. TOML: oauth.dcr_max_body_bytes.
    #[arg(long, env = "MUSEHUB_OAUTH_DCR_MAX_BODY_BYTES")]
    pub oauth_dcr_max_body_bytes: Option<usize>,
    /// Redirect URIs per registered client. Default 10. TOML: oauth.dcr_max_redirect_uris.
    #[arg(long, env = "MUSEHUB_OAUTH_DCR_MAX_REDIRECT_URIS")]
    pub oauth_dcr_max_redirect_uris: Option<usize>,
    /// Registered clients kept at most. Default 10000. TOML: oauth.dcr_max_clients.
    #[arg(long, env = "MUSEHUB_OAUTH_DCR_MAX_CLIENTS")]
    pub oauth_dcr_max_clients: Option<i64>,
    /// Refuse Client ID Metadata Documents. TOML: oauth.cimd_enabled = false.
    #[arg(long, env = "MUSEHUB_OAUTH_NO_CIMD")]
    pub oauth_no_cimd: bool,
    /// Also fetch http:// metadata documents on loopback (development and tests only). TOML:
    /// oauth.cimd_allow_http_loopback.
    #[arg(long, env = "MUSEHUB_OAUTH_CIMD_ALLOW_HTTP_LOOPBACK")]
    pub oauth_cimd_allow_http_loopback: bool,
    /// Metadata document cache, seconds. Default 300. TOML: oauth.cimd_cache_secs.
    #[arg(long, env = "MUSEHUB_OAUTH_CIMD_CACHE_SECS")]
    pub oauth_cimd_cache_secs: Option<u64>,
    /// Largest metadata document, bytes. Default 65536. TOML: oauth.cimd_max_bytes.
    #[arg(long, env = "MUSEHUB_OAUTH_CIMD_MAX_BYTES")]
    pub oauth_cimd_max_bytes: Option<usize>,
    /// Metadata document fetch timeout, seconds. Default 5. TOML: oauth.cimd_timeout_secs.
    #[arg(long, env = "MUSEHUB_OAUTH_CIMD_TIMEOUT_SECS")]
    pub oauth_cimd_timeout_secs: Option<u64>,
    /// Use this external authorization server (issuer URL) instead of the embedded one; see
    /// docs/deploy.md. TOML: oauth.external_issuer.
    #[arg(long, env = "MUSEHUB_OAUTH_EXTERNAL_ISSUER")]
    pub oauth_external_issuer: Option<String>,
    /// The external issuer's JWKS URL. Default <issuer>/.well-known/jwks.json. TOML:
    /// oauth.external_jwks_url.
    #[arg(long, env = "MUSEHUB_OAUTH_EXTERNAL_JWKS_URL")]
    pub oauth_external_jwks_url: Option<String>,
    /// The external token claim holding the MuseHub handle. Default sub. TOML:
    /// oauth.external_subject_claim.
    #[arg(long, env = "MUSEHUB_OAUTH_EXTERNAL_SUBJECT_CLAIM")]
    pub oauth_external_subject_claim: Option<String>,
}

/// The `[oauth]` table of the `--config` file.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct FileOAuth {
    enabled: Option<bool>,
    code_ttl_secs: Option<u64>,
    access_token_ttl_secs: Option<u64>,
    refresh_token_ttl_secs: Option<u64>,
    pending_ttl_secs: Option<u64>,
    login_code_ttl_secs: Option<u64>,
    consent_max_attempts: Option<u32>,
    pending_max: Option<i64>,
    dcr_enabled: Option<bool>,
    dcr_max_body_bytes: Option<usize>,
    dcr_max_redirect_uris: Option<usize>,
    dcr_max_clients: Option<i64>,
    cimd_enabled: Option<bool>,
    cimd_allow_http_loopback: Option<bool>,
    cimd_cache_secs: Option<u64>,
    cimd_max_bytes: Option<usize>,
    cimd_timeout_secs: Option<u64>,
    external_issuer: Option<String>,
    external_jwks_url: Option<String>,
    external_subject_claim: Option<String>,
}

impl OAuthSettings {
    /// The settings from the flags (and environment), then the file, then the defaults.
    pub fn resolve(args: &OAuthArgs, file: &FileOAuth) -> Self {
        let d = Self::default();
        let secs = |a: Option<u64>, f: Option<u64>, d: Duration| {
            a.or(f).map(Duration::from_secs).unwrap_or(d)
        };
        Self {
            enabled: !args.no_oauth && file.enabled.unwrap_or(d.enabled),
            code_ttl: secs(args.oauth_code_ttl_secs, file.code_ttl_secs, d.code_ttl),
            access_token_ttl: secs(
                args.oauth_access_token_ttl_secs,
                file.access_token_ttl_secs,
                d.access_token_ttl,
            ),
            refresh_token_ttl: secs(
                args.oauth_refresh_token_ttl_secs,
                file.refresh_token_ttl_secs,
                d.refresh_token_ttl,
            ),
            pending_ttl: secs(
                args.oauth_pending_ttl_secs,
                file.pending_ttl_secs,
                d.pending_ttl,
            ),
            login_code_ttl: secs(
                args.oauth_login_code_ttl_secs,
                file.login_code_ttl_secs,
                d.login_code_ttl,
            ),
            consent_max_attempts: args
                .oauth_consent_max_attempts
                .or(file.consent_max_attempts)
                .unwrap_or(d.consent_max_attempts)
                .max(1),
            pending_max: args
                .oauth_pending_max
                .or(file.pending_max)
                .unwrap_or(d.pending_max)
                .max(1),
            dcr_enabled: !args.oauth_no_dcr && file.dcr_enabled.unwrap_or(d.dcr_enabled),
            dcr_max_body_bytes: args
                .oauth_dcr_max_body_bytes
                .or(file.dcr_max_body_bytes)
                .unwrap_or(d.dcr_max_body_bytes),
            dcr_max_redirect_uris: args
                .oauth_dcr_max_redirect_uris
                .or(file.dcr_max_redirect_uris)
                .unwrap_or(d.dcr_max_redirect_uris)
                .max(1),
            dcr_max_clients: args
                .oauth_dcr_max_clients
                .or(file.dcr_max_clients)
                .unwrap_or(d.dcr_max_clients),
            cimd_enabled: !args.oauth_no_cimd && file.cimd_enabled.unwrap_or(d.cimd_enabled),
            cimd_allow_http_loopback: args.oauth_cimd_allow_http_loopback
                || file.cimd_allow_http_loopback.unwrap_or(false),
            cimd_cache_ttl: secs(
                args.oauth_cimd_cache_secs,
                file.cimd_cache_secs,
                d.cimd_cache_ttl,
            ),
            cimd_max_bytes: args
                .oauth_cimd_max_bytes
                .or(file.cimd_max_bytes)
                .unwrap_or(d.cimd_max_bytes),
            cimd_timeout: secs(
                args.oauth_cimd_timeout_secs,
                file.cimd_timeout_secs,
                d.cimd_timeout,
            ),
            external_issuer: args
                .oauth_external_issuer
                .clone()
                .or_else(|| file.external_issuer.clone())
                .filter(|s| !s.trim().is_empty()),
            external_jwks_url: args
                .oauth_external_jwks_url
                .clone()
                .or_else(|| file.external_jwks_url.clone())
                .filter(|s| !s.trim().is_empty()),
            external_subject_claim: args
                .oauth_external_subject_claim
                .clone()
                .or_else(|| file.external_subject_claim.clone())
                .unwrap_or(d.external_subject_claim),
        }
    }

    /// True when the embedded authorization server serves (enabled, no external issuer).
    pub fn embedded(&self) -> bool {
        self.enabled && self.external_issuer.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_which_beats_the_defaults() {
        let file: FileOAuth =
            toml::from_str("code_ttl_secs = 30\naccess_token_ttl_secs = 120\ndcr_enabled = false")
                .unwrap();
        let args = OAuthArgs {
            oauth_code_ttl_secs: Some(10),
            ..OAuthArgs::default()
        };
        let s = OAuthSettings::resolve(&args, &file);
        assert_eq!(s.code_ttl, Duration::from_secs(10));
        assert_eq!(s.access_token_ttl, Duration::from_secs(120));
        assert!(!s.dcr_enabled);
        assert_eq!(
            s.refresh_token_ttl,
            OAuthSettings::default().refresh_token_ttl
        );
        assert!(toml::from_str::<FileOAuth>("nope = 1").is_err());
    }
}
