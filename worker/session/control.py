"""The worker side of the control API: control packets from the LiveKit server, applied to the session.

A packet is taken only when it comes from the server (`rtc.DataPacket.participant is None`: LiveKit's
`SendData`); the same bytes published by a participant carry that participant, and are ignored with a
WARNING naming it. Commands run one at a time, in the order they came; each ends in a `control.applied`
or `control.failed` live event, with the command's id.

    say       the agent says `text` word for word (after its current speech, or at once with `interrupt`)
    context   a system item in the conversation (information from the app, never a user turn); no reply
    respond   the agent replies now (`instructions` for this reply only)
    handoff   the session becomes `role`, as a handoff tool would (conversation kept); the page is told
    end       the agent says `goodbye` (if given) and the session ends: `end_reason: app_ended`
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession
from pydantic import ValidationError

from worker.control.commands import (
    CONTROL_TOPIC,
    MAX_PACKET_BYTES,
    AnyBody,
    ContextBody,
    ControlPacket,
    EndBody,
    HandoffBody,
    RespondBody,
    SayBody,
)
from worker.errors import RoleCallError
from worker.events.log import AppEvents
from worker.protocol import SAY_EXACTLY
from worker.roles import HandoffTool, RoleError
from worker.roles.model_checks import handoff_problem
from worker.session.agent import RoleAgent
from worker.session.context import SessionContext
from worker.session.running import GOODBYE_GRACE_S
from worker.session.ui_events import UiEvents
from worker.tools.handoff import Handoff, arrival_instructions

logger = logging.getLogger("rolecall.control")

MAX_WAITING = 16
"""Commands queued at most; more are refused (`control.failed`) until the agent catches up."""
REMEMBERED_IDS = 256
"""Command ids remembered, so a packet delivered twice is applied once."""
INTERRUPT_TIMEOUT_S = 3.0
CONTEXT_INTRO = "Information from the application (not words the user said):"


class CommandFailed(RoleCallError):
    """A command that cannot be applied; the text says why (it goes into `control.failed`)."""


class ControlReceiver:
    """Takes one session's control packets from the room, and applies them in order."""

    def __init__(
        self,
        room: rtc.Room,
        session: AgentSession[Any],
        ctx: SessionContext,
        events: UiEvents,
        app: AppEvents,
    ) -> None:
        self.room = room
        self.session = session
        self.ctx = ctx
        self.notes = events
        self.app = app
        self._queue: asyncio.Queue[ControlPacket] = asyncio.Queue(MAX_WAITING)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Listen to the room's data packets; apply commands until the session ends."""
        self.room.on("data_received", self.on_data)
        self._worker = self.ctx.lifecycle.spawn(self._apply_all(), name="rolecall.control")

    def stop(self) -> None:
        self.room.off("data_received", self.on_data)

    def on_data(self, packet: rtc.DataPacket) -> None:
        """A data packet in the room: a control command only when the server sent it."""
        if packet.topic != CONTROL_TOPIC:
            return
        if packet.participant is not None:
            logger.warning(
                "ignored a control packet published by participant %r: control comes from the server only",
                packet.participant.identity[:128],
                extra=self.ctx.log_extra,
            )
            return
        if len(packet.data) > MAX_PACKET_BYTES:
            logger.warning("ignored a control packet of %d bytes", len(packet.data), extra=self.ctx.log_extra)
            return
        try:
            command = ControlPacket.model_validate_json(packet.data)
        except ValidationError as exc:
            logger.warning(
                "ignored an unreadable control packet: %s", exc.errors()[0]["msg"], extra=self.ctx.log_extra
            )
            return
        if command.id in self._seen:
            return
        self._seen[command.id] = None
        while len(self._seen) > REMEMBERED_IDS:
            self._seen.popitem(last=False)
        try:
            self._queue.put_nowait(command)
        except asyncio.QueueFull:
            self._failed(command, f"more than {MAX_WAITING} commands are waiting; send it again shortly")

    async def _apply_all(self) -> None:
        while True:
            command = await self._queue.get()
            await self.apply(command)

    async def apply(self, command: ControlPacket) -> None:
        """Apply one command; its outcome goes out as a live event and to the log."""
        if self.ctx.lifecycle.ending:
            self._failed(command, "the session is ending")
            return
        try:
            body = command.parsed()
            detail = await self._run(body)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            self._failed(command, f"{where}: {first['msg']}")
        except CommandFailed as exc:
            self._failed(command, str(exc))
        except Exception as exc:  # a bug of ours must not end the session
            logger.exception("control command %s crashed", command.command, extra=self.ctx.log_extra)
            self._failed(command, f"internal error ({type(exc).__name__})")
        else:
            logger.info("control %s applied (%s)", command.command, command.id, extra=self.ctx.log_extra)
            self.app.control(command.id, command.command, applied=True, detail=detail)
            if isinstance(body, EndBody):
                await self._end(body)

    def _failed(self, command: ControlPacket, reason: str) -> None:
        logger.warning("control %s failed: %s", command.command, reason, extra=self.ctx.log_extra)
        self.app.control(command.id, command.command, applied=False, detail=reason)

    def _agent(self) -> RoleAgent:
        agent = self.session.current_agent
        if not isinstance(agent, RoleAgent):
            raise CommandFailed("the session has no active role")
        return agent

    async def _run(self, body: AnyBody) -> str:
        if isinstance(body, SayBody):
            if body.interrupt:
                await self._interrupt()
            self.session.generate_reply(instructions=f"{SAY_EXACTLY} {body.text}")
            return "speaking"
        if isinstance(body, ContextBody):
            await self.notes.add_note(self._agent(), f"{CONTEXT_INTRO}\n{body.text}")
            return "added to the conversation"
        if isinstance(body, RespondBody):
            if body.instructions:
                self.session.generate_reply(instructions=body.instructions)
            else:
                self.session.generate_reply()
            return "replying"
        if isinstance(body, HandoffBody):
            return await self._handoff(body)
        if not self.ctx.lifecycle.claim("app_ended"):
            raise CommandFailed("the session is ending")
        return f"ending: {body.reason}" if body.reason else "ending"

    async def _interrupt(self) -> None:
        if self.session.current_speech is None:
            return
        with contextlib.suppress(RuntimeError, TimeoutError):  # an uninterruptible speech goes on
            await asyncio.wait_for(self.session.interrupt(), INTERRUPT_TIMEOUT_S)

    async def _handoff(self, body: HandoffBody) -> str:
        agent = self._agent()
        current = agent.role
        if body.role == current.name:
            raise CommandFailed(f"the session already plays role {body.role!r}")
        try:
            target = self.ctx.registry.get(body.role)
            inherited = {k: v for k, v in self.ctx.variables.items() if k in target.variables}
            rendered = target.render({**inherited, **body.vars})
        except RoleError as exc:
            raise CommandFailed(f"role {body.role!r} cannot be used: {exc.message}") from None
        problem = handoff_problem(current.model, target.model, target.name)
        if problem is not None:
            raise CommandFailed(f"role {body.role!r} cannot take over this session: {problem.message}")
        spec = HandoffTool(
            kind="handoff",
            name="app_handoff",
            description="The app backend hands the session over.",
            target=target.name,
        )
        note = f"The application handed the conversation over to you from {current.title}."
        arrival = arrival_instructions(target, rendered, spec, current.title)
        await agent.take_handoff(Handoff(spec, target, rendered, note, arrival))
        self.session.generate_reply(instructions=arrival)
        return f"now {target.name}"

    async def _end(self, body: EndBody) -> None:
        if body.goodbye:
            await self._interrupt()
            speech = self.session.generate_reply(instructions=f"{SAY_EXACTLY} {body.goodbye}")
            with contextlib.suppress(TimeoutError, RuntimeError):
                await asyncio.wait_for(speech.wait_for_playout(), GOODBYE_GRACE_S)
        self.ctx.lifecycle.stop(drain=bool(body.goodbye))
