//! The public manifest, `/mcp/docs.json`: the server and every item it serves, each item's
//! `definition` being exactly the object `tools/list` (or the resource, template or prompt
//! list) gives clients, plus what clients cannot see there: category, write and SSE flags,
//! required authentication and the declaring crate and module.

use serde_json::{Map, Value, json};

use super::{
    DocsOptions, ENDPOINT_PATH, MANIFEST_PATH, MARKDOWN_PATH, PAGE_PATH, SCHEMA_PATH, groups,
};
use crate::protocol::http::{SESSION_HEADER, VERSION_HEADER};
use crate::protocol::version::ProtocolVersion;
use crate::registry::{Registry, SourceLocation};
use crate::server::Server;

/// The manifest format's version, bumped on incompatible changes.
pub const MANIFEST_VERSION: u32 = 1;

/// The manifest's JSON Schema (draft 2020-12), served at `/mcp/docs.schema.json`.
pub const MANIFEST_SCHEMA: &str = include_str!("manifest.schema.json");

/// The manifest of `server` as a JSON value (items sorted by name, or by URI for resources
/// and templates).
pub fn manifest(server: &Server) -> Value {
    serde_json::from_str(&manifest_json(server)).unwrap_or(Value::Null)
}

/// The manifest of `server`, pretty-printed with a final newline: the exact bytes served at
/// `/mcp/docs.json` and written by offline exports. Top-level and server fields come in
/// reading order; items are sorted by name (or URI), so the output is stable.
pub fn manifest_json(server: &Server) -> String {
    let manifest = build(
        server.info(),
        server.docs_options(),
        server.registry(),
        server.capabilities(),
    );
    // Serialising maps, strings and numbers cannot fail.
    let mut s = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    s.push('\n');
    s
}

/// The top level, in reading order (a struct, so serialisation keeps the field order).
#[derive(serde::Serialize)]
struct Manifest<'a> {
    #[serde(rename = "$schema")]
    schema: String,
    #[serde(rename = "manifestVersion")]
    manifest_version: u32,
    generator: Value,
    server: ServerPart<'a>,
    counts: Value,
    categories: Vec<Value>,
    tools: Vec<ToolItem<'a>>,
    resources: Vec<Item<'a>>,
    #[serde(rename = "resourceTemplates")]
    resource_templates: Vec<Item<'a>>,
    prompts: Vec<Item<'a>>,
}

/// A resource, template or prompt entry.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Item<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_template: Option<&'static str>,
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    variables: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completions: Option<Vec<&'static str>>,
    auth: Value,
    source: Value,
    definition: &'a Value,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ServerPart<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    endpoint: String,
    docs_url: String,
    manifest_url: String,
    markdown_url: String,
    protocol_versions: Vec<&'static str>,
    eras: Value,
    /// The first of `auth_schemes` (kept for readers of manifest version 1).
    auth: Option<&'a super::AuthScheme>,
    auth_schemes: &'a [super::AuthScheme],
    capabilities: &'a Value,
}

#[derive(serde::Serialize)]
struct ToolItem<'a> {
    name: &'static str,
    category: Option<&'static str>,
    write: bool,
    sse: bool,
    auth: Value,
    source: Value,
    definition: &'a Value,
}

