"""`RoleAgent`: a livekit-agents `Agent` built from a role; it greets, reloads, and takes handoffs.

All agents of a session share the session's one RealtimeModel, so a handoff keeps the model
connection: only instructions and tools change (the voice and model settings stay those of the
first role, because the Realtime API cannot change voice once the agent has spoken).
"""

from __future__ import annotations

import logging
from typing import Any

from livekit.agents import Agent, llm

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
            instructions=self._compose_instructions(), tools=build_tools(role, ctx), chat_ctx=chat_ctx
        )

    def _compose_instructions(self) -> str:
        if not self._arrival_note:
            return self.rendered.instructions
        return f"{self.rendered.instructions}\n\n# Handoff note\n{self._arrival_note}"

    async def on_enter(self) -> None:
        ctx = self.ctx
        if ctx.record.role != self.role.name:
            ctx.record.role_changed(self.role.name)
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
        """Live reload: take a changed role file's instructions and tools without a restart."""
        self.rendered = role.render(self.ctx.variables)
        self.role = role
        await self.update_instructions(self._compose_instructions())
        await self.refresh_tools()
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
        await self.update_instructions(self._compose_instructions())
        await self.refresh_tools()
        self.ctx.record.role_changed(self.role.name)
        await self.ctx.page.announce_role(self.role.name, self.role.title)
        logger.info("handed over from %s to %s", previous, self.role.name, extra=self.ctx.log_extra)
        return handoff.arrival
