//! The browser side of URL-mode elicitation for the connect tools
//! (`musehub_connect_streaming_platform`, `musehub_connect_daw_cloud`).
//!
//! The tool asks the client to open `/mcp/connect/...?elicitation_id=ID`. That page asks the
//! user to authorise the connection; confirming marks it `connected` and tells the caller's
//! sessions with `notifications/elicitation/complete` (client/elicitation.mdx, "URL Mode
//! Elicitation", completion notification). The elicitation id is an unguessable random token,
//! so only the person the URL was handed to can complete it, once.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use musehub_mcp::Server;
use serde::Deserialize;
use sqlx::Row;

use crate::db::Db;
use crate::html::escape;

#[derive(Clone)]
struct ConnectState {
    server: Arc<Server>,
    db: Db,
}

/// `GET /mcp/connect/{service}`, `GET /mcp/connect/daw/{service}`, `POST /mcp/connect/complete`.
pub fn routes(server: Arc<Server>, db: Db) -> Router {
    Router::new()
        .route("/mcp/connect/complete", post(complete))
        .route("/mcp/connect/{service}", get(landing))
        .route("/mcp/connect/daw/{service}", get(landing))
        .with_state(ConnectState { server, db })
}

#[derive(Deserialize)]
struct LandingQuery {
    elicitation_id: Option<String>,
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width\"><title>{t} · MuseHub</title></head><body><main><h1>{t}</h1>{body}</main></body></html>",
        t = escape(title)
    );
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; form-action 'self'; frame-ancestors 'none'"),
    );
    r
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn pending(db: &Db, id: &str) -> Result<Option<(String, String, String)>, sqlx::Error> {
    let row = sqlx::query("SELECT handle, kind, service FROM connections WHERE elicitation_id = $1 AND status = 'pending_authorization'")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| {
        (
            r.get::<String, _>(0),
            r.get::<String, _>(1),
            r.get::<String, _>(2),
        )
    }))
}

async fn landing(State(s): State<ConnectState>, Query(q): Query<LandingQuery>) -> Response {
    let Some(id) = q.elicitation_id.filter(|i| valid_id(i)) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Link incomplete",
            "<p>This link has no valid connection id.</p>",
        );
    };
    match pending(&s.db, &id).await {
        Ok(Some((handle, kind, service))) => {
            let body = format!(
                "<p>Authorise MuseHub to connect <strong>{handle}</strong>'s account to the {kind} \
                 <strong>{service}</strong>?</p><form method=\"post\" action=\"/mcp/connect/complete\">\
                 <input type=\"hidden\" name=\"elicitation_id\" value=\"{id}\"><button type=\"submit\">Authorise</button></form>",
                handle = escape(&handle),
                kind = escape(&kind),
                service = escape(&service),
                id = escape(&id)
            );
            page(StatusCode::OK, &format!("Connect {service}"), &body)
        }
        Ok(None) => page(
            StatusCode::NOT_FOUND,
            "Nothing to authorise",
            "<p>This link is unknown, or was already used.</p>",
        ),
        Err(e) => {
            tracing::error!(error = %e, "connect landing page");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "<p>The hub could not be reached.</p>",
            )
        }
    }
}

async fn complete(State(s): State<ConnectState>, body: Bytes) -> Response {
    // `application/x-www-form-urlencoded` with one field of a known alphabet: no decoding needed.
    let id = std::str::from_utf8(&body)
        .ok()
        .and_then(|b| {
            b.split('&')
                .find_map(|kv| kv.strip_prefix("elicitation_id="))
        })
        .filter(|i| valid_id(i))
        .map(str::to_string);
    let Some(id) = id else {
        return page(
            StatusCode::BAD_REQUEST,
            "Link incomplete",
            "<p>This form has no valid connection id.</p>",
        );
    };
    let (handle, _kind, service) = match pending(&s.db, &id).await {
        Ok(Some(x)) => x,
        Ok(None) => {
            return page(
                StatusCode::NOT_FOUND,
                "Nothing to authorise",
                "<p>This link is unknown, or was already used.</p>",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "connect completion");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "<p>The hub could not be reached.</p>",
            );
        }
    };
    let updated = sqlx::query("UPDATE connections SET status = 'connected' WHERE elicitation_id = $1 AND status = 'pending_authorization'")
        .bind(&id)
        .execute(s.db.pool())
        .await;
    match updated {
        Ok(r) if r.rows_affected() == 1 => {}
        Ok(_) => {
            return page(
                StatusCode::NOT_FOUND,
                "Nothing to authorise",
                "<p>This link was already used.</p>",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "connect completion");
            return page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Try again",
                "<p>The hub could not be reached.</p>",
            );
        }
    }
    // Tell the caller's sessions that the URL step is done.
    s.server.notify_sessions_of(
        &handle,
        "notifications/elicitation/complete",
        &serde_json::json!({ "elicitationId": id }),
    );
    page(
        StatusCode::OK,
        &format!("{service} connected"),
        "<p>Done. You can close this page and go back to your assistant.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_ids() {
        assert!(valid_id("3f0c-aa_1"));
        assert!(!valid_id("a b"));
        assert!(!valid_id(""));
        assert!(!valid_id(&"x".repeat(65)));
    }
}
