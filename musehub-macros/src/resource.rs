//! `#[resource]`: turns a free function into a registered static resource (a URI without
//! variables) or resource template (RFC 6570 level 1 `{variables}` bound to parameters by name).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::ItemFn;
use syn::spanned::Spanned;

use crate::attrs::{Options, doc_string, icons_tokens, opt_str};
use crate::params::{Param, Params};
use crate::tool::reject_generics;

const OPTIONS: &[&str] = &[
    "uri",
    "name",
    "title",
    "description",
    "mime_type",
    "icon",
    "complete",
    "ttl_ms",
    "cache_scope",
    "scopes",
];

/// Extracts the `{variable}` names of a level-1 template, rejecting operators and nesting.
pub fn template_variables(uri: &str) -> Result<Vec<String>, String> {
    let mut vars = Vec::new();
    let mut rest = uri;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("unclosed `{{` in URI template `{uri}`"))?;
        let raw = &after[..close];
        // `{+name}` is RFC 6570 reserved expansion (level 2): its value may contain `/`.
        let var = raw.strip_prefix('+').unwrap_or(raw);
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`{{{raw}}}` is not a supported template variable\nhint: write `{{name}}`, or `{{+name}}` for a value that may contain `/`; other operators are not supported"
            ));
        }
        if vars.iter().any(|v| v == var) {
            return Err(format!("variable `{var}` appears twice in `{uri}`"));
        }
        vars.push(var.to_string());
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("unmatched `}}` in URI template `{uri}`"));
    }
    Ok(vars)
}

/// An identifier as written on the wire: `r#ref` is the argument `ref`.
pub fn unraw(ident: &syn::Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
}

