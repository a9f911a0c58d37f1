//! MSign: per-request Ed25519 signatures (the scheme is specified in `docs/msign.md`).
//!
//! Every request carries `Authorization: MSign handle="…", kid="…", ts=…, nonce="…",
//! sig="…"`: a signature over the method, path, time, nonce, the SHA-256 of the body and the
//! session id. Nothing secret is shared with the server and nothing replayable is stored by
//! the client: a stolen header is useless for another request, and a stolen session id gives
//! no write access because every write needs a fresh signature.

pub mod header;
pub mod keys;
pub mod signing;
pub mod verify;

use futures::future::BoxFuture;

pub use header::MSignHeader;
pub use keys::{KeyStore, KeyStoreError, MemoryKeyStore, RegisteredKey, key_id, parse_public_key};
pub use signing::{MSignSigner, canonical_string};
pub use verify::{AuthError, MSignVerifier, SignedRequest};

use super::seam::{Authenticator, Credentials, Refusal};
use crate::handler::ctx::{Identity, Scheme};

impl Authenticator for MSignVerifier {
    fn scheme(&self) -> Scheme {
        Scheme::MSign
    }

    fn authenticate<'a>(
        &'a self,
        c: &'a Credentials<'a>,
    ) -> BoxFuture<'a, Result<Identity, Refusal>> {
        Box::pin(async move {
            let signed = SignedRequest {
                authorization: c.authorization,
                method: c.method,
                target: c.target,
                body: c.body,
                session_id: c.session_id,
            };
            self.verify(&signed).await.map_err(|e| match e {
                AuthError::Unavailable(_) => Refusal::unavailable(e.to_string()),
                e => Refusal::invalid(e.reason(), e.to_string()),
            })
        })
    }

    fn challenge(&self, realm: &str, _refusal: Option<&Refusal>, _scope: Option<&str>) -> String {
        format!("MSign realm=\"{}\"", super::seam::quoted_safe(realm))
    }
}
