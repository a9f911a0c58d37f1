//! RFC 6570 URI templates of levels 1 and 2 (`musehub://repos/{owner}/{slug}/blob/{+path}`):
//! expansion and matching.
//!
//! - `{name}` (level 1, simple expansion): the value is percent-encoded so that it never
//!   contains a reserved character, so on the way back it matches a non-empty run of characters
//!   up to the next literal and never spans a `/`, `?` or `#`. A value that decodes to contain
//!   `/` is refused, so `%2F` cannot smuggle a path separator into a handler.
//! - `{+name}` (level 2, reserved expansion): the value may contain `/` (a file path, a branch
//!   such as `feature/bridge`); it never spans `?` or `#`, and a value with an empty, `.` or
//!   `..` segment, or a leading `/`, is refused, so it cannot climb out of its place.
//!
//! Matched values are percent-decoded and must be valid UTF-8.

use std::collections::HashMap;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var(String),
    Reserved(String),
}

/// A malformed template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URI template `{0}`")]
pub struct TemplateError(pub String);

impl UriTemplate {
    /// Parses `{name}` variables; any other brace use is an error.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| TemplateError(source.into()))?;
            let raw = &after[..close];
            let (reserved, name) = match raw.strip_prefix('+') {
                Some(n) => (true, n),
                None => (false, raw),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(TemplateError(source.into()));
            }
            // A repeated name could match two different values (fuzzing found it): refuse it.
            if parts
                .iter()
                .any(|p| matches!(p, Part::Var(v) | Part::Reserved(v) if v == name))
            {
                return Err(TemplateError(source.into()));
            }
            if matches!(parts.last(), Some(Part::Var(_) | Part::Reserved(_))) {
                // Two adjacent variables cannot be told apart when matching.
                return Err(TemplateError(source.into()));
            }
            parts.push(if reserved {
                Part::Reserved(name.to_string())
            } else {
                Part::Var(name.to_string())
            });
            rest = &after[close + 1..];
        }
        if rest.contains('}') {
            return Err(TemplateError(source.into()));
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Self {
            source: source.to_string(),
            parts,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The variable names in order.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) | Part::Reserved(v) => Some(v.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Expands the template, percent-encoding every value (RFC 6570 §3.2.2).
    pub fn expand(&self, vars: &HashMap<String, String>) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Literal(l) => out.push_str(l),
                Part::Var(v) => {
                    if let Some(value) = vars.get(v) {
                        percent_encode_into(value, &mut out, "");
                    }
                }
                Part::Reserved(v) => {
                    if let Some(value) = vars.get(v) {
                        percent_encode_into(value, &mut out, RESERVED);
                    }
                }
            }
        }
        out
    }

    /// Matches a concrete URI, returning the decoded variables.
    pub fn matches(&self, uri: &str) -> Option<HashMap<String, String>> {
        let mut vars = HashMap::new();
        let mut rest = uri;
        let mut i = 0;
        while i < self.parts.len() {
            match &self.parts[i] {
                Part::Literal(l) => rest = rest.strip_prefix(l.as_str())?,
                Part::Reserved(name) => {
                    // Greedy: the value runs to the last occurrence of the next literal before
                    // any query or fragment.
                    let stop = rest.find(['?', '#']).unwrap_or(rest.len());
                    let end = match self.parts.get(i + 1) {
                        Some(Part::Literal(next)) => rest[..stop].rfind(next.as_str())?,
                        _ => stop,
                    };
                    if end == 0 {
                        return None;
                    }
                    let value = percent_decode(&rest[..end])?;
                    if value.starts_with('/')
                        || value
                            .split('/')
                            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
                    {
                        return None;
                    }
                    vars.insert(name.clone(), value);
                    rest = &rest[end..];
                }
                Part::Var(name) => {
                    // The value runs to the next literal (or the end) and never crosses a
                    // delimiter that expansion would have encoded.
                    let stop = rest.find(['/', '?', '#']).unwrap_or(rest.len());
                    let end = match self.parts.get(i + 1) {
                        Some(Part::Literal(next)) => {
                            rest[..].find(next.as_str()).filter(|&e| e <= stop)?
                        }
                        _ => stop,
                    };
                    if end == 0 {
                        return None;
                    }
                    let value = percent_decode(&rest[..end])?;
                    if value.contains('/') {
                        return None;
                    }
                    vars.insert(name.clone(), value);
                    rest = &rest[end..];
                }
            }
            i += 1;
        }
        rest.is_empty().then_some(vars)
    }
}

