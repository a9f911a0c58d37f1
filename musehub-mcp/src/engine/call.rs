//! `tools/call`: one registry lookup, the arguments deserialised once (from the body's text,
//! straight into the tool's parameter struct), the tool run, and its result serialised once
//! into the response.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use serde_json::Value;
#[cfg(feature = "validation")]
use serde_json::value::RawValue;

use super::mrtr::{Binding, RoundTrip};
use super::{CallEnv, Engine, REQUEST_CANCELLED, Reply, Started, panic_message};
use crate::error::{McpError, ToolError};
use crate::handler::ctx::{ClientLink, Ctx, CtxInner};
use crate::handler::into::{OutputShape, ToolOutput};
use crate::protocol::jsonrpc::{RequestId, ResponseBuf, encode_value};
use crate::protocol::request::{CallToolParams, Meta};
use crate::registry::{ToolEntry, ToolStart};

impl Engine {
    pub(super) fn call_tool(
        self: &Arc<Self>,
        id: RequestId,
        p: CallToolParams<'_>,
        tool: Option<&'static ToolEntry>,
        meta: &Meta<'_>,
        env: CallEnv,
    ) -> Started {
        let Some(entry) = tool else {
            return Started::error(
                &id,
                McpError::invalid_params(format!(
                    "Unknown tool: {}",
                    crate::util::truncate(&p.name, 128)
                )),
            );
        };
        let arguments = match p.arguments {
            Some(raw) if raw.get() == "null" => None,
            Some(raw) if raw.get().starts_with('{') => Some(raw),
            Some(_) => {
                return Started::error(
                    &id,
                    McpError::invalid_params("`arguments` must be an object"),
                );
            }
            None => None,
        };
        let modern = env.version.is_modern();
        if let Some(refused) = refuse(entry, &env) {
            return Started::Done(self.finish_tool(&id, refused, modern, None));
        }
        #[cfg(feature = "validation")]
        if let Some(validator) = &entry.validator
            && let Some(message) = invalid(validator, arguments)
        {
            let out = ToolOutput::from_result(
                ToolError::invalid_argument(message).into_result(),
                OutputShape::Object,
            );
            return Started::Done(self.finish_tool(&id, out, modern, None));
        }
        let rounds = if modern {
            // Only a call that can ask the client (or that resumes one) is bound to its
            // arguments, which is the one case where they are read as a JSON tree.
            let binding = (entry.def.asks_client || p.request_state.is_some()).then(|| {
                let args: Value = arguments
                    .and_then(|a| serde_json::from_str(a.get()).ok())
                    .unwrap_or(Value::Null);
                Binding::new(
                    "tools/call",
                    entry.def.name,
                    &args,
                    env.caller.handle().unwrap_or(""),
                )
            });
            match RoundTrip::open(
                &self.state_key(),
                binding,
                p.request_state.as_deref(),
                p.input_responses,
            ) {
                Ok(r) => Some(r),
                Err(e) => return Started::error(&id, e),
            }
        } else {
            None
        };
        let cancel = env.cancel.clone();
        let ctx = self.ctx(&id, meta, env, rounds.as_ref().map(|r| r.rounds.clone()));
        let handler = entry.def.handler;
        let shape = entry.shape;
        let started = std::panic::catch_unwind(AssertUnwindSafe(|| handler(ctx, arguments, shape)));
        match started {
            Ok(ToolStart::Ready(out)) => {
                Started::Done(self.finish_tool(&id, out, modern, rounds.as_ref()))
            }
            Ok(ToolStart::Running(fut)) => {
                let engine = self.clone();
                let name = entry.def.name;
                let limit = self.config.call_timeout;
                Started::Running(Box::pin(async move {
                    let fut = AssertUnwindSafe(fut).catch_unwind();
                    // Cancellation wins a tie: a cancelled request gets no ordinary answer.
                    let outcome = tokio::select! {
                        biased;
                        _ = cancel.cancelled() => {
                            return Reply::error(Some(&id), &McpError::new(REQUEST_CANCELLED, "Request cancelled"));
                        }
                        r = fut => r,
                        _ = tokio::time::sleep(limit) => {
                            tracing::warn!(tool = %name, rpc_id = %id, "tool call stopped at the call timeout");
                            let e = ToolError::new(
                                "timeout",
                                format!("tool `{name}` did not finish within {} s and was stopped", limit.as_secs_f64()),
                            );
                            Ok(ToolOutput::from_result(e.into_result(), OutputShape::Object))
                        }
                    };
                    match outcome {
                        Ok(out) => engine.finish_tool(&id, out, modern, rounds.as_ref()),
                        Err(panic) => panicked(&id, name, &*panic),
                    }
                }))
            }
            Err(panic) => Started::Done(panicked(&id, entry.def.name, &*panic)),
        }
    }

