"""An http tool's backend streaming progress lines before its result (`application/x-ndjson`)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from worker.tools.http import CallContext, HttpTarget, HttpToolError, post_json

pytestmark = pytest.mark.integration  # a real local HTTP server on loopback

CTX = CallContext(room="r1", session_id="r1:job", participant="u1", role="cook")
LINES: dict[str, list[bytes]] = {
    "/stream": [
        b'{"progress": "Found twelve recipes."}\n',
        b'{"progress": "Picking three."}\n',
        b'{"recipes": [1, 2]}',
    ],
    "/after": [b'{"done": true}\n', b'{"progress": "too late"}\n'],
    "/none": [b'{"progress": "working"}\n', b"\n"],
    "/split": [b'{"progre', b'ss": "half a line"}\n{"res', b'ult": 1}\n'],
    "/big": [b'{"progress": "' + b"x" * 300 + b'"}\n'] * 10 + [b"{}"],
}


@pytest.fixture
async def base() -> AsyncIterator[str]:
    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        for line in LINES[request.path]:
            await response.write(line)
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response

    app = web.Application()
    for path in LINES:
        app.router.add_post(path, stream)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def call(base: str, path: str, cap: int = 65_536) -> tuple[str, list[str]]:
    heard: list[str] = []

    async def on_progress(text: str) -> None:
        heard.append(text)

    target = HttpTarget("search", f"{base}{path}", max_response_bytes=cap)
    async with aiohttp.ClientSession() as http:
        return await post_json(http, target, {}, CTX, on_progress=on_progress), heard


async def test_progress_lines_are_handed_on_as_they_come_and_the_last_line_is_the_result(base: str) -> None:
    result, heard = await call(base, "/stream")
    assert json.loads(result) == {"recipes": [1, 2]}
    assert heard == ["Found twelve recipes.", "Picking three."]


async def test_a_line_cut_across_chunks_is_read_whole(base: str) -> None:
    result, heard = await call(base, "/split")
    assert (json.loads(result), heard) == ({"result": 1}, ["half a line"])


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/after", "the service sent more after its result"),
        ("/none", "the service sent progress but no result"),
    ],
)
async def test_a_stream_that_is_not_progress_then_one_result_fails_the_call(
    base: str, path: str, reason: str
) -> None:
    with pytest.raises(HttpToolError, match=f"^{reason}$"):
        await call(base, path)


async def test_the_whole_stream_stays_under_the_size_cap(base: str) -> None:
    with pytest.raises(HttpToolError, match="the response is larger than 1000 bytes"):
        await call(base, "/big", cap=1000)


async def test_without_a_listener_progress_lines_are_dropped_and_the_result_still_comes(base: str) -> None:
    target = HttpTarget("search", f"{base}/stream")
    async with aiohttp.ClientSession() as http:
        result: Any = json.loads(await post_json(http, target, {}, CTX))
    assert result == {"recipes": [1, 2]}
