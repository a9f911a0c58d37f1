//! Injected helpers that report to the client while a call runs: [`Progress`] and
//! [`Logger`]. Taking either puts a tool in the SSE set (its answer may become a stream).

use serde_json::{Value, json};

use crate::error::ToolError;
use crate::handler::ctx::{Ctx, FromCtx};
use crate::protocol::jsonrpc::encode_message;
use crate::protocol::types::LogLevel;

/// Reports progress to the client (`notifications/progress`) when it sent a `progressToken`.
#[derive(Clone)]
pub struct Progress {
    ctx: Ctx,
}

impl FromCtx for Progress {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        Ok(Progress { ctx: ctx.clone() })
    }
}

impl Progress {
    /// The client's `progressToken`, exactly as sent (a string or a number).
    pub fn token(&self) -> Option<&Value> {
        self.ctx.inner.progress_token.as_ref()
    }

    /// True when the client asked for progress.
    pub fn is_requested(&self) -> bool {
        self.ctx.inner.progress_token.is_some()
    }

    /// Sends one progress notification; `progress` should increase with each call.
    pub async fn report(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.ctx.inner.progress_token else {
            return;
        };
        let mut params = json!({ "progressToken": token, "progress": progress });
        if let Some(t) = total {
            params["total"] = t.into();
        }
        if let Some(m) = message {
            params["message"] = m.into();
        }
        self.ctx
            .send(encode_message(None, "notifications/progress", &params))
            .await;
    }
}

/// Sends log messages to the client, filtered by the level it set.
#[derive(Clone)]
pub struct Logger {
    ctx: Ctx,
}

impl FromCtx for Logger {
    fn from_ctx(ctx: &Ctx) -> Result<Self, ToolError> {
        Ok(Logger { ctx: ctx.clone() })
    }
}

impl Logger {
    /// Logs at a level, with any JSON data.
    pub async fn log(&self, level: LogLevel, data: impl Into<Value>) {
        self.ctx.log(level, None, data.into()).await;
    }
    /// Logs at `info`.
    pub async fn info(&self, data: impl Into<Value>) {
        self.log(LogLevel::Info, data).await;
    }
    /// Logs at `warning`.
    pub async fn warning(&self, data: impl Into<Value>) {
        self.log(LogLevel::Warning, data).await;
    }
    /// Logs at `error`.
    pub async fn error(&self, data: impl Into<Value>) {
        self.log(LogLevel::Error, data).await;
    }
}
