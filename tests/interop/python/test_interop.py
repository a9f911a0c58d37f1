"""Interop tests: the official MCP Python SDK (`mcp` on PyPI) against our conformance server,
in the handshake era (protocol revisions 2024-11-05 .. 2025-11-25).

The server under test is `examples/src/bin/conformance.rs` (the fixtures of the official MCP
conformance suite), started once per session by the `server_url` fixture in `conftest.py`.

SDK version note: `mcp` 2.x defaults to `mode="auto"`, which probes `server/discover` at the
2026-07-28 revision and falls back to the `initialize` handshake. Our server speaks both eras on
one endpoint, so `auto` negotiates 2026-07-28 (`test_auto_mode_negotiates_2026_07_28` here, and
the whole envelope era in `test_modern.py`). Every other test in this module connects with
`mode="legacy"` (the plain 2025-11-25 initialize handshake) to cover the handshake era.

Run: `pytest -q tests/interop/python` (see ../run.sh, which also creates the venv).
"""

from __future__ import annotations

import base64
import json
import warnings
from typing import Any

import anyio
import httpx
import mcp_types as types
import pytest
from mcp import MCPError

from interop_support import (
    EXPECTED_PROMPTS,
    EXPECTED_TOOLS,
    MODERN_VERSION,
    PNG_B64,
    PROTOCOL_VERSION,
    RECONNECTION_TEXT,
    SERVER_NAME,
    TEST_TIMEOUT_S,
    WAV_B64,
    Recorder,
    connect,
    only_text,
    parse_sse,
)

pytestmark = pytest.mark.anyio


# --------------------------------------------------------------------------------------------
# Lifecycle
# --------------------------------------------------------------------------------------------


async def test_initialize_handshake(server_url: str) -> None:
    rec = Recorder()
    async with connect(server_url, rec) as client:
        assert client.protocol_version == PROTOCOL_VERSION
        assert client.server_info is not None
        assert client.server_info.name == SERVER_NAME
        assert client.server_info.version == "1.0.0"
        caps = client.server_capabilities
        assert caps.tools is not None
        assert caps.resources is not None
        assert caps.prompts is not None
        assert caps.logging is not None
        assert caps.completions is not None
        await client.list_tools()

    (init,) = rec.posts_with_method("initialize")
    assert init.status == 200
    assert init.body["params"]["protocolVersion"] == PROTOCOL_VERSION
    sid = rec.session_id
    # Every later request of the session carries the session id and the negotiated version.
    later = [e for e in rec.exchanges if e is not init]
    assert later, "no requests after initialize"
    for e in later:
        assert e.request_headers.get("mcp-session-id") == sid, (e.method, e.body)
        assert e.request_headers.get("mcp-protocol-version") == PROTOCOL_VERSION, (e.method, e.body)
    (initialized,) = rec.posts_with_method("notifications/initialized")
    assert initialized.status == 202


async def test_auto_mode_negotiates_2026_07_28(server_url: str) -> None:
    """The 2.x SDK's default mode probes server/discover at 2026-07-28; our server answers it,
    so the SDK adopts the envelope era: no initialize, no session. (`test_modern.py` covers
    that era in depth.)"""
    rec = Recorder()
    async with connect(server_url, rec, mode="auto") as client:
        assert client.protocol_version == MODERN_VERSION
        assert client.server_info is not None and client.server_info.name == SERVER_NAME
        result = await client.call_tool("test_simple_text", {})
        assert only_text(result) == "This is a simple text response for testing."
    (discover,) = rec.posts_with_method("server/discover")
    assert discover.status == 200
    assert discover.request_headers.get("mcp-protocol-version") == MODERN_VERSION
    assert rec.posts_with_method("initialize") == [], "auto mode fell back to the initialize handshake"
    assert rec.posts_with_method("notifications/initialized") == []
    for e in rec.exchanges:
        assert e.method == "POST", (e.method, e.body)
        assert "mcp-session-id" not in e.request_headers, (e.method, e.body)
        assert "mcp-session-id" not in e.response_headers, (e.method, e.body)


