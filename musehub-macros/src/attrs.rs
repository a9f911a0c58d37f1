//! Parsing of the option lists inside `#[tool(...)]`, `#[resource(...)]`, `#[prompt(...)]`
//! and the per-parameter `#[arg(...)]`.
//!
//! Every macro accepts a fixed set of keys; anything else is a compile error that lists the
//! accepted keys, so a typo never silently changes what a client sees.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitBool, LitStr, Meta, Path, Token};

/// One `key`, `key = value` or `key(...)` entry of an attribute's option list.
pub struct Options {
    metas: Vec<Meta>,
}

impl Options {
    /// Parses `a, b = "x", c(d = e)` from the attribute's own tokens.
    pub fn parse(tokens: TokenStream) -> syn::Result<Self> {
        let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens)?;
        Ok(Self {
            metas: metas.into_iter().collect(),
        })
    }

    /// Rejects any key not in `allowed`, naming the accepted keys in the hint.
    pub fn check_known(&self, macro_name: &str, allowed: &[&str]) -> syn::Result<()> {
        for meta in &self.metas {
            let key = key_of(meta.path());
            if !allowed.contains(&key.as_str()) {
                return Err(syn::Error::new(
                    meta.path().span(),
                    format!(
                        "unknown #[{macro_name}] option `{key}`\nhint: the accepted options are: {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn find(&self, key: &str) -> Option<&Meta> {
        self.metas.iter().find(|m| m.path().is_ident(key))
    }

    fn find_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Meta> + 'a {
        self.metas.iter().filter(move |m| m.path().is_ident(key))
    }

    /// A string option, `key = "value"`.
    pub fn string(&self, key: &str) -> syn::Result<Option<LitStr>> {
        match self.find(key) {
            None => Ok(None),
            Some(Meta::NameValue(nv)) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Ok(Some(s.clone())),
                other => Err(syn::Error::new(
                    other.span(),
                    format!("`{key}` takes a string literal, e.g. {key} = \"...\""),
                )),
            },
            Some(other) => Err(syn::Error::new(
                other.span(),
                format!("`{key}` takes a string literal, e.g. {key} = \"...\""),
            )),
        }
    }

    /// A flag, written `key` (true) or `key = true|false`. `None` when absent.
    pub fn flag(&self, key: &str) -> syn::Result<Option<(bool, Span)>> {
        match self.find(key) {
            None => Ok(None),
            Some(Meta::Path(p)) => Ok(Some((true, p.span()))),
            Some(Meta::NameValue(nv)) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Bool(LitBool { value, .. }),
                    ..
                }) => Ok(Some((*value, nv.span()))),
                other => Err(syn::Error::new(
                    other.span(),
                    format!("`{key}` is a flag: write `{key}` or `{key} = true|false`"),
                )),
            },
            Some(other) => Err(syn::Error::new(
                other.span(),
                format!("`{key}` is a flag: write `{key}` or `{key} = true|false`"),
            )),
        }
    }

    /// A path option, `key = some::function`.
    pub fn path(&self, key: &str) -> syn::Result<Option<Path>> {
        match self.find(key) {
            None => Ok(None),
            Some(Meta::NameValue(nv)) => match &nv.value {
                Expr::Path(p) => Ok(Some(p.path.clone())),
                other => Err(syn::Error::new(
                    other.span(),
                    format!("`{key}` takes a path to a function, e.g. {key} = my_module::my_fn"),
                )),
            },
            Some(other) => Err(syn::Error::new(
                other.span(),
                format!("`{key}` takes a path to a function, e.g. {key} = my_module::my_fn"),
            )),
        }
    }

    /// `complete(arg = path, other = path)`: completion hooks keyed by argument name.
    pub fn completions(&self) -> syn::Result<Vec<(syn::Ident, Path)>> {
        let mut out = Vec::new();
        for meta in self.find_all("complete") {
            let Meta::List(list) = meta else {
                return Err(syn::Error::new(
                    meta.span(),
                    "write `complete(argument = path::to::async_fn)`",
                ));
            };
            let inner = Options::parse(list.tokens.clone())?;
            for m in inner.metas {
                let Meta::NameValue(nv) = &m else {
                    return Err(syn::Error::new(
                        m.span(),
                        "write `complete(argument = path::to::async_fn)`",
                    ));
                };
                let Some(ident) = nv.path.get_ident().cloned() else {
                    return Err(syn::Error::new(nv.path.span(), "expected an argument name"));
                };
                let Expr::Path(p) = &nv.value else {
                    return Err(syn::Error::new(
                        nv.value.span(),
                        "expected a path to an async completion function",
                    ));
                };
                out.push((ident, p.path.clone()));
            }
        }
        Ok(out)
    }

    /// `icon(src = "...", mime_type = "...", sizes = "48x48 96x96")`, repeatable.
    pub fn icons(&self) -> syn::Result<Vec<Icon>> {
        let mut out = Vec::new();
        for meta in self.find_all("icon") {
            let Meta::List(list) = meta else {
                return Err(syn::Error::new(
                    meta.span(),
                    "write `icon(src = \"https://...\", mime_type = \"image/png\", sizes = \"48x48\")`",
                ));
            };
            let inner = Options::parse(list.tokens.clone())?;
            inner.check_known("icon", &["src", "mime_type", "sizes", "theme"])?;
            let Some(src) = inner.string("src")? else {
                return Err(syn::Error::new(
                    list.span(),
                    "an icon needs `src = \"...\"`",
                ));
            };
            out.push(Icon {
                src,
                mime_type: inner.string("mime_type")?,
                sizes: inner.string("sizes")?,
                theme: inner.string("theme")?,
            });
        }
        Ok(out)
    }
}

/// An `icon(...)` option as written.
pub struct Icon {
    pub src: LitStr,
    pub mime_type: Option<LitStr>,
    pub sizes: Option<LitStr>,
    pub theme: Option<LitStr>,
}

fn key_of(path: &Path) -> String {
    path.get_ident()
        .map(|i| i.to_string())
        .unwrap_or_else(|| quote::quote!(#path).to_string())
}

/// Joins the `///` doc lines of an item into one description, the way rustdoc shows them.
pub fn doc_string(attrs: &[syn::Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) = &nv.value
        {
            let v = s.value();
            lines.push(v.strip_prefix(' ').unwrap_or(&v).trim_end().to_string());
        }
    }
    let text = lines.join("\n").trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// Tokens for an `Option<&'static str>` literal.
pub fn opt_str(value: Option<&str>) -> TokenStream {
    match value {
        Some(v) => quote::quote!(::core::option::Option::Some(#v)),
        None => quote::quote!(::core::option::Option::None),
    }
}

/// Tokens for the icon list of a definition.
pub fn icons_tokens(icons: &[Icon]) -> TokenStream {
    let items = icons.iter().map(|i| {
        let src = &i.src;
        let mime = opt_str(i.mime_type.as_ref().map(|s| s.value()).as_deref());
        let theme = opt_str(i.theme.as_ref().map(|s| s.value()).as_deref());
        let sizes = i
            .sizes
            .as_ref()
            .map(|s| s.value())
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>();
        quote::quote! {
            ::musehub_mcp::__private::Icon { src: #src, mime_type: #mime, sizes: &[#(#sizes),*], theme: #theme }
        }
    });
    quote::quote!(&[#(#items),*])
}
