"""The parts under MCP tools: results as text for the model, and the HTTP client's egress checks and cap."""

from __future__ import annotations

import httpx2
import mcp_types as t
import pytest
from aiohttp import web

from worker.tools.egress import EgressPolicy
from worker.tools.mcp import transport
from worker.tools.mcp.results import result_text

pytestmark = pytest.mark.unit


def result(*blocks: t.ContentBlock, structured: object = None) -> t.CallToolResult:
    return t.CallToolResult(content=list(blocks), structured_content=structured)


def test_text_parts_are_joined_and_the_rest_is_named_not_inlined() -> None:
    text, cut = result_text(
        result(
            t.TextContent(text="Carbonara: 25 minutes."),
            t.ImageContent(data="aGVsbG8=", mime_type="image/png"),
            t.ResourceLink(name="recipe", uri="https://example.com/r/1"),
            t.EmbeddedResource(resource=t.TextResourceContents(uri="mem://steps", text="Boil the pasta.")),
            t.EmbeddedResource(resource=t.BlobResourceContents(uri="mem://photo", blob="aGVsbG8=")),
        ),
        1000,
    )
    assert not cut
    assert text.splitlines() == [
        "Carbonara: 25 minutes.",
        "[image (image/png) not shown]",
        "[resource recipe: https://example.com/r/1]",
        "Boil the pasta.",
        "[binary resource mem://photo not shown]",
    ]


def test_structured_content_stands_in_for_missing_text() -> None:
    assert result_text(result(structured={"minutes": 25}), 1000) == ('{"minutes":25}', False)
    assert result_text(result(), 1000) == ("(the tool returned nothing)", False)


def test_a_long_result_is_cut_and_says_so() -> None:
    text, cut = result_text(result(t.TextContent(text="é" * 300)), 120)
    assert cut and text == "é" * 120 + "\n[cut: the result has 300 characters; only the first 120 are shown]"


async def _app(body: bytes) -> web.AppRunner:
    app = web.Application()

    async def answer(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app.router.add_get("/", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


async def test_the_client_refuses_non_public_addresses_unless_the_operator_allows_them() -> None:
    runner = await _app(b"{}")
    port = runner.addresses[0][1]
    try:
        for host in ("127.0.0.1", "localhost"):
            async with transport.client(EgressPolicy(), {}, 5) as http:
                with pytest.raises(httpx2.ConnectError) as info:
                    await http.get(f"http://{host}:{port}/")
            refused = transport.refusal(info.value) or ""
            assert refused.startswith(f"host {host!r}") and "is a loopback address" in refused
        async with transport.client(EgressPolicy(frozenset({"127.0.0.1"})), {"X-Key": "k"}, 5) as http:
            assert (await http.get(f"http://127.0.0.1:{port}/")).json() == {}
    finally:
        await runner.cleanup()


async def test_a_json_answer_over_the_cap_is_refused_while_it_arrives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transport, "MAX_ANSWER_BYTES", 1000)
    runner = await _app(b'{"x": "' + b"a" * 5000 + b'"}')
    port = runner.addresses[0][1]
    try:
        async with transport.client(EgressPolicy(frozenset({"127.0.0.1"})), {}, 5) as http:
            with pytest.raises(httpx2.StreamError, match="the server's answer is larger than 1000 bytes"):
                await http.get(f"http://127.0.0.1:{port}/")
    finally:
        await runner.cleanup()
