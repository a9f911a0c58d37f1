//! Session binding: a session opened by an authenticated `initialize` belongs to that caller's
//! handle, so a session id that leaks (a log line, a proxy) is useless to anyone else. The
//! rule is pure, so the transport only maps its answer to a status.

use crate::handler::Caller;

/// Whether a request may use a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// The request may use the session.
    Allowed,
    /// Authenticated as someone other than the owner: 403.
    OtherCaller,
    /// Anonymous, on a route only the owner may use (reading the session's stream, ending
    /// it): 401 with the challenges.
    NeedsCredentials,
}

/// The rule for a session owned by `owner` (`None` for an anonymous `initialize`, which any
/// caller may continue) and a request from `caller`. `owner_only` marks the routes that
/// reveal or end the session (`GET`, `DELETE`): there an anonymous request is refused too.
/// On `POST`, an owned session still accepts anonymous requests, which then run as
/// anonymous (the caller is the request's, never the session's).
pub fn check(owner: Option<&str>, caller: &Caller, owner_only: bool) -> Binding {
    match (owner, caller.handle()) {
        (None, _) => Binding::Allowed,
        (Some(o), Some(h)) if o == h => Binding::Allowed,
        (Some(_), Some(_)) => Binding::OtherCaller,
        (Some(_), None) if owner_only => Binding::NeedsCredentials,
        (Some(_), None) => Binding::Allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::ctx::{Identity, Scheme};

    fn as_(handle: &str) -> Caller {
        Caller::authenticated(Identity::new(handle, Scheme::MSign))
    }

    #[test]
    fn an_anonymous_session_is_anyones() {
        for owner_only in [false, true] {
            assert_eq!(
                check(None, &Caller::anonymous(), owner_only),
                Binding::Allowed
            );
            assert_eq!(check(None, &as_("ada"), owner_only), Binding::Allowed);
        }
    }

    #[test]
    fn an_owned_session_is_its_owners() {
        for owner_only in [false, true] {
            assert_eq!(
                check(Some("ada"), &as_("ada"), owner_only),
                Binding::Allowed
            );
            assert_eq!(
                check(Some("ada"), &as_("bob"), owner_only),
                Binding::OtherCaller
            );
        }
        // The handle is compared exactly: no case folding, no prefix match.
        assert_eq!(check(Some("ada"), &as_("Ada"), false), Binding::OtherCaller);
        assert_eq!(
            check(Some("ada"), &as_("ada2"), false),
            Binding::OtherCaller
        );
    }

    #[test]
    fn anonymous_requests_may_post_but_not_read_or_end_an_owned_session() {
        assert_eq!(
            check(Some("ada"), &Caller::anonymous(), false),
            Binding::Allowed
        );
        assert_eq!(
            check(Some("ada"), &Caller::anonymous(), true),
            Binding::NeedsCredentials
        );
    }

    #[test]
    fn the_scheme_does_not_matter_only_the_handle() {
        let bearer = Caller::authenticated(Identity::new("ada", Scheme::Bearer));
        assert_eq!(check(Some("ada"), &bearer, true), Binding::Allowed);
    }
}
