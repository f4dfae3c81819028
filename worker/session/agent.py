"""`RoleAgent`: a livekit-agents `Agent` built from a role; it greets, reloads, and takes handoffs.

All agents of a session share the session's one model, so a handoff keeps the model connection: only
instructions and tools change (the voice and model settings stay those of the first role, because the
Realtime API cannot change voice once the agent has spoken).

On GPT-Live (`api: live`) the agent's own instructions are the voice model's (`live_instructions`, fixed
by `session.start`); the role's prompt and tools go to the backend (`worker.live`), which is what a
handoff or a live reload changes. Roles that hand off to each other share the voice settings
(`worker.roles.model_checks`).
"""

from __future__ import annotations

import logging
from typing import Any

from livekit.agents import Agent, AgentSession, llm

from worker.live import RoleCallLiveModel, backend_options
from worker.protocol import SAY_EXACTLY
from worker.roles import RenderedRole, Role
from worker.session.context import SessionContext
from worker.tools import build_tools
from worker.tools.handoff import Handoff

logger = logging.getLogger("rolecall.agent")


class RoleAgent(Agent):
    """One role, acting in one session."""

    def __init__(
        self,
        role: Role,
        rendered: RenderedRole,
        ctx: SessionContext,
        *,
        chat_ctx: llm.ChatContext | None = None,
        arrival_note: str = "",
        greet: bool = True,
    ) -> None:
        self.role = role
        self.rendered = rendered
        self.ctx = ctx
        self._greet = greet
        self._arrival_note = arrival_note
        self._unlisted = ctx.tools.mcp.pending(role)  # built before its MCP servers were listed
        super().__init__(
            instructions=self._agent_instructions(), tools=build_tools(role, ctx), chat_ctx=chat_ctx
        )

    def _compose_instructions(self) -> str:
        if not self._arrival_note:
            return self.rendered.instructions
        return f"{self.rendered.instructions}\n\n# Handoff note\n{self._arrival_note}"

    def _agent_instructions(self) -> str:
        """The model's instructions: the role's prompt, or on GPT-Live the voice model's prompt."""
        return self.role.model.voice_instructions if self.role.model.live else self._compose_instructions()

    @property
    def backend_instructions(self) -> str | None:
        """On GPT-Live, the backend's instructions: the role's prompt (and handoff note); else None."""
        return self._compose_instructions() if self.role.model.live else None

    def _retune_backend(self) -> None:
        """GPT-Live: give the backend this role's prompt and settings (`session.update`)."""
        model = live_model(self.session)
        if model is not None:
            model.set_backend(backend_options(self.role.model, self._compose_instructions()))

    async def on_enter(self) -> None:
        ctx = self.ctx
        if ctx.record.role != self.role.name:
            ctx.record.role_changed(self.role.name, self.role.version)
        await ctx.page.announce_role(self.role.name, self.role.title)
        logger.info("role %s active", self.role.name, extra=ctx.log_extra)
        if self._unlisted:  # offer its MCP servers' tools as soon as they are listed
            self._unlisted = False
            await self.refresh_tools()
        if self._greet:
            self.greet_now()

    def greet_now(self) -> None:
        """Start the role's greeting, if it has one."""
        greeting = self.rendered.greeting
        if greeting is not None:
            if greeting.say is not None:
                instructions = f"{SAY_EXACTLY} {greeting.say}"
            else:
                instructions = greeting.instructions or ""
            self.session.generate_reply(instructions=instructions)

    async def apply_role_update(self, role: Role) -> None:
        """Live reload: take a changed role file's instructions and tools without a restart.

        On GPT-Live only the backend can change: a new voice, model or voice prompt waits for the next
        session (and is logged)."""
        rendered = role.render(self.ctx.variables)
        if role.version != self.role.version:
            self.ctx.record.role_reloaded(role.name, role.version)
        waiting = fixed_changes(self.role, role)
        if waiting:  # the running session keeps them; the rest of the edit applies now
            role = role.model_copy(update={"model": _keep_voice(self.role, role)})
        self.rendered, self.role = rendered, role
        if self.role.model.live:
            self._retune_backend()
        else:
            await self.update_instructions(self._compose_instructions())
        await self.refresh_tools()
        if waiting:
            logger.info(
                "role %s: %s changed and waits for the next session (GPT-Live fixes it at session start)",
                role.name,
                ", ".join(waiting),
                extra=self.ctx.log_extra,
            )
        logger.info("role %s reloaded into the live session", role.name, extra=self.ctx.log_extra)

    async def refresh_tools(self) -> None:
        """Offer the tools of the role, as the page implements them now (after discovery or a return),
        and as its MCP servers list them (listed first, if this session has not yet)."""
        await self.ctx.tools.mcp.prepare(self.role, self.ctx)
        await self.update_tools(build_tools(self.role, self.ctx))

    async def take_handoff(self, handoff: Handoff) -> Any:
        """Become `handoff.target` (`worker.tools.handoff` decided the rest).

        With `history: full` the role changes in place on this agent (new instructions and tools),
        so the model conversation stays whole, the handoff call and the farewell line included:
        swapping in another livekit-agents `Agent` would re-sync the conversation to a copy taken
        before the call and delete those items. With `history: none` a fresh agent takes over.
        """
        if handoff.spec.history == "none":
            return RoleAgent(
                handoff.target, handoff.rendered, self.ctx, arrival_note=handoff.note
            ), handoff.arrival
        previous = self.role.title
        self._arrival_note = handoff.note
        self.role = handoff.target
        self.rendered = handoff.rendered
        if self.role.model.live:
            self._retune_backend()  # the voice stays: roles that hand off share it (roles check)
        else:
            await self.update_instructions(self._compose_instructions())
        await self.refresh_tools()
        self.ctx.record.role_changed(self.role.name, self.role.version)
        await self.ctx.page.announce_role(self.role.name, self.role.title)
        logger.info("handed over from %s to %s", previous, self.role.name, extra=self.ctx.log_extra)
        return handoff.arrival


def live_model(session: AgentSession[Any]) -> RoleCallLiveModel | None:
    """The session's GPT-Live model, if it runs on one."""
    adapter = session.llm
    model = getattr(adapter, "duplex_model", None)
    return model if isinstance(model, RoleCallLiveModel) else None


FIXED_ON_LIVE = ("api", "name", "voice", "live_instructions")
"""Model settings a running GPT-Live session cannot change."""


def fixed_changes(old: Role, new: Role) -> list[str]:
    """The model settings of `new` a running session of `old` cannot take: the API, and on GPT-Live its
    voice settings."""
    if old.model.api != new.model.api:
        return ["model.api"]
    if not old.model.live:
        return []
    return [f"model.{name}" for name in FIXED_ON_LIVE if getattr(old.model, name) != getattr(new.model, name)]


def _keep_voice(old: Role, new: Role) -> Any:
    """`new`'s model settings with `old`'s voice settings (what the running session keeps)."""
    return new.model.model_copy(update={name: getattr(old.model, name) for name in FIXED_ON_LIVE})
