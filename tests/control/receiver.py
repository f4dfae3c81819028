"""A live-event receiver the tests control: verifies every event as an app would (Standard Webhooks, with
the `standardwebhooks` package), records them, and answers slowly or with errors on request."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class EventReceiver:
    secret: str
    events: list[dict[str, Any]] = field(default_factory=list)
    """Verified events, in the order they arrived (retries included)."""
    bad: list[str] = field(default_factory=list)
    """Requests whose signature did not verify."""
    delay_s: float = 0.0
    """How long each answer takes (a slow app backend)."""
    fail_next: int = 0
    """Answer this many next requests with 500."""
    _runner: web.AppRunner | None = None

    async def start(self, port: int) -> None:
        app = web.Application()
        app.router.add_post("/events", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        headers = {
            k: request.headers.get(k, "") for k in ("webhook-id", "webhook-timestamp", "webhook-signature")
        }
        try:
            event = Webhook(self.secret.encode()).verify(raw.decode(), headers)
        except WebhookVerificationError as exc:
            self.bad.append(str(exc))
            return web.Response(status=401)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.Response(status=500)
        assert headers["webhook-id"] == event["id"]
        self.events.append(json.loads(raw))
        return web.json_response({"ok": True})

    def of_room(self, room: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("room") == room]
