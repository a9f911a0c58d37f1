//! Attribute macros that turn plain Rust functions into MCP tools, resources and prompts.
//!
//! Use them through `musehub_mcp` (it re-exports them); the generated code names
//! `::musehub_mcp`, so depending on this crate alone is not enough.
//!
//! Every macro keeps the function as written (so it can be called and tested directly) and
//! adds a hidden registration: an `inventory` entry with the item's definition and, for
//! tools, entries in the `WRITE_TOOLS` / `SSE_TOOLS` distributed slices.
//!
//! # `#[tool]`
//!
//! | option | meaning | default |
//! |---|---|---|
//! | `name = "..."` | the tool name (letters, digits, `_`, `-`, `.`; 1-128 chars) | the function name |
//! | `title = "..."` | human-readable title | none |
//! | `description = "..."` | description shown to the model | the doc comment (required) |
//! | `read_only` | `readOnlyHint: true`; implies not destructive and idempotent | `false` |
//! | `destructive [= bool]` | `destructiveHint` | `true` unless read-only |
//! | `idempotent [= bool]` | `idempotentHint` | `false` unless read-only |
//! | `open_world [= bool]` | `openWorldHint` (talks to systems outside the server) | `false` |
//! | `write` | changes data: the caller must be authenticated | `false` |
//! | `sse` | may stream messages before its result | `true` when the signature takes `Progress` or `Elicitation` |
//! | `category = "..."` | group shown in the docs (read, write, interactive, ...) | none |
//! | `icon(src = "...", mime_type = "...", sizes = "48x48", theme = "dark")` | an icon, repeatable | none |
//! | `input_schema = path` | a `fn() -> serde_json::Value` giving the input schema verbatim (not normalised) | derived |
//!
//! The four annotation hints are always emitted explicitly in `annotations`.
//!
//! # Parameters
//!
//! | written as | becomes |
//! |---|---|
//! | `name: T` | a property of the input object; required unless `T` is `Option<_>` or has a default |
//! | `#[arg(desc = "...", rename = "...", default = ..., header)] name: T` | same, with a description, a wire name, a default, or marked as an `x-mcp-header` parameter |
//! | `Args(x): Args<T>` | the whole input object is `T` (derive `Deserialize` and `JsonSchema`) |
//! | `ctx: &Ctx` or `Ctx` | the call context: caller, cancellation, logging, client info |
//! | `State(s): State<T>` | shared state registered on the server |
//! | `Progress`, `Elicitation`, `Sampling`, `Roots`, `Logger`, `Caller`, `CancellationToken` | injected helpers |
//! | `#[inject] x: T` | any custom extractor implementing `FromCtx` |
//!
//! # `#[resource]`
//!
//! | option | meaning |
//! |---|---|
//! | `uri = "..."` | the URI; with `{variables}` (RFC 6570 level 1) a template whose variables bind to parameters by name |
//! | `name`, `title`, `description`, `mime_type`, `icon(...)` | as in the spec's `Resource` |
//! | `complete(var = path)` | an `async fn(Completion) -> Vec<String>` completing a template variable |
//! | `ttl_ms = 60000`, `cache_scope = "public"` | caching hints of `resources/read` in the 2026-07-28 era (defaults: server config) |
//!
//! # `#[prompt]`
//!
//! | option | meaning |
//! |---|---|
//! | `name`, `title`, `description`, `icon(...)` | as in the spec's `Prompt` |
//! | `complete(arg = path)` | an `async fn(Completion) -> Vec<String>` completing an argument |
//!
//! Prompt parameters are `String` (required) or `Option<String>`, described with `#[arg(desc)]`.
//!
//! # `#[schema]`
//!
//! Derives `Serialize`, `Deserialize` and `JsonSchema` on an argument or result type through
//! `musehub_mcp`'s re-exports (no direct serde or schemars dependency needed). Options:
//! `no_serialize`, `no_deserialize`. Field attributes are serde's and schemars' own.

use proc_macro::TokenStream;

mod attrs;
mod params;
mod prompt;
mod resource;
mod schema;
mod tool;

/// Registers a free function (sync or async) as an MCP tool. See the crate docs for options.
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    tool::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Registers a free function as an MCP resource or resource template.
#[proc_macro_attribute]
pub fn resource(attr: TokenStream, item: TokenStream) -> TokenStream {
    resource::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Registers a free function as an MCP prompt.
#[proc_macro_attribute]
pub fn prompt(attr: TokenStream, item: TokenStream) -> TokenStream {
    prompt::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `Serialize`, `Deserialize` and `JsonSchema` through `musehub_mcp`'s re-exports.
#[proc_macro_attribute]
pub fn schema(attr: TokenStream, item: TokenStream) -> TokenStream {
    schema::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
