//! Decoding a client message once, at the edge: the JSON-RPC envelope and, for a request,
//! the typed params of its MCP method, borrowing from the body wherever it can. Tool
//! arguments stay a [`RawValue`] slice of the body until the tool's own parameter struct is
//! deserialised from it, so no `serde_json::Value` tree is built on the way to a tool.
//!
//! MCP restricts JSON-RPC (basic/index.mdx, "Requests"): ids are strings or numbers, never
//! null; params are objects. A message that breaks the envelope rules is [`Rejected`] here
//! (-32600, or -32700 for text that is not JSON); a request whose params do not fit its method
//! decodes with `params: Err(..)` instead, so that the error (-32602) is answered with its id
//! once the request has been routed.

// A decoded request lives on the stack for the length of one dispatch and is never stored:
// boxing its parts (or the rejection) to shrink the enums would add allocations to every
// request, which is what decoding this way avoids.
#![allow(clippy::large_enum_variant, clippy::result_large_err)]

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

pub use super::params::*;
use super::params::{MetaOnly, present, typed_params};
use crate::error::McpError;

/// A request id: a JSON string or number, kept as written so it echoes back as sent.
pub type RequestId = Value;

/// One decoded message.
#[derive(Debug)]
pub enum Incoming<'a> {
    /// A request expecting a response.
    Request(Request<'a>),
    /// A notification (no id, no response).
    Notification(Notification<'a>),
    /// A client's answer to a request the server sent (elicitation, sampling, roots, ping).
    Response(Response),
}

/// A request: its id, method, `_meta` and typed params.
#[derive(Debug)]
pub struct Request<'a> {
    /// The id, echoed in the response.
    pub id: RequestId,
    /// The method as written.
    pub method: Cow<'a, str>,
    /// `params._meta`: the progress token and, in the 2026-07-28 era, the envelope.
    pub meta: Meta<'a>,
    /// The method's params, or why they do not fit it (-32602).
    pub params: Result<ClientRequest<'a>, McpError>,
}

/// A notification.
#[derive(Debug)]
pub struct Notification<'a> {
    /// Its method.
    pub method: Cow<'a, str>,
    /// Its raw params.
    pub params: Option<&'a RawValue>,
}

/// A client's answer to a server-to-client request.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The id of the server's request.
    pub id: RequestId,
    /// `Ok(result)` or `Err(error object)`.
    pub outcome: Result<Value, Value>,
}

/// Why a message was refused before it could be routed: the error, and the id to answer it
/// with when one could be read (JSON-RPC says `null` otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// The request id, when it was readable.
    pub id: Option<RequestId>,
    /// The error.
    pub error: McpError,
}

/// The wire shape of a message: every member captured as written, to be checked in order.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    params: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    error: Option<&'a RawValue>,
}

/// A body: one message or a batch (an array, each item decoded on its own).
#[derive(Debug)]
pub enum Body<'a> {
    /// One message.
    Single(Incoming<'a>),
    /// A batch.
    Batch(Vec<Result<Incoming<'a>, Rejected>>),
}

/// Decodes a body: a message, or (when `batches` is set and the text is an array) a batch.
pub fn decode_body(text: &str, max_id_bytes: usize) -> Result<Body<'_>, Rejected> {
    if text.trim_start().starts_with('[') {
        let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| parse_error(&e))?;
        return Ok(Body::Batch(
            items
                .into_iter()
                .map(|raw| decode(raw.get(), max_id_bytes))
                .collect(),
        ));
    }
    decode(text, max_id_bytes).map(Body::Single)
}

fn parse_error(e: &serde_json::Error) -> Rejected {
    Rejected {
        id: None,
        error: if e.is_syntax() || e.is_eof() {
            McpError::parse_error(format!("Parse error: {e}"))
        } else {
            McpError::invalid_request("a JSON-RPC message must be an object")
        },
    }
}

fn valid_id(id: &Value, max_id_bytes: usize) -> bool {
    match id {
        Value::String(s) => s.len() <= max_id_bytes,
        Value::Number(_) => true,
        _ => false,
    }
}

