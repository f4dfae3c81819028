"""The one factory of a session: the worker's jobs and `python -m worker eval` both build it here.

`build_session` makes the livekit-agents `AgentSession` the way RoleCall runs it (the realtime model, or
GPT-Live, detects turns itself: no local VAD or turn model), the session's context (record, lifecycle, page,
page bridge, tool counters) and the first role's agent, and starts keeping the report: every finished
utterance, each response's token usage, the user's activity for the idle limit, the per-turn tool
count. The caller starts the session (in a room, or with an eval's stand-ins).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import aiohttp
from livekit import rtc
from livekit.agents import AgentSession, llm
from livekit.agents.llm import ChatMessage
from livekit.agents.metrics import LLMModelUsage
from livekit.agents.voice.events import (
    ConversationItemAddedEvent,
    SessionUsageUpdatedEvent,
    UserInputTranscribedEvent,
)

from worker.live import RoleCallLiveModel
from worker.pricing import Usage
from worker.report import SessionRecord
from worker.roles import RenderedRole, Role, RoleRegistry
from worker.session.agent import RoleAgent
from worker.session.context import SessionContext
from worker.session.lifecycle import Lifecycle
from worker.session.page import Page
from worker.session.ui_events import UiEvents
from worker.settings import Settings
from worker.tools import SessionTools
from worker.tools.frontend import FrontendBridge, RpcCaller


@dataclass(frozen=True)
class BuiltSession:
    """A session ready to start: livekit-agents' session, the first agent, and the shared context."""

    session: AgentSession[Any]
    agent: RoleAgent
    ctx: SessionContext
    events: UiEvents
    """The page's UI events (served in the room by `worker.session.room`, sent directly by evals)."""


def build_session(
    role: Role,
    rendered: RenderedRole,
    *,
    model: llm.RealtimeModel | llm.DuplexModel,
    settings: Settings,
    registry: RoleRegistry,
    participant: str,
    session_id: str,
    variables: Mapping[str, Any],
    http: aiohttp.ClientSession,
    rpc: RpcCaller,
    room: rtc.Room | None = None,
    arrival_note: str = "",
    greet: bool = False,
    mute_while_speaking: bool = True,
    log_extra: Mapping[str, Any] | None = None,
    on_line: Callable[[], None] | None = None,
    tools: SessionTools | None = None,
) -> BuiltSession:
    """Build one session of `role` for `participant` (see the module docstring).

    `rpc` reaches the user's page (the agent's participant in a room, or an eval's stand-in page);
    `mute_while_speaking` keeps livekit-agents' echo guard (user audio muted for the agent's first
    seconds of speech), which a session without a microphone (evals) turns off; `on_line` is called
    after each transcript line (the room's transcript tail); `tools` is the tools' session state (evals
    pass one with their stand-ins).
    """
    session_kwargs: dict[str, Any] = {} if mute_while_speaking else {"aec_warmup_duration": None}
    tools = tools or SessionTools()
    session: AgentSession[Any] = AgentSession(
        llm=model,
        vad=None,
        turn_handling={"turn_detection": "realtime_llm"},
        user_away_timeout=None,
        tools=[tools.background],  # session-scoped: a background tool's answer outlives a handoff
        **session_kwargs,
    )
    room_name = room.name if room is not None else ""
    extra = dict(log_extra or {})
    lifecycle = Lifecycle(log_extra=extra)
    lifecycle.bind(session)
    ctx = SessionContext(
        settings=settings,
        registry=registry,
        participant=participant,
        session_id=session_id,
        variables=MappingProxyType(dict(variables)),
        http=http,
        record=SessionRecord(
            session_id=session_id,
            room=room_name,
            participant=participant,
            role=role.name,
            model=role.model.name,
            backend_model=role.model.backend.model if role.model.live else None,
            role_version=role.version,
        ),
        lifecycle=lifecycle,
        page=Page(room.local_participant if room is not None else None, participant),
        bridge=FrontendBridge(rpc, participant),
        tools=tools,
        room_name=room_name,
        log_extra=extra,
    )
    record_conversation(session, ctx, on_line)
    ctx.tools.mcp.begin(role, ctx)  # list the role's MCP servers while the session starts
    agent = RoleAgent(role, rendered, ctx, arrival_note=arrival_note, greet=greet)
    if isinstance(model, RoleCallLiveModel) and agent.backend_instructions is not None:
        model.set_backend({"instructions": agent.backend_instructions})  # before session.start
    return BuiltSession(session, agent, ctx, UiEvents(session, ctx))


def record_conversation(
    session: AgentSession[Any], ctx: SessionContext, on_line: Callable[[], None] | None = None
) -> None:
    """Keep every finished utterance and each response's token usage in the session record; note the
    user's activity (idle limit) and each new user turn (per-turn tool limit)."""

    @session.on("conversation_item_added")
    def _item(ev: ConversationItemAddedEvent) -> None:
        item = ev.item
        if isinstance(item, ChatMessage) and item.role in ("user", "assistant"):
            ctx.record.add_line(
                "user" if item.role == "user" else "agent",
                item.text_content or "",
                interrupted=item.interrupted,
            )
            if on_line is not None:
                on_line()
            if item.role == "user":
                ctx.tools.turns.reset()
                ctx.lifecycle.activity()

    @session.on("user_input_transcribed")
    def _transcribed(ev: UserInputTranscribedEvent) -> None:
        ctx.lifecycle.activity()
        if ev.is_final:
            ctx.tools.turns.reset()

    @session.on("session_usage_updated")
    def _usage(ev: SessionUsageUpdatedEvent) -> None:
        # Cumulative per model: the record keeps the latest totals of the LLM (realtime) usage; on
        # GPT-Live, the voice model's duration and the backend's tokens.
        total = Usage()
        for u in ev.usage.model_usage:
            if not isinstance(u, LLMModelUsage):
                continue
            if ctx.record.backend_model is None:
                total.add(
                    Usage(
                        text_in=u.input_text_tokens,
                        text_in_cached=u.input_cached_text_tokens,
                        audio_in=u.input_audio_tokens,
                        audio_in_cached=u.input_cached_audio_tokens,
                        text_out=u.output_text_tokens,
                        audio_out=u.output_audio_tokens,
                    )
                )
            elif u.model == ctx.record.model:
                total.seconds += u.session_duration
            else:  # the backend's text tokens
                total.add(
                    Usage(
                        text_in=u.input_tokens, text_in_cached=u.input_cached_tokens, text_out=u.output_tokens
                    )
                )
        ctx.record.set_usage(total)
