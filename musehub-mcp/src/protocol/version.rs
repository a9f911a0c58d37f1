//! MCP protocol revisions served on one endpoint.

use std::fmt;
use std::str::FromStr;

/// A protocol revision this server speaks. Ordered oldest to newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// The first published revision.
    V2024_11_05,
    /// Added Streamable HTTP, batching, tool annotations.
    V2025_03_26,
    /// Removed batching; structured tool output, elicitation, `MCP-Protocol-Version`.
    V2025_06_18,
    /// Icons, URL elicitation, SSE polling, tool naming rules.
    V2025_11_25,
    /// The modern era: no handshake and no session; every request carries its version and
    /// client capabilities in `_meta` (basic/versioning.mdx of 2026-07-28).
    V2026_07_28,
}

impl ProtocolVersion {
    /// Every handshake-era revision, oldest first.
    pub const HANDSHAKE: &'static [ProtocolVersion] = &[
        Self::V2024_11_05,
        Self::V2025_03_26,
        Self::V2025_06_18,
        Self::V2025_11_25,
    ];
    /// The newest handshake-era revision, answered when a client asks for one we lack.
    pub const LATEST: ProtocolVersion = Self::V2025_11_25;
    /// Revisions served per request, without a handshake.
    pub const MODERN: &'static [ProtocolVersion] = &[Self::V2026_07_28];
    /// Every revision, newest first: the `supportedVersions` of `server/discover`.
    pub const ALL_NEWEST_FIRST: &'static [ProtocolVersion] = &[
        Self::V2026_07_28,
        Self::V2025_11_25,
        Self::V2025_06_18,
        Self::V2025_03_26,
        Self::V2024_11_05,
    ];

    /// True for revisions of the modern (per-request metadata) era.
    pub fn is_modern(self) -> bool {
        self >= Self::V2026_07_28
    }

    /// The revision's date string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2024_11_05 => "2024-11-05",
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
        }
    }

    /// JSON-RPC batches are part of exactly one revision (2025-03-26 added them,
    /// 2025-06-18 removed them).
    pub fn allows_batches(self) -> bool {
        self == Self::V2025_03_26
    }

    /// Structured tool output (`outputSchema`, `structuredContent`) exists from 2025-06-18.
    pub fn has_structured_output(self) -> bool {
        self >= Self::V2025_06_18
    }

    /// SSE priming events (an id with empty data) are sent only to 2025-11-25 clients
    /// (basic/transports.mdx, "Sending Messages to the Server", item 6).
    pub fn has_sse_priming(self) -> bool {
        self >= Self::V2025_11_25
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no revision we speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported protocol version")]
pub struct UnsupportedVersion;

impl FromStr for ProtocolVersion {
    type Err = UnsupportedVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL_NEWEST_FIRST
            .iter()
            .copied()
            .find(|v| v.as_str() == s)
            .ok_or(UnsupportedVersion)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_and_rejects_unknown() {
        assert_eq!("2025-03-26".parse(), Ok(ProtocolVersion::V2025_03_26));
        assert!("2099-01-01".parse::<ProtocolVersion>().is_err());
        assert!(ProtocolVersion::V2025_03_26.allows_batches());
        assert!(!ProtocolVersion::V2025_06_18.allows_batches());
        assert!(!ProtocolVersion::V2024_11_05.allows_batches());
        assert!("2026-07-28".parse::<ProtocolVersion>().unwrap().is_modern());
        assert!(!ProtocolVersion::LATEST.is_modern());
    }
}
