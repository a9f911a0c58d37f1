//! Sorting a function's parameters into the ones a client sends (schema arguments) and the
//! ones the runtime supplies (injected, axum-extractor style).
//!
//! The rule is by the type's name as written, so there is one obvious way to write a
//! parameter:
//! - `&Ctx` / `Ctx`, `State<T>`, `Progress`, `Elicitation`, `Sampling`, `Roots`, `Logger`,
//!   `Caller`, `CancellationToken`: injected by the runtime through `FromCtx`;
//! - any parameter marked `#[inject]`: a custom extractor implementing `FromCtx`, or one of
//!   the above under another name (`use musehub_mcp::Ctx as C` needs `#[inject] ctx: &C`:
//!   a macro sees names, not types);
//! - `Args<T>`: the whole argument object is `T` (one struct deriving `Deserialize` +
//!   `JsonSchema`);
//! - `#[arg(flatten)] x: T`: the fields of `T` become top-level arguments (a shared block of
//!   arguments, such as a repository reference, written once);
//! - anything else: one named argument; the macro generates the argument struct.
//!
//! **Which tools stream.** A tool may send messages before its result, and so may answer
//! with SSE, exactly when it takes a type that can send them: `Ctx` (it logs and closes
//! streams), `Progress`, `Logger`, `Elicitation`, `Sampling`, `Roots`, or an `#[inject]`
//! extractor (which may hold the context). `#[tool(sse)]` says so for any other tool. The
//! three that ask the client (`Elicitation`, `Sampling`, `Roots`) also make the tool
//! interactive: in the 2026-07-28 era it may answer with input requests.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, LitStr, Pat, Type};

use crate::attrs::Options;

/// Types the runtime injects without a marker.
const INJECTED: &[&str] = &[
    "Ctx",
    "State",
    "Progress",
    "Elicitation",
    "Sampling",
    "Roots",
    "Logger",
    "Caller",
    "CancellationToken",
];
/// Injected types that can send messages before the result (see the module docs).
const STREAMING: &[&str] = &[
    "Ctx",
    "Progress",
    "Logger",
    "Elicitation",
    "Sampling",
    "Roots",
];
/// Injected types that ask the client something.
const ASKING: &[&str] = &["Elicitation", "Sampling", "Roots"];

/// What one parameter is.
pub enum Param {
    /// `&Ctx`: a borrow of the call context.
    CtxRef,
    /// A value built by `FromCtx` (includes owned `Ctx`).
    Injected { ty: Box<Type> },
    /// `#[inject] x: &T`: a value built by `FromCtx`, passed by reference.
    InjectedRef { ty: Box<Type> },
    /// `Args<T>`: the whole argument object.
    Whole { ty: Box<Type> },
    /// One named argument of the generated struct.
    Named(Box<NamedArg>),
}

/// A named schema argument with its `#[arg(...)]` options.
pub struct NamedArg {
    pub ident: Ident,
    pub ty: Box<Type>,
    pub wire_name: String,
    pub description: Option<String>,
    pub default: Option<syn::Expr>,
    pub optional: bool,
    /// `x-mcp-header` name, when the argument is mirrored into an `Mcp-Param-*` header.
    pub header: Option<String>,
    /// `#[arg(flatten)]`: the type's own fields are the arguments.
    pub flatten: bool,
    pub span: Span,
}

/// All parameters of a function, in order, plus derived facts.
pub struct Params {
    pub list: Vec<Param>,
    /// The signature takes a type that can send messages before the result.
    pub streaming: bool,
    /// The signature takes `Elicitation`, `Sampling` or `Roots`.
    pub asks_client: bool,
}

/// Last path segment of a type, looking through one reference.
pub fn type_name(ty: &Type) -> Option<(String, bool)> {
    match ty {
        Type::Reference(r) => type_name(&r.elem).map(|(n, _)| (n, true)),
        Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().map(|s| (s.ident.to_string(), false))
        }
        _ => None,
    }
}

/// Is the type `Option<...>` (written with its usual name)?
pub fn is_option(ty: &Type) -> bool {
    matches!(type_name(ty), Some((n, false)) if n == "Option")
}

