//! Support for the code the macros generate: reading arguments, converting error values of
//! any type, and checks that fail at compile time with a hint. Not a public API (reached
//! through `musehub_mcp::__private`).

use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::{McpError, ToolError};
use crate::handler::into::{Args, OutputShape, ToolOutput};

/// A tool's error value on its way to a [`ToolError`], for the generated code. Method
/// resolution picks the most specific conversion at the call site: anything `Into<ToolError>`
/// (a `ToolError`, any `std::error::Error`) keeps its code; any other `Display` type
/// (`anyhow::Error`, `String`, `&str`) becomes code `error` with its text (`{:#}`, so an
/// `anyhow` chain shows its causes). Call it as `(&&ErrorValue::new(e)).tool_error()`.
#[doc(hidden)]
pub struct ErrorValue<E>(std::cell::Cell<Option<E>>);

impl<E> ErrorValue<E> {
    /// Wraps the error.
    pub fn new(e: E) -> Self {
        Self(std::cell::Cell::new(Some(e)))
    }
}

/// See [`ErrorValue`]: the conversion for `Into<ToolError>` types.
#[doc(hidden)]
pub trait ErrorViaInto {
    /// The error as a `ToolError`.
    fn tool_error(&self) -> ToolError;
}

impl<E: Into<ToolError>> ErrorViaInto for &ErrorValue<E> {
    fn tool_error(&self) -> ToolError {
        match self.0.take() {
            Some(e) => e.into(),
            None => ToolError::internal("the error was already taken"),
        }
    }
}

/// See [`ErrorValue`]: the conversion for any `Display` type.
#[doc(hidden)]
pub trait ErrorViaDisplay {
    /// The error as a `ToolError`.
    fn tool_error(&self) -> ToolError;
}

impl<E: std::fmt::Display> ErrorViaDisplay for ErrorValue<E> {
    fn tool_error(&self) -> ToolError {
        match self.0.take() {
            Some(e) => ToolError::new("error", format!("{e:#}")),
            None => ToolError::internal("the error was already taken"),
        }
    }
}

/// See [`ErrorValue`]: a resource's or prompt's error becomes a JSON-RPC error. Most
/// specific first: `Into<McpError>` (an `McpError`, a `ToolError` with its code mapping),
/// then `Into<ToolError>`, then any `Display` type. Called as
/// `(&&&ErrorValue::new(e)).protocol_error()`.
#[doc(hidden)]
pub trait ProtocolViaMcp {
    /// The error as an `McpError`.
    fn protocol_error(&self) -> McpError;
}

impl<E: Into<McpError>> ProtocolViaMcp for &&ErrorValue<E> {
    fn protocol_error(&self) -> McpError {
        match self.0.take() {
            Some(e) => e.into(),
            None => McpError::internal("the error was already taken"),
        }
    }
}

/// See [`ProtocolViaMcp`].
#[doc(hidden)]
pub trait ProtocolViaTool {
    /// The error as an `McpError`.
    fn protocol_error(&self) -> McpError;
}

impl<E: Into<ToolError>> ProtocolViaTool for &ErrorValue<E> {
    fn protocol_error(&self) -> McpError {
        match self.0.take() {
            Some(e) => e.into().into(),
            None => McpError::internal("the error was already taken"),
        }
    }
}

/// See [`ProtocolViaMcp`].
#[doc(hidden)]
pub trait ProtocolViaDisplay {
    /// The error as an `McpError`.
    fn protocol_error(&self) -> McpError;
}

impl<E: std::fmt::Display> ProtocolViaDisplay for ErrorValue<E> {
    fn protocol_error(&self) -> McpError {
        match self.0.take() {
            Some(e) => McpError::internal(format!("{e:#}")),
            None => McpError::internal("the error was already taken"),
        }
    }
}

/// Deserialises a tool's arguments from the request's text (absent: `{}`); a failure is an
/// `isError` result naming the field.
pub fn parse_arguments<'a, T: serde::Deserialize<'a>>(
    raw: Option<&'a RawValue>,
) -> Result<T, ToolOutput> {
    crate::protocol::request::arguments(raw).map_err(|msg| {
        ToolOutput::from_result(
            ToolError::invalid_argument(msg).into_result(),
            OutputShape::Object,
        )
    })
}

/// Reads one template variable, parsed with `FromStr`.
pub fn template_var<T: FromStr>(vars: &HashMap<String, String>, name: &str) -> Result<T, McpError> {
    let raw = vars
        .get(name)
        .ok_or_else(|| McpError::invalid_params(format!("missing template variable `{name}`")))?;
    raw.parse().map_err(|_| {
        McpError::invalid_params(format!("template variable `{name}` has an invalid value"))
    })
}

/// A prompt argument type: `String` (required) or `Option<String>`.
pub trait PromptArg: Sized {
    /// Takes the argument out of the map.
    fn take(args: &mut HashMap<String, String>, name: &str) -> Result<Self, McpError>;
}

impl PromptArg for String {
    fn take(args: &mut HashMap<String, String>, name: &str) -> Result<Self, McpError> {
        args.remove(name)
            .ok_or_else(|| McpError::invalid_params(format!("missing required argument `{name}`")))
    }
}

impl PromptArg for Option<String> {
    fn take(args: &mut HashMap<String, String>, name: &str) -> Result<Self, McpError> {
        Ok(args.remove(name))
    }
}

