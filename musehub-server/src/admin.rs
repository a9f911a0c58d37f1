//! The key administration behind `musehub-server keys generate|add|list|revoke|invite`: the
//! commands (parsed by the binary) and what each prints.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;

use crate::db::Db;
use crate::keys::{self, KeyError, KeyInfo};

/// What a `keys` command prints: lines for stdout, and a note for stderr.
#[derive(Debug, Default)]
pub struct KeysOutput {
    /// For stdout (one field per line, `name: value`, or JSON).
    pub stdout: String,
    /// For stderr (advice), possibly empty.
    pub note: String,
}

macro_rules! line {
    ($out:expr, $($arg:tt)*) => {{
        $out.stdout.push_str(&format!($($arg)*));
        $out.stdout.push('\n');
    }};
}

/// `musehub-server keys ...`.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Generate a key pair: write the secret key to a new file (mode 0600), register the
    /// public key, print the key id and the public key. A handle without a user gets one.
    Generate {
        /// The handle (1-64 of A-Z a-z 0-9 _ . -).
        #[arg(long, allow_hyphen_values = true)]
        handle: String,
        /// Mark the key as an AI agent's, with the agent's name.
        #[arg(long)]
        agent: Option<String>,
        /// Where to write the secret key (never overwritten). Default
        /// ./msign-HANDLE-KIDPREFIX.key.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Register an existing public key (base64url of its 32 bytes). A handle without a user
    /// gets one.
    Add {
        /// The handle.
        #[arg(long, allow_hyphen_values = true)]
        handle: String,
        /// The public key, base64url (or base64) of the 32 bytes. Base64url can start with
        /// `-`, so the value is taken as-is even when it looks like a flag.
        #[arg(long, allow_hyphen_values = true)]
        public_key: String,
        /// Mark the key as an AI agent's, with the agent's name.
        #[arg(long)]
        agent: Option<String>,
    },
    /// List a handle's keys, revoked ones included.
    List {
        /// The handle.
        #[arg(long, allow_hyphen_values = true)]
        handle: String,
        /// Print JSON (one array) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key: it never verifies again.
    Revoke {
        /// The handle.
        #[arg(long, allow_hyphen_values = true)]
        handle: String,
        /// The key id (base64url, so it may start with `-`).
        #[arg(long, allow_hyphen_values = true)]
        kid: String,
    },
    /// Print a one-time enrollment code with which another machine registers its own key
    /// for the handle (`muse auth enroll HUB --handle H --code C`, or the
    /// `musehub_enroll_key` tool). Only the code's hash is stored; it works once, until it
    /// expires.
    Invite {
        /// The handle the key will belong to (a user is created when it enrolls).
        #[arg(long, allow_hyphen_values = true)]
        handle: String,
        /// How long the code is valid, in seconds. Default 86400 (24 hours).
        #[arg(long, env = "MUSEHUB_INVITE_TTL_SECS", default_value_t = 86_400)]
        ttl_secs: u64,
    },
}

fn describe(k: &KeyInfo) -> String {
    let kind = match &k.agent_name {
        Some(name) => format!("agent \"{name}\""),
        None => "human".into(),
    };
    let state = match &k.revoked_at {
        Some(at) => format!("revoked {at}"),
        None => "active".into(),
    };
    format!(
        "{}  {kind}  {}  {state}  created {}",
        k.kid, k.public_key, k.created_at
    )
}

/// Runs a `keys` command against `db`; `hub_url` is the hub's public URL (for the enroll
/// command an invitation prints).
pub async fn run_keys(db: &Db, action: KeysCommand, hub_url: &str) -> Result<KeysOutput, KeyError> {
    let mut out = KeysOutput::default();
    match action {
        KeysCommand::Generate {
            handle,
            agent,
            out: out_file,
        } => {
            if !keys::valid_handle(&handle) {
                return Err(KeyError::InvalidHandle(handle.chars().take(80).collect()));
            }
            let secret = keys::generate();
            let public = secret.verifying_key();
            let kid = musehub_mcp::auth::key_id(&public);
            let file = out_file.unwrap_or_else(|| {
                PathBuf::from(format!(
                    "msign-{handle}-{}.key",
                    kid.chars().take(8).collect::<String>()
                ))
            });
            keys::write_secret_key(&file, &secret)?;
            let info =
                match keys::register(db, &handle, &public, agent.as_deref(), "generated").await {
                    Ok(info) => info,
                    Err(e) => {
                        let _ = std::fs::remove_file(&file);
                        return Err(e);
                    }
                };
            line!(out, "handle: {}", info.handle);
            line!(out, "kid: {}", info.kid);
            line!(out, "public-key: {}", info.public_key);
            line!(
                out,
                "type: {}",
                info.agent_name
                    .as_deref()
                    .map(|a| format!("agent \"{a}\""))
                    .unwrap_or_else(|| "human".into())
            );
            line!(out, "secret-key-file: {}", file.display());
            out.note = format!(
                "The secret key is in {} (mode 0600). Keep it secret; the hub stores only the public key.",
                file.display()
            );
        }
        KeysCommand::Add {
            handle,
            public_key,
            agent,
        } => {
            let info = keys::add(db, &handle, &public_key, agent.as_deref()).await?;
            line!(out, "handle: {}", info.handle);
            line!(out, "kid: {}", info.kid);
            line!(out, "public-key: {}", info.public_key);
        }
        KeysCommand::List { handle, json } => {
            let list = keys::list(db, &handle).await?;
            if json {
                line!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&list).unwrap_or_default()
                );
            } else if list.is_empty() {
                line!(out, "{handle} has no keys");
            } else {
                for k in &list {
                    line!(out, "{}", describe(k));
                }
            }
        }
        KeysCommand::Revoke { handle, kid } => {
            let info = keys::revoke(db, &handle, &kid).await?;
            line!(out, "{}", describe(&info));
        }
        KeysCommand::Invite { handle, ttl_secs } => {
            let invite =
                crate::identity::enroll::invite(db, &handle, Duration::from_secs(ttl_secs)).await?;
            line!(out, "handle: {}", invite.handle);
            line!(out, "code: {}", invite.code);
            line!(out, "expires: {}", invite.expires_at);
            line!(
                out,
                "enroll: muse auth enroll {} --handle {} --code {}",
                hub_url.trim_end_matches('/'),
                invite.handle,
                invite.code
            );
            out.note = "The code works once, until it expires; only its hash is stored. Hand it over privately.".into();
        }
    }
    Ok(out)
}
