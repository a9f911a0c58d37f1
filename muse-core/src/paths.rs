//! Which paths a snapshot may name.
//!
//! A client writes every path of a pulled snapshot into its working folder, so a path is
//! only valid when writing it cannot leave the folder or touch the client's own state: it is
//! relative, its segments are separated by `/`, none is empty, `.` or `..`, none holds a
//! backslash, a NUL or another control character, and the first is not `.muse` (the
//! client's state folder). At most [`MAX_PATH_BYTES`] bytes.

/// Longest path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;

/// The folder where a client keeps its state; no snapshot path may start with it.
pub const STATE_DIR: &str = ".muse";

/// Why a path is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{path}' is not a valid file path: {reason}")]
pub struct PathError {
    /// The path (cut to 200 characters).
    pub path: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Checks a snapshot path (see the module docs).
pub fn check_path(path: &str) -> Result<(), PathError> {
    let fail = |reason| {
        Err(PathError {
            path: path.chars().take(200).collect(),
            reason,
        })
    };
    if path.is_empty() {
        return fail("it is empty");
    }
    if path.len() > MAX_PATH_BYTES {
        return fail("it is longer than 1024 bytes");
    }
    if path.chars().any(|c| c.is_control()) {
        return fail("it holds a control character");
    }
    if path.contains('\\') {
        return fail("it holds a backslash (separate folders with '/')");
    }
    if path.starts_with('/') {
        return fail("it is absolute");
    }
    for (i, segment) in path.split('/').enumerate() {
        match segment {
            "" => return fail("it has an empty segment"),
            "." | ".." => return fail("it has a '.' or '..' segment"),
            s if i == 0 && s == STATE_DIR => return fail("it is inside .muse/"),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_paths_pass() {
        for p in [
            "README.md",
            "tracks/bass.mid",
            "stems/Take 2 (final).wav",
            "a/.muse/b",
            "..hidden",
            "dir/file.",
            "música/canción.mid",
        ] {
            assert_eq!(check_path(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn paths_that_escape_or_hit_the_state_folder_are_refused() {
        for p in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a/",
            ".muse/HEAD",
            ".muse",
            "a\\b",
            "a\0b",
            "a\nb",
        ] {
            assert!(check_path(p).is_err(), "{p:?}");
        }
        assert!(check_path(&"a".repeat(1025)).is_err());
    }
}
