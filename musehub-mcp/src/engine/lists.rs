//! The four list results, serialised into pages once at start-up, with opaque cursors.
//!
//! Pagination (server/utilities/pagination.mdx): the cursor is opaque to clients; ours is the
//! URL-safe base64 of `<list>:<page>`, so a cursor from one list is refused by another.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::error::McpError;
use crate::registry::Registry;

/// One list's pages.
pub struct Pages {
    key: &'static str,
    pages: Vec<Bytes>,
}

impl Pages {
    fn build(
        key: &'static str,
        items: Vec<&Value>,
        page_size: usize,
        extra: &Map<String, Value>,
    ) -> Self {
        let page_size = page_size.max(1);
        let chunks: Vec<&[&Value]> = if items.is_empty() {
            vec![&[]]
        } else {
            items.chunks(page_size).collect()
        };
        let count = chunks.len();
        let pages = chunks
            .into_iter()
            .enumerate()
            .map(|(i, chunk)| {
                let mut m = extra.clone();
                m.insert(
                    key.into(),
                    Value::Array(chunk.iter().map(|v| (*v).clone()).collect()),
                );
                if i + 1 < count {
                    m.insert("nextCursor".into(), cursor(key, i + 1).into());
                }
                Bytes::from(Value::Object(m).to_string())
            })
            .collect();
        Self { key, pages }
    }

    /// The page a cursor points at (the first page without one).
    pub fn page(&self, cursor: Option<&str>) -> Result<Bytes, McpError> {
        let index = match cursor {
            None => 0,
            Some(c) => decode(self.key, c)
                .filter(|&i| i < self.pages.len())
                .ok_or_else(|| McpError::invalid_params("invalid cursor"))?,
        };
        Ok(self.pages[index].clone())
    }

    /// Number of pages.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.pages.len()
    }
}

fn cursor(key: &str, page: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{key}:{page}"))
}

fn decode(key: &str, cursor: &str) -> Option<usize> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    let (k, n) = text.split_once(':')?;
    (k == key).then_some(())?;
    n.parse().ok()
}

/// The pre-serialised pages of every list.
pub struct Lists {
    /// `tools/list`.
    pub tools: Pages,
    /// `resources/list`.
    pub resources: Pages,
    /// `resources/templates/list`.
    pub templates: Pages,
    /// `prompts/list`.
    pub prompts: Pages,
}

impl Lists {
    /// Serialises every list of the registry, each page with `extra` fields beside the items
    /// (the 2026-07-28 era's `resultType`, caching hints and `_meta`).
    pub fn build(registry: &Registry, page_size: usize, extra: &Map<String, Value>) -> Self {
        Self {
            tools: Pages::build(
                "tools",
                registry.tools.iter().map(|t| &t.listing).collect(),
                page_size,
                extra,
            ),
            resources: Pages::build(
                "resources",
                registry.resources.iter().map(|r| &r.listing).collect(),
                page_size,
                extra,
            ),
            templates: Pages::build(
                "resourceTemplates",
                registry.templates.iter().map(|t| &t.listing).collect(),
                page_size,
                extra,
            ),
            prompts: Pages::build(
                "prompts",
                registry.prompts.iter().map(|p| &p.listing).collect(),
                page_size,
                extra,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cursors_advance_and_are_list_specific() {
        let items: Vec<Value> = (0..5).map(|i| json!({"name": i})).collect();
        let pages = Pages::build("tools", items.iter().collect(), 2, &Map::new());
        assert_eq!(pages.len(), 3);
        let first: Value = serde_json::from_slice(&pages.page(None).unwrap()).unwrap();
        let next = first["nextCursor"].as_str().unwrap().to_string();
        let second: Value = serde_json::from_slice(&pages.page(Some(&next)).unwrap()).unwrap();
        assert_eq!(second["tools"], json!([{"name": 2}, {"name": 3}]));
        let third: Value =
            serde_json::from_slice(&pages.page(second["nextCursor"].as_str()).unwrap()).unwrap();
        assert!(third.get("nextCursor").is_none());
        assert!(pages.page(Some("garbage!")).is_err());
        let other = Pages::build("prompts", items.iter().collect(), 2, &Map::new());
        assert!(other.page(Some(&next)).is_err());
    }
}