/// A type that can be a client argument: deserialisable and with a JSON Schema.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is neither a client argument type nor an injected type",
    label = "not usable as a tool parameter",
    note = "a client argument derives `Deserialize` and `JsonSchema` (use `#[musehub_mcp::schema]` on your type)",
    note = "injected parameters are `&Ctx`, `State<T>`, `Progress`, `Elicitation`, `Sampling`, `Roots`, `Logger`, `Caller`, `CancellationToken`, or a type marked `#[inject]` that implements `FromCtx`",
    note = "an injected type imported under another name (`use musehub_mcp::Ctx as C`) needs `#[inject]` too: the macro sees names, not types"
)]
pub trait SchemaArg {}
// `do_not_recommend`: a type lacking both impls is one error about the argument, not one per
// missing impl.
#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned + JsonSchema> SchemaArg for T {}

/// How the generated argument struct reads and describes one argument of type `T`: through
/// `T`'s own `Deserialize` and `JsonSchema` ([`ArgViaSerde`]) when it has them, and through a
/// stand-in ([`ArgFallback`]) when it does not. The stand-in only keeps the derives from
/// adding their own errors: a type without the impls is already refused, once and with a
/// hint, by [`assert_schema_arg`]. Called as `(&&ArgProbe::<T>::new()).read(d)`.
#[doc(hidden)]
pub struct ArgProbe<T>(std::marker::PhantomData<T>);

impl<T> ArgProbe<T> {
    /// The probe of `T`.
    pub fn new() -> Self {
        Self(std::marker::PhantomData)
    }
}

impl<T> Default for ArgProbe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// See [`ArgProbe`]: an argument type with its own impls.
#[doc(hidden)]
pub trait ArgViaSerde<T> {
    /// Reads the argument.
    fn read<'de, D: serde::Deserializer<'de>>(&self, d: D) -> Result<T, D::Error>;
    /// Its schema.
    fn describe(&self, g: &mut SchemaGenerator) -> Schema;
}

impl<T: DeserializeOwned + JsonSchema> ArgViaSerde<T> for &ArgProbe<T> {
    fn read<'de, D: serde::Deserializer<'de>>(&self, d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }
    fn describe(&self, g: &mut SchemaGenerator) -> Schema {
        g.subschema_for::<T>()
    }
}

/// See [`ArgProbe`]: the stand-in for a type that cannot be an argument.
#[doc(hidden)]
pub trait ArgFallback<T> {
    /// Always an error.
    fn read<'de, D: serde::Deserializer<'de>>(&self, d: D) -> Result<T, D::Error>;
    /// An empty schema.
    fn describe(&self, g: &mut SchemaGenerator) -> Schema;
}

impl<T> ArgFallback<T> for ArgProbe<T> {
    fn read<'de, D: serde::Deserializer<'de>>(&self, _d: D) -> Result<T, D::Error> {
        Err(serde::de::Error::custom(
            "this argument type cannot be read",
        ))
    }
    fn describe(&self, _g: &mut SchemaGenerator) -> Schema {
        Schema::default()
    }
}

/// Compile-time check that a parameter type can be a client argument (`SchemaArg`).
pub fn assert_schema_arg<T: SchemaArg + ?Sized>() {}

/// Names the argument type behind `Args<T>` for the generated code.
pub trait WholeArgs {
    /// `T`.
    type Inner: DeserializeOwned + JsonSchema;
}

impl<T: DeserializeOwned + JsonSchema> WholeArgs for Args<T> {
    type Inner = T;
}

/// Marks futures that can move between threads; its message explains how to fix one that can't.
#[diagnostic::on_unimplemented(
    message = "the future returned by this async function is not `Send`, so the server cannot run it on its thread pool",
    label = "this call's future is not `Send`",
    note = "a value that is not `Send` (an `Rc`, a `RefCell` borrow, a `std::sync::MutexGuard`) is held across an `.await`",
    note = "drop it before the `.await`, or use `Arc` / `tokio::sync::Mutex` instead"
)]
pub trait SendFuture {}
impl<F: Send> SendFuture for F {}

/// Passes a future through, failing to compile (with a hint) when it is not `Send`.
pub fn require_send<F: Future + SendFuture>(f: F) -> F {
    f
}

#[cfg(test)]
// The borrows pick the conversion (autoref specialisation): they are the point here.
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    #[test]
    fn errors_keep_their_code_or_become_their_text() {
        struct Chain;
        impl std::fmt::Display for Chain {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                if f.alternate() {
                    write!(f, "outer: inner")
                } else {
                    write!(f, "outer")
                }
            }
        }
        let e = (&&ErrorValue::new(ToolError::not_found("no"))).tool_error();
        assert_eq!(e.code, "not_found");
        let e = (&&ErrorValue::new(std::io::Error::other("disk"))).tool_error();
        assert_eq!((e.code.as_ref(), e.message.as_str()), ("error", "disk"));
        let e = (&&ErrorValue::new(Chain)).tool_error();
        assert_eq!(e.message, "outer: inner");
        let e = (&&ErrorValue::new("plain text")).tool_error();
        assert_eq!(e.message, "plain text");
    }

    #[test]
    fn protocol_errors_keep_their_code() {
        let e = (&&&ErrorValue::new(McpError::invalid_params("bad"))).protocol_error();
        assert_eq!(e.code, -32602);
        let e = (&&&ErrorValue::new(ToolError::not_found("gone"))).protocol_error();
        assert_eq!(e.code, crate::error::codes::RESOURCE_NOT_FOUND);
        let e = (&&&ErrorValue::new(std::io::Error::other("disk"))).protocol_error();
        assert_eq!((e.code, e.message.as_str()), (-32603, "disk"));
        let e = (&&&ErrorValue::new("text")).protocol_error();
        assert_eq!(e.message, "text");
    }
}
