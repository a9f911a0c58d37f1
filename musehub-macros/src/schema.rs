//! `#[schema]`: derives `Serialize`, `Deserialize` and `JsonSchema` on a type through
//! `musehub_mcp`'s re-exports, so a server depends on `musehub-mcp` alone and its argument
//! and result types always use the schemars version the registry uses.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::attrs::Options;

/// Expands `#[schema] struct ...` / `#[schema] enum ...`.
pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let opts = Options::parse(attr)?;
    opts.check_known("schema", &["no_serialize", "no_deserialize"])?;
    let input: DeriveInput = syn::parse2(item)?;
    let ser = (!opts.flag("no_serialize")?.is_some_and(|f| f.0))
        .then(|| quote!(::musehub_mcp::__private::serde::Serialize,));
    let de = (!opts.flag("no_deserialize")?.is_some_and(|f| f.0))
        .then(|| quote!(::musehub_mcp::__private::serde::Deserialize,));
    Ok(quote! {
        #[derive(#ser #de ::musehub_mcp::schemars::JsonSchema)]
        #[serde(crate = "::musehub_mcp::__private::serde")]
        #[schemars(crate = "::musehub_mcp::schemars")]
        #input
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_through_the_reexports() {
        let out = expand(
            quote!(no_deserialize),
            quote!(
                struct A {
                    x: u32,
                }
            ),
        )
        .unwrap()
        .to_string();
        assert!(out.contains("serde :: Serialize"), "{out}");
        assert!(!out.contains("Deserialize"), "{out}");
        assert!(
            out.contains("schemars (crate = \"::musehub_mcp::schemars\")"),
            "{out}"
        );
    }
}