@pytest.mark.parametrize(
    ("offered", "expected"),
    [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        # 2026-07-28 has no handshake: an initialize offering it gets the latest handshake revision.
        ("2026-07-28", "2025-11-25"),
    ],
)
async def test_version_negotiation_raw(server_url: str, offered: str, expected: str) -> None:
    """The SDK always offers 2025-11-25, so older revisions are checked on the wire."""
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(
            server_url,
            headers={"Accept": "application/json, text/event-stream", "Content-Type": "application/json"},
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"protocolVersion": offered, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}},
            },
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert body["result"]["protocolVersion"] == expected
        assert body["result"]["serverInfo"]["name"] == SERVER_NAME
        sid = r.headers["mcp-session-id"]
        r = await http.delete(server_url, headers={"Mcp-Session-Id": sid, "MCP-Protocol-Version": expected})
        assert r.status_code == 200


async def test_ping(server_url: str) -> None:
    async with connect(server_url) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated as of 2026-07-28, fine for the handshake era
            result = await client.send_ping()
        assert isinstance(result, types.EmptyResult)


async def test_session_termination_then_404(server_url: str) -> None:
    rec = Recorder()
    async with connect(server_url, rec) as client:
        await client.list_tools()
        sid = rec.session_id
    # The SDK sends DELETE on exit (terminate_on_close defaults to True).
    deletes = [e for e in rec.exchanges if e.method == "DELETE"]
    assert len(deletes) == 1
    assert deletes[0].request_headers.get("mcp-session-id") == sid
    assert deletes[0].status == 200

    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(
            server_url,
            headers={
                "Accept": "application/json, text/event-stream",
                "Content-Type": "application/json",
                "Mcp-Session-Id": sid,
                "MCP-Protocol-Version": PROTOCOL_VERSION,
            },
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
        assert r.status_code == 404, r.text


# --------------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------------


async def test_list_tools(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.list_tools()
    tools = {t.name: t for t in result.tools}
    assert set(tools) == EXPECTED_TOOLS
    assert result.next_cursor is None
    assert tools["test_simple_text"].description == "Tests simple text content response"
    assert tools["test_simple_text"].input_schema["type"] == "object"
    sampling_schema = tools["test_sampling"].input_schema
    assert sampling_schema["properties"]["prompt"]["type"] == "string"
    assert sampling_schema["required"] == ["prompt"]
    elicit_schema = tools["test_elicitation"].input_schema
    assert elicit_schema["required"] == ["message"]
    # The JSON Schema 2020-12 document is served verbatim.
    schema = tools["json_schema_2020_12_tool"].input_schema
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$defs"]["address"]["$anchor"] == "addressDef"
    assert schema["properties"]["address"] == {"$ref": "#/$defs/address"}
    assert schema["additionalProperties"] is False
    assert tools["test_simple_text"].annotations is not None
    assert tools["test_simple_text"].annotations.read_only_hint is True


async def test_call_simple_text(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.call_tool("test_simple_text", {})
    assert result.is_error is not True
    assert only_text(result) == "This is a simple text response for testing."


async def test_call_error_handling(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.call_tool("test_error_handling", {})
    assert result.is_error is True
    assert only_text(result) == "This tool intentionally returns an error for testing"
    assert result.structured_content is not None
    assert result.structured_content["error"]["code"] == "test_error"


async def test_call_unknown_tool_is_protocol_error(server_url: str) -> None:
    # 2025-11-25 server/tools: unknown tools are a JSON-RPC protocol error, -32602.
    async with connect(server_url) as client:
        with pytest.raises(MCPError) as info:
            await client.call_tool("no_such_tool", {})
    assert info.value.code == -32602, repr(info.value)
    assert "no_such_tool" in str(info.value)


async def test_call_content_types(server_url: str) -> None:
    async with connect(server_url) as client:
        image = await client.call_tool("test_image_content", {})
        audio = await client.call_tool("test_audio_content", {})
        embedded = await client.call_tool("test_embedded_resource", {})
        multi = await client.call_tool("test_multiple_content_types", {})

    (img,) = image.content
    assert isinstance(img, types.ImageContent)
    assert img.mime_type == "image/png"
    assert base64.b64decode(img.data) == base64.b64decode(PNG_B64)

    (aud,) = audio.content
    assert isinstance(aud, types.AudioContent)
    assert aud.mime_type == "audio/wav"
    assert base64.b64decode(aud.data) == base64.b64decode(WAV_B64)

    (emb,) = embedded.content
    assert isinstance(emb, types.EmbeddedResource)
    assert isinstance(emb.resource, types.TextResourceContents)
    assert str(emb.resource.uri) == "test://embedded-resource"
    assert emb.resource.text == "This is an embedded resource content."

    assert [type(c) for c in multi.content] == [types.TextContent, types.ImageContent, types.EmbeddedResource]
    assert multi.content[0].text == "Multiple content types test:"
    res = multi.content[2].resource
    assert isinstance(res, types.TextResourceContents)
    assert str(res.uri) == "test://mixed-content-resource"
    assert json.loads(res.text) == {"test": "data", "value": 123}


async def test_json_schema_2020_12_tool_call(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.call_tool("json_schema_2020_12_tool", {"name": "Ada", "email": "ada@example.com"})
    text = only_text(result)
    prefix = "JSON Schema 2020-12 tool called with: "
    assert text.startswith(prefix)
    assert json.loads(text[len(prefix) :]) == {"name": "Ada", "email": "ada@example.com"}


# --------------------------------------------------------------------------------------------
# Resources
# --------------------------------------------------------------------------------------------


async def test_list_resources(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.list_resources()
    by_uri = {str(r.uri): r for r in result.resources}
    assert set(by_uri) == {"test://static-text", "test://static-binary", "test://watched-resource"}
    assert {r.name for r in result.resources} == {"static-text", "static-binary", "watched-resource"}
    assert by_uri["test://static-text"].mime_type == "text/plain"
    assert by_uri["test://static-text"].title == "Static Text Resource"
    assert by_uri["test://static-binary"].mime_type == "image/png"


async def test_list_resource_templates(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.list_resource_templates()
    assert [t.uri_template for t in result.resource_templates] == ["test://template/{id}/data"]
    (tpl,) = result.resource_templates
    assert tpl.name == "template"
    assert tpl.mime_type == "application/json"


async def test_read_static_text(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.read_resource("test://static-text")
    (contents,) = result.contents
    assert isinstance(contents, types.TextResourceContents)
    assert str(contents.uri) == "test://static-text"
    assert contents.mime_type == "text/plain"
    assert contents.text == "This is the content of the static text resource."


async def test_read_static_binary(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.read_resource("test://static-binary")
    (contents,) = result.contents
    assert isinstance(contents, types.BlobResourceContents)
    assert contents.mime_type == "image/png"
    assert contents.blob
    assert base64.b64decode(contents.blob) == base64.b64decode(PNG_B64)


async def test_read_template_resource(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.read_resource("test://template/abc-42/data")
    (contents,) = result.contents
    assert isinstance(contents, types.TextResourceContents)
    assert str(contents.uri) == "test://template/abc-42/data"
    assert contents.mime_type == "application/json"
    assert json.loads(contents.text) == {"id": "abc-42", "templateTest": True, "data": "Data for ID: abc-42"}


async def test_read_unknown_resource_is_not_found(server_url: str) -> None:
    # 2025-11-25 server/resources: "Resource not found: -32002".
    async with connect(server_url) as client:
        with pytest.raises(MCPError) as info:
            await client.read_resource("test://does-not-exist")
    assert info.value.code == -32002, repr(info.value)


# --------------------------------------------------------------------------------------------
# Prompts and completion
# --------------------------------------------------------------------------------------------


async def test_list_prompts(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.list_prompts()
    prompts = {p.name: p for p in result.prompts}
    assert set(prompts) == EXPECTED_PROMPTS
    args = prompts["test_prompt_with_arguments"].arguments or []
    assert [(a.name, a.required) for a in args] == [("arg1", True), ("arg2", True)]
    assert prompts["test_simple_prompt"].title == "Simple Test Prompt"
    assert not prompts["test_simple_prompt"].arguments


async def test_get_simple_prompt(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.get_prompt("test_simple_prompt")
    assert result.messages[0].role == "user"
    assert only_text(result) == "This is a simple prompt for testing."


async def test_get_prompt_with_arguments(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.get_prompt("test_prompt_with_arguments", {"arg1": "alpha", "arg2": "beta"})
    assert result.messages[0].role == "user"
    assert only_text(result) == "Prompt with arguments: arg1='alpha', arg2='beta'"


async def test_get_prompt_missing_argument_is_protocol_error(server_url: str) -> None:
    async with connect(server_url) as client:
        with pytest.raises(MCPError) as info:
            await client.get_prompt("test_prompt_with_arguments", {"arg1": "only-one"})
    assert info.value.code == -32602, repr(info.value)
    assert "arg2" in str(info.value)


async def test_get_prompt_with_embedded_resource(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.get_prompt("test_prompt_with_embedded_resource", {"resourceUri": "test://x"})
    assert len(result.messages) == 2
    first, second = result.messages
    assert isinstance(first.content, types.EmbeddedResource)
    assert str(first.content.resource.uri) == "test://x"
    assert isinstance(second.content, types.TextContent)
    assert second.content.text == "Please process the embedded resource above."


async def test_complete_prompt_argument(server_url: str) -> None:
    async with connect(server_url) as client:
        ref = types.PromptReference(type="ref/prompt", name="test_prompt_with_arguments")
        result = await client.complete(ref, {"name": "arg1", "value": "test"})
        none = await client.complete(ref, {"name": "arg2", "value": "zzz"})
    assert result.completion.values == ["testValue1", "testValue2"]
    assert none.completion.values == []


# --------------------------------------------------------------------------------------------
# Server -> client requests: elicitation and sampling
# --------------------------------------------------------------------------------------------


async def test_elicitation_accept(server_url: str) -> None:
    seen: list[types.ElicitRequestParams] = []
    answer = {"username": "ada", "email": "ada@example.com"}

    async def on_elicit(_ctx: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        seen.append(params)
        return types.ElicitResult(action="accept", content=answer)

    async with connect(server_url, elicitation_callback=on_elicit) as client:
        result = await client.call_tool("test_elicitation", {"message": "Who are you?"})

    assert len(seen) == 1
    params = seen[0]
    assert params.message == "Who are you?"
    schema = params.requested_schema
    assert schema["type"] == "object"
    assert set(schema["properties"]) == {"username", "email"}
    assert sorted(schema["required"]) == ["email", "username"]

    assert result.is_error is not True
    text = only_text(result)
    prefix = "User response: action=accept, content="
    assert text.startswith(prefix), text
    assert json.loads(text[len(prefix) :]) == answer


async def test_elicitation_decline(server_url: str) -> None:
    async def on_elicit(_ctx: Any, _params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="decline")

    async with connect(server_url, elicitation_callback=on_elicit) as client:
        result = await client.call_tool("test_elicitation", {"message": "Who are you?"})
    assert only_text(result) == "User response: action=decline, content={}"


async def test_elicitation_without_capability_is_tool_error(server_url: str) -> None:
    async with connect(server_url) as client:  # no elicitation_callback -> no capability declared
        result = await client.call_tool("test_elicitation", {"message": "Who are you?"})
    assert result.is_error is True
    assert "elicitation" in only_text(result)


async def test_sampling(server_url: str) -> None:
    seen: list[types.CreateMessageRequestParams] = []

    async def on_sampling(_ctx: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        seen.append(params)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="Paris is the capital of France."),
            model="interop-test-model",
            stop_reason="endTurn",
        )

    async with connect(server_url, sampling_callback=on_sampling) as client:
        result = await client.call_tool("test_sampling", {"prompt": "What is the capital of France?"})

    assert len(seen) == 1
    (message,) = seen[0].messages
    assert message.role == "user"
    assert isinstance(message.content, types.TextContent)
    assert message.content.text == "What is the capital of France?"
    assert seen[0].max_tokens == 100
    assert result.is_error is not True
    assert only_text(result) == "LLM response: Paris is the capital of France."


async def test_sampling_without_capability_is_tool_error(server_url: str) -> None:
    async with connect(server_url) as client:
        result = await client.call_tool("test_sampling", {"prompt": "hi"})
    assert result.is_error is True
    assert "sampling" in only_text(result)


# --------------------------------------------------------------------------------------------
# Notifications: progress and logging
# --------------------------------------------------------------------------------------------


async def test_progress_notifications(server_url: str) -> None:
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    rec = Recorder()
    async with connect(server_url, rec) as client:
        result = await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)

    assert len(updates) == 3, updates
    progresses = [u[0] for u in updates]
    assert progresses == sorted(progresses) and len(set(progresses)) == 3, progresses
    assert progresses == [0, 50, 100]
    assert all(u[1] == 100 for u in updates)
    assert [u[2] for u in updates] == [f"Completed step {p} of 100" for p in (0, 50, 100)]
    # The tool echoes the progress token the SDK put into the request's _meta.
    calls = [e for e in rec.posts_with_method("tools/call") if e.body["params"]["name"] == "test_tool_with_progress"]
    assert len(calls) == 1
    token = calls[0].body["params"]["_meta"]["progressToken"]
    assert only_text(result) == str(token)


async def test_logging_notifications(server_url: str) -> None:
    logs: list[types.LoggingMessageNotificationParams] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async with connect(server_url, logging_callback=on_log) as client:
        result = await client.call_tool("test_tool_with_logging", {})
    assert only_text(result) == "Tool with logging executed successfully"
    assert [(m.level, m.data) for m in logs] == [
        ("info", "Tool execution started"),
        ("info", "Tool processing data"),
        ("info", "Tool execution completed"),
    ]


async def test_logging_set_level_filters(server_url: str) -> None:
    logs: list[types.LoggingMessageNotificationParams] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async with connect(server_url, logging_callback=on_log) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # logging/setLevel is deprecated only as of 2026-07-28
            await client.set_logging_level("warning")
        result = await client.call_tool("test_tool_with_logging", {})
        assert only_text(result) == "Tool with logging executed successfully"
        assert logs == []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            await client.set_logging_level("debug")
        await client.call_tool("test_tool_with_logging", {})
    assert [m.data for m in logs] == ["Tool execution started", "Tool processing data", "Tool execution completed"]


# --------------------------------------------------------------------------------------------
# SSE stream resumption (SEP-1699)
# --------------------------------------------------------------------------------------------


async def test_reconnection_via_sdk(server_url: str) -> None:
    """The server closes the POST's SSE stream after the priming event; the SDK must resume
    with GET + Last-Event-ID and receive the result there."""
    rec = Recorder()
    async with connect(server_url, rec) as client:
        result = await client.call_tool("test_reconnection", {})
        sid = rec.session_id
    assert result.is_error is not True
    assert only_text(result) == RECONNECTION_TEXT
    resumes = [e for e in rec.exchanges if e.method == "GET" and "last-event-id" in e.request_headers]
    assert len(resumes) >= 1, [(e.method, e.request_headers) for e in rec.exchanges]
    assert resumes[0].request_headers["mcp-session-id"] == sid
    assert resumes[0].status == 200


async def test_reconnection_raw_http(server_url: str) -> None:
    """The same flow on the wire, without the SDK: priming event, stream close, GET resume."""
    base = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with httpx.AsyncClient(timeout=10) as http:
            r = await http.post(
                server_url,
                headers=base,
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": PROTOCOL_VERSION,
                        "capabilities": {},
                        "clientInfo": {"name": "raw-httpx", "version": "0"},
                    },
                },
            )
            assert r.status_code == 200
            sid = r.headers["mcp-session-id"]
            session = {**base, "Mcp-Session-Id": sid, "MCP-Protocol-Version": PROTOCOL_VERSION}
            r = await http.post(server_url, headers=session, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
            assert r.status_code == 202

            call = {"jsonrpc": "2.0", "id": 42, "method": "tools/call", "params": {"name": "test_reconnection", "arguments": {}}}
            async with http.stream("POST", server_url, headers=session, json=call) as resp:
                assert resp.status_code == 200
                assert resp.headers["content-type"].startswith("text/event-stream")
                lines = [line async for line in resp.aiter_lines()]  # ends when the server closes
            events = parse_sse(lines)
            assert events, lines
            priming = events[0]
            assert priming.get("id"), priming
            assert priming.get("data", "") == "", priming
            # The stream closed without carrying the response.
            for ev in events:
                if ev.get("data"):
                    assert json.loads(ev["data"]).get("id") != 42, ev
            last_id = [ev["id"] for ev in events if ev.get("id")][-1]

            resume_headers = {
                "Accept": "text/event-stream",
                "Mcp-Session-Id": sid,
                "MCP-Protocol-Version": PROTOCOL_VERSION,
                "Last-Event-ID": last_id,
            }
            response = None
            async with http.stream("GET", server_url, headers=resume_headers) as resp:
                assert resp.status_code == 200
                assert resp.headers["content-type"].startswith("text/event-stream")
                pending: list[str] = []
                async for line in resp.aiter_lines():
                    pending.append(line)
                    if line == "":
                        for ev in parse_sse(pending):
                            if ev.get("data"):
                                msg = json.loads(ev["data"])
                                if msg.get("id") == 42:
                                    response = msg
                                    assert ev.get("id") and ev["id"] != last_id
                        pending = []
                        if response is not None:
                            break
            assert response is not None, "result was not replayed on the resumed stream"
            assert response["result"]["content"] == [{"type": "text", "text": RECONNECTION_TEXT}]

            r = await http.delete(server_url, headers={"Mcp-Session-Id": sid, "MCP-Protocol-Version": PROTOCOL_VERSION})
            assert r.status_code == 200