/// Decodes one message. String ids longer than `max_id_bytes` are refused: every answer
/// echoes its id, and an unbounded echo of client text is a gift to an attacker.
pub fn decode(text: &str, max_id_bytes: usize) -> Result<Incoming<'_>, Rejected> {
    let wire: Wire<'_> = serde_json::from_str(text).map_err(|e| parse_error(&e))?;
    let id: Option<Value> = match wire.id {
        None => None,
        Some(raw) => Some(serde_json::from_str(raw.get()).map_err(|e| parse_error(&e))?),
    };
    let readable_id = id.clone().filter(|i| valid_id(i, max_id_bytes));
    let reject = |msg: String| Rejected {
        id: readable_id.clone(),
        error: McpError::invalid_request(msg),
    };
    if wire.jsonrpc.map(RawValue::get) != Some("\"2.0\"") {
        return Err(reject("`jsonrpc` must be \"2.0\"".into()));
    }
    // `params: null` is treated as absent; anything else but an object is refused.
    let params = match wire.params {
        Some(p) if p.get() == "null" => None,
        Some(p) if p.get().starts_with('{') => Some(p),
        Some(_) => return Err(reject("`params` must be an object".into())),
        None => None,
    };
    let Some(method) = wire.method else {
        let Some(id) = id else {
            return Err(reject(
                "a message needs a `method`, or an `id` with `result` or `error`".into(),
            ));
        };
        let outcome = match (wire.result, wire.error) {
            (Some(r), None) => Ok(to_value(r)?),
            (None, Some(e)) if e.get().starts_with('{') => Err(to_value(e)?),
            _ => {
                return Err(reject(
                    "a response needs exactly one of `result` and `error`".into(),
                ));
            }
        };
        return Ok(Incoming::Response(Response { id, outcome }));
    };
    // Borrowed unless the name holds escapes (then it is decoded into its own string).
    let method: Cow<'_, str> = match serde_json::from_str::<&str>(method.get()) {
        Ok(m) => Cow::Borrowed(m),
        Err(_) => Cow::Owned(serde_json::from_str::<String>(method.get()).map_err(|e| {
            // Text serde cannot decode (a lone surrogate escape) is not JSON the server reads.
            if e.is_syntax() {
                parse_error(&e)
            } else {
                reject("`method` must be a string".into())
            }
        })?),
    };
    let Some(id) = id else {
        return Ok(Incoming::Notification(Notification { method, params }));
    };
    if !valid_id(&id, max_id_bytes) {
        return Err(reject(format!(
            "a request `id` must be a number or a string of at most {max_id_bytes} bytes"
        )));
    }
    let (meta, params) = typed_params(&method, params);
    Ok(Incoming::Request(Request {
        id,
        method,
        meta,
        params,
    }))
}

fn to_value(raw: &RawValue) -> Result<Value, Rejected> {
    serde_json::from_str(raw.get()).map_err(|e| parse_error(&e))
}

