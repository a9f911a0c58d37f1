//! `#[prompt]`: turns a free function into a registered MCP prompt. Its parameters are the
//! prompt's arguments: strings on the wire (server/prompts.mdx), required unless `Option`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

use crate::attrs::{Options, doc_string, icons_tokens, opt_str};
use crate::params::Params;
use crate::resource::{completion_tokens, protocol_call};
use crate::tool::reject_generics;

const OPTIONS: &[&str] = &["name", "title", "description", "icon", "complete", "scopes"];

/// Expands `#[prompt(attr)] item`.
pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let opts = Options::parse(attr)?;
    opts.check_known("prompt", OPTIONS)?;
    let mut func: ItemFn = syn::parse2(item)?;
    reject_generics(&func, "prompt")?;
    let fn_name = func.sig.ident.clone();
    let name = opts
        .string("name")?
        .map(|s| s.value())
        .unwrap_or_else(|| fn_name.to_string());
    let description = match opts.string("description")? {
        Some(d) => d.value(),
        None => doc_string(&func.attrs).ok_or_else(|| {
            syn::Error::new(
                fn_name.span(),
                "a prompt needs a description\nhint: add a `///` doc comment or `description = \"...\"`",
            )
        })?,
    };
    let params = Params::parse(&mut func.sig, "prompt")?;
    if let Some(w) = params.whole() {
        return Err(syn::Error::new_spanned(
            w,
            "prompt arguments are plain string parameters, not `Args<T>`",
        ));
    }
    let completions = opts.completions()?;
    for (arg, _) in &completions {
        if !params
            .named()
            .any(|a| crate::resource::unraw(arg) == a.wire_name)
        {
            return Err(syn::Error::new(
                arg.span(),
                format!("`{arg}` is not an argument of prompt `{name}`"),
            ));
        }
    }

    let mut bind = TokenStream::new();
    let mut arg_defs = Vec::new();
    for a in params.named() {
        let id = crate::resource::bound_name(&a.ident);
        let ty = &a.ty;
        let wire = &a.wire_name;
        let required = !a.optional;
        let desc = opt_str(a.description.as_deref());
        arg_defs.push(quote! {
            ::musehub_mcp::__private::PromptArgDef { name: #wire, description: #desc, required: #required }
        });
        bind.extend(quote! {
            let #id: #ty = match ::musehub_mcp::__private::PromptArg::take(&mut __args, #wire) {
                ::core::result::Result::Ok(v) => v,
                ::core::result::Result::Err(e) => return ::core::result::Result::Err(e),
            };
        });
    }
    let (extract, call) = protocol_call(&func, &params);
    let title = opt_str(opts.string("title")?.map(|s| s.value()).as_deref());
    let icons = icons_tokens(&opts.icons()?);
    let completion_defs = completion_tokens(&completions);
    let scopes = crate::tool::scopes_tokens(&opts)?;

    Ok(quote! {
        #func

        #[doc(hidden)]
        const _: () = {
            fn __handler(
                __ctx: ::musehub_mcp::Ctx,
                mut __args: ::musehub_mcp::__private::PromptArguments,
            ) -> ::musehub_mcp::__private::BoxFuture<'static, ::core::result::Result<::musehub_mcp::GetPromptResult, ::musehub_mcp::McpError>> {
                ::std::boxed::Box::pin(async move {
                    #bind
                    #extract
                    ::musehub_mcp::IntoPromptResult::into_prompt_result(#call)
                })
            }

            ::musehub_mcp::__private::inventory::submit! {
                ::musehub_mcp::__private::PromptDef {
                    name: #name,
                    title: #title,
                    description: #description,
                    icons: #icons,
                    arguments: &[#(#arg_defs),*],
                    handler: __handler,
                    completions: #completion_defs,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_required_unless_optional() {
        let out = expand(
            quote!(title = "Review"),
            quote! {
                /// Review a proposal.
                fn review(proposal_id: String, #[arg(desc = "Area")] focus: Option<String>) -> Vec<PromptMessage> { vec![] }
            },
        )
        .unwrap()
        .to_string();
        assert!(out.contains("name : \"proposal_id\" , description : :: core :: option :: Option :: None , required : true"), "{out}");
        assert!(out.contains("name : \"focus\" , description : :: core :: option :: Option :: Some (\"Area\") , required : false"), "{out}");
    }
}