impl Params {
    /// Classifies the parameters and strips our helper attributes from the signature.
    pub fn parse(sig: &mut syn::Signature, what: &str) -> syn::Result<Self> {
        let mut list = Vec::new();
        let mut streaming = false;
        let mut asks_client = false;
        for input in sig.inputs.iter_mut() {
            let pt = match input {
                FnArg::Receiver(r) => {
                    return Err(syn::Error::new(
                        r.span(),
                        format!(
                            "#[{what}] goes on a free function, not a method with `self`\n\
                             hint: move the function out of the impl block; reach shared data \
                             through `State<T>` or `&Ctx`"
                        ),
                    ));
                }
                FnArg::Typed(pt) => pt,
            };
            let mut arg_opts = None;
            let mut inject = false;
            let mut kept = Vec::new();
            for attr in pt.attrs.drain(..) {
                if attr.path().is_ident("arg") {
                    let tokens = match &attr.meta {
                        syn::Meta::List(l) => l.tokens.clone(),
                        _ => TokenStream::new(),
                    };
                    arg_opts = Some((Options::parse(tokens)?, attr.span()));
                } else if attr.path().is_ident("inject") {
                    inject = true;
                } else {
                    kept.push(attr);
                }
            }
            pt.attrs = kept;

            let name = type_name(&pt.ty);
            let (tname, is_ref) = name.clone().unwrap_or_default();
            if inject || INJECTED.contains(&tname.as_str()) {
                if let Some((_, span)) = arg_opts {
                    return Err(syn::Error::new(
                        span,
                        "#[arg] describes a client argument; this parameter is injected by the runtime",
                    ));
                }
                if inject || STREAMING.contains(&tname.as_str()) {
                    streaming = true;
                }
                if ASKING.contains(&tname.as_str()) {
                    asks_client = true;
                }
                if is_ref {
                    if tname == "Ctx" && !inject {
                        list.push(Param::CtxRef);
                        continue;
                    }
                    if inject && let Type::Reference(r) = &*pt.ty {
                        list.push(Param::InjectedRef { ty: r.elem.clone() });
                        continue;
                    }
                    return Err(syn::Error::new(
                        pt.ty.span(),
                        format!(
                            "only the call context can be borrowed (`&Ctx`)\nhint: take `{tname}` by value"
                        ),
                    ));
                }
                list.push(Param::Injected { ty: pt.ty.clone() });
                continue;
            }
            if tname == "Args" && !is_ref {
                if let Some((_, span)) = arg_opts {
                    return Err(syn::Error::new(
                        span,
                        "`Args<T>` is the whole argument object: describe its fields with doc comments on `T`",
                    ));
                }
                list.push(Param::Whole { ty: pt.ty.clone() });
                continue;
            }
            if let Type::Reference(r) = &*pt.ty {
                return Err(syn::Error::new(
                    r.span(),
                    "a client argument must be an owned type (the arguments are deserialised from JSON)\n\
                     hint: use `String` instead of `&str`, `Vec<T>` instead of `&[T]`",
                ));
            }
            if let Type::ImplTrait(it) = &*pt.ty {
                return Err(syn::Error::new(
                    it.span(),
                    "`impl Trait` cannot be a client argument: name a concrete type",
                ));
            }
            let ident = match &*pt.pat {
                Pat::Ident(pi) => pi.ident.clone(),
                other => {
                    return Err(syn::Error::new(
                        other.span(),
                        "a client argument needs a plain name (it becomes the JSON property)\n\
                         hint: to destructure a whole struct use `Args(x): Args<T>`",
                    ));
                }
            };
            let mut arg = NamedArg {
                wire_name: ident.to_string().trim_start_matches("r#").to_string(),
                ident,
                optional: is_option(&pt.ty),
                ty: pt.ty.clone(),
                description: None,
                default: None,
                header: None,
                flatten: false,
                span: pt.span(),
            };
            if let Some((opts, _)) = arg_opts {
                opts.check_known(
                    "arg",
                    &[
                        "desc",
                        "description",
                        "rename",
                        "default",
                        "header",
                        "flatten",
                    ],
                )?;
                if let Some((true, span)) = opts.flag("flatten")? {
                    if opts.find("rename").is_some()
                        || opts.find("default").is_some()
                        || opts.find("header").is_some()
                        || arg.optional
                    {
                        return Err(syn::Error::new(
                            span,
                            "`#[arg(flatten)]` takes the fields of a struct as they are\nhint: rename, describe or default them on the struct's own fields, and do not make the flattened type an `Option`",
                        ));
                    }
                    arg.flatten = true;
                }
                arg.description = opts
                    .string("desc")?
                    .or(opts.string("description")?)
                    .map(|s| s.value());
                if let Some(r) = opts.string("rename")? {
                    arg.wire_name = r.value();
                }
                arg.default = default_expr(&opts)?;
                // `header` mirrors the argument under its wire name; `header = "Name"` names it.
                arg.header = match opts.string("header") {
                    Ok(Some(name)) => Some(name.value()),
                    _ => opts
                        .flag("header")?
                        .filter(|f| f.0)
                        .map(|_| arg.wire_name.clone()),
                };
            }
            list.push(Param::Named(Box::new(arg)));
        }

        let wholes = list
            .iter()
            .filter(|p| matches!(p, Param::Whole { .. }))
            .count();
        let named = list.iter().any(|p| matches!(p, Param::Named(_)));
        if wholes > 1 || (wholes == 1 && named) {
            return Err(syn::Error::new(
                sig.inputs.span(),
                "`Args<T>` carries the whole argument object, so it must be the only client argument\n\
                 hint: move the other arguments into `T`",
            ));
        }
        Ok(Self {
            list,
            streaming,
            asks_client,
        })
    }

