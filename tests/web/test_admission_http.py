"""Admission control over HTTP against a real LiveKit server of this module's own (the global cap counts
every RoleCall room on the server, so no other module's rooms may be there): per-client rates, the
global cap, the auth modes' keys, and re-dispatch that makes exactly one agent dispatch however many
calls race."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient
from livekit import api, rtc

from tests.support.livekit_server import LiveKitServer
from tests.web.conftest import assert_matches_openapi, make_settings, open_client
from worker.dispatch import DispatchRequest
from worker.web import sessions

pytestmark = pytest.mark.integration

Client = TestClient[Any, Any]
API_KEY = "app-server-key-HTTPTEST-0123456789abcdef"
JWT_SECRET = "app-jwt-secret-HTTPTEST-0123456789abcdef"


@pytest.fixture(scope="module")
def own_livekit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveKitServer]:
    server = LiveKitServer(log_path=tmp_path_factory.mktemp("livekit") / "livekit-server.log").start()
    yield server
    server.stop()


@pytest.fixture
async def lk(own_livekit: LiveKitServer) -> AsyncIterator[api.LiveKitAPI]:
    """The server's API, with every room of earlier tests deleted first."""
    client = own_livekit.api()
    for room in (await client.room.list_rooms(api.ListRoomsRequest())).rooms:
        await client.room.delete_room(api.DeleteRoomRequest(room=room.name))
    yield client
    await client.aclose()


async def rolecall_rooms(lk: api.LiveKitAPI) -> list[str]:
    rooms = (await lk.room.list_rooms(api.ListRoomsRequest())).rooms
    return sorted(r.name for r in rooms if r.name.startswith("rolecall-"))


async def ours(lk: api.LiveKitAPI, room: str) -> list[api.AgentDispatch]:
    return [d for d in await lk.agent_dispatch.list_dispatch(room) if d.agent_name == "rolecall"]


async def post(client: Client, body: dict[str, Any] | None = None, **headers: str) -> tuple[int, Any, Any]:
    resp = await client.post("/api/session", json=body or {"role": "cooking-guide"}, headers=headers or None)
    return resp.status, await resp.json(), resp.headers


def assert_limited(status: int, body: Any, headers: Any, code: str) -> int:
    assert status == 429, body
    assert body["error"]["code"] == code
    retry_after = int(headers["Retry-After"])
    assert retry_after >= 1 and body["error"]["retry_after_s"] == retry_after
    assert body["error"]["message"].endswith(f"try again in {retry_after} s")
    assert_matches_openapi("/api/session", "post", 429, body)
    return retry_after


# ------------------------------------------------------------------------------------------ per client


async def test_a_burst_from_one_client_gets_429_after_the_burst_size(
    own_livekit: LiveKitServer, lk: api.LiveKitAPI
) -> None:
    client = await open_client(
        make_settings(own_livekit, web_sessions_per_minute=6, web_session_burst=3, web_max_sessions=0)
    )
    try:
        # Requests that start nothing (unknown role, bad vars) cost the client nothing.
        for body in ({"role": "no-such-role"}, {"role": "cooking-guide", "vars": {"nope": 1}}):
            assert (await post(client, body))[0] in (400, 404)
        results = await asyncio.gather(*(post(client) for _ in range(20)))
    finally:
        await client.close()
    started = [r for r in results if r[0] == 200]
    assert len(started) == 3
    waits = [assert_limited(*r, code="rate_limited") for r in results if r[0] != 200]
    assert len(waits) == 17 and max(waits) <= 10  # one session every 10 s at 6 a minute
    assert await rolecall_rooms(lk) == sorted(r[1]["room"] for r in started)


async def test_a_spoofed_forwarded_for_from_an_untrusted_peer_changes_nothing(
    own_livekit: LiveKitServer, lk: api.LiveKitAPI
) -> None:
    settings = make_settings(own_livekit, web_sessions_per_minute=6, web_session_burst=2, web_max_sessions=0)
    client = await open_client(settings)
    try:
        statuses = [(await post(client, **{"X-Forwarded-For": f"198.51.100.{i}"}))[0] for i in range(5)]
    finally:
        await client.close()
    assert statuses == [200, 200, 429, 429, 429]


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(
    own_livekit: LiveKitServer, lk: api.LiveKitAPI
) -> None:
    settings = make_settings(
        own_livekit,
        web_sessions_per_minute=6,
        web_session_burst=2,
        web_max_sessions=0,
        trusted_proxies="127.0.0.1",
    )
    client = await open_client(settings)
    try:
        alice = [(await post(client, **{"X-Forwarded-For": "198.51.100.1"}))[0] for _ in range(3)]
        # The client wrote a first address itself; the proxy appended the one it saw (another client).
        bob = [(await post(client, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}))[0] for _ in range(3)]
    finally:
        await client.close()
    assert alice == [200, 200, 429] and bob == [200, 200, 429]


