//! The request side of RFC 6750: the token from `Authorization: Bearer`, never from the query
//! string, and the `WWW-Authenticate: Bearer` challenges (with RFC 9728's
//! `resource_metadata`) that answer a missing, invalid or under-scoped token.

use http::{HeaderMap, HeaderValue, Uri, header};

use super::TokenError;

/// The bearer token of `Authorization: Bearer <token>` (the scheme name in any case).
///
/// `Ok(None)` when there is no `Authorization` header or it names another scheme (MSign, ...),
/// so several schemes can sit side by side. A broken Bearer header is refused with
/// [`TokenError::InvalidRequest`]: an empty token, characters outside RFC 6750's `b64token`,
/// or a Bearer header among several `Authorization` headers (which one would count is
/// ambiguous).
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, TokenError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    let several = values.next().is_some();
    let all = headers.get_all(header::AUTHORIZATION);
    let any_bearer = all.iter().any(|v| is_bearer_scheme(v.as_bytes()));
    if several {
        return if any_bearer {
            Err(TokenError::InvalidRequest("several Authorization headers"))
        } else {
            Ok(None)
        };
    }
    if !is_bearer_scheme(first.as_bytes()) {
        return Ok(None);
    }
    let Ok(text) = first.to_str() else {
        return Err(TokenError::InvalidRequest(
            "the bearer token is not visible ASCII",
        ));
    };
    let token = text[6..].trim_start_matches(' ');
    if token.is_empty() {
        return Err(TokenError::InvalidRequest("empty bearer token"));
    }
    if !is_b64token(token) {
        return Err(TokenError::InvalidRequest(
            "the bearer token has characters outside RFC 6750's b64token",
        ));
    }
    Ok(Some(token))
}

/// True when the header value's scheme is `Bearer` (any case) followed by a space or nothing.
fn is_bearer_scheme(value: &[u8]) -> bool {
    value.len() >= 6
        && value[..6].eq_ignore_ascii_case(b"bearer")
        && (value.len() == 6 || value[6] == b' ')
}

/// RFC 6750 section 2.1: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

/// True when the URI's query carries an `access_token` parameter (RFC 6750 section 2.3).
/// The MCP specification forbids tokens in the query string: a guard refuses such a request
/// (with [`TokenError::InvalidRequest`]) instead of reading or ignoring the token, so the
/// client learns of the leak.
pub fn query_has_access_token(uri: &Uri) -> bool {
    uri.query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .any(|(name, _)| name.eq_ignore_ascii_case("access_token"))
    })
}

/// Keeps the characters RFC 6750 allows inside a quoted challenge parameter for `kind`.
fn quoted(text: &str, allowed: fn(char) -> bool) -> String {
    text.chars().filter(|&c| allowed(c)).take(512).collect()
}

