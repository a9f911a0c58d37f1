//! The authentication examples of the docs page (`/mcp/docs`, `/mcp/docs.json`) work as
//! written: the exact text the running server serves for each scheme — MSign (`keys
//! generate`, then curl with `musehub-server sign`) and Bearer (`tokens create`, then curl
//! with the token) — is run by bash against that server, and its answer is a signed-in
//! `whoami`.

mod reliability;

use std::path::Path;
use std::process::Command;

use musehub_mcp::serde_json::{Value, json};
use reliability::*;

/// Runs `example` in a fresh folder `work` with the server's binary on `PATH` and its
/// database (`db`) as the default, as for someone following the page on the hub's machine:
/// the `whoami` answer it prints, and its whole stdout.
fn run_example(example: &str, work: &Path, db: &str) -> (Value, String) {
    let bin_dir = server_bin()
        .parent()
        .expect("the binary's folder")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::fs::create_dir_all(work).unwrap();
    let out = Command::new("bash")
        .args(["-c", example])
        .current_dir(work)
        .env("PATH", path)
        .env("MUSEHUB_DATABASE_URL", db)
        .env_remove("MUSEHUB_CONFIG")
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "the example failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer = stdout
        .lines()
        .find(|l| l.starts_with("{\"jsonrpc\""))
        .unwrap_or_else(|| panic!("no JSON-RPC answer in: {stdout}"));
    let answer: Value = musehub_mcp::serde_json::from_str(answer).expect("JSON answer");
    assert_eq!(answer["id"], 1, "{answer}");
    (answer, stdout)
}

#[tokio::test]
async fn the_documented_auth_examples_run_as_written() {
    let dir = temp_dir("docs-example");
    let db = sqlite_url(&dir.join("hub.db"));
    let served = Served::start(&["--database-url", &db], &[], dir.join("server.log"));

    let manifest: Value = reqwest::get(format!("{}/mcp/docs.json", served.base()))
        .await
        .expect("GET docs.json")
        .json()
        .await
        .expect("docs.json is JSON");
    let schemes = manifest["server"]["authSchemes"]
        .as_array()
        .expect("authSchemes");
    let names: Vec<&str> = schemes
        .iter()
        .filter_map(|s| s["scheme"].as_str())
        .collect();
    assert_eq!(names, ["Bearer", "MSign"], "{manifest}");
    assert_eq!(
        manifest["server"]["auth"], schemes[0],
        "auth is the first scheme"
    );
    let example = |scheme: &str| {
        let e = schemes
            .iter()
            .find(|s| s["scheme"] == scheme)
            .and_then(|s| s["example"].as_str())
            .unwrap_or_else(|| panic!("an example for {scheme}"))
            .to_string();
        assert!(
            e.contains(&served.url),
            "the example names this server's endpoint: {e}"
        );
        e
    };

    // MSign: a new key, then a signed request.
    let msign = example("MSign");
    assert!(msign.contains("musehub-server sign --key alice.key --handle alice"));
    let work = dir.join("msign");
    let (answer, stdout) = run_example(&msign, &work, &db);
    assert!(stdout.starts_with("handle: alice\n"), "{stdout}");
    assert!(
        work.join("alice.key").exists(),
        "keys generate wrote the key"
    );
    let who = &answer["result"]["structuredContent"];
    assert_eq!(
        (who["authenticated"].clone(), who["handle"].clone()),
        (json!(true), json!("alice")),
        "the request was verified as alice's: {answer}"
    );
    assert_eq!(who["hub_url"], served.base());

    // Bearer: an agent token, then a request carrying it.
    let bearer = example("Bearer");
    assert!(bearer.contains("musehub-server tokens create --handle alice"));
    let (answer, _) = run_example(&bearer, &dir.join("bearer"), &db);
    let who = &answer["result"]["structuredContent"];
    assert_eq!(
        (
            who["authenticated"].clone(),
            who["handle"].clone(),
            who["is_agent"].clone()
        ),
        (json!(true), json!("alice"), json!(true)),
        "the token was accepted as alice's agent: {answer}"
    );

    drop(served);
    let _ = std::fs::remove_dir_all(&dir);
}
