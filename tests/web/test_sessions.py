"""Session start and re-dispatch against the real LiveKit server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient
from livekit import api, rtc

from tests.support.livekit_server import LiveKitServer
from tests.web.conftest import ROLES, TOOL_SECRET, assert_matches_openapi, make_settings, open_client
from worker.dispatch import DispatchRequest
from worker.roles import RoleRegistry
from worker.settings import Settings
from worker.web import MAX_BODY_BYTES, sessions

pytestmark = pytest.mark.integration

Client = TestClient[Any, Any]


async def start(client: Client, role: str = "cooking-guide", **vars: object) -> dict[str, Any]:
    resp = await client.post("/api/session", json={"role": role, "vars": vars})
    body = await resp.json()
    assert resp.status == 200, body
    assert_matches_openapi("/api/session", "post", 200, body)
    return body  # type: ignore[no-any-return]


async def error(resp: Any, status: int, code: str, path: str | None = None) -> dict[str, Any]:
    body = await resp.json()
    assert resp.status == status, body
    assert resp.content_type == "application/json"
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if path is not None:
        assert_matches_openapi(path, "post", status, body)
    return body["error"]  # type: ignore[no-any-return]


async def dispatches(server: LiveKitServer, room: str) -> list[api.AgentDispatch]:
    lk = server.api()
    try:
        found = await lk.agent_dispatch.list_dispatch(room)
    finally:
        await lk.aclose()
    return [d for d in found if d.agent_name == "rolecall"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ------------------------------------------------------------------------------------------ roles


async def test_roles_lists_name_title_description_only(client: Client) -> None:
    resp = await client.get("/api/roles")
    body = await resp.json()
    assert resp.status == 200
    assert_matches_openapi("/api/roles", "get", 200, body)
    expected = [
        {"name": s.name, "title": s.title, "description": s.description}
        for s in RoleRegistry(ROLES).summaries()
    ]
    assert body == {"roles": expected}
    assert "cooking-guide" in [r["name"] for r in body["roles"]]


# ------------------------------------------------------------------------------------------ session


async def test_session_token_has_exactly_the_intended_grants(
    livekit_server: LiveKitServer, settings: Settings
) -> None:
    settings = make_settings(livekit_server, token_ttl_s=120)
    client = await open_client(settings)
    try:
        body = await start(client, user_name="Ana", skill_level="beginner")
    finally:
        await client.close()
    assert body["url"] == livekit_server.url
    assert body["role"] == "cooking-guide"
    assert body["room"].startswith("rolecall-cooking-guide-") and body["identity"].startswith("user-")

    claims = api.TokenVerifier(livekit_server.api_key, livekit_server.api_secret).verify(body["token"])
    assert claims.identity == body["identity"]
    assert claims.kind == "standard"
    video = claims.video
    assert video is not None
    assert video.room_join is True and video.room == body["room"]
    assert video.can_publish is True and video.can_publish_sources == ["microphone"]
    assert video.can_publish_data is True and video.can_subscribe is True
    assert video.can_update_own_metadata is False
    for admin in (
        "room_admin",
        "room_create",
        "room_list",
        "room_record",
        "recorder",
        "ingress_admin",
        "agent",
    ):
        assert not getattr(video, admin), admin
    assert not video.hidden and video.destination_room is None
    assert json.loads(claims.metadata) == {
        "role": "cooking-guide",
        "vars": {"user_name": "Ana", "skill_level": "beginner"},
    }
    assert claims.sip is not None and not any(dataclasses.asdict(claims.sip).values())  # no SIP grants

    raw = jwt.decode(
        body["token"], livekit_server.api_secret, algorithms=["HS256"], issuer=livekit_server.api_key
    )
    assert raw["exp"] - raw["nbf"] in (120, 121)  # two clock reads inside livekit-api may straddle a second
    assert body["expires_at"] == dt.datetime.fromtimestamp(raw["exp"], dt.UTC).isoformat().replace(
        "+00:00", "Z"
    )
    assert not set(raw) - {"sub", "iss", "nbf", "exp", "kind", "metadata", "video"}


async def test_session_creates_the_room_and_one_explicit_dispatch(
    client: Client, livekit_server: LiveKitServer
) -> None:
    body = await start(client, user_name="Ana")
    found = await dispatches(livekit_server, body["room"])
    assert len(found) == 1
    request = DispatchRequest.parse(found[0].metadata)
    assert request == DispatchRequest(
        role="cooking-guide", vars={"user_name": "Ana"}, participant=body["identity"]
    )
    lk = livekit_server.api()
    try:
        rooms = (await lk.room.list_rooms(api.ListRoomsRequest(names=[body["room"]]))).rooms
    finally:
        await lk.aclose()
    assert len(rooms) == 1 and rooms[0].empty_timeout == 300


async def test_sessions_get_unique_rooms_and_identities(client: Client) -> None:
    bodies = [await start(client) for _ in range(3)]
    assert len({b["room"] for b in bodies}) == 3
    assert len({b["identity"] for b in bodies}) == 3


async def test_the_token_admits_the_page_to_its_room(client: Client, livekit_server: LiveKitServer) -> None:
    body = await start(client)
    room = rtc.Room()
    await room.connect(body["url"], body["token"])
    try:
        assert room.name == body["room"]
        assert room.local_participant.identity == body["identity"]
    finally:
        await room.disconnect()


async def test_public_livekit_url_is_what_the_page_gets(livekit_server: LiveKitServer) -> None:
    client = await open_client(make_settings(livekit_server, public_livekit_url="wss://lk.example.com"))
    try:
        body = await start(client)
        resp = await client.get("/")
    finally:
        await client.close()
    assert body["url"] == "wss://lk.example.com"
    assert (
        "connect-src 'self' wss://lk.example.com https://lk.example.com;"
        in resp.headers["Content-Security-Policy"]
    )


async def test_unknown_role_is_404_listing_the_roles(client: Client) -> None:
    for role in ["no-such-role", "../roles/cooking-guide", "cooking-guide.yaml", "/etc/passwd"]:
        err = await error(
            await client.post("/api/session", json={"role": role}), 404, "unknown_role", "/api/session"
        )
        assert err["roles"] == RoleRegistry(ROLES).names()
        assert str(ROLES) not in err["message"]


async def test_invalid_role_file_is_503_without_paths(livekit_server: LiveKitServer, tmp_path: Path) -> None:
    roles = tmp_path / "roles"
    roles.mkdir()
    (roles / "good.yaml").write_text("name: good\ntitle: Good\ndescription: D\ninstructions: Hello.\n")
    (roles / "broken.yaml").write_text("name: broken\ntitle: [unclosed\n")
    client = await open_client(make_settings(livekit_server, roles_dir=roles))
    try:
        listed = await (await client.get("/api/roles")).json()
        err = await error(await client.post("/api/session", json={"role": "broken"}), 503, "role_unavailable")
        ok = await client.post("/api/session", json={"role": "good"})
    finally:
        await client.close()
    assert [r["name"] for r in listed["roles"]] == ["good"]
    assert str(tmp_path) not in err["message"] and ".yaml" not in err["message"]
    assert ok.status == 200


async def test_the_page_is_told_when_the_role_takes_pre_connect_audio(
    livekit_server: LiveKitServer, tmp_path: Path
) -> None:
    roles = tmp_path / "roles"
    roles.mkdir()
    (roles / "plain.yaml").write_text("name: plain\ntitle: P\ndescription: D\ninstructions: Hello.\n")
    (roles / "early.yaml").write_text(
        "name: early\ntitle: E\ndescription: D\ninstructions: Hello.\nmodel: {pre_connect_audio: true}\n"
    )
    client = await open_client(make_settings(livekit_server, roles_dir=roles))
    try:
        early = await (await client.post("/api/session", json={"role": "early"})).json()
        plain = await (await client.post("/api/session", json={"role": "plain"})).json()
    finally:
        await client.close()
    assert early["pre_connect_audio"] is True and plain["pre_connect_audio"] is False
    assert_matches_openapi("/api/session", "post", 200, early)


async def test_bad_vars_are_400_with_the_render_message(client: Client) -> None:
    cases = {
        "nope": ("vars.nope: unknown variable 'nope'", {"nope": "x"}),
        "newline": ("vars.user_name: value contains control characters", {"user_name": "a\nb"}),
        "bool": ("vars.user_name: expected a string or a number, found bool", {"user_name": True}),
        "long": ("vars.user_name: value is", {"user_name": "x" * 5000}),
    }
    for expected, vars in cases.values():
        resp = await client.post("/api/session", json={"role": "cooking-guide", "vars": vars})
        err = await error(resp, 400, "invalid_vars", "/api/session")
        assert err["message"].startswith(expected), err
        assert "/" not in err["message"].split("(")[0] and ".yaml" not in err["message"]


async def test_malformed_bodies(client: Client) -> None:
    json_type = {"Content-Type": "application/json"}
    await error(
        await client.post("/api/session", data=b"{nope", headers=json_type),
        400,
        "malformed_json",
        "/api/session",
    )
    await error(await client.post("/api/session", data=b"", headers=json_type), 400, "malformed_json")
    err = await error(
        await client.post("/api/session", json={"role": 5}), 422, "invalid_request", "/api/session"
    )
    assert err["field"] == "role"
    err = await error(
        await client.post("/api/session", json={"role": "cooking-guide", "vars": {"a": [1]}}),
        422,
        "invalid_request",
    )
    assert err["field"] == "vars.a"
    err = await error(await client.post("/api/session", json=["cooking-guide"]), 422, "invalid_request")
    assert err["field"] == ""
    err = await error(
        await client.post(
            "/api/session", data=b'{"role": "cooking-guide", "vars": {"user_name": NaN}}', headers=json_type
        ),
        400,
        "malformed_json",
        "/api/session",
    )
    assert err["message"] == "the request body is not valid JSON: NaN is not a JSON number"
    # A form post (what a cross-site page can send without a CORS pre-flight) is refused.
    await error(
        await client.post("/api/session", data={"role": "cooking-guide"}), 415, "unsupported_media_type"
    )
    text = {"Content-Type": "text/plain"}
    await error(
        await client.post("/api/session", data=b'{"role": "cooking-guide"}', headers=text),
        415,
        "unsupported_media_type",
    )


async def test_oversize_bodies_are_413(client: Client) -> None:
    big = json.dumps({"role": "cooking-guide", "vars": {"user_name": "x" * MAX_BODY_BYTES}}).encode()
    json_type = {"Content-Type": "application/json"}
    await error(
        await client.post("/api/session", data=big, headers=json_type), 413, "body_too_large", "/api/session"
    )

    async def chunks() -> Any:  # no Content-Length: the cap applies while reading
        for _ in range(20):
            yield b" " * 1024

    await error(await client.post("/api/session", data=chunks(), headers=json_type), 413, "body_too_large")
    just_fits = b'{"role": "cooking-guide"}'.ljust(MAX_BODY_BYTES)
    assert (await client.post("/api/session", data=just_fits, headers=json_type)).status == 200


async def test_routing_errors_are_json(client: Client) -> None:
    resp = await client.get("/api/session")
    await error(resp, 405, "method_not_allowed")
    assert resp.headers["Allow"] == "POST"
    await error(await client.get("/api/nothing-here"), 404, "not_found")
    await error(await client.post("/api/roles"), 405, "method_not_allowed")
    await error(await client.delete("/api/recipes/spaghetti-carbonara"), 405, "method_not_allowed")
    await error(await client.get("/api"), 404, "not_found")


async def test_livekit_down_is_503_and_nothing_leaks() -> None:
    client = await open_client(make_settings())  # an unused port: connection refused
    try:
        err = await error(
            await client.post("/api/session", json={"role": "cooking-guide"}), 503, "livekit_unavailable"
        )
    finally:
        await client.close()
    assert "127.0.0.1" not in err["message"] and "Error" not in err["message"]


# ------------------------------------------------------------------------------------------ redispatch


async def test_redispatch_brings_the_same_role_back_to_the_same_room(
    client: Client, livekit_server: LiveKitServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = await start(client, user_name="Ana")
    before = await dispatches(livekit_server, body["room"])
    # Moments after the start, the first dispatch is still on its way: it is left alone.
    resp = await client.post("/api/session/redispatch", headers=bearer(body["token"]))
    data = await resp.json()
    assert resp.status == 200, data
    assert data == {"room": body["room"], "dispatched": True}
    assert_matches_openapi("/api/session/redispatch", "post", 200, data)
    assert [d.id for d in await dispatches(livekit_server, body["room"])] == [before[0].id]

    monkeypatch.setattr(sessions, "DISPATCH_SETTLE_S", 0.0)  # as if its agent never came
    resp = await client.post("/api/session/redispatch", headers=bearer(body["token"]))
    assert resp.status == 200, await resp.json()
    after = await dispatches(livekit_server, body["room"])
    # The stale dispatch is replaced, not piled up; the new one asks for the same job.
    assert len(after) == 1 and after[0].id != before[0].id
    assert DispatchRequest.parse(after[0].metadata) == DispatchRequest.parse(before[0].metadata)


async def test_redispatch_takes_the_room_from_the_token_only(
    client: Client, livekit_server: LiveKitServer
) -> None:
    mine = await start(client)
    other = await start(client, role="sommelier")
    other_before = await dispatches(livekit_server, other["room"])
    resp = await client.post(
        "/api/session/redispatch",
        headers=bearer(mine["token"]),
        json={"room": other["room"], "role": "sommelier", "participant": other["identity"]},
    )
    assert (await resp.json()) == {"room": mine["room"], "dispatched": True}
    assert [d.id for d in await dispatches(livekit_server, other["room"])] == [d.id for d in other_before]
    mine_after = await dispatches(livekit_server, mine["room"])
    assert DispatchRequest.parse(mine_after[0].metadata).role == "cooking-guide"

    # Editing the room claim breaks the signature.
    header, _, signature = mine["token"].split(".")
    claims = jwt.decode(mine["token"], options={"verify_signature": False})
    claims["video"]["room"] = other["room"]
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    forged = f"{header}.{forged_payload}.{signature}"
    await error(await client.post("/api/session/redispatch", headers=bearer(forged)), 401, "invalid_token")


async def test_redispatch_refuses_when_an_agent_is_present(
    client: Client, livekit_server: LiveKitServer
) -> None:
    body = await start(client)
    token = (
        api.AccessToken(livekit_server.api_key, livekit_server.api_secret)
        .with_identity("agent-test")
        .with_kind("agent")
        .with_grants(api.VideoGrants(room_join=True, room=body["room"], agent=True))
        .to_jwt()
    )
    agent = rtc.Room()
    await agent.connect(livekit_server.url, token)
    try:
        before = await dispatches(livekit_server, body["room"])
        resp = await client.post("/api/session/redispatch", headers=bearer(body["token"]))
        await error(resp, 409, "agent_present", "/api/session/redispatch")
        assert [d.id for d in await dispatches(livekit_server, body["room"])] == [d.id for d in before]
    finally:
        await agent.disconnect()


async def test_redispatch_works_for_as_long_as_the_role_lets_a_session_last(
    client: Client, livekit_server: LiveKitServer
) -> None:
    """The token's TTL (600 s) bounds joining; an hour-long cooking session can still get its agent back."""
    body = await start(client)
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    now = int(dt.datetime.now(dt.UTC).timestamp())

    def issued_ago(seconds: int) -> str:
        nbf = now - seconds
        return jwt.encode(
            {**claims, "nbf": nbf, "exp": nbf + 600}, livekit_server.api_secret, algorithm="HS256"
        )

    # 20 minutes in: expired for joining, well inside cooking-guide's max_duration_s (3600).
    resp = await client.post("/api/session/redispatch", headers=bearer(issued_ago(1200)))
    assert resp.status == 200, await resp.json()
    # Past the longest session the role (or its handoff targets) allows, plus the 300 s margin.
    resp = await client.post("/api/session/redispatch", headers=bearer(issued_ago(3600 + 300 + 30)))
    await error(resp, 401, "invalid_token", "/api/session/redispatch")


