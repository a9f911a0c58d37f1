//! The binary's key commands (`keys generate|add|list|revoke`, `sign`) against a temporary
//! SQLite file, and the served binary accepting a header printed by `sign`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use musehub_mcp::auth::{MSignHeader, MSignSigner};
use musehub_mcp::serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_musehub-server");

fn run(args: &[&str]) -> Output {
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
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn fails(args: &[&str]) -> String {
    let out = run(args);
    assert!(!out.status.success(), "{args:?} unexpectedly succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `name: value` lines.
fn field(text: &str, name: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no `{name}` in {text}"))
        .to_string()
}

#[test]
fn keys_generate_list_add_revoke() {
    let dir = common::temp_dir("cli");
    let url = format!("sqlite://{}", dir.join("cli.db").display());
    let key_file = dir.join("ada.key");
    let key_path = key_file.to_str().unwrap();

    let out = ok(&[
        "keys",
        "generate",
        "--handle",
        "ada",
        "--out",
        key_path,
        "--database-url",
        &url,
    ]);
    let kid = field(&out, "kid");
    let public = field(&out, "public-key");
    assert_eq!(field(&out, "type"), "human");
    // The file holds the secret seed, readable by its owner only, and matches the public key.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let secret = musehub_server::keys::read_secret_key(&key_file).unwrap();
    let signer = MSignSigner::new("ada", secret);
    assert_eq!(signer.key_id(), kid);
    assert_eq!(
        musehub_server::keys::encode_public_key(&signer.public_key()),
        public
    );
    assert!(
        !out.contains(
            &std::fs::read_to_string(&key_file)
                .unwrap()
                .trim()
                .to_string()
        ),
        "the secret is not printed"
    );
    // Never overwrites a key file.
    let err = fails(&[
        "keys",
        "generate",
        "--handle",
        "ada",
        "--out",
        key_path,
        "--database-url",
        &url,
    ]);
    assert!(err.contains("already exists"), "{err}");

    // Add an agent's public key.
    let agent = MSignSigner::new("ada", MSignSigner::generate_key());
    let agent_public = musehub_server::keys::encode_public_key(&agent.public_key());
    let out = ok(&[
        "keys",
        "add",
        "--handle",
        "ada",
        "--public-key",
        &agent_public,
        "--agent",
        "ada's agent",
        "--database-url",
        &url,
    ]);
    assert_eq!(field(&out, "kid"), agent.key_id());
    let err = fails(&[
        "keys",
        "add",
        "--handle",
        "ada",
        "--public-key",
        &agent_public,
        "--database-url",
        &url,
    ]);
    assert!(err.contains("already registered"), "{err}");

    let list: Value = musehub_mcp::serde_json::from_str(&ok(&[
        "keys",
        "list",
        "--handle",
        "ada",
        "--json",
        "--database-url",
        &url,
    ]))
    .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["kid"], kid.as_str());
    assert_eq!(list[0]["is_agent"], false);
    assert_eq!(list[1]["agent_name"], "ada's agent");
    assert_eq!(list[1]["revoked_at"], Value::Null);

    let out = ok(&[
        "keys",
        "revoke",
        "--handle",
        "ada",
        "--kid",
        &kid,
        "--database-url",
        &url,
    ]);
    assert!(out.contains("revoked"), "{out}");
    let text = ok(&["keys", "list", "--handle", "ada", "--database-url", &url]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with(&kid) && lines[0].contains("revoked"));
    assert!(lines[1].contains("agent \"ada's agent\"") && lines[1].contains("active"));

    // Clear failures.
    let err = fails(&[
        "keys",
        "revoke",
        "--handle",
        "ada",
        "--kid",
        "nope",
        "--database-url",
        &url,
    ]);
    assert!(err.contains("has no key"), "{err}");
    let err = fails(&["keys", "list", "--handle", "nobody", "--database-url", &url]);
    assert!(err.contains("no user"), "{err}");
    let err = fails(&[
        "keys",
        "generate",
        "--handle",
        "bad handle",
        "--out",
        dir.join("x.key").to_str().unwrap(),
        "--database-url",
        &url,
    ]);
    assert!(err.contains("invalid handle"), "{err}");
    assert!(
        !dir.join("x.key").exists(),
        "no key file for a refused handle"
    );
    let err = fails(&[
        "keys",
        "add",
        "--handle",
        "ada",
        "--public-key",
        "bm9wZQ",
        "--database-url",
        &url,
    ]);
    assert!(err.contains("invalid public key"), "{err}");
}

#[test]
fn sign_prints_the_documented_header() {
    let dir = common::temp_dir("sign");
    let key = dir.join("vector.key");
    // The seed of docs/msign.md's test vectors, in hex.
    std::fs::write(
        &key,
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
    )
    .unwrap();
    let body = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"musehub_create_repo","arguments":{"slug":"demo"}}}"#;
    let out = ok(&[
        "sign",
        "--key",
        key.to_str().unwrap(),
        "--handle",
        "ada",
        "--method",
        "POST",
        "--path",
        "/mcp",
        "--body",
        body,
        "--session",
        "s3ss10n-1d",
    ]);
    let value = out.trim();
    let header = MSignHeader::parse(value).expect("a valid MSign header");
    assert_eq!(header.handle, "ada");
    assert_eq!(header.kid, "Vkdap1RjR0wChd9dvyvKtw");
    // Re-signing with the printed ts and nonce reproduces the header exactly: the signature
    // covers this method, path, body and session.
    let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
    let signer = MSignSigner::from_seed("ada", &seed);
    assert_eq!(
        signer.sign_with(
            "POST",
            "/mcp",
            body.as_bytes(),
            Some("s3ss10n-1d"),
            header.ts,
            &header.nonce
        ),
        value
    );
    // The documented vector 2, with its fixed ts and nonce, is what `sign` computes too.
    assert_eq!(
        signer.sign_with(
            "POST",
            "/mcp",
            body.as_bytes(),
            Some("s3ss10n-1d"),
            1764150000,
            "bm9uY2UtMDAwMDAwMDAwMDAy"
        ),
        "MSign handle=\"ada\", kid=\"Vkdap1RjR0wChd9dvyvKtw\", ts=1764150000, nonce=\"bm9uY2UtMDAwMDAwMDAwMDAy\", sig=\"Z-lLUqRLdYSMA1uEL2kav5g3Otig7ruU7Rv8wB-CeZ_qkiGdmLiYQ5mJe6bdYhtJmqOes_bDaYIibRRrN_pPCQ\""
    );
    let err = fails(&[
        "sign",
        "--key",
        dir.join("missing").to_str().unwrap(),
        "--handle",
        "ada",
    ]);
    assert!(err.contains("key file"), "{err}");
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(db_url: &str) -> (Running, String) {
    let mut child = Command::new(BIN)
        .args([
            "--database-url",
            db_url,
            "--bind",
            "127.0.0.1:0",
            "--seed-demo",
        ])
        .env_remove("MUSEHUB_CONFIG")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running(child);
    // Read the banner up to the endpoint, then keep draining stdout in the background (a
    // closed pipe would make the server's next print fail).
    let mut lines = BufReader::new(stdout).lines();
    let mut url = None;
    for line in lines.by_ref() {
        let line = line.expect("banner");
        if let Some(u) = line.trim().strip_prefix("endpoint:") {
            url = Some(u.trim().to_string());
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    (running, url.expect("the banner names the endpoint"))
}

async fn post(url: &str, auth: Option<String>, body: &str) -> (u16, Value) {
    let mut rb = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "musehub_create_repo");
    if let Some(a) = auth {
        rb = rb.header("authorization", a);
    }
    let r = rb.body(body.to_string()).send().await.expect("request");
    let status = r.status().as_u16();
    let bytes = r.bytes().await.expect("body");
    (
        status,
        musehub_mcp::serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_served_binary_accepts_a_header_from_sign() {
    let dir = common::temp_dir("served");
    let url = format!("sqlite://{}", dir.join("served.db").display());
    let key = dir.join("zoe.key");
    ok(&[
        "keys",
        "generate",
        "--handle",
        "zoe",
        "--out",
        key.to_str().unwrap(),
        "--database-url",
        &url,
    ]);
    let (_server, endpoint) = start(&url);
    let path = Path::new("/mcp");
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "musehub_create_repo", "arguments": {"name": "From curl"},
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                  "io.modelcontextprotocol/clientCapabilities": {}}}})
    .to_string();

    let (status, v) = post(&endpoint, None, &body).await;
    assert_eq!(status, 401, "{v}");
    assert_eq!(v["error"]["code"], -32001);

    let header = ok(&[
        "sign",
        "--key",
        key.to_str().unwrap(),
        "--handle",
        "zoe",
        "--method",
        "POST",
        "--path",
        path.to_str().unwrap(),
        "--body",
        &body,
    ]);
    let (status, v) = post(&endpoint, Some(header.trim().to_string()), &body).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["result"]["structuredContent"]["repo"]["owner"], "zoe",
        "{v}"
    );
    assert_eq!(
        v["result"]["structuredContent"]["repo"]["slug"], "from-curl",
        "{v}"
    );
}

