"""Fixtures shared by the interop modules: one conformance server process per pytest session.

The server under test is `examples/src/bin/conformance.rs` (the fixtures of the official MCP
conformance suite). The binary is taken from `MUSEHUB_CONFORMANCE_BIN` (default:
`../../../target/debug/conformance` relative to this file) and started on a free loopback port.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from interop_support import spawn_server


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc, url = spawn_server(tmp_path_factory.mktemp("server") / "conformance.log")
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
