"""Typed chat from the user (`lk.chat`), read with a size cap and a rate limit.

livekit-agents 1.8.9 reads a whole `lk.chat` stream into memory (`read_all()`) before its text input
callback sees it, so a page could send megabytes that then sit in the job's memory, in the model's
context (billed on every later turn), in the transcript and in the report. RoleCall turns livekit-agents'
text input off and serves the topic itself: only the session's user is read; a message is read up to
`ROLECALL_CHAT_MAX_CHARS` characters and dropped beyond it (the stream is closed, never buffered); a
burst of `CHAT_BURST` messages is taken, then one more every `CHAT_REFILL_S` seconds; and the page is
told why a message was refused. An accepted message goes to the session exactly as livekit-agents'
own callback would send it (a user turn).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, room_io

from worker.protocol import CHAT_BURST, CHAT_REFILL_S, CHAT_TOPIC, InputRefusedEvent

logger = logging.getLogger("rolecall.chat")

Refusal = Callable[[InputRefusedEvent], Awaitable[None]]
"""Tells the page a message was refused."""


class ChatInput:
    """Serves `lk.chat` for one session's user."""

    def __init__(
        self,
        room: rtc.Room,
        session: AgentSession[Any],
        participant: str,
        refuse: Refusal,
        *,
        max_chars: int,
        log_extra: Any = None,
    ) -> None:
        self._room = room
        self._session = session
        self._participant = participant
        self._refuse = refuse
        self._max_chars = max_chars
        self._log_extra = log_extra
        self._tokens = float(CHAT_BURST)
        self._refilled = time.monotonic()
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
        if declared is not None and declared > 4 * self._max_chars:  # bytes; UTF-8 is at most 4 a character
            reader.close()
            await self._too_long(f"{declared} bytes")
            return
        parts: list[str] = []
        size = 0
        try:
            async for chunk in reader:
                size += len(chunk)
                if size > self._max_chars:
                    reader.close()
                    await self._too_long(f"over {self._max_chars} characters")
                    return
                parts.append(chunk)
        except rtc.StreamError as exc:
            logger.info("typed message not received whole: %s", exc, extra=self._log_extra)
            return
        text = "".join(parts)
        if not text.strip():
            return
        if not self._take_token():
            logger.info("typed message refused: too many at once", extra=self._log_extra)
            await self._refuse(
                InputRefusedEvent(
                    reason="too_fast",
                    message=f"Too many messages at once: wait {CHAT_REFILL_S:g} s before sending another.",
                )
            )
            return
        participant = self._room.remote_participants.get(self._participant)
        callback = room_io.TextInputOptions().text_input_cb  # livekit-agents' own: interrupt, then reply
        event = room_io.TextInputEvent(text=text, info=reader.info, participant=participant)
        result = callback(self._session, event)
        if asyncio.iscoroutine(result):
            await result

    def _take_token(self) -> bool:
        now = time.monotonic()
        self._tokens = min(float(CHAT_BURST), self._tokens + (now - self._refilled) / CHAT_REFILL_S)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    async def _too_long(self, size: str) -> None:
        logger.info("typed message refused: %s", size, extra=self._log_extra)
        await self._refuse(
            InputRefusedEvent(
                reason="too_long",
                message=f"That message is too long: at most {self._max_chars} characters are read. "
                "Please shorten it.",
            )
        )
