//! How a server presents itself on its documentation surfaces (`/mcp/docs`, `/mcp/docs.json`):
//! settings read by the `docs` layer, configured on the builder.

/// How clients authenticate, shown in the manifest and on the page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthScheme {
    /// The scheme's name, e.g. `MSign` or `Bearer`.
    pub scheme: String,
    /// The HTTP header that carries the credentials, e.g. `Authorization`.
    pub header: String,
    /// What the scheme is and how to obtain credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A worked example (how to sign a request, the header to send), shown verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// Where to read more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
}

impl AuthScheme {
    /// A scheme named `scheme`, carried in `header`.
    pub fn new(scheme: impl Into<String>, header: impl Into<String>) -> Self {
        Self {
            scheme: scheme.into(),
            header: header.into(),
            description: None,
            example: None,
            docs_url: None,
        }
    }
    /// What the scheme is and how to get credentials.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
    /// A worked example, shown verbatim (for instance how to compute a signature).
    pub fn example(mut self, text: impl Into<String>) -> Self {
        self.example = Some(text.into());
        self
    }
    /// A link to the scheme's documentation.
    pub fn docs_url(mut self, url: impl Into<String>) -> Self {
        self.docs_url = Some(url.into());
        self
    }
}

/// A described tool category (the value of `#[tool(category = "...")]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryInfo {
    /// The id used in `#[tool(category = "id")]`.
    pub id: String,
    /// The heading shown.
    pub title: String,
    /// A sentence under the heading.
    pub description: Option<String>,
}

/// Settings of the documentation surfaces. Defaults: enabled, relative URLs, no auth scheme,
/// categories in alphabetical order and uncategorised tools last under "Tools".
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DocsOptions {
    enabled: bool,
    public_url: Option<String>,
    description: Option<String>,
    auth: Vec<AuthScheme>,
    pub(crate) categories: Vec<CategoryInfo>,
    pub(crate) default_category: String,
}

impl Default for DocsOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            public_url: None,
            description: None,
            auth: Vec::new(),
            categories: Vec::new(),
            default_category: "Tools".into(),
        }
    }
}

impl DocsOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// No documentation routes (the offline functions still work).
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }
    /// The public origin (`https://host[:port]`), making the endpoint and docs URLs absolute.
    /// Without it URLs are paths and the page fills in the origin it was loaded from.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.public_url = Some(url.trim_end_matches('/').to_string());
        self
    }
    /// A paragraph introducing the server (defaults to the server's instructions).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
    /// Describes an authentication scheme the server accepts (call once per scheme; the
    /// first is shown first).
    pub fn auth(mut self, scheme: AuthScheme) -> Self {
        self.auth.push(scheme);
        self
    }
    /// Describes a category; described categories come first, in the order described.
    pub fn category(
        mut self,
        id: impl Into<String>,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        let description: String = description.into();
        self.categories.push(CategoryInfo {
            id: id.into(),
            title: title.into(),
            description: (!description.is_empty()).then_some(description),
        });
        self
    }
    /// The heading of tools declared without a category (default "Tools").
    pub fn default_category(mut self, title: impl Into<String>) -> Self {
        self.default_category = title.into();
        self
    }

    /// Are the routes mounted?
    pub fn enabled(&self) -> bool {
        self.enabled
    }
    /// The introduction configured with [`description`](Self::description), if any.
    pub fn description_text(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// The configured public origin.
    pub fn public_origin(&self) -> Option<&str> {
        self.public_url.as_deref()
    }
    /// The first described auth scheme.
    pub fn auth_scheme(&self) -> Option<&AuthScheme> {
        self.auth.first()
    }
    /// Every described auth scheme.
    pub fn auth_schemes(&self) -> &[AuthScheme] {
        &self.auth
    }
    /// The described categories, in order.
    pub fn categories(&self) -> &[CategoryInfo] {
        &self.categories
    }

    #[cfg(feature = "docs")]
    /// `path` made absolute with the public origin, when one is configured.
    pub(crate) fn url(&self, path: &str) -> String {
        match &self.public_url {
            Some(origin) => format!("{origin}{path}"),
            None => path.to_string(),
        }
    }
}
