//! The registry: every tool, resource, template and prompt linked into the binary, built
//! once at first use.
//!
//! Building generates and normalises each schema, decides which inputs need a validator
//! beyond the typed deserialisation, checks for duplicates and builds the listing of every
//! item. Nothing here is repeated per request. The URI template matcher ([`uri_template`])
//! lives here because only the registry builds with it; the schema normaliser is
//! [`crate::protocol::schema`] (elicitation forms use it too).

pub mod defs;
pub mod uri_template;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

pub use crate::protocol::schema::{self, SchemaError};
pub use defs::*;
use uri_template::UriTemplate;

use crate::handler::into::OutputShape;

/// Why the registry could not be built. Reported at start-up, before serving, naming the
/// declarations at fault.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Two items share a name or URI.
    #[error("duplicate {kind} `{name}`: declared at {first} and at {second}")]
    Duplicate {
        /// tool, prompt or resource.
        kind: &'static str,
        /// The shared name or URI.
        name: String,
        /// One declaration.
        first: &'static SourceLocation,
        /// The other.
        second: &'static SourceLocation,
    },
    /// A schema could not be made client-safe.
    #[error("{which} schema of tool `{tool}` ({location}): {error}")]
    Schema {
        /// Tool name.
        tool: &'static str,
        /// input or output.
        which: &'static str,
        /// Declaration site.
        location: &'static SourceLocation,
        /// What went wrong.
        error: SchemaError,
    },
    /// A schema is not valid JSON Schema (a verbatim one, usually).
    #[error("input schema of tool `{tool}` ({location}) is not a valid JSON Schema: {error}")]
    InvalidSchema {
        /// Tool name.
        tool: &'static str,
        /// Declaration site.
        location: &'static SourceLocation,
        /// The validator's complaint.
        error: String,
    },
    /// A tool's input schema needs validating beyond its Rust type (it is verbatim, or holds
    /// constraints such as `minimum` or `pattern`) and the `validation` feature is off.
    #[error(
        "the input schema of tool `{tool}` ({location}) is verbatim or holds constraints its Rust type does not check; enable musehub-mcp's `validation` feature to enforce them"
    )]
    NeedsValidation {
        /// Tool name.
        tool: &'static str,
        /// Declaration site.
        location: &'static SourceLocation,
    },
    /// A resource template could not be parsed.
    #[error("resource template `{uri}` ({location}) is invalid")]
    Template {
        /// The template.
        uri: &'static str,
        /// Declaration site.
        location: &'static SourceLocation,
    },
}

/// A tool ready to serve.
pub struct ToolEntry {
    /// Its definition.
    pub def: &'static ToolDef,
    /// The schema clients see.
    pub input_schema: Value,
    /// The output schema clients see, if any.
    pub output_schema: Option<Value>,
    /// Where structured output goes (`{"result": value}` for a non-object result type).
    pub shape: OutputShape,
    /// A validator for inputs whose schema says more than their Rust type checks (a verbatim
    /// schema, or `minimum`, `pattern`, `maxLength` and the like); `None` when deserialising
    /// into the argument type is the whole check.
    #[cfg(feature = "validation")]
    pub validator: Option<jsonschema::Validator>,
    /// Top-level arguments mirrored into `Mcp-Param-*` headers (2026-07-28):
    /// `(property, header name)`.
    pub header_args: Vec<(String, String)>,
    /// The `Tool` object of `tools/list`.
    pub listing: Value,
}

/// A static resource ready to serve.
pub struct ResourceEntry {
    /// Its definition.
    pub def: &'static ResourceDef,
    /// The `Resource` object of `resources/list`.
    pub listing: Value,
}

/// A resource template ready to match.
pub struct TemplateEntry {
    /// Its definition.
    pub def: &'static ResourceDef,
    /// The parsed template.
    pub template: UriTemplate,
    /// The `ResourceTemplate` object of `resources/templates/list`.
    pub listing: Value,
}

/// A prompt ready to serve.
pub struct PromptEntry {
    /// Its definition.
    pub def: &'static PromptDef,
    /// The `Prompt` object of `prompts/list`.
    pub listing: Value,
}

