"""Interop tests: the official MCP Python SDK (`mcp` 2.x) against our conformance server in the
envelope era, protocol revision 2026-07-28 (no handshake, no session: every request carries
`_meta["io.modelcontextprotocol/protocolVersion"]` and the client capabilities; results carry
`resultType`; server-to-client input goes through `input_required` rounds; change notifications
arrive on `subscriptions/listen` streams).

The SDK negotiates this era in its default `mode="auto"` (a `server/discover` probe) and adopts it
without a probe with `mode="2026-07-28"`. `test_same_script` runs one client script in both of
those modes and in `mode="legacy"`, where the very same calls go through the initialize handshake
and a session, and checks that every mode gets the same answers, each with its own era's wire.

The server fixture is in `conftest.py`; helpers are in `interop_support.py`.
"""

from __future__ import annotations

import json
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import mcp_types as types
import pytest
from mcp import MCPError
from mcp.client.subscriptions import ToolsListChanged

from interop_support import (
    EXPECTED_PROMPTS,
    EXPECTED_TOOLS,
    META_CLIENT_CAPABILITIES,
    META_CLIENT_INFO,
    META_LOG_LEVEL,
    META_PROTOCOL_VERSION,
    META_SERVER_INFO,
    META_SUBSCRIPTION_ID,
    MODERN_VERSION,
    PROTOCOL_VERSION,
    SERVER_NAME,
    TEST_TIMEOUT_S,
    Exchange,
    Recorder,
    connect,
    only_text,
    parse_sse,
    spawn_server,
)

pytestmark = pytest.mark.anyio

MODERN_MODES = ["auto", MODERN_VERSION]
# How long to wait for a notification that should arrive at once.
EVENT_TIMEOUT_S = 5
# Request methods whose Mcp-Name header mirrors params.name / params.uri.
NAMED_METHODS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
SIMPLE_TEXT = "This is a simple text response for testing."


# --------------------------------------------------------------------------------------------
# Wire checks
# --------------------------------------------------------------------------------------------


def is_request(e: Exchange) -> bool:
    return e.method == "POST" and isinstance(e.body, dict) and "method" in e.body and "id" in e.body


def assert_modern_wire(rec: Recorder, *, discover_probes: int) -> None:
    """Every HTTP exchange is an enveloped 2026-07-28 POST; no handshake, no session."""
    assert rec.exchanges, "no HTTP traffic recorded"
    assert len(rec.posts_with_method("server/discover")) == discover_probes
    assert rec.posts_with_method("initialize") == [], "the SDK sent initialize in the 2026-07-28 era"
    assert rec.posts_with_method("notifications/initialized") == []
    for e in rec.exchanges:
        # No GET stream and no DELETE: there is no session to listen on or end.
        assert e.method == "POST", (e.method, e.request_headers)
        assert "mcp-session-id" not in e.request_headers, e.body
        assert "mcp-session-id" not in e.response_headers, e.body
        assert e.request_headers.get("mcp-protocol-version") == MODERN_VERSION, e.body
        assert isinstance(e.body, dict), e.body
        # The client never answers a server request in this era (input goes through rounds).
        assert "method" in e.body, f"client sent a JSON-RPC response: {e.body}"
        if not is_request(e):
            continue
        method = e.body["method"]
        assert e.request_headers.get("mcp-method") == method, e.request_headers
        if method in NAMED_METHODS:
            assert e.request_headers.get("mcp-name") == e.body["params"][NAMED_METHODS[method]], e.request_headers
        meta = e.body["params"]["_meta"]
        assert meta[META_PROTOCOL_VERSION] == MODERN_VERSION, meta
        assert isinstance(meta[META_CLIENT_CAPABILITIES], dict), meta
        assert isinstance(meta[META_CLIENT_INFO], dict) and meta[META_CLIENT_INFO].get("name"), meta


def assert_legacy_wire(rec: Recorder) -> None:
    """One initialize handshake, then the session id and 2025-11-25 on every request."""
    assert rec.posts_with_method("server/discover") == []
    (init,) = rec.posts_with_method("initialize")
    assert init.body["params"]["protocolVersion"] == PROTOCOL_VERSION
    sid = rec.session_id
    for e in rec.exchanges:
        if e is init:
            continue
        assert e.request_headers.get("mcp-session-id") == sid, (e.method, e.body)
        assert e.request_headers.get("mcp-protocol-version") == PROTOCOL_VERSION, (e.method, e.body)
        if isinstance(e.body, dict) and "method" in e.body:
            assert META_PROTOCOL_VERSION not in (e.body.get("params") or {}).get("_meta", {}), e.body


