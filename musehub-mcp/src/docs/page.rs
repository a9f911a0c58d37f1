//! The `/mcp/docs` page: a view model computed from the registry, rendered once by minijinja
//! from templates embedded in the binary. Every value is escaped by the engine's HTML
//! autoescape; the page carries no inline script or style.

use std::collections::HashSet;

use base64::Engine;
use minijinja::Environment;
use serde::Serialize;
use serde_json::{Value, json};

use super::manifest::header_case;
use super::schema_view::{self, ParamRow};
use super::{
    DocsError, DocsOptions, ENDPOINT_PATH, MANIFEST_PATH, MARKDOWN_PATH, PAGE_PATH, SCHEMA_PATH,
    groups,
};
use crate::engine::Server;
use crate::engine::modern::{META_CAPABILITIES, META_VERSION};
use crate::protocol::version::ProtocolVersion;
use crate::registry::ToolEntry;
use crate::transport::http::{SESSION_HEADER, VERSION_HEADER};

const PAGE_TEMPLATE: &str = include_str!("templates/page.html");
const MACROS_TEMPLATE: &str = include_str!("templates/macros.html");

/// Shown where the origin goes until the page's script fills in the real one (only when no
/// public URL is configured).
const ORIGIN_PLACEHOLDER: &str = "https://your-server";

/// The `/mcp/docs` page of `server`, as served. `asset_version` is appended to asset URLs
/// so browsers refetch them when they change.
pub(crate) fn render(server: &Server, asset_version: &str) -> Result<String, DocsError> {
    let mut env = Environment::new();
    env.set_formatter(html_formatter);
    env.add_filter("spans", |text: String| {
        minijinja::Value::from_serialize(prose(&text).into_iter().flatten().collect::<Vec<_>>())
    });
    env.add_template("macros.html", MACROS_TEMPLATE)?;
    env.add_template("page.html", PAGE_TEMPLATE)?;
    let view = view(server, asset_version);
    Ok(env.get_template("page.html")?.render(&view)?)
}

/// HTML autoescape that escapes what HTML needs (`&`, `<`, `>`, `"`, `'`) and leaves `/`
/// alone, so URLs and code read as written; everything else as the default formatter.
fn html_formatter(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    match value.as_str() {
        Some(text) if state.auto_escape() == minijinja::AutoEscape::Html && !value.is_safe() => {
            let mut escaped = String::with_capacity(text.len() + 16);
            for c in text.chars() {
                match c {
                    '&' => escaped.push_str("&amp;"),
                    '<' => escaped.push_str("&lt;"),
                    '>' => escaped.push_str("&gt;"),
                    '"' => escaped.push_str("&quot;"),
                    '\'' => escaped.push_str("&#x27;"),
                    c => escaped.push(c),
                }
            }
            out.write_str(&escaped).map_err(|_| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "writing the page")
            })
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// The `/mcp/docs` page of `server` as standalone HTML (it links its CSS and JS relative to
/// `/mcp/docs`, so it looks right only when served there).
pub fn html(server: &Server) -> Result<String, DocsError> {
    render(server, &super::http::assets_version())
}

/// A run of text, in code font or not.
#[derive(Serialize)]
struct Span {
    code: bool,
    text: String,
}

/// Prose split into paragraphs of spans: blank lines separate paragraphs, backticks mark code.
fn prose(text: &str) -> Vec<Vec<Span>> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.split('`')
                .enumerate()
                .filter(|(_, t)| !t.is_empty())
                .map(|(i, t)| Span {
                    code: i % 2 == 1,
                    text: t.to_string(),
                })
                .collect()
        })
        .collect()
}

/// A snippet of code whose origin part the page's script may replace.
#[derive(Serialize)]
struct Snippet {
    id: String,
    parts: Vec<SnippetPart>,
}

#[derive(Serialize)]
struct SnippetPart {
    origin: bool,
    text: String,
}

/// The marker put where the origin goes while building snippet text (plain ASCII, so it
/// survives JSON and shell quoting unchanged).
const ORIGIN_MARK: &str = "__MUSEHUB_DOCS_ORIGIN__";

