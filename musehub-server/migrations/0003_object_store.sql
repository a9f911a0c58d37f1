-- Object bytes move out of the database into the content-addressed object store (files under
-- the objects directory, named by SHA-256; see docs/muse-protocol.md). `objects` keeps the
-- metadata; `content_b64` stays for rows written before this migration, whose bytes the
-- server moves into the store at start-up (then sets the column to NULL).
--
-- An object uploaded over HTTP (PUT .../objects/{id}) is staged for the repository and the
-- uploader until a push names it: only then does it get its `objects` row (with the path the
-- snapshot gives it). A push may name only objects already in the repository or staged by
-- the pusher, so knowing an object's hash is never enough to read it from another repository.
CREATE TABLE staged_objects (
    repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    object_id TEXT NOT NULL,
    handle TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (repo_id, object_id, handle)
);
CREATE INDEX staged_objects_handle ON staged_objects (handle);

-- One-time codes that let a remote machine register a signing key for a handle
-- (`musehub-server keys invite`, then `muse auth enroll` / musehub_enroll_key). Only the
-- SHA-256 of the code is kept; a code works once, before it expires.
CREATE TABLE enrollment_codes (
    id TEXT PRIMARY KEY,
    handle TEXT NOT NULL,
    code_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    kid TEXT
);
CREATE INDEX enrollment_codes_handle ON enrollment_codes (handle);
