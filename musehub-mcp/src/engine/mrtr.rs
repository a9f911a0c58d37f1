//! Multi round-trip requests (basic/patterns/mrtr.mdx of 2026-07-28): input requests collected
//! while a call runs, and the authenticated `requestState` that lets any instance resume it.
//!
//! The framework re-runs the same handler on every round. The state carries every answer the
//! client has given so far, so a tool that asks three questions in sequence sees the first two
//! answered on the third round even though the client only resends the latest. The state is
//! sealed with HMAC-SHA256 and bound to the method, the item name, a digest of the arguments,
//! the caller and an expiry (server requirements 4 and 5 of the spec's basic workflow), so a
//! client can neither forge it nor replay it into another call.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The secret that seals request states.
#[derive(Clone)]
pub(crate) struct StateKey([u8; 32]);

impl StateKey {
    /// A key derived from configured secret text (shared by every instance), or a random one.
    pub fn new(secret: Option<&str>) -> Self {
        match secret {
            Some(s) => Self(Sha256::digest(s.as_bytes()).into()),
            None => {
                use rand::RngCore;
                let mut k = [0u8; 32];
                rand::rng().fill_bytes(&mut k);
                Self(k)
            }
        }
    }

    /// The raw key, to share it with other instances.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// A key shared by another instance; `None` unless it is 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    fn mac(&self, data: &[u8]) -> [u8; 32] {
        // HMAC accepts keys of any length; a 32-byte key cannot be refused.
        let mut m =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        m.update(data);
        m.finalize().into_bytes().into()
    }
}

/// What a request state is bound to.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    /// `tools/call`, `prompts/get` or `resources/read`.
    pub method: &'static str,
    /// The tool or prompt name, or the resource URI.
    pub name: String,
    /// SHA-256 of the canonical arguments, hex.
    pub digest: String,
    /// The authenticated caller, or empty for anonymous calls.
    pub principal: String,
}

impl Binding {
    /// The binding of a call with these arguments (`Null` when there are none).
    pub(crate) fn new(
        method: &'static str,
        name: &str,
        arguments: &Value,
        principal: &str,
    ) -> Self {
        Self {
            method,
            name: name.to_string(),
            digest: digest(arguments),
            principal: principal.to_string(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// Method.
    m: String,
    /// Item name.
    n: String,
    /// SHA-256 of the canonical arguments, hex.
    a: String,
    /// Principal.
    p: String,
    /// Expiry, Unix milliseconds.
    e: u64,
    /// Answers received so far.
    r: Map<String, Value>,
}

/// Why a presented state was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StateError {
    /// Not produced by this server (or altered).
    #[error("requestState failed verification")]
    Tampered,
    /// Produced for another request, caller or item.
    #[error("requestState belongs to a different request")]
    WrongRequest,
    /// Past its expiry.
    #[error("requestState has expired")]
    Expired,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Serialises JSON with object keys sorted at every level, so equal arguments hash equally
/// whatever order the client sent them in.
fn canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(&Value::String((*k).clone()), out);
                out.push(b':');
                canonical(&m[*k], out);
            }
            out.push(b'}');
        }
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(x, out);
            }
            out.push(b']');
        }
        other => out.extend_from_slice(other.to_string().as_bytes()),
    }
}

fn digest(arguments: &Value) -> String {
    let mut buf = Vec::new();
    canonical(arguments, &mut buf);
    Sha256::digest(&buf)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Seals the answers so far into a `requestState` for this binding.
pub(crate) fn seal(
    key: &StateKey,
    binding: &Binding,
    answers: &Map<String, Value>,
    ttl: Duration,
) -> String {
    let payload = Payload {
        m: binding.method.into(),
        n: binding.name.clone(),
        a: binding.digest.clone(),
        p: binding.principal.clone(),
        e: now_ms() + ttl.as_millis() as u64,
        r: answers.clone(),
    };
    // Serialising a struct of strings, numbers and JSON values cannot fail.
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    let body = URL_SAFE_NO_PAD.encode(body);
    let tag = URL_SAFE_NO_PAD.encode(key.mac(body.as_bytes()));
    format!("{body}.{tag}")
}

/// Verifies a presented `requestState` and returns the answers it carries.
pub(crate) fn open(
    key: &StateKey,
    token: &str,
    binding: &Binding,
) -> Result<Map<String, Value>, StateError> {
    let (body, tag) = token.split_once('.').ok_or(StateError::Tampered)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| StateError::Tampered)?;
    let expected = key.mac(body.as_bytes());
    // Constant-time comparison of the tags.
    if tag.len() != expected.len()
        || tag
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0
    {
        return Err(StateError::Tampered);
    }
    let raw = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| StateError::Tampered)?;
    let p: Payload = serde_json::from_slice(&raw).map_err(|_| StateError::Tampered)?;
    if p.m != binding.method
        || p.n != binding.name
        || p.p != binding.principal
        || p.a != binding.digest
    {
        return Err(StateError::WrongRequest);
    }
    if p.e < now_ms() {
        return Err(StateError::Expired);
    }
    Ok(p.r)
}

