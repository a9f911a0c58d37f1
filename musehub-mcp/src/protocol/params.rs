//! The typed params of each MCP method the runtime serves, and `params._meta`, decoded from
//! the request's text (borrowing from it) in one pass per request: each struct carries its own
//! `_meta` member, so the hot path needs no `#[serde(flatten)]`, which buffers.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::McpError;

/// `params._meta`, as far as the runtime reads it.
#[derive(Debug, Default, Deserialize)]
pub struct Meta<'a> {
    /// `progressToken`: a string or a number (anything else is ignored).
    #[serde(rename = "progressToken", default)]
    pub progress_token: Option<Value>,
    /// `io.modelcontextprotocol/protocolVersion`: its presence selects the 2026-07-28 era.
    #[serde(
        rename = "io.modelcontextprotocol/protocolVersion",
        borrow,
        default,
        deserialize_with = "present"
    )]
    pub protocol_version: Option<&'a RawValue>,
    /// `io.modelcontextprotocol/clientCapabilities`.
    #[serde(
        rename = "io.modelcontextprotocol/clientCapabilities",
        borrow,
        default,
        deserialize_with = "present"
    )]
    pub client_capabilities: Option<&'a RawValue>,
    /// `io.modelcontextprotocol/logLevel`.
    #[serde(
        rename = "io.modelcontextprotocol/logLevel",
        borrow,
        default,
        deserialize_with = "present"
    )]
    pub log_level: Option<&'a RawValue>,
}

impl Meta<'_> {
    /// True when the request carries a 2026-07-28 envelope.
    pub fn has_envelope(&self) -> bool {
        self.protocol_version.is_some()
    }

    /// The progress token, when it is a string or a number.
    pub fn progress_token(&self) -> Option<&Value> {
        self.progress_token
            .as_ref()
            .filter(|t| t.is_string() || t.is_number())
    }
}

/// A field captured as written, `null` included (an absent field stays `None`).
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// The params of each method the runtime serves, typed.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientRequest<'a> {
    /// `initialize` (handshake era).
    Initialize(InitializeParams),
    /// `ping` (handshake era).
    Ping,
    /// `server/discover` (2026-07-28).
    Discover,
    /// `tools/list`, `resources/list`, `resources/templates/list`, `prompts/list`.
    List(ListKind, ListParams<'a>),
    /// `tools/call`.
    CallTool(CallToolParams<'a>),
    /// `resources/read`.
    ReadResource(ReadResourceParams<'a>),
    /// `resources/subscribe` (handshake era).
    Subscribe(UriParams<'a>),
    /// `resources/unsubscribe` (handshake era).
    Unsubscribe(UriParams<'a>),
    /// `prompts/get`.
    GetPrompt(GetPromptParams<'a>),
    /// `completion/complete`.
    Complete(CompleteParams),
    /// `logging/setLevel` (handshake era).
    SetLogLevel(SetLevelParams),
    /// `subscriptions/listen` (2026-07-28).
    Listen(ListenParams),
    /// A method the runtime does not serve: answered -32601.
    Unknown,
}

/// Which list a `*/list` request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// `tools/list`.
    Tools,
    /// `resources/list`.
    Resources,
    /// `resources/templates/list`.
    Templates,
    /// `prompts/list`.
    Prompts,
}

/// `initialize` params, checked by the negotiation.
#[derive(Debug, Default, Deserialize)]
pub struct InitializeParams {
    /// The revision the client asks for.
    #[serde(rename = "protocolVersion", default)]
    pub protocol_version: Option<Value>,
    /// The client's capabilities.
    #[serde(default)]
    pub capabilities: Option<Value>,
    /// The client's identity.
    #[serde(rename = "clientInfo", default)]
    pub client_info: Option<Value>,
}

/// The params of a list request.
#[derive(Debug, Default, Deserialize)]
pub struct ListParams<'a> {
    /// The opaque cursor of the page asked for.
    #[serde(borrow, default)]
    pub cursor: Option<Cow<'a, str>>,
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<Meta<'a>>,
}

/// Implements reading `_meta` out of a params struct (each has its own `_meta` field, so the
/// hot path needs no `#[serde(flatten)]`, which buffers).
macro_rules! with_meta {
    ($($t:ident),* $(,)?) => {$(
        impl<'a> TakeMeta<'a> for $t<'a> {
            fn take_meta(&mut self) -> Meta<'a> {
                self.meta.take().unwrap_or_default()
            }
        }
    )*};
}

/// Params that carry a `_meta` member.
trait TakeMeta<'a> {
    fn take_meta(&mut self) -> Meta<'a>;
}