    /// The named (generated-struct) arguments.
    pub fn named(&self) -> impl Iterator<Item = &NamedArg> {
        self.list.iter().filter_map(|p| match p {
            Param::Named(a) => Some(&**a),
            _ => None,
        })
    }

    /// The `Args<T>` parameter, if any.
    pub fn whole(&self) -> Option<&Type> {
        self.list.iter().find_map(|p| match p {
            Param::Whole { ty, .. } => Some(&**ty),
            _ => None,
        })
    }

    /// Statements that build every injected parameter from `__ctx`, returning early with
    /// `on_err(error)` when an extractor fails, and the expressions to call the function with.
    pub fn call_args(
        &self,
        args_var: &Ident,
        on_err: impl Fn(TokenStream) -> TokenStream,
    ) -> (TokenStream, Vec<TokenStream>) {
        let mut stmts = TokenStream::new();
        let mut exprs = Vec::new();
        for (i, p) in self.list.iter().enumerate() {
            match p {
                Param::CtxRef => exprs.push(quote!(&__ctx)),
                Param::Injected { ty, .. } => {
                    let v = format_ident!("__p{}", i);
                    let err = on_err(quote!(e));
                    stmts.extend(quote_spanned! {ty.span()=>
                        let #v: #ty = match <#ty as ::musehub_mcp::FromCtx>::from_ctx(&__ctx) {
                            ::core::result::Result::Ok(v) => v,
                            ::core::result::Result::Err(e) => return #err,
                        };
                    });
                    exprs.push(quote!(#v));
                }
                Param::InjectedRef { ty } => {
                    let v = format_ident!("__p{}", i);
                    let err = on_err(quote!(e));
                    stmts.extend(quote_spanned! {ty.span()=>
                        let #v: #ty = match <#ty as ::musehub_mcp::FromCtx>::from_ctx(&__ctx) {
                            ::core::result::Result::Ok(v) => v,
                            ::core::result::Result::Err(e) => return #err,
                        };
                    });
                    exprs.push(quote!(&#v));
                }
                Param::Whole { .. } => exprs.push(quote!(::musehub_mcp::Args(#args_var))),
                Param::Named(a) => {
                    let id = &a.ident;
                    exprs.push(quote!(#args_var.#id));
                }
            }
        }
        (stmts, exprs)
    }

    /// The generated argument struct's fields, with serde and schemars attributes.
    ///
    /// Each field is read and described through probe functions (see `field_probes`) rather
    /// than through its type's own impls, so a type that cannot be an argument is reported
    /// once, by [`Params::type_checks`], instead of once per derive.
    pub fn struct_fields(&self) -> TokenStream {
        let fields = self.named().map(|a| {
            let id = &a.ident;
            let ty = &a.ty;
            if a.flatten {
                return quote_spanned! {a.span=>
                    #[serde(flatten)]
                    #id: #ty,
                };
            }
            let wire = LitStr::new(&a.wire_name, a.span);
            let desc = a
                .description
                .as_ref()
                .map(|d| quote!(#[schemars(description = #d)]));
            let default = match (&a.default, a.optional) {
                (Some(_), _) => {
                    let f = default_fn_name(&a.ident);
                    let f = f.to_string();
                    quote!(#[serde(default = #f)])
                }
                (None, true) => quote!(#[serde(default)]),
                (None, false) => quote!(),
            };
            let header = a
                .header
                .as_ref()
                .map(|h| quote!(#[schemars(extend("x-mcp-header" = #h))]));
            let de =
                format_ident!("__de_{}", a.ident.to_string().trim_start_matches("r#")).to_string();
            let sc = format_ident!("__schema_{}", a.ident.to_string().trim_start_matches("r#"))
                .to_string();
            quote_spanned! {a.span=>
                #desc
                #default
                #header
                #[serde(rename = #wire, deserialize_with = #de)]
                #[schemars(schema_with = #sc)]
                #id: #ty,
            }
        });
        quote!(#(#fields)*)
    }

    /// For each field, the functions the derives call to read and describe it: they use the
    /// type's own `Deserialize` and `JsonSchema` when it has them, and a stand-in when it does
    /// not (that case is already a compile error from [`Params::type_checks`]).
    pub fn field_probes(&self) -> TokenStream {
        let probes = self.named().filter(|a| !a.flatten).map(|a| {
            let ty = &a.ty;
            let de = format_ident!("__de_{}", a.ident.to_string().trim_start_matches("r#"));
            let sc = format_ident!("__schema_{}", a.ident.to_string().trim_start_matches("r#"));
            quote! {
                #[allow(non_snake_case)]
                fn #de<'de, D: ::musehub_mcp::__private::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<#ty, D::Error> {
                    #[allow(unused_imports)]
                    use ::musehub_mcp::__private::{ArgFallback as _, ArgViaSerde as _};
                    (&&::musehub_mcp::__private::ArgProbe::<#ty>::new()).read(d)
                }
                #[allow(non_snake_case)]
                fn #sc(g: &mut ::musehub_mcp::schemars::SchemaGenerator) -> ::musehub_mcp::schemars::Schema {
                    #[allow(unused_imports)]
                    use ::musehub_mcp::__private::{ArgFallback as _, ArgViaSerde as _};
                    (&&::musehub_mcp::__private::ArgProbe::<#ty>::new()).describe(g)
                }
            }
        });
        quote!(#(#probes)*)
    }

    /// Assertions, spanned on each argument's type, that it can be a client argument: the
    /// failure names the type and lists what else a parameter may be.
    pub fn type_checks(&self) -> TokenStream {
        let checks = self.named().map(|a| {
            let ty = &a.ty;
            quote_spanned! {ty.span()=> ::musehub_mcp::__private::assert_schema_arg::<#ty>(); }
        });
        quote! {
            #[allow(dead_code)]
            fn __check_argument_types() { #(#checks)* }
        }
    }

    /// Functions supplying `#[arg(default = ...)]` values to serde.
    pub fn default_fns(&self) -> TokenStream {
        let fns = self.named().filter_map(|a| {
            let expr = a.default.as_ref()?;
            let f = default_fn_name(&a.ident);
            let ty = &a.ty;
            Some(quote_spanned! {expr.span()=>
                fn #f() -> #ty { ::core::convert::Into::into(#expr) }
            })
        });
        quote!(#(#fns)*)
    }
}

fn default_fn_name(id: &Ident) -> Ident {
    format_ident!("__default_{}", id)
}

/// `default = <expr>`: the expression is written as a string literal or as a plain literal.
fn default_expr(opts: &Options) -> syn::Result<Option<syn::Expr>> {
    // A string literal is kept as a string value; other literals (numbers, bools) as written.
    match opts.string("default") {
        Ok(Some(s)) => Ok(Some(syn::parse_quote!(#s))),
        Ok(None) => Ok(None),
        Err(_) => {
            let tokens: TokenStream = opts.raw_value("default").unwrap_or_default();
            syn::parse2(tokens).map(Some)
        }
    }
}

impl Options {
    /// The raw expression of `key = expr`, for options that take any literal.
    pub fn raw_value(&self, key: &str) -> Option<TokenStream> {
        self.find(key).and_then(|m| match m {
            syn::Meta::NameValue(nv) => {
                let v = &nv.value;
                Some(quote!(#v))
            }
            _ => None,
        })
    }
}