async def test_redispatch_needs_a_valid_session_token(client: Client, livekit_server: LiveKitServer) -> None:
    body = await start(client)
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    past = int(dt.datetime.now(dt.UTC).timestamp()) - 3600
    expired = jwt.encode(
        {**claims, "nbf": past - 600, "exp": past}, livekit_server.api_secret, algorithm="HS256"
    )
    other_secret = jwt.encode(claims, "another-secret-0123456789abcdef0123456789", algorithm="HS256")
    other_issuer = jwt.encode({**claims, "iss": "someone-else"}, livekit_server.api_secret, algorithm="HS256")
    no_exp = jwt.encode(
        {k: v for k, v in claims.items() if k != "exp"}, livekit_server.api_secret, algorithm="HS256"
    )
    not_ours = livekit_server.token("user-x", "rolecall-cooking-guide-x")  # right keys, no session metadata
    wrong_meta = jwt.encode({**claims, "metadata": "{}"}, livekit_server.api_secret, algorithm="HS256")
    agent_kind = jwt.encode({**claims, "kind": "agent"}, livekit_server.api_secret, algorithm="HS256")
    cases: list[tuple[dict[str, str], str]] = [
        ({}, "unauthorized"),
        ({"Authorization": ""}, "unauthorized"),
        ({"Authorization": body["token"]}, "unauthorized"),
        ({"Authorization": f"Basic {body['token']}"}, "unauthorized"),
        (bearer("garbage"), "invalid_token"),
        (bearer(expired), "invalid_token"),
        (bearer(other_secret), "invalid_token"),
        (bearer(other_issuer), "invalid_token"),
        (bearer(no_exp), "invalid_token"),
        (bearer(not_ours), "invalid_token"),
        (bearer(wrong_meta), "invalid_token"),
        (bearer(agent_kind), "invalid_token"),
    ]
    for headers, code in cases:
        resp = await client.post("/api/session/redispatch", headers=headers)
        await error(resp, 401, code, "/api/session/redispatch")
    assert len(await dispatches(livekit_server, body["room"])) == 1