def assert_input_rounds(calls: list[Exchange], rounds: int) -> list[dict[str, Any]]:
    """`calls` are one tools/call (or prompts/get) driven through `rounds` input rounds: the first
    request carries neither inputResponses nor requestState, every retry carries both, with the
    same name and arguments on a fresh JSON-RPC id. Returns the params of the retries."""
    assert len(calls) == rounds + 1, [c.body for c in calls]
    first = calls[0].body["params"]
    assert "inputResponses" not in first and "requestState" not in first, first
    assert len({c.body["id"] for c in calls}) == len(calls), "a retry reused the JSON-RPC id"
    retries = []
    for c in calls[1:]:
        params = c.body["params"]
        assert params.get("name") == first.get("name")
        assert params.get("arguments") == first.get("arguments")
        assert isinstance(params.get("requestState"), str) and params["requestState"], params
        assert isinstance(params.get("inputResponses"), dict) and params["inputResponses"], params
        retries.append(params)
    for c in calls:
        assert c.status == 200, (c.status, c.body)
    return retries


# --------------------------------------------------------------------------------------------
# Client callbacks
# --------------------------------------------------------------------------------------------


@dataclass
class Callbacks:
    """SDK callbacks that answer like a user/LLM would and remember what they were asked."""

    elicit_answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    elicit_action: str = "accept"
    elicited: list[types.ElicitRequestParams] = field(default_factory=list)
    sampled: list[types.CreateMessageRequestParams] = field(default_factory=list)
    roots_listed: int = 0
    logs: list[types.LoggingMessageNotificationParams] = field(default_factory=list)
    progress: list[tuple[float, float | None, str | None]] = field(default_factory=list)

    async def on_elicit(self, _ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.elicited.append(params)
        if self.elicit_action != "accept":
            return types.ElicitResult(action=self.elicit_action)
        content = next((v for k, v in self.elicit_answers.items() if k in params.message), None)
        assert content is not None, f"unexpected elicitation: {params.message!r}"
        return types.ElicitResult(action="accept", content=content)

    async def on_sampling(self, _ctx: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        self.sampled.append(params)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="Paris is the capital of France."),
            model="interop-test-model",
            stop_reason="endTurn",
        )

    async def on_roots(self, _ctx: Any) -> types.ListRootsResult:
        self.roots_listed += 1
        return types.ListRootsResult(
            roots=[types.Root(uri="file:///work/a", name="a"), types.Root(uri="file:///work/b", name="b")]
        )

    async def on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        self.logs.append(params)

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        self.progress.append((progress, total, message))


WHO = {"Who are you?": {"username": "ada", "email": "ada@example.com"}}


# --------------------------------------------------------------------------------------------
# Negotiation
# --------------------------------------------------------------------------------------------


async def test_auto_mode_discovers_2026_07_28(server_url: str) -> None:
    rec = Recorder()
    async with connect(server_url, rec, mode="auto") as client:
        assert client.protocol_version == MODERN_VERSION
        assert client.server_info is not None
        assert (client.server_info.name, client.server_info.version) == (SERVER_NAME, "1.0.0")
        caps = client.server_capabilities
        assert caps.tools is not None and caps.tools.list_changed is True
        assert caps.prompts is not None and caps.prompts.list_changed is True
        assert caps.resources is not None
        assert caps.completions is not None
        result = await client.call_tool("test_simple_text", {})
        assert only_text(result) == SIMPLE_TEXT
        assert result.result_type == "complete"
        assert result.meta is not None and result.meta[META_SERVER_INFO]["name"] == SERVER_NAME
    assert_modern_wire(rec, discover_probes=1)
    (discover,) = rec.posts_with_method("server/discover")
    assert discover.status == 200
    assert discover.response_headers["content-type"].startswith("application/json")


async def test_pinned_mode_adopts_2026_07_28_without_probe(server_url: str) -> None:
    rec = Recorder()
    async with connect(server_url, rec, mode=MODERN_VERSION) as client:
        assert client.protocol_version == MODERN_VERSION
        result = await client.call_tool("test_simple_text", {})
        assert only_text(result) == SIMPLE_TEXT
    assert_modern_wire(rec, discover_probes=0)
    # The call is the first request (the SDK may fetch tools/list for the call's schema first).
    assert {e.body["method"] for e in rec.exchanges} <= {"tools/list", "tools/call"}


