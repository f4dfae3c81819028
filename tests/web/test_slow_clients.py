"""Slow clients (slowloris) against the real `python -m worker web`: cut off, while others are served."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.livekit_server import LiveKitServer, free_port
from tests.web.conftest import ROLES, TOOL_SECRET, make_settings
from tests.web.raw_http import read_response, request_head
from worker.web import create_app
from worker.web.app import BODY_TIMEOUT_S
from worker.web.serve import HEADER_TIMEOUT_S, LINGERING_TIME_S, serving

pytestmark = pytest.mark.integration

MARGIN_S = 5.0  # scheduling slack on a busy 2-core machine; the limits themselves are a few seconds


@pytest.fixture
async def web_port(livekit_server: LiveKitServer, tmp_path: Path) -> AsyncIterator[int]:
    """A real web backend process on a free port."""
    port = free_port()
    env = {
        **os.environ,
        **livekit_server.env(),
        "ROLECALL_TOOL_SECRET": TOOL_SECRET,
        "ROLECALL_ROLES_DIR": str(ROLES),
        "ROLECALL_WEB_STATIC_DIR": str(tmp_path / "no-dist"),
        "PYTHONUNBUFFERED": "1",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "worker", "web", "--port", str(port)),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    output = b""
    try:
        async with asyncio.timeout(30):
            while f"http://localhost:{port}".encode() not in output:
                line = await proc.stdout.readline()
                assert line, f"web backend exited early:\n{output.decode()}"
                output += line
        yield port
    finally:
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            rest, _ = await proc.communicate()
    assert proc.returncode == 0, (output + rest).decode()


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    try:
        return await reader.read()
    except ConnectionResetError:
        return b""


async def drip(writer: asyncio.StreamWriter, data: bytes) -> int:
    """Send one byte every 0.3 s (well within any idle timeout) until cut off; the bytes sent."""
    sent = 0
    with contextlib.suppress(ConnectionError):
        for byte in data:
            writer.write(bytes([byte]))
            await writer.drain()
            sent += 1
            await asyncio.sleep(0.3)
    return sent


async def test_unfinished_heads_and_bodies_are_cut_off_while_real_requests_are_served(web_port: int) -> None:
    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", web_port)

    half_head = b"POST /api/session HTTP/1.1\r\nHost: test\r\n"
    full_head = request_head(
        "POST", "/api/session", {"Content-Type": "application/json", "Content-Length": "500"}
    )
    heads = [await connect() for _ in range(5)]
    for _, writer in heads:
        writer.write(half_head)
    dripper = await connect()
    dripped = half_head + b"X-Padding: " + b"a" * 200  # 70 s at a byte per 0.3 s
    drip_task = asyncio.create_task(drip(dripper[1], dripped))
    bodies = [await connect() for _ in range(3)]
    for _, writer in bodies:
        writer.write(full_head + b'{"role": "cooking-guide"')  # 24 of 500 bytes

    # With all of these open, a real session start is answered.
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{web_port}/api/session", json={"role": "cooking-guide"}) as resp,
    ):
        assert resp.status == 200, await resp.text()

    # An unfinished head (sent at once or dripped) is closed without an answer; the drip's steady
    # bytes do not extend the deadline.
    async with asyncio.timeout(HEADER_TIMEOUT_S + MARGIN_S):
        for reader, _ in [*heads, dripper]:
            assert await closed_by_server(reader) == b""
    # An unfinished body is answered 408, then the connection is closed.
    async with asyncio.timeout(BODY_TIMEOUT_S + LINGERING_TIME_S + MARGIN_S):
        for reader, _ in bodies:
            response = await read_response(reader)
            assert response.status == 408 and response.json()["error"]["code"] == "body_timeout"
            assert await closed_by_server(reader) == b""
    assert await drip_task < len(dripped)
    for _, writer in [*heads, dripper, *bodies]:
        writer.close()


async def test_connections_past_the_cap_get_503_and_the_server_recovers() -> None:
    async with serving(create_app(make_settings()), "127.0.0.1", 0, max_connections=3) as port:
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        await asyncio.sleep(0.1)  # let the server register them (it does so one loop step after accept)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        async with asyncio.timeout(10):
            response = await read_response(reader)
        assert response.status == 503 and response.json()["error"]["code"] == "busy"
        assert response.headers["Retry-After"] == "1"
        writer.close()
        for _, w in idle:
            w.close()
        async with asyncio.timeout(10), aiohttp.ClientSession() as http:
            while True:
                async with http.get(f"http://127.0.0.1:{port}/api/roles") as resp:
                    if resp.status == 200:
                        break
                await asyncio.sleep(0.05)