struct Urls<'a> {
    options: &'a DocsOptions,
}

impl Urls<'_> {
    /// `path` with the origin marker (or the configured origin) in front.
    fn abs(&self, path: &str) -> String {
        match self.options.public_origin() {
            Some(o) => format!("{o}{path}"),
            None => format!("{ORIGIN_MARK}{path}"),
        }
    }
}

fn snippet(id: String, text: &str) -> Snippet {
    let mut parts = Vec::new();
    for (i, piece) in text.split(ORIGIN_MARK).enumerate() {
        if i > 0 {
            parts.push(SnippetPart {
                origin: true,
                text: ORIGIN_PLACEHOLDER.into(),
            });
        }
        if !piece.is_empty() {
            parts.push(SnippetPart {
                origin: false,
                text: piece.into(),
            });
        }
    }
    Snippet { id, parts }
}

#[derive(Serialize)]
struct Badge {
    class: &'static str,
    label: &'static str,
    hint: &'static str,
}

#[derive(Serialize)]
struct ToolView {
    anchor: String,
    name: String,
    title: Option<String>,
    description: Vec<Vec<Span>>,
    search: String,
    badges: Vec<Badge>,
    params: Vec<ParamRow>,
    output: Option<Vec<ParamRow>>,
    output_wrapped: bool,
    /// Request, curl and schemas, shown as tabs of one code panel.
    panels: Vec<Panel>,
    source: String,
    icon: Option<String>,
}

/// One tab of a tabbed code panel.
#[derive(Serialize)]
struct Panel {
    label: &'static str,
    note: &'static str,
    snippet: Snippet,
}

#[derive(Serialize)]
struct GroupView {
    anchor: String,
    title: String,
    description: Option<String>,
    tools: Vec<ToolView>,
}

#[derive(Serialize)]
struct ResourceView {
    anchor: String,
    name: String,
    title: Option<String>,
    uri: String,
    mime_type: Option<String>,
    description: Vec<Vec<Span>>,
    search: String,
    variables: Vec<VariableView>,
    request: Snippet,
    source: String,
    icon: Option<String>,
}

#[derive(Serialize)]
struct VariableView {
    name: String,
    completion: bool,
}

#[derive(Serialize)]
struct PromptArgView {
    name: String,
    required: bool,
    description: Option<String>,
    completion: bool,
}

#[derive(Serialize)]
struct PromptView {
    anchor: String,
    name: String,
    title: Option<String>,
    description: Vec<Vec<Span>>,
    search: String,
    arguments: Vec<PromptArgView>,
    request: Snippet,
    source: String,
    icon: Option<String>,
}

#[derive(Serialize)]
struct AuthView {
    scheme: String,
    header: String,
    description: Vec<Vec<Span>>,
    example: Option<String>,
    docs_url: Option<String>,
}

#[derive(Serialize)]
struct PageView {
    name: String,
    title: String,
    version: String,
    framework_version: &'static str,
    intro: Vec<Vec<Span>>,
    endpoint: Snippet,
    fill_origin: bool,
    manifest_url: String,
    markdown_url: String,
    schema_url: String,
    css_url: String,
    js_url: String,
    icon_url: String,
    handshake_versions: Vec<&'static str>,
    modern_versions: Vec<&'static str>,
    latest_handshake: &'static str,
    session_header: String,
    version_header: String,
    auth: Option<AuthView>,
    write_tools: usize,
    counts: Counts,
    client_config: Snippet,
    claude_add: Snippet,
    curl_handshake: Snippet,
    curl_modern: Snippet,
    groups: Vec<GroupView>,
    resources: Vec<ResourceView>,
    templates: Vec<ResourceView>,
    prompts: Vec<PromptView>,
}

#[derive(Serialize)]
struct Counts {
    tools: usize,
    resources: usize,
    templates: usize,
    prompts: usize,
}