/// RFC 3986 reserved characters, kept as they are by `{+name}` expansion.
const RESERVED: &str = ":/?#[]@!$&'()*+,;=";

fn percent_encode_into(value: &str, out: &mut String, keep: &str) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (b.is_ascii() && keep.contains(b as char))
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// Decodes `%XX` escapes; `None` on a malformed escape or invalid UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn matches_and_decodes() {
        let t = UriTemplate::parse("musehub://repos/{owner}/{slug}").unwrap();
        assert_eq!(
            t.matches("musehub://repos/alice/my%20song"),
            Some(vars(&[("owner", "alice"), ("slug", "my song")]))
        );
        assert_eq!(t.matches("musehub://repos/alice"), None);
        assert_eq!(t.matches("musehub://repos/alice/x/y"), None);
        assert_eq!(t.matches("musehub://repos//x"), None);
    }

    #[test]
    fn refuses_encoded_separators_and_bad_escapes() {
        let t = UriTemplate::parse("x://f/{name}").unwrap();
        assert_eq!(t.matches("x://f/..%2Fetc"), None);
        assert_eq!(t.matches("x://f/%ZZ"), None);
        assert_eq!(t.matches("x://f/%FF"), None);
    }

    #[test]
    fn literal_after_variable() {
        let t = UriTemplate::parse("test://template/{id}/data").unwrap();
        assert_eq!(
            t.matches("test://template/123/data"),
            Some(vars(&[("id", "123")]))
        );
        assert_eq!(t.matches("test://template/123/other"), None);
    }

    #[test]
    fn expand_then_match_round_trips() {
        let t = UriTemplate::parse("m://{a}/x-{b}").unwrap();
        let v = vars(&[("a", "dir/with slash"), ("b", "ü?#")]);
        assert_eq!(
            t.matches(&t.expand(&v)),
            None,
            "a value with '/' is refused on the way back"
        );
        let v = vars(&[("a", "plain name"), ("b", "ü?#")]);
        assert_eq!(t.matches(&t.expand(&v)), Some(v));
    }

    #[test]
    fn reserved_variables_span_slashes_but_not_upwards() {
        let t = UriTemplate::parse("musehub://repos/{owner}/{slug}/blob/{ref}/{+path}").unwrap();
        assert_eq!(
            t.matches("musehub://repos/a/b/blob/main/tracks/intro%20v2.mid"),
            Some(vars(&[
                ("owner", "a"),
                ("slug", "b"),
                ("ref", "main"),
                ("path", "tracks/intro v2.mid")
            ]))
        );
        assert_eq!(t.matches("musehub://repos/a/b/blob/main/../secrets"), None);
        assert_eq!(t.matches("musehub://repos/a/b/blob/main/x/%2E%2E/y"), None);
        assert_eq!(t.matches("musehub://repos/a/b/blob/main//etc"), None);
        let r = UriTemplate::parse("m://tree/{+ref}/files").unwrap();
        assert_eq!(
            r.matches("m://tree/feature/bridge/files"),
            Some(vars(&[("ref", "feature/bridge")]))
        );
        let v = vars(&[("ref", "feature/bridge x")]);
        assert_eq!(r.expand(&v), "m://tree/feature/bridge%20x/files");
        assert_eq!(r.matches(&r.expand(&v)), Some(v));
    }

    #[test]
    fn rejects_bad_templates() {
        assert!(UriTemplate::parse("x://{a}{b}").is_err());
        assert!(UriTemplate::parse("x://{#a}").is_err());
        assert!(UriTemplate::parse("x://{a}/b/{+a}").is_err());
        assert!(UriTemplate::parse("x://a}").is_err());
    }
}