async def test_redispatch_rechecks_the_role(livekit_server: LiveKitServer, tmp_path: Path) -> None:
    roles = tmp_path / "roles"
    roles.mkdir()
    role_file = roles / "temp.yaml"
    role_file.write_text("name: temp\ntitle: T\ndescription: D\ninstructions: Hello.\n")
    client = await open_client(make_settings(livekit_server, roles_dir=roles))
    try:
        body = await start(client, role="temp")
        role_file.unlink()
        err = await error(
            await client.post("/api/session/redispatch", headers=bearer(body["token"])), 404, "unknown_role"
        )
    finally:
        await client.close()
    assert err["roles"] == []


# ------------------------------------------------------------------------------------------ headers, secrets


async def test_security_headers_and_no_cors(client: Client) -> None:
    origin = {"Origin": "https://evil.example"}
    for resp in [
        await client.get("/api/roles", headers=origin),
        await client.post("/api/session", json={"role": "x"}, headers=origin),
        await client.get("/", headers=origin),
    ]:
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        assert not [h for h in resp.headers if h.lower().startswith("access-control-")]
        assert resp.headers["Server"] == "RoleCall"  # not aiohttp's, which names versions
    api_resp = await client.get("/api/roles")
    assert api_resp.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert api_resp.headers["Cache-Control"] == "no-store"
    preflight = await client.options(
        "/api/session", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status == 405
    assert "Access-Control-Allow-Origin" not in preflight.headers


async def test_secrets_never_appear_in_responses(
    client: Client, livekit_server: LiveKitServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    texts = []
    body = await start(client)
    for method, path, kw in [
        ("GET", "/api/roles", {}),
        ("POST", "/api/session", {"json": {"role": "cooking-guide"}}),
        ("POST", "/api/session", {"json": {"role": "nope"}}),
        ("POST", "/api/session/redispatch", {"headers": bearer(body["token"])}),
        ("POST", "/api/session/redispatch", {"headers": bearer("x")}),
        ("POST", "/api/recipes/search", {"json": {"query": "pasta"}}),
        ("GET", "/api/health", {}),
        ("GET", "/api/openapi.json", {}),
        ("GET", "/", {}),
    ]:
        resp = await client.request(method, path, **kw)
        texts.append(await resp.text())
        texts.append(str(resp.headers))
    texts.append(caplog.text)
    for secret in (livekit_server.api_secret, TOOL_SECRET):
        assert not [t for t in texts if secret in t]
