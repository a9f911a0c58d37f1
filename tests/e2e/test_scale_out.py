"""Scale-out faults across processes: three musehub-server instances sharing one Redis.

Driven by `tests/e2e/scale_out.sh`, which starts the instances and a private Redis (with an
append-only file, so a restart keeps what it held) and passes:

    MUSEHUB_E2E_URLS           the instances' /mcp endpoints, A,B,C
    MUSEHUB_SCALE_PIDS         their process ids, in the same order
    MUSEHUB_SCALE_REDIS_BIN    redis-server
    MUSEHUB_SCALE_REDIS_DIR    its data directory
    MUSEHUB_SCALE_REDIS_PORT   its port
    MUSEHUB_E2E_HANDLE / MUSEHUB_E2E_KEY   the signer (as for test_musehub_e2e.py)

Raw HTTP here (signed with the documented MSignAuth hook), so every status is visible; the
SDK's round-robin run is test_musehub_e2e.py's workflow, run by the same script.
"""

from __future__ import annotations

import httpx2

httpx2.alias_httpx()

import asyncio  # noqa: E402

import anyio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from typing import Any  # noqa: E402

import muse_ids  # noqa: E402
import pytest  # noqa: E402
from test_musehub_e2e import HANDLE, URLS, MSignAuth, private_key  # noqa: E402

PIDS = [int(p) for p in os.environ.get("MUSEHUB_SCALE_PIDS", "").split(",") if p]
REDIS_BIN = os.environ.get("MUSEHUB_SCALE_REDIS_BIN", "")
REDIS_DIR = os.environ.get("MUSEHUB_SCALE_REDIS_DIR", "")
REDIS_PORT = int(os.environ.get("MUSEHUB_SCALE_REDIS_PORT", "0"))
VERSION = "2025-11-25"
BOTH = "application/json, text/event-stream"

pytestmark = pytest.mark.skipif(
    len(URLS) != 3 or len(PIDS) != 3 or not REDIS_BIN, reason="run through tests/e2e/scale_out.sh"
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- Redis, stopped and started again on the same port and data ------------------------------


def redis_command(command: bytes) -> None:
    with socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=2) as s:
        s.sendall(command + b"\r\n")
        with contextlib.suppress(OSError):
            s.recv(64)


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=0.5).close()
        return True
    except OSError:
        return False


def stop_redis() -> None:
    redis_command(b"SHUTDOWN")  # the append-only file is fsynced on every write
    deadline = time.monotonic() + 10
    while redis_up():
        assert time.monotonic() < deadline, "redis did not stop"
        time.sleep(0.05)


