-- MuseHub schema. Portable SQL: runs unchanged on SQLite and PostgreSQL.
-- Identifiers are TEXT (UUIDs, or content hashes for commits and objects), integers are
-- BIGINT, booleans are BIGINT 0/1, timestamps are RFC 3339 UTC TEXT with microseconds (so
-- they sort as text), JSON documents are TEXT.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    handle TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    bio TEXT NOT NULL DEFAULT '',
    is_agent BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE repos (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    visibility TEXT NOT NULL,
    domain TEXT NOT NULL DEFAULT '@muse/midi',
    domain_meta TEXT NOT NULL DEFAULT '{}',
    tags TEXT NOT NULL DEFAULT '[]',
    default_branch TEXT NOT NULL DEFAULT 'main',
    forked_from TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner, slug)
);
CREATE INDEX repos_owner ON repos (owner);

CREATE TABLE collaborators (
    repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    handle TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'write',
    created_at TEXT NOT NULL,
    PRIMARY KEY (repo_id, handle)
);

CREATE TABLE branches (
    id TEXT PRIMARY KEY,
    repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    head_commit_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (repo_id, name)
);

CREATE TABLE commits (
    repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    commit_id TEXT NOT NULL,
    parent_ids TEXT NOT NULL DEFAULT '[]',
    author TEXT NOT NULL,
    message TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    snapshot_id TEXT,
    branch TEXT NOT NULL,
    pushed_at TEXT NOT NULL,
    PRIMARY KEY (repo_id, commit_id)
);
CREATE INDEX commits_repo_time ON commits (repo_id, timestamp);

CREATE TABLE snapshots (
    repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    snapshot_id TEXT NOT NULL,
    manifest TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    PRIMARY KEY (repo_id, snapshot_id)
);

CREATE TABLE objects (
    repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    object_id TEXT NOT NULL,
    path TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    mime_type TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    content_b64 TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (repo_id, object_id)
);
CREATE INDEX objects_path ON objects (repo_id, path);

CREATE TABLE labels (
    id TEXT PRIMARY KEY,
    repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    color TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    UNIQUE (repo_id, name)
);

CREATE TABLE issues (
    id TEXT PRIMARY KEY,
    repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'open',
    author TEXT NOT NULL,
    assignee TEXT,
    labels TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (repo_id, number)
);

CREATE TABLE issue_comments (
    id TEXT PRIMARY KEY,
    issue_id TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE proposals (
    id TEXT PRIMARY KEY,
    repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'open',
    from_branch TEXT NOT NULL,
    to_branch TEXT NOT NULL,
    author TEXT NOT NULL,
    merge_strategy TEXT,
    merge_commit_id TEXT,
    merged_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    merged_at TEXT,
    UNIQUE (repo_id, number)
);

CREATE TABLE proposal_comments (
    id TEXT PRIMARY KEY,
    proposal_id TEXT NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    dimension TEXT NOT NULL DEFAULT 'general',
    track TEXT,
    beat_start DOUBLE PRECISION,
    beat_end DOUBLE PRECISION,
    created_at TEXT NOT NULL
);

CREATE TABLE proposal_reviews (
    id TEXT PRIMARY KEY,
    proposal_id TEXT NOT NULL REFERENCES proposals(id) ON DELETE CASCADE,
    reviewer TEXT NOT NULL,
    event TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

CREATE TABLE releases (
    id TEXT PRIMARY KEY,
    repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    commit_id TEXT,
    channel TEXT NOT NULL DEFAULT 'stable',
    pre_release BIGINT NOT NULL DEFAULT 0,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (repo_id, tag)
);

CREATE TABLE stars (
    repo_id TEXT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    handle TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (repo_id, handle)
);

CREATE TABLE domains (
    id TEXT PRIMARY KEY,
    author_slug TEXT NOT NULL,
    slug TEXT NOT NULL,
    display_name TEXT NOT NULL,
    description TEXT NOT NULL,
    capabilities TEXT NOT NULL DEFAULT '{}',
    viewer_type TEXT NOT NULL,
    version TEXT NOT NULL,
    verified BIGINT NOT NULL DEFAULT 0,
    published_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (author_slug, slug)
);

CREATE TABLE activity (
    id TEXT PRIMARY KEY,
    repo_id TEXT,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX activity_time ON activity (created_at);

CREATE TABLE agent_tokens (
    id TEXT PRIMARY KEY,
    handle TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    handle TEXT NOT NULL,
    kind TEXT NOT NULL,
    service TEXT NOT NULL,
    repo_id TEXT,
    status TEXT NOT NULL,
    elicitation_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
