"""`POST /api/demo/events`: the demo's live-event receiver takes only events the worker signed."""

from __future__ import annotations

import json

import pytest
from standardwebhooks import Webhook

from tests.support.livekit_server import LiveKitServer
from tests.web.conftest import make_settings, open_client
from worker.outbox.envelope import secret_key

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
        forged = Webhook(secret_key("another-secret-entirely-0123")).sign("evt_1", _now(), body)
        wrong = await client.post(
            "/api/demo/events",
            data=body,
            headers={
                **JSON,
                "webhook-id": "evt_1",
                "webhook-timestamp": str(int(_now().timestamp())),
                "webhook-signature": forged,
            },
        )
        assert wrong.status == 401
        signed = Webhook(secret_key(SECRET)).sign("evt_1", _now(), body)
        ok = await client.post(
            "/api/demo/events",
            data=body,
            headers={
                **JSON,
                "webhook-id": "evt_1",
                "webhook-timestamp": str(int(_now().timestamp())),
                "webhook-signature": signed,
            },
        )
        assert ok.status == 200
    finally:
        await client.close()


async def test_without_a_secret_the_receiver_is_off(livekit_server: LiveKitServer) -> None:
    client = await open_client(make_settings(livekit_server, webhook_secret=""))
    try:
        resp = await client.post("/api/demo/events", data=json.dumps(EVENT), headers=JSON)
        assert resp.status == 503
    finally:
        await client.close()


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(tz=UTC).replace(microsecond=0)
