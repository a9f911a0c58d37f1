//! Argument types and checks shared by the tools of every domain: how a call names a repository
//! ([`RepoRef`]), what it needs to do with it ([`Need`]), limits and required strings.

use musehub_mcp::prelude::*;

/// How a tool names a repository: `repo_id`, or `owner` + `slug`. Tools take it as
/// `#[arg(flatten)] repo_ref: RepoRef`, so the three arguments are top-level in every tool's
/// schema and described once, here. Empty strings count as absent.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct RepoRef {
    /// Repository id (UUID). Alternatively, provide 'owner' + 'slug'.
    pub repo_id: Option<String>,
    /// Repository owner handle (use with 'slug').
    pub owner: Option<String>,
    /// Repository slug (use with 'owner').
    pub slug: Option<String>,
}

impl RepoRef {
    /// From the three optional arguments.
    pub fn new(repo_id: Option<String>, owner: Option<String>, slug: Option<String>) -> Self {
        let clean = |s: Option<String>| s.filter(|v| !v.trim().is_empty());
        RepoRef {
            repo_id: clean(repo_id),
            owner: clean(owner),
            slug: clean(slug),
        }
    }
    /// The same reference with empty strings dropped.
    pub fn cleaned(&self) -> Self {
        RepoRef::new(self.repo_id.clone(), self.owner.clone(), self.slug.clone())
    }
    /// By owner and slug.
    pub fn by_name(owner: &str, slug: &str) -> Self {
        RepoRef::new(None, Some(owner.into()), Some(slug.into()))
    }
    /// The repository as the caller named it, for messages.
    pub(crate) fn describe(&self) -> String {
        match (&self.repo_id, &self.owner, &self.slug) {
            (Some(id), _, _) => id.clone(),
            (None, Some(o), Some(s)) => format!("{o}/{s}"),
            _ => String::new(),
        }
    }
}

/// What the caller needs to do with a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read it (public, or the caller is the owner or a collaborator).
    Read,
    /// Change its content or settings (the owner or a collaborator).
    Maintain,
}

pub(crate) fn clamp_limit(limit: Option<i64>, default: i64) -> i64 {
    limit.unwrap_or(default).clamp(1, 100)
}

pub(crate) fn require(value: &str, name: &str) -> Result<(), ToolError> {
    if value.trim().is_empty() {
        return Err(ToolError::invalid_argument(format!(
            "`{name}` must not be empty"
        )));
    }
    Ok(())
}
