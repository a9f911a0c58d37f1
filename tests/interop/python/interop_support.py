"""Shared helpers of the Python interop modules (`test_interop.py`, `test_modern.py`).

The fixtures (`server_url`, `anyio_backend`) live in `conftest.py`; this module holds the
server process helpers, the constants, the HTTP recorder and the SDK connection helper, which
`conftest.py` and the test modules import.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

HERE = Path(__file__).resolve().parent
DEFAULT_BIN = HERE / ".." / ".." / ".." / "target" / "debug" / "conformance"

SERVER_NAME = "mcp-conformance-test-server"
# The newest handshake-era revision (what `mode="legacy"` negotiates).
PROTOCOL_VERSION = "2025-11-25"
# The envelope-era revision (what `mode="auto"` negotiates against this server).
MODERN_VERSION = "2026-07-28"
# The 1x1 red PNG the fixtures serve (examples/src/bin/conformance.rs `PNG`).
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
WAV_B64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="
RECONNECTION_TEXT = (
    "Reconnection test completed successfully. If you received this, "
    "the client properly reconnected after stream closure."
)
# Every tool of examples/src/bin/conformance.rs: the 2025-11-25 fixtures, then the ones added
# for the 2026-07-28 scenarios. Both eras list the same tools.
EXPECTED_TOOLS = {
    "json_schema_2020_12_tool",
    "test_audio_content",
    "test_elicitation",
    "test_elicitation_sep1034_defaults",
    "test_elicitation_sep1330_enums",
    "test_embedded_resource",
    "test_error_handling",
    "test_image_content",
    "test_multiple_content_types",
    "test_reconnection",
    "test_sampling",
    "test_simple_text",
    "test_tool_with_logging",
    "test_tool_with_progress",
    # 2026-07-28 fixtures
    "test_header_param",
    "test_input_required_result_capabilities",
    "test_input_required_result_elicitation",
    "test_input_required_result_list_roots",
    "test_input_required_result_multi_round",
    "test_input_required_result_multiple_inputs",
    "test_input_required_result_request_state",
    "test_input_required_result_sampling",
    "test_input_required_result_tampered_state",
    "test_logging_tool",
    "test_missing_capability",
    "test_streaming_elicitation",
    "test_trigger_prompt_change",
    "test_trigger_tool_change",
}
EXPECTED_PROMPTS = {
    "test_simple_prompt",
    "test_prompt_with_arguments",
    "test_prompt_with_embedded_resource",
    "test_prompt_with_image",
    # 2026-07-28 fixture
    "test_input_required_result_prompt",
}
# Upper bound for any single test; nothing here should take more than a few seconds.
TEST_TIMEOUT_S = 30

# Reserved `_meta` keys of the 2026-07-28 envelope.
META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
META_CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
META_LOG_LEVEL = "io.modelcontextprotocol/logLevel"
META_SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"
META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"


# --------------------------------------------------------------------------------------------
# Server process
# --------------------------------------------------------------------------------------------


def server_binary() -> Path:
    """`MUSEHUB_CONFORMANCE_BIN`, or `target/debug/conformance` of this checkout."""
    env = os.environ.get("MUSEHUB_CONFORMANCE_BIN")
    path = Path(env) if env else DEFAULT_BIN
    path = path.resolve()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"conformance server binary not found or not executable: {path} "
            "(build it with `cargo build -p musehub-examples --bin conformance` "
            "or set MUSEHUB_CONFORMANCE_BIN)",
            pytrace=False,
        )
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(proc: subprocess.Popen[bytes], port: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def spawn_server(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Starts the conformance server on a free loopback port (output appended to `log`);
    returns the process and its MCP endpoint URL. The caller stops the process."""
    binary = server_binary()
    for _attempt in range(3):  # a free port can be taken between probing and binding
        port = _free_port()
        with log.open("ab") as log_fh:
            proc = subprocess.Popen(
                [str(binary), "--bind", f"127.0.0.1:{port}"],
                stdin=subprocess.DEVNULL,
                stdout=log_fh,
                stderr=subprocess.STDOUT,
            )
        if _wait_for_port(proc, port):
            return proc, f"http://127.0.0.1:{port}/mcp"
        proc.kill()
        proc.wait()
    pytest.fail(f"conformance server did not start; log:\n{log.read_text(errors='replace')}", pytrace=False)


# --------------------------------------------------------------------------------------------
# SDK client with an HTTP recorder
# --------------------------------------------------------------------------------------------


@dataclass
class Exchange:
    method: str
    request_headers: dict[str, str]
    body: Any
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)


class Recorder:
    """Records every HTTP request the SDK transport makes (via httpx2 event hooks)."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self._by_request: dict[int, Exchange] = {}

    async def on_request(self, request: httpx2.Request) -> None:
        try:
            raw = request.content
            body = json.loads(raw) if raw else None
        except Exception:  # streaming body or not JSON
            body = None
        ex = Exchange(request.method, {k.lower(): v for k, v in request.headers.items()}, body)
        self.exchanges.append(ex)
        self._by_request[id(request)] = ex

    async def on_response(self, response: httpx2.Response) -> None:
        ex = self._by_request.get(id(response.request))
        if ex is not None:
            ex.status = response.status_code
            ex.response_headers = {k.lower(): v for k, v in response.headers.items()}

    def posts_with_method(self, method: str) -> list[Exchange]:
        return [
            e for e in self.exchanges if e.method == "POST" and isinstance(e.body, dict) and e.body.get("method") == method
        ]

    def tool_calls(self, name: str) -> list[Exchange]:
        return [e for e in self.posts_with_method("tools/call") if e.body["params"]["name"] == name]

    @property
    def session_id(self) -> str:
        (init,) = self.posts_with_method("initialize")
        sid = init.response_headers.get("mcp-session-id")
        assert sid, "initialize response carried no Mcp-Session-Id header"
        return sid


@asynccontextmanager
async def connect(
    url: str,
    recorder: Recorder | None = None,
    *,
    mode: str = "legacy",
    **kwargs: Any,
) -> AsyncIterator[Client]:
    """An SDK `Client` over the SDK's streamable HTTP transport, with a per-test deadline."""
    recorder = recorder or Recorder()
    http = httpx2.AsyncClient(
        timeout=httpx2.Timeout(10.0, read=60.0),
        event_hooks={"request": [recorder.on_request], "response": [recorder.on_response]},
    )
    with anyio.fail_after(TEST_TIMEOUT_S):
        async with http:
            transport = streamable_http_client(url, http_client=http)
            async with Client(transport, mode=mode, **kwargs) as client:
                yield client


def only_text(result: types.CallToolResult | types.GetPromptResult) -> str:
    if isinstance(result, types.CallToolResult):
        assert len(result.content) == 1, result
        block = result.content[0]
    else:
        assert len(result.messages) == 1, result
        block = result.messages[0].content
    assert isinstance(block, types.TextContent), block
    return block.text


def parse_sse(lines: list[str]) -> list[dict[str, str]]:
    """Minimal SSE parser: a list of {field: value} per event (data lines joined with \\n)."""
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in lines:
        if line == "":
            if current:
                events.append(current)
            current = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data" and "data" in current:
            current["data"] += "\n" + value
        else:
            current[name] = value
    if current:
        events.append(current)
    return events
