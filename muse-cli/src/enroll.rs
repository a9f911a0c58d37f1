//! `muse auth enroll HUB --handle H --code C`: makes a key pair on this machine, registers
//! its public half with the hub's `musehub_enroll_key` tool (the one-time code from
//! `musehub-server keys invite` is the proof; the request needs no signature), writes the
//! secret to a 0600 file and records `user.handle` and `user.key` in the user's config.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use musehub_mcp::auth::MSignSigner;
use serde_json::{Value, json};

use crate::config::{ConfigFile, global_file, muse_home};
use crate::error::{MuseError, Result};
use crate::keyfile;

/// What enrollment registered.
#[derive(Debug, Clone)]
pub struct Enrolled {
    /// The handle.
    pub handle: String,
    /// The key id the hub knows it by.
    pub kid: String,
    /// Where the secret key is.
    pub key_file: PathBuf,
}

/// The default key file for `handle`: `$MUSE_HOME/keys/<handle>.key`.
pub fn default_key_file(handle: &str) -> Result<PathBuf> {
    muse_home()
        .map(|h| h.join("keys").join(format!("{handle}.key")))
        .ok_or_else(|| MuseError::Config("no home folder: pass --out FILE".into()))
}

/// Enrolls a new key for `handle` at the hub `hub` (its base URL, `http://host:port`).
pub async fn enroll(
    hub: &str,
    handle: &str,
    code: &str,
    out: Option<&Path>,
    label: &str,
) -> Result<Enrolled> {
    let key_file = match out {
        Some(p) => p.to_path_buf(),
        None => default_key_file(handle)?,
    };
    if key_file.exists() {
        return Err(MuseError::State(format!(
            "{} exists; not overwriting a key (pass --out FILE)",
            key_file.display()
        )));
    }
    let key = MSignSigner::generate_key();
    let public = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
    // The secret is safe on disk before the hub knows the public half; a refusal removes it.
    keyfile::write(&key_file, &key)?;
    match register(hub, handle, code, &public, label).await {
        Ok(kid) => {
            if let Some(path) = global_file() {
                let mut c = ConfigFile::load(&path)?;
                c.set("user.handle", handle)?;
                c.set("user.key", &key_file.to_string_lossy())?;
            }
            Ok(Enrolled {
                handle: handle.to_string(),
                kid,
                key_file,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&key_file);
            Err(e)
        }
    }
}

/// Calls `musehub_enroll_key`; the key id the hub registered.
async fn register(
    hub: &str,
    handle: &str,
    code: &str,
    public: &str,
    label: &str,
) -> Result<String> {
    let endpoint = format!("{}/mcp", hub.trim_end_matches('/'));
    // One sessionless request (MCP 2026-07-28), as the docs page's example makes.
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {
            "name": "musehub_enroll_key",
            "arguments": {"handle": handle, "code": code, "public_key": public, "label": label},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        },
    });
    let r = reqwest::Client::new()
        .post(&endpoint)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "musehub_enroll_key")
        .body(body.to_string())
        .send()
        .await?;
    let status = r.status().as_u16();
    let v: Value = r.json().await?;
    if let Some(e) = v.get("error") {
        return Err(MuseError::Remote {
            status,
            code: e["code"].to_string(),
            message: e["message"].as_str().unwrap_or("").to_string(),
            data: e["data"].clone(),
        });
    }
    let result = &v["result"];
    if result["isError"] == json!(true) {
        let e = &result["structuredContent"]["error"];
        return Err(MuseError::Remote {
            status,
            code: e["code"].as_str().unwrap_or("error").to_string(),
            message: e["message"].as_str().unwrap_or("").to_string(),
            data: e.get("data").cloned().unwrap_or(Value::Null),
        });
    }
    result["structuredContent"]["kid"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| MuseError::Corrupt(format!("the hub's answer names no key id: {v}")))
}
