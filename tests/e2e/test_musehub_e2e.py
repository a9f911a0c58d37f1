"""End to end: the official Python `mcp` client against the running `musehub-server` binary.

Driven by `tests/e2e/run.sh`, which generates a key with `musehub-server keys generate`, starts
the server on a fresh SQLite file with the demo hub, and passes:

    MUSEHUB_E2E_URL     the /mcp endpoint
    MUSEHUB_E2E_HANDLE  the handle the key is registered for
    MUSEHUB_E2E_KEY     the secret key file (base64url of the 32-byte Ed25519 seed)

Both protocol eras run: the SDK's `mode="legacy"` (the 2025-11-25 handshake, a session bound
to the signer) and `mode="2026-07-28"` (no session; elicitation through input_required rounds).

Requests are signed by the `MSignAuth` class of docs/msign.md ("## Signing in Python"),
extracted from the page and executed here, never copied: the documented code is the tested
code. The SDK (2.x) runs on httpx2; `httpx2.alias_httpx()` makes the hook's `import httpx`
resolve to it, so `MSignAuth` is an `httpx2.Auth`.
"""

from __future__ import annotations

# Before anything imports httpx: the documented hook's `import httpx` must be the SDK's httpx2.
import httpx2

httpx2.alias_httpx()

import base64  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import anyio  # noqa: E402
import muse_ids  # noqa: E402
import mcp_types as types  # noqa: E402
import pytest  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
URL = os.environ.get("MUSEHUB_E2E_URL", "")
# Set by tests/e2e/scale_out.sh: several instances sharing one Redis. The SDK then talks to
# URL while RoundRobin sends each of its HTTP requests to the next instance in turn.
URLS = [u for u in os.environ.get("MUSEHUB_E2E_URLS", "").split(",") if u]
HANDLE = os.environ.get("MUSEHUB_E2E_HANDLE", "")
KEY_FILE = os.environ.get("MUSEHUB_E2E_KEY", "")
TIMEOUT_S = 60

pytestmark = pytest.mark.skipif(not (URL and HANDLE and KEY_FILE), reason="run through tests/e2e/run.sh")


