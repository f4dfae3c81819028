"""Odd X-RoleCall-Signature headers on the signed recipe search are 401 bad_signature, never 500."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.web.conftest import TOOL_SECRET, assert_matches_openapi, make_settings, open_client
from tests.web.raw_http import exchange, request_head
from worker.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign_request

pytestmark = pytest.mark.integration

Client = TestClient[Any, Any]
BODY = json.dumps({"query": "pasta"}).encode()
KEY = "rc_call-1"


def _v2(secret: str, now: int) -> str:
    signed = sign_request(
        secret, method="POST", path="/api/recipes/search", idempotency_key=KEY, body=BODY, timestamp=now
    )
    return signed.split("v2=", 1)[1]


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    c = await open_client(make_settings())  # no LiveKit needed for recipes
    yield c
    await c.close()


def _with(header: str) -> bytes:
    head = request_head(
        "POST",
        "/api/recipes/search",
        {
            "Content-Type": "application/json",
            "Content-Length": str(len(BODY)),
            SIGNATURE_HEADER: header,
            IDEMPOTENCY_HEADER: KEY,
        },
    )
    return head + BODY


@pytest.mark.parametrize(
    "case",
    ["non-ASCII v2", "4,000-digit t", "two t", "uppercase v2", "only commas"],
)
async def test_odd_signature_headers_are_401(client: Client, case: str) -> None:
    now = int(time.time())
    digest = _v2(TOOL_SECRET, now)
    header = {
        "non-ASCII v2": f"t={now},v2=é{digest[1:]}",  # was a 500 (TypeError in compare_digest)
        "4,000-digit t": f"t={'9' * 4000},v2={digest}",  # was a 500 (OverflowError)
        "two t": f"t={now},t={now + 1},v2={digest}",
        "uppercase v2": f"t={now},v2={digest.upper()}",
        "only commas": ",,,",
    }[case]
    assert client.server.host is not None and client.server.port is not None
    resp = await exchange(client.server.host, client.server.port, [_with(header)])
    assert resp.status == 401, resp.body
    data = resp.json()
    assert data["error"]["code"] == "bad_signature"
    assert_matches_openapi("/api/recipes/search", "post", 401, data)


async def test_a_header_with_a_rotated_and_a_current_v2_is_accepted(client: Client) -> None:
    now = int(time.time())
    old, current = _v2("the-previous-secret", now), _v2(TOOL_SECRET, now)
    assert client.server.host is not None and client.server.port is not None
    resp = await exchange(client.server.host, client.server.port, [_with(f"t={now},v2={old},v2={current}")])
    assert resp.status == 200, resp.body
