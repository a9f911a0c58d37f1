//! `resources/read`, `prompts/get` and `completion/complete`.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use serde_json::{Value, json};

use super::mrtr::{Binding, RoundTrip};
use super::{CallEnv, Engine, Reply, Started, panic_message};
use crate::error::McpError;
use crate::protocol::jsonrpc::{RequestId, ResponseBuf};
use crate::protocol::request::{
    CompleteParams, CompletionRef, GetPromptParams, Meta, ReadResourceParams,
};
use crate::registry::{Completion, CompletionDef};

impl Engine {
    pub(super) fn read_resource(
        self: &Arc<Self>,
        id: RequestId,
        p: ReadResourceParams<'_>,
        meta: &Meta<'_>,
        env: CallEnv,
    ) -> Started {
        let uri = p.uri.into_owned();
        let (def, vars) = if let Some(r) = self.registry.resource(&uri) {
            (r.def, HashMap::new())
        } else if let Some((t, vars)) = self.registry.match_template(&uri) {
            (t.def, vars)
        } else if env.version.is_modern() {
            // SEP-2164: the 2026-07-28 era reports an unknown resource as invalid params.
            return Started::error(
                &id,
                McpError::invalid_params("Resource not found").with_data(json!({ "uri": uri })),
            );
        } else {
            return Started::error(&id, McpError::resource_not_found(&uri));
        };
        if let Some(e) = scope_error(def.scopes, &env) {
            return Started::error(&id, e);
        }
        let modern = env.version.is_modern();
        let rounds = match self.rounds(
            modern,
            "resources/read",
            &uri,
            &Value::Null,
            p.request_state.as_deref(),
            p.input_responses,
            &env,
        ) {
            Ok(r) => r,
            Err(e) => return Started::error(&id, e),
        };
        let ctx = self.ctx(&id, meta, env, rounds.as_ref().map(|r| r.rounds.clone()));
        let fut = AssertUnwindSafe((def.handler)(ctx, uri.clone(), vars)).catch_unwind();
        let engine = self.clone();
        let (ttl, scope) = (def.ttl_ms, def.cache_scope);
        Started::Running(Box::pin(async move {
            let contents = match fut.await {
                Ok(Ok(contents)) => contents,
                Ok(Err(e)) => return engine.interrupted(&id, rounds.as_ref(), Err(e)),
                Err(panic) => {
                    tracing::error!(uri = %uri, panic = %panic_message(&*panic), "resource panicked");
                    return Reply::error(
                        Some(&id),
                        &McpError::internal("the resource failed unexpectedly"),
                    );
                }
            };
            let result = if modern {
                json!({
                    "contents": contents,
                    "ttlMs": ttl.unwrap_or(engine.config.cache.read_ttl_ms),
                    "cacheScope": scope.unwrap_or(&engine.config.cache.read_scope),
                })
            } else {
                json!({ "contents": contents })
            };
            engine.interrupted(&id, rounds.as_ref(), Ok(result))
        }))
    }

    pub(super) fn get_prompt(
        self: &Arc<Self>,
        id: RequestId,
        p: GetPromptParams<'_>,
        meta: &Meta<'_>,
        env: CallEnv,
    ) -> Started {
        let Some(entry) = self.registry.prompt(&p.name) else {
            return Started::error(
                &id,
                McpError::invalid_params(format!(
                    "Unknown prompt: {}",
                    crate::util::truncate(&p.name, 128)
                )),
            );
        };
        if let Some(e) = scope_error(entry.def.scopes, &env) {
            return Started::error(&id, e);
        }
        let args: HashMap<String, String> = p.arguments.unwrap_or_default().into_iter().collect();
        let modern = env.version.is_modern();
        let rounds = match self.rounds(
            modern,
            "prompts/get",
            entry.def.name,
            &json!(args),
            p.request_state.as_deref(),
            p.input_responses,
            &env,
        ) {
            Ok(r) => r,
            Err(e) => return Started::error(&id, e),
        };
        let ctx = self.ctx(&id, meta, env, rounds.as_ref().map(|r| r.rounds.clone()));
        let fut = AssertUnwindSafe((entry.def.handler)(ctx, args)).catch_unwind();
        let engine = self.clone();
        let name = entry.def.name;
        Started::Running(Box::pin(async move {
            let outcome = match fut.await {
                Ok(Ok(result)) => {
                    serde_json::to_value(result).map_err(|e| McpError::internal(e.to_string()))
                }
                Ok(Err(e)) => Err(e),
                Err(panic) => {
                    tracing::error!(prompt = %name, panic = %panic_message(&*panic), "prompt panicked");
                    Err(McpError::internal("the prompt failed unexpectedly"))
                }
            };
            engine.interrupted(&id, rounds.as_ref(), outcome)
        }))
    }