fn build<'a>(
    info: &'a crate::engine::ServerInfo,
    options: &'a DocsOptions,
    registry: &'a Registry,
    capabilities: &'a Value,
) -> Manifest<'a> {
    let server = ServerPart {
        name: &info.name,
        title: info.title.as_deref(),
        version: &info.version,
        description: options.description_text(),
        instructions: info.instructions.as_deref(),
        endpoint: options.url(ENDPOINT_PATH),
        docs_url: options.url(PAGE_PATH),
        manifest_url: options.url(MANIFEST_PATH),
        markdown_url: options.url(MARKDOWN_PATH),
        protocol_versions: ProtocolVersion::HANDSHAKE
            .iter()
            .chain(ProtocolVersion::MODERN)
            .map(|v| v.as_str())
            .collect(),
        eras: eras(),
        auth: options.auth_scheme(),
        auth_schemes: options.auth_schemes(),
        capabilities,
    };

    let categories: Vec<Value> = groups(registry, options)
        .into_iter()
        .map(|g| {
            let mut m = Map::new();
            m.insert("id".into(), g.id.into());
            m.insert("title".into(), g.title.into());
            if let Some(d) = g.description {
                m.insert("description".into(), d.into());
            }
            m.insert(
                "tools".into(),
                json!(g.tools.iter().map(|t| t.def.name).collect::<Vec<_>>()),
            );
            Value::Object(m)
        })
        .collect();

    let tools: Vec<ToolItem> = registry
        .tools
        .iter()
        .map(|t| ToolItem {
            name: t.def.name,
            category: t.def.category,
            write: t.def.write,
            sse: t.def.sse,
            auth: auth(t.def.write, t.def.scopes),
            source: source(&t.def.location),
            definition: &t.listing,
        })
        .collect();
    let resources: Vec<Item> = registry
        .resources
        .iter()
        .map(|r| Item {
            uri: Some(r.def.uri),
            uri_template: None,
            name: r.def.name,
            variables: None,
            completions: None,
            auth: auth(false, r.def.scopes),
            source: source(&r.def.location),
            definition: &r.listing,
        })
        .collect();
    let templates: Vec<Item> = registry
        .templates
        .iter()
        .map(|t| Item {
            uri: None,
            uri_template: Some(t.def.uri),
            name: t.def.name,
            variables: Some(t.template.variables().collect()),
            completions: Some(t.def.completions.iter().map(|c| c.argument).collect()),
            auth: auth(false, t.def.scopes),
            source: source(&t.def.location),
            definition: &t.listing,
        })
        .collect();
    let prompts: Vec<Item> = registry
        .prompts
        .iter()
        .map(|p| Item {
            uri: None,
            uri_template: None,
            name: p.def.name,
            variables: None,
            completions: Some(p.def.completions.iter().map(|c| c.argument).collect()),
            auth: auth(false, p.def.scopes),
            source: source(&p.def.location),
            definition: &p.listing,
        })
        .collect();

    let counts = json!({
        "tools": tools.len(),
        "resources": resources.len(),
        "resourceTemplates": templates.len(),
        "prompts": prompts.len(),
    });
    Manifest {
        schema: options.url(SCHEMA_PATH),
        manifest_version: MANIFEST_VERSION,
        generator: json!({"name": "musehub-mcp", "version": env!("CARGO_PKG_VERSION")}),
        server,
        counts,
        categories,
        tools,
        resources,
        resource_templates: templates,
        prompts,
    }
}

/// The two eras served on the one endpoint.
fn eras() -> Value {
    let names = |vs: &[ProtocolVersion]| vs.iter().map(|v| v.as_str()).collect::<Vec<_>>();
    json!([
        {
            "id": "handshake",
            "protocolVersions": names(ProtocolVersion::HANDSHAKE),
            "session": true,
            "sessionHeader": header_case(SESSION_HEADER),
            "versionHeader": header_case(VERSION_HEADER),
            "summary": "initialize, then send the Mcp-Session-Id it returns (and MCP-Protocol-Version) on every request",
        },
        {
            "id": "per-request",
            "protocolVersions": names(ProtocolVersion::MODERN),
            "session": false,
            "versionHeader": header_case(VERSION_HEADER),
            "summary": "no handshake and no session: every request carries params._meta with io.modelcontextprotocol/protocolVersion and io.modelcontextprotocol/clientCapabilities, and the MCP-Protocol-Version, Mcp-Method and Mcp-Name headers",
        }
    ])
}

/// `mcp-session-id` → `Mcp-Session-Id`, `mcp-protocol-version` → `MCP-Protocol-Version`.
pub(crate) fn header_case(h: &str) -> String {
    h.split('-')
        .enumerate()
        .map(|(i, w)| {
            if i == 0 && w == "mcp" && h == VERSION_HEADER {
                return "MCP".to_string();
            }
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        })
        .collect::<Vec<String>>()
        .join("-")
}

/// Who may use an item: `write` items and items with scopes refuse anonymous callers; the
/// scopes are the ones a scoped credential (a bearer token) must carry.
fn auth(write: bool, scopes: &[&str]) -> Value {
    json!({"required": write || !scopes.is_empty(), "scopes": scopes})
}

/// Crate, module and function: enough to find the declaration, without the build machine's
/// file paths.
fn source(l: &SourceLocation) -> Value {
    json!({"crate": l.crate_name, "module": l.module, "function": l.function})
}
