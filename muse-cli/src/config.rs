//! `muse config`: `section.key` values in TOML, per repository (`.muse/config.toml`) and per
//! user (`$MUSE_HOME/config.toml`, default `~/.muse/config.toml`); the repository's win.
//!
//! Keys: `user.name` (commit author; default `user.handle`), `user.handle` (the MuseHub
//! handle requests are signed for), `user.key` (its secret key file, as `musehub-server keys
//! generate` or `muse auth enroll` wrote it), `remote.<name>.url`.

use std::path::{Path, PathBuf};

use crate::error::{MuseError, Result};

/// The keys `muse config` accepts (plus `remote.<name>.url`).
pub const KEYS: &[&str] = &["user.name", "user.handle", "user.key"];

/// Where per-user state lives: `$MUSE_HOME`, else `$HOME/.muse`.
pub fn muse_home() -> Option<PathBuf> {
    std::env::var_os("MUSE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".muse")))
}

/// The per-user config file.
pub fn global_file() -> Option<PathBuf> {
    muse_home().map(|h| h.join("config.toml"))
}

/// Checks a key: one of [`KEYS`], or `remote.NAME.url` with a plain NAME.
fn check_key(key: &str) -> Result<()> {
    let remote = key
        .strip_prefix("remote.")
        .and_then(|k| k.strip_suffix(".url"))
        .is_some_and(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if !KEYS.contains(&key) && !remote {
        return Err(MuseError::Config(format!(
            "unknown key '{key}'; known: {}, remote.NAME.url",
            KEYS.join(", ")
        )));
    }
    Ok(())
}

/// One config file.
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    path: PathBuf,
    table: toml::Table,
}

impl ConfigFile {
    /// Reads `path` (empty when it does not exist).
    pub fn load(path: &Path) -> Result<Self> {
        let table = match std::fs::read_to_string(path) {
            Ok(text) => text
                .parse::<toml::Table>()
                .map_err(|e| MuseError::Config(format!("{}: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => toml::Table::new(),
            Err(e) => return Err(MuseError::io("read", path)(e)),
        };
        Ok(Self {
            path: path.to_path_buf(),
            table,
        })
    }

    /// A value (`section.key`, or `remote.NAME.url`).
    pub fn get(&self, key: &str) -> Option<String> {
        let mut parts = key.split('.');
        let first = parts.next()?;
        let mut v = self.table.get(first)?;
        for p in parts {
            v = v.as_table()?.get(p)?;
        }
        v.as_str().map(str::to_string)
    }

    /// Sets a value and writes the file.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        check_key(key)?;
        let parts: Vec<&str> = key.split('.').collect();
        let mut t = &mut self.table;
        for p in &parts[..parts.len() - 1] {
            t = t
                .entry(p.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| MuseError::Config(format!("'{p}' is not a section")))?;
        }
        t.insert(
            parts[parts.len() - 1].to_string(),
            toml::Value::String(value.to_string()),
        );
        self.save()
    }

    /// The remote names with a URL.
    pub fn remotes(&self) -> Vec<(String, String)> {
        let Some(t) = self.table.get("remote").and_then(|r| r.as_table()) else {
            return Vec::new();
        };
        t.iter()
            .filter_map(|(name, v)| {
                let url = v.as_table()?.get("url")?.as_str()?;
                Some((name.clone(), url.to_string()))
            })
            .collect()
    }

    fn save(&self) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(MuseError::io("create", dir))?;
        }
        let text = toml::to_string(&self.table).map_err(|e| MuseError::Config(e.to_string()))?;
        std::fs::write(&self.path, text).map_err(MuseError::io("write", &self.path))
    }
}

/// The repository's config over the user's.
#[derive(Debug, Clone)]
pub struct Config {
    /// `.muse/config.toml`.
    pub repo: ConfigFile,
    /// `~/.muse/config.toml` (absent without a home).
    pub global: Option<ConfigFile>,
}

impl Config {
    /// Both files of the repository whose state folder is `dot_muse`.
    pub fn load(dot_muse: &Path) -> Result<Self> {
        let global = match global_file() {
            Some(p) => Some(ConfigFile::load(&p)?),
            None => None,
        };
        Ok(Self {
            repo: ConfigFile::load(&dot_muse.join("config.toml"))?,
            global,
        })
    }

    /// A value, the repository's first.
    pub fn get(&self, key: &str) -> Option<String> {
        self.repo
            .get(key)
            .or_else(|| self.global.as_ref().and_then(|g| g.get(key)))
    }

    /// The author of new commits: `user.name`, else `user.handle`.
    pub fn author(&self) -> Result<String> {
        self.get("user.name")
            .or_else(|| self.get("user.handle"))
            .ok_or_else(|| {
                MuseError::Config(
                    "who are you? set `muse config user.handle HANDLE` (or user.name)".into(),
                )
            })
    }

    /// The URL of remote `name`.
    pub fn remote_url(&self, name: &str) -> Result<String> {
        self.get(&format!("remote.{name}.url")).ok_or_else(|| {
            MuseError::Unknown(format!("no remote '{name}' (muse remote add {name} URL)"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_unknown_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("muse-config-{}", uuid::Uuid::new_v4()));
        let path = dir.join("config.toml");
        let mut c = ConfigFile::load(&path).unwrap();
        c.set("user.handle", "alice").unwrap();
        c.set("remote.origin.url", "http://hub/alice/song").unwrap();
        let c = ConfigFile::load(&path).unwrap();
        assert_eq!(c.get("user.handle").as_deref(), Some("alice"));
        assert_eq!(
            c.get("remote.origin.url").as_deref(),
            Some("http://hub/alice/song")
        );
        assert_eq!(
            c.remotes(),
            vec![("origin".to_string(), "http://hub/alice/song".to_string())]
        );
        let mut c = c;
        assert!(matches!(c.set("user.nmae", "x"), Err(MuseError::Config(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
