"""The demo's app backend receiving live events: when the cooking guide's timer ends, it tells the agent.

POST /api/demo/events takes the worker's live events (`ROLECALL_EVENTS_URL` pointed here; `make demo`
does), verified like any receiver must: Standard Webhooks, with `ROLECALL_WEBHOOK_SECRET`. On the
`tool.completed` event of `start_timer` (its arguments are shared: `show_arguments: true` in
roles/cooking-guide.yaml) it schedules, for when the timer ends, a `context` command through the same
`Control` service as `POST /api/sessions/{room}/context`: the app backend, not the page, tells the agent.
Every other event is taken (2xx) and ignored.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from worker.control.commands import ContextBody
from worker.control.routes import CONTROL
from worker.outbox.envelope import secret_key
from worker.web.errors import ApiError

logger = logging.getLogger("rolecall.web")

TIMER_TOOL = "start_timer"
MAX_TIMERS = 100
"""Timers waiting at once (more are not followed up)."""
MAX_TIMER_S = 21_600
REMEMBERED = 1000
TIMERS = web.AppKey("demo_timers", dict)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/demo/events", receive)
    app.cleanup_ctx.append(_timers)


async def _timers(app: web.Application) -> AsyncIterator[None]:
    app[TIMERS] = {"tasks": set(), "seen": OrderedDict()}
    yield
    tasks: set[asyncio.Task[None]] = app[TIMERS]["tasks"]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def receive(request: web.Request) -> web.Response:
    from worker.web.app import SETTINGS, read_body

    settings = request.app[SETTINGS]
    if not settings.webhook_secret:
        raise ApiError(503, "not_configured", "live events are off: ROLECALL_WEBHOOK_SECRET is not set")
    raw = await read_body(request)
    event = _verified(raw, request.headers, settings.webhook_secret, settings.webhook_secret_previous)
    state = request.app[TIMERS]
    seen: OrderedDict[str, None] = state["seen"]
    if event.get("id") in seen:  # a retry of an event already taken
        return web.json_response({"ok": True})
    seen[str(event.get("id"))] = None
    while len(seen) > REMEMBERED:
        seen.popitem(last=False)
    found = event.get("data")
    data: dict[str, Any] = found if isinstance(found, dict) else {}
    if event.get("type") == "tool.completed" and data.get("name") == TIMER_TOOL:
        _schedule(request.app, str(event.get("room", "")), data.get("arguments"))
    return web.json_response({"ok": True})


def _verified(raw: bytes, headers: Any, *secrets: str) -> dict[str, Any]:
    wanted = {k: headers.get(k, "") for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    for secret in (s for s in secrets if s):
        try:
            event = Webhook(secret_key(secret)).verify(raw.decode(errors="replace"), wanted)
        except WebhookVerificationError:
            continue
        if isinstance(event, dict):
            return event
    raise ApiError(401, "bad_signature", "the event's Standard Webhooks signature does not verify")


def _schedule(app: web.Application, room: str, arguments: Any) -> None:
    tasks: set[asyncio.Task[None]] = app[TIMERS]["tasks"]
    if not isinstance(arguments, dict) or not room or len(tasks) >= MAX_TIMERS:
        return
    seconds, label = arguments.get("seconds"), str(arguments.get("label", "timer"))[:40]
    if not isinstance(seconds, int) or not 0 < seconds <= MAX_TIMER_S:
        return
    task = asyncio.get_running_loop().create_task(_ring(app, room, label, seconds))
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _ring(app: web.Application, room: str, label: str, seconds: int) -> None:
    await asyncio.sleep(seconds)
    text = f"The user's timer {json.dumps(label)} ({seconds} s) has just finished."
    try:
        await app[CONTROL].send(room, "context", ContextBody(text=text))
    except ApiError as exc:  # the session is over, or LiveKit is away: nothing more to do
        logger.info("demo: the %s timer of %s ended, the agent was not told: %s", label, room, exc.message)
