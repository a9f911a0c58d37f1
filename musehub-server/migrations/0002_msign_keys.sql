-- MSign (docs/msign.md): public keys are looked up by handle (through users) and key id; each
-- key is a human's or an agent's (with the agent's name); revoked keys stay, marked, so that
-- they never verify again and `keys list` still shows them.
ALTER TABLE signing_keys ADD COLUMN kid TEXT;
ALTER TABLE signing_keys ADD COLUMN is_agent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE signing_keys ADD COLUMN agent_name TEXT;
ALTER TABLE signing_keys ADD COLUMN revoked_at TEXT;
-- The first demo seed stored placeholder keys without a key id; nobody holds their secret
-- halves and they could never verify: drop them.
DELETE FROM signing_keys WHERE kid IS NULL;
CREATE UNIQUE INDEX signing_keys_user_kid ON signing_keys (user_id, kid);
CREATE INDEX signing_keys_kid ON signing_keys (kid);
