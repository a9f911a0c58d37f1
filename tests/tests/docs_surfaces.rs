//! The documentation surfaces every framework server gets: `/mcp/docs.json` (content, ETag and
//! 304, its JSON Schema), the `/mcp/docs` page (CSP, no inline code, escaping, groups, badges,
//! parameter tables), the Markdown reference and the lint, against a real server.

use std::sync::Arc;

use musehub_mcp::docs::{self, LintKind};
use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};
use musehub_mcp::{AuthScheme, DocsOptions};
use musehub_tests::TestServer;
use reqwest::{Client, StatusCode};
use sha2::{Digest, Sha256};

/// Probe <script>alert("tool")</script> & friends: `<b>` must stay text.
#[tool(read_only, category = "read")]
fn docs_xss_probe(
    #[arg(desc = "<img src=x onerror=alert(1)> \"quoted\" 'single'")] payload: String,
) -> String {
    payload
}

/// Replace a stored value (a write tool that does not state its hints).
#[tool(write, category = "write")]
fn docs_unmarked_write(#[arg(desc = "The new value")] value: String) -> String {
    value
}

const SIGNING_EXAMPLE: &str = "Authorization: MSign keyId=\"k1\", ts=1767225600, sig=\"<base64 ed25519 signature of METHOD\\nPATH\\nts\\nsha256(body)>\"";

fn server() -> Arc<Server> {
    musehub_tests::build_with(ServerConfig::default(), |b| {
        b.docs(
            DocsOptions::new()
                .description("Server used by the docs tests.")
                .auth(
                    AuthScheme::new("MSign", "Authorization")
                        .description("Sign each request with your Ed25519 key.")
                        .example(SIGNING_EXAMPLE),
                )
                .category("read", "Read", "Look things up.")
                .category("write", "Write", "Change things; needs MSign.")
                .category("interactive", "Interactive", "Ask the user or stream."),
        )
    })
}

async fn start() -> TestServer {
    musehub_tests::serve(server()).await
}

fn url(s: &TestServer, path: &str) -> String {
    format!("http://{}{path}", s.addr)
}

async fn get(s: &TestServer, path: &str) -> reqwest::Response {
    Client::new().get(url(s, path)).send().await.expect("get")
}

async fn manifest(s: &TestServer) -> Value {
    let r = get(s, "/mcp/docs.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_string())
        .collect()
}

/// `tools/list` and friends in the 2026-07-28 era: one request, no session.
async fn list(s: &TestServer, method: &str) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}}}});
    let r = Client::new()
        .post(&s.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method)
        .body(body.to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.expect("json")["result"].clone()
}

