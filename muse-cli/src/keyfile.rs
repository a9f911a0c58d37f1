//! Secret key files, in the format `musehub-server keys generate` writes: one line, the
//! 32-byte Ed25519 seed in base64url without padding (base64 and 64 hex digits are read too).

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::SigningKey;

use crate::error::{MuseError, Result};

/// Parses a key file's text.
pub fn parse(text: &str) -> Result<SigningKey> {
    let text = text.trim();
    let bad = |why: &str| MuseError::Config(format!("not a secret key file: {why}"));
    let raw: Vec<u8> = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad("not hex"))?
    } else {
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .or_else(|_| STANDARD.decode(text))
            .map_err(|_| bad("neither base64url, base64 nor hex"))?
    };
    let seed: [u8; 32] = raw
        .try_into()
        .map_err(|_| bad("an Ed25519 secret key is 32 bytes"))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Reads a key file.
pub fn read(path: &Path) -> Result<SigningKey> {
    let text = std::fs::read_to_string(path).map_err(MuseError::io("read", path))?;
    parse(&text)
}

/// Writes a new key file readable by its owner only (never overwriting one).
pub fn write(path: &Path, key: &SigningKey) -> Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(MuseError::io("create", dir))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(MuseError::io("create", path))?;
    writeln!(f, "{}", URL_SAFE_NO_PAD.encode(key.to_bytes()))
        .and_then(|_| f.sync_all())
        .map_err(MuseError::io("write", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_encodings_read_the_same_seed() {
        let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
        let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
        for text in [
            URL_SAFE_NO_PAD.encode(seed),
            STANDARD.encode(seed),
            hex,
            format!("  {}\n", URL_SAFE_NO_PAD.encode(seed)),
        ] {
            assert_eq!(parse(&text).unwrap().to_bytes(), seed, "{text}");
        }
        assert!(parse("short").is_err());
    }
}
