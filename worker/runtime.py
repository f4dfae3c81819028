"""Per-session state that tools and agents share: who is served, how to reach them, what happened.

One `SessionRuntime` per job. It is plain data plus a few small helpers, so that the session flow in
`worker.app` stays readable and each tool kind stays a small function.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from livekit import rtc

from worker.report import SessionRecord
from worker.roles import Role, RoleRegistry
from worker.settings import Settings
from worker.tools.frontend import FrontendBridge

if TYPE_CHECKING:
    from livekit.agents import AgentSession

logger = logging.getLogger("rolecall.session")


@dataclass
class SessionRuntime:
    """What every tool call of one session may need."""

    settings: Settings
    registry: RoleRegistry
    room: rtc.Room | None
    """The LiveKit room; None when the session runs without one (`python -m worker eval`)."""
    participant: str
    session_id: str
    variables: dict[str, Any]
    http: aiohttp.ClientSession
    record: SessionRecord
    bridge: FrontendBridge
    session: AgentSession[Any] | None = None
    implemented: set[str] | None = None
    """RPC methods the page said it implements; None when it did not answer discovery."""
    handoffs: int = 0
    tool_calls_this_turn: int = 0
    ending: str | None = None
    """Why the session is ending (`end_session`, `max_duration`, `idle`, `user_left`), once it is."""
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    last_user_activity: float = field(default_factory=time.monotonic)
    """time.monotonic() of the user's last words (speech or text), for the idle limit."""
    log_extra: dict[str, Any] = field(default_factory=dict)

    @property
    def room_name(self) -> str:
        """The room's name ('' without a room)."""
        return self.room.name if self.room is not None else ""

    @property
    def local(self) -> rtc.LocalParticipant | None:
        """The agent's participant, which tells the page things (None without a room)."""
        return self.room.local_participant if self.room is not None else None

    def frontend_methods_offered(self, role: Role) -> set[str]:
        """Names of the role's frontend tools the page can run."""
        from worker.roles import FrontendTool

        methods = {t.name: t.method for t in role.tools if isinstance(t, FrontendTool)}
        if self.implemented is None:
            return set(methods)
        return {name for name, method in methods.items() if method in self.implemented}
