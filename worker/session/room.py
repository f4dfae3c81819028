"""The session in its LiveKit room: waiting for the user, following them, serving what the room may use.

`serve_the_room` registers what the agent answers (typed chat, UI events, and the operator's session
host if one is configured) and then checks the agent's whole room surface (`worker.session.surface`).
`follow_the_user` hands the user's comings and goings to the lifecycle (the grace timer) and asks a
returning page for its tools again. `refuse` tells a user why their session cannot start.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, AutoSubscribe, JobContext

from worker._livekit_compat import operator_session_host
from worker.protocol import EVENT_METHOD, AgentErrorCode
from worker.session.agent import RoleAgent
from worker.session.chat import ChatInput
from worker.session.context import SessionContext
from worker.session.page import Page
from worker.session.surface import allowed_surface, enforce_surface
from worker.session.ui_events import UiEvents
from worker.settings import Settings

logger = logging.getLogger("rolecall.session")

REFUSAL_WAIT_S = 10.0
"""How long a refused job waits for its user (at most), so that they can be told why."""
REFUSAL_LINGER_S = 2.0
"""How long a refused job stays in the room after telling the user, so the page receives the reason."""


async def connect(ctx: JobContext) -> None:
    """Join the room, subscribing to audio only (the page sends nothing else the agent uses)."""
    await ctx.connect(auto_subscribe=AutoSubscribe.AUDIO_ONLY)


async def wait_for_user(ctx: JobContext, identity: str | None, timeout_s: float) -> str | None:
    """The user's identity once they are in the room (any participant if `identity` is None), or None
    when nobody came within `timeout_s`."""
    try:
        participant = await asyncio.wait_for(ctx.wait_for_participant(identity=identity), timeout_s)
    except TimeoutError:
        return None
    return participant.identity


async def refuse(
    ctx: JobContext, user: str | None, code: AgentErrorCode, message: str, *, wait_s: float
) -> None:
    """Tell the user why there is no session (waiting `wait_s` at most for them), then end the job."""
    await connect(ctx)
    user = await wait_for_user(ctx, user, min(wait_s, REFUSAL_WAIT_S))
    await Page(ctx.room.local_participant, user).report_error(code, message)
    await asyncio.sleep(REFUSAL_LINGER_S)
    ctx.shutdown(code)


async def serve_the_room(
    job: JobContext,
    session: AgentSession[Any],
    ctx: SessionContext,
    settings: Settings,
    events: UiEvents,
    *,
    pre_connect_audio: bool = False,
) -> None:
    """Typed chat (capped), UI events, the operator's session host if configured, the user's pre-connect
    audio if the role asks for it (`worker.session.pre_connect`), and nothing else."""

    chat = ChatInput(
        job.room,
        session,
        ctx.participant,
        ctx.page.send,
        max_chars=settings.chat_max_chars,
        log_extra=ctx.log_extra,
    )
    chat.start()
    job.add_shutdown_callback(chat.aclose)
    local = job.room.local_participant
    local.register_rpc_method(EVENT_METHOD, events.handle_rpc)  # the caller is checked in there

    async def _stop_events() -> None:
        local.unregister_rpc_method(EVENT_METHOD)

    job.add_shutdown_callback(_stop_events)
    host = settings.session_host_identity
    if host and host != ctx.participant:
        operator = operator_session_host(job.room, host, session)
        await operator.start()
        job.add_shutdown_callback(operator.aclose)
        logger.info("session host serves %s only", host, extra=ctx.log_extra)
    allowed = allowed_surface(session_host=bool(host), pre_connect_audio=pre_connect_audio)
    enforce_surface(job.room, allowed, ctx.log_extra)


def follow_the_user(job: JobContext, session: AgentSession[Any], ctx: SessionContext, grace_s: float) -> None:
    """End the session once the user has been gone for `grace_s`; ask a returning page for its tools."""

    @job.room.on("participant_disconnected")
    def _left(p: rtc.RemoteParticipant) -> None:
        if p.identity == ctx.participant:
            ctx.app_events.participant(p.identity, left=True)
            ctx.lifecycle.user_left(grace_s)

    @job.room.on("participant_connected")
    def _back(p: rtc.RemoteParticipant) -> None:
        if p.identity != ctx.participant:
            return
        ctx.bridge.note_arrival()
        if not ctx.lifecycle.user_returned():
            return  # the first arrival: the flow asks the page for its tools
        ctx.app_events.participant(p.identity, left=False)
        agent = session.current_agent
        if isinstance(agent, RoleAgent):
            ctx.lifecycle.spawn(discover_tools(agent), name="rolecall.rediscover")


async def discover_tools(agent: RoleAgent) -> None:
    """Ask the page which frontend tools it implements; offer the model only those."""
    await agent.ctx.bridge.discover_for(agent.role, agent.ctx.log_extra)
    await agent.refresh_tools()
