-- OAuth 2.1 (docs/auth.md): Bearer agent tokens and the embedded authorization server. Every
-- piece of state lives here, so any instance behind a load balancer verifies and redeems what
-- another issued. Secrets (tokens, codes, client secrets, login codes) are stored only as
-- their SHA-256 (lower-case hex); times the AS compares are BIGINT Unix seconds.

-- Agent tokens (`mha_...`): scopes, revocation, and the expiry as Unix seconds.
ALTER TABLE agent_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'repo:read repo:write';
ALTER TABLE agent_tokens ADD COLUMN revoked_at TEXT;
ALTER TABLE agent_tokens ADD COLUMN expires_unix BIGINT;
CREATE INDEX agent_tokens_handle ON agent_tokens (handle);

-- Registered clients: dynamic registration (RFC 7591) and fetched Client ID Metadata Documents.
CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    client_secret_hash TEXT,
    client_name TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL,
    metadata TEXT NOT NULL,
    fetched_at BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

-- Authorization requests waiting on the sign-in/consent page.
CREATE TABLE oauth_pending (
    id_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    state TEXT,
    scope TEXT NOT NULL,
    resource TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    csrf_hash TEXT NOT NULL,
    challenge TEXT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

-- A grant: everything issued from one authorization (its code, refresh tokens, access tokens).
-- Revoking it (code replay, refresh-token reuse, RFC 7009) revokes all of them.
CREATE TABLE oauth_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    handle TEXT NOT NULL,
    scope TEXT NOT NULL,
    resource TEXT NOT NULL,
    revoked_at BIGINT,
    created_at TEXT NOT NULL
);
CREATE INDEX oauth_grants_handle ON oauth_grants (handle);

CREATE TABLE oauth_codes (
    code_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at TEXT NOT NULL
);

CREATE TABLE oauth_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at TEXT NOT NULL
);
CREATE INDEX oauth_refresh_grant ON oauth_refresh_tokens (grant_id);

-- Access tokens revoked one by one (RFC 7009), by `jti`, kept until they would have expired.
CREATE TABLE oauth_revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

-- One-time sign-in codes printed by `musehub-server login-code`.
CREATE TABLE oauth_login_codes (
    code_hash TEXT PRIMARY KEY,
    handle TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at TEXT NOT NULL
);

-- The hub's token-signing keys (Ed25519), generated on first start; the public halves are the
-- JWKS. Retired keys stay published until the tokens they signed have expired.
CREATE TABLE oauth_signing_keys (
    kid TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    secret_key TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);
