//! The documentation lint: what makes a catalogue hard for a model or a developer to use.

use std::fmt;

use crate::registry::{Registry, SourceLocation};

use super::schema_view;

/// What a [`LintIssue`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LintKind {
    /// The tool's description is empty.
    MissingToolDescription,
    /// An argument (or a nested field of one) has no description; the path is dotted
    /// (`key.tonic`, `notes[].pitch`).
    MissingParameterDescription {
        /// Path of the parameter.
        parameter: String,
    },
    /// A `write` tool did not state `destructive = true|false` in its attribute.
    DestructiveNotExplicit,
    /// A `write` tool did not state `idempotent = true|false` in its attribute.
    IdempotentNotExplicit,
}

/// One documentation problem of one tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintIssue {
    /// The tool's name.
    pub tool: &'static str,
    /// Where it is declared.
    pub location: &'static SourceLocation,
    /// The problem.
    pub kind: LintKind,
}

impl fmt::Display for LintIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tool = self.tool;
        match &self.kind {
            LintKind::MissingToolDescription => write!(
                f,
                "tool `{tool}` has no description (add a `///` doc comment)"
            )?,
            LintKind::MissingParameterDescription { parameter } => write!(
                f,
                "parameter `{parameter}` of tool `{tool}` has no description (add `#[arg(desc = \"...\")]` or a `///` doc comment on the field)"
            )?,
            LintKind::DestructiveNotExplicit => write!(
                f,
                "write tool `{tool}` does not state whether it is destructive (add `destructive = true` or `destructive = false`)"
            )?,
            LintKind::IdempotentNotExplicit => write!(
                f,
                "write tool `{tool}` does not state whether it is idempotent (add `idempotent = true` or `idempotent = false`)"
            )?,
        }
        write!(f, " at {}", self.location)
    }
}

/// Checks every tool of `registry`: a description, a description for every parameter (nested
/// fields included), and for `write` tools an explicit `destructive` and `idempotent`. Issues
/// come in registry order (tools by name), each tool's in the order above; empty when clean.
pub fn lint(registry: &Registry) -> Vec<LintIssue> {
    let mut out = Vec::new();
    for t in &registry.tools {
        let def = t.def;
        let issue = |kind| LintIssue {
            tool: def.name,
            location: &def.location,
            kind,
        };
        if def.description.trim().is_empty() {
            out.push(issue(LintKind::MissingToolDescription));
        }
        for parameter in schema_view::undocumented(&t.input_schema) {
            out.push(issue(LintKind::MissingParameterDescription { parameter }));
        }
        if def.write && !def.destructive_explicit {
            out.push(issue(LintKind::DestructiveNotExplicit));
        }
        if def.write && !def.idempotent_explicit {
            out.push(issue(LintKind::IdempotentNotExplicit));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::testing::{handler, no_output};
    use crate::registry::{InputSchema, ToolDef};
    fn schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "object", "properties": {
            "documented": {"type": "string", "description": "Yes"},
            "bare": {"type": "object", "properties": {"inner": {"type": "integer"}}}
        }})
    }
    const LOCATION: SourceLocation = SourceLocation {
        crate_name: "c",
        module: "m",
        file: "f.rs",
        line: 7,
        function: "t",
    };
    static BAD: ToolDef = ToolDef {
        name: "bad",
        title: None,
        description: " ",
        read_only: false,
        destructive: true,
        idempotent: false,
        destructive_explicit: false,
        idempotent_explicit: true,
        open_world: false,
        write: true,
        sse: false,
        asks_client: false,
        scopes: &[],
        category: None,
        icons: &[],
        input_schema: InputSchema::Derived(schema),
        output_schema: no_output,
        handler,
        location: LOCATION,
    };

    #[test]
    fn reports_each_problem_with_its_location() {
        let registry = Registry::build(vec![&BAD], vec![], vec![]).expect("builds");
        let issues = lint(&registry);
        let kinds: Vec<&LintKind> = issues.iter().map(|i| &i.kind).collect();
        assert_eq!(
            kinds,
            [
                &LintKind::MissingToolDescription,
                &LintKind::MissingParameterDescription {
                    parameter: "bare".into()
                },
                &LintKind::MissingParameterDescription {
                    parameter: "bare.inner".into()
                },
                &LintKind::DestructiveNotExplicit,
            ]
        );
        assert_eq!(
            issues[3].to_string(),
            "write tool `bad` does not state whether it is destructive (add `destructive = true` or `destructive = false`) at m::t (f.rs:7)"
        );
    }
}