def load_documented_hook() -> type:
    """The ```python block under "## Signing in Python" in docs/msign.md, executed."""
    doc = (ROOT / "docs" / "msign.md").read_text(encoding="utf-8")
    section = doc.split("## Signing in Python", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {"__name__": "msign_doc"}
    exec(compile(code, "docs/msign.md (Signing in Python)", "exec"), namespace)
    return namespace["MSignAuth"]


MSignAuth = load_documented_hook()


def private_key() -> Ed25519PrivateKey:
    text = Path(KEY_FILE).read_text().strip()
    seed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return Ed25519PrivateKey.from_private_bytes(seed)


class RoundRobin(httpx2.AsyncBaseTransport):
    """A load balancer without sticky sessions: each request goes to the next instance."""

    def __init__(self, urls: list[str]) -> None:
        self.targets = [httpx2.URL(u) for u in urls]
        self.sent = 0
        self.inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        target = self.targets[self.sent % len(self.targets)]
        self.sent += 1
        request.url = request.url.copy_with(host=target.host, port=target.port)
        request.headers["host"] = f"{target.host}:{target.port}"
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Recorder:
    """Every HTTP exchange the SDK makes: (method, JSON-RPC method, status, headers)."""

    def __init__(self) -> None:
        self.exchanges: list[dict[str, Any]] = []

    async def on_response(self, response: httpx2.Response) -> None:
        req = response.request
        try:
            body = json.loads(req.content) if req.content else None
        except Exception:
            body = None
        self.exchanges.append(
            {
                "method": req.method,
                "rpc": body.get("method") if isinstance(body, dict) else None,
                "signed": "authorization" in req.headers,
                "port": req.url.port,
                "status": response.status_code,
                "headers": {k.lower(): v for k, v in response.headers.items()},
            }
        )


@asynccontextmanager
async def connect(
    *, mode: str = "legacy", signed: bool = True, recorder: Recorder | None = None, **kwargs: Any
) -> AsyncIterator[Client]:
    recorder = recorder or Recorder()
    http = httpx2.AsyncClient(
        auth=MSignAuth(HANDLE, private_key()) if signed else None,
        timeout=httpx2.Timeout(10.0, read=60.0),
        event_hooks={"response": [recorder.on_response]},
        transport=RoundRobin(URLS) if URLS else None,
    )
    with anyio.fail_after(TIMEOUT_S):
        async with http:
            async with Client(streamable_http_client(URL, http_client=http), mode=mode, **kwargs) as client:
                yield client


def structured(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result
    assert result.structured_content is not None, result
    return result.structured_content


def read_json(result: types.ReadResourceResult) -> Any:
    (content,) = result.contents
    assert isinstance(content, types.TextResourceContents), content
    assert content.mime_type == "application/json"
    return json.loads(content.text)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# The handshake era (2025-11-25: initialize, a session bound to the signer, elicitation on the
# call's stream) and the 2026-07-28 era (no session; elicitation as input_required rounds).
MODES = ["legacy", "2026-07-28"]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_the_whole_workflow_signed_with_the_documented_hook(mode: str) -> None:
    slug_name = f"E2E Suite {uuid.uuid4().hex[:8]}"
    recorder = Recorder()
    asked: list[types.ElicitRequestParams] = []
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_elicit(_ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params)
        return types.ElicitResult(
            action="accept",
            content={
                "tag": "v1.1.0",
                "title": "Interactive light",
                "release_notes": "Chosen in the form.",
                "channel": "stable",
                "highlight": "Signed end to end",
            },
        )

    async def on_progress(p: float, total: float | None, message: str | None) -> None:
        progress.append((p, total, message))

    async with connect(mode=mode, recorder=recorder, elicitation_callback=on_elicit) as client:
        # Who am I: the signature names the caller.
        who = structured(await client.call_tool("musehub_whoami", {}))
        assert who["handle"] == HANDLE

        # Create a repository.
        repo = structured(await client.call_tool("musehub_create_repo", {"name": slug_name, "tags": ["e2e"]}))["repo"]
        owner, slug = repo["owner"], repo["slug"]
        assert owner == HANDLE
        where = {"owner": owner, "slug": slug}

        branches = structured(await client.call_tool("musehub_list_branches", where))["branches"]
        (main,) = [b for b in branches if b["name"] == "main"]
        base = main["head_commit_id"]

        # Push two commits to a feature branch (atomic, fast-forward), with content ids.
        commit1, snap1, objs1 = muse_ids.commit([base], {"tracks/bridge.mid": b"bridge v1"}, HANDLE, "Sketch the bridge")
        commit2, snap2, objs2 = muse_ids.commit(
            [commit1["commit_id"]], {"tracks/bridge.mid": b"bridge v2"}, HANDLE, "Voice the bridge"
        )
        c2 = commit2["commit_id"]
        pushed = structured(
            await client.call_tool(
                "muse_push",
                {
                    **where,
                    "branch": "feature/bridge",
                    "head_commit_id": c2,
                    "commits": [commit1, commit2],
                    "snapshots": [snap1, snap2],
                    "objects": objs1 + objs2,
                },
            )
        )
        assert pushed["head_commit_id"] == c2
        assert pushed["commits_stored"] == 2
        assert pushed["created_branch"] is True

        # A non-fast-forward push is refused.
        refused = await client.call_tool(
            "muse_push",
            {**where, "branch": "feature/bridge", "head_commit_id": base, "commits": []},
        )
        assert refused.is_error
        assert refused.structured_content["error"]["code"] == "non_fast_forward"

        # Open and merge a proposal.
        pr = structured(
            await client.call_tool(
                "musehub_create_pr",
                {**where, "title": "Add the bridge", "from_branch": "feature/bridge", "to_branch": "main"},
            )
        )
        number = pr.get("number") or pr.get("pull_request", {}).get("number")
        assert number == 1, pr
        merged = structured(await client.call_tool("musehub_merge_pr", {**where, "pr_id": str(number)}))
        assert json.dumps(merged).count("merged") >= 1, merged

        # Publish a release.
        release = structured(
            await client.call_tool("musehub_create_release", {**where, "tag": "v1.0.0", "title": "First light"})
        )
        assert json.dumps(release).find("v1.0.0") >= 0, release

        # Read the resources.
        templates = await client.list_resource_templates()
        assert len(templates.resource_templates) == 17
        overview = read_json(await client.read_resource(f"musehub://repos/{owner}/{slug}"))
        assert json.dumps(overview).find(slug) >= 0
        pulls = read_json(await client.read_resource(f"musehub://repos/{owner}/{slug}/pulls"))
        assert json.dumps(pulls).find("Add the bridge") >= 0
        tree = read_json(await client.read_resource(f"musehub://repos/{owner}/{slug}/tree/main"))
        assert "tracks/bridge.mid" in [f["path"] for f in tree["files"]], tree
        me = read_json(await client.read_resource("musehub://me"))
        assert json.dumps(me).find(HANDLE) >= 0
        resources = await client.list_resources()
        assert len(resources.resources) == 12

        # An interactive tool: the SDK's elicitation callback answers the form; progress comes
        # back on the SDK's own progress token.
        interactive = structured(
            await client.call_tool("musehub_create_release_interactive", where, progress_callback=on_progress)
        )
        assert len(asked) == 1
        assert asked[0].mode == "form"
        assert "tag" in asked[0].requested_schema["properties"]
        assert interactive["elicited"] is True
        assert interactive["release"]["tag"] == "v1.1.0"
        assert interactive["highlight"] == "Signed end to end"
        assert progress and progress[-1][0] == progress[-1][1], progress

        releases = structured(await client.call_tool("musehub_list_releases", where))
        assert releases["total"] == 2

    # Every request the SDK sent was signed, and none was refused.
    print(f"{mode}: {len(recorder.exchanges)} HTTP exchanges")
    assert recorder.exchanges
    assert all(e["signed"] for e in recorder.exchanges), recorder.exchanges
    assert all(e["status"] < 400 for e in recorder.exchanges), recorder.exchanges
    if URLS:
        # Behind the round robin every instance served part of the one session.
        served = {e["port"] for e in recorder.exchanges}
        assert len(served) == len(URLS), (served, URLS)


def assert_challenges(value: str) -> None:
    """The 401's `WWW-Authenticate` (its values joined with ", " by the HTTP client): the
    Bearer challenge first, naming the Protected Resource Metadata and the scope, then MSign."""
    assert value.startswith('Bearer resource_metadata="'), value
    assert "/.well-known/oauth-protected-resource/mcp" in value, value
    assert 'scope="repo:write"' in value, value
    assert value.endswith('MSign realm="musehub"'), value


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_the_same_write_without_the_hook_is_401(mode: str) -> None:
    recorder = Recorder()
    async with connect(mode=mode, signed=False, recorder=recorder) as client:
        # Reads work anonymously.
        found = structured(await client.call_tool("musehub_search_repos", {"query": "jazz"}))
        assert found is not None
        with pytest.raises(Exception):
            await client.call_tool("musehub_create_repo", {"name": "Unsigned"})
    refused = [e for e in recorder.exchanges if e["rpc"] == "tools/call" and e["status"] == 401]
    assert len(refused) == 1, recorder.exchanges
    assert_challenges(refused[0]["headers"]["www-authenticate"])
    assert not any(e["signed"] for e in recorder.exchanges)

    # The wire answer, without the SDK in between.
    async with httpx2.AsyncClient(timeout=10) as http:
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {
                "name": "musehub_create_repo",
                "arguments": {"name": "Unsigned"},
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                },
            },
        }
        r = await http.post(
            URL,
            json=body,
            headers={
                "accept": "application/json, text/event-stream",
                "mcp-protocol-version": "2026-07-28",
                "mcp-method": "tools/call",
                "mcp-name": "musehub_create_repo",
            },
        )
        assert r.status_code == 401
        assert_challenges(r.headers["www-authenticate"])
        assert r.json()["error"]["code"] == -32001
