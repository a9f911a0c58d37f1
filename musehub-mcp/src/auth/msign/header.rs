//! The `Authorization: MSign ...` header: its grammar, parsing and formatting.
//!
//! ```text
//! credentials = "MSign" 1*SP param *( OWS "," OWS param )
//! param       = name "=" ( token / quoted-string )      ; names are case-insensitive
//! ```
//! Parameters may come in any order; each known one at most once; unknown ones are ignored
//! (room for future versions). The known parameters and their value syntax:
//!
//! | param | value |
//! |---|---|
//! | `handle` | 1-64 of `A-Z a-z 0-9 _ . -` |
//! | `kid` | the key id: 1-64 base64url characters |
//! | `ts` | Unix time in seconds, 1-12 decimal digits |
//! | `nonce` | 16-128 base64url characters, fresh per request |
//! | `sig` | the Ed25519 signature, base64url without padding (86 characters) |
//!
//! The whole header is at most [`MAX_HEADER_LEN`] bytes.

use std::fmt::Write as _;

/// Longest accepted `Authorization` header.
pub const MAX_HEADER_LEN: usize = 2048;

/// The parsed parameters of an MSign header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MSignHeader {
    /// Who signs.
    pub handle: String,
    /// Which of their keys.
    pub kid: String,
    /// When (Unix seconds).
    pub ts: u64,
    /// A value never reused within the skew window.
    pub nonce: String,
    /// The base64url signature.
    pub sig: String,
}

/// Why a header could not be parsed; the message names the part at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed MSign header: {0}")]
pub struct HeaderError(pub String);

fn err(msg: impl Into<String>) -> HeaderError {
    HeaderError(msg.into())
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn is_b64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Splits the parameter list into `(name, value)` pairs, unquoting quoted strings.
fn params(mut rest: &str) -> Result<Vec<(String, String)>, HeaderError> {
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            break;
        }
        let eq = rest.find('=').ok_or_else(|| err("expected name=value"))?;
        let name = &rest[..eq];
        if name.is_empty() || !name.chars().all(is_token_char) {
            return Err(err("a parameter name is not a token"));
        }
        rest = &rest[eq + 1..];
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = q.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    '\\' => match chars.next() {
                        Some((_, e)) => v.push(e),
                        None => return Err(err("unterminated escape")),
                    },
                    c if c.is_control() => return Err(err("control character in a quoted value")),
                    c => v.push(c),
                }
            }
            let end = end.ok_or_else(|| err("unterminated quoted value"))?;
            value = v;
            rest = &q[end + 1..];
        } else {
            let end = rest.find([',', ' ', '\t']).unwrap_or(rest.len());
            let v = &rest[..end];
            if v.is_empty() || !v.chars().all(is_token_char) {
                return Err(err(format!(
                    "parameter `{}` has an invalid value",
                    crate::util::truncate(name, 32)
                )));
            }
            value = v.to_string();
            rest = &rest[end..];
        }
        out.push((name.to_ascii_lowercase(), value));
        rest = rest.trim_start_matches([' ', '\t']);
        match rest.strip_prefix(',') {
            Some(r) => rest = r,
            None if rest.is_empty() => break,
            None => return Err(err("parameters must be separated by commas")),
        }
    }
    Ok(out)
}

