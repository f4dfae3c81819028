from __future__ import annotations

import asyncio
import gzip
import json
import re
import tracemalloc
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from worker.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, SignatureError, verify, verify_request
from worker.tools.http import CallContext, HttpTarget, HttpToolError, idempotency_key, post_json
from worker.web.openapi import spec

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
    verify("s3cret", bodies[0], seen[0].headers[SIGNATURE_HEADER])  # v1, for backends written before v2


async def test_each_call_carries_its_idempotency_key_and_a_signature_over_method_path_key_and_body(
    server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review M5: a captured call cannot go to another path or with another key, and a backend can
    tell a retry of a call (same key) from a new call."""
    base, seen, bodies = server
    monkeypatch.setenv("SIGNING", "s3cret")
    target = HttpTarget("t", f"{base}/echo?tenant=a%20b", secret_env="SIGNING")
    key = idempotency_key("r1:job", "call_abc")
    async with aiohttp.ClientSession() as http:
        await post_json(http, target, {"a": 1}, CTX, idempotency_key=key)
        await post_json(http, target, {"a": 1}, CTX, idempotency_key=key)  # the same call again
        await post_json(http, target, {"a": 1}, CTX)  # a call without an id: a key of its own
    keys = [r.headers[IDEMPOTENCY_HEADER] for r in seen]
    assert keys[0] == keys[1] == key and keys[2] != key and keys[2].startswith("rc_")
    assert key == idempotency_key("r1:job", "call_abc") != idempotency_key("r2:job", "call_abc")
    for request, body in zip(seen, bodies, strict=True):
        header, path = request.headers[SIGNATURE_HEADER], request.raw_path
        verify_request(
            "s3cret",
            header,
            method="POST",
            path=path,
            idempotency_key=request.headers[IDEMPOTENCY_HEADER],
            body=body,
        )
    described = {p["name"] for p in spec()["webhooks"]["httpToolCall"]["post"]["parameters"]}
    sent = {h for h in seen[0].headers if h.startswith("X-RoleCall-") or h == IDEMPOTENCY_HEADER}
    assert sent - {SIGNATURE_HEADER} == described  # the OpenAPI document's webhooks say what is sent
    request, body = seen[0], bodies[0]
    header = request.headers[SIGNATURE_HEADER]
    for wrong in (
        {"method": "PUT", "path": request.raw_path, "idempotency_key": key},
        {"method": "POST", "path": "/other", "idempotency_key": key},
        {"method": "POST", "path": request.raw_path, "idempotency_key": "rc_other"},
    ):
        with pytest.raises(SignatureError, match="does not match the request"):
            verify_request("s3cret", header, body=body, **wrong)


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


# ------------------------------------------------------------------ answers as a real network delivers them

ANSWER = {"recipes": [{"id": f"r{i}", "summary": "crème brûlée " + "x" * 80} for i in range(30)]}
ANSWER_BYTES = json.dumps(ANSWER, indent=1, ensure_ascii=False).encode()  # ~3.5 KB, pretty-printed
COMPACT = json.dumps(ANSWER, ensure_ascii=False, separators=(",", ":"))
CAP = 65_536
BOMB = gzip.compress(b'{"a":"' + b"0" * 10_000_000 + b'"}')  # 10 MB of JSON in ~10 KB


async def _stream(
    request: web.Request,
    pieces: list[bytes],
    *,
    length: int | None = None,
    pause: float = 0.03,
    **headers: str,
) -> web.StreamResponse:
    """Answer in `pieces`, written apart so each arrives on its own (chunked unless `length`)."""
    resp = web.StreamResponse(headers={"Content-Type": "application/json", **headers})
    if length is None:
        resp.enable_chunked_encoding()
    else:
        resp.content_length = length
    await resp.prepare(request)
    try:
        for piece in pieces:
            await resp.write(piece)
            await asyncio.sleep(pause)
        await resp.write_eof()
    except ConnectionError:  # the client gave up, as it should for the hostile answers
        pass
    return resp


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


async def split(request: web.Request) -> web.StreamResponse:
    # One TCP segment's worth (1448 bytes on Ethernet), then the rest: what any real network does.
    pieces = [ANSWER_BYTES[:1448], ANSWER_BYTES[1448:]]
    return await _stream(request, pieces, length=len(ANSWER_BYTES))


async def chunked(request: web.Request) -> web.StreamResponse:
    big = json.dumps({"pad": "y" * 18_000, **ANSWER}).encode()  # ~21 KB in 4 KiB chunks
    return await _stream(request, _pieces(big, 4096), pause=0.005)


async def gzipped(request: web.Request) -> web.StreamResponse:
    body = gzip.compress(ANSWER_BYTES)
    return await _stream(request, [body], length=len(body), **{"Content-Encoding": "gzip"})


async def utf16(request: web.Request) -> web.StreamResponse:
    body = json.dumps(ANSWER, ensure_ascii=False).encode("utf-16")  # with a byte order mark
    return await _stream(request, [body], length=len(body))


async def huge(request: web.Request) -> web.StreamResponse:
    # The first chunk alone is valid JSON just under the cap; 3 MB more follow.
    first = json.dumps({"blob": "z" * (CAP - 100)}).encode()
    return await _stream(request, [first] + [b" " * 65_536] * 46, pause=0.001)


async def declared_too_long(request: web.Request) -> web.StreamResponse:
    # Headers only: a client that waits for this body waits until its timeout.
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.content_length = 10_000_000
    await resp.prepare(request)
    await asyncio.sleep(30)
    return resp


async def bomb(request: web.Request) -> web.StreamResponse:
    return await _stream(request, _pieces(BOMB, 4096), length=len(BOMB), **{"Content-Encoding": "gzip"})


async def drip(request: web.Request) -> web.StreamResponse:
    return await _stream(request, _pieces(ANSWER_BYTES, 1), length=len(ANSWER_BYTES), pause=0.2)


def fixed(body: bytes, **headers: str) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await _stream(request, [body], length=len(body), **headers)

    return handler


@pytest.fixture
async def hostile() -> Any:
    app = web.Application()
    routes = {
        "/split": split,
        "/chunked": chunked,
        "/gzip": gzipped,
        "/utf16": utf16,
        "/huge": huge,
        "/declared": declared_too_long,
        "/bomb": bomb,
        "/drip": drip,
        "/latin1": fixed('{"name": "café"}'.encode("latin-1")),
        "/deep": fixed(b"[" * 30_000 + b"]" * 30_000),
        "/bigint": fixed(b"1" * 5_000),
        "/surrogate": fixed(b'{"a": "\\ud800 \\u00e9"}'),
        "/badgzip": fixed(b"\x1f\x8b\x08\x00 this is not gzip", **{"Content-Encoding": "gzip"}),
    }
    for path, handler in routes.items():
        app.router.add_post(path, handler)
    runner = web.AppRunner(app, handler_cancellation=True)  # a client that hangs up ends its handler
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def call(base: str, path: str, *, timeout_s: float = 10.0) -> str:
    target = HttpTarget("t", f"{base}{path}", timeout_s=timeout_s, max_response_bytes=CAP)
    async with aiohttp.ClientSession() as http, asyncio.timeout(timeout_s + 5):  # a deadline, not a measure
        return await post_json(http, target, {}, CTX)


@pytest.mark.parametrize("path", ["/split", "/chunked", "/gzip", "/utf16"])
async def test_answers_in_pieces_chunked_gzip_or_utf16_are_read_whole(hostile: str, path: str) -> None:
    text = await call(hostile, path)
    data = json.loads(text)
    assert data["recipes"] == ANSWER["recipes"]
    if path != "/chunked":
        assert text == COMPACT  # compact, UTF-8 text for the model whatever the wire encoding


@pytest.mark.parametrize("path", ["/huge", "/bomb"])
async def test_answers_over_the_cap_fail_and_are_never_truncated(hostile: str, path: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(HttpToolError, match=f"^the response is larger than {CAP} bytes$"):
            await call(hostile, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # the 10 MB bomb is never held in memory


async def test_a_content_length_over_the_cap_fails_before_the_body_is_read(hostile: str) -> None:
    # The body never comes: only refusing on the header answers before the 10 s timeout.
    with pytest.raises(HttpToolError, match=f"^the response is larger than {CAP} bytes$"):
        await call(hostile, "/declared")


async def test_a_drip_fed_answer_ends_at_the_timeout(hostile: str) -> None:
    with pytest.raises(HttpToolError, match=r"^the service did not answer within 1 s$"):
        await call(hostile, "/drip", timeout_s=1)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (
            "/latin1",
            "the service answered with something that is not JSON (not UTF-8, UTF-16 or UTF-32 text)",
        ),
        ("/deep", "the service answered with JSON nested too deeply"),
        ("/bigint", "the service answered with something that is not JSON"),
        ("/badgzip", "the service's answer was cut off or badly encoded"),
    ],
)
async def test_undecodable_answers_are_clean_errors(hostile: str, path: str, reason: str) -> None:
    with pytest.raises(HttpToolError) as excinfo:
        await call(hostile, path)
    assert str(excinfo.value) == reason


async def test_a_lone_surrogate_stays_escaped(hostile: str) -> None:
    text = await call(hostile, "/surrogate")
    text.encode()  # it travels to the model as UTF-8
    assert json.loads(text) == {"a": "\ud800 é"}
