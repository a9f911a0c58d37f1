//! Enrolling a key from another machine: `musehub-server keys invite` prints a one-time code
//! (only its hash is stored); `musehub_enroll_key`, called without a signature, spends it to
//! register a public key, which then verifies signed requests. A code works once, for its
//! handle, before it expires; every refusal changes nothing.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use musehub_mcp::auth::{MSignSigner, SignedRequest};
use musehub_mcp::serde_json::{Value, json};
use musehub_server::identity::enroll;

fn enroll_args(handle: &str, code: &str, signer: &MSignSigner) -> Value {
    json!({
        "handle": handle,
        "code": code,
        "public_key": musehub_server::keys::encode_public_key(&signer.public_key()),
        "label": "laptop",
    })
}

async fn key_count(h: &Hub) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM signing_keys")
        .fetch_one(h.db.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

#[tokio::test]
async fn a_code_registers_a_key_once_and_the_key_then_signs() {
    let h = empty_hub().await;
    let invite = enroll::invite(&h.db, "eve", Duration::from_secs(600))
        .await
        .unwrap();
    assert!(invite.code.starts_with("mhe_") && invite.code.len() > 30);
    // Only the hash is at rest.
    use sqlx::Row;
    let rows = sqlx::query("SELECT code_hash FROM enrollment_codes")
        .fetch_all(h.db.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored: String = rows[0].try_get("code_hash").unwrap();
    assert_ne!(stored, invite.code);
    assert!(!stored.contains(&invite.code[4..]));

    let signer = MSignSigner::new("eve", MSignSigner::generate_key());
    // Anonymous: the code is the proof.
    let e = h
        .ok(
            &anon(),
            "musehub_enroll_key",
            enroll_args("eve", &invite.code, &signer),
        )
        .await;
    assert_eq!(e["handle"], "eve");
    assert_eq!(e["kid"], signer.key_id());
    assert_eq!(e["label"], "laptop");

    // The key verifies a signed request at once.
    let verifier = musehub_server::verifier(&h.db, &musehub_server::AuthSettings::default());
    let body = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let auth = signer.sign_parts("POST", "/mcp", body, None);
    let who = verifier
        .verify(&SignedRequest {
            authorization: &auth,
            method: "POST",
            target: "/mcp",
            body,
            session_id: None,
        })
        .await
        .expect("the enrolled key verifies");
    assert_eq!(who.handle, "eve");

    // Twice: refused, nothing added.
    let before = key_count(&h).await;
    let other = MSignSigner::new("eve", MSignSigner::generate_key());
    assert_eq!(
        h.err(
            &anon(),
            "musehub_enroll_key",
            enroll_args("eve", &invite.code, &other)
        )
        .await,
        "invalid_enrollment_code"
    );
    assert_eq!(key_count(&h).await, before);
}

#[tokio::test]
async fn wrong_expired_or_foreign_codes_and_bad_keys_are_refused() {
    let h = empty_hub().await;
    let signer = MSignSigner::new("eve", MSignSigner::generate_key());
    let for_eve = enroll::invite(&h.db, "eve", Duration::from_secs(600))
        .await
        .unwrap();
    // Another handle's code, a made-up code.
    for (handle, code) in [("mallory", for_eve.code.as_str()), ("eve", "mhe_nope")] {
        assert_eq!(
            h.err(
                &anon(),
                "musehub_enroll_key",
                enroll_args(handle, code, &signer)
            )
            .await,
            "invalid_enrollment_code",
            "{handle} {code}"
        );
    }
    // An expired one.
    let expired = enroll::invite(&h.db, "eve", Duration::from_secs(0))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(
        h.err(
            &anon(),
            "musehub_enroll_key",
            enroll_args("eve", &expired.code, &signer)
        )
        .await,
        "invalid_enrollment_code"
    );
    // A key that is not one does not spend the code.
    let mut bad = enroll_args("eve", &for_eve.code, &signer);
    bad["public_key"] = json!("not-a-key");
    assert_eq!(
        h.err(&anon(), "musehub_enroll_key", bad).await,
        "invalid_argument"
    );
    assert_eq!(key_count(&h).await, 0);
    // The code still works afterwards.
    h.ok(
        &anon(),
        "musehub_enroll_key",
        enroll_args("eve", &for_eve.code, &signer),
    )
    .await;
    assert_eq!(key_count(&h).await, 1);
    // Registering the same key again with a fresh code is a clear error.
    let again = enroll::invite(&h.db, "eve", Duration::from_secs(600))
        .await
        .unwrap();
    assert_eq!(
        h.err(
            &anon(),
            "musehub_enroll_key",
            enroll_args("eve", &again.code, &signer)
        )
        .await,
        "already_exists"
    );
}

#[test]
fn keys_invite_prints_the_code_and_the_enroll_command() {
    let dir = temp_dir("invite");
    let url = format!("sqlite://{}", dir.join("hub.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_musehub-server"))
        .args([
            "keys",
            "invite",
            "--handle",
            "eve",
            "--ttl-secs",
            "120",
            "--database-url",
            &url,
            "--public-url",
            "http://hub.example:8080",
        ])
        .env_remove("MUSEHUB_DATABASE_URL")
        .env_remove("MUSEHUB_CONFIG")
        .output()
        .expect("run keys invite");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let code = text
        .lines()
        .find_map(|l| l.strip_prefix("code: "))
        .expect("a code line")
        .to_string();
    assert!(code.starts_with("mhe_"), "{text}");
    assert!(text.contains(&format!(
        "enroll: muse auth enroll http://hub.example:8080 --handle eve --code {code}"
    )));
    let expires = text
        .lines()
        .find_map(|l| l.strip_prefix("expires: "))
        .expect("an expiry");
    let expires = chrono::DateTime::parse_from_rfc3339(expires).expect("RFC 3339");
    let left = expires.signed_duration_since(chrono::Utc::now());
    assert!(
        left > chrono::Duration::seconds(60) && left <= chrono::Duration::seconds(120),
        "{left}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_musehub-server"))
        .args([
            "keys",
            "invite",
            "--handle",
            "no spaces",
            "--database-url",
            &url,
        ])
        .env_remove("MUSEHUB_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid handle"));
    let _ = std::fs::remove_dir_all(&dir);
}
