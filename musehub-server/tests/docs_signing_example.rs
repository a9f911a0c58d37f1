//! The signing example of the docs page (`/mcp/docs`, `/mcp/docs.json`: `keys generate`, then
//! curl with `musehub-server sign`) works as written: the exact text the running server
//! serves is run by bash against that server, and its answer is a signed-in `whoami`.

mod reliability;

use std::process::Command;

use musehub_mcp::serde_json::{Value, json};
use reliability::*;

#[tokio::test]
async fn the_documented_signing_example_runs_as_written() {
    let dir = temp_dir("docs-example");
    let db = sqlite_url(&dir.join("hub.db"));
    let served = Served::start(&["--database-url", &db], &[], dir.join("server.log"));

    // The example exactly as the server documents it.
    let manifest: Value = reqwest::get(format!("{}/mcp/docs.json", served.base()))
        .await
        .expect("GET docs.json")
        .json()
        .await
        .expect("docs.json is JSON");
    let example = manifest["server"]["auth"]["example"]
        .as_str()
        .expect("an auth example")
        .to_string();
    assert!(
        example.contains(&served.url),
        "the example names this server's endpoint: {example}"
    );
    assert!(example.contains("musehub-server sign --key alice.key --handle alice"));

    // A shell in a fresh folder with the server's binary on PATH and its database as the
    // default, as for someone following the page on the hub's machine.
    let bin_dir = server_bin()
        .parent()
        .expect("the binary's folder")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let work = dir.join("shell");
    std::fs::create_dir_all(&work).unwrap();
    let out = Command::new("bash")
        .args(["-c", &example])
        .current_dir(&work)
        .env("PATH", path)
        .env("MUSEHUB_DATABASE_URL", &db)
        .env_remove("MUSEHUB_CONFIG")
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "the example failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with("handle: alice\n"), "{stdout}");
    assert!(
        work.join("alice.key").exists(),
        "keys generate wrote the key"
    );
    let answer = stdout
        .lines()
        .find(|l| l.starts_with("{\"jsonrpc\""))
        .unwrap_or_else(|| panic!("no JSON-RPC answer in: {stdout}"));
    let answer: Value = musehub_mcp::serde_json::from_str(answer).expect("JSON answer");
    assert_eq!(answer["id"], 1, "{answer}");
    let who = &answer["result"]["structuredContent"];
    assert_eq!(
        (who["authenticated"].clone(), who["handle"].clone()),
        (json!(true), json!("alice")),
        "the request was verified as alice's: {answer}"
    );
    assert_eq!(who["hub_url"], served.base());
    drop(served);
    let _ = std::fs::remove_dir_all(&dir);
}