def start_redis() -> None:
    args = [REDIS_BIN, "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "yes", "--appendfsync", "always", "--dir", REDIS_DIR]
    args += ["--pidfile", os.path.join(REDIS_DIR, "redis.pid")]
    # scale_out.sh stops it on exit (the pid file names whichever redis-server runs).
    subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 10
    while not redis_up():
        assert time.monotonic() < deadline, "redis did not start"
        time.sleep(0.05)


# --- Raw, signed JSON-RPC over HTTP -----------------------------------------------------------


def http_client() -> httpx2.AsyncClient:
    return httpx2.AsyncClient(auth=MSignAuth(HANDLE, private_key()), timeout=httpx2.Timeout(10.0, read=30.0))


async def post(http: httpx2.AsyncClient, url: str, sid: str | None, body: dict[str, Any]) -> httpx2.Response:
    headers = {"accept": BOTH, "content-type": "application/json", "mcp-protocol-version": VERSION}
    if sid:
        headers["mcp-session-id"] = sid
    return await http.post(url, content=json.dumps(body).encode(), headers=headers)


def answer(r: httpx2.Response, request_id: int) -> dict[str, Any]:
    """The JSON-RPC response to `request_id`, from a JSON or an SSE body."""
    assert r.status_code == 200, (r.status_code, r.text)
    if r.headers["content-type"].startswith("application/json"):
        return r.json()
    for line in r.text.splitlines():
        if line.startswith("data: ") and line[6:].strip():
            message = json.loads(line[6:])
            if message.get("id") == request_id:
                return message
    raise AssertionError(f"no response to {request_id} in {r.text!r}")


async def initialize(http: httpx2.AsyncClient, url: str, then: str) -> str:
    """A session created on `url`, its `notifications/initialized` sent to `then`."""
    r = await post(
        http,
        url,
        None,
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {"protocolVersion": VERSION, "capabilities": {}, "clientInfo": {"name": "scale", "version": "1"}},
        },
    )
    assert r.status_code == 200, r.text
    sid = r.headers["mcp-session-id"]
    r = await post(http, then, sid, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert r.status_code == 202, r.text
    return sid


_ids = iter(range(1, 1_000_000))


async def call_tool(http: httpx2.AsyncClient, url: str, sid: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    request_id = next(_ids)
    body = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": name, "arguments": args}}
    result = answer(await post(http, url, sid, body), request_id)["result"]
    assert not result.get("isError"), result
    return result["structuredContent"]


async def push_branch(http: httpx2.AsyncClient, url: str, sid: str, where: dict[str, str], branch: str) -> None:
    branches = (await call_tool(http, url, sid, "musehub_list_branches", where))["branches"]
    (main,) = [b for b in branches if b["name"] == "main"]
    c, snap, objects = muse_ids.commit([main["head_commit_id"]], {"a.mid": branch.encode()}, HANDLE, branch)
    commit = c["commit_id"]
    pushed = await call_tool(
        http,
        url,
        sid,
        "muse_push",
        {
            **where,
            "branch": branch,
            "head_commit_id": commit,
            "commits": [c],
            "snapshots": [snap],
            "objects": objects,
        },
    )
    assert pushed["head_commit_id"] == commit


async def sse_events(response: httpx2.Response):
    """`(id, message)` for each SSE event with data."""
    event_id, data = None, []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield event_id, json.loads("\n".join(data))
            event_id, data = None, []
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:") and line[5:].strip():
            data.append(line[5:].strip())


def get_stream(http: httpx2.AsyncClient, url: str, sid: str, last_event_id: str | None = None):
    headers = {"accept": "text/event-stream", "mcp-session-id": sid, "mcp-protocol-version": VERSION}
    if last_event_id:
        headers["last-event-id"] = last_event_id
    return http.stream("GET", url, headers=headers)


async def next_update(events, uri: str) -> tuple[str, dict[str, Any]]:
    """The next `notifications/resources/updated` for `uri` (others are skipped)."""
    with anyio.fail_after(15):
        async for event_id, message in events:
            if message.get("method") == "notifications/resources/updated" and message["params"]["uri"] == uri:
                assert event_id, "logged events carry an id"
                return event_id, message
    raise AssertionError("the stream ended before the update")


# --- The tests (in this order: the last one kills instance A) ---------------------------------


@pytest.mark.anyio
async def test_a_redis_restart_mid_session_is_503_then_the_same_session_continues() -> None:
    a, b, c = URLS
    async with http_client() as http:
        sid = await initialize(http, a, b)
        assert (await call_tool(http, c, sid, "musehub_whoami", {}))["handle"] == HANDLE

        stop_redis()
        try:
            started = time.monotonic()
            r = await post(http, b, sid, {"jsonrpc": "2.0", "id": 7, "method": "ping"})
            assert r.status_code == 503, r.text
            assert r.headers["retry-after"] == "1"
            assert "unavailable" in r.json()["error"]["message"], r.text
            assert time.monotonic() - started < 5, "fails fast"
        finally:
            start_redis()

        # Every instance reconnects by itself; the session (kept in the append-only file) goes on.
        deadline = time.monotonic() + 15
        for url in (c, a, b):
            while True:
                r = await post(http, url, sid, {"jsonrpc": "2.0", "id": 8, "method": "ping"})
                if r.status_code == 200:
                    break
                assert r.status_code == 503 and time.monotonic() < deadline, (r.status_code, r.text)
                await asyncio.sleep(0.2)
        assert (await call_tool(http, b, sid, "musehub_whoami", {}))["handle"] == HANDLE


@pytest.mark.anyio
async def test_killing_the_instance_holding_the_get_stream_loses_nothing() -> None:
    a, b, c = URLS
    async with http_client() as http:
        sid = await initialize(http, b, c)
        repo = (await call_tool(http, c, sid, "musehub_create_repo", {"name": f"Scale {uuid.uuid4().hex[:8]}"}))["repo"]
        where = {"owner": repo["owner"], "slug": repo["slug"]}
        uri = f"musehub://repos/{repo['owner']}/{repo['slug']}/branches"
        sub = {"jsonrpc": "2.0", "id": 3, "method": "resources/subscribe", "params": {"uri": uri}}
        assert "result" in answer(await post(http, c, sid, sub), 3)

        # The session's GET stream is held by A; a push on B notifies it.
        held = get_stream(http, a, sid)
        stream = await held.__aenter__()
        events = sse_events(stream)
        try:
            assert stream.status_code == 200
            await push_branch(http, b, sid, where, "feature/one")
            seen_id, _ = await next_update(events, uri)
            # A dies with the stream open.
            os.kill(PIDS[0], signal.SIGKILL)
        finally:
            # Closing what is left of the stream may fail once A is gone; nothing else may.
            with contextlib.suppress(httpx2.HTTPError):
                await events.aclose()
                await held.__aexit__(None, None, None)

        # While no stream is open, C raises another update: it is logged in Redis.
        await push_branch(http, c, sid, where, "feature/two")

        # The client reconnects to B with the last id it saw and gets exactly what it missed.
        async with get_stream(http, b, sid, seen_id) as stream:
            assert stream.status_code == 200
            events = sse_events(stream)
            replayed_id, message = await next_update(events, uri)
            await events.aclose()
        assert replayed_id != seen_id
        assert message["params"]["uri"] == uri

        # A is gone; B and C still serve the session.
        with pytest.raises(httpx2.ConnectError):
            await post(http, a, sid, {"jsonrpc": "2.0", "id": 9, "method": "ping"})
        assert (await call_tool(http, b, sid, "musehub_whoami", {}))["handle"] == HANDLE
