//! The `--config` TOML file of the server binary, and how it prints URLs that may hold
//! credentials. Its keys mirror the command-line flags
//! (which win over the environment, which wins over the file; see `src/main.rs`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The `[rate_limits]` table.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileRateLimits {
    /// `false` serves without rate limits.
    pub enabled: Option<bool>,
    /// Requests per minute for each agent key.
    pub agent_per_minute: Option<u32>,
    /// Requests per minute for each human.
    pub human_per_minute: Option<u32>,
    /// Requests per minute for anonymous callers, per IP.
    pub anonymous_per_minute: Option<u32>,
    /// `muse_push` calls (and HTTP pushes) per minute for each caller.
    pub push_per_minute: Option<u32>,
    /// Other tools with their own limit, by name.
    #[serde(default)]
    pub tools_per_minute: HashMap<String, u32>,
}

/// The whole file.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to serve on.
    pub bind: Option<SocketAddr>,
    /// Database URL.
    pub database_url: Option<String>,
    /// Public base URL.
    pub public_url: Option<String>,
    /// Per-user storage quota, bytes.
    pub push_quota_bytes: Option<i64>,
    /// Load the demo hub.
    pub seed_demo: Option<bool>,
    /// `text` or `json`.
    pub log_format: Option<String>,
    /// Accepted clock skew of signatures, seconds.
    pub auth_skew_secs: Option<u64>,
    /// Redis for several instances.
    pub redis_url: Option<String>,
    /// Where object bytes are stored.
    pub objects_dir: Option<PathBuf>,
    /// Largest object accepted, bytes.
    pub max_object_bytes: Option<u64>,
    /// Largest body of one HTTP object upload request, bytes.
    pub upload_chunk_bytes: Option<usize>,
    /// Largest object an MCP call returns inline, bytes.
    pub max_inline_read_bytes: Option<u64>,
    /// The `[rate_limits]` table.
    #[serde(default)]
    pub rate_limits: FileRateLimits,
    /// The `[oauth]` table (docs/auth.md).
    #[serde(default)]
    pub oauth: crate::oauth::FileOAuth,
}

/// The file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable.
    #[error("reading the config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, or an unknown key.
    #[error("parsing {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: toml::de::Error,
    },
}

/// A URL with its credentials masked, for the banner and logs: the user information
/// (between `://` and `@`) and the values of query parameters that name a password.
pub fn redacted(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            format!("{}://***{}", &base[..start], &base[at..])
        }
        _ => base.to_string(),
    };
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.to_ascii_lowercase().contains("pass") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// Reads the file, or the empty configuration without one.
pub fn read_file_config(path: Option<&Path>) -> Result<FileConfig, ConfigError> {
    let Some(p) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
        path: p.display().to_string(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| ConfigError::Parse {
        path: p.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_masked_in_printed_urls() {
        assert_eq!(
            redacted("redis://:s3cret@10.0.0.5:6379/0"),
            "redis://***@10.0.0.5:6379/0"
        );
        assert_eq!(
            redacted("postgres://hub:pw@db/musehub"),
            "postgres://***@db/musehub"
        );
        assert_eq!(redacted("sqlite://musehub.db"), "sqlite://musehub.db");
        assert_eq!(redacted("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(
            redacted("postgres://db/hub?sslmode=require&password=pw"),
            "postgres://db/hub?sslmode=require&password=***"
        );
        assert_eq!(
            redacted("redis+unix:///run/redis.sock?db=0&pass=s3cret"),
            "redis+unix:///run/redis.sock?db=0&pass=***"
        );
    }

    #[test]
    fn the_object_store_keys_are_read_and_unknown_keys_refused() {
        let dir = std::env::temp_dir().join(format!("musehub-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("hub.toml");
        std::fs::write(
            &file,
            "objects_dir = \"/srv/objects\"\nmax_object_bytes = 2048\nupload_chunk_bytes = 1024\n\
             max_inline_read_bytes = 512\n[rate_limits]\npush_per_minute = 5\n",
        )
        .unwrap();
        let c = read_file_config(Some(&file)).unwrap();
        assert_eq!(c.objects_dir.as_deref(), Some(Path::new("/srv/objects")));
        assert_eq!(c.max_object_bytes, Some(2048));
        assert_eq!(c.upload_chunk_bytes, Some(1024));
        assert_eq!(c.max_inline_read_bytes, Some(512));
        assert_eq!(c.rate_limits.push_per_minute, Some(5));
        std::fs::write(&file, "object_dir = \"typo\"\n").unwrap();
        assert!(matches!(
            read_file_config(Some(&file)),
            Err(ConfigError::Parse { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