/// `%x20-21 / %x23-5B / %x5D-7E`: printable ASCII without `"` and `\` (error_description).
fn description_char(c: char) -> bool {
    matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// `%x21 / %x23-5B / %x5D-7E` and the separating space (scope, error, URLs).
fn token_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

fn scope_char(c: char) -> bool {
    c == ' ' || token_char(c)
}

/// `WWW-Authenticate: Bearer resource_metadata="…", scope="…", error="…",
/// error_description="…"` (RFC 6750 section 3 with RFC 9728 section 5.1).
///
/// `resource_metadata_url` is the Protected Resource Metadata URL the client discovers the
/// authorization server from; `scope` the scopes the request needs (space-separated);
/// `error` the RFC 6750 error code and description (`invalid_token`, `insufficient_scope`,
/// `invalid_request`), left out on a request that carried no token at all. Characters that
/// may not appear inside the quotes are dropped.
pub fn challenge(
    resource_metadata_url: &str,
    scope: Option<&str>,
    error: Option<(&str, &str)>,
) -> HeaderValue {
    let mut params = vec![format!(
        "resource_metadata=\"{}\"",
        quoted(resource_metadata_url, token_char)
    )];
    if let Some(scope) = scope.map(str::trim).filter(|s| !s.is_empty()) {
        params.push(format!("scope=\"{}\"", quoted(scope, scope_char)));
    }
    if let Some((code, description)) = error {
        params.push(format!("error=\"{}\"", quoted(code, token_char)));
        if !description.is_empty() {
            params.push(format!(
                "error_description=\"{}\"",
                quoted(description, description_char)
            ));
        }
    }
    HeaderValue::from_str(&format!("Bearer {}", params.join(", ")))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

/// The challenge for a refused token: `error` from [`TokenError::oauth_error`] and the
/// error's [`reason`](TokenError::reason) as the description (never the token).
pub fn invalid_token(
    resource_metadata_url: &str,
    scope: Option<&str>,
    error: &TokenError,
) -> HeaderValue {
    let code = error.oauth_error().unwrap_or("invalid_token");
    challenge(resource_metadata_url, scope, Some((code, error.reason())))
}

/// The 403 challenge for a token without the scopes an operation needs (the
/// specification's step-up authorization): `error="insufficient_scope"` and every required
/// scope in one `scope` parameter.
pub fn insufficient_scope(resource_metadata_url: &str, required: &[&str]) -> HeaderValue {
    let scope = required.join(" ");
    challenge(
        resource_metadata_url,
        Some(&scope),
        Some((
            "insufficient_scope",
            &format!("this operation needs the scope {scope}"),
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for v in [
            "Bearer abc.def-_~+/=",
            "bearer abc.def-_~+/=",
            "BEARER  abc.def-_~+/=",
        ] {
            assert_eq!(bearer_token(&headers(&[v])).unwrap(), Some("abc.def-_~+/="));
        }
    }

    #[test]
    fn other_schemes_and_no_header_are_not_bearer() {
        assert_eq!(bearer_token(&HeaderMap::new()).unwrap(), None);
        assert_eq!(
            bearer_token(&headers(&["MSign handle=\"a\", kid=\"k\""])).unwrap(),
            None
        );
        assert_eq!(
            bearer_token(&headers(&["Basic dXNlcjpwdw=="])).unwrap(),
            None
        );
        assert_eq!(bearer_token(&headers(&["Bearerish x"])).unwrap(), None);
    }

    #[test]
    fn broken_bearer_headers_are_invalid_requests() {
        for v in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a\"b",
            "Bearer ===",
        ] {
            let e = bearer_token(&headers(&[v])).unwrap_err();
            assert_eq!(e.reason(), "invalid_request", "{v}");
        }
        let e = bearer_token(&headers(&["Bearer a", "Bearer b"])).unwrap_err();
        assert_eq!(
            e,
            TokenError::InvalidRequest("several Authorization headers")
        );
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        );
        assert_eq!(bearer_token(&h).unwrap_err().reason(), "invalid_request");
    }

    #[test]
    fn access_token_in_the_query_is_detected() {
        let yes: [Uri; 4] = [
            "/mcp?access_token=abc".parse().unwrap(),
            "/mcp?x=1&access_token=".parse().unwrap(),
            "/mcp?access%5Ftoken=abc".parse().unwrap(),
            "/mcp?ACCESS_TOKEN=abc".parse().unwrap(),
        ];
        for u in &yes {
            assert!(query_has_access_token(u), "{u}");
        }
        let no: [Uri; 3] = [
            "/mcp".parse().unwrap(),
            "/mcp?token=abc".parse().unwrap(),
            "/mcp?x=access_token".parse().unwrap(),
        ];
        for u in &no {
            assert!(!query_has_access_token(u), "{u}");
        }
    }

    #[test]
    fn challenges_carry_resource_metadata_scope_and_error() {
        let url = "https://hub.example/.well-known/oauth-protected-resource/mcp";
        assert_eq!(
            challenge(url, None, None).to_str().unwrap(),
            "Bearer resource_metadata=\"https://hub.example/.well-known/oauth-protected-resource/mcp\""
        );
        assert_eq!(
            challenge(url, Some("repo:read repo:write"), None)
                .to_str()
                .unwrap(),
            "Bearer resource_metadata=\"https://hub.example/.well-known/oauth-protected-resource/mcp\", scope=\"repo:read repo:write\""
        );
        assert_eq!(
            invalid_token(url, None, &TokenError::Expired)
                .to_str()
                .unwrap(),
            "Bearer resource_metadata=\"https://hub.example/.well-known/oauth-protected-resource/mcp\", error=\"invalid_token\", error_description=\"expired\""
        );
        assert_eq!(
            insufficient_scope(url, &["repo:write"]).to_str().unwrap(),
            "Bearer resource_metadata=\"https://hub.example/.well-known/oauth-protected-resource/mcp\", scope=\"repo:write\", error=\"insufficient_scope\", error_description=\"this operation needs the scope repo:write\""
        );
    }

    #[test]
    fn quotes_cannot_be_broken_out_of() {
        let v = challenge(
            "https://h/\"x\\",
            Some("a\"b"),
            Some(("invalid_token", "bad \"desc\"\r\n")),
        );
        assert_eq!(
            v.to_str().unwrap(),
            "Bearer resource_metadata=\"https://h/x\", scope=\"ab\", error=\"invalid_token\", error_description=\"bad desc\""
        );
    }
}