/// The input rounds of one 2026-07-28 call: the handler's view, and (for calls that may
/// ask the client) what the next `requestState` is bound to.
pub(crate) struct RoundTrip {
    pub(crate) rounds: std::sync::Arc<crate::handler::rounds::Rounds>,
    binding: Option<Binding>,
}

impl RoundTrip {
    /// Opens a call's rounds: the answers sealed in `request_state` (checked against
    /// `binding`) plus the `input_responses` of the last round. Without a binding (a call that
    /// cannot ask the client and carries no state), the rounds only record a missing
    /// capability.
    pub(crate) fn open(
        key: &StateKey,
        binding: Option<Binding>,
        request_state: Option<&str>,
        input_responses: Option<Map<String, Value>>,
    ) -> Result<Self, crate::error::McpError> {
        use crate::error::McpError;
        let mut answers = match (request_state, &binding) {
            (None, _) => Map::new(),
            (Some(token), Some(b)) => open(key, token, b)
                .map_err(|e| McpError::invalid_params(format!("invalid requestState: {e}")))?,
            (Some(_), None) => Map::new(),
        };
        for (k, v) in input_responses.unwrap_or_default() {
            if !v.is_object() {
                return Err(McpError::invalid_params(format!(
                    "inputResponses[{}] must be an object",
                    crate::util::truncate(&k, 64)
                )));
            }
            answers.insert(k, v);
        }
        Ok(Self {
            rounds: std::sync::Arc::new(crate::handler::rounds::Rounds::new(answers)),
            binding,
        })
    }

    /// What a finished round answers instead of its result: -32021 for a missing
    /// capability, or an `InputRequiredResult` with the sealed state; `None` when the call
    /// is complete.
    pub(crate) fn interrupt(
        &self,
        key: &StateKey,
        ttl: Duration,
        result_meta: &Value,
    ) -> Option<Result<Value, crate::error::McpError>> {
        if let Some(caps) = self.rounds.missing_capability() {
            return Some(Err(crate::error::McpError::new(
                crate::protocol::modern::MISSING_CAPABILITY,
                "Missing required client capability",
            )
            .with_data(serde_json::json!({ "requiredCapabilities": caps }))));
        }
        let pending = self.rounds.pending();
        if pending.is_empty() {
            return None;
        }
        let state = match &self.binding {
            Some(b) => seal(key, b, self.rounds.answers(), ttl),
            None => String::new(),
        };
        Some(Ok(serde_json::json!({
            "resultType": "input_required",
            "inputRequests": pending,
            "requestState": state,
            "_meta": result_meta,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn binding(args: &Value, who: &str) -> Binding {
        Binding::new("tools/call", "t", args, who)
    }

    #[test]
    fn round_trips_and_refuses_tampering_and_reuse() {
        let key = StateKey::new(Some("secret"));
        let args = json!({"b": 1, "a": [1, {"y": 2, "x": 1}]});
        let mut answers = Map::new();
        answers.insert("q".into(), json!({"action": "accept"}));
        let token = seal(
            &key,
            &binding(&args, "ada"),
            &answers,
            Duration::from_secs(60),
        );
        let reordered = json!({"a": [1, {"x": 1, "y": 2}], "b": 1});
        assert_eq!(open(&key, &token, &binding(&reordered, "ada")), Ok(answers));
        assert_eq!(
            open(&key, &token, &binding(&args, "bob")),
            Err(StateError::WrongRequest)
        );
        assert_eq!(
            open(&key, &token, &binding(&json!({"b": 2}), "ada")),
            Err(StateError::WrongRequest)
        );
        let mut bad = token.clone().into_bytes();
        bad[3] ^= 1;
        assert_eq!(
            open(
                &key,
                std::str::from_utf8(&bad).unwrap(),
                &binding(&args, "ada")
            ),
            Err(StateError::Tampered)
        );
        assert_eq!(
            open(
                &StateKey::new(Some("other")),
                &token,
                &binding(&args, "ada")
            ),
            Err(StateError::Tampered)
        );
        let expired = seal(&key, &binding(&args, "ada"), &Map::new(), Duration::ZERO);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(
            open(&key, &expired, &binding(&args, "ada")),
            Err(StateError::Expired)
        );
        assert_eq!(
            open(&key, "garbage", &binding(&args, "ada")),
            Err(StateError::Tampered)
        );
    }
}
