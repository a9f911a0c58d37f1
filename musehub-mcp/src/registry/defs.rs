//! The static definitions the macros emit: one `inventory` entry per tool, resource or
//! prompt. They hold only `'static` data and function pointers, so they cost nothing until the
//! registry is built.
//!
//! Registration has one mechanism, `inventory`: every set the runtime needs (the write tools,
//! the tools that stream, the scopes each item needs) is a field of these definitions and is
//! derived from the registry, so no second link-time list can disagree with it.

use std::collections::HashMap;

use futures::future::BoxFuture;
use schemars::{Schema, SchemaGenerator};
use serde_json::Value;

use crate::error::McpError;
use crate::handler::Ctx;
use crate::handler::into::{OutputShape, ToolOutput};
use crate::protocol::types::{GetPromptResult, ResourceContents};

/// Where an item was declared, for duplicate reports and the docs manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SourceLocation {
    /// The declaring crate (`CARGO_PKG_NAME`).
    pub crate_name: &'static str,
    /// The module path.
    pub module: &'static str,
    /// The source file.
    pub file: &'static str,
    /// The line of the attribute.
    pub line: u32,
    /// The Rust function's name.
    pub function: &'static str,
}

impl std::fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}::{} ({}:{})",
            self.module, self.function, self.file, self.line
        )
    }
}

/// An icon (2025-11-25 `Icon`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icon {
    /// URL or data URI.
    pub src: &'static str,
    /// MIME type.
    pub mime_type: Option<&'static str>,
    /// Sizes such as `48x48`.
    pub sizes: &'static [&'static str],
    /// `light` or `dark`.
    pub theme: Option<&'static str>,
}

/// A tool's generated entry point: it deserialises the arguments (borrowed from the request
/// body, so this part runs before the request can go anywhere) and builds the injected
/// parameters, then either answers at once or hands back the running call.
pub type ToolHandler = fn(Ctx, Option<&serde_json::value::RawValue>, OutputShape) -> ToolStart;

/// What a tool's entry point returns.
pub enum ToolStart {
    /// The call is over: bad arguments, a failed extractor, or a tool that is not `async`.
    Ready(ToolOutput),
    /// The call runs; the future owns everything it needs.
    Running(BoxFuture<'static, ToolOutput>),
}

/// Where a tool's input schema comes from.
#[derive(Clone, Copy)]
pub enum InputSchema {
    /// Generated from the argument type, then normalised.
    Derived(fn(&mut SchemaGenerator) -> Schema),
    /// Supplied by the tool author and served exactly as given.
    Verbatim(fn() -> Value),
}

/// A `#[tool]`.
pub struct ToolDef {
    /// Wire name.
    pub name: &'static str,
    /// Human title.
    pub title: Option<&'static str>,
    /// Description.
    pub description: &'static str,
    /// `readOnlyHint`.
    pub read_only: bool,
    /// `destructiveHint`.
    pub destructive: bool,
    /// `idempotentHint`.
    pub idempotent: bool,
    /// `destructive` was written in the attribute (not defaulted); the docs lint wants write
    /// tools to state it.
    pub destructive_explicit: bool,
    /// `idempotent` was written in the attribute (not defaulted).
    pub idempotent_explicit: bool,
    /// `openWorldHint`.
    pub open_world: bool,
    /// Changes data: needs an authenticated caller.
    pub write: bool,
    /// May send messages before its result (it takes `Progress`, `Logger`, `Elicitation`,
    /// `Sampling` or `Roots`), so its answer may become an SSE stream.
    pub sse: bool,
    /// Asks the client something mid-call (it takes `Elicitation`, `Sampling` or `Roots`): in
    /// the 2026-07-28 era it may answer with input requests.
    pub asks_client: bool,
    /// OAuth scopes a caller's credential must grant (`#[tool(scopes = "...")]`).
    pub scopes: &'static [&'static str],
    /// Docs group.
    pub category: Option<&'static str>,
    /// Icons.
    pub icons: &'static [Icon],
    /// Input schema source.
    pub input_schema: InputSchema,
    /// Output schema, when the return type has a stable shape (`Json<T>`).
    pub output_schema: fn(&mut SchemaGenerator) -> Option<Schema>,
    /// Entry point.
    pub handler: ToolHandler,
    /// Declaration site.
    pub location: SourceLocation,
}

