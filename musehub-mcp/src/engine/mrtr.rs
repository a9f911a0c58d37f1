//! Multi round-trip requests (basic/patterns/mrtr.mdx of 2026-07-28): input requests collected
//! while a call runs, and the authenticated `requestState` that lets any instance resume it.
//!
//! The framework re-runs the same handler on every round. The state carries every answer the
//! client has given so far, so a tool that asks three questions in sequence sees the first two
//! answered on the third round even though the client only resends the latest. The state is
//! sealed with HMAC-SHA256 and bound to the method, the item name, a digest of the arguments,
//! the caller and an expiry (server requirements 4 and 5 of the spec's basic workflow), so a
//! client can neither forge it nor replay it into another call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The secret that seals request states.
#[derive(Clone)]
pub struct StateKey([u8; 32]);

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
pub struct Binding<'a> {
    /// `tools/call`, `prompts/get` or `resources/read`.
    pub method: &'a str,
    /// The tool or prompt name, or the resource URI.
    pub name: &'a str,
    /// The call's arguments (`Null` when there are none).
    pub arguments: &'a Value,
    /// The authenticated caller, or empty for anonymous calls.
    pub principal: &'a str,
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
pub enum StateError {
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
pub fn seal(
    key: &StateKey,
    binding: &Binding<'_>,
    answers: &Map<String, Value>,
    ttl: Duration,
) -> String {
    let payload = Payload {
        m: binding.method.into(),
        n: binding.name.into(),
        a: digest(binding.arguments),
        p: binding.principal.into(),
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
pub fn open(
    key: &StateKey,
    token: &str,
    binding: &Binding<'_>,
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
        || p.a != digest(binding.arguments)
    {
        return Err(StateError::WrongRequest);
    }
    if p.e < now_ms() {
        return Err(StateError::Expired);
    }
    Ok(p.r)
}

/// The MRTR side of one call: answers available to the handler, and the input requests it
/// made that have no answer yet.
#[derive(Default)]
pub struct Rounds {
    answers: Map<String, Value>,
    requests: Mutex<Map<String, Value>>,
    counter: AtomicU64,
    missing_capability: Mutex<Option<Value>>,
}

impl Rounds {
    /// A call with these answers known.
    pub fn new(answers: Map<String, Value>) -> Self {
        Self {
            answers,
            ..Default::default()
        }
    }

    /// A key for an input request the tool did not name: stable across rounds because the
    /// handler makes the same requests in the same order each time.
    pub fn next_key(&self, method: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let short = method.split('/').next().unwrap_or(method);
        format!("{short}-{n}")
    }

    /// The client's answer to input request `key`, if given.
    pub fn answer(&self, key: &str) -> Option<&Value> {
        self.answers.get(key)
    }

    /// Records an input request to send back in an `InputRequiredResult`.
    pub fn request(&self, key: String, method: &str, params: Value) {
        let mut m = Map::new();
        m.insert("method".into(), method.into());
        m.insert("params".into(), params);
        self.requests.lock().insert(key, Value::Object(m));
    }

    /// Records that the call needs a capability the client did not declare.
    pub fn require_capability(&self, capabilities: Value) {
        *self.missing_capability.lock() = Some(capabilities);
    }

    /// The input requests made and not answered.
    pub fn pending(&self) -> Map<String, Value> {
        self.requests.lock().clone()
    }

    /// The capability the call needed and lacked, if any.
    pub fn missing_capability(&self) -> Option<Value> {
        self.missing_capability.lock().clone()
    }

    /// Every answer known (to carry into the next state).
    pub fn answers(&self) -> &Map<String, Value> {
        &self.answers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn binding<'a>(args: &'a Value, who: &'a str) -> Binding<'a> {
        Binding {
            method: "tools/call",
            name: "t",
            arguments: args,
            principal: who,
        }
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
