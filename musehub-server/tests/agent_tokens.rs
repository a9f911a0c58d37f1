//! Agent tokens (`mha_…`): minted by `musehub_create_agent_token` and `musehub-server tokens
//! create`, stored only as their SHA-256, accepted by the hub's Bearer verifier as the agent
//! acting for its user with its scopes, refused once revoked or expired; and the
//! `tokens list|revoke` and `login-code` commands.

mod common;

use std::process::Command;

use common::{hub, user};
use musehub_mcp::auth::bearer::{TokenError, token_hash};
use musehub_mcp::serde_json::{Value, json};
use musehub_server::oauth::{OAuth, OAuthSettings};

const BIN: &str = env!("CARGO_BIN_EXE_musehub-server");

fn verifier(
    db: &musehub_server::Db,
) -> std::sync::Arc<dyn musehub_mcp::auth::bearer::TokenVerifier> {
    OAuth::new(
        db.clone(),
        OAuthSettings::default(),
        &musehub_server::AuthSettings::default(),
    )
    .token_verifier()
    .unwrap()
}

#[tokio::test]
async fn a_minted_token_is_accepted_as_the_agent_until_revoked() {
    let h = hub().await;
    let t = h
        .ok(
            &user("alice"),
            "musehub_create_agent_token",
            json!({"agent_name": "composer-bot", "expires_in_days": 30}),
        )
        .await;
    let token = t["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("mha_") && token.len() == 68, "{token}");
    assert_eq!(t["expires_in_days"], 30);

    // Only the hash is stored.
    let rows = sqlx::query("SELECT token_hash, scopes FROM agent_tokens")
        .fetch_all(h.db.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    use sqlx::Row;
    assert_eq!(rows[0].get::<String, _>("token_hash"), token_hash(&token));
    assert_eq!(rows[0].get::<String, _>("scopes"), "repo:read repo:write");
    let row = sqlx::query(
        "SELECT id, handle, agent_name, token_hash, expires_at, created_at, scopes FROM agent_tokens",
    )
    .fetch_one(h.db.pool())
    .await
    .unwrap();
    let stored: String = (0..7).map(|i| row.get::<String, _>(i)).collect();
    assert!(
        !stored.contains(&token[4..]),
        "the token itself is nowhere in its row"
    );

    let v = verifier(&h.db);
    let info = v.verify(&token).await.unwrap();
    assert_eq!(info.subject(), "alice");
    assert!(info.is_agent());
    assert_eq!(info.agent_name(), Some("composer-bot"));
    assert_eq!(info.scopes(), ["repo:read", "repo:write"]);
    let exp = info.expires_at().unwrap();
    let now = chrono::Utc::now().timestamp() as u64;
    assert!(
        (now + 29 * 86400..=now + 30 * 86400 + 5).contains(&exp),
        "{exp}"
    );

    // Revoked: refused as revoked, by every verifier on this database.
    let id = info.token_id().unwrap().to_string();
    musehub_server::tokens::revoke(&h.db, "alice", &id)
        .await
        .unwrap();
    assert_eq!(v.verify(&token).await, Err(TokenError::Revoked));
    assert_eq!(
        verifier(&h.db).verify(&token).await,
        Err(TokenError::Revoked)
    );
    let mine = h.read(&user("alice"), "musehub://me/tokens").await.unwrap();
    assert_eq!(
        mine["tokens"],
        json!([]),
        "revoked tokens are not listed as active"
    );
    // Someone else cannot revoke it, and an unknown id is an error.
    assert!(
        musehub_server::tokens::revoke(&h.db, "bob", &id)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn expired_unknown_and_altered_tokens_are_refused() {
    let h = hub().await;
    let scopes = vec!["repo:read".to_string()];
    let m = musehub_server::tokens::mint(&h.db, "bob", "reader", Some(1), &scopes)
        .await
        .unwrap();
    let v = verifier(&h.db);
    assert_eq!(v.verify(&m.token).await.unwrap().scopes(), ["repo:read"]);
    sqlx::query("UPDATE agent_tokens SET expires_unix = 1000 WHERE id = $1")
        .bind(&m.id)
        .execute(h.db.pool())
        .await
        .unwrap();
    assert_eq!(v.verify(&m.token).await, Err(TokenError::Expired));

    let mut altered = m.token.clone();
    altered.pop();
    altered.push('x');
    assert_eq!(v.verify(&altered).await, Err(TokenError::Inactive));
    assert_eq!(v.verify("mha_").await, Err(TokenError::Inactive));
    assert_eq!(
        v.verify("opaque-but-not-ours").await.unwrap_err().reason(),
        "malformed"
    );
    assert!(
        musehub_server::tokens::mint(&h.db, "bob", "x", Some(0), &scopes)
            .await
            .is_err()
    );
    assert!(
        musehub_server::tokens::mint(&h.db, "bob", "x", Some(366), &scopes)
            .await
            .is_err()
    );
    assert!(
        musehub_server::tokens::mint(&h.db, "bob", "x", None, &["admin".to_string()])
            .await
            .is_err()
    );
    assert!(musehub_server::tokens::parse_scopes(Some("repo:read nope")).is_err());
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("MUSEHUB_DATABASE_URL")
        .env_remove("MUSEHUB_CONFIG")
        .output()
        .expect("run musehub-server")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn field(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no `{name}` in {text}"))
        .to_string()
}

#[tokio::test]
async fn the_tokens_and_login_code_commands() {
    let dir = common::temp_dir("tokens-cli");
    let url = format!("sqlite://{}", dir.join("t.db").display());
    let out = ok(&[
        "tokens",
        "create",
        "--handle",
        "ada",
        "--agent",
        "ci-bot",
        "--days",
        "7",
        "--scopes",
        "repo:read",
        "--database-url",
        &url,
    ]);
    let token = field(&out, "token");
    let id = field(&out, "id");
    assert!(token.starts_with("mha_"));
    assert_eq!(field(&out, "scopes"), "repo:read");

    let listed = ok(&[
        "tokens",
        "list",
        "--handle",
        "ada",
        "--json",
        "--database-url",
        &url,
    ]);
    let list: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(list[0]["id"], json!(id));
    assert_eq!(list[0]["agent_name"], "ci-bot");
    assert_eq!(list[0]["scopes"], json!(["repo:read"]));
    assert!(!listed.contains(&token), "list never shows the token");

    let db = musehub_server::Db::connect(&url, musehub_server::HubSettings::default())
        .await
        .unwrap();
    assert_eq!(verifier(&db).verify(&token).await.unwrap().subject(), "ada");
    let revoked = ok(&[
        "tokens",
        "revoke",
        "--handle",
        "ada",
        "--id",
        &id,
        "--database-url",
        &url,
    ]);
    assert!(revoked.contains("revoked"), "{revoked}");
    assert_eq!(verifier(&db).verify(&token).await, Err(TokenError::Revoked));

    let quiet = ok(&[
        "tokens",
        "create",
        "--handle",
        "ada",
        "--quiet",
        "--database-url",
        &url,
    ]);
    assert!(quiet.trim().starts_with("mha_") && quiet.trim().lines().count() == 1);
    let bad = run(&[
        "tokens",
        "create",
        "--handle",
        "ada",
        "--scopes",
        "root",
        "--database-url",
        &url,
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown scope"));

    // login-code prints one code that signs in once.
    let code = ok(&["login-code", "--handle", "ada", "--database-url", &url]);
    let code = code.trim();
    assert_eq!(code.len(), 14, "{code}");
    assert_eq!(
        musehub_server::oauth::storage::use_login_code(&db, &code.to_lowercase())
            .await
            .unwrap()
            .as_deref(),
        Some("ada")
    );
    assert_eq!(
        musehub_server::oauth::storage::use_login_code(&db, code)
            .await
            .unwrap(),
        None
    );
}