#[test]
fn docs_lists_every_tool_and_passes_its_lint() {
    let dir = std::env::temp_dir().join(format!("musehub-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let md = dir.join("reference.md");
    let json = dir.join("docs.json");
    let out = run(&[
        "docs",
        "--format",
        "markdown",
        "--out",
        md.to_str().unwrap(),
        "--check",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("docs check: 44 tools, no problems"));
    ok(&["docs", "--format", "json", "--out", json.to_str().unwrap()]);
    let markdown = std::fs::read_to_string(&md).expect("markdown written");
    let manifest: Value =
        musehub_mcp::serde_json::from_str(&std::fs::read_to_string(&json).expect("json written"))
            .expect("json");
    let tools = manifest["tools"].as_array().expect("tools");
    assert_eq!(tools.len(), 44);
    for t in tools {
        let name = t["name"]
            .as_str()
            .or(t["definition"]["name"].as_str())
            .expect("a name");
        assert!(
            markdown.contains(&format!("`{name}`")),
            "{name} is missing from the Markdown reference"
        );
    }
    for group in [
        "### Read",
        "### Write",
        "### Interactive",
        "### Muse CLI",
        "### Keys",
    ] {
        assert!(markdown.contains(group), "{group}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Base64url keys, key ids and session ids start with `-` one time in 64; the CLI must take them as
/// values, not flags (CI once drew such a key and `keys add` refused it). The keys here are
/// drawn until both the public key and the key id start with `-`, so the case is always run.
#[test]
fn keys_and_key_ids_starting_with_a_hyphen_are_values() {
    let dir = common::temp_dir("cli-hyphen");
    let url = format!("sqlite://{}", dir.join("cli.db").display());
    let signer = std::iter::repeat_with(|| MSignSigner::new("bob", MSignSigner::generate_key()))
        .take(200_000)
        .find(|s| {
            s.key_id().starts_with('-')
                && musehub_server::keys::encode_public_key(&s.public_key()).starts_with('-')
        })
        .expect("a key whose id and public key start with '-' within 200,000 draws");
    let public = musehub_server::keys::encode_public_key(&signer.public_key());
    let kid = signer.key_id();

    let out = ok(&[
        "keys",
        "add",
        "--handle",
        "bob",
        "--public-key",
        &public,
        "--database-url",
        &url,
    ]);
    assert_eq!(field(&out, "kid"), kid);
    let out = ok(&[
        "keys",
        "revoke",
        "--handle",
        "bob",
        "--kid",
        kid,
        "--database-url",
        &url,
    ]);
    assert!(out.contains("revoked"), "{out}");

    // A session id (base64url too) and a handle may also start with `-`.
    let key_file = dir.join("bob.key");
    musehub_server::keys::write_secret_key(&key_file, &musehub_server::keys::generate())
        .expect("key file");
    let out = ok(&[
        "sign",
        "--key",
        key_file.to_str().expect("UTF-8 path"),
        "--handle",
        "-bob",
        "--session",
        "-s3ss10n",
    ]);
    let header = MSignHeader::parse(out.trim()).expect("a valid MSign header");
    assert_eq!(header.handle, "-bob");
}
