"""Telling the user's page what happens, in the typed page protocol (`worker.protocol`).

State goes into the agent participant's attributes, so a page that joins late still sees it (the
active role, and why the session cannot go on); events go to the user on `EVENTS_TOPIC`. Without a
room (evals) there is no page, and every method does nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from livekit import rtc

from worker.protocol import (
    ATTR_ERROR,
    ATTR_ROLE,
    ATTR_ROLE_TITLE,
    EVENTS_TOPIC,
    AgentErrorCode,
    ErrorAttribute,
    ErrorEvent,
    PageEvent,
    RoleEvent,
    encode,
)

logger = logging.getLogger("rolecall.page")


class Page:
    """The user's page, as the agent's participant reaches it."""

    def __init__(self, local: rtc.LocalParticipant | None, user: str | None) -> None:
        self.local = local
        """The agent's participant; None without a room."""
        self.user = user
        """The user's identity; None when unknown (then events go to everyone in the room)."""
        self._queued: deque[PageEvent] = deque()
        self._sender: asyncio.Task[None] | None = None
        self.listener: Callable[[PageEvent], None] | None = None
        """Also gets every posted event (the app backend's live events: `worker.events`)."""

    def post(self, event: PageEvent) -> None:
        """Send `event` soon, in order with the others posted, without waiting (tool activity: a tool
        call must not wait on the room)."""
        if self.local is None:
            return
        if self.listener is not None:
            self.listener(event)
        self._queued.append(event)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_queued(), name="rolecall.page")

    async def _send_queued(self) -> None:
        while self._queued:  # the task ends once the queue is empty: nothing outlives the session
            await self.send(self._queued.popleft())

    async def send(self, event: PageEvent) -> None:
        """Send one event to the page; never raises (the room may be closing)."""
        if self.local is None:
            return
        try:
            await self.local.send_text(
                encode(event),
                topic=EVENTS_TOPIC,
                destination_identities=[self.user] if self.user else None,
                compress=False,
            )
        except Exception as exc:
            logger.debug("could not send %s event: %s", event.type, exc)

    async def announce_role(self, name: str, title: str) -> None:
        """The active role, as attributes and as a `role` event."""
        await self._set_attributes({ATTR_ROLE: name, ATTR_ROLE_TITLE: title})
        await self.send(RoleEvent(name=name, title=title))

    async def report_error(self, code: AgentErrorCode, message: str) -> None:
        """Why the session cannot go on, as the error attribute and an `error` event."""
        await self._set_attributes({ATTR_ERROR: encode(ErrorAttribute(code=code, message=message))})
        await self.send(ErrorEvent(code=code, message=message))

    async def _set_attributes(self, attributes: dict[str, str]) -> None:
        if self.local is None:
            return
        try:
            await self.local.set_attributes(attributes)
        except Exception as exc:
            logger.warning("could not set the agent's attributes %s: %s", sorted(attributes), exc)