/// Expands `#[resource(attr)] item`.
pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let opts = Options::parse(attr.clone())?;
    opts.check_known("resource", OPTIONS)?;
    let mut func: ItemFn = syn::parse2(item)?;
    reject_generics(&func, "resource")?;
    let fn_name = func.sig.ident.clone();

    let uri_lit = opts.string("uri")?.ok_or_else(|| {
        syn::Error::new(
            attr.span(),
            "a resource needs `uri = \"scheme://path\"` (with `{variables}` for a template)",
        )
    })?;
    let uri = uri_lit.value();
    let vars = template_variables(&uri).map_err(|m| syn::Error::new(uri_lit.span(), m))?;
    let params = Params::parse(&mut func.sig, "resource")?;
    if let Some(w) = params.whole() {
        return Err(syn::Error::new(
            w.span(),
            "a resource's parameters are its URI template variables, not `Args<T>`",
        ));
    }
    for arg in params.named() {
        if !vars.contains(&arg.wire_name) {
            return Err(syn::Error::new(
                arg.span,
                format!(
                    "parameter `{}` has no `{{{}}}` variable in the URI template `{uri}`\nhint: add the variable to the URI, or make the parameter an injected type",
                    arg.ident, arg.wire_name
                ),
            ));
        }
    }
    for var in &vars {
        if !params.named().any(|a| &a.wire_name == var) {
            return Err(syn::Error::new(
                uri_lit.span(),
                format!(
                    "template variable `{{{var}}}` has no parameter\nhint: add a parameter `{var}: String` to `{fn_name}`"
                ),
            ));
        }
    }
    let completions = opts.completions()?;
    for (arg, _) in &completions {
        if !vars.contains(&unraw(arg)) {
            return Err(syn::Error::new(
                arg.span(),
                format!("`{arg}` is not a variable of `{uri}`"),
            ));
        }
    }

    let name = opts
        .string("name")?
        .map(|s| s.value())
        .unwrap_or_else(|| fn_name.to_string());
    let description = match opts.string("description")? {
        Some(d) => Some(d.value()),
        None => doc_string(&func.attrs),
    };
    let title = opt_str(opts.string("title")?.map(|s| s.value()).as_deref());
    let description = opt_str(description.as_deref());
    let mime = opt_str(opts.string("mime_type")?.map(|s| s.value()).as_deref());
    let icons = icons_tokens(&opts.icons()?);
    let is_template = !vars.is_empty();
    let ttl_ms = match opts.raw_value("ttl_ms") {
        Some(v) => {
            let lit: syn::LitInt = syn::parse2(v)?;
            let n: u64 = lit.base10_parse()?;
            quote!(::core::option::Option::Some(#n))
        }
        None => quote!(::core::option::Option::None),
    };
    let cache_scope = match opts.string("cache_scope")? {
        Some(s) if s.value() == "public" || s.value() == "private" => {
            let v = s.value();
            quote!(::core::option::Option::Some(#v))
        }
        Some(s) => {
            return Err(syn::Error::new(
                s.span(),
                "`cache_scope` is \"public\" or \"private\"",
            ));
        }
        None => quote!(::core::option::Option::None),
    };

    // Variables are parsed with `FromStr` so a parameter can be a number or any newtype.
    let vars_ident = format_ident!("__vars");
    let mut var_stmts = TokenStream::new();
    for arg in params.named() {
        let id = bound_name(&arg.ident);
        let ty = &arg.ty;
        let wire = &arg.wire_name;
        var_stmts.extend(quote! {
            let #id: #ty = match ::musehub_mcp::__private::template_var(&#vars_ident, #wire) {
                ::core::result::Result::Ok(v) => v,
                ::core::result::Result::Err(e) => return ::core::result::Result::Err(e),
            };
        });
    }
    let (extract, call) = protocol_call(&func, &params);
    let completion_defs = completion_tokens(&completions);
    let scopes = crate::tool::scopes_tokens(&opts)?;

    Ok(quote! {
        #func

        #[doc(hidden)]
        const _: () = {
            fn __handler(
                __ctx: ::musehub_mcp::Ctx,
                __uri: ::std::string::String,
                #vars_ident: ::musehub_mcp::__private::TemplateVars,
            ) -> ::musehub_mcp::__private::BoxFuture<'static, ::core::result::Result<::std::vec::Vec<::musehub_mcp::ResourceContents>, ::musehub_mcp::McpError>> {
                ::std::boxed::Box::pin(async move {
                    #var_stmts
                    #extract
                    ::musehub_mcp::IntoResourceContents::into_contents(#call, &__uri, #mime)
                })
            }

            ::musehub_mcp::__private::inventory::submit! {
                ::musehub_mcp::__private::ResourceDef {
                    uri: #uri,
                    is_template: #is_template,
                    name: #name,
                    title: #title,
                    description: #description,
                    mime_type: #mime,
                    icons: #icons,
                    handler: __handler,
                    completions: #completion_defs,
                    ttl_ms: #ttl_ms,
                    cache_scope: #cache_scope,
                    scopes: #scopes,
                    location: ::musehub_mcp::__private::SourceLocation {
                        crate_name: ::core::env!("CARGO_PKG_NAME"),
                        module: ::core::module_path!(),
                        file: ::core::file!(),
                        line: ::core::line!(),
                        function: ::core::stringify!(#fn_name),
                    },
                }
            }
        };
    })
}

/// The local a resource's or prompt's named parameter is bound to before the call: not the
/// parameter's own name, which may be the function's (`fn repo(repo: String)` would shadow
/// the function it calls).
pub fn bound_name(id: &syn::Ident) -> syn::Ident {
    format_ident!("__arg_{}", unraw(id))
}

/// The call expressions for resources and prompts: named parameters are already bound as
/// locals (see [`bound_name`]), so they are passed by those names.
pub fn call_exprs(
    params: &Params,
    on_err: impl Fn(TokenStream) -> TokenStream,
) -> (TokenStream, Vec<TokenStream>) {
    let dummy = format_ident!("__unused");
    let (stmts, mut exprs) = params.call_args(&dummy, on_err);
    for (i, p) in params.list.iter().enumerate() {
        if let Param::Named(a) = p {
            let id = bound_name(&a.ident);
            exprs[i] = quote!(#id);
        }
    }
    (stmts, exprs)
}

/// The injected-parameter extraction and the call of the user's function, for handlers whose
/// failures are JSON-RPC errors (resources and prompts). A return type written `Result<T, E>`
/// has its error converted like a tool's: any `Into<ToolError>` or `Display` type.
pub fn protocol_call(func: &ItemFn, params: &Params) -> (TokenStream, TokenStream) {
    let fn_name = &func.sig.ident;
    let (extract, exprs) = call_exprs(
        params,
        |e| quote!(::core::result::Result::Err(::musehub_mcp::McpError::from(#e))),
    );
    let call = if func.sig.asyncness.is_some() {
        quote!(::musehub_mcp::__private::require_send(#fn_name(#(#exprs),*)).await)
    } else {
        quote!(#fn_name(#(#exprs),*))
    };
    let returns_result = match &func.sig.output {
        syn::ReturnType::Type(_, ty) => crate::tool::result_ok_type(ty).is_some(),
        syn::ReturnType::Default => false,
    };
    let call = if returns_result {
        quote! {
            match #call {
                ::core::result::Result::Ok(v) => v,
                ::core::result::Result::Err(e) => {
                    #[allow(unused_imports)]
                    use ::musehub_mcp::__private::{
                        ProtocolViaDisplay as _, ProtocolViaMcp as _, ProtocolViaTool as _,
                    };
                    return ::core::result::Result::Err(
                        (&&&::musehub_mcp::__private::ErrorValue::new(e)).protocol_error(),
                    );
                }
            }
        }
    } else {
        call
    };
    (extract, call)
}

/// `&[CompletionDef { argument, handler }]` for `complete(arg = path)`.
pub fn completion_tokens(completions: &[(syn::Ident, syn::Path)]) -> TokenStream {
    let defs = completions.iter().map(|(arg, path)| {
        let arg_s = unraw(arg);
        quote! {
            ::musehub_mcp::__private::CompletionDef {
                argument: #arg_s,
                handler: |req| ::std::boxed::Box::pin(#path(req)),
            }
        }
    });
    quote!(&[#(#defs),*])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_variables_are_found_in_order() {
        assert_eq!(
            template_variables("musehub://repos/{owner}/{slug}/issues/{number}").unwrap(),
            vec!["owner", "slug", "number"]
        );
        assert!(template_variables("musehub://static").unwrap().is_empty());
        assert_eq!(template_variables("x://{+path}").unwrap(), vec!["path"]);
        assert!(template_variables("x://{#frag}").is_err());
        assert!(template_variables("x://{a").is_err());
        assert!(template_variables("x://{a}/{a}").is_err());
    }

    #[test]
    fn variables_bind_to_parameters() {
        let out = expand(
            quote!(uri = "musehub://repos/{owner}/{slug}", mime_type = "application/json", complete(owner = users)),
            quote! {
                /// A repository.
                async fn repo(ctx: &Ctx, owner: String, slug: String) -> Result<String, ToolError> { todo!() }
            },
        )
        .unwrap()
        .to_string();
        assert!(out.contains("template_var (& __vars , \"owner\")"), "{out}");
        assert!(
            out.contains("let __arg_owner"),
            "bound to its own local: {out}"
        );
        assert!(out.contains("is_template : true"), "{out}");
        assert!(out.contains("argument : \"owner\""), "{out}");
    }

    #[test]
    fn mismatched_variables_are_errors() {
        let e = expand(
            quote!(uri = "x://{owner}"),
            quote!(
                fn r(slug: String) -> String {
                    slug
                }
            ),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("parameter `slug` has no `{slug}` variable"),
            "{e}"
        );
        let e = expand(
            quote!(uri = "x://{owner}"),
            quote!(
                fn r() -> String {
                    String::new()
                }
            ),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("template variable `{owner}` has no parameter"),
            "{e}"
        );
    }
}
