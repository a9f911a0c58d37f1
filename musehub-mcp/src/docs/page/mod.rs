//! The `/mcp/docs` page: a view model computed from the registry, rendered once by minijinja
//! from templates embedded in the binary. Every value is escaped by the engine's HTML
//! autoescape; the page carries no inline script or style.

use std::collections::HashSet;

use minijinja::Environment;
use serde_json::{Value, json};

mod snippets;
mod views;

pub(crate) use snippets::rpc;
use snippets::*;
use views::*;

use super::manifest::header_case;
use super::schema_view;
use super::{
    DocsError, ENDPOINT_PATH, MANIFEST_PATH, MARKDOWN_PATH, PAGE_PATH, SCHEMA_PATH, groups,
};
use crate::protocol::http::{SESSION_HEADER, VERSION_HEADER};
use crate::protocol::version::ProtocolVersion;
use crate::registry::ToolEntry;
use crate::server::Server;

const PAGE_TEMPLATE: &str = include_str!("../templates/page.html");
const MACROS_TEMPLATE: &str = include_str!("../templates/macros.html");

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

fn tool_view(t: &ToolEntry, urls: &Urls, used: &mut HashSet<String>) -> ToolView {
    let def = t.def;
    let mut badges = Vec::new();
    if def.read_only {
        badges.push(Badge {
            class: "ok",
            label: "read-only".into(),
            hint: "Does not modify its environment (readOnlyHint)".into(),
        });
    } else if def.destructive {
        badges.push(Badge {
            class: "danger",
            label: "destructive".into(),
            hint: "May delete or overwrite data (destructiveHint)".into(),
        });
    } else {
        badges.push(Badge {
            class: "info",
            label: "additive".into(),
            hint: "Changes state without destroying data (destructiveHint: false)".into(),
        });
    }
    if def.idempotent {
        badges.push(Badge {
            class: "info",
            label: "idempotent".into(),
            hint:
                "Repeating the call with the same arguments has no further effect (idempotentHint)"
                    .into(),
        });
    }
    if def.open_world {
        badges.push(Badge {
            class: "world",
            label: "open-world".into(),
            hint: "Interacts with external entities (openWorldHint)".into(),
        });
    }
    if def.write || !def.scopes.is_empty() {
        let scopes = def.scopes.join(" ");
        badges.push(Badge {
            class: "auth",
            label: if def.write { "write · auth" } else { "auth" }.into(),
            hint: if scopes.is_empty() {
                "Anonymous callers are refused".into()
            } else {
                format!("Anonymous callers are refused; a scoped token needs: {scopes}").into()
            },
        });
        for scope in def.scopes {
            badges.push(Badge {
                class: "scope",
                label: (*scope).into(),
                hint: "An OAuth scope this tool needs (a token without it gets 403 insufficient_scope)".into(),
            });
        }
    }
    if def.sse {
        badges.push(Badge {
            class: "stream",
            label: "streaming".into(),
            hint: "May send progress, logs, elicitation or sampling before its result (SSE)".into(),
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
        output_wrapped: t.shape == crate::handler::into::OutputShape::Wrapped,
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
                .description_text()
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
        auth: options
            .auth_schemes()
            .iter()
            .map(|a| AuthView {
                scheme: a.scheme.clone(),
                header: a.header.clone(),
                description: prose(a.description.as_deref().unwrap_or("")),
                example: a.example.clone(),
                docs_url: a.docs_url.clone(),
            })
            .collect(),
        write_tools: registry
            .tools
            .iter()
            .filter(|t| t.def.write || !t.def.scopes.is_empty())
            .count(),
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
