"""The web side of the control API: which sessions run, and sending a command to one.

Everything comes from LiveKit's server API, so every web replica sees the same sessions and nothing is
kept here but a per-room command rate:

- a session is a room with an agent participant of ours (its `rolecall.role` attribute set);
- its role, title and state are the agent's attributes (`rolecall.role`, `rolecall.role_title`,
  livekit-agents' `lk.agent.state`); its user is the room's other (non-agent) participant;
- its transcript so far is the tail the worker keeps in the room's metadata for continuity
  (`worker.continuity`: the last 16 lines, each cut to 400 characters, saved at most every 2 s): recent
  context, not the whole conversation (for that, subscribe to `transcript.line` events, or read the
  report).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime

from livekit import api
from pydantic import BaseModel, ConfigDict, Field

from worker.continuity import METADATA_KEY
from worker.control.commands import (
    CONTROL_TOPIC,
    MAX_PACKET_BYTES,
    AnyBody,
    CommandAccepted,
    CommandName,
    HandoffBody,
    packet,
)
from worker.dispatch import DispatchError, DispatchRequest
from worker.protocol import ATTR_ROLE, ATTR_ROLE_TITLE
from worker.roles import RoleRegistry, RoleRenderError
from worker.settings import Settings
from worker.web.admission import TokenBucket, too_many
from worker.web.errors import ApiError
from worker.web.sessions import LIVEKIT_ERRORS, Sessions, livekit_unavailable

logger = logging.getLogger("rolecall.control")

ATTR_AGENT_STATE = "lk.agent.state"
"""livekit-agents' agent attribute: initializing, listening, thinking, speaking."""
MAX_LISTED = 200
"""Rooms looked at by one `GET /api/sessions`."""
COMMANDS_PER_SECOND = 2.0
COMMAND_BURST = 10
"""Per room: 10 commands at once, then 2 a second (429 `rate_limited` beyond)."""


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class SessionInfo(_Out):
    """One running session."""

    room: str
    role: str = Field(description="the active role")
    role_title: str
    agent: str = Field(description="the agent participant's identity")
    agent_state: str | None = Field(
        description="initializing, listening, thinking or speaking (livekit-agents)"
    )
    participant: str | None = Field(description="the user's identity; null while they are not in the room")
    started_at: str = Field(description="when the room was created, RFC 3339 UTC")


class SessionList(_Out):
    """`GET /api/sessions`."""

    sessions: list[SessionInfo]


class TranscriptTailLine(_Out):
    speaker: str
    text: str = Field(description="at most 400 characters")


class SessionDetail(SessionInfo):
    """`GET /api/sessions/{room}`: the session, with the tail of its transcript."""

    transcript: list[TranscriptTailLine] = Field(
        description="the last lines (up to 16, saved by the worker every 2 s at most): recent context, "
        "not the whole conversation (subscribe to transcript.line events for that)"
    )


