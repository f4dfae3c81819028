"""`GET /api/health`: roles and LiveKit, cached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.livekit_server import LiveKitServer
from tests.web.conftest import ROLES, assert_matches_openapi, make_settings, open_client
from worker.roles import RoleRegistry
from worker.web.health import HealthCheck


async def get_health(settings: Any) -> tuple[int, dict[str, Any]]:
    client = await open_client(settings)
    try:
        resp = await client.get("/api/health")
        return resp.status, await resp.json()
    finally:
        await client.close()


@pytest.mark.integration
async def test_ok_with_roles_and_livekit(livekit_server: LiveKitServer) -> None:
    status, body = await get_health(make_settings(livekit_server))
    assert (status, body) == (200, {"status": "ok"})
    assert_matches_openapi("/api/health", "get", 200, body)


@pytest.mark.integration
async def test_503_when_livekit_is_unreachable() -> None:
    status, body = await get_health(make_settings())
    assert status == 503
    assert body == {"error": {"code": "unhealthy", "message": "the LiveKit server is not reachable"}}
    assert_matches_openapi("/api/health", "get", 503, body)


@pytest.mark.integration
async def test_503_when_no_role_is_valid(livekit_server: LiveKitServer, tmp_path: Path) -> None:
    roles = tmp_path / "roles"
    roles.mkdir()
    (roles / "broken.yaml").write_text("name: broken\n")
    status, body = await get_health(make_settings(livekit_server, roles_dir=roles))
    assert status == 503 and "no valid role" in body["error"]["message"]


class _FakeRooms:
    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    async def list_rooms(self, request: Any) -> Any:
        self.calls += 1
        if self.fail:
            raise OSError("connection refused")
        return object()


class _FakeLiveKit:
    def __init__(self) -> None:
        self.room = _FakeRooms()


@pytest.mark.unit
async def test_results_are_cached_for_a_few_seconds() -> None:
    now = [100.0]
    lk = _FakeLiveKit()
    check = HealthCheck(RoleRegistry(ROLES), lk, clock=lambda: now[0])  # type: ignore[arg-type]
    assert await check.check() is None
    lk.room.fail = True
    now[0] += 4.9
    assert await check.check() is None and lk.room.calls == 1  # still cached
    now[0] += 0.2
    assert await check.check() == "the LiveKit server is not reachable" and lk.room.calls == 2
    lk.room.fail = False
    assert await check.check() is not None  # failures are cached too
    now[0] += 5
    assert await check.check() is None and lk.room.calls == 3
