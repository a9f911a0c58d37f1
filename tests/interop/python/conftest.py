"""Fixtures shared by the interop modules: one conformance server process per pytest session.

The server under test is `examples/src/bin/conformance.rs` (the fixtures of the official MCP
conformance suite). The binary is taken from `MUSEHUB_CONFORMANCE_BIN` (default:
`../../../target/debug/conformance` relative to this file) and started on a free loopback port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DEFAULT_BIN = HERE / ".." / ".." / ".." / "target" / "debug" / "conformance"


def _server_binary() -> Path:
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


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = _server_binary()
    log = tmp_path_factory.mktemp("server") / "conformance.log"
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
            break
        proc.kill()
        proc.wait()
    else:
        pytest.fail(f"conformance server did not start; log:\n{log.read_text(errors='replace')}", pytrace=False)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
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