def _rfc3339(unix: float) -> str:
    return datetime.fromtimestamp(unix, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Control:
    """Lists sessions and sends commands, through the web backend's `LiveKitAPI` client."""

    def __init__(
        self, settings: Settings, registry: RoleRegistry, lk: api.LiveKitAPI, sessions: Sessions
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.lk = lk
        self.sessions = sessions
        self.rate = TokenBucket(COMMANDS_PER_SECOND, COMMAND_BURST)

    async def list(self) -> SessionList:
        """Every room with an agent of ours in it."""
        try:
            rooms = (await self.lk.room.list_rooms(api.ListRoomsRequest())).rooms[:MAX_LISTED]
            found = await asyncio.gather(*(self._info(r) for r in rooms))
        except LIVEKIT_ERRORS as exc:
            raise livekit_unavailable(exc) from None
        return SessionList(sessions=sorted((i for i in found if i is not None), key=lambda i: i.started_at))

    async def get(self, room: str) -> SessionDetail:
        """One session with its transcript tail; 404 `unknown_room`, 409 `no_agent`."""
        try:
            found = await self._room(room)
            info = await self._info(found)
        except LIVEKIT_ERRORS as exc:
            raise livekit_unavailable(exc) from None
        if info is None:
            raise _no_agent(room)
        return SessionDetail(**info.model_dump(), transcript=_tail(found.metadata))

    async def send(self, room: str, command: CommandName, body: AnyBody) -> CommandAccepted:
        """Send `command` to the room's agent: 404 unknown room or role, 409 no agent, 413, 429."""
        if isinstance(body, HandoffBody):
            await self._check_handoff(room, body)
        control = packet(command, body)
        data = control.encode()
        if len(data) > MAX_PACKET_BYTES:
            raise ApiError(
                413, "command_too_large", f"the command is {len(data)} bytes, over {MAX_PACKET_BYTES}"
            )
        try:
            found = await self._room(room)
            info = await self._info(found)
            if info is None:
                raise _no_agent(room)
            wait = self.rate.take(room)
            if wait:
                raise too_many("rate_limited", "too many commands for this session", wait)
            await self.lk.room.send_data(
                api.SendDataRequest(
                    room=room,
                    data=data,
                    kind=api.DataPacket.Kind.RELIABLE,
                    destination_identities=[info.agent],
                    topic=CONTROL_TOPIC,
                )
            )
        except LIVEKIT_ERRORS as exc:
            raise livekit_unavailable(exc) from None
        logger.info("control %s sent to %s (%s)", command, room, control.id)
        return CommandAccepted(command_id=control.id, room=room, command=command)

    # ------------------------------------------------------------------------------------------------

    async def _room(self, room: str) -> api.Room:
        rooms = (await self.lk.room.list_rooms(api.ListRoomsRequest(names=[room]))).rooms
        if not rooms:
            raise ApiError(404, "unknown_room", f"no room {room[:128]!r} is open; see GET /api/sessions")
        return rooms[0]

    async def _info(self, room: api.Room) -> SessionInfo | None:
        try:
            listing = await self.lk.room.list_participants(api.ListParticipantsRequest(room=room.name))
        except api.TwirpError as exc:
            if exc.code == api.TwirpErrorCode.NOT_FOUND:  # closed since it was listed
                return None
            raise
        agent = next(
            (
                p
                for p in listing.participants
                if p.kind == api.ParticipantInfo.Kind.AGENT and p.attributes.get(ATTR_ROLE)
            ),
            None,
        )
        if agent is None:
            return None
        user = next((p for p in listing.participants if p.kind != api.ParticipantInfo.Kind.AGENT), None)
        return SessionInfo(
            room=room.name,
            role=agent.attributes[ATTR_ROLE],
            role_title=agent.attributes.get(ATTR_ROLE_TITLE, ""),
            agent=agent.identity,
            agent_state=agent.attributes.get(ATTR_AGENT_STATE),
            participant=user.identity if user is not None else None,
            started_at=_rfc3339(room.creation_time),
        )

    async def _check_handoff(self, room: str, body: HandoffBody) -> None:
        """The role exists and is usable (404/503), and renders with the variables it would get (400)."""
        role = await self.sessions.role(body.role)
        try:
            inherited = {k: v for k, v in (await self._dispatch_vars(room)).items() if k in role.variables}
        except LIVEKIT_ERRORS as exc:
            raise livekit_unavailable(exc) from None
        try:
            role.render({**inherited, **body.vars})
        except RoleRenderError as exc:
            where = f"{exc.field}: " if exc.field else ""
            hint = f" ({exc.hint})" if exc.hint else ""
            raise ApiError(400, "invalid_vars", f"{where}{exc.message}{hint}", field=exc.field) from None

    async def _dispatch_vars(self, room: str) -> dict[str, object]:
        """The variables the session was dispatched with (what the worker renders a new role with)."""
        try:
            dispatches = await self.lk.agent_dispatch.list_dispatch(room)
        except api.TwirpError as exc:
            if exc.code == api.TwirpErrorCode.NOT_FOUND:
                return {}
            raise
        for dispatch in reversed(dispatches):
            if dispatch.agent_name != self.settings.agent_name:
                continue
            try:
                return dict(DispatchRequest.parse(dispatch.metadata).vars)
            except DispatchError:
                continue
        return {}


def _no_agent(room: str) -> ApiError:
    return ApiError(
        409, "no_agent", f"room {room[:128]!r} has no RoleCall agent in it (not started, or ended)"
    )


def _tail(metadata: str) -> list[TranscriptTailLine]:
    try:
        data = json.loads(metadata) if metadata else {}
        lines = data.get(METADATA_KEY, {}).get("transcript_tail", [])
    except (ValueError, AttributeError):
        return []
    return [
        TranscriptTailLine(speaker=str(line.get("speaker", "")), text=str(line.get("text", "")))
        for line in lines
        if isinstance(line, dict)
    ]
