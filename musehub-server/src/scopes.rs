//! The hub's OAuth scopes, shared by agent tokens, the authorization server and the
//! resource server's scope checks.
//!
//! - `repo:read`: read tools and resources as the signed-in user (private repositories it can
//!   see, its feed, its tokens).
//! - `repo:write`: the write tools (create and change repositories, issues, proposals,
//!   releases; push). It implies `repo:read`, as the specification asks resource servers to
//!   honour scope hierarchies.

/// Reading as the signed-in user.
pub const READ: &str = "repo:read";
/// Writing (implies [`READ`]).
pub const WRITE: &str = "repo:write";
/// Every scope the hub defines.
pub const ALL: [&str; 2] = [READ, WRITE];
/// What agent tokens and authorizations without a `scope` get.
pub const AGENT_DEFAULT: [&str; 2] = [READ, WRITE];
/// The OpenID/OAuth scope some clients add to ask for refresh tokens; accepted and dropped
/// (the hub issues refresh tokens to clients registered for the `refresh_token` grant).
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The broader scopes that also grant `scope` (for `TokenInfo::missing_scopes`).
pub fn implied_by(scope: &str) -> Vec<String> {
    match scope {
        READ => vec![WRITE.to_string()],
        _ => Vec::new(),
    }
}

/// The narrower scopes `scope` grants with it (for the resource server's Bearer scheme, which
/// adds them to a token's scopes): `repo:write` → `repo:read`.
pub fn implies(scope: &str) -> Vec<String> {
    match scope {
        WRITE => vec![READ.to_string()],
        _ => Vec::new(),
    }
}

/// True when `granted` (space-separated) grants `required`, directly or through a broader
/// scope.
pub fn grants(granted: &[String], required: &str) -> bool {
    granted.iter().any(|g| g == required)
        || implied_by(required).iter().any(|b| granted.contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_implies_read() {
        let w = vec![WRITE.to_string()];
        assert!(grants(&w, READ));
        assert!(grants(&w, WRITE));
        let r = vec![READ.to_string()];
        assert!(grants(&r, READ));
        assert!(!grants(&r, WRITE));
    }

    #[test]
    fn implies_is_the_converse_of_implied_by() {
        assert_eq!(implies(WRITE), vec![READ.to_string()]);
        assert!(implies(READ).is_empty());
        for s in ALL {
            for narrower in implies(s) {
                assert!(implied_by(&narrower).contains(&s.to_string()));
            }
        }
    }
}