/// `tools/call` params.
#[derive(Debug, Deserialize)]
pub struct CallToolParams<'a> {
    /// The tool's name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// The arguments object, still as text.
    #[serde(borrow, default)]
    pub arguments: Option<&'a RawValue>,
    /// `requestState` of an input round (2026-07-28, basic/patterns/mrtr.mdx).
    #[serde(rename = "requestState", borrow, default)]
    pub request_state: Option<Cow<'a, str>>,
    /// `inputResponses`: the client's answers to the last round.
    #[serde(rename = "inputResponses", default)]
    pub input_responses: Option<serde_json::Map<String, Value>>,
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<Meta<'a>>,
}

/// `resources/read` params.
#[derive(Debug, Deserialize)]
pub struct ReadResourceParams<'a> {
    /// The resource URI.
    #[serde(borrow)]
    pub uri: Cow<'a, str>,
    /// `requestState` of an input round.
    #[serde(rename = "requestState", borrow, default)]
    pub request_state: Option<Cow<'a, str>>,
    /// `inputResponses`.
    #[serde(rename = "inputResponses", default)]
    pub input_responses: Option<serde_json::Map<String, Value>>,
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<Meta<'a>>,
}

/// `resources/subscribe` and `resources/unsubscribe` params.
#[derive(Debug, Deserialize)]
pub struct UriParams<'a> {
    /// The resource URI.
    #[serde(borrow)]
    pub uri: Cow<'a, str>,
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<Meta<'a>>,
}

/// `prompts/get` params.
#[derive(Debug, Deserialize)]
pub struct GetPromptParams<'a> {
    /// The prompt's name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Its arguments: strings by name.
    #[serde(default)]
    pub arguments: Option<BTreeMap<String, String>>,
    /// `requestState` of an input round.
    #[serde(rename = "requestState", borrow, default)]
    pub request_state: Option<Cow<'a, str>>,
    /// `inputResponses`.
    #[serde(rename = "inputResponses", default)]
    pub input_responses: Option<serde_json::Map<String, Value>>,
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<Meta<'a>>,
}

/// Params with nothing but `_meta` (ping, discover, unknown methods).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MetaOnly<'a> {
    #[serde(rename = "_meta", borrow, default)]
    pub(crate) meta: Option<Meta<'a>>,
}

/// `completion/complete` params.
#[derive(Debug, Deserialize)]
pub struct CompleteParams {
    /// `ref`: `{type: "ref/prompt", name}` or `{type: "ref/resource", uri}`.
    #[serde(rename = "ref")]
    pub reference: CompletionRef,
    /// The argument being completed.
    pub argument: CompletionArgument,
    /// Values of the other arguments.
    #[serde(default)]
    pub context: Option<CompletionContext>,
}

/// What a completion is for.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
pub enum CompletionRef {
    /// A prompt argument.
    #[serde(rename = "ref/prompt")]
    Prompt {
        /// The prompt.
        name: String,
    },
    /// A resource template variable.
    #[serde(rename = "ref/resource")]
    Resource {
        /// The template (or resource) URI.
        uri: String,
    },
}

/// The argument being completed and what the user typed so far.
#[derive(Debug, Deserialize)]
pub struct CompletionArgument {
    /// The argument's name.
    pub name: String,
    /// The partial value.
    #[serde(default)]
    pub value: String,
}

