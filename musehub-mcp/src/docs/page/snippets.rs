//! The text the page shows: prose with code spans, copyable snippets (requests, curl commands)
//! whose origin the page's script may fill in, anchors and search text.

use std::collections::HashSet;

use base64::Engine;
use serde::Serialize;
use serde_json::{Value, json};

use super::views::{Snippet, SnippetPart, Span};
use crate::config::docs::DocsOptions;
use crate::docs::ENDPOINT_PATH;
use crate::docs::manifest::header_case;
use crate::protocol::http::VERSION_HEADER;
use crate::protocol::modern::{META_CAPABILITIES, META_VERSION};
use crate::protocol::version::ProtocolVersion;

/// Shown where the origin goes until the page's script fills in the real one (only when no
/// public URL is configured).
pub(super) const ORIGIN_PLACEHOLDER: &str = "https://your-server";

/// Prose split into paragraphs of spans: blank lines separate paragraphs, backticks mark code.
pub(super) fn prose(text: &str) -> Vec<Vec<Span>> {
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

/// The marker put where the origin goes while building snippet text (plain ASCII, so it
/// survives JSON and shell quoting unchanged).
pub(super) const ORIGIN_MARK: &str = "__MUSEHUB_DOCS_ORIGIN__";

pub(super) struct Urls<'a> {
    pub(super) options: &'a DocsOptions,
}

impl Urls<'_> {
    /// `path` with the origin marker (or the configured origin) in front.
    pub(super) fn abs(&self, path: &str) -> String {
        match self.options.public_origin() {
            Some(o) => format!("{o}{path}"),
            None => format!("{ORIGIN_MARK}{path}"),
        }
    }
}

pub(super) fn snippet(id: String, text: &str) -> Snippet {
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

/// Only `data:` icons are shown: the page loads nothing from other origins.
pub(super) fn data_icon(listing: &Value) -> Option<String> {
    listing
        .get("icons")?
        .as_array()?
        .iter()
        .filter_map(|i| i.get("src").and_then(Value::as_str))
        .find(|s| s.starts_with("data:image/"))
        .map(str::to_string)
}

/// A unique, URL-safe anchor.
pub(super) fn anchor(prefix: &str, name: &str, used: &mut HashSet<String>) -> String {
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

pub(super) fn search_text(parts: &[Option<&str>]) -> String {
    parts
        .iter()
        .flatten()
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

pub(super) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub(super) fn pretty(v: &impl Serialize) -> String {
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
pub(super) const INLINE_WIDTH: usize = 76;

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
    pub(super) jsonrpc: &'static str,
    pub(super) id: u32,
    pub(super) method: &'a str,
    pub(super) params: RpcParams,
}

#[derive(Serialize)]
pub(super) struct RpcParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) uri: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) arguments: Option<Value>,
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub(super) meta: Option<Value>,
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
pub(super) fn modern_curl(
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
pub(super) fn header_value(s: &str) -> String {
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