# --------------------------------------------------------------------------------------------
# One script, three modes
# --------------------------------------------------------------------------------------------


def _get_stream_open(rec: Recorder) -> bool:
    return any(e.method == "GET" and e.status == 200 for e in rec.exchanges)


async def _wait_for(predicate: Any, what: str) -> None:
    with anyio.move_on_after(EVENT_TIMEOUT_S):
        while not predicate():
            await anyio.sleep(0.02)
        return
    raise AssertionError(f"timed out waiting for {what}")


async def _script(server_url: str, rec: Recorder, mode: str) -> dict[str, Any]:
    """The client script of the issue's proof: negotiate, list and call tools, an elicitation
    round trip, sampling, progress, logs, and a tools list-changed notification."""
    cb = Callbacks(elicit_answers=WHO)
    tools_changed = anyio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            tools_changed.set()

    out: dict[str, Any] = {}
    async with connect(
        server_url,
        rec,
        mode=mode,
        elicitation_callback=cb.on_elicit,
        sampling_callback=cb.on_sampling,
        logging_callback=cb.on_log,
        log_level="info",  # modern: opts every request in to logs; legacy: no effect
        message_handler=on_message,
    ) as client:
        out["version"] = client.protocol_version
        out["tools"] = {t.name for t in (await client.list_tools()).tools}
        out["prompts"] = {p.name for p in (await client.list_prompts()).prompts}
        out["simple"] = only_text(await client.call_tool("test_simple_text", {}))
        out["elicitation"] = only_text(await client.call_tool("test_elicitation", {"message": "Who are you?"}))
        out["sampling"] = only_text(
            await client.call_tool("test_sampling", {"prompt": "What is the capital of France?"})
        )
        out["progress_result"] = only_text(
            await client.call_tool("test_tool_with_progress", {}, progress_callback=cb.on_progress)
        )
        out["logging_result"] = only_text(await client.call_tool("test_tool_with_logging", {}))

        if mode == "legacy":
            # Handshake era: list changes arrive on the session's GET stream.
            await _wait_for(lambda: _get_stream_open(rec), "the legacy GET stream")
            out["trigger"] = only_text(await client.call_tool("test_trigger_tool_change", {}))
            with anyio.fail_after(EVENT_TIMEOUT_S):
                await tools_changed.wait()
            out["list_changed"] = "tools"
        else:
            with anyio.fail_after(EVENT_TIMEOUT_S):  # the ack, the trigger and the event
                async with client.listen(tools_list_changed=True) as sub:
                    assert sub.honored.tools_list_changed is True
                    out["trigger"] = only_text(await client.call_tool("test_trigger_tool_change", {}))
                    event = await sub.__anext__()
                    assert isinstance(event, ToolsListChanged), event
                    out["list_changed"] = "tools"

    out["elicited"] = [(p.message, sorted(p.requested_schema["properties"])) for p in cb.elicited]
    out["sampled"] = [(p.messages[0].content.text, p.max_tokens) for p in cb.sampled]  # type: ignore[union-attr]
    out["progress"] = cb.progress
    out["logs"] = [(m.level, m.data) for m in cb.logs]
    return out