/// Only `data:` icons are shown: the page loads nothing from other origins.
fn data_icon(listing: &Value) -> Option<String> {
    listing
        .get("icons")?
        .as_array()?
        .iter()
        .filter_map(|i| i.get("src").and_then(Value::as_str))
        .find(|s| s.starts_with("data:image/"))
        .map(str::to_string)
}

/// A unique, URL-safe anchor.
fn anchor(prefix: &str, name: &str, used: &mut HashSet<String>) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let base = format!("{prefix}-{}", slug.trim_matches('-'));
    let mut candidate = base.clone();
    let mut n = 2;
    while !used.insert(candidate.clone()) {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    candidate
}

fn search_text(parts: &[Option<&str>]) -> String {
    parts
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn pretty(v: &impl Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A JSON tree whose objects keep the order they are built in (serde_json's map sorts).
enum Tree {
    Leaf(Value),
    Object(Vec<(String, Tree)>),
}

impl Tree {
    fn from_value(v: &Value) -> Tree {
        match v {
            Value::Object(m) => Tree::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Tree::from_value(v)))
                    .collect(),
            ),
            other => Tree::Leaf(other.clone()),
        }
    }
}

/// Width under which a nested value stays on one line.
const INLINE_WIDTH: usize = 76;

fn inline(t: &Tree) -> String {
    match t {
        Tree::Object(m) if !m.is_empty() => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::from(k.as_str()), inline(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Tree::Object(_) => "{}".into(),
        Tree::Leaf(Value::Array(a)) if !a.is_empty() => {
            let parts: Vec<String> = a.iter().map(|v| inline(&Tree::from_value(v))).collect();
            format!("[{}]", parts.join(", "))
        }
        Tree::Leaf(Value::Object(m)) => inline(&Tree::from_value(&Value::Object(m.clone()))),
        Tree::Leaf(v) => v.to_string(),
    }
}

/// Pretty JSON that keeps small nested values on one line, so a request reads at a glance:
/// `"params": {"name": "add", "arguments": {"a": 0, "b": 0}}`.
fn write_readable(t: &Tree, indent: usize, out: &mut String) {
    let flat = inline(t);
    let entries: Vec<(Option<&str>, Tree)> = match t {
        Tree::Object(m) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| (Some(k.as_str()), clone_tree(v)))
            .collect(),
        Tree::Leaf(Value::Object(m)) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| (Some(k.as_str()), Tree::from_value(v)))
            .collect(),
        Tree::Leaf(Value::Array(a)) if !a.is_empty() => {
            a.iter().map(|v| (None, Tree::from_value(v))).collect()
        }
        _ => Vec::new(),
    };
    if entries.is_empty() || (indent > 0 && flat.len() + indent * 2 <= INLINE_WIDTH) {
        out.push_str(&flat);
        return;
    }
    let array = matches!(t, Tree::Leaf(Value::Array(_)));
    out.push(if array { '[' } else { '{' });
    out.push('\n');
    let n = entries.len();
    for (i, (k, item)) in entries.iter().enumerate() {
        out.push_str(&"  ".repeat(indent + 1));
        if let Some(k) = k {
            out.push_str(&Value::from(*k).to_string());
            out.push_str(": ");
        }
        write_readable(item, indent + 1, out);
        if i + 1 < n {
            out.push(',');
        }
        out.push('\n');
    }
    out.push_str(&"  ".repeat(indent));
    out.push(if array { ']' } else { '}' });
}

fn clone_tree(t: &Tree) -> Tree {
    match t {
        Tree::Leaf(v) => Tree::Leaf(v.clone()),
        Tree::Object(m) => {
            Tree::Object(m.iter().map(|(k, v)| (k.clone(), clone_tree(v))).collect())
        }
    }
}

/// A JSON-RPC request, its members in the order people write them.
#[derive(Serialize)]
pub(crate) struct Rpc<'a> {
    jsonrpc: &'static str,
    id: u32,
    method: &'a str,
    params: RpcParams,
}

#[derive(Serialize)]
struct RpcParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arguments: Option<Value>,
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    meta: Option<Value>,
}