    /// The response to a finished call: its result, or what its input rounds answer instead.
    fn finish_tool(
        &self,
        id: &RequestId,
        out: ToolOutput,
        modern: bool,
        rounds: Option<&RoundTrip>,
    ) -> Reply {
        if let Some(rt) = rounds
            && let Some(interrupt) =
                rt.interrupt(&self.state_key(), self.config.state_ttl, &self.modern.meta)
        {
            return match interrupt {
                Ok(v) => Reply::ok(encode_value(id, &v)),
                Err(e) => Reply::error(Some(id), &e),
            };
        }
        let bytes = out.as_bytes();
        let mut buf = ResponseBuf::result(id, bytes.len() + self.modern.len());
        buf.body().extend_from_slice(bytes);
        if modern {
            self.modern.splice(buf.body());
        }
        Reply::ok(buf.finish())
    }

    /// The context of a call.
    pub(super) fn ctx(
        &self,
        id: &RequestId,
        meta: &Meta<'_>,
        env: CallEnv,
        rounds: Option<Arc<crate::handler::rounds::Rounds>>,
    ) -> Ctx {
        Ctx {
            inner: Arc::new(CtxInner {
                request_id: Some(id.clone()),
                caller: env.caller,
                protocol_version: env.version,
                client_capabilities: env.capabilities,
                link: env.session.map(|s| s as Arc<dyn ClientLink>),
                progress_token: meta.progress_token().cloned(),
                cancel: env.cancel,
                outbound: env.outbound,
                state: self.state.clone(),
                elicitation_timeout: self.config.elicitation_timeout,
                max_pending_requests: self.config.max_pending_requests_per_session,
                rounds,
                request_log_level: env.log_level,
                changes: Some(self.changes.clone()),
            }),
        }
    }
}

/// The last line of defence for calls that did not come through an authenticating
/// transport (in-process, stdio): a write tool needs an authenticated caller, and a scoped
/// tool a credential with its scopes. HTTP answers 401/403 before the call gets here.
fn refuse(entry: &ToolEntry, env: &CallEnv) -> Option<ToolOutput> {
    let def = entry.def;
    let error = if (def.write || !def.scopes.is_empty()) && !env.caller.is_authenticated() {
        let what = if def.write {
            "changes data"
        } else {
            "needs scopes"
        };
        ToolError::unauthenticated(format!(
            "tool `{}` {what} and needs an authenticated caller",
            def.name
        ))
    } else {
        let missing = env.caller.missing_scopes(def.scopes);
        if missing.is_empty() {
            return None;
        }
        ToolError::forbidden(format!(
            "tool `{}` needs the scope(s) {}",
            def.name,
            missing.join(" ")
        ))
        .with_data(serde_json::json!({ "error": "insufficient_scope", "scope": missing.join(" ") }))
    };
    Some(ToolOutput::from_result(
        error.into_result(),
        OutputShape::Object,
    ))
}

#[cfg(feature = "validation")]
/// Validates arguments against a schema that says more than the argument type checks.
fn invalid(validator: &jsonschema::Validator, arguments: Option<&RawValue>) -> Option<String> {
    let value: Value = match arguments {
        Some(raw) => serde_json::from_str(raw.get()).ok()?,
        None => Value::Object(Default::default()),
    };
    let err = validator.iter_errors(&value).next()?;
    let path = err.instance_path().to_string();
    let field = if path.is_empty() {
        "arguments".to_string()
    } else {
        format!("`{}`", path.trim_start_matches('/').replace('/', "."))
    };
    Some(format!("invalid argument {field}: {err}"))
}

fn panicked(id: &RequestId, name: &str, panic: &(dyn std::any::Any + Send)) -> Reply {
    let rpc_id = id.to_string();
    tracing::error!(
        tool = %name,
        rpc_id = %crate::util::truncate(&rpc_id, 64),
        panic = %panic_message(panic),
        "tool panicked"
    );
    Reply::error(
        Some(id),
        &McpError::internal(format!("tool `{name}` failed unexpectedly")),
    )
}