@pytest.mark.parametrize("mode", ["auto", MODERN_VERSION, "legacy"])
async def test_same_script(server_url: str, mode: str) -> None:
    rec = Recorder()
    out = await _script(server_url, rec, mode)

    # The same answers in every mode ...
    assert out["tools"] == EXPECTED_TOOLS
    assert out["prompts"] == EXPECTED_PROMPTS
    assert out["simple"] == SIMPLE_TEXT
    prefix = "User response: action=accept, content="
    assert out["elicitation"].startswith(prefix), out["elicitation"]
    assert json.loads(out["elicitation"][len(prefix) :]) == WHO["Who are you?"]
    assert out["elicited"] == [("Who are you?", ["email", "username"])]
    assert out["sampling"] == "LLM response: Paris is the capital of France."
    assert out["sampled"] == [("What is the capital of France?", 100)]
    assert out["progress"] == [(p, 100, f"Completed step {p} of 100") for p in (0, 50, 100)]
    (progress_call,) = rec.tool_calls("test_tool_with_progress")
    assert out["progress_result"] == str(progress_call.body["params"]["_meta"]["progressToken"])
    assert out["logging_result"] == "Tool with logging executed successfully"
    assert out["logs"] == [
        ("info", "Tool execution started"),
        ("info", "Tool processing data"),
        ("info", "Tool execution completed"),
    ]
    assert out["trigger"] == "Sent notifications/tools/list_changed"
    assert out["list_changed"] == "tools"

    # ... each over its own era's wire.
    if mode == "legacy":
        assert out["version"] == PROTOCOL_VERSION
        assert_legacy_wire(rec)
        # Elicitation and sampling were server requests on the call's stream: one tools/call
        # each, and the client POSTed one JSON-RPC response per server request.
        assert len(rec.tool_calls("test_elicitation")) == 1
        assert len(rec.tool_calls("test_sampling")) == 1
        answers = [e for e in rec.exchanges if e.method == "POST" and isinstance(e.body, dict) and "result" in e.body]
        assert len(answers) == 2, [e.body for e in answers]
        assert rec.posts_with_method("subscriptions/listen") == []
    else:
        assert out["version"] == MODERN_VERSION
        assert_modern_wire(rec, discover_probes=1 if mode == "auto" else 0)
        # Elicitation and sampling were input rounds: an input_required result, then a retry.
        (elicit_retry,) = assert_input_rounds(rec.tool_calls("test_elicitation"), 1)
        (key,) = elicit_retry["inputResponses"]
        assert elicit_retry["inputResponses"][key] == {"action": "accept", "content": WHO["Who are you?"]}
        (sampling_retry,) = assert_input_rounds(rec.tool_calls("test_sampling"), 1)
        (answer,) = sampling_retry["inputResponses"].values()
        assert answer["content"] == {"type": "text", "text": "Paris is the capital of France."}
        # Progress and logs came on the call's own SSE response.
        assert progress_call.response_headers["content-type"].startswith("text/event-stream")
        (logging_call,) = rec.tool_calls("test_tool_with_logging")
        assert logging_call.body["params"]["_meta"][META_LOG_LEVEL] == "info"
        assert logging_call.response_headers["content-type"].startswith("text/event-stream")
        (listen,) = rec.posts_with_method("subscriptions/listen")
        assert listen.status == 200
        assert listen.response_headers["content-type"].startswith("text/event-stream")
        assert listen.body["params"]["notifications"] == {"toolsListChanged": True}


# --------------------------------------------------------------------------------------------
# Input-required rounds (MRTR) through the SDK's callbacks
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODERN_MODES)
async def test_elicitation_input_round(server_url: str, mode: str) -> None:
    cb = Callbacks(elicit_answers={"What is your name?": {"name": "Ada"}})
    rec = Recorder()
    async with connect(server_url, rec, mode=mode, elicitation_callback=cb.on_elicit) as client:
        result = await client.call_tool("test_input_required_result_elicitation", {})
    assert result.is_error is not True
    assert only_text(result) == "Hello, Ada!"
    (params,) = cb.elicited
    assert params.message == "What is your name?"
    assert params.requested_schema == {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    }
    (retry,) = assert_input_rounds(rec.tool_calls("test_input_required_result_elicitation"), 1)
    assert retry["inputResponses"] == {"user_name": {"action": "accept", "content": {"name": "Ada"}}}
    assert_modern_wire(rec, discover_probes=1 if mode == "auto" else 0)


async def test_elicitation_decline_input_round(server_url: str) -> None:
    cb = Callbacks(elicit_action="decline")
    async with connect(server_url, mode="auto", elicitation_callback=cb.on_elicit) as client:
        result = await client.call_tool("test_elicitation", {"message": "Who are you?"})
    assert only_text(result) == "User response: action=decline, content={}"
    assert len(cb.elicited) == 1


async def test_multi_round_elicitation(server_url: str) -> None:
    cb = Callbacks(elicit_answers={"name": {"name": "Ada"}, "color": {"color": "blue"}})
    rec = Recorder()
    async with connect(server_url, rec, mode="auto", elicitation_callback=cb.on_elicit) as client:
        result = await client.call_tool("test_input_required_result_multi_round", {})
    assert only_text(result) == "Multi-round complete: name=Ada, color=blue"
    assert [p.message for p in cb.elicited] == ["Step 1: What is your name?", "Step 2: What is your favorite color?"]
    first, second = assert_input_rounds(rec.tool_calls("test_input_required_result_multi_round"), 2)
    assert first["inputResponses"] == {"step1": {"action": "accept", "content": {"name": "Ada"}}}
    assert second["inputResponses"] == {"step2": {"action": "accept", "content": {"color": "blue"}}}
    assert first["requestState"] != second["requestState"]


