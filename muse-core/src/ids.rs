//! Content ids: what makes a Muse object, snapshot or commit the same on every machine.
//!
//! - **Object**: the lower-case hex SHA-256 of its bytes ([`object_id`], [`ObjectHasher`] for
//!   streams).
//! - **Snapshot**: the SHA-256 over `path NUL object_id LF` for each entry of the manifest in
//!   path order (byte order of the UTF-8 paths) ([`snapshot_id`]).
//! - **Commit**: the SHA-256 of this text, in UTF-8, lines ending in LF ([`commit_id`]):
//!
//!   ```text
//!   muse-commit-v1
//!   snapshot <snapshot id>      (omitted when the commit records no snapshot)
//!   parent <commit id>          (one line per parent, in order; none for a root commit)
//!   author <author>
//!   timestamp <RFC 3339 UTC time, ending in Z>
//!                               (an empty line)
//!   <message, as is, to the end>
//!   ```
//!
//!   Every field before the message is one line, so none of them may hold a line break; the
//!   message comes last and may hold anything.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// A snapshot manifest: path to object id.
pub type Manifest = BTreeMap<String, String>;

/// The first line of a commit's canonical encoding.
pub const COMMIT_VERSION: &str = "muse-commit-v1";

/// Longest author accepted, in bytes.
pub const MAX_AUTHOR_BYTES: usize = 256;

/// Why a commit's fields cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The author is empty, too long, or holds a control character (a line break would
    /// make the encoding ambiguous).
    #[error("the author must be 1-{MAX_AUTHOR_BYTES} bytes without control characters")]
    InvalidAuthor,
    /// The timestamp is not an RFC 3339 time in UTC (`...Z`).
    #[error("the timestamp '{0}' is not an RFC 3339 time in UTC such as 2025-03-01T09:00:00Z")]
    InvalidTimestamp(String),
    /// A parent id is empty or holds whitespace or a control character.
    #[error("the parent id '{0}' is not a commit id")]
    InvalidParent(String),
    /// A snapshot id is not 64 lower-case hex digits.
    #[error("the snapshot id '{0}' is not 64 lower-case hex digits")]
    InvalidSnapshot(String),
}

/// The fields a commit id covers.
#[derive(Debug, Clone, Copy)]
pub struct CommitFields<'a> {
    /// Parent commit ids, in order (two for a merge).
    pub parents: &'a [String],
    /// The snapshot recorded, if any.
    pub snapshot_id: Option<&'a str>,
    /// Who made it (a handle or a name).
    pub author: &'a str,
    /// When, RFC 3339 in UTC.
    pub timestamp: &'a str,
    /// The message.
    pub message: &'a str,
}

/// True for 64 lower-case hex digits, the form of every id this crate computes.
pub fn is_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn hex(digest: impl AsRef<[u8]>) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(64);
    for b in digest.as_ref() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The id of an object: the SHA-256 of its bytes, lower-case hex.
pub fn object_id(bytes: &[u8]) -> String {
    hex(Sha256::digest(bytes))
}

/// [`object_id`] for bytes that arrive in pieces (a file read in blocks, an upload).
#[derive(Default, Clone)]
pub struct ObjectHasher {
    hash: Sha256,
    len: u64,
}

impl ObjectHasher {
    /// An empty hasher.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.hash.update(bytes);
        self.len += bytes.len() as u64;
    }
    /// Bytes seen so far.
    pub fn len(&self) -> u64 {
        self.len
    }
    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The object id of everything added.
    pub fn finish(self) -> String {
        hex(self.hash.finalize())
    }
}

/// The id of a snapshot: SHA-256 over `path NUL object_id LF` for each entry in path order,
/// hex. The same files give the same id on the hub and in every client.
pub fn snapshot_id(manifest: &Manifest) -> String {
    let mut h = Sha256::new();
    for (path, oid) in manifest {
        h.update(path.as_bytes());
        h.update([0u8]);
        h.update(oid.as_bytes());
        h.update([b'\n']);
    }
    hex(h.finalize())
}

/// True when `ts` is an RFC 3339 time in UTC written `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (the
/// form the hub writes, which sorts as text).
pub fn valid_timestamp(ts: &str) -> bool {
    ts.ends_with('Z')
        && ts.as_bytes().get(10) == Some(&b'T')
        && chrono::DateTime::parse_from_rfc3339(ts).is_ok()
}

fn one_line(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// The canonical encoding of a commit, whose SHA-256 is its id (see the module docs).
pub fn commit_encoding(c: &CommitFields<'_>) -> Result<String, IdError> {
    if c.author.is_empty() || c.author.len() > MAX_AUTHOR_BYTES || !one_line(c.author) {
        return Err(IdError::InvalidAuthor);
    }
    if !valid_timestamp(c.timestamp) {
        return Err(IdError::InvalidTimestamp(
            c.timestamp.chars().take(64).collect(),
        ));
    }
    let mut text = String::with_capacity(128 + c.message.len());
    text.push_str(COMMIT_VERSION);
    text.push('\n');
    if let Some(s) = c.snapshot_id {
        if !is_id(s) {
            return Err(IdError::InvalidSnapshot(s.chars().take(80).collect()));
        }
        text.push_str("snapshot ");
        text.push_str(s);
        text.push('\n');
    }
    for p in c.parents {
        if p.is_empty() || p.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
            return Err(IdError::InvalidParent(p.chars().take(80).collect()));
        }
        text.push_str("parent ");
        text.push_str(p);
        text.push('\n');
    }
    text.push_str("author ");
    text.push_str(c.author);
    text.push_str("\ntimestamp ");
    text.push_str(c.timestamp);
    text.push_str("\n\n");
    text.push_str(c.message);
    Ok(text)
}

