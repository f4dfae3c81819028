from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from worker.signing import SIGNATURE_HEADER, verify
from worker.tools.http import CallContext, HttpTarget, HttpToolError, post_json

pytestmark = pytest.mark.integration  # a real local HTTP server on loopback

CTX = CallContext(room="r1", session_id="r1:job", participant="u1", role="cook")


@pytest.fixture
async def server() -> Any:
    seen: list[web.Request] = []
    bodies: list[bytes] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append(request)
        bodies.append(await request.read())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/echo", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", seen, bodies
    await runner.cleanup()


async def test_headers_reference_environment_variables_and_the_body_is_signed(
    server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, seen, bodies = server
    monkeypatch.setenv("API_TOKEN", "t0k")
    monkeypatch.setenv("SIGNING", "s3cret")
    target = HttpTarget(
        "t", f"{base}/echo", secret_env="SIGNING", headers={"Authorization": "Bearer ${API_TOKEN}"}
    )
    async with aiohttp.ClientSession() as http:
        assert json.loads(await post_json(http, target, {"a": 1}, CTX)) == {"ok": True}
    assert seen[0].headers["Authorization"] == "Bearer t0k"
    verify("s3cret", bodies[0], seen[0].headers[SIGNATURE_HEADER])


async def test_a_missing_header_variable_fails_before_anything_is_sent(
    server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, seen, _ = server
    monkeypatch.delenv("API_TOKEN", raising=False)
    target = HttpTarget("t", f"{base}/echo", headers={"Authorization": "Bearer ${API_TOKEN}"})
    async with aiohttp.ClientSession() as http:
        with pytest.raises(HttpToolError, match="header Authorization needs API_TOKEN, which is not set"):
            await post_json(http, target, {}, CTX)
    assert seen == []


async def test_a_missing_signing_secret_fails_before_anything_is_sent(
    server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, seen, _ = server
    monkeypatch.delenv("NOPE", raising=False)
    target = HttpTarget("t", f"{base}/echo", secret_env="NOPE")
    async with aiohttp.ClientSession() as http:
        with pytest.raises(HttpToolError, match="the signing secret NOPE is not set on the worker"):
            await post_json(http, target, {}, CTX)
    assert seen == []


async def test_hosts_outside_the_allowlist_are_refused(server: Any) -> None:
    base, seen, _ = server
    target = HttpTarget("t", f"{base}/echo", allowed_hosts=frozenset({"api.example.com"}))
    async with aiohttp.ClientSession() as http:
        with pytest.raises(
            HttpToolError, match=re.escape("host '127.0.0.1' is not in the allowed hosts for t")
        ):
            await post_json(http, target, {}, CTX)
    assert seen == []


async def test_hosts_outside_the_deployment_allowlist_are_refused(server: Any) -> None:
    base, seen, _ = server
    target = HttpTarget("t", f"{base}/echo", deployment_hosts=frozenset({"web"}))
    async with aiohttp.ClientSession() as http:
        with pytest.raises(HttpToolError, match=re.escape("host '127.0.0.1' is not allowed on this worker")):
            await post_json(http, target, {}, CTX)
        allowed = HttpTarget("t", f"{base}/echo", deployment_hosts=frozenset({"127.0.0.1"}))
        assert await post_json(http, allowed, {"a": 1}, CTX)
    assert len(seen) == 1