/// True when a notification carries a 2026-07-28 envelope in its `_meta`.
pub fn notification_has_envelope(n: &Notification<'_>) -> bool {
    n.params
        .and_then(|p| serde_json::from_str::<MetaOnly<'_>>(p.get()).ok())
        .and_then(|m| m.meta)
        .is_some_and(|m| m.has_envelope())
}

/// Deserialises an arguments object (absent: `{}`) into `T`; a failure names the field.
pub fn arguments<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>) -> Result<T, String> {
    let text = raw.map_or("{}", RawValue::get);
    if text == "null" {
        return arguments(None);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.inner().to_string();
        let inner = inner
            .split(" at line ")
            .next()
            .unwrap_or(&inner)
            .replace("missing field", "missing required argument")
            .replace("unknown field", "unknown argument");
        if path == "." {
            format!("invalid arguments: {inner}")
        } else {
            format!("invalid argument `{path}`: {inner}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(text: &str) -> Request<'_> {
        match decode(text, 256).expect("decodes") {
            Incoming::Request(r) => r,
            other => panic!("not a request: {other:?}"),
        }
    }

    #[test]
    fn a_tool_call_borrows_its_name_and_arguments_from_the_body() {
        let body = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"},"_meta":{"progressToken":"p1"}}}"#;
        let r = request(body);
        assert_eq!(r.id, json!(7));
        assert!(matches!(r.method, Cow::Borrowed("tools/call")));
        assert_eq!(r.meta.progress_token(), Some(&json!("p1")));
        assert!(!r.meta.has_envelope());
        let Ok(ClientRequest::CallTool(p)) = r.params else {
            panic!("typed params")
        };
        assert!(matches!(p.name, Cow::Borrowed("echo")));
        assert_eq!(p.arguments.map(RawValue::get), Some(r#"{"message":"hi"}"#));
        // The arguments are a slice of the body, not a copy.
        let args = p.arguments.expect("arguments").get();
        let start = body.find(args).expect("inside the body");
        assert_eq!(args.as_ptr(), body[start..].as_ptr());
    }

    #[test]
    fn the_envelope_is_read_even_when_the_params_do_not_fit() {
        let r = request(
            r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":42,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
        );
        assert!(r.meta.has_envelope());
        let e = r.params.expect_err("name is not a string");
        assert_eq!(e.code, -32602);
        assert!(e.message.contains("tools/call"), "{}", e.message);
    }

    #[test]
    fn envelope_errors_keep_the_readable_id() {
        let r = decode(r#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#, 256).unwrap_err();
        assert_eq!((r.id, r.error.code), (Some(json!(7)), -32600));
        let r = decode(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, 256).unwrap_err();
        assert_eq!((r.id, r.error.code), (None, -32600));
        let r = decode(r#"{"jsonrpc":"2.0","id":1,"method":"x","params":[1]}"#, 256).unwrap_err();
        assert_eq!(r.error.code, -32600);
        let r = decode(r#"{"jsonrpc":"2.0","id":1,"method":7}"#, 256).unwrap_err();
        assert_eq!(r.error.code, -32600);
        assert_eq!(decode("[1]", 256).unwrap_err().error.code, -32600);
        assert_eq!(decode("{not json", 256).unwrap_err().error.code, -32700);
        let long = format!(
            r#"{{"jsonrpc":"2.0","id":"{}","method":"ping"}}"#,
            "x".repeat(300)
        );
        let r = decode(&long, 256).unwrap_err();
        assert_eq!((r.id, r.error.code), (None, -32600));
    }

    #[test]
    fn notifications_responses_and_batches() {
        assert!(matches!(
            decode(
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
                256
            ),
            Ok(Incoming::Notification(_))
        ));
        match decode(
            r#"{"jsonrpc":"2.0","id":"s1","result":{"action":"accept"}}"#,
            256,
        ) {
            Ok(Incoming::Response(r)) => assert_eq!(r.outcome, Ok(json!({"action": "accept"}))),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            decode(r#"{"jsonrpc":"2.0","id":1,"result":{},"error":{}}"#, 256)
                .unwrap_err()
                .error
                .code,
            -32600
        );
        let Ok(Body::Batch(items)) =
            decode_body(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}, 5]"#, 256)
        else {
            panic!("a batch")
        };
        assert!(items[0].is_ok());
        assert_eq!(items[1].as_ref().unwrap_err().error.code, -32600);
    }

    #[test]
    fn unknown_methods_decode_and_list_params_are_typed() {
        let r = request(r#"{"jsonrpc":"2.0","id":1,"method":"nope/nope","params":{"x":1}}"#);
        assert!(matches!(r.params, Ok(ClientRequest::Unknown)));
        let r = request(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":3}}"#);
        assert_eq!(r.params.unwrap_err().code, -32602);
        let r = request(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
        assert!(matches!(
            r.params,
            Ok(ClientRequest::List(
                ListKind::Tools,
                ListParams { cursor: None, .. }
            ))
        ));
    }

    #[test]
    fn arguments_name_the_field_at_fault() {
        #[derive(Deserialize, Debug)]
        struct Add {
            #[allow(dead_code)]
            a: i64,
            #[allow(dead_code)]
            b: i64,
        }
        let raw: &RawValue = serde_json::from_str(r#"{"a":1,"b":"2"}"#).unwrap();
        let e = arguments::<Add>(Some(raw)).unwrap_err();
        assert!(e.starts_with("invalid argument `b`"), "{e}");
        let e = arguments::<Add>(None).unwrap_err();
        assert!(e.contains("missing required argument `a`"), "{e}");
    }
}
