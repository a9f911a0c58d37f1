//! The binary's `tokens` and `login-code` commands and the OAuth lines of its banner (compiled
//! into the binary only). Secrets are printed once on stdout and never logged.

use anyhow::Context;
use clap::Subcommand;
use musehub_server::Db;
use musehub_server::tokens::{self, AgentTokenInfo};

/// `musehub-server tokens ...`.
#[derive(Subcommand, Debug)]
pub enum TokensCommand {
    /// Mint an agent token (`mha_…`) for a handle: printed once, only its hash is stored. A
    /// handle without a user gets one.
    Create {
        /// The handle the agent acts for.
        #[arg(long, allow_hyphen_values = true)]
        handle: String,
        /// The agent's name (default mcp-agent).
        #[arg(long, default_value = "mcp-agent")]
        agent: String,
        /// Validity in days, 1-365 (default 90).
        #[arg(long)]
        days: Option<i64>,
        /// Space-separated scopes (default "repo:read repo:write").
        #[arg(long)]
        scopes: Option<String>,
        /// Print only the token (for scripts: `TOKEN=$(musehub-server tokens create ... --quiet)`).
        #[arg(long)]
        quiet: bool,
    },
    /// List a handle's agent tokens (never the tokens themselves), revoked and expired ones
    /// included.
    List {
        /// The handle.
        #[arg(long, allow_hyphen_values = true)]
        handle: String,
        /// Print JSON (one array) instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an agent token by its id: every instance refuses it from now on.
    Revoke {
        /// The handle.
        #[arg(long, allow_hyphen_values = true)]
        handle: String,
        /// The token id (from `tokens list`).
        #[arg(long)]
        id: String,
    },
}

fn describe(t: &AgentTokenInfo) -> String {
    let state = match &t.revoked_at {
        Some(at) => format!("revoked {at}"),
        None => format!("expires {}", t.expires_at),
    };
    format!(
        "{}  agent \"{}\"  {}  {state}  created {}",
        t.id,
        t.agent_name,
        t.scopes.join(" "),
        t.created_at
    )
}

/// Runs a `tokens` command.
pub async fn tokens_command(db: &Db, action: TokensCommand) -> anyhow::Result<()> {
    match action {
        TokensCommand::Create {
            handle,
            agent,
            days,
            scopes,
            quiet,
        } => {
            let scopes = tokens::parse_scopes(scopes.as_deref())?;
            let minted = tokens::mint(db, &handle, &agent, days, &scopes).await?;
            if quiet {
                println!("{}", minted.token);
            } else {
                println!("token: {}", minted.token);
                println!("id: {}", minted.id);
                println!("handle: {}", minted.handle);
                println!("agent: {}", minted.agent_name);
                println!("scopes: {}", minted.scopes.join(" "));
                println!("expires: {}", minted.expires_at);
                eprintln!(
                    "The token is shown once; the hub keeps only its hash. Send it as \
                     `Authorization: Bearer <token>` (docs/auth.md)."
                );
            }
        }
        TokensCommand::List { handle, json } => {
            let list = tokens::list(db, &handle).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.is_empty() {
                println!("{handle} has no agent tokens");
            } else {
                for t in &list {
                    println!("{}", describe(t));
                }
            }
        }
        TokensCommand::Revoke { handle, id } => {
            let t = tokens::revoke(db, &handle, &id).await?;
            println!("{}", describe(&t));
        }
    }
    Ok(())
}

/// `musehub-server login-code --handle H`: a one-time code to sign in on the OAuth consent
/// page, valid `ttl_secs`.
pub async fn login_code_command(db: &Db, handle: &str, ttl_secs: u64) -> anyhow::Result<()> {
    if !musehub_server::keys::valid_handle(handle) {
        anyhow::bail!("invalid handle `{handle}`: use 1-64 of A-Z a-z 0-9 _ . -");
    }
    let code = musehub_server::oauth::storage::new_login_code();
    musehub_server::oauth::storage::put_login_code(db, &code, handle, ttl_secs as i64)
        .await
        .context("storing the login code")?;
    println!("{code}");
    eprintln!(
        "One-time sign-in code for {handle}, valid {} minutes: enter it on the MuseHub sign-in page.",
        ttl_secs.div_ceil(60)
    );
    Ok(())
}

/// The banner's OAuth lines: the issuer and how to sign in, or the external issuer.
pub fn print_oauth_banner(oauth: &musehub_server::oauth::OAuth) {
    println!();
    if oauth.settings().embedded() {
        println!("OAuth (MCP authorization; see docs/auth.md):");
        println!(
            "  issuer:    {}  (metadata {}/.well-known/oauth-authorization-server)",
            oauth.issuer(),
            oauth.issuer()
        );
        println!(
            "  sign in:   musehub-server login-code --handle YOU   (one-time code for the sign-in page)"
        );
    } else if let Some(issuer) = &oauth.settings().external_issuer {
        println!("OAuth: tokens from the external issuer {issuer} (docs/deploy.md)");
    } else {
        println!("OAuth: off (--no-oauth)");
    }
    println!(
        "  tokens:    musehub-server tokens create --handle YOU --agent NAME   (Authorization: Bearer mha_...)"
    );
}