#[tokio::test]
async fn manifest_describes_every_item_exactly_as_clients_see_it() {
    let s = start().await;
    let m = manifest(&s).await;
    let registry = s.server.registry();

    assert_eq!(m["manifestVersion"], 1);
    let server = &m["server"];
    assert_eq!(server["name"], "musehub-tests");
    assert_eq!(server["title"], "MuseHub test server");
    assert_eq!(server["endpoint"], "/mcp");
    assert_eq!(server["docsUrl"], "/mcp/docs");
    assert_eq!(
        server["protocolVersions"],
        json!([
            "2024-11-05",
            "2025-03-26",
            "2025-06-18",
            "2025-11-25",
            "2026-07-28"
        ])
    );
    assert_eq!(server["eras"][0]["sessionHeader"], "Mcp-Session-Id");
    assert_eq!(server["eras"][1]["protocolVersions"], json!(["2026-07-28"]));
    assert_eq!(server["auth"]["scheme"], "MSign");
    assert_eq!(server["auth"]["header"], "Authorization");
    assert_eq!(server["auth"]["example"], SIGNING_EXAMPLE);
    assert_eq!(&server["capabilities"], s.server.capabilities());

    assert_eq!(
        m["counts"],
        json!({"tools": registry.tools.len(), "resources": registry.resources.len(),
               "resourceTemplates": registry.templates.len(), "prompts": registry.prompts.len()})
    );

    // Every definition is byte-for-byte the list item clients get, in the same order.
    for (method, key, mkey) in [
        ("tools/list", "tools", "tools"),
        ("resources/list", "resources", "resources"),
        (
            "resources/templates/list",
            "resourceTemplates",
            "resourceTemplates",
        ),
        ("prompts/list", "prompts", "prompts"),
    ] {
        let listed = list(&s, method).await;
        let defs: Vec<Value> = m[mkey]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["definition"].clone())
            .collect();
        assert_eq!(Value::Array(defs), listed[key], "{method}");
    }
    let tool_names = names(&m, "tools");
    let registry_names: Vec<&str> = registry.tools.iter().map(|t| t.def.name).collect();
    assert_eq!(tool_names, registry_names);
    let mut sorted = tool_names.clone();
    sorted.sort();
    assert_eq!(tool_names, sorted, "stable order");

    let tool = |name: &str| {
        m["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in manifest"))
    };
    let w = tool("write_note");
    assert_eq!(w["write"], true);
    assert_eq!(w["category"], "write");
    // A write tool that names no scope: any signed-in caller.
    assert_eq!(w["auth"], json!({"required": true, "scopes": []}));
    assert_eq!(
        w["source"],
        json!({"crate": "musehub-tests", "module": "musehub_tests", "function": "write_note"})
    );
    let echo = tool("echo");
    assert_eq!(echo["auth"], json!({"required": false, "scopes": []}));
    assert_eq!(echo["sse"], false);
    assert_eq!(tool("count_down")["sse"], true);
    assert_eq!(tool("announce")["category"], Value::Null);
    assert_eq!(
        tool("fixture_transpose")["source"]["crate"],
        "musehub-fixture-crate"
    );

    let categories: Vec<&Value> = m["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(
        categories,
        [
            &json!("read"),
            &json!("write"),
            &json!("interactive"),
            &Value::Null
        ]
    );
    assert_eq!(m["categories"][0]["title"], "Read");
    assert_eq!(m["categories"][3]["title"], "Other tools");

    let template = &m["resourceTemplates"][0];
    assert_eq!(template["uriTemplate"], "fixture://scales/{tonic}");
    assert_eq!(template["variables"], json!(["tonic"]));
    let summarize = m["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .find(|p| p["name"] == "summarize")
        .expect("summarize");
    assert_eq!(summarize["completions"], json!(["topic"]));

    // The offline export is exactly what is served.
    let served = get(&s, "/mcp/docs.json").await.text().await.expect("text");
    assert_eq!(docs::manifest_json(&s.server), served);
}

#[tokio::test]
async fn manifest_is_valid_against_its_published_schema() {
    let s = start().await;
    let r = get(&s, "/mcp/docs.schema.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/schema+json");
    let schema: Value = r.json().await.expect("schema json");
    assert_eq!(
        schema,
        musehub_mcp::serde_json::from_str::<Value>(docs::MANIFEST_SCHEMA).expect("schema")
    );
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let m = manifest(&s).await;
    let errors: Vec<String> = validator
        .iter_errors(&m)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // The schema has teeth: a tool without its definition, or an unknown field, is refused.
    let mut broken = m.clone();
    broken["tools"][0]
        .as_object_mut()
        .expect("tool")
        .remove("definition");
    assert!(!validator.is_valid(&broken));
    let mut extra = m.clone();
    extra["server"]["surprise"] = json!(true);
    assert!(!validator.is_valid(&extra));

    // A server without an auth scheme or items of some kind is valid too.
    let hello_like = musehub_tests::build_with(ServerConfig::default(), |b| b);
    let plain: Value =
        musehub_mcp::serde_json::from_str(&docs::manifest_json(&hello_like)).expect("json");
    assert_eq!(plain["server"]["auth"], Value::Null);
    assert!(validator.is_valid(&plain));
}

