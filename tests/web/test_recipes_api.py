"""The recipe endpoints over HTTP: signed search (as the worker's http tool sends it) and public fetch."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.web.conftest import (
    TOOL_SECRET,
    assert_matches_openapi,
    make_settings,
    open_client,
    tool_signature,
)
from worker.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign
from worker.tools.http import CallContext, HttpTarget, post_json
from worker.web.recipes import RecipeBook

pytestmark = pytest.mark.integration

Client = TestClient[Any, Any]
PATH = "/api/recipes/search"


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    c = await open_client(make_settings())  # no LiveKit needed for recipes
    yield c
    await c.close()


async def signed_post(client: Client, payload: object, *, secret: str = TOOL_SECRET, **kw: Any) -> Any:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", **tool_signature(secret, body, **kw)}
    return await client.post(PATH, data=body, headers=headers)


async def test_the_workers_http_tool_client_gets_results(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROLECALL_TOOL_SECRET", TOOL_SECRET)
    target = HttpTarget(
        tool_name="find_recipes", url=str(client.make_url(PATH)), secret_env="ROLECALL_TOOL_SECRET"
    )
    ctx = CallContext(
        room="rolecall-cooking-guide-x", session_id="s", participant="user-x", role="cooking-guide"
    )
    async with aiohttp.ClientSession() as http:
        text = await post_json(http, target, {"query": "quick pasta", "max_results": 3}, ctx)
    data = json.loads(text)
    assert_matches_openapi(PATH, "post", 200, data)
    ids = [r["id"] for r in data["recipes"]]
    assert "spaghetti-carbonara" in ids and len(ids) == 3
    assert set(data["recipes"][0]) == {"id", "title", "minutes", "summary"}


async def test_filters_reach_the_search(client: Client) -> None:
    resp = await signed_post(
        client, {"query": "pasta", "diet": ["vegan"], "max_minutes": 20, "max_results": 5}
    )
    assert resp.status == 200
    assert [r["id"] for r in (await resp.json())["recipes"]] == ["spaghetti-aglio-e-olio"]
    resp = await signed_post(client, {"query": "zzz"})
    assert (await resp.json()) == {"recipes": []}


async def test_bad_signatures_are_401(client: Client) -> None:
    payload = {"query": "pasta"}
    body = json.dumps(payload).encode()
    json_type = {"Content-Type": "application/json"}
    cases = [
        json_type,
        {**json_type, SIGNATURE_HEADER: "garbage"},
        {**json_type, **tool_signature("the-wrong-secret", body)},
        {**json_type, **tool_signature(TOOL_SECRET, body, timestamp=int(time.time()) - 3600)},
        {**json_type, **tool_signature(TOOL_SECRET, b'{"query": "other"}')},  # body swapped
        # Review M5: a body-only (v1) signature, or one made for another path or another call's key,
        # no longer passes (a captured request cannot be sent elsewhere or with a new key).
        {**json_type, SIGNATURE_HEADER: sign(TOOL_SECRET, body), IDEMPOTENCY_HEADER: "rc_x"},
        {**json_type, **tool_signature(TOOL_SECRET, body, path="/api/other")},
        {**json_type, **tool_signature(TOOL_SECRET, body), IDEMPOTENCY_HEADER: "rc_another-call"},
        {**json_type, SIGNATURE_HEADER: tool_signature(TOOL_SECRET, body)[SIGNATURE_HEADER]},  # no key
    ]
    for headers in cases:
        resp = await client.post(PATH, data=body, headers=headers)
        data = await resp.json()
        assert resp.status == 401, data
        assert data["error"]["code"] == "bad_signature"
        assert TOOL_SECRET not in json.dumps(data)
        assert_matches_openapi(PATH, "post", 401, data)


async def test_signed_but_invalid_bodies_are_rejected(client: Client) -> None:
    resp = await signed_post(client, {"query": "pasta", "diet": ["paleo"]})
    data = await resp.json()
    assert resp.status == 422 and data["error"]["field"] == "diet.0"
    body = b"{not json"
    resp = await client.post(
        PATH,
        data=body,
        headers={"Content-Type": "application/json", **tool_signature(TOOL_SECRET, body)},
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "malformed_json"
    big = b" " * 20_000
    resp = await client.post(PATH, data=big, headers={"Content-Type": "application/json"})
    assert resp.status == 413


async def test_unset_secret_is_503_even_for_signed_calls() -> None:
    client = await open_client(make_settings(tool_secret=""))
    try:
        for secret in (TOOL_SECRET, ""):
            resp = await signed_post(client, {"query": "pasta"}, secret=secret)
            data = await resp.json()
            assert resp.status == 503 and data["error"]["code"] == "not_configured"
            assert_matches_openapi(PATH, "post", 503, data)
    finally:
        await client.close()


async def test_recipe_fetch_is_public_and_complete(client: Client) -> None:
    resp = await client.get("/api/recipes/spaghetti-carbonara")
    data = await resp.json()
    assert resp.status == 200
    assert_matches_openapi("/api/recipes/{id}", "get", 200, data)
    expected = RecipeBook.load().get("spaghetti-carbonara")
    assert expected is not None and data == expected.model_dump()


async def test_recipe_fetch_404s(client: Client) -> None:
    for rid in ["nope", "Spaghetti-Carbonara", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "a" * 70, "x%00y"]:
        resp = await client.get(f"/api/recipes/{rid}")
        data = await resp.json()
        assert resp.status == 404, rid
        assert data["error"]["code"] == "not_found"
    assert (await client.get("/api/recipes/")).status == 404
