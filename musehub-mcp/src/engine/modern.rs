//! The 2026-07-28 era's results: `resultType` and the server's identity on every result
//! (spliced into the serialised result, so no `_meta` tree is built per call), caching hints,
//! and `server/discover`.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::config::ServerConfig;
use crate::engine::ServerInfo;
use crate::protocol::modern::META_SERVER_INFO;
use crate::protocol::version::ProtocolVersion;

/// What every 2026-07-28 result carries, built once per server.
pub(crate) struct ModernResultFields {
    /// `{"io.modelcontextprotocol/serverInfo": {name, version, title}}`.
    pub(crate) meta: Value,
    /// `,"resultType":"complete","_meta":{...}}`: the end of a result object.
    tail: Bytes,
}

impl ModernResultFields {
    pub(crate) fn new(info: &ServerInfo) -> Self {
        let mut server_info = Map::new();
        server_info.insert("name".into(), info.name.clone().into());
        server_info.insert("version".into(), info.version.clone().into());
        if let Some(t) = &info.title {
            server_info.insert("title".into(), t.clone().into());
        }
        let meta = json!({ META_SERVER_INFO: server_info });
        let mut tail = br#","resultType":"complete","_meta":"#.to_vec();
        tail.extend_from_slice(meta.to_string().as_bytes());
        tail.push(b'}');
        Self {
            meta,
            tail: Bytes::from(tail),
        }
    }

    /// Closes a serialised result object that has neither `resultType` nor `_meta` with both:
    /// `{...}` becomes `{...,"resultType":"complete","_meta":{...}}`, in place.
    pub(crate) fn splice(&self, result: &mut Vec<u8>) {
        if result.last() != Some(&b'}') {
            return;
        }
        result.pop();
        let tail = &self.tail[..];
        if result.last() == Some(&b'{') {
            result.extend_from_slice(&tail[1..]);
        } else {
            result.extend_from_slice(tail);
        }
    }

    /// How many bytes [`splice`](Self::splice) adds.
    pub(crate) fn len(&self) -> usize {
        self.tail.len()
    }

    /// The fields every cacheable list result carries (merged into the pre-serialised pages).
    pub(crate) fn list_fields(&self, config: &ServerConfig) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("resultType".into(), "complete".into());
        m.insert("ttlMs".into(), config.cache.list_ttl_ms.into());
        m.insert("cacheScope".into(), config.cache.list_scope.clone().into());
        m.insert("_meta".into(), self.meta.clone());
        m
    }

    /// The `server/discover` result.
    pub(crate) fn discover(
        &self,
        config: &ServerConfig,
        capabilities: &Value,
        instructions: Option<&str>,
    ) -> Value {
        let supported: Vec<&str> = ProtocolVersion::ALL_NEWEST_FIRST
            .iter()
            .map(|v| v.as_str())
            .collect();
        let mut m = Map::new();
        m.insert("resultType".into(), "complete".into());
        m.insert("supportedVersions".into(), json!(supported));
        m.insert("capabilities".into(), capabilities.clone());
        if let Some(i) = instructions {
            m.insert("instructions".into(), i.into());
        }
        m.insert("ttlMs".into(), config.cache.discover_ttl_ms.into());
        m.insert("cacheScope".into(), config.cache.list_scope.clone().into());
        m.insert("_meta".into(), self.meta.clone());
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> ModernResultFields {
        ModernResultFields::new(&ServerInfo {
            name: "s".into(),
            version: "1".into(),
            title: Some("T \"q\"".into()),
            instructions: None,
        })
    }

    #[test]
    fn the_tail_closes_empty_and_filled_results_into_valid_json() {
        let f = fields();
        let expected_meta =
            json!({META_SERVER_INFO: {"name": "s", "version": "1", "title": "T \"q\""}});
        assert_eq!(f.meta, expected_meta);
        for mut result in [json!({}), json!({"content": [], "isError": false})] {
            let mut out = serde_json::to_vec(&result).unwrap();
            f.splice(&mut out);
            let parsed: Value = serde_json::from_slice(&out).expect("valid JSON");
            result["resultType"] = "complete".into();
            result["_meta"] = expected_meta.clone();
            assert_eq!(parsed, result);
        }
    }
}