#[tokio::test]
async fn every_surface_has_a_content_etag_and_answers_304() {
    let s = start().await;
    for path in [
        "/mcp/docs.json",
        "/mcp/docs",
        "/mcp/docs.md",
        "/mcp/docs.schema.json",
        "/mcp/docs/assets/docs.css",
        "/mcp/docs/assets/docs.js",
        "/mcp/docs/assets/icon.svg",
    ] {
        let r = get(&s, path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(
            r.headers()["cache-control"],
            "public, max-age=300",
            "{path}"
        );
        let etag = r.headers()["etag"].to_str().expect("etag").to_string();
        let body = r.bytes().await.expect("body");
        let hex: String = Sha256::digest(&body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            etag,
            format!("\"{hex}\""),
            "{path}: ETag is the body's hash"
        );

        let again = Client::new()
            .get(url(&s, path))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("conditional get");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert_eq!(again.headers()["cache-control"], "public, max-age=300");
        assert!(again.bytes().await.expect("body").is_empty());

        let other = Client::new()
            .get(url(&s, path))
            .header("if-none-match", "\"something-else\", W/\"nope\"")
            .send()
            .await
            .expect("conditional get");
        assert_eq!(other.status(), StatusCode::OK, "{path}");
        let weak = Client::new()
            .get(url(&s, path))
            .header("if-none-match", format!("\"x\", W/{etag}"))
            .send()
            .await
            .expect("conditional get");
        assert_eq!(
            weak.status(),
            StatusCode::NOT_MODIFIED,
            "{path}: weak match"
        );
    }
    let r = get(&s, "/mcp/docs.json").await;
    assert_eq!(r.headers()["content-type"], "application/json");
    let r = get(&s, "/mcp/docs/").await;
    assert_eq!(r.status(), StatusCode::OK, "the redirect lands on the page");
    assert_eq!(r.url().path(), "/mcp/docs");
}

#[tokio::test]
async fn page_has_a_strict_csp_and_no_inline_code_or_external_resources() {
    let s = start().await;
    let r = get(&s, "/mcp/docs").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("style-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let html = r.text().await.expect("html");

    assert!(!html.contains("<style"), "no inline style element");
    assert!(!html.contains(" style="), "no style attributes");
    assert!(!html.contains("javascript:"));
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert_eq!(scripts.len(), 1, "one script element");
    assert!(
        scripts[0].starts_with(" src=\"docs/assets/docs.js?v="),
        "{}",
        &scripts[0][..60]
    );
    assert!(scripts[0].contains("></script>"), "the script has no body");
    // Raw `<` only opens tags (text is escaped), so each tag is what follows a `<`.
    let tags: Vec<&str> = html
        .split('<')
        .skip(1)
        .map(|t| t.split('>').next().unwrap_or(""))
        .collect();
    for tag in &tags {
        let attrs = attributes(tag);
        assert!(
            !attrs
                .iter()
                .any(|(name, _)| name.starts_with("on") || name == "style"),
            "no event handler or style attribute: <{tag}>"
        );
        // Everything loaded is served by the binary (relative URLs) or a data: icon.
        for (name, value) in &attrs {
            if name == "src" {
                assert!(
                    value.starts_with("docs/assets/") || value.starts_with("data:image/"),
                    "<{tag}>"
                );
            }
            if name == "href" && tag.starts_with("link ") {
                assert!(value.starts_with("docs"), "<{tag}>");
            }
        }
    }
    assert!(html.contains("<link rel=\"stylesheet\" href=\"docs/assets/docs.css?v="));
    assert!(!html.contains("https://fonts"));

    let css = get(&s, "/mcp/docs/assets/docs.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let css = css.text().await.expect("css");
    assert!(css.contains("prefers-color-scheme: dark"), "dark mode");
    assert!(css.contains("@media (max-width: 900px)"), "phone layout");
    assert!(!css.contains("@import") && !css.contains("url(http"));
    let js = get(&s, "/mcp/docs/assets/docs.js").await;
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
}

/// The attributes of a tag's text (`a href="x" hidden`), values unquoted.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag.trim_start_matches('/');
    // Skip the element name.
    rest = rest
        .split_once(char::is_whitespace)
        .map(|(_, r)| r)
        .unwrap_or("");
    loop {
        rest = rest.trim_start();
        if rest.is_empty() || rest == "/" {
            return out;
        }
        let end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let name = rest[..end].to_ascii_lowercase();
        rest = &rest[end..];
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            if let Some(q) = after.strip_prefix('"') {
                let close = q.find('"').unwrap_or(q.len());
                value = q[..close].to_string();
                rest = q.get(close + 1..).unwrap_or("");
            } else {
                let close = after.find(char::is_whitespace).unwrap_or(after.len());
                value = after[..close].to_string();
                rest = &after[close..];
            }
        }
        out.push((name, value));
    }
}

#[tokio::test]
async fn page_groups_tools_by_category_with_badges_and_parameter_tables() {
    let s = start().await;
    let html = get(&s, "/mcp/docs").await.text().await.expect("html");
    let registry = s.server.registry();
    assert!(html.contains("<title>MuseHub test server · MCP server reference</title>"));
    assert!(html.contains("Server used by the docs tests."));

    for t in &registry.tools {
        let id = format!("id=\"tool-{}\"", t.def.name);
        assert_eq!(html.matches(&id).count(), 1, "{id}");
        assert!(
            html.contains(&format!("href=\"#tool-{}\"", t.def.name)),
            "anchor link for {}",
            t.def.name
        );
    }
    for kind in ["resource", "resourceTemplate", "prompt"] {
        let expected = match kind {
            "resource" => registry.resources.len(),
            "resourceTemplate" => registry.templates.len(),
            _ => registry.prompts.len(),
        };
        let found = html.matches(&format!("data-kind=\"{kind}\"")).count();
        assert_eq!(found, expected, "{kind}");
    }
    assert_eq!(
        html.matches("data-kind=\"tool\"").count(),
        registry.tools.len()
    );

    // Groups in the configured order, uncategorised last.
    let pos = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} on the page"))
    };
    let read = pos("id=\"group-read\"");
    let write = pos("id=\"group-write\"");
    let interactive = pos("id=\"group-interactive\"");
    let other = pos("id=\"group-other\"");
    assert!(read < write && write < interactive && interactive < other);
    assert!(pos("id=\"tool-echo\"") > read && pos("id=\"tool-echo\"") < write);
    assert!(pos("id=\"tool-write_note\"") > write && pos("id=\"tool-write_note\"") < interactive);
    assert!(pos("id=\"tool-announce\"") > other);

    // Badges from the annotations and flags.
    let article = |name: &str| {
        let start = pos(&format!("id=\"tool-{name}\""));
        let end = html[start..].find("</article>").expect("article end") + start;
        html[start..end].to_string()
    };
    let echo = article("echo");
    assert!(echo.contains(">read-only<") && echo.contains(">idempotent<"));
    assert!(!echo.contains("write · auth"));
    let note = article("write_note");
    assert!(note.contains(">write · auth<") && note.contains(">additive<"));
    assert!(article("count_down").contains(">streaming<"));
    assert!(article("docs_unmarked_write").contains(">destructive<"));

    // Parameter tables from the schema: nested object fields, enums, defaults.
    let transpose = article("fixture_transpose");
    assert!(transpose.contains("<span class=\"parent\">key.</span><b>mode</b>"));
    assert!(transpose.contains("<code class=\"chip\">&quot;major&quot;</code>"));
    assert!(transpose.contains("Semitones, may be negative"));
    let squares = article("squares");
    assert!(squares.contains("<code>3</code>"), "the default");
    assert!(squares.contains("≥ 0"), "u32 minimum");
    assert!(squares.contains(">Output "), "output schema");

    // A ready tools/call request and the auth header for write tools.
    assert!(echo.contains("&quot;method&quot;: &quot;tools/call&quot;"));
    assert!(echo.contains("data-copy=\"tool-echo-request\""));
    assert!(note.contains("Authorization: &lt;credentials&gt;"));

    // Connection details: both eras, the session header, MSign with its example.
    for needle in [
        "2024-11-05",
        "2025-11-25",
        "2026-07-28",
        "Mcp-Session-Id",
        "MSign",
        "Sign each request with your Ed25519 key.",
        "Agent quick start",
        "data-count=\"tools\">",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert!(html.contains(&format!("data-count=\"tools\">{}<", registry.tools.len())));
}