/// The id of a commit: the SHA-256 of [`commit_encoding`], hex.
pub fn commit_id(c: &CommitFields<'_>) -> Result<String, IdError> {
    Ok(object_id(commit_encoding(c)?.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(entries: &[(&str, &str)]) -> Manifest {
        entries
            .iter()
            .map(|(p, o)| (p.to_string(), o.to_string()))
            .collect()
    }

    // The vectors of docs/muse-protocol.md, computed there with Python's hashlib.
    const HELLO: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const SNAP: &str = "46c47881b2d5dc25ce0b6374080b0918834d7fc694fe15a787e53049dec077d4";
    const ROOT: &str = "00c0757998b11f46175c5a76d034c5dec31e09b19198c6df6db21777b468d85c";
    const MERGE: &str = "acd1d66f032ee3fe94f730fb2adaa524201eb0ed43d76e83feb0111ce204f20a";

    #[test]
    fn object_ids_match_the_documented_vectors() {
        assert_eq!(object_id(b"hello\n"), HELLO);
        assert_eq!(object_id(b""), EMPTY);
        let mut h = ObjectHasher::new();
        h.update(b"hel");
        h.update(b"lo\n");
        assert_eq!(h.len(), 6);
        assert_eq!(h.finish(), HELLO);
    }

    #[test]
    fn snapshot_ids_match_the_documented_vectors() {
        let snap = m(&[("tracks/bass.mid", EMPTY), ("README.md", HELLO)]);
        assert_eq!(snapshot_id(&snap), SNAP);
        assert_eq!(snapshot_id(&Manifest::new()), EMPTY);
    }

    #[test]
    fn snapshot_ids_depend_on_content_only() {
        let a = m(&[("a", "1"), ("b", "2")]);
        let b = m(&[("b", "2"), ("a", "1")]);
        assert_eq!(snapshot_id(&a), snapshot_id(&b));
        assert_ne!(snapshot_id(&a), snapshot_id(&m(&[("a", "1")])));
        // The separator keeps "ab"+"c" apart from "a"+"bc".
        assert_ne!(
            snapshot_id(&m(&[("ab", "c")])),
            snapshot_id(&m(&[("a", "bc")]))
        );
    }

    #[test]
    fn commit_ids_match_the_documented_vectors() {
        let root = CommitFields {
            parents: &[],
            snapshot_id: Some(SNAP),
            author: "alice",
            timestamp: "2025-03-01T09:00:00.000000Z",
            message: "Initial commit",
        };
        assert_eq!(commit_id(&root).unwrap(), ROOT);
        let parents = [ROOT.to_string(), "0".repeat(64)];
        let merge = CommitFields {
            parents: &parents,
            snapshot_id: Some(SNAP),
            author: "bob",
            timestamp: "2025-03-02T10:30:00Z",
            message: "Merge\n\nboth sides",
        };
        assert_eq!(commit_id(&merge).unwrap(), MERGE);
    }

    #[test]
    fn every_field_changes_the_commit_id() {
        let parents = [ROOT.to_string()];
        let base = CommitFields {
            parents: &parents,
            snapshot_id: Some(SNAP),
            author: "alice",
            timestamp: "2025-03-01T09:00:00Z",
            message: "m",
        };
        let id = commit_id(&base).unwrap();
        let variants = [
            CommitFields {
                parents: &[],
                ..base
            },
            CommitFields {
                snapshot_id: None,
                ..base
            },
            CommitFields {
                author: "bob",
                ..base
            },
            CommitFields {
                timestamp: "2025-03-01T09:00:01Z",
                ..base
            },
            CommitFields {
                message: "m ",
                ..base
            },
        ];
        for v in variants {
            assert_ne!(commit_id(&v).unwrap(), id);
        }
    }

    #[test]
    fn fields_that_would_make_the_encoding_ambiguous_are_refused() {
        let base = CommitFields {
            parents: &[],
            snapshot_id: None,
            author: "alice",
            timestamp: "2025-03-01T09:00:00Z",
            message: "",
        };
        let bad_author = CommitFields {
            author: "alice\ntimestamp x",
            ..base
        };
        assert_eq!(commit_id(&bad_author), Err(IdError::InvalidAuthor));
        assert_eq!(
            commit_id(&CommitFields { author: "", ..base }),
            Err(IdError::InvalidAuthor)
        );
        for ts in [
            "yesterday",
            "2025-03-01T09:00:00+02:00",
            "2025-03-01 09:00:00Z",
        ] {
            assert!(matches!(
                commit_id(&CommitFields {
                    timestamp: ts,
                    ..base
                }),
                Err(IdError::InvalidTimestamp(_))
            ));
        }
        let parents = ["a b".to_string()];
        assert!(matches!(
            commit_id(&CommitFields {
                parents: &parents,
                ..base
            }),
            Err(IdError::InvalidParent(_))
        ));
        assert!(matches!(
            commit_id(&CommitFields {
                snapshot_id: Some("snap-x"),
                ..base
            }),
            Err(IdError::InvalidSnapshot(_))
        ));
    }

    #[test]
    fn ids_are_64_lower_case_hex_digits() {
        assert!(is_id(HELLO));
        assert!(!is_id(&HELLO.to_uppercase()));
        assert!(!is_id("c-new"));
        assert!(!is_id(&HELLO[1..]));
    }
}