    pub(super) fn complete(
        self: &Arc<Self>,
        id: RequestId,
        p: CompleteParams,
        meta: &Meta<'_>,
        env: CallEnv,
    ) -> Started {
        let hooks: &'static [CompletionDef] = match &p.reference {
            CompletionRef::Prompt { name } => match self.registry.prompt(name) {
                Some(prompt) => prompt.def.completions,
                None => {
                    return Started::error(
                        &id,
                        McpError::invalid_params(format!(
                            "Unknown prompt: {}",
                            crate::util::truncate(name, 128)
                        )),
                    );
                }
            },
            CompletionRef::Resource { uri } => {
                match self.registry.templates.iter().find(|t| t.def.uri == uri) {
                    Some(t) => t.def.completions,
                    None => match self.registry.resource(uri) {
                        Some(r) => r.def.completions,
                        None => {
                            return Started::error(
                                &id,
                                McpError::invalid_params("unknown resource template in `ref.uri`"),
                            );
                        }
                    },
                }
            }
        };
        let modern = env.version.is_modern();
        let Some(hook) = hooks.iter().find(|h| h.argument == p.argument.name) else {
            return Started::Done(self.completion_reply(&id, Vec::new(), modern));
        };
        let req = Completion {
            argument: p.argument.name,
            value: p.argument.value,
            context: p
                .context
                .unwrap_or_default()
                .arguments
                .into_iter()
                .collect(),
            ctx: self.ctx(&id, meta, env, None),
        };
        let fut = (hook.handler)(req);
        let engine = self.clone();
        Started::Running(Box::pin(async move {
            let values = fut.await;
            engine.completion_reply(&id, values, modern)
        }))
    }

    fn completion_reply(&self, id: &RequestId, mut values: Vec<String>, modern: bool) -> Reply {
        // The spec caps a completion response at 100 values (server/utilities/completion.mdx).
        let total = values.len();
        values.truncate(100);
        self.result_reply(
            id,
            &json!({ "completion": { "values": values, "total": total, "hasMore": total > 100 } }),
            modern,
        )
    }

    /// A result serialised once, with the 2026-07-28 fields spliced in for that era.
    fn result_reply(&self, id: &RequestId, result: &Value, modern: bool) -> Reply {
        let mut buf = ResponseBuf::result(id, 256);
        if serde_json::to_writer(buf.body(), result).is_err() {
            return Reply::error(
                Some(id),
                &McpError::internal("the result could not be serialised"),
            );
        }
        if modern {
            self.modern.splice(buf.body());
        }
        Reply::ok(buf.finish())
    }

    /// Opens the input rounds of a 2026-07-28 resource read or prompt.
    #[allow(clippy::too_many_arguments)]
    fn rounds(
        &self,
        modern: bool,
        method: &'static str,
        name: &str,
        arguments: &Value,
        request_state: Option<&str>,
        input_responses: Option<serde_json::Map<String, Value>>,
        env: &CallEnv,
    ) -> Result<Option<RoundTrip>, McpError> {
        if !modern {
            return Ok(None);
        }
        let binding = Binding::new(method, name, arguments, env.caller.handle().unwrap_or(""));
        RoundTrip::open(
            &self.state_key(),
            Some(binding),
            request_state,
            input_responses,
        )
        .map(Some)
    }

    /// The response of a finished resource read or prompt: what its rounds answer instead
    /// (input required, missing capability), or its outcome.
    fn interrupted(
        &self,
        id: &RequestId,
        rounds: Option<&RoundTrip>,
        outcome: Result<Value, McpError>,
    ) -> Reply {
        if let Some(rt) = rounds
            && let Some(interrupt) =
                rt.interrupt(&self.state_key(), self.config.state_ttl, &self.modern.meta)
        {
            return match interrupt {
                Ok(v) => self.result_reply(id, &v, false),
                Err(e) => Reply::error(Some(id), &e),
            };
        }
        match outcome {
            Ok(v) => self.result_reply(id, &v, rounds.is_some()),
            Err(e) => Reply::error(Some(id), &e),
        }
    }
}

/// A resource or prompt whose credential lacks its scopes (the last line of defence; HTTP
/// answers 403 earlier).
fn scope_error(scopes: &[&str], env: &CallEnv) -> Option<McpError> {
    if scopes.is_empty() {
        return None;
    }
    let missing = env.caller.missing_scopes(scopes);
    (!missing.is_empty()).then(|| {
        McpError::new(
            crate::error::codes::FORBIDDEN,
            format!("needs the scope(s) {}", missing.join(" ")),
        )
        .with_data(json!({ "error": "insufficient_scope", "scope": missing.join(" ") }))
    })
}