#[tokio::test]
async fn everything_is_escaped_and_nothing_from_the_request_is_echoed() {
    let s = start().await;
    let html = get(&s, "/mcp/docs").await.text().await.expect("html");
    assert!(!html.contains("<script>alert"), "description escaped");
    assert!(html.contains("&lt;script&gt;alert(&quot;tool&quot;)&lt;/script&gt;"));
    assert!(
        !html.contains("<img src=x"),
        "parameter description escaped"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!html.contains("<b>` must"));
    // The signing example is shown verbatim, escaped.
    assert!(html.contains("sig=&quot;&lt;base64 ed25519 signature"));

    // The body does not depend on the request: query strings and headers are ignored.
    let probe = Client::new()
        .get(url(&s, "/mcp/docs?q=%3Cscript%3Ealert(1)%3C/script%3E"))
        .header("if-none-match", "<script>")
        .header("x-forwarded-host", "evil.example")
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("html");
    assert_eq!(probe, html);

    // The Markdown reference escapes table cells.
    let md = get(&s, "/mcp/docs.md").await.text().await.expect("md");
    assert!(md.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

#[tokio::test]
async fn markdown_lists_every_item_with_parameters() {
    let s = start().await;
    let r = get(&s, "/mcp/docs.md").await;
    assert_eq!(r.headers()["content-type"], "text/markdown; charset=utf-8");
    let md = r.text().await.expect("md");
    assert_eq!(
        md,
        docs::markdown(&s.server),
        "offline export equals served"
    );
    let registry = s.server.registry();
    for t in &registry.tools {
        assert!(
            md.contains(&format!("#### `{}`", t.def.name)),
            "tool {}",
            t.def.name
        );
        assert!(md.contains(&format!("\"name\": \"{}\"", t.def.name)));
    }
    for r in &registry.resources {
        assert!(md.contains(&format!("#### `{}`", r.def.name)));
        assert!(md.contains(&format!("URI: `{}`", r.def.uri)));
    }
    for t in &registry.templates {
        assert!(md.contains(&format!("URI: `{}`", t.def.uri)));
    }
    for p in &registry.prompts {
        assert!(md.contains(&format!("#### `{}`", p.def.name)));
    }
    assert!(md.contains("| `semitones` | `integer` | yes |  |"));
    assert!(md.contains("| `key.mode` | `string` | yes |  | one of `\"major\"`, `\"minor\"` |"));
    assert!(md.contains("| `topic` | yes | The topic (completion) |"));
    assert!(md.contains("### Read\n\nLook things up.\n"));
    assert!(md.contains("| Authentication | `MSign` in the `Authorization` header"));
}

#[tokio::test]
async fn lint_reports_missing_descriptions_and_unstated_write_hints() {
    let server = server();
    let issues = docs::lint(server.registry());
    let of = |tool: &str| -> Vec<&LintKind> {
        issues
            .iter()
            .filter(|i| i.tool == tool)
            .map(|i| &i.kind)
            .collect()
    };
    assert_eq!(
        of("docs_unmarked_write"),
        [
            &LintKind::DestructiveNotExplicit,
            &LintKind::IdempotentNotExplicit
        ]
    );
    assert!(of("write_note").iter().all(|k| !matches!(
        k,
        LintKind::DestructiveNotExplicit | LintKind::IdempotentNotExplicit
    )));
    assert_eq!(
        of("add"),
        [
            &LintKind::MissingParameterDescription {
                parameter: "a".into()
            },
            &LintKind::MissingParameterDescription {
                parameter: "b".into()
            },
        ]
    );
    assert!(of("echo").is_empty(), "{issues:?}");
    let text = issues
        .iter()
        .find(|i| i.tool == "docs_unmarked_write")
        .expect("issue")
        .to_string();
    assert!(
        text.starts_with(
            "write tool `docs_unmarked_write` does not state whether it is destructive"
        ),
        "{text}"
    );
    assert!(text.contains("docs_surfaces.rs:"), "{text}");
}

#[tokio::test]
async fn docs_can_be_turned_off() {
    let server =
        musehub_tests::build_with(ServerConfig::default(), |b| b.docs(DocsOptions::disabled()));
    let s = musehub_tests::serve(server).await;
    assert_eq!(
        get(&s, "/mcp/docs.json").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(get(&s, "/mcp/docs").await.status(), StatusCode::NOT_FOUND);
    // The offline exports still work.
    assert!(docs::manifest_json(&s.server).contains("\"manifestVersion\": 1"));
}

#[tokio::test]
async fn a_public_url_makes_every_link_absolute() {
    let server = musehub_tests::build_with(ServerConfig::default(), |b| {
        b.docs(DocsOptions::new().public_url("https://mcp.example/"))
    });
    let m: Value = musehub_mcp::serde_json::from_str(&docs::manifest_json(&server)).expect("json");
    assert_eq!(m["server"]["endpoint"], "https://mcp.example/mcp");
    assert_eq!(m["server"]["docsUrl"], "https://mcp.example/mcp/docs");
    let html = docs::html(&server).expect("renders");
    assert!(html.contains("https://mcp.example/mcp"));
    assert!(!html.contains("js-origin"), "no origin to fill in");
}
