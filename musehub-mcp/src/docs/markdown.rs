//! The Markdown reference (`/mcp/docs.md`, and offline exports for READMEs and directory
//! submissions): every tool, resource, template and prompt with its parameters.

use std::fmt::Write as _;

use serde_json::json;

use super::manifest::header_case;
use super::schema_view::{self, ParamRow};
use super::{DocsOptions, ENDPOINT_PATH, groups};
use crate::protocol::http::{SESSION_HEADER, VERSION_HEADER};
use crate::protocol::version::ProtocolVersion;
use crate::registry::ToolEntry;
use crate::server::Server;

/// The Markdown reference of `server`: connection details, then every tool (by category),
/// resource, resource template and prompt, with parameter tables and a ready request.
pub fn markdown(server: &Server) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_all(&mut out, server);
    out
}

fn write_all(out: &mut String, server: &Server) -> std::fmt::Result {
    let info = server.info();
    let options: &DocsOptions = server.docs_options();
    let registry = server.registry();
    let title = info.title.as_deref().unwrap_or(&info.name);

    writeln!(out, "# {} — MCP server reference\n", line(title))?;
    writeln!(
        out,
        "{} version {}. Generated from the server's registry by musehub-mcp {}; it always matches what the server serves.\n",
        code(&info.name),
        line(&info.version),
        env!("CARGO_PKG_VERSION")
    )?;
    if let Some(d) = options.description_text().or(info.instructions.as_deref()) {
        writeln!(out, "{}\n", d.trim())?;
    }

    writeln!(out, "## Connect\n")?;
    writeln!(out, "| | |\n|---|---|")?;
    writeln!(
        out,
        "| Endpoint | {} (Streamable HTTP) |",
        code(&options.url(ENDPOINT_PATH))
    )?;
    let list = |vs: &[ProtocolVersion]| {
        vs.iter()
            .map(|v| code(v.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(
        out,
        "| Handshake era | {}: `initialize`, then the {} and {} headers on every request |",
        list(ProtocolVersion::HANDSHAKE),
        code(&header_case(SESSION_HEADER)),
        code(&header_case(VERSION_HEADER)),
    )?;
    writeln!(
        out,
        "| Per-request era | {}: no session; `params._meta` carries the revision and client capabilities, with the {}, `Mcp-Method` and `Mcp-Name` headers |",
        list(ProtocolVersion::MODERN),
        code(&header_case(VERSION_HEADER)),
    )?;
    writeln!(
        out,
        "| Session header | {} (handshake era) |",
        code(&header_case(SESSION_HEADER))
    )?;
    let write_tools = registry
        .tools
        .iter()
        .filter(|t| t.def.write || !t.def.scopes.is_empty())
        .count();
    let schemes = options.auth_schemes();
    match schemes.first() {
        Some(a) => writeln!(
            out,
            "| Authentication | {} in the {} header, required by the tools marked `auth` ({write_tools}) |",
            schemes
                .iter()
                .map(|s| code(&s.scheme))
                .collect::<Vec<_>>()
                .join(" or "),
            code(&a.header)
        )?,
        None if write_tools > 0 => writeln!(
            out,
            "| Authentication | the tools marked `auth` ({write_tools}) refuse anonymous callers |"
        )?,
        None => writeln!(out, "| Authentication | none: everything is public |")?,
    }
    writeln!(
        out,
        "| Manifest | {} |",
        code(&options.url(super::MANIFEST_PATH))
    )?;
    writeln!(out)?;
    for a in schemes {
        if schemes.len() > 1 {
            writeln!(out, "### {}\n", line(&a.scheme))?;
        }
        if let Some(d) = &a.description {
            writeln!(out, "{}\n", d.trim())?;
        }
        if let Some(e) = &a.example {
            writeln!(out, "{}", fence("text", e))?;
        }
        if let Some(u) = &a.docs_url {
            writeln!(out, "More: <{u}>\n")?;
        }
    }

    writeln!(out, "## Contents\n")?;
    writeln!(out, "- Tools ({})", registry.tools.len())?;
    for g in groups(registry, options) {
        let names: Vec<String> = g.tools.iter().map(|t| code(t.def.name)).collect();
        writeln!(out, "  - {}: {}", line(&g.title), names.join(", "))?;
    }
    writeln!(out, "- Resources ({})", registry.resources.len())?;
    writeln!(out, "- Resource templates ({})", registry.templates.len())?;
    writeln!(out, "- Prompts ({})\n", registry.prompts.len())?;

    writeln!(out, "## Tools\n")?;
    if registry.tools.is_empty() {
        writeln!(out, "None.\n")?;
    }
    for g in groups(registry, options) {
        writeln!(out, "### {}\n", line(&g.title))?;
        if let Some(d) = &g.description {
            writeln!(out, "{}\n", d.trim())?;
        }
        for t in &g.tools {
            tool(out, t)?;
        }
    }

    writeln!(out, "## Resources\n")?;
    if registry.resources.is_empty() {
        writeln!(out, "None.\n")?;
    }
    for r in &registry.resources {
        resource(out, r.def, &[])?;
    }

    writeln!(out, "## Resource templates\n")?;
    if registry.templates.is_empty() {
        writeln!(out, "None.\n")?;
    }
    for t in &registry.templates {
        let vars: Vec<&str> = t.template.variables().collect();
        resource(out, t.def, &vars)?;
    }

    writeln!(out, "## Prompts\n")?;
    if registry.prompts.is_empty() {
        writeln!(out, "None.\n")?;
    }
    for p in &registry.prompts {
        let def = p.def;
        heading(out, def.name, def.title)?;
        writeln!(out, "{}\n", def.description.trim())?;
        if def.arguments.is_empty() {
            writeln!(out, "No arguments.\n")?;
        } else {
            writeln!(out, "| Argument | Required | Description |\n|---|---|---|")?;
            for a in def.arguments {
                let completes = def.completions.iter().any(|c| c.argument == a.name);
                writeln!(
                    out,
                    "| {} | {} | {}{} |",
                    code(a.name),
                    if a.required { "yes" } else { "no" },
                    cell(a.description.unwrap_or("")),
                    if completes { " (completion)" } else { "" }
                )?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}

fn heading(out: &mut String, name: &str, title: Option<&str>) -> std::fmt::Result {
    match title {
        Some(t) => writeln!(out, "#### {} — {}\n", code(name), line(t)),
        None => writeln!(out, "#### {}\n", code(name)),
    }
}

fn tool(out: &mut String, t: &ToolEntry) -> std::fmt::Result {
    let def = t.def;
    heading(out, def.name, def.title)?;
    let mut flags: Vec<String> = Vec::new();
    if def.read_only {
        flags.push("read-only".into());
    } else if def.destructive {
        flags.push("destructive".into());
    } else {
        flags.push("additive".into());
    }
    if def.idempotent {
        flags.push("idempotent".into());
    }
    if def.open_world {
        flags.push("open-world".into());
    }
    if def.write {
        flags.push("write (authentication required)".into());
    }
    if !def.scopes.is_empty() {
        let scopes: Vec<String> = def.scopes.iter().map(|s| code(s)).collect();
        flags.push(format!("scopes {}", scopes.join(" ")));
    }
    if def.sse {
        flags.push("streaming".into());
    }
    writeln!(out, "*{}*\n", flags.join(" · "))?;
    writeln!(out, "{}\n", def.description.trim())?;
    writeln!(out, "**Parameters**\n")?;
    table(out, &schema_view::rows(&t.input_schema), "No parameters.")?;
    if let Some(o) = &t.output_schema {
        writeln!(
            out,
            "**Output** (`structuredContent`{})\n",
            if t.shape == crate::handler::into::OutputShape::Wrapped {
                ", wrapped as `{\"result\": …}`"
            } else {
                ""
            }
        )?;
        table(out, &schema_view::rows(o), "An object.")?;
    }
    let request = super::page::rpc(
        "tools/call",
        json!({"name": def.name, "arguments": schema_view::example(&t.input_schema)}),
    );
    writeln!(out, "{}", fence("json", &request.readable()))
}

fn resource(
    out: &mut String,
    def: &crate::registry::ResourceDef,
    vars: &[&str],
) -> std::fmt::Result {
    heading(out, def.name, def.title)?;
    let mut facts = vec![format!("URI: {}", code(def.uri))];
    if let Some(m) = def.mime_type {
        facts.push(format!("MIME type: {}", code(m)));
    }
    if !vars.is_empty() {
        let vs: Vec<String> = vars
            .iter()
            .map(|v| {
                let completes = def.completions.iter().any(|c| c.argument == *v);
                format!(
                    "{}{}",
                    code(v),
                    if completes { " (completion)" } else { "" }
                )
            })
            .collect();
        facts.push(format!("variables: {}", vs.join(", ")));
    }
    writeln!(out, "{}\n", facts.join(" · "))?;
    if let Some(d) = def.description {
        writeln!(out, "{}\n", d.trim())?;
    }
    Ok(())
}

fn table(out: &mut String, rows: &[ParamRow], empty: &str) -> std::fmt::Result {
    if rows.is_empty() {
        return writeln!(out, "{empty}\n");
    }
    writeln!(
        out,
        "| Name | Type | Required | Default | Constraints | Description |\n|---|---|---|---|---|---|"
    )?;
    for r in rows {
        let mut constraints = Vec::new();
        if !r.values.is_empty() {
            constraints.push(format!(
                "one of {}",
                r.values
                    .iter()
                    .map(|v| code(v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        constraints.extend(r.constraints.iter().map(|c| cell(c)));
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            code(&r.path),
            code(&r.ty),
            if r.required { "yes" } else { "no" },
            r.default.as_deref().map(code).unwrap_or_default(),
            constraints.join("; "),
            cell(r.description.as_deref().unwrap_or("")),
        )?;
    }
    writeln!(out)
}

/// Inline code, with enough backticks to hold any backticks inside, and table-safe.
fn code(s: &str) -> String {
    let s = line(s).replace('|', "\\|");
    let mut ticks = 1;
    while s.contains(&"`".repeat(ticks)) {
        ticks += 1;
    }
    let fence = "`".repeat(ticks);
    if s.starts_with('`') || s.ends_with('`') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// Text on one line.
fn line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text in a table cell: one line, pipes escaped, no raw HTML.
fn cell(s: &str) -> String {
    line(s)
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A fenced block whose fence is longer than any backtick run inside.
fn fence(lang: &str, body: &str) -> String {
    let mut ticks = 3;
    while body.contains(&"`".repeat(ticks)) {
        ticks += 1;
    }
    let f = "`".repeat(ticks);
    format!("{f}{lang}\n{}\n{f}\n", body.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(code("a|b"), "`a\\|b`");
        assert_eq!(code("x`y"), "``x`y``");
        assert_eq!(cell("a | <b>\nc"), "a \\| &lt;b&gt; c");
        assert_eq!(fence("json", "{}"), "```json\n{}\n```\n");
    }
}
