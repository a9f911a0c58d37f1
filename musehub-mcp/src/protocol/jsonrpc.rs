//! JSON-RPC 2.0 framing: classify incoming messages and encode outgoing ones.
//!
//! MCP restricts JSON-RPC: request ids are strings or numbers, never null
//! (basic/index.mdx, "Requests"), and every message is an object with `"jsonrpc": "2.0"`.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::error::McpError;

/// A request id: a JSON string or number, kept as written so it echoes back byte for byte.
pub type RequestId = Value;

/// An incoming JSON-RPC message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A request expecting a response.
    Request(Request),
    /// A notification (no id, no response).
    Notification(Notification),
    /// A client's answer to a request the server sent (elicitation, ping).
    Response {
        /// The id of the server's request.
        id: RequestId,
        /// `Ok(result)` or `Err(error object)`.
        outcome: Result<Value, Value>,
    },
}

/// A request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Its id.
    pub id: RequestId,
    /// Its method.
    pub method: String,
    /// Its params, if any (always an object in MCP).
    pub params: Option<Map<String, Value>>,
}

/// A notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Its method.
    pub method: String,
    /// Its params, if any.
    pub params: Option<Map<String, Value>>,
}

/// Why a message could not be classified: the error to send, and the id to send it with
/// when one could be read (JSON-RPC says `null` otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// The request id, when it was readable.
    pub id: Option<RequestId>,
    /// The error.
    pub error: McpError,
}

fn valid_id(id: &Value, max_id_bytes: usize) -> bool {
    match id {
        Value::String(s) => s.len() <= max_id_bytes,
        Value::Number(_) => true,
        _ => false,
    }
}