impl Rpc<'_> {
    /// Pretty-printed in member order, small values kept on one line.
    pub(crate) fn readable(&self) -> String {
        let p = &self.params;
        let params: Vec<(String, Tree)> = [
            ("name", &p.name),
            ("uri", &p.uri),
            ("arguments", &p.arguments),
            ("_meta", &p.meta),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), Tree::Leaf(v.clone()))))
        .collect();
        let tree = Tree::Object(vec![
            ("jsonrpc".into(), Tree::Leaf(self.jsonrpc.into())),
            ("id".into(), Tree::Leaf(self.id.into())),
            ("method".into(), Tree::Leaf(self.method.into())),
            ("params".into(), Tree::Object(params)),
        ]);
        let mut out = String::new();
        write_readable(&tree, 0, &mut out);
        out
    }
}

/// A JSON-RPC request object with `params` (`name`, `uri`, `arguments`, `_meta`).
pub(crate) fn rpc(method: &str, mut params: Value) -> Rpc<'_> {
    let mut take = |k: &str| params.as_object_mut().and_then(|m| m.remove(k));
    Rpc {
        jsonrpc: "2.0",
        id: 1,
        method,
        params: RpcParams {
            name: take("name"),
            uri: take("uri"),
            arguments: take("arguments"),
            meta: take("_meta"),
        },
    }
}

/// The same request as a ready curl command of the 2026-07-28 era: no session, the envelope
/// in `params._meta` and the mirrored headers.
fn modern_curl(
    urls: &Urls,
    method: &str,
    name: Option<&str>,
    mut params: Value,
    extra_headers: &[(String, String)],
) -> String {
    let modern = ProtocolVersion::MODERN
        .last()
        .copied()
        .unwrap_or(ProtocolVersion::V2026_07_28)
        .as_str();
    if let Value::Object(m) = &mut params {
        m.insert(
            "_meta".into(),
            json!({ META_VERSION: modern, META_CAPABILITIES: {} }),
        );
    }
    let body = serde_json::to_string(&rpc(method, params)).unwrap_or_default();
    let mut lines = vec![
        format!("curl -sS {}", shell_quote(&urls.abs(ENDPOINT_PATH))),
        "  -H 'Content-Type: application/json'".to_string(),
        "  -H 'Accept: application/json, text/event-stream'".to_string(),
        format!("  -H '{}: {modern}'", header_case(VERSION_HEADER)),
        format!("  -H 'Mcp-Method: {method}'"),
    ];
    if let Some(n) = name {
        lines.push(format!(
            "  -H {}",
            shell_quote(&format!("Mcp-Name: {}", header_value(n)))
        ));
    }
    for (h, v) in extra_headers {
        lines.push(format!("  -H {}", shell_quote(&format!("{h}: {v}"))));
    }
    lines.push(format!("  -d {}", shell_quote(&body)));
    lines.join(" \\\n")
}

/// A header value as the 2026-07-28 transport expects it: verbatim when plain visible ASCII,
/// else the `=?base64?…?=` form.
fn header_value(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes().all(|b| (0x20..0x7f).contains(&b))
        && s.trim() == s
        && !s.starts_with("=?");
    if plain {
        s.to_string()
    } else {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    }
}