/// Everything registered in the binary, in stable (sorted) order.
pub struct Registry {
    /// Tools by name.
    pub tools: Vec<ToolEntry>,
    /// Static resources by URI.
    pub resources: Vec<ResourceEntry>,
    /// Templates by URI template.
    pub templates: Vec<TemplateEntry>,
    /// Prompts by name.
    pub prompts: Vec<PromptEntry>,
    tool_index: HashMap<&'static str, usize>,
    resource_index: HashMap<&'static str, usize>,
    prompt_index: HashMap<&'static str, usize>,
}

static GLOBAL: OnceLock<Result<Registry, RegistryError>> = OnceLock::new();

impl Registry {
    /// The registry of this binary, built on first use.
    pub fn global() -> Result<&'static Registry, &'static RegistryError> {
        GLOBAL
            .get_or_init(|| {
                Registry::build(
                    inventory::iter::<ToolDef>.into_iter().collect(),
                    inventory::iter::<ResourceDef>.into_iter().collect(),
                    inventory::iter::<PromptDef>.into_iter().collect(),
                )
            })
            .as_ref()
    }

    /// Builds a registry from explicit definitions (the global one passes every linked item).
    pub fn build(
        mut tools: Vec<&'static ToolDef>,
        mut resources: Vec<&'static ResourceDef>,
        mut prompts: Vec<&'static PromptDef>,
    ) -> Result<Registry, RegistryError> {
        tools.sort_by_key(|t| (t.name, t.location.file, t.location.line));
        resources.sort_by_key(|r| (r.uri, r.location.file, r.location.line));
        prompts.sort_by_key(|p| (p.name, p.location.file, p.location.line));
        check_unique("tool", &tools, |t| (t.name, &t.location))?;
        check_unique("resource", &resources, |r| (r.uri, &r.location))?;
        check_unique("prompt", &prompts, |p| (p.name, &p.location))?;

        let tools = tools
            .into_iter()
            .map(tool_entry)
            .collect::<Result<Vec<_>, _>>()?;
        let mut statics = Vec::new();
        let mut templates = Vec::new();
        for def in resources {
            if def.is_template {
                let template =
                    UriTemplate::parse(def.uri).map_err(|_| RegistryError::Template {
                        uri: def.uri,
                        location: &def.location,
                    })?;
                let mut listing = resource_listing(def);
                if let Value::Object(m) = &mut listing {
                    m.remove("uri");
                    m.insert("uriTemplate".into(), def.uri.into());
                }
                templates.push(TemplateEntry {
                    def,
                    template,
                    listing,
                });
            } else {
                statics.push(ResourceEntry {
                    def,
                    listing: resource_listing(def),
                });
            }
        }
        let prompts: Vec<PromptEntry> = prompts
            .into_iter()
            .map(|def| PromptEntry {
                def,
                listing: prompt_listing(def),
            })
            .collect();

        Ok(Registry {
            tool_index: tools
                .iter()
                .enumerate()
                .map(|(i, t)| (t.def.name, i))
                .collect(),
            resource_index: statics
                .iter()
                .enumerate()
                .map(|(i, r)| (r.def.uri, i))
                .collect(),
            prompt_index: prompts
                .iter()
                .enumerate()
                .map(|(i, p)| (p.def.name, i))
                .collect(),
            tools,
            resources: statics,
            templates,
            prompts,
        })
    }

    /// A tool by name.
    pub fn tool(&self, name: &str) -> Option<&ToolEntry> {
        self.tool_index.get(name).map(|&i| &self.tools[i])
    }

    /// A static resource by exact URI.
    pub fn resource(&self, uri: &str) -> Option<&ResourceEntry> {
        self.resource_index.get(uri).map(|&i| &self.resources[i])
    }

    /// The first template (in sorted order) matching a URI, with its variables.
    pub fn match_template(&self, uri: &str) -> Option<(&TemplateEntry, TemplateVars)> {
        self.templates
            .iter()
            .find_map(|t| t.template.matches(uri).map(|vars| (t, vars)))
    }

    /// A prompt by name.
    pub fn prompt(&self, name: &str) -> Option<&PromptEntry> {
        self.prompt_index.get(name).map(|&i| &self.prompts[i])
    }

    /// The tools that change data (`#[tool(write)]`).
    pub fn write_tools(&self) -> impl Iterator<Item = &ToolEntry> {
        self.tools.iter().filter(|t| t.def.write)
    }

