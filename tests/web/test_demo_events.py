"""`POST /api/demo/events`: the demo's live-event receiver takes only events the worker signed."""

from __future__ import annotations

import json

import pytest

from tests.support.livekit_server import LiveKitServer
from tests.web.conftest import make_settings, open_client
from worker.outbox.envelope import Signer

pytestmark = pytest.mark.integration

SECRET = "demo-events-secret-0123456789"
JSON = {"Content-Type": "application/json"}
EVENT = {"type": "tool.completed", "id": "evt_1", "room": "r", "data": {"name": "start_timer"}}


async def test_an_outsider_cannot_post_events(livekit_server: LiveKitServer) -> None:
    client = await open_client(make_settings(livekit_server, webhook_secret=SECRET))
    try:
        body = json.dumps(EVENT)
        unsigned = await client.post("/api/demo/events", data=body, headers=JSON)
        assert unsigned.status == 401
        for secret, status in (("another-secret-entirely-0123", 401), (SECRET, 200)):
            headers = Signer(secret).headers("evt_1", body.encode())  # the worker's own signing
            resp = await client.post("/api/demo/events", data=body, headers=headers)
            assert resp.status == status, secret
    finally:
        await client.close()


async def test_without_a_secret_the_receiver_is_off(livekit_server: LiveKitServer) -> None:
    client = await open_client(make_settings(livekit_server, webhook_secret=""))
    try:
        resp = await client.post("/api/demo/events", data=json.dumps(EVENT), headers=JSON)
        assert resp.status == 503
    finally:
        await client.close()
