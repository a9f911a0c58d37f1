//! The view model of the page: what the templates render.

use serde::Serialize;

use crate::docs::schema_view::ParamRow;

/// A run of text, in code font or not.
#[derive(Serialize)]
pub(super) struct Span {
    pub(super) code: bool,
    pub(super) text: String,
}

/// A snippet of code whose origin part the page's script may replace.
#[derive(Serialize)]
pub(super) struct Snippet {
    pub(super) id: String,
    pub(super) parts: Vec<SnippetPart>,
}

#[derive(Serialize)]
pub(super) struct SnippetPart {
    pub(super) origin: bool,
    pub(super) text: String,
}

#[derive(Serialize)]
pub(super) struct Badge {
    pub(super) class: &'static str,
    pub(super) label: std::borrow::Cow<'static, str>,
    pub(super) hint: std::borrow::Cow<'static, str>,
}

#[derive(Serialize)]
pub(super) struct ToolView {
    pub(super) anchor: String,
    pub(super) name: String,
    pub(super) title: Option<String>,
    pub(super) description: Vec<Vec<Span>>,
    pub(super) search: String,
    pub(super) badges: Vec<Badge>,
    pub(super) params: Vec<ParamRow>,
    pub(super) output: Option<Vec<ParamRow>>,
    pub(super) output_wrapped: bool,
    /// Request, curl and schemas, shown as tabs of one code panel.
    pub(super) panels: Vec<Panel>,
    pub(super) source: String,
    pub(super) icon: Option<String>,
}

/// One tab of a tabbed code panel.
#[derive(Serialize)]
pub(super) struct Panel {
    pub(super) label: &'static str,
    pub(super) note: &'static str,
    pub(super) snippet: Snippet,
}

#[derive(Serialize)]
pub(super) struct GroupView {
    pub(super) anchor: String,
    pub(super) title: String,
    pub(super) description: Option<String>,
    pub(super) tools: Vec<ToolView>,
}

#[derive(Serialize)]
pub(super) struct ResourceView {
    pub(super) anchor: String,
    pub(super) name: String,
    pub(super) title: Option<String>,
    pub(super) uri: String,
    pub(super) mime_type: Option<String>,
    pub(super) description: Vec<Vec<Span>>,
    pub(super) search: String,
    pub(super) variables: Vec<VariableView>,
    pub(super) request: Snippet,
    pub(super) source: String,
    pub(super) icon: Option<String>,
}

#[derive(Serialize)]
pub(super) struct VariableView {
    pub(super) name: String,
    pub(super) completion: bool,
}

#[derive(Serialize)]
pub(super) struct PromptArgView {
    pub(super) name: String,
    pub(super) required: bool,
    pub(super) description: Option<String>,
    pub(super) completion: bool,
}

#[derive(Serialize)]
pub(super) struct PromptView {
    pub(super) anchor: String,
    pub(super) name: String,
    pub(super) title: Option<String>,
    pub(super) description: Vec<Vec<Span>>,
    pub(super) search: String,
    pub(super) arguments: Vec<PromptArgView>,
    pub(super) request: Snippet,
    pub(super) source: String,
    pub(super) icon: Option<String>,
}

#[derive(Serialize)]
pub(super) struct AuthView {
    pub(super) scheme: String,
    pub(super) header: String,
    pub(super) description: Vec<Vec<Span>>,
    pub(super) example: Option<String>,
    pub(super) docs_url: Option<String>,
}

#[derive(Serialize)]
pub(super) struct PageView {
    pub(super) name: String,
    pub(super) title: String,
    pub(super) version: String,
    pub(super) framework_version: &'static str,
    pub(super) intro: Vec<Vec<Span>>,
    pub(super) endpoint: Snippet,
    pub(super) fill_origin: bool,
    pub(super) manifest_url: String,
    pub(super) markdown_url: String,
    pub(super) schema_url: String,
    pub(super) css_url: String,
    pub(super) js_url: String,
    pub(super) icon_url: String,
    pub(super) handshake_versions: Vec<&'static str>,
    pub(super) modern_versions: Vec<&'static str>,
    pub(super) latest_handshake: &'static str,
    pub(super) session_header: String,
    pub(super) version_header: String,
    pub(super) auth: Vec<AuthView>,
    pub(super) write_tools: usize,
    pub(super) counts: Counts,
    pub(super) client_config: Snippet,
    pub(super) claude_add: Snippet,
    pub(super) curl_handshake: Snippet,
    pub(super) curl_modern: Snippet,
    pub(super) groups: Vec<GroupView>,
    pub(super) resources: Vec<ResourceView>,
    pub(super) templates: Vec<ResourceView>,
    pub(super) prompts: Vec<PromptView>,
}

#[derive(Serialize)]
pub(super) struct Counts {
    pub(super) tools: usize,
    pub(super) resources: usize,
    pub(super) templates: usize,
    pub(super) prompts: usize,
}
