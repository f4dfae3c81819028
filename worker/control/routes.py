"""The control API's routes on the web backend, for the app's servers only.

GET  /api/sessions                     running sessions
GET  /api/sessions/{room}              one session, with the tail of its transcript
POST /api/sessions/{room}/say          {text, interrupt?}       -> 202 {command_id, room, command}
POST /api/sessions/{room}/context      {text}                   -> 202
POST /api/sessions/{room}/respond      {instructions?}          -> 202
POST /api/sessions/{room}/handoff      {role, vars?}            -> 202
POST /api/sessions/{room}/end          {reason?, goodbye?}      -> 202

Every route needs `Authorization: Bearer <key>` with a key of `ROLECALL_WEB_API_KEYS`, whatever
`ROLECALL_WEB_AUTH` says (the page never holds one: this API can make the agent say anything). Without
keys the routes answer 503 `control_off`. A 202 means LiveKit took the command for the agent; what came
of it arrives as a `control.applied` or `control.failed` live event with the same `command_id`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

from aiohttp import web

from worker.control.commands import BODIES, CommandName
from worker.control.service import Control
from worker.web.config import api_keys
from worker.web.errors import ApiError
from worker.web.models import parse_body

logger = logging.getLogger("rolecall.control")

CONTROL = web.AppKey("control", Control)
ROOM_CHARS = 128
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="rolecall-control"'}


def add_routes(app: web.Application) -> None:
    """The control API's routes (the `Control` service is set under `CONTROL` at start-up)."""
    app.router.add_get("/api/sessions", list_sessions)
    app.router.add_get("/api/sessions/{room}", get_session)
    for name in BODIES:
        app.router.add_post(f"/api/sessions/{{room}}/{name}", _command_handler(name))  # type: ignore[arg-type]


def check_key(control: Control, authorization: str | None) -> None:
    """401 unless `authorization` is `Bearer <a key of ROLECALL_WEB_API_KEYS>`; 503 when there are none."""
    keys = api_keys(control.settings)
    if not keys:
        raise ApiError(
            503, "control_off", "the control API is off: set ROLECALL_WEB_API_KEYS on the web backend"
        )
    scheme, _, credential = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise ApiError(
            401, "unauthorized", "send an API key as 'Authorization: Bearer <key>'", headers=CHALLENGE
        )
    digest = hashlib.sha256(credential.strip().encode()).digest()
    found = False
    for key in keys:  # every key, equal-length digests: timing tells nothing
        found |= hmac.compare_digest(digest, hashlib.sha256(key.encode()).digest())
    if not found:
        raise ApiError(401, "invalid_api_key", "the API key is not valid", headers=CHALLENGE)


def _room(request: web.Request) -> str:
    room = request.match_info["room"]
    if not 0 < len(room) <= ROOM_CHARS:
        raise ApiError(404, "unknown_room", "no such room")
    return room


async def list_sessions(request: web.Request) -> web.Response:
    control = request.app[CONTROL]
    check_key(control, request.headers.get("Authorization"))
    return web.json_response((await control.list()).model_dump())


async def get_session(request: web.Request) -> web.Response:
    control = request.app[CONTROL]
    check_key(control, request.headers.get("Authorization"))
    return web.json_response((await control.get(_room(request))).model_dump())


def _command_handler(name: CommandName) -> Any:
    model = BODIES[name]

    async def handle(request: web.Request) -> web.Response:
        from worker.web.app import read_body  # the app module registers these routes

        control = request.app[CONTROL]
        check_key(control, request.headers.get("Authorization"))  # before the body: strangers get no more
        room = _room(request)
        body = parse_body(await read_body(request), model)
        accepted = await control.send(room, name, body)
        return web.json_response(accepted.model_dump(), status=202)

    return handle