fn tool_view(t: &ToolEntry, urls: &Urls, used: &mut HashSet<String>) -> ToolView {
    let def = t.def;
    let mut badges = Vec::new();
    if def.read_only {
        badges.push(Badge {
            class: "ok",
            label: "read-only",
            hint: "Does not modify its environment (readOnlyHint)",
        });
    } else if def.destructive {
        badges.push(Badge {
            class: "danger",
            label: "destructive",
            hint: "May delete or overwrite data (destructiveHint)",
        });
    } else {
        badges.push(Badge {
            class: "info",
            label: "additive",
            hint: "Changes state without destroying data (destructiveHint: false)",
        });
    }
    if def.idempotent {
        badges.push(Badge {
            class: "info",
            label: "idempotent",
            hint: "Repeating the call with the same arguments has no further effect (idempotentHint)",
        });
    }
    if def.open_world {
        badges.push(Badge {
            class: "world",
            label: "open-world",
            hint: "Interacts with external entities (openWorldHint)",
        });
    }
    if def.write {
        badges.push(Badge {
            class: "auth",
            label: "write · auth",
            hint: "Changes data: anonymous callers are refused (scope `write`)",
        });
    }
    if def.sse {
        badges.push(Badge {
            class: "stream",
            label: "streaming",
            hint: "May send progress, logs, elicitation or sampling before its result (SSE)",
        });
    }
    let args = schema_view::example(&t.input_schema);
    let params = json!({"name": def.name, "arguments": args});
    let mut headers = Vec::new();
    if let Some(props) = t.input_schema.get("properties").and_then(Value::as_object) {
        for (prop, sub) in props {
            if let (Some(h), Some(v)) = (
                sub.get("x-mcp-header").and_then(Value::as_str),
                args.get(prop).filter(|v| !v.is_null()),
            ) {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                headers.push((format!("Mcp-Param-{h}"), header_value(&text)));
            }
        }
    }
    if def.write {
        headers.push(("Authorization".into(), "<credentials>".into()));
    }
    let anchor = anchor("tool", def.name, used);
    ToolView {
        panels: {
            let mut panels = vec![
                Panel {
                    label: "tools/call",
                    note: "",
                    snippet: snippet(
                        format!("{anchor}-request"),
                        &rpc("tools/call", params.clone()).readable(),
                    ),
                },
                Panel {
                    label: "curl",
                    note: "2026-07-28: one request, no session",
                    snippet: snippet(
                        format!("{anchor}-curl"),
                        &modern_curl(urls, "tools/call", Some(def.name), params, &headers),
                    ),
                },
                Panel {
                    label: "inputSchema",
                    note: "as clients receive it",
                    snippet: snippet(format!("{anchor}-input-schema"), &pretty(&t.input_schema)),
                },
            ];
            if let Some(o) = &t.output_schema {
                panels.push(Panel {
                    label: "outputSchema",
                    note: "of structuredContent",
                    snippet: snippet(format!("{anchor}-output-schema"), &pretty(o)),
                });
            }
            panels
        },
        anchor,
        name: def.name.into(),
        title: def.title.map(str::to_string),
        description: prose(def.description),
        search: search_text(&[
            Some(def.name),
            def.title,
            Some(def.description),
            def.category,
        ]),
        badges,
        params: schema_view::rows(&t.input_schema),
        output: t.output_schema.as_ref().map(schema_view::rows),
        output_wrapped: t.wraps_output,
        source: format!(
            "{} · {}::{}",
            def.location.crate_name, def.location.module, def.location.function
        ),
        icon: data_icon(&t.listing),
    }
}

