//! Injected helpers that ask the client something mid-call: [`Elicitation`] (the user),
//! [`Sampling`] (the client's model) and [`Roots`]. One API for both eras: in the handshake era
//! a request goes out on the call's stream and the call waits for the answer; in the
//! 2026-07-28 era the call stops with an input request (MRTR) and is run again with the
//! answer.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::ToolError;
use crate::handler::ctx::{Ctx, FromCtx};
use crate::protocol::jsonrpc::encode_message;
use crate::protocol::version::ProtocolVersion;

/// The code of the `ToolError` that stops a handler waiting for client input in the
/// 2026-07-28 era; the engine turns the call into an `InputRequiredResult`.
pub(crate) const INPUT_REQUIRED: &str = "input_required";
/// The code of the `ToolError` for a client capability the call needs and the client lacks.
pub const MISSING_CAPABILITY: &str = "missing_capability";

/// `200 ms`, `5 s`: a duration for messages.
fn human_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs())
    }
}

/// The client's answer to an elicitation: the three actions of client/elicitation.mdx, a
/// closed set (so a `match` on it needs no catch-all).
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitResult<T> {
    /// The user accepted and (for forms) supplied the content.
    Accept(T),
    /// The user declined.
    Decline,
    /// The user dismissed the request.
    Cancel,
}

/// Asks the client's user for input mid-call (client/elicitation.mdx). The same code works
/// in both eras: a request on the stream in the handshake era, an input round (MRTR) in the
/// 2026-07-28 era, where `key` names the input request (default: `elicitation-N`).
#[derive(Clone)]
pub struct Elicitation {
    ctx: Ctx,
    key: Option<String>,
}

impl FromCtx for Elicitation {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        Ok(Elicitation {
            ctx: ctx.clone(),
            key: None,
        })
    }
}

impl Elicitation {
    /// Names the next request's key in `inputRequests` (2026-07-28 era).
    pub fn key(&self, key: &str) -> Self {
        Elicitation {
            ctx: self.ctx.clone(),
            key: Some(key.to_string()),
        }
    }

    fn capability(&self, mode: &str) -> bool {
        let Some(e) = self.ctx.client_capabilities().get("elicitation") else {
            return false;
        };
        // An empty `elicitation: {}` means form mode only (2025-11-25 backwards compatibility).
        match e.as_object() {
            Some(m) if m.is_empty() => mode == "form",
            Some(m) => m.contains_key(mode),
            None => false,
        }
    }

    /// Form mode with the schema of `T` (a flat object of primitive fields).
    pub async fn form<T: DeserializeOwned + schemars::JsonSchema>(
        &self,
        message: &str,
    ) -> Result<ElicitResult<T>, ToolError> {
        let schema =
            crate::protocol::schema::normalize(crate::protocol::schema::generate::<T>(), true)
                .map_err(|e| ToolError::internal(e.to_string()))?;
        match self.form_schema(message, schema).await? {
            ElicitResult::Accept(v) => {
                serde_json::from_value(v)
                    .map(ElicitResult::Accept)
                    .map_err(|e| {
                        ToolError::invalid_argument(format!(
                            "the elicited content does not fit: {e}"
                        ))
                    })
            }
            ElicitResult::Decline => Ok(ElicitResult::Decline),
            ElicitResult::Cancel => Ok(ElicitResult::Cancel),
        }
    }

    /// Form mode with an explicit `requestedSchema`.
    pub async fn form_schema(
        &self,
        message: &str,
        requested_schema: Value,
    ) -> Result<ElicitResult<Value>, ToolError> {
        self.ctx.require_capability(
            self.capability("form"),
            json!({ "elicitation": {} }),
            "this tool needs to ask the user for input, but the client did not declare the `elicitation` capability",
        )?;
        let mut params = json!({ "message": message, "requestedSchema": requested_schema });
        if self.ctx.protocol_version() >= ProtocolVersion::V2025_11_25 {
            params["mode"] = "form".into();
        }
        let answer = self.request(params).await?;
        Ok(parse_action(&answer, |v| {
            v.get("content").cloned().unwrap_or(json!({}))
        }))
    }

    /// URL mode: the client opens `url`; `elicitation_id` correlates the completion.
    pub async fn url(
        &self,
        message: &str,
        url: &str,
        elicitation_id: &str,
    ) -> Result<ElicitResult<()>, ToolError> {
        self.ctx.require_capability(
            self.capability("url"),
            json!({ "elicitation": { "url": {} } }),
            "this tool needs the user to open a URL, but the client did not declare URL-mode elicitation",
        )?;
        let params = json!({ "mode": "url", "message": message, "url": url, "elicitationId": elicitation_id });
        let answer = self.request(params).await?;
        Ok(parse_action(&answer, |_| ()))
    }

    async fn request(&self, params: Value) -> Result<Value, ToolError> {
        self.ctx
            .client_request(self.key.as_deref(), "elicitation/create", params)
            .await
    }
}

/// Asks the client's model for a completion mid-call (client/sampling.mdx), in either era
/// (see [`Elicitation`] for how `key` is used).
#[derive(Clone)]
pub struct Sampling {
    ctx: Ctx,
    key: Option<String>,
}

impl FromCtx for Sampling {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        Ok(Sampling {
            ctx: ctx.clone(),
            key: None,
        })
    }
}

impl Sampling {
    /// Names the next request's key in `inputRequests` (2026-07-28 era).
    pub fn key(&self, key: &str) -> Self {
        Sampling {
            ctx: self.ctx.clone(),
            key: Some(key.to_string()),
        }
    }