    /// The tools that may send messages before their result.
    pub fn sse_tools(&self) -> impl Iterator<Item = &ToolEntry> {
        self.tools.iter().filter(|t| t.def.sse)
    }

    /// Every scope an item needs, sorted, once each (for Protected Resource Metadata).
    pub fn scopes(&self) -> Vec<&'static str> {
        let mut all: Vec<&'static str> = self
            .tools
            .iter()
            .flat_map(|t| t.def.scopes.iter().copied())
            .chain(
                self.resources
                    .iter()
                    .flat_map(|r| r.def.scopes.iter().copied()),
            )
            .chain(
                self.templates
                    .iter()
                    .flat_map(|r| r.def.scopes.iter().copied()),
            )
            .chain(
                self.prompts
                    .iter()
                    .flat_map(|p| p.def.scopes.iter().copied()),
            )
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

fn check_unique<T>(
    kind: &'static str,
    sorted: &[&'static T],
    key: impl Fn(&'static T) -> (&'static str, &'static SourceLocation),
) -> Result<(), RegistryError> {
    for pair in sorted.windows(2) {
        let (a, la) = key(pair[0]);
        let (b, lb) = key(pair[1]);
        if a == b {
            return Err(RegistryError::Duplicate {
                kind,
                name: a.to_string(),
                first: la,
                second: lb,
            });
        }
    }
    Ok(())
}

fn icons_json(icons: &[Icon]) -> Option<Value> {
    (!icons.is_empty()).then(|| {
        Value::Array(
            icons
                .iter()
                .map(|i| {
                    let mut m = Map::new();
                    m.insert("src".into(), i.src.into());
                    if let Some(t) = i.mime_type {
                        m.insert("mimeType".into(), t.into());
                    }
                    if !i.sizes.is_empty() {
                        m.insert("sizes".into(), json!(i.sizes));
                    }
                    if let Some(t) = i.theme {
                        m.insert("theme".into(), t.into());
                    }
                    Value::Object(m)
                })
                .collect(),
        )
    })
}

fn tool_entry(def: &'static ToolDef) -> Result<ToolEntry, RegistryError> {
    let schema_err = |which, error| RegistryError::Schema {
        tool: def.name,
        which,
        location: &def.location,
        error,
    };
    let mut generator = schema::generator();
    // Arguments are deserialised into the tool's own type, which checks types, required
    // members and enum values. A validator runs before that only where the schema says more
    // (a verbatim schema, or constraints such as `minimum` or `pattern`), against the schema
    // as generated: it accepts `null` for an optional argument, as serde does.
    let (input_schema, validation_schema) = match def.input_schema {
        InputSchema::Derived(f) => {
            let raw = f(&mut generator).to_value();
            let normalised =
                schema::normalize(raw.clone(), true).map_err(|e| schema_err("input", e))?;
            let constrained = schema::has_constraints(&raw);
            (normalised, constrained.then_some(raw))
        }
        InputSchema::Verbatim(f) => {
            let v = f();
            (v.clone(), Some(v))
        }
    };
    let (output_schema, shape) = match (def.output_schema)(&mut generator) {
        None => (None, OutputShape::Object),
        Some(s) => {
            let s = schema::normalize(s.to_value(), false).map_err(|e| schema_err("output", e))?;
            if s.get("type").and_then(Value::as_str) == Some("object") {
                (Some(s), OutputShape::Object)
            } else {
                // structuredContent must be an object (schema.json, CallToolResult).
                let wrapped = json!({
                    "type": "object",
                    "properties": { "result": s },
                    "required": ["result"],
                });
                (Some(wrapped), OutputShape::Wrapped)
            }
        }
    };
    #[cfg(not(feature = "validation"))]
    if validation_schema.is_some() {
        return Err(RegistryError::NeedsValidation {
            tool: def.name,
            location: &def.location,
        });
    }
    #[cfg(feature = "validation")]
    let validator = validation_schema
        .map(|v| {
            jsonschema::validator_for(&v).map_err(|e| RegistryError::InvalidSchema {
                tool: def.name,
                location: &def.location,
                error: e.to_string(),
            })
        })
        .transpose()?;
    let header_args = input_schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| {
            props
                .iter()
                .filter_map(|(prop, sub)| {
                    let h = sub.get("x-mcp-header").and_then(Value::as_str)?;
                    Some((prop.clone(), h.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();

    let mut listing = Map::new();
    listing.insert("name".into(), def.name.into());
    if let Some(t) = def.title {
        listing.insert("title".into(), t.into());
    }
    listing.insert("description".into(), def.description.into());
    listing.insert("inputSchema".into(), input_schema.clone());
    if let Some(o) = &output_schema {
        listing.insert("outputSchema".into(), o.clone());
    }
    let mut ann = Map::new();
    if let Some(t) = def.title {
        ann.insert("title".into(), t.into());
    }
    ann.insert("readOnlyHint".into(), def.read_only.into());
    ann.insert("destructiveHint".into(), def.destructive.into());
    ann.insert("idempotentHint".into(), def.idempotent.into());
    ann.insert("openWorldHint".into(), def.open_world.into());
    listing.insert("annotations".into(), Value::Object(ann));
    if let Some(i) = icons_json(def.icons) {
        listing.insert("icons".into(), i);
    }
    Ok(ToolEntry {
        def,
        input_schema,
        output_schema,
        shape,
        #[cfg(feature = "validation")]
        validator,
        header_args,
        listing: Value::Object(listing),
    })
}

fn resource_listing(def: &ResourceDef) -> Value {
    let mut m = Map::new();
    m.insert("uri".into(), def.uri.into());
    m.insert("name".into(), def.name.into());
    if let Some(t) = def.title {
        m.insert("title".into(), t.into());
    }
    if let Some(d) = def.description {
        m.insert("description".into(), d.into());
    }
    if let Some(t) = def.mime_type {
        m.insert("mimeType".into(), t.into());
    }
    if let Some(i) = icons_json(def.icons) {
        m.insert("icons".into(), i);
    }
    Value::Object(m)
}

fn prompt_listing(def: &PromptDef) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), def.name.into());
    if let Some(t) = def.title {
        m.insert("title".into(), t.into());
    }
    m.insert("description".into(), def.description.into());
    let args: Vec<Value> = def
        .arguments
        .iter()
        .map(|a| {
            let mut am = Map::new();
            am.insert("name".into(), a.name.into());
            if let Some(d) = a.description {
                am.insert("description".into(), d.into());
            }
            am.insert("required".into(), a.required.into());
            Value::Object(am)
        })
        .collect();
    m.insert("arguments".into(), Value::Array(args));
    if let Some(i) = icons_json(def.icons) {
        m.insert("icons".into(), i);
    }
    Value::Object(m)
}

/// Stub entry points for unit tests that build `ToolDef`s by hand.
#[cfg(test)]
pub(crate) mod testing {
    use super::ToolStart;
    use crate::handler::into::{OutputShape, ToolOutput};
    use crate::protocol::types::CallToolResult;

    /// A tool handler that returns an empty result.
    pub fn handler(
        _: crate::Ctx,
        _: Option<&serde_json::value::RawValue>,
        shape: OutputShape,
    ) -> ToolStart {
        ToolStart::Ready(ToolOutput::from_result(CallToolResult::default(), shape))
    }

    /// No output schema.
    pub fn no_output(_: &mut schemars::SchemaGenerator) -> Option<schemars::Schema> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{handler, no_output};
    use super::*;
    fn empty(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "object"})
    }
    const fn def(file: &'static str, line: u32) -> ToolDef {
        ToolDef {
            name: "same_name",
            title: None,
            description: "d",
            read_only: true,
            destructive: false,
            idempotent: true,
            destructive_explicit: false,
            idempotent_explicit: false,
            open_world: false,
            write: false,
            sse: false,
            asks_client: false,
            scopes: &[],
            category: None,
            icons: &[],
            input_schema: InputSchema::Derived(empty),
            output_schema: no_output,
            handler,
            location: SourceLocation {
                crate_name: "c",
                module: "m",
                file,
                line,
                function: "f",
            },
        }
    }
    static A: ToolDef = def("a.rs", 1);
    static B: ToolDef = def("b.rs", 2);

    #[test]
    fn duplicates_name_both_declarations() {
        let err = Registry::build(vec![&B, &A], vec![], vec![])
            .err()
            .expect("duplicate rejected");
        assert_eq!(
            err.to_string(),
            "duplicate tool `same_name`: declared at m::f (a.rs:1) and at m::f (b.rs:2)"
        );
        assert!(Registry::build(vec![&A], vec![], vec![]).is_ok());
    }
}