/// Variables matched from a resource template.
pub type TemplateVars = HashMap<String, String>;

/// A resource's generated entry point: context, the concrete URI and its variables.
pub type ResourceHandler =
    fn(Ctx, String, TemplateVars) -> BoxFuture<'static, Result<Vec<ResourceContents>, McpError>>;

/// A `#[resource]`: static when `is_template` is false.
pub struct ResourceDef {
    /// URI or URI template.
    pub uri: &'static str,
    /// True when the URI has `{variables}`.
    pub is_template: bool,
    /// Name.
    pub name: &'static str,
    /// Title.
    pub title: Option<&'static str>,
    /// Description.
    pub description: Option<&'static str>,
    /// MIME type.
    pub mime_type: Option<&'static str>,
    /// Icons.
    pub icons: &'static [Icon],
    /// Entry point.
    pub handler: ResourceHandler,
    /// Completion hooks for template variables.
    pub completions: &'static [CompletionDef],
    /// `ttlMs` of `resources/read` in the 2026-07-28 era (default from the server config).
    pub ttl_ms: Option<u64>,
    /// `cacheScope` of `resources/read` (`public` or `private`; default from the config).
    pub cache_scope: Option<&'static str>,
    /// OAuth scopes a caller's credential must grant.
    pub scopes: &'static [&'static str],
    /// Declaration site.
    pub location: SourceLocation,
}

/// The arguments of a `prompts/get`, all strings on the wire.
pub type PromptArguments = HashMap<String, String>;

/// A prompt's generated entry point.
pub type PromptHandler =
    fn(Ctx, PromptArguments) -> BoxFuture<'static, Result<GetPromptResult, McpError>>;

/// One prompt argument.
#[derive(Debug, Clone, Copy)]
pub struct PromptArgDef {
    /// Name.
    pub name: &'static str,
    /// Description.
    pub description: Option<&'static str>,
    /// Required unless declared `Option`.
    pub required: bool,
}

/// A `#[prompt]`.
pub struct PromptDef {
    /// Name.
    pub name: &'static str,
    /// Title.
    pub title: Option<&'static str>,
    /// Description.
    pub description: &'static str,
    /// Icons.
    pub icons: &'static [Icon],
    /// Arguments in declaration order.
    pub arguments: &'static [PromptArgDef],
    /// Entry point.
    pub handler: PromptHandler,
    /// Completion hooks for arguments.
    pub completions: &'static [CompletionDef],
    /// OAuth scopes a caller's credential must grant.
    pub scopes: &'static [&'static str],
    /// Declaration site.
    pub location: SourceLocation,
}

/// What a completion hook receives (server/utilities/completion.mdx).
#[derive(Clone)]
pub struct Completion {
    /// The argument or variable being completed.
    pub argument: String,
    /// What the user typed so far.
    pub value: String,
    /// Values already chosen for the other arguments (`context.arguments`).
    pub context: HashMap<String, String>,
    /// The call context (caller, state).
    pub ctx: Ctx,
}

/// A completion hook: `async fn(Completion) -> Vec<String>`.
pub type CompletionHandler = fn(Completion) -> BoxFuture<'static, Vec<String>>;

/// A completion hook bound to one argument.
pub struct CompletionDef {
    /// Argument or template variable name.
    pub argument: &'static str,
    /// The hook.
    pub handler: CompletionHandler,
}

inventory::collect!(ToolDef);
inventory::collect!(ResourceDef);
inventory::collect!(PromptDef);