    /// Sends `sampling/createMessage` with these params (`messages`, `maxTokens`, ...) and
    /// returns the client's `CreateMessageResult`.
    pub async fn create_message(&self, params: Value) -> Result<Value, ToolError> {
        self.ctx.require_capability(
            self.ctx.client_capabilities().get("sampling").is_some(),
            json!({ "sampling": {} }),
            "this tool needs the client's model, but the client did not declare the `sampling` capability",
        )?;
        self.ctx
            .client_request(self.key.as_deref(), "sampling/createMessage", params)
            .await
    }
}

/// Asks the client for its roots (client/roots.mdx), in either era.
#[derive(Clone)]
pub struct Roots {
    ctx: Ctx,
    key: Option<String>,
}

impl FromCtx for Roots {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        Ok(Roots {
            ctx: ctx.clone(),
            key: None,
        })
    }
}

impl Roots {
    /// Names the next request's key in `inputRequests` (2026-07-28 era).
    pub fn key(&self, key: &str) -> Self {
        Roots {
            ctx: self.ctx.clone(),
            key: Some(key.to_string()),
        }
    }

    /// Sends `roots/list` and returns the client's `ListRootsResult`.
    pub async fn list(&self) -> Result<Value, ToolError> {
        self.ctx.require_capability(
            self.ctx.client_capabilities().get("roots").is_some(),
            json!({ "roots": {} }),
            "this tool needs the client's roots, but the client did not declare the `roots` capability",
        )?;
        self.ctx
            .client_request(self.key.as_deref(), "roots/list", json!({}))
            .await
    }
}

impl Ctx {
    /// Sends a server-to-client request on the request's stream and waits for the answer,
    /// bounded by the elicitation timeout and the call's cancellation.
    pub(crate) async fn peer_request(
        &self,
        method: &str,
        params: Value,
    ) -> Result<Value, ToolError> {
        let Some(session) = &self.inner.link else {
            return Err(ToolError::new(
                "peer_unavailable",
                format!("`{method}` needs a session with a stream back to the client"),
            ));
        };
        let Some((id, rx)) = session.register_request(self.inner.max_pending_requests) else {
            return Err(ToolError::new(
                "too_many_pending_requests",
                "too many requests to the client await answers on this session; answer or cancel some first",
            ));
        };
        let bytes = encode_message(Some(&id), method, &params);
        if !self.send(bytes).await {
            session.forget_request(&id);
            return Err(ToolError::new(
                "peer_unavailable",
                "the client's stream is closed, so it cannot be asked",
            ));
        }
        let timeout = self.inner.elicitation_timeout;
        let outcome = tokio::select! {
            r = rx => r.map_err(|_| ToolError::cancelled()),
            _ = tokio::time::sleep(timeout) => Err(ToolError::new(
                "peer_timeout",
                format!("the client did not answer `{method}` within {}", human_duration(timeout)),
            )),
            _ = self.inner.cancel.cancelled() => Err(ToolError::cancelled()),
        };
        session.forget_request(&id);
        match outcome? {
            Ok(v) => Ok(v),
            Err(e) => Err(ToolError::new(
                "peer_error",
                format!(
                    "the client answered `{method}` with an error: {}",
                    e.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown error")
                ),
            )),
        }
    }

    /// Fails unless the client declared `capability` (`sampling`, `elicitation`, `roots`):
    /// a tool error in the handshake era, -32021 with `requiredCapabilities` in the
    /// 2026-07-28 era.
    pub fn require_client_capability(&self, capability: &str) -> Result<(), ToolError> {
        let present = self.client_capabilities().get(capability).is_some();
        self.require_capability(
            present,
            json!({ capability: {} }),
            &format!("this tool needs the client's `{capability}` capability"),
        )
    }

    /// Checks a client capability; without it the call fails: a tool error in the handshake
    /// era, `MissingRequiredClientCapability` (-32021) in the 2026-07-28 era.
    pub(crate) fn require_capability(
        &self,
        present: bool,
        capability: Value,
        what: &str,
    ) -> Result<(), ToolError> {
        if present {
            return Ok(());
        }
        if let Some(rounds) = &self.inner.rounds {
            rounds.require_capability(capability.clone());
        }
        Err(ToolError::new(MISSING_CAPABILITY, what.to_string())
            .with_data(json!({ "requiredCapabilities": capability })))
    }

    /// A request to the client in either era: sent on the request's stream and awaited in the
    /// handshake era; in the 2026-07-28 era answered from the call's `inputResponses`, or
    /// recorded as an input request (and the handler stopped) when there is no answer yet.
    pub(crate) async fn client_request(
        &self,
        key: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, ToolError> {
        if let Some(rounds) = &self.inner.rounds {
            let key = key
                .map(str::to_string)
                .unwrap_or_else(|| rounds.next_key(method));
            if let Some(answer) = rounds.answer(&key) {
                return Ok(answer.clone());
            }
            rounds.request(key, method, params);
            return Err(ToolError::new(
                INPUT_REQUIRED,
                "waiting for the client's input",
            ));
        }
        self.peer_request(method, params).await
    }
}

fn parse_action<T>(answer: &Value, content: impl FnOnce(&Value) -> T) -> ElicitResult<T> {
    match answer.get("action").and_then(Value::as_str) {
        Some("accept") => ElicitResult::Accept(content(answer)),
        Some("decline") => ElicitResult::Decline,
        _ => ElicitResult::Cancel,
    }
}