impl MSignHeader {
    /// Parses an `Authorization` header value. The scheme name is case-insensitive.
    pub fn parse(value: &str) -> Result<Self, HeaderError> {
        if value.len() > MAX_HEADER_LEN {
            return Err(err(format!("longer than {MAX_HEADER_LEN} bytes")));
        }
        let (scheme, rest) = value
            .split_once([' ', '\t'])
            .ok_or_else(|| err("expected `MSign <params>`"))?;
        if !scheme.eq_ignore_ascii_case("MSign") {
            return Err(err("the scheme must be MSign"));
        }
        let mut handle = None;
        let mut kid = None;
        let mut ts = None;
        let mut nonce = None;
        let mut sig = None;
        for (name, v) in params(rest)? {
            let slot = match name.as_str() {
                "handle" => &mut handle,
                "kid" => &mut kid,
                "ts" => &mut ts,
                "nonce" => &mut nonce,
                "sig" => &mut sig,
                _ => continue,
            };
            if slot.replace(v).is_some() {
                return Err(err(format!("`{name}` appears twice")));
            }
        }
        let handle = handle.ok_or_else(|| err("missing `handle`"))?;
        if handle.is_empty()
            || handle.len() > 64
            || !handle
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            return Err(err(
                "`handle` must be 1-64 of letters, digits, `_`, `.`, `-`",
            ));
        }
        let kid = kid.ok_or_else(|| err("missing `kid`"))?;
        if kid.is_empty() || kid.len() > 64 || !is_b64url(&kid) {
            return Err(err("`kid` must be 1-64 base64url characters"));
        }
        let ts_text = ts.ok_or_else(|| err("missing `ts`"))?;
        if ts_text.is_empty() || ts_text.len() > 12 || !ts_text.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err("`ts` must be Unix seconds (1-12 digits)"));
        }
        let ts = ts_text
            .parse()
            .map_err(|_| err("`ts` must be Unix seconds (1-12 digits)"))?;
        let nonce = nonce.ok_or_else(|| err("missing `nonce`"))?;
        if !(16..=128).contains(&nonce.len()) || !is_b64url(&nonce) {
            return Err(err("`nonce` must be 16-128 base64url characters"));
        }
        let sig = sig.ok_or_else(|| err("missing `sig`"))?;
        if sig.len() != 86 || !is_b64url(&sig) {
            return Err(err(
                "`sig` must be an Ed25519 signature in base64url without padding (86 characters)",
            ));
        }
        Ok(Self {
            handle,
            kid,
            ts,
            nonce,
            sig,
        })
    }

    /// Formats the header value, in the canonical parameter order.
    pub fn to_header_value(&self) -> String {
        let mut s = String::with_capacity(200);
        let _ = write!(
            s,
            "MSign handle=\"{}\", kid=\"{}\", ts={}, nonce=\"{}\", sig=\"{}\"",
            self.handle, self.kid, self.ts, self.nonce, self.sig
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str =
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    fn sample() -> MSignHeader {
        MSignHeader {
            handle: "ada".into(),
            kid: "k1".into(),
            ts: 1_764_150_000,
            nonce: "bm9uY2Utbm9uY2Utbm9uY2U".into(),
            sig: SIG.into(),
        }
    }

    #[test]
    fn round_trips_and_ignores_order_case_and_unknown_params() {
        let h = sample();
        assert_eq!(MSignHeader::parse(&h.to_header_value()), Ok(h.clone()));
        let shuffled = format!(
            "msign  SIG=\"{SIG}\",ts=1764150000 ,future=\"x\", nonce=bm9uY2Utbm9uY2Utbm9uY2U, Kid=\"k1\", handle=\"ada\""
        );
        assert_eq!(MSignHeader::parse(&shuffled), Ok(h));
    }

    #[test]
    fn rejects_each_malformation_with_a_reason() {
        let e = |v: &str| MSignHeader::parse(v).unwrap_err().0;
        assert_eq!(e("Bearer abc"), "the scheme must be MSign");
        assert_eq!(e("MSign"), "expected `MSign <params>`");
        assert!(e("MSign handle=\"a\", handle=\"b\"").contains("twice"));
        assert_eq!(
            e(&format!(
                "MSign kid=k, ts=1, nonce=bm9uY2Utbm9uY2Utbm9uY2U, sig={SIG}"
            )),
            "missing `handle`"
        );
        assert!(
            e(&format!(
                "MSign handle=\"a b\", kid=k, ts=1, nonce=bm9uY2Utbm9uY2Utbm9uY2U, sig={SIG}"
            ))
            .contains("handle")
        );
        assert_eq!(
            e(&format!(
                "MSign handle=a, kid=k, ts=-1, nonce=bm9uY2Utbm9uY2Utbm9uY2U, sig={SIG}"
            )),
            "`ts` must be Unix seconds (1-12 digits)"
        );
        assert!(e("MSign handle=a, kid=k, ts=(1)").contains("invalid value"));
        assert!(
            e(&format!(
                "MSign handle=a, kid=k, ts=1, nonce=short, sig={SIG}"
            ))
            .contains("nonce")
        );
        assert!(
            e("MSign handle=a, kid=k, ts=1, nonce=bm9uY2Utbm9uY2Utbm9uY2U, sig=abc")
                .contains("sig")
        );
        assert_eq!(
            e("MSign handle=\"unterminated"),
            "unterminated quoted value"
        );
        assert_eq!(
            e("MSign handle=a kid=b"),
            "parameters must be separated by commas"
        );
        assert!(e(&"x".repeat(3000)).contains("longer"));
        assert_eq!(
            e("MSign handle=\"a\u{1}\""),
            "control character in a quoted value"
        );
    }
}