fn view(server: &Server, asset_version: &str) -> PageView {
    let info = server.info();
    let options = server.docs_options();
    let registry = server.registry();
    let urls = Urls { options };
    let mut used = HashSet::new();

    let groups: Vec<GroupView> = groups(registry, options)
        .into_iter()
        .map(|g| GroupView {
            anchor: anchor("group", g.id.unwrap_or("other"), &mut used),
            title: g.title,
            description: g.description,
            tools: g
                .tools
                .iter()
                .map(|t| tool_view(t, &urls, &mut used))
                .collect(),
        })
        .collect();

    let resources = registry
        .resources
        .iter()
        .map(|r| {
            let params = json!({"uri": r.def.uri});
            let anchor = anchor("resource", r.def.name, &mut used);
            ResourceView {
                request: snippet(
                    format!("{anchor}-request"),
                    &rpc("resources/read", params).readable(),
                ),
                anchor,
                name: r.def.name.into(),
                title: r.def.title.map(str::to_string),
                uri: r.def.uri.into(),
                mime_type: r.def.mime_type.map(str::to_string),
                description: prose(r.def.description.unwrap_or("")),
                search: search_text(&[
                    Some(r.def.name),
                    Some(r.def.uri),
                    r.def.title,
                    r.def.description,
                ]),
                variables: Vec::new(),
                source: format!(
                    "{} · {}::{}",
                    r.def.location.crate_name, r.def.location.module, r.def.location.function
                ),
                icon: data_icon(&r.listing),
            }
        })
        .collect();

    let templates = registry
        .templates
        .iter()
        .map(|t| {
            let params = json!({"uri": t.def.uri});
            let anchor = anchor("template", t.def.name, &mut used);
            ResourceView {
                request: snippet(
                    format!("{anchor}-request"),
                    &rpc("resources/read", params).readable(),
                ),
                anchor,
                name: t.def.name.into(),
                title: t.def.title.map(str::to_string),
                uri: t.def.uri.into(),
                mime_type: t.def.mime_type.map(str::to_string),
                description: prose(t.def.description.unwrap_or("")),
                search: search_text(&[
                    Some(t.def.name),
                    Some(t.def.uri),
                    t.def.title,
                    t.def.description,
                ]),
                variables: t
                    .template
                    .variables()
                    .map(|v| VariableView {
                        name: v.into(),
                        completion: t.def.completions.iter().any(|c| c.argument == v),
                    })
                    .collect(),
                source: format!(
                    "{} · {}::{}",
                    t.def.location.crate_name, t.def.location.module, t.def.location.function
                ),
                icon: data_icon(&t.listing),
            }
        })
        .collect();

    let prompts = registry
        .prompts
        .iter()
        .map(|p| {
            let args: serde_json::Map<String, Value> = p
                .def
                .arguments
                .iter()
                .filter(|a| a.required)
                .map(|a| (a.name.to_string(), json!(format!("<{}>", a.name))))
                .collect();
            let params = json!({"name": p.def.name, "arguments": args});
            let anchor = anchor("prompt", p.def.name, &mut used);
            PromptView {
                request: snippet(
                    format!("{anchor}-request"),
                    &rpc("prompts/get", params).readable(),
                ),
                anchor,
                name: p.def.name.into(),
                title: p.def.title.map(str::to_string),
                description: prose(p.def.description),
                search: search_text(&[Some(p.def.name), p.def.title, Some(p.def.description)]),
                arguments: p
                    .def
                    .arguments
                    .iter()
                    .map(|a| PromptArgView {
                        name: a.name.into(),
                        required: a.required,
                        description: a.description.map(str::to_string),
                        completion: p.def.completions.iter().any(|c| c.argument == a.name),
                    })
                    .collect(),
                source: format!(
                    "{} · {}::{}",
                    p.def.location.crate_name, p.def.location.module, p.def.location.function
                ),
                icon: data_icon(&p.listing),
            }
        })
        .collect();

    let endpoint = urls.abs(ENDPOINT_PATH);
    let latest = ProtocolVersion::LATEST.as_str();
    let accept = "  -H 'Accept: application/json, text/event-stream'";
    let curl_handshake = [
        "# 1. initialize: the answer's Mcp-Session-Id header names your session".to_string(),
        format!("curl -sS -i {}", shell_quote(&endpoint)),
        "  -H 'Content-Type: application/json'".into(),
        accept.into(),
        format!(
            "  -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{{\"protocolVersion\":\"{latest}\",\"capabilities\":{{}},\"clientInfo\":{{\"name\":\"my-agent\",\"version\":\"1.0\"}}}}}}'"
        ),
        String::new(),
        "# 2. every later request carries the session (and the negotiated revision)".into(),
        "SESSION=<Mcp-Session-Id from step 1>".into(),
        format!("curl -sS {}", shell_quote(&endpoint)),
        "  -H 'Content-Type: application/json'".into(),
        accept.into(),
        format!("  -H \"{}: $SESSION\"", header_case(SESSION_HEADER)),
        format!("  -H '{}: {latest}'", header_case(VERSION_HEADER)),
        "  -d '{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}'".into(),
        format!("curl -sS {}", shell_quote(&endpoint)),
        "  -H 'Content-Type: application/json'".into(),
        accept.into(),
        format!("  -H \"{}: $SESSION\"", header_case(SESSION_HEADER)),
        format!("  -H '{}: {latest}'", header_case(VERSION_HEADER)),
        "  -d '{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}'".into(),
    ];
    // Lines ending a command have no continuation backslash; the others do.
    let mut handshake = String::new();
    for (i, line) in curl_handshake.iter().enumerate() {
        handshake.push_str(line);
        let next = curl_handshake.get(i + 1);
        let continues = next.is_some_and(|n| n.starts_with("  -"));
        handshake.push_str(if continues { " \\\n" } else { "\n" });
    }
    let client_config = pretty(&json!({
        "mcpServers": { info.name.clone(): { "type": "http", "url": endpoint } }
    }));

    PageView {
        name: info.name.clone(),
        title: info.title.clone().unwrap_or_else(|| info.name.clone()),
        version: info.version.clone(),
        framework_version: env!("CARGO_PKG_VERSION"),
        intro: prose(
            options
                .description
                .as_deref()
                .or(info.instructions.as_deref())
                .unwrap_or(""),
        ),
        endpoint: snippet("endpoint".into(), &endpoint),
        fill_origin: options.public_origin().is_none(),
        manifest_url: relative(MANIFEST_PATH),
        markdown_url: relative(MARKDOWN_PATH),
        schema_url: relative(SCHEMA_PATH),
        css_url: format!("{}?v={asset_version}", relative(super::http::CSS_PATH)),
        js_url: format!("{}?v={asset_version}", relative(super::http::JS_PATH)),
        icon_url: format!("{}?v={asset_version}", relative(super::http::ICON_PATH)),
        handshake_versions: ProtocolVersion::HANDSHAKE
            .iter()
            .map(|v| v.as_str())
            .collect(),
        modern_versions: ProtocolVersion::MODERN.iter().map(|v| v.as_str()).collect(),
        latest_handshake: latest,
        session_header: header_case(SESSION_HEADER),
        version_header: header_case(VERSION_HEADER),
        auth: options.auth_scheme().map(|a| AuthView {
            scheme: a.scheme.clone(),
            header: a.header.clone(),
            description: prose(a.description.as_deref().unwrap_or("")),
            example: a.example.clone(),
            docs_url: a.docs_url.clone(),
        }),
        write_tools: registry.tools.iter().filter(|t| t.def.write).count(),
        counts: Counts {
            tools: registry.tools.len(),
            resources: registry.resources.len(),
            templates: registry.templates.len(),
            prompts: registry.prompts.len(),
        },
        client_config: snippet("client-config".into(), &client_config),
        claude_add: snippet(
            "claude-add".into(),
            &format!(
                "claude mcp add --transport http {} {}",
                shell_quote(&info.name),
                shell_quote(&endpoint)
            ),
        ),
        curl_handshake: snippet("curl-handshake".into(), handshake.trim_end()),
        curl_modern: snippet(
            "curl-modern".into(),
            &modern_curl(&urls, "tools/list", None, json!({}), &[]),
        ),
        groups,
        resources,
        templates,
        prompts,
    }
}

/// Relative links from the page (`/mcp/docs`) to its neighbours, so the page works behind a
/// path prefix too.
pub(crate) fn relative(path: &str) -> String {
    let base = PAGE_PATH.rsplit_once('/').map(|(b, _)| b).unwrap_or("");
    path.strip_prefix(base)
        .map(|p| p.trim_start_matches('/').to_string())
        .unwrap_or_else(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_splits_paragraphs_and_code() {
        let p = prose("Use `a|b` here.\nSame paragraph.\n\nNext <b>.");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0][1].text, "a|b");
        assert!(p[0][1].code);
        assert_eq!(p[0][2].text, " here. Same paragraph.");
        assert_eq!(p[1][0].text, "Next <b>.");
    }

    #[test]
    fn header_values_fall_back_to_base64() {
        assert_eq!(header_value("eu-west"), "eu-west");
        assert_eq!(header_value("Zürich"), "=?base64?WsO8cmljaA==?=");
        assert_eq!(relative("/mcp/docs.json"), "docs.json");
        assert_eq!(
            relative("/mcp/docs/assets/docs.css"),
            "docs/assets/docs.css"
        );
    }
}