/// True when `bytes` nest arrays or objects deeper than `max` (checked before parsing, in one
/// pass, so a hostile body cannot make the parser recurse).
pub fn nesting_exceeds(bytes: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Classifies one decoded JSON value as a JSON-RPC message.
///
/// String ids longer than `max_id_bytes` are refused: every answer echoes its id, and an
/// unbounded echo of client text is a gift to an attacker.
pub fn classify(value: Value, max_id_bytes: usize) -> Result<Message, Rejected> {
    let Value::Object(mut obj) = value else {
        return Err(Rejected {
            id: None,
            error: McpError::invalid_request("a JSON-RPC message must be an object"),
        });
    };
    let id = obj.remove("id");
    let readable_id = id.clone().filter(|i| valid_id(i, max_id_bytes));
    let reject = |msg: &str| Rejected {
        id: readable_id.clone(),
        error: McpError::invalid_request(msg.to_string()),
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(reject("`jsonrpc` must be \"2.0\""));
    }
    let params = match obj.remove("params") {
        None => None,
        Some(Value::Object(m)) => Some(m),
        Some(Value::Null) => None,
        Some(_) => return Err(reject("`params` must be an object")),
    };
    match obj.remove("method") {
        Some(Value::String(method)) => match id {
            None => Ok(Message::Notification(Notification { method, params })),
            Some(id) if valid_id(&id, max_id_bytes) => {
                Ok(Message::Request(Request { id, method, params }))
            }
            Some(_) => Err(reject(&format!(
                "a request `id` must be a number or a string of at most {max_id_bytes} bytes"
            ))),
        },
        Some(_) => Err(reject("`method` must be a string")),
        None => {
            let Some(id) = id else {
                return Err(reject(
                    "a message needs a `method`, or an `id` with `result` or `error`",
                ));
            };
            let outcome = match (obj.remove("result"), obj.remove("error")) {
                (Some(r), None) => Ok(r),
                (None, Some(e)) if e.is_object() => Err(e),
                _ => {
                    return Err(reject(
                        "a response needs exactly one of `result` and `error`",
                    ));
                }
            };
            Ok(Message::Response { id, outcome })
        }
    }
}

/// The bytes of a result or error response.
pub fn encode_response(id: &RequestId, outcome: &Result<ResultBody, McpError>) -> Bytes {
    let mut out = Vec::with_capacity(128);
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    write_json(&mut out, id);
    match outcome {
        Ok(body) => {
            out.extend_from_slice(b",\"result\":");
            match body {
                ResultBody::Value(v) => write_json(&mut out, v),
                ResultBody::Raw(b) => out.extend_from_slice(b),
            }
        }
        Err(e) => {
            out.extend_from_slice(b",\"error\":");
            write_json(&mut out, &e.to_value());
        }
    }
    out.push(b'}');
    Bytes::from(out)
}

/// An error response whose id could not be read (`"id": null`, per JSON-RPC 2.0 §5).
pub fn encode_error_without_id(error: &McpError) -> Bytes {
    encode_response(&Value::Null, &Err(error.clone()))
}

/// The bytes of a notification or a server-to-client request.
pub fn encode_message(id: Option<&RequestId>, method: &str, params: &Value) -> Bytes {
    let mut obj = Map::new();
    obj.insert("jsonrpc".into(), "2.0".into());
    if let Some(id) = id {
        obj.insert("id".into(), id.clone());
    }
    obj.insert("method".into(), method.into());
    obj.insert("params".into(), params.clone());
    let mut out = Vec::with_capacity(96);
    write_json(&mut out, &Value::Object(obj));
    Bytes::from(out)
}

fn write_json(out: &mut Vec<u8>, v: &Value) {
    // Writing a `Value` into a Vec cannot fail: every map key is a string.
    if serde_json::to_writer(&mut *out, v).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// A successful result: a JSON value, or bytes serialised ahead of time (list payloads).
#[derive(Debug, Clone)]
pub enum ResultBody {
    /// Serialised when the response is written.
    Value(Value),
    /// Already-serialised JSON.
    Raw(Bytes),
}

impl From<Value> for ResultBody {
    fn from(v: Value) -> Self {
        ResultBody::Value(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_each_kind() {
        assert!(matches!(
            classify(json!({"jsonrpc":"2.0","id":1,"method":"ping"}), 256),
            Ok(Message::Request(_))
        ));
        assert!(matches!(
            classify(
                json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
                256
            ),
            Ok(Message::Notification(_))
        ));
        assert!(matches!(
            classify(json!({"jsonrpc":"2.0","id":"a","result":{}}), 256),
            Ok(Message::Response { outcome: Ok(_), .. })
        ));
    }

    #[test]
    fn rejects_with_the_readable_id() {
        let r = classify(json!({"jsonrpc":"1.0","id":7,"method":"ping"}), 256).unwrap_err();
        assert_eq!(r.id, Some(json!(7)));
        assert_eq!(r.error.code, -32600);
        let r = classify(json!({"jsonrpc":"2.0","id":null,"method":"ping"}), 256).unwrap_err();
        assert_eq!(r.id, None);
        let r = classify(json!([1]), 256).unwrap_err();
        assert_eq!(r.error.code, -32600);
        let r = classify(
            json!({"jsonrpc":"2.0","id":1,"method":"x","params":[1]}),
            256,
        )
        .unwrap_err();
        assert_eq!(r.error.code, -32600);
    }

    #[test]
    fn nesting_is_measured_outside_strings() {
        assert!(!nesting_exceeds(br#"{"a":[[1]]}"#, 3));
        assert!(nesting_exceeds(br#"{"a":[[[1]]]}"#, 3));
        assert!(!nesting_exceeds(br#"{"a":"[[[[[[\"{{{"}"#, 1));
        assert!(nesting_exceeds(&b"[".repeat(100_000), 64));
    }

    #[test]
    fn encodes_raw_results_verbatim() {
        let b = encode_response(
            &json!(3),
            &Ok(ResultBody::Raw(Bytes::from_static(b"{\"tools\":[]}"))),
        );
        assert_eq!(&b[..], br#"{"jsonrpc":"2.0","id":3,"result":{"tools":[]}}"#);
        let b = encode_response(&json!("x"), &Err(McpError::method_not_found("nope")));
        assert_eq!(
            &b[..],
            br#"{"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"Method not found: nope"}}"#
        );
    }
}
