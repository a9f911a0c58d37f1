//! The crate's architecture, checked: its modules form layers that import in one direction
//! only (so there is no module cycle), and no source file grows past the size a reader can
//! hold in mind. ARCHITECTURE.md explains the layers; this test is what keeps them true.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may use the modules of the layers below its own, and
/// never one above: `protocol` knows nothing of the registry, the engine nothing of sessions,
/// HTTP or the documentation pages, and so on up to `docs`, which reads everything else.
/// `lib.rs` (the crate root, which re-exports and composes) is outside the layers.
const LAYERS: &[&[&str]] = &[
    &["util"],
    &["error"],
    &["protocol"],
    &["config"],
    &["handler"],
    &["registry"],
    &["engine"],
    &["session"],
    &["shared"],
    &["auth"],
    &["server"],
    &["transport"],
    &["docs"],
];

/// The size past which a file is split.
const MAX_LINES: usize = 600;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file relative to `src/`: `engine/mod.rs` is `["engine"]`,
/// `transport/http/guard.rs` is `["transport", "http", "guard"]`, `lib.rs` is `[]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib") {
        parts.pop();
    }
    parts
}

/// Code without comments and string literals, so that doc text naming a module is no import.
fn code_only(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for line in source.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut kept = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if !in_str && c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                kept.push(c);
            }
            prev = if prev == '\\' && c == '\\' { ' ' } else { c };
            i += 1;
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// The top-level modules a file's code refers to: `crate::x::…`, `use crate::{x, y::…}`, and
/// `super::…` paths that climb out of the file's own top-level module.
fn references(code: &str, module: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while let Some(pos) = code[i..].find("crate::") {
        let start = i + pos + "crate::".len();
        // `$crate::` and `musehub_mcp::crate` never occur; skip identifiers ending in `crate`.
        let before = (i + pos).checked_sub(1).map(|b| bytes[b]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$') {
            i = start;
            continue;
        }
        if code[start..].starts_with('{') {
            // A group: the first path segment of each of its top-level entries.
            let mut depth = 0;
            let mut name = String::new();
            let mut done_with_entry = false;
            for c in code[start..].chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        name.clear();
                        done_with_entry = false;
                    }
                    c if depth == 1 && !done_with_entry && (c.is_alphanumeric() || c == '_') => {
                        name.push(c)
                    }
                    c if depth == 1
                        && !done_with_entry
                        && !name.is_empty()
                        && !c.is_whitespace() =>
                    {
                        found.push(std::mem::take(&mut name));
                        done_with_entry = true;
                    }
                    _ => {}
                }
                if depth == 1 && c == '}' {
                    continue;
                }
            }
            if !name.is_empty() && !done_with_entry {
                found.push(name);
            }
        } else {
            let name: String = code[start..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
        i = start;
    }
    // `super::` from a file `a/b.rs` (module a::b) names a; from `a/mod.rs` (module a) it
    // names the crate root, so `super::x` is `crate::x`.
    let mut j = 0;
    while let Some(pos) = code[j..].find("super::") {
        let mut at = j + pos;
        let mut ups = 0;
        while code[at..].starts_with("super::") {
            ups += 1;
            at += "super::".len();
        }
        if ups >= module.len() {
            let name: String = code[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
        j = at;
    }
    found.retain(|n| !n.is_empty() && n != "self");
    found.sort();
    found.dedup();
    found
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

#[test]
fn modules_import_in_one_direction_and_files_stay_small() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    let mut edges: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let source = std::fs::read_to_string(file).expect("readable file");
        let lines = source.lines().count();
        if lines > MAX_LINES {
            problems.push(format!(
                "{} has {lines} lines (at most {MAX_LINES}): split it by responsibility",
                rel.display()
            ));
        }
        let module = module_path(rel);
        let Some(top) = module.first() else { continue };
        let Some(own) = layer_of(top) else {
            problems.push(format!(
                "{}: module `{top}` is in no layer; add it to LAYERS (and to ARCHITECTURE.md)",
                rel.display()
            ));
            continue;
        };
        for used in references(&code_only(&source), &module) {
            if &used == top {
                continue;
            }
            let Some(theirs) = layer_of(&used) else {
                // Items of the crate root (re-exports, `__private`) are not modules.
                continue;
            };
            edges.entry(top.clone()).or_default().push(used.clone());
            if theirs >= own {
                problems.push(format!(
                    "{} (layer `{top}`) uses `crate::{used}`, which is not below it",
                    rel.display()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} architecture problem(s):\n  {}\n(module uses: {edges:?})",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn the_reference_scanner_reads_groups_and_super_paths() {
    let code = code_only(
        "use crate::{error::McpError, protocol::{a, b}, util};\nlet x = crate::engine::f(); // crate::docs\nuse super::super::session::S;\nlet s = \"crate::transport\";",
    );
    let module = vec!["server".to_string(), "x".to_string()];
    assert_eq!(
        references(&code, &module),
        vec!["engine", "error", "protocol", "session", "util"]
    );
    // From `engine/modern.rs`, `super::` is the engine itself.
    assert_eq!(
        references("use super::mrtr;", &["engine".into(), "modern".into()]),
        Vec::<String>::new()
    );
}
