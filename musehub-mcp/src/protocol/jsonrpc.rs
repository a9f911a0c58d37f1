//! JSON-RPC 2.0 framing of what the server sends: responses, errors, notifications and
//! server-to-client requests, written straight into bytes (decoding is in
//! [`super::request`]). Also the nesting check that runs before any parse.

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::McpError;
pub use crate::protocol::request::RequestId;

/// A response being written: `{"jsonrpc":"2.0","id":…,"result":` then the result, serialised
/// in place, then `}`. The result goes from its typed value to these bytes with no JSON tree
/// in between.
pub struct ResponseBuf(Vec<u8>);

impl ResponseBuf {
    /// Starts the success response to `id`.
    pub fn result(id: &RequestId, capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity + 48);
        out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
        write_json(&mut out, id);
        out.extend_from_slice(b",\"result\":");
        Self(out)
    }

    /// Where the result is written.
    pub fn body(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }

    /// Closes the response.
    pub fn finish(mut self) -> Bytes {
        self.0.push(b'}');
        Bytes::from(self.0)
    }
}

/// The success response to `id` whose result is already serialised (`result` is JSON).
pub fn encode_result(id: &RequestId, result: &[u8]) -> Bytes {
    let mut b = ResponseBuf::result(id, result.len());
    b.body().extend_from_slice(result);
    b.finish()
}

/// The success response to `id` with a result to serialise.
pub fn encode_value<T: Serialize + ?Sized>(id: &RequestId, result: &T) -> Bytes {
    let mut b = ResponseBuf::result(id, 64);
    if serde_json::to_writer(b.body(), result).is_err() {
        return encode_error(
            Some(id),
            &McpError::internal("the result could not be serialised"),
        );
    }
    b.finish()
}

/// An error response; `id` is `None` when it could not be read (`"id": null`, JSON-RPC 2.0
/// §5).
pub fn encode_error(id: Option<&RequestId>, error: &McpError) -> Bytes {
    let mut out = Vec::with_capacity(96 + error.message.len());
    out.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    match id {
        Some(id) => write_json(&mut out, id),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"error\":");
    write_json(&mut out, &error.to_value());
    out.push(b'}');
    Bytes::from(out)
}

/// The bytes of a notification (`id` `None`) or a server-to-client request.
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

/// Reads a complete response back into its outcome (in-process callers and tests).
pub fn parse_response(bytes: &[u8]) -> Result<Value, McpError> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| McpError::internal(e.to_string()))?;
    if let Some(e) = v.get("error") {
        return Err(McpError {
            code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            data: e.get("data").cloned(),
        });
    }
    Ok(v.get("result").cloned().unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nesting_is_measured_outside_strings() {
        assert!(!nesting_exceeds(br#"{"a":[[1]]}"#, 3));
        assert!(nesting_exceeds(br#"{"a":[[[1]]]}"#, 3));
        assert!(!nesting_exceeds(br#"{"a":"[[[[[[\"{{{"}"#, 1));
        assert!(nesting_exceeds(&b"[".repeat(100_000), 64));
    }

    #[test]
    fn responses_are_written_in_place() {
        assert_eq!(
            &encode_result(&json!(3), b"{\"tools\":[]}")[..],
            br#"{"jsonrpc":"2.0","id":3,"result":{"tools":[]}}"#
        );
        assert_eq!(
            &encode_error(Some(&json!("x")), &McpError::method_not_found("nope"))[..],
            br#"{"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"Method not found: nope"}}"#
        );
        assert_eq!(
            &encode_error(None, &McpError::parse_error("bad"))[..],
            br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}}"#
        );
        let b = encode_value(&json!(1), &json!({"a": [1]}));
        assert_eq!(parse_response(&b), Ok(json!({"a": [1]})));
        assert_eq!(
            parse_response(&encode_error(None, &McpError::internal("x")))
                .unwrap_err()
                .code,
            -32603
        );
    }
}