async def test_sampling_input_round(server_url: str) -> None:
    cb = Callbacks()
    rec = Recorder()
    async with connect(server_url, rec, mode="auto", sampling_callback=cb.on_sampling) as client:
        result = await client.call_tool("test_input_required_result_sampling", {})
    assert only_text(result) == "LLM response: Paris is the capital of France."
    (params,) = cb.sampled
    (message,) = params.messages
    assert message.role == "user"
    assert isinstance(message.content, types.TextContent)
    assert message.content.text == "What is the capital of France?"
    assert params.max_tokens == 100
    (retry,) = assert_input_rounds(rec.tool_calls("test_input_required_result_sampling"), 1)
    assert set(retry["inputResponses"]) == {"capital_question"}


async def test_roots_input_round(server_url: str) -> None:
    cb = Callbacks()
    async with connect(server_url, mode="auto", list_roots_callback=cb.on_roots) as client:
        result = await client.call_tool("test_input_required_result_list_roots", {})
    assert only_text(result) == "Client roots: file:///work/a, file:///work/b"
    assert cb.roots_listed == 1


async def test_multiple_inputs_in_one_round(server_url: str) -> None:
    cb = Callbacks(elicit_answers={"What is your name?": {"name": "Ada"}})
    rec = Recorder()
    async with connect(
        server_url,
        rec,
        mode="auto",
        elicitation_callback=cb.on_elicit,
        sampling_callback=cb.on_sampling,
        list_roots_callback=cb.on_roots,
    ) as client:
        result = await client.call_tool("test_input_required_result_multiple_inputs", {})
    assert only_text(result) == "Name: Ada; Greeting: Paris is the capital of France.; Roots: 2"
    (retry,) = assert_input_rounds(rec.tool_calls("test_input_required_result_multiple_inputs"), 1)
    assert set(retry["inputResponses"]) == {"user_name", "greeting", "client_roots"}
    assert (len(cb.elicited), len(cb.sampled), cb.roots_listed) == (1, 1, 1)


async def test_prompt_input_round(server_url: str) -> None:
    cb = Callbacks(elicit_answers={"context": {"context": "interop"}})
    rec = Recorder()
    async with connect(server_url, rec, mode="auto", elicitation_callback=cb.on_elicit) as client:
        result = await client.get_prompt("test_input_required_result_prompt")
    assert result.description == "Prompt rendered with elicited context"
    assert result.messages[0].role == "user"
    assert only_text(result) == "Use this context: interop"
    (retry,) = assert_input_rounds(rec.posts_with_method("prompts/get"), 1)
    assert retry["inputResponses"] == {"user_context": {"action": "accept", "content": {"context": "interop"}}}


async def test_missing_client_capability_is_32021(server_url: str) -> None:
    """No elicitation callback, so no elicitation capability in the envelope: the server cannot
    ask, and says so with -32021 (HTTP 400) instead of the handshake era's tool error."""
    rec = Recorder()
    async with connect(server_url, rec, mode="auto") as client:
        with pytest.raises(MCPError) as elicit_info:
            await client.call_tool("test_elicitation", {"message": "Who are you?"})
        with pytest.raises(MCPError) as sampling_info:
            await client.call_tool("test_missing_capability", {})
    assert elicit_info.value.code == -32021, repr(elicit_info.value)
    assert elicit_info.value.error.data == {"requiredCapabilities": {"elicitation": {}}}
    assert sampling_info.value.code == -32021, repr(sampling_info.value)
    assert sampling_info.value.error.data == {"requiredCapabilities": {"sampling": {}}}
    for name in ("test_elicitation", "test_missing_capability"):
        (call,) = rec.tool_calls(name)
        assert call.status == 400
        assert "elicitation" not in call.body["params"]["_meta"][META_CLIENT_CAPABILITIES]


