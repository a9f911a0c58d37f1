//! The checks every `/mcp` request passes before it reaches the engine, cheapest first:
//! Host (421) and Origin (403) against DNS rebinding, the media types (406, 415), the
//! caller's credentials (401/403/503), requests in flight per client address and the
//! caller's rate limit (429). A `tools/call` is gated once more when its tool is known:
//! write and scoped tools need credentials, and a tool may have its own rate limit.

use std::net::{IpAddr, SocketAddr};

use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

#[cfg(feature = "rate-limits")]
use super::reply::too_many_requests;
use super::reply::{too_busy, transport_error};
use crate::handler::ctx::Caller;
use crate::protocol::jsonrpc::RequestId;
use crate::registry::ToolEntry;
use crate::server::Server;
use crate::util::CounterSlot;

/// The client's address (from the accept loop's `ConnectInfo`), for per-address limits.
pub(super) fn client_addr(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        // An IPv4 client of a dual-stack listener is `::ffff:a.b.c.d`: one key either way.
        .map(|c| c.0.ip().to_canonical())
}

#[cfg(feature = "rate-limits")]
/// An address as the rate limits key anonymous callers (`unknown` without one).
pub(super) fn ip_text(addr: Option<IpAddr>) -> String {
    addr.map_or_else(|| "unknown".into(), |ip| ip.to_string())
}

fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
}

/// Splits `host[:port]`, keeping IPv6 brackets.
fn hostname(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    authority
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(authority)
}

/// DNS-rebinding protection (basic/transports.mdx, "Security Warning"): a browser tricked into
/// resolving an attacker's name to loopback still sends the attacker's name in `Host`; and
/// browsers send `Origin` on cross-site requests, of which only localhost and the configured
/// list may call.
#[allow(clippy::result_large_err)]
pub(super) fn check_host_and_origin(server: &Server, parts: &Parts) -> Result<(), Response> {
    let authority = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    let Some(authority) = authority else {
        return Err(transport_error(
            StatusCode::MISDIRECTED_REQUEST,
            "Invalid Host header: missing",
        ));
    };
    let host = hostname(authority).to_ascii_lowercase();
    let config = server.config();
    let allowed = is_loopback_host(&host)
        || config.allowed_hosts.iter().any(|a| {
            a == "*" || a.eq_ignore_ascii_case(&host) || a.eq_ignore_ascii_case(authority)
        });
    if !allowed {
        return Err(transport_error(
            StatusCode::MISDIRECTED_REQUEST,
            "Invalid Host header: this server only answers to its configured host names",
        ));
    }
    let Some(origin) = parts.headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| hostname(rest.split('/').next().unwrap_or(rest)))
        .unwrap_or("")
        .to_ascii_lowercase();
    let allowed = is_loopback_host(&origin_host)
        || config
            .allowed_origins
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(origin));
    if allowed {
        Ok(())
    } else {
        Err(transport_error(
            StatusCode::FORBIDDEN,
            "Forbidden: this Origin is not allowed",
        ))
    }
}

/// Does the `Accept` header admit `wanted` (`type/subtype`), counting wildcards? Compared
/// without allocating: this runs on every POST.
pub(super) fn accepts(headers: &HeaderMap, wanted: &str) -> bool {
    let (wt, _) = wanted.split_once('/').unwrap_or((wanted, ""));
    headers.get_all(header::ACCEPT).iter().any(|v| {
        v.to_str().unwrap_or("").split(',').any(|item| {
            let mt = item.split(';').next().unwrap_or("").trim();
            mt.eq_ignore_ascii_case(wanted)
                || mt == "*/*"
                || mt
                    .split_once('/')
                    .is_some_and(|(t, sub)| sub == "*" && t.eq_ignore_ascii_case(wt))
        })
    })
}

/// A header as text, when it is visible ASCII.
pub(super) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The caller of a request (its credentials checked against the server's schemes), and the
/// slot it holds among the requests in flight from its address, once its rate allows it.
pub(super) async fn admit(
    server: &Server,
    parts: &Parts,
    body: &[u8],
    addr: Option<IpAddr>,
) -> Result<(Caller, CounterSlot<Option<IpAddr>>), Response> {
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let caller = server
        .auth
        .authenticate(&parts.headers, parts.method.as_str(), target, body)
        .await
        .map_err(|refusal| server.auth.refused(&refusal))?;
    let Some(slot) = server
        .in_flight_by_ip
        .acquire(addr, server.config().max_in_flight_per_ip)
    else {
        return Err(too_busy(
            "Too Many Requests: too many requests in flight from this address",
        ));
    };
    #[cfg(feature = "rate-limits")]
    if let Some(limits) = &server.limits
        && let Err(l) = limits
            .check_caller(&caller, &ip_text(addr), server.backplane.as_deref())
            .await
    {
        return Err(too_many_requests(&l));
    }
    Ok((caller, slot))
}

/// Gates a `tools/call` once its tool is known: a write or scoped tool needs credentials (401
/// with every scheme's challenge), a credential without the tool's scopes is 403
/// `insufficient_scope`, and a tool with its own rate limit is checked (429).
pub(super) async fn gate_tool(
    server: &Server,
    id: &RequestId,
    tool: &ToolEntry,
    caller: &Caller,
    addr: Option<IpAddr>,
) -> Option<Response> {
    let def = tool.def;
    if !server.auth.is_empty() {
        if (def.write || !def.scopes.is_empty()) && !caller.is_authenticated() {
            let schemes: Vec<&str> = server.auth.schemes().iter().map(|s| s.as_str()).collect();
            let how = match schemes.as_slice() {
                ["MSign"] => "a signed request (MSign)".to_string(),
                _ => format!("credentials ({})", schemes.join(" or ")),
            };
            let what = if def.write {
                "changes data"
            } else {
                "needs scopes"
            };
            return Some(server.auth.required(
                Some(id),
                &format!("tool `{}` {what} and needs {how}", def.name),
                def.scopes,
            ));
        }
        let missing = caller.missing_scopes(def.scopes);
        if !missing.is_empty() {
            return Some(server.auth.insufficient_scope(Some(id), &missing));
        }
    }
    #[cfg(feature = "rate-limits")]
    if let Some(limits) = &server.limits
        && let Err(l) = limits
            .check_tool(
                def.name,
                caller,
                &ip_text(addr),
                server.backplane.as_deref(),
            )
            .await
    {
        return Some(too_many_requests(&l));
    }
    #[cfg(not(feature = "rate-limits"))]
    let _ = addr;
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn hostnames_drop_ports_and_keep_brackets() {
        assert_eq!(hostname("localhost:8080"), "localhost");
        assert_eq!(hostname("[::1]:3000"), "[::1]");
        assert_eq!(hostname("example.com"), "example.com");
    }

    #[test]
    fn accept_matches_wildcards() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/*;q=0.5"),
        );
        assert!(accepts(&h, "application/json"));
        assert!(accepts(&h, "text/event-stream"));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!accepts(&h, "text/event-stream"));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("Application/JSON;q=1, TEXT/*"),
        );
        assert!(accepts(&h, "application/json"), "case-insensitive");
        assert!(
            accepts(&h, "text/event-stream"),
            "case-insensitive wildcard"
        );
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        assert!(accepts(&h, "text/event-stream"));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("image/*, text/html"),
        );
        assert!(!accepts(&h, "application/json"));
    }
}
