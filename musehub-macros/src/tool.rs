//! `#[tool]`: turns a free function into a registered MCP tool.
//!
//! The generated entry point deserialises the arguments from the request body's text into
//! the tool's argument struct and builds the injected parameters, synchronously; an `async`
//! tool then runs as a future that owns what it needs, a plain `fn` is called at once. The
//! return value is serialised once, into the response.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType};

use crate::attrs::{Options, doc_string, icons_tokens, opt_str};
use crate::params::Params;

const OPTIONS: &[&str] = &[
    "name",
    "title",
    "description",
    "read_only",
    "destructive",
    "idempotent",
    "open_world",
    "write",
    "sse",
    "icon",
    "category",
    "input_schema",
    "scopes",
];

/// Checks a tool name against the 2025-11-25 naming rules (server/tools.mdx, "Tool names"):
/// 1 to 128 characters of ASCII letters, digits, `_`, `-` and `.`.
pub fn check_tool_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 128 {
        return Err(format!(
            "tool name `{name}` must be 1 to 128 characters long (it is {})",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!(
            "tool name `{name}` contains `{c}`\nhint: tool names may use ASCII letters, digits, `_`, `-` and `.` only"
        ));
    }
    Ok(())
}

/// Expands `#[tool(attr)] item`.
pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let opts = Options::parse(attr)?;
    opts.check_known("tool", OPTIONS)?;
    let mut func: ItemFn = syn::parse2(item)?;
    reject_generics(&func, "tool")?;

    let fn_name = func.sig.ident.clone();
    let name_lit = opts.string("name")?;
    let name = name_lit
        .as_ref()
        .map(|s| s.value())
        .unwrap_or_else(|| fn_name.to_string().trim_start_matches("r#").to_string());
    let name_span = name_lit
        .as_ref()
        .map(|s| s.span())
        .unwrap_or(fn_name.span());
    check_tool_name(&name).map_err(|m| syn::Error::new(name_span, m))?;

    let description = match opts.string("description")? {
        Some(d) => d.value(),
        None => doc_string(&func.attrs).ok_or_else(|| {
            syn::Error::new(
                fn_name.span(),
                "a tool needs a description: clients show it to the model\n\
                 hint: add a `///` doc comment or `description = \"...\"`",
            )
        })?,
    };
    let title = opts.string("title")?.map(|s| s.value());
    let category = opts.string("category")?.map(|s| s.value());

    let read_only = opts.flag("read_only")?;
    let write = opts.flag("write")?;
    if let (Some((true, _)), Some((true, span))) = (read_only, write) {
        return Err(syn::Error::new(
            span,
            "a tool cannot be both `read_only` and `write`\nhint: `write` means the tool changes data and needs an authenticated caller",
        ));
    }
    let read_only_v = read_only.map(|f| f.0).unwrap_or(false);
    let destructive = opts.flag("destructive")?;
    if let (true, Some((true, span))) = (read_only_v, destructive) {
        return Err(syn::Error::new(
            span,
            "a read-only tool cannot be destructive",
        ));
    }
    // Spec defaults (server/tools.mdx, ToolAnnotations) unless the tool is read-only, which
    // makes it neither destructive nor state-changing, hence idempotent.
    let destructive_v = destructive.map(|f| f.0).unwrap_or(!read_only_v);
    let idempotent = opts.flag("idempotent")?;
    let idempotent_v = idempotent.map(|f| f.0).unwrap_or(read_only_v);
    let destructive_explicit = destructive.is_some();
    let idempotent_explicit = idempotent.is_some();
    let open_world_v = opts.flag("open_world")?.map(|f| f.0).unwrap_or(false);
    let write_v = write.map(|f| f.0).unwrap_or(false);
    let icons = icons_tokens(&opts.icons()?);

    let params = Params::parse(&mut func.sig, "tool")?;
    let sse_v = opts.flag("sse")?.map(|f| f.0).unwrap_or(false) || params.streaming;
    let asks_client_v = params.asks_client;
    let scopes = scopes_tokens(&opts)?;

    let ret_ty: syn::Type = match &func.sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => {
            if let syn::Type::ImplTrait(it) = &**ty {
                return Err(syn::Error::new(
                    it.span(),
                    "a tool must name its return type (it decides the output schema)\n\
                     hint: return `String`, `Json<T>`, `Vec<Content>` or `Result<_, ToolError>`",
                ));
            }
            (**ty).clone()
        }
    };
    let ok_ty = result_ok_type(&ret_ty);
    let schema_of = ok_ty.unwrap_or(&ret_ty);

    let args_var = format_ident!("__args");
    let (args_ty, args_struct, schema_ty) = match params.whole() {
        Some(whole) => {
            let inner = quote!(<#whole as ::musehub_mcp::__private::WholeArgs>::Inner);
            (inner.clone(), quote!(), inner)
        }
        None => {
            let fields = params.struct_fields();
            let defaults = params.default_fns();
            let checks = params.type_checks();
            let probes = params.field_probes();
            let struct_ty = quote!(__ToolArgs);
            (
                struct_ty.clone(),
                quote! {
                    #checks
                    #defaults
                    #probes
                    #[derive(::musehub_mcp::__private::serde::Deserialize, ::musehub_mcp::schemars::JsonSchema)]
                    #[serde(crate = "::musehub_mcp::__private::serde")]
                    #[schemars(crate = "::musehub_mcp::schemars")]
                    #[allow(non_camel_case_types, dead_code)]
                    struct __ToolArgs { #fields }
                },
                struct_ty,
            )
        }
    };

    let (extract, call_exprs) = params.call_args(&args_var, |e| {
        quote!(::musehub_mcp::__private::ToolStart::Ready(
            ::musehub_mcp::__private::ToolOutput::from_result(::musehub_mcp::ToolError::into_result(#e), __shape)
        ))
    });
    // The return value becomes the serialised result; a `Result`'s error goes through the
    // conversion that accepts any `Display` type (see `ErrorValue`).
    let into_output = if ok_ty.is_some() {
        quote! {
            match __ret {
                ::core::result::Result::Ok(v) => ::musehub_mcp::IntoToolResult::into_output(v, __shape),
                ::core::result::Result::Err(e) => {
                    #[allow(unused_imports)]
                    use ::musehub_mcp::__private::{ErrorViaDisplay as _, ErrorViaInto as _};
                    ::musehub_mcp::__private::ToolOutput::from_result(
                        ::musehub_mcp::ToolError::into_result(
                            (&&::musehub_mcp::__private::ErrorValue::new(e)).tool_error(),
                        ),
                        __shape,
                    )
                }
            }
        }
    } else {
        quote!(::musehub_mcp::IntoToolResult::into_output(__ret, __shape))
    };
    let run = if func.sig.asyncness.is_some() {
        quote_spanned! {fn_name.span()=>
            ::musehub_mcp::__private::ToolStart::Running(::std::boxed::Box::pin(async move {
                let __ret: #ret_ty = ::musehub_mcp::__private::require_send(#fn_name(#(#call_exprs),*)).await;
                #into_output
            }))
        }
    } else {
        quote! {{
            let __ret: #ret_ty = #fn_name(#(#call_exprs),*);
            ::musehub_mcp::__private::ToolStart::Ready(#into_output)
        }}
    };

    let input_schema = match opts.path("input_schema")? {
        Some(p) => quote!(::musehub_mcp::__private::InputSchema::Verbatim(#p)),
        None => quote!(::musehub_mcp::__private::InputSchema::Derived(
            __input_schema
        )),
    };
    let title_t = opt_str(title.as_deref());
    let category_t = opt_str(category.as_deref());
    let fn_name_str = fn_name.to_string();

    Ok(quote! {
        #func

        #[doc(hidden)]
        const _: () = {
            #args_struct

            fn __input_schema(g: &mut ::musehub_mcp::schemars::SchemaGenerator) -> ::musehub_mcp::schemars::Schema {
                g.root_schema_for::<#schema_ty>()
            }

            fn __output_schema(g: &mut ::musehub_mcp::schemars::SchemaGenerator) -> ::core::option::Option<::musehub_mcp::schemars::Schema> {
                <#schema_of as ::musehub_mcp::IntoToolResult>::output_schema(g)
            }

            fn __handler(
                __ctx: ::musehub_mcp::Ctx,
                __raw: ::core::option::Option<&::musehub_mcp::__private::RawValue>,
                __shape: ::musehub_mcp::__private::OutputShape,
            ) -> ::musehub_mcp::__private::ToolStart {
                let #args_var: #args_ty = match ::musehub_mcp::__private::parse_arguments(__raw) {
                    ::core::result::Result::Ok(v) => v,
                    ::core::result::Result::Err(e) => return ::musehub_mcp::__private::ToolStart::Ready(e),
                };
                #extract
                #run
            }

            ::musehub_mcp::__private::inventory::submit! {
                ::musehub_mcp::__private::ToolDef {
                    name: #name,
                    title: #title_t,
                    description: #description,
                    read_only: #read_only_v,
                    destructive: #destructive_v,
                    idempotent: #idempotent_v,
                    destructive_explicit: #destructive_explicit,
                    idempotent_explicit: #idempotent_explicit,
                    open_world: #open_world_v,
                    write: #write_v,
                    sse: #sse_v,
                    asks_client: #asks_client_v,
                    scopes: #scopes,
                    category: #category_t,
                    icons: #icons,
                    input_schema: #input_schema,
                    output_schema: __output_schema,
                    handler: __handler,
                    location: ::musehub_mcp::__private::SourceLocation {
                        crate_name: ::core::env!("CARGO_PKG_NAME"),
                        module: ::core::module_path!(),
                        file: ::core::file!(),
                        line: ::core::line!(),
                        function: #fn_name_str,
                    },
                }
            }
        };
    })
}

/// The scopes of `scopes = "a b"` (space- or comma-separated), checked for characters an
/// OAuth scope may hold (RFC 6749 §3.3: visible ASCII but `"` and `\`).
pub fn parse_scopes(lit: &syn::LitStr) -> syn::Result<Vec<String>> {
    let scopes: Vec<String> = lit
        .value()
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if scopes.is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            "`scopes` names at least one scope, e.g. scopes = \"repo:write\"",
        ));
    }
    if let Some(bad) = scopes.iter().find(|s| {
        s.chars()
            .any(|c| !c.is_ascii_graphic() || c == '"' || c == '\\')
    }) {
        return Err(syn::Error::new(
            lit.span(),
            format!("scope `{bad}` may hold only visible ASCII other than `\"` and `\\`"),
        ));
    }
    Ok(scopes)
}

/// `&["a", "b"]` of an item's `scopes = "..."`, empty without one.
pub fn scopes_tokens(opts: &Options) -> syn::Result<TokenStream> {
    Ok(match opts.string("scopes")? {
        Some(lit) => {
            let scopes = parse_scopes(&lit)?;
            quote!(&[#(#scopes),*])
        }
        None => quote!(&[]),
    })
}

/// The `T` of a return type written `Result<T, E>` (or any alias named `Result`, such as
/// `anyhow::Result<T>`): its error is converted by the generated code, which accepts any
/// `E: Display` as well as `E: Into<ToolError>`.
pub fn result_ok_type(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// Registered items are called through plain function pointers, so they cannot be generic.
pub fn reject_generics(func: &ItemFn, what: &str) -> syn::Result<()> {
    if !func.sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            func.sig.generics.span(),
            format!(
                "a #[{what}] function cannot be generic: the registry calls it through a plain function pointer"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(attr: TokenStream, item: TokenStream) -> String {
        expand(attr, item).expect("expands").to_string()
    }

    #[test]
    fn plain_arguments_become_a_generated_struct() {
        let out = expand_str(
            quote!(read_only, title = "Echo"),
            quote! {
                /// Echo the message.
                async fn echo(ctx: &Ctx, #[arg(desc = "What to say")] message: String, times: Option<u32>) -> String { message }
            },
        );
        assert!(out.contains("struct __ToolArgs"), "{out}");
        assert!(
            out.contains("# [schemars (description = \"What to say\")]"),
            "{out}"
        );
        assert!(
            out.contains("# [serde (rename = \"message\" , deserialize_with = \"__de_message\")]"),
            "{out}"
        );
        assert!(
            out.contains("ToolStart :: Running"),
            "an async tool runs: {out}"
        );
        assert!(
            out.contains("sse : true"),
            "takes &Ctx, which can log: {out}"
        );
        assert!(out.contains("# [serde (default)]"), "{out}");
        assert!(out.contains("name : \"echo\""), "{out}");
        assert!(out.contains("description : \"Echo the message.\""), "{out}");
        assert!(out.contains("read_only : true"), "{out}");
        assert!(out.contains("destructive : false"), "{out}");
        assert!(out.contains("idempotent : true"), "{out}");
        assert!(
            out.contains("title : :: core :: option :: Option :: Some (\"Echo\")"),
            "{out}"
        );
        // `#[arg]` is consumed: the emitted function must compile without it.
        assert!(!out.contains("# [arg"), "{out}");
        assert!(out.contains("& __ctx"), "{out}");
    }

    #[test]
    fn write_and_streaming_tools_join_their_slices() {
        let out = expand_str(
            quote!(write, name = "musehub.create"),
            quote! {
                /// Create.
                async fn create(progress: Progress, Args(a): Args<CreateRepo>) -> Result<Json<Repo>, ToolError> { todo!() }
            },
        );
        assert!(out.contains("sse : true"), "takes Progress: {out}");
        assert!(out.contains("asks_client : false"), "{out}");
        assert!(out.contains("WholeArgs"), "{out}");
        assert!(!out.contains("struct __ToolArgs"), "{out}");
        assert!(out.contains("write : true"), "{out}");
        assert!(out.contains("destructive : true"), "{out}");
    }

    #[test]
    fn sync_tools_answer_at_once_and_results_convert_their_errors() {
        let out = expand_str(
            quote!(scopes = "repo:write, repo:read"),
            quote! {
                /// Sync.
                fn sum(a: i64, b: i64) -> anyhow::Result<i64> { Ok(a + b) }
            },
        );
        assert!(out.contains("ToolStart :: Ready"), "{out}");
        assert!(!out.contains("ToolStart :: Running"), "{out}");
        assert!(out.contains("ErrorValue :: new (e)"), "{out}");
        assert!(
            out.contains("< i64 as :: musehub_mcp :: IntoToolResult > :: output_schema"),
            "the Ok type's schema: {out}"
        );
        assert!(
            out.contains("scopes : & [\"repo:write\" , \"repo:read\"]"),
            "{out}"
        );
        assert!(out.contains("sse : false"), "{out}");
    }

    #[test]
    fn verbatim_input_schema_is_referenced() {
        let out = expand_str(
            quote!(input_schema = my_schema),
            quote! {
                /// Raw.
                fn raw(Args(v): Args<serde_json::Value>) -> String { String::new() }
            },
        );
        assert!(out.contains("InputSchema :: Verbatim (my_schema)"), "{out}");
    }

    #[test]
    fn errors_name_the_problem() {
        let err = |attr, item| expand(attr, item).expect_err("error").to_string();
        assert!(
            err(
                quote!(colour = "red"),
                quote!(
                    /// d
                    fn f() {}
                )
            )
            .contains("unknown #[tool] option `colour`")
        );
        assert!(
            err(
                quote!(name = "has space"),
                quote!(
                    /// d
                    fn f() {}
                )
            )
            .contains("contains ` `")
        );
        assert!(
            err(
                quote!(),
                quote!(
                    fn f() {}
                )
            )
            .contains("needs a description")
        );
        assert!(
            err(
                quote!(),
                quote!(
                    /// d
                    fn f(&self) {}
                )
            )
            .contains("not a method")
        );
        assert!(
            err(
                quote!(read_only, write),
                quote!(
                    /// d
                    fn f() {}
                )
            )
            .contains("both `read_only` and `write`")
        );
        assert!(
            err(
                quote!(),
                quote!(
                    /// d
                    fn f(s: &str) {}
                )
            )
            .contains("owned type")
        );
    }

    #[test]
    fn scopes_are_checked() {
        let bad: syn::LitStr = syn::parse_quote!("a\\b");
        assert!(parse_scopes(&bad).is_err());
        let empty: syn::LitStr = syn::parse_quote!(" , ");
        assert!(parse_scopes(&empty).is_err());
        let ok: syn::LitStr = syn::parse_quote!("repo:read  repo:write");
        assert_eq!(parse_scopes(&ok).unwrap(), vec!["repo:read", "repo:write"]);
    }

    #[test]
    fn tool_names_follow_the_spec() {
        assert!(check_tool_name("musehub_search.repos-v2").is_ok());
        assert!(check_tool_name("").is_err());
        assert!(check_tool_name(&"a".repeat(129)).is_err());
        assert!(check_tool_name("a/b").is_err());
    }
}
