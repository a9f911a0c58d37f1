//! A second crate that declares MCP items, to prove the registry spans every crate linked
//! into a binary. Nothing here is referenced by name from the registry.

use musehub_mcp::prelude::*;

/// A score's key signature.
#[schema]
pub struct KeySignature {
    /// Tonic, e.g. `C#`.
    pub tonic: String,
    /// Major or minor.
    pub mode: Mode,
}

/// Major or minor.
#[schema]
#[derive(Debug)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Major.
    Major,
    /// Minor.
    Minor,
}

/// Transpose a key by a number of semitones.
#[tool(read_only, title = "Transpose")]
pub fn fixture_transpose(
    key: KeySignature,
    #[arg(desc = "Semitones, may be negative")] semitones: i32,
) -> String {
    format!("{} {:?} + {semitones}", key.tonic, key.mode)
}

/// A scale's notes.
#[resource(uri = "fixture://scales/{tonic}", mime_type = "text/plain")]
pub fn fixture_scale(tonic: String) -> String {
    format!("scale of {tonic}")
}

/// Suggest a chord progression.
#[prompt]
pub fn fixture_progression(#[arg(desc = "Musical style")] style: Option<String>) -> String {
    format!(
        "Suggest a progression in {} style.",
        style.as_deref().unwrap_or("any")
    )
}

/// Forces this crate's object code (and so its registrations) into the final binary: a
/// linker drops unreferenced archive members, and with them their `inventory` entries.
pub fn link() {}