# --------------------------------------------------------------------------------------------
# Progress and logging on the request's own response
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODERN_MODES)
async def test_progress(server_url: str, mode: str) -> None:
    cb = Callbacks()
    rec = Recorder()
    async with connect(server_url, rec, mode=mode) as client:
        result = await client.call_tool("test_tool_with_progress", {}, progress_callback=cb.on_progress)
    assert cb.progress == [(p, 100, f"Completed step {p} of 100") for p in (0, 50, 100)]
    (call,) = rec.tool_calls("test_tool_with_progress")
    token = call.body["params"]["_meta"]["progressToken"]
    assert only_text(result) == str(token)
    assert call.response_headers["content-type"].startswith("text/event-stream")


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (None, []),  # no logLevel in _meta: no notifications/message at all
        ("warning", []),  # the tool logs at info
        ("info", ["Logging tool started", "Logging tool finished"]),
        ("debug", ["Logging tool started", "Logging tool finished"]),
    ],
)
async def test_logs_only_when_log_level_requested(server_url: str, level: str | None, expected: list[str]) -> None:
    cb = Callbacks()
    rec = Recorder()
    async with connect(server_url, rec, mode="auto", logging_callback=cb.on_log, log_level=level) as client:
        result = await client.call_tool("test_logging_tool", {})
    assert only_text(result) == "Logging tool executed"
    assert [(m.level, m.data) for m in cb.logs] == [("info", d) for d in expected]
    (call,) = rec.tool_calls("test_logging_tool")
    meta = call.body["params"]["_meta"]
    if level is None:
        assert META_LOG_LEVEL not in meta
    else:
        assert meta[META_LOG_LEVEL] == level


# --------------------------------------------------------------------------------------------
# Header parameters, errors
# --------------------------------------------------------------------------------------------


async def test_header_param_mismatch_recovery(server_url: str) -> None:
    """`region` is marked `x-mcp-header: Region`. Without a tools/list the SDK cannot know that,
    sends no Mcp-Param-Region, gets -32020 (HTTP 400), re-lists and resends with the header."""
    rec = Recorder()
    async with connect(server_url, rec, mode="auto") as client:
        result = await client.call_tool("test_header_param", {"region": "eu-west"})
    assert only_text(result) == "Region: eu-west"
    first, second = rec.tool_calls("test_header_param")
    assert first.status == 400 and "mcp-param-region" not in first.request_headers
    assert second.status == 200 and second.request_headers["mcp-param-region"] == "eu-west"
    assert len(rec.posts_with_method("tools/list")) == 1
    async with connect(server_url, mode="auto") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert tools["test_header_param"].input_schema["properties"]["region"]["x-mcp-header"] == "Region"


async def test_unknown_resource_is_32602(server_url: str) -> None:
    # 2026-07-28 server/resources: resource not found is -32602 (it was -32002 before).
    async with connect(server_url, mode="auto") as client:
        with pytest.raises(MCPError) as info:
            await client.read_resource("test://does-not-exist")
    assert info.value.code == -32602, repr(info.value)


# --------------------------------------------------------------------------------------------
# subscriptions/listen
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODERN_MODES)
async def test_listen_tools_list_changed(server_url: str, mode: str) -> None:
    rec = Recorder()
    async with connect(server_url, rec, mode=mode) as client:
        with anyio.fail_after(EVENT_TIMEOUT_S):
            async with client.listen(tools_list_changed=True) as sub:
                assert sub.honored.tools_list_changed is True
                assert not sub.honored.prompts_list_changed
                trigger = await client.call_tool("test_trigger_tool_change", {})
                assert only_text(trigger) == "Sent notifications/tools/list_changed"
                event = await sub.__anext__()
                assert isinstance(event, ToolsListChanged), event
    (listen,) = rec.posts_with_method("subscriptions/listen")
    assert listen.request_headers["mcp-method"] == "subscriptions/listen"
    assert listen.response_headers["content-type"].startswith("text/event-stream")
    assert_modern_wire(rec, discover_probes=1 if mode == "auto" else 0)


async def test_one_change_reaches_legacy_and_modern_listeners(server_url: str) -> None:
    """One published change reaches a legacy session's GET stream and a modern listen stream."""
    legacy_rec = Recorder()
    legacy_got = anyio.Event()

    async def on_legacy_message(message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            legacy_got.set()

    async with (
        connect(server_url, legacy_rec, mode="legacy", message_handler=on_legacy_message) as legacy,
        connect(server_url, mode="auto") as modern,
    ):
        assert legacy.protocol_version == PROTOCOL_VERSION
        assert modern.protocol_version == MODERN_VERSION
        await _wait_for(lambda: _get_stream_open(legacy_rec), "the legacy GET stream")
        with anyio.fail_after(EVENT_TIMEOUT_S):
            async with modern.listen(tools_list_changed=True) as sub:
                await modern.call_tool("test_trigger_tool_change", {})
                event = await sub.__anext__()
                await legacy_got.wait()
                assert isinstance(event, ToolsListChanged)


def _modern_headers(method: str, name: str | None = None) -> dict[str, str]:
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": MODERN_VERSION,
        "Mcp-Method": method,
    }
    if name is not None:
        headers["Mcp-Name"] = name
    return headers


