"""Request bodies as a real network delivers them: in pieces, chunked, gzip; and broken or too large."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.web.conftest import TOOL_SECRET, assert_matches_openapi, make_settings, open_client, tool_signature
from tests.web.raw_http import RawResponse, chunked, exchange, request_head
from worker.web import MAX_BODY_BYTES

pytestmark = pytest.mark.integration

Client = TestClient[Any, Any]
# ~2 KB, more than one TCP segment, and no prefix of it is valid JSON.
SESSION = b'{"role": "cooking-guide",' + b" " * 2000 + b'"vars": {"user_name": "Ada"}}'
JSON_TYPE = {"Content-Type": "application/json"}


async def send(client: Client, pieces: list[bytes]) -> RawResponse:
    assert client.server.host is not None and client.server.port is not None
    return await exchange(client.server.host, client.server.port, pieces)


def in_two(body: bytes, **headers: str) -> list[bytes]:
    """The head with the first half of `body`, then the second half: two TCP segments."""
    head = request_head("POST", "/api/session", {**JSON_TYPE, "Content-Length": str(len(body)), **headers})
    half = len(body) // 2
    return [head + body[:half], body[half:]]


async def test_a_session_body_in_two_segments_is_read_whole(client: Client) -> None:
    resp = await send(client, in_two(SESSION))
    assert resp.status == 200, resp.body  # was 400 malformed_json: only the first segment was read
    assert_matches_openapi("/api/session", "post", 200, resp.json())


async def test_a_chunked_session_body_is_read_whole(client: Client) -> None:
    head = request_head("POST", "/api/session", {**JSON_TYPE, "Transfer-Encoding": "chunked"})
    first, *rest = chunked(SESSION[:700], SESSION[700:1400], SESSION[1400:])
    resp = await send(client, [head + first, *rest])
    assert resp.status == 200, resp.body


async def test_a_gzip_session_body_is_read_whole(client: Client) -> None:
    resp = await send(client, in_two(gzip.compress(SESSION), **{"Content-Encoding": "gzip"}))
    assert resp.status == 200, resp.body


@pytest.fixture
async def recipes_client() -> AsyncIterator[Client]:
    c = await open_client(make_settings())  # no LiveKit needed for recipes
    yield c
    await c.close()


async def test_a_signed_recipe_search_in_two_segments_is_accepted(recipes_client: Client) -> None:
    body = json.dumps({"query": "quick pasta", "max_results": 3}).encode() + b" " * 1500
    head = request_head(
        "POST",
        "/api/recipes/search",
        {**JSON_TYPE, "Content-Length": str(len(body)), **tool_signature(TOOL_SECRET, body)},
    )
    resp = await send(recipes_client, [head + body[:700], body[700:]])
    assert resp.status == 200, resp.body  # was 401: the signature was checked against half the body
    assert len(resp.json()["recipes"]) == 3


async def test_a_gzip_bomb_stops_at_the_cap(recipes_client: Client) -> None:
    bomb = gzip.compress(b'{"query": "' + b"a" * 10_000_000 + b'"}')
    head = request_head(
        "POST",
        "/api/recipes/search",
        {**JSON_TYPE, "Content-Length": str(len(bomb)), "Content-Encoding": "gzip"},
    )
    resp = await send(recipes_client, [head + bomb])
    assert resp.status == 413 and resp.json()["error"]["code"] == "body_too_large"


async def test_a_content_length_over_the_cap_is_refused_before_the_body(recipes_client: Client) -> None:
    # Only the head is sent: the answer cannot wait for the body.
    head = request_head(
        "POST", "/api/recipes/search", {**JSON_TYPE, "Content-Length": str(MAX_BODY_BYTES + 1)}
    )
    resp = await send(recipes_client, [head])
    assert resp.status == 413 and resp.json()["error"]["code"] == "body_too_large"


async def test_a_badly_encoded_body_is_400_not_500(recipes_client: Client) -> None:
    garbage = b"\x1f\x8b\x08\x00 this is not gzip"
    head = request_head(
        "POST",
        "/api/recipes/search",
        {**JSON_TYPE, "Content-Length": str(len(garbage)), "Content-Encoding": "gzip"},
    )
    resp = await send(recipes_client, [head + garbage])
    assert resp.status == 400 and resp.json()["error"]["code"] == "bad_body", resp.body
    assert_matches_openapi("/api/recipes/search", "post", 400, resp.json())