/// Values already chosen.
#[derive(Debug, Default, Deserialize)]
pub struct CompletionContext {
    /// By argument name.
    #[serde(default)]
    pub arguments: BTreeMap<String, String>,
}

/// `logging/setLevel` params.
#[derive(Debug, Deserialize)]
pub struct SetLevelParams {
    /// The minimum level.
    pub level: crate::protocol::types::LogLevel,
}

/// `subscriptions/listen` params.
#[derive(Debug, Deserialize)]
pub struct ListenParams {
    /// The filter: which notifications the client wants.
    pub notifications: serde_json::Map<String, Value>,
}

with_meta!(
    ListParams,
    CallToolParams,
    ReadResourceParams,
    UriParams,
    GetPromptParams,
    MetaOnly
);

/// Params without `_meta` of their own: the meta is read from the same text separately.
fn plain<'a, T: Deserialize<'a>>(text: &'a str) -> Result<(Meta<'a>, T), serde_json::Error> {
    let p: T = serde_json::from_str(text)?;
    let meta = serde_json::from_str::<MetaOnly<'a>>(text)?.take_meta();
    Ok((meta, p))
}

fn with<'a, T: Deserialize<'a> + TakeMeta<'a>>(
    text: &'a str,
) -> Result<(Meta<'a>, T), serde_json::Error> {
    let mut p: T = serde_json::from_str(text)?;
    Ok((p.take_meta(), p))
}

pub(crate) fn typed_params<'a>(
    method: &str,
    raw: Option<&'a RawValue>,
) -> (Meta<'a>, Result<ClientRequest<'a>, McpError>) {
    use ClientRequest as R;
    let text = raw.map_or("{}", RawValue::get);
    let only_meta = || with::<MetaOnly<'a>>(text).map(|(m, _)| m);
    let decoded: Result<(Meta<'a>, ClientRequest<'a>), serde_json::Error> = match method {
        "tools/call" => with(text).map(|(m, p)| (m, R::CallTool(p))),
        "tools/list" => with(text).map(|(m, p)| (m, R::List(ListKind::Tools, p))),
        "resources/list" => with(text).map(|(m, p)| (m, R::List(ListKind::Resources, p))),
        "resources/templates/list" => with(text).map(|(m, p)| (m, R::List(ListKind::Templates, p))),
        "prompts/list" => with(text).map(|(m, p)| (m, R::List(ListKind::Prompts, p))),
        "resources/read" => with(text).map(|(m, p)| (m, R::ReadResource(p))),
        "resources/subscribe" => with(text).map(|(m, p)| (m, R::Subscribe(p))),
        "resources/unsubscribe" => with(text).map(|(m, p)| (m, R::Unsubscribe(p))),
        "prompts/get" => with(text).map(|(m, p)| (m, R::GetPrompt(p))),
        "initialize" => plain(text).map(|(m, p)| (m, R::Initialize(p))),
        "completion/complete" => plain(text).map(|(m, p)| (m, R::Complete(p))),
        "logging/setLevel" => plain(text).map(|(m, p)| (m, R::SetLogLevel(p))),
        "subscriptions/listen" => plain(text).map(|(m, p)| (m, R::Listen(p))),
        "ping" => only_meta().map(|m| (m, R::Ping)),
        "server/discover" => only_meta().map(|m| (m, R::Discover)),
        _ => only_meta().map(|m| (m, R::Unknown)),
    };
    match decoded {
        Ok((meta, req)) => (meta, Ok(req)),
        Err(e) => {
            let meta = only_meta().unwrap_or_default();
            (meta, Err(params_error(method, &e)))
        }
    }
}

/// -32602 naming what does not fit.
fn params_error(method: &str, e: &serde_json::Error) -> McpError {
    let text = e.to_string();
    // serde's "at line 1 column 42" says nothing useful about a one-line body.
    let text = text
        .split(" at line ")
        .next()
        .unwrap_or(&text)
        .replace("missing field", "missing parameter");
    McpError::invalid_params(format!(
        "invalid params for `{}`: {text}",
        crate::util::truncate(method, 64)
    ))
}
