//! Several verifiers side by side: the hub's own opaque agent tokens (`mha_…`) and JWTs from
//! an authorization server, each checked by the verifier for its kind, chosen by the token's
//! shape so that one kind never reaches the other's verifier (an opaque token is never sent
//! to an introspection endpoint it does not belong to).

use std::sync::Arc;

use futures::future::BoxFuture;

use super::{TokenError, TokenInfo, TokenVerifier, looks_like_jwt};

enum Route {
    Prefix(String),
    Jwt,
    Any,
}

/// A verifier choosing, per token, the first route that matches.
#[derive(Default)]
pub struct RoutedVerifier {
    routes: Vec<(Route, Arc<dyn TokenVerifier>)>,
}

impl RoutedVerifier {
    /// No routes yet (every token is refused as malformed).
    pub fn new() -> Self {
        Self::default()
    }
    /// Tokens starting with `prefix` go to `verifier`.
    pub fn prefix(mut self, prefix: impl Into<String>, verifier: Arc<dyn TokenVerifier>) -> Self {
        self.routes.push((Route::Prefix(prefix.into()), verifier));
        self
    }
    /// Tokens shaped like a compact JWS (three base64url parts) go to `verifier`.
    pub fn jwt(mut self, verifier: Arc<dyn TokenVerifier>) -> Self {
        self.routes.push((Route::Jwt, verifier));
        self
    }
    /// Every token no earlier route took goes to `verifier` (an introspection endpoint).
    pub fn otherwise(mut self, verifier: Arc<dyn TokenVerifier>) -> Self {
        self.routes.push((Route::Any, verifier));
        self
    }
}

impl TokenVerifier for RoutedVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<TokenInfo, TokenError>> {
        let chosen = self.routes.iter().find(|(route, _)| match route {
            Route::Prefix(p) => token.starts_with(p.as_str()),
            Route::Jwt => looks_like_jwt(token),
            Route::Any => true,
        });
        match chosen {
            Some((_, v)) => v.verify(token),
            None => Box::pin(async { Err(TokenError::Malformed("unrecognised token".into())) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Named(&'static str);
    impl TokenVerifier for Named {
        fn verify<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<TokenInfo, TokenError>> {
            Box::pin(async move { Ok(TokenInfo::new(self.0)) })
        }
    }

    #[tokio::test]
    async fn tokens_reach_the_verifier_for_their_shape() {
        let v = RoutedVerifier::new()
            .prefix("mha_", Arc::new(Named("store")))
            .jwt(Arc::new(Named("jwt")));
        assert_eq!(v.verify("mha_abc").await.unwrap().subject(), "store");
        assert_eq!(v.verify("aa.bb.cc").await.unwrap().subject(), "jwt");
        assert_eq!(v.verify("opaque").await.unwrap_err().reason(), "malformed");
        let v = v.otherwise(Arc::new(Named("introspection")));
        assert_eq!(v.verify("opaque").await.unwrap().subject(), "introspection");
    }
}