# ------------------------------------------------------------------------------------------ global cap


async def test_the_global_cap_counts_pending_and_active_sessions(
    own_livekit: LiveKitServer, lk: api.LiveKitAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pending window of 3 s (participant timeout 1 s + margin 2 s) instead of ~25 s keeps this short.
    monkeypatch.setattr(sessions, "PENDING_MARGIN_S", 2.0)
    settings = make_settings(
        own_livekit, web_sessions_per_minute=0, web_max_sessions=3, participant_timeout_s=1.0
    )
    client = await open_client(settings)
    user = rtc.Room()
    try:
        results = await asyncio.gather(*(post(client) for _ in range(10)))
        burst_at = time.monotonic()
        started = [r[1] for r in results if r[0] == 200]
        assert len(started) == 3
        for r in results:
            if r[0] != 200:
                assert_limited(*r, code="too_many_sessions")
        assert len(await rolecall_rooms(lk)) == 3

        # The user of the first session joins: that room stays counted as active.
        await user.connect(started[0]["url"], started[0]["token"])
        deadline = time.monotonic() + 20
        while True:  # LiveKit updates a room's participant count a few seconds late
            rooms = (await lk.room.list_rooms(api.ListRoomsRequest(names=[started[0]["room"]]))).rooms
            if rooms and rooms[0].num_participants:
                break
            assert time.monotonic() < deadline, "LiveKit never counted the participant"
            await asyncio.sleep(0.5)
        # The two unjoined ones are past the pending window: two new sessions fit, a third does not.
        await asyncio.sleep(max(0.0, burst_at + 3.5 - time.monotonic()))
        second = await asyncio.gather(*(post(client) for _ in range(3)))
        assert sorted(r[0] for r in second) == [200, 200, 429]
    finally:
        await user.disconnect()
        await client.close()


# ------------------------------------------------------------------------------------------ auth modes


async def test_api_key_callers_are_exempt_from_the_client_rate_not_from_the_cap(
    own_livekit: LiveKitServer, lk: api.LiveKitAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = make_settings(
        own_livekit,
        web_auth="api-key",
        web_api_keys=API_KEY,
        web_sessions_per_minute=6,
        web_session_burst=1,
        web_max_sessions=4,
    )
    client = await open_client(settings)
    texts: list[str] = []
    try:
        key = {"Authorization": f"Bearer {API_KEY}"}
        status, body, _ = await post(client, {"role": "cooking-guide", "identity": "ana@example.com"}, **key)
        assert status == 200, body
        assert body["identity"] == "user-ana@example.com"
        results = [await post(client, **key) for _ in range(4)]
        assert [r[0] for r in results] == [200, 200, 200, 429]  # past the burst of 1; stopped by the cap
        assert_limited(*results[-1], code="too_many_sessions")
        # The app-chosen identity still brings the agent back (it is a session token like any other).
        resp = await client.post(
            "/api/session/redispatch", headers={"Authorization": f"Bearer {body['token']}"}
        )
        assert resp.status == 200, await resp.text()
        for headers in ({}, {"Authorization": f"Bearer {API_KEY[:-1]}"}, {"Authorization": API_KEY}):
            resp = await client.post("/api/session", json={"role": "cooking-guide"}, headers=headers)
            assert resp.status == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
            texts += [await resp.text(), str(resp.headers)]
        texts += [str(r[1]) + str(r[2]) for r in results]
    finally:
        await client.close()
    assert len(await rolecall_rooms(lk)) == 4
    texts.append(caplog.text)
    assert not [t for t in texts if API_KEY[:24] in t]


async def test_jwt_mode_asserts_vars_and_limits_each_user(
    own_livekit: LiveKitServer, lk: api.LiveKitAPI
) -> None:
    settings = make_settings(
        own_livekit,
        web_auth="jwt",
        web_jwt_secret=JWT_SECRET,
        web_jwt_issuer="https://app.example.com",
        web_jwt_audience="rolecall",
        web_sessions_per_minute=6,
        web_session_burst=2,
        web_max_sessions=0,
        trusted_proxies="127.0.0.1",
    )
    now = int(time.time())
    token = jwt.encode(
        {
            "sub": "ana-42",
            "iss": "https://app.example.com",
            "aud": "rolecall",
            "exp": now + 300,
            "roles": ["cooking-guide"],
            "vars": {"user_name": "Ana"},
        },
        JWT_SECRET,
        algorithm="HS256",
    )
    auth = {"Authorization": f"Bearer {token}"}
    client = await open_client(settings)
    try:
        status, body, _ = await post(client, {"role": "cooking-guide", "vars": {"units": "metric"}}, **auth)
        assert status == 200, body
        assert body["identity"] == "user-ana-42"
        (dispatch,) = await ours(lk, body["room"])
        assert DispatchRequest.parse(dispatch.metadata).vars == {"units": "metric", "user_name": "Ana"}

        refused = [
            await post(client, {"role": "sommelier"}, **auth),
            await post(client, {"role": "cooking-guide", "vars": {"user_name": "Mallory"}}, **auth),
            await post(client, {"role": "cooking-guide", "identity": "bob"}, **auth),
        ]
        assert [(r[0], r[1]["error"]["code"]) for r in refused] == [
            (403, "role_not_allowed"),
            (403, "var_set_by_app"),
            (403, "identity_not_allowed"),
        ]
        # The same user from another address shares the user's bucket (burst 2: one left, then 429).
        elsewhere = {**auth, "X-Forwarded-For": "198.51.100.77"}
        assert [(await post(client, **elsewhere))[0] for _ in range(2)] == [200, 429]
        assert (await post(client))[0] == 401
    finally:
        await client.close()
    assert len(await rolecall_rooms(lk)) == 2


# ------------------------------------------------------------------------------------------ re-dispatch


@pytest.mark.parametrize("n", [2, 6, 20])
async def test_concurrent_redispatch_leaves_exactly_one_dispatch(
    own_livekit: LiveKitServer, lk: api.LiveKitAPI, n: int
) -> None:
    client = await open_client(make_settings(own_livekit))
    try:
        session = (await post(client))[1]
        room, auth = session["room"], {"Authorization": f"Bearer {session['token']}"}
        # The first agent never came and its dispatch is gone: every call wants to dispatch one.
        for d in await ours(lk, room):
            await lk.agent_dispatch.delete_dispatch(d.id, room)
        resps = await asyncio.gather(
            *(client.post("/api/session/redispatch", headers=auth) for _ in range(n))
        )
        statuses = [r.status for r in resps]
        bodies = [await r.json() for r in resps]
    finally:
        await client.close()
    # Calls take turns: the first dispatches, the others find that dispatch on its way (never a 503).
    assert statuses == [200] * n, bodies
    assert len(await ours(lk, room)) == 1


@pytest.mark.parametrize("n", [2, 6, 20])
async def test_concurrent_redispatch_replaces_a_stale_dispatch_once(
    own_livekit: LiveKitServer, lk: api.LiveKitAPI, monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    monkeypatch.setattr(sessions, "DISPATCH_SETTLE_S", 0.0)  # every dispatch counts as stale at once
    client = await open_client(make_settings(own_livekit))
    try:
        session = (await post(client))[1]
        room, auth = session["room"], {"Authorization": f"Bearer {session['token']}"}
        (before,) = await ours(lk, room)
        resps = await asyncio.gather(
            *(client.post("/api/session/redispatch", headers=auth) for _ in range(n))
        )
        statuses = sorted(r.status for r in resps)
        limited = [await r.json() for r in resps if r.status == 429]
    finally:
        await client.close()
    # One call replaced it; the others found that fresh replacement, within the 20 s re-dispatch spacing.
    assert statuses == [200] + [429] * (n - 1)
    assert all(b["error"]["code"] == "rate_limited" for b in limited)
    (after,) = await ours(lk, room)
    assert after.id != before.id


async def test_redispatch_is_spaced_per_room(
    own_livekit: LiveKitServer, lk: api.LiveKitAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "DISPATCH_SETTLE_S", 0.0)
    client = await open_client(make_settings(own_livekit, web_redispatch_interval_s=1.5))
    try:
        first, second = (await post(client))[1], (await post(client))[1]
        calls = []
        for session in (first, first, second):
            resp = await client.post(
                "/api/session/redispatch", headers={"Authorization": f"Bearer {session['token']}"}
            )
            calls.append((resp.status, await resp.json(), resp.headers))
        assert [c[0] for c in calls] == [200, 429, 200]  # another room is not held back
        assert int(calls[1][2]["Retry-After"]) in (1, 2)
        assert_matches_openapi("/api/session/redispatch", "post", 429, calls[1][1])
        await asyncio.sleep(1.6)
        resp = await client.post(
            "/api/session/redispatch", headers={"Authorization": f"Bearer {first['token']}"}
        )
        assert resp.status == 200
    finally:
        await client.close()
    assert len(await ours(lk, first["room"])) == 1
