"""The Muse content-id scheme of docs/muse-protocol.md, written independently of the Rust
code (hashlib only), so the end-to-end tests also check that the hub and this spec agree.

- object id: SHA-256 of the bytes, lower-case hex;
- snapshot id: SHA-256 over ``path NUL object_id LF`` for each manifest entry in path order
  (byte order of the UTF-8 paths);
- commit id: SHA-256 of ``muse-commit-v1 LF [snapshot ID LF] (parent ID LF)* author A LF
  timestamp T LF LF message``.
"""

from __future__ import annotations

import datetime
import hashlib


def object_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def snapshot_id(manifest: dict[str, str]) -> str:
    h = hashlib.sha256()
    for path in sorted(manifest, key=lambda p: p.encode()):
        h.update(path.encode() + b"\0" + manifest[path].encode() + b"\n")
    return h.hexdigest()


def now() -> str:
    """The hub's timestamp form: RFC 3339 in UTC with microseconds and ``Z``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def commit_id(parents: list[str], snapshot: str | None, author: str, timestamp: str, message: str) -> str:
    text = "muse-commit-v1\n"
    if snapshot is not None:
        text += f"snapshot {snapshot}\n"
    for p in parents:
        text += f"parent {p}\n"
    text += f"author {author}\ntimestamp {timestamp}\n\n{message}"
    return hashlib.sha256(text.encode()).hexdigest()


def commit(parents: list[str], files: dict[str, bytes], author: str, message: str) -> tuple[dict, dict, list[dict]]:
    """One commit whose snapshot holds ``files``: its ``commits[]``, ``snapshots[]`` and
    ``objects[]`` entries for ``muse_push`` (objects base64)."""
    import base64

    manifest = {path: object_id(data) for path, data in files.items()}
    snap = snapshot_id(manifest)
    ts = now()
    cid = commit_id(parents, snap, author, ts, message)
    c = {"commit_id": cid, "parent_ids": parents, "message": message, "author": author, "timestamp": ts, "snapshot_id": snap}
    s = {"snapshot_id": snap, "manifest": manifest}
    objects = [
        {"object_id": object_id(data), "path": path, "content_b64": base64.b64encode(data).decode()}
        for path, data in files.items()
    ]
    return c, s, objects


# The vectors of docs/muse-protocol.md (also asserted by muse-core's unit tests).
assert object_id(b"hello\n") == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
