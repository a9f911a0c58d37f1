//! RFC 6570 level-1 URI templates (`musehub://repos/{owner}/{slug}`): expansion and matching.
//!
//! Level 1 is simple string expansion: a variable's value is percent-encoded so that it never
//! contains a reserved character, so on the way back a variable matches a non-empty run of
//! characters up to the next literal and never spans a `/`, `?` or `#`. Matched values are
//! percent-decoded and must be valid UTF-8; a value that decodes to contain `/` is refused, so
//! `%2F` cannot smuggle a path separator into a handler.

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
            let name = &after[..close];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(TemplateError(source.into()));
            }
            if matches!(parts.last(), Some(Part::Var(_))) {
                // Two adjacent variables cannot be told apart when matching.
                return Err(TemplateError(source.into()));
            }
            parts.push(Part::Var(name.to_string()));
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
            Part::Var(v) => Some(v.as_str()),
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
                        percent_encode_into(value, &mut out);
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

fn percent_encode_into(value: &str, out: &mut String) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
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
    fn rejects_bad_templates() {
        assert!(UriTemplate::parse("x://{a}{b}").is_err());
        assert!(UriTemplate::parse("x://{+a}").is_err());
        assert!(UriTemplate::parse("x://a}").is_err());
    }
}
