"""Typed chat from the user (`lk.chat`), read with a size cap and a rate limit.

livekit-agents 1.8.9 reads a whole `lk.chat` stream into memory (`read_all()`) before its text input
callback sees it, so a page could send megabytes that then sit in the job's memory, in the model's
context (billed on every later turn), in the transcript and in the report. RoleCall turns livekit-agents'
text input off and serves the topic itself: only the session's user is read, a message is read up to
`MAX_CHAT_CHARS` and dropped beyond it (the stream is closed, never buffered), at most `CHAT_BURST`
messages per `CHAT_WINDOW_S` are taken, and the page is told why a message was refused. An accepted
message goes to the session exactly as livekit-agents' own callback would send it (a user turn).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, room_io

from worker.protocol import CHAT_BURST, CHAT_TOPIC, CHAT_WINDOW_S, MAX_CHAT_CHARS, InputRefusedEvent

logger = logging.getLogger("rolecall.chat")

Refusal = Callable[[InputRefusedEvent], Awaitable[None]]
"""Tells the page a message was refused."""


class ChatInput:
    """Serves `lk.chat` for one session's user."""

    def __init__(
        self, room: rtc.Room, session: AgentSession[Any], participant: str, refuse: Refusal, log_extra: Any
    ) -> None:
        self._room = room
        self._session = session
        self._participant = participant
        self._refuse = refuse
        self._log_extra = log_extra
        self._accepted: deque[float] = deque()
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Register the handler (livekit-agents' own text input must be off: `text_input=False`)."""
        self._room.register_text_stream_handler(CHAT_TOPIC, self._on_stream)

    async def aclose(self) -> None:
        """Stop reading typed chat."""
        self._room.unregister_text_stream_handler(CHAT_TOPIC)
        for task in list(self._tasks):
            task.cancel()

    def _on_stream(self, reader: rtc.TextStreamReader, identity: str) -> None:
        if identity != self._participant:
            reader.close()  # nobody else in the room may type to the agent
            return
        task = asyncio.create_task(self._read(reader))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, reader: rtc.TextStreamReader) -> None:
        declared = reader.info.size
        if declared is not None and declared > 4 * MAX_CHAT_CHARS:  # bytes; UTF-8 is at most 4 per char
            reader.close()
            await self._too_long(f"{declared} bytes")
            return
        parts: list[str] = []
        size = 0
        try:
            async for chunk in reader:
                size += len(chunk)
                if size > MAX_CHAT_CHARS:
                    reader.close()
                    await self._too_long(f"over {MAX_CHAT_CHARS} characters")
                    return
                parts.append(chunk)
        except rtc.StreamError as exc:
            logger.info("typed message not received whole: %s", exc, extra=self._log_extra)
            return
        text = "".join(parts)
        if not text.strip():
            return
        now = time.monotonic()
        while self._accepted and now - self._accepted[0] > CHAT_WINDOW_S:
            self._accepted.popleft()
        if len(self._accepted) >= CHAT_BURST:
            logger.info("typed message refused: too many in %.0f s", CHAT_WINDOW_S, extra=self._log_extra)
            await self._refuse(
                InputRefusedEvent(
                    reason="too_fast",
                    message=(
                        f"Too many messages: at most {CHAT_BURST} every {CHAT_WINDOW_S:g} seconds. "
                        "Wait a moment."
                    ),
                )
            )
            return
        self._accepted.append(now)
        participant = self._room.remote_participants.get(self._participant)
        callback = room_io.TextInputOptions().text_input_cb  # livekit-agents' own: interrupt, then reply
        result = callback(
            self._session, room_io.TextInputEvent(text=text, info=reader.info, participant=participant)
        )
        if asyncio.iscoroutine(result):
            await result

    async def _too_long(self, size: str) -> None:
        logger.info("typed message refused: %s", size, extra=self._log_extra)
        await self._refuse(
            InputRefusedEvent(
                reason="too_long",
                message=(
                    f"That message is too long: at most {MAX_CHAT_CHARS} characters are read. "
                    "Please shorten it."
                ),
            )
        )