def _modern_request(id_: str | int, method: str, params: dict[str, Any]) -> dict[str, Any]:
    envelope = {
        META_PROTOCOL_VERSION: MODERN_VERSION,
        META_CLIENT_INFO: {"name": "raw-httpx", "version": "0"},
        META_CLIENT_CAPABILITIES: {},
    }
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": {**params, "_meta": envelope}}


async def _read_message(lines: AsyncIterator[str]) -> dict[str, Any]:
    """The next JSON-RPC message on an SSE stream (comments and empty events skipped)."""
    pending: list[str] = []
    with anyio.fail_after(EVENT_TIMEOUT_S):
        async for line in lines:
            if line != "":
                pending.append(line)
                continue
            data = [ev["data"] for ev in parse_sse(pending) if ev.get("data")]
            pending = []
            if data:
                return json.loads(data[0])
    raise AssertionError("the SSE stream ended")


async def test_listen_raw_http(server_url: str) -> None:
    """The listen stream on the wire: the acknowledgment first, then only the opted-in
    notification types, each tagged with the listen request's id."""
    listen_id = "raw-listen-1"

    async def trigger(http: httpx.AsyncClient, id_: int, tool: str) -> str:
        r = await http.post(
            server_url,
            headers=_modern_headers("tools/call", tool),
            json=_modern_request(id_, "tools/call", {"name": tool, "arguments": {}}),
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["result"]["resultType"] == "complete"
        assert "mcp-session-id" not in r.headers
        return body["result"]["content"][0]["text"]

    with anyio.fail_after(TEST_TIMEOUT_S):
        async with httpx.AsyncClient(timeout=10) as http:
            request = _modern_request(listen_id, "subscriptions/listen", {"notifications": {"toolsListChanged": True}})
            async with http.stream(
                "POST", server_url, headers=_modern_headers("subscriptions/listen"), json=request
            ) as resp:
                assert resp.status_code == 200
                assert resp.headers["content-type"].startswith("text/event-stream")
                assert "mcp-session-id" not in resp.headers
                lines = resp.aiter_lines()
                assert await _read_message(lines) == {
                    "jsonrpc": "2.0",
                    "method": "notifications/subscriptions/acknowledged",
                    "params": {"_meta": {META_SUBSCRIPTION_ID: listen_id}, "notifications": {"toolsListChanged": True}},
                }
                # A change the stream did not opt in to, then one it did: only the second arrives.
                assert await trigger(http, 2, "test_trigger_prompt_change") == "Sent notifications/prompts/list_changed"
                assert await trigger(http, 3, "test_trigger_tool_change") == "Sent notifications/tools/list_changed"
                assert await _read_message(lines) == {
                    "jsonrpc": "2.0",
                    "method": "notifications/tools/list_changed",
                    "params": {"_meta": {META_SUBSCRIPTION_ID: listen_id}},
                }


async def test_listen_graceful_close_on_shutdown(tmp_path: Path) -> None:
    """A server that shuts down ends each listen stream with a successful response to the listen
    request (tagged with the subscription id) and closes it, promptly."""
    proc, url = spawn_server(tmp_path / "conformance.log")
    listen_id = "raw-listen-shutdown"
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            request = _modern_request(listen_id, "subscriptions/listen", {"notifications": {"toolsListChanged": True}})
            async with http.stream("POST", url, headers=_modern_headers("subscriptions/listen"), json=request) as resp:
                assert resp.status_code == 200
                lines = resp.aiter_lines()
                ack = await _read_message(lines)
                assert ack["method"] == "notifications/subscriptions/acknowledged"
                proc.send_signal(signal.SIGTERM)
                with anyio.fail_after(3):
                    closing = await _read_message(lines)
        assert closing.get("id") == listen_id, closing
        assert closing["result"]["resultType"] == "complete", closing
        assert closing["result"]["_meta"][META_SUBSCRIPTION_ID] == listen_id, closing
    finally:
        proc.kill()  # do not wait out the shutdown grace
        proc.wait()
