"""The page's pre-connect audio buffer, for roles that turn it on (`model.pre_connect_audio`).

livekit-client records the microphone while the agent joins and streams it on the byte-stream topic
`lk.agent.pre-connect-audio-buffer` as soon as the agent is in the room; livekit-agents then plays it into
the session before the live microphone, so the user's first words are not lost. livekit-agents' own
handler reads that topic from anyone in the room, whole, into memory. RoleCall keeps the door narrow:
only the session's user, one stream per session, at most `MAX_BYTES`, and only for a role that asks.

The stream may arrive before the session starts (the agent joins the room first), so `listen` holds it
from the moment the agent connects; livekit-agents registers its handler when the session starts, which
`take_over` then wraps, handing it what was held.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc

from worker._livekit_compat import PRE_CONNECT_TOPIC, byte_stream_handler

logger = logging.getLogger("rolecall.session")

MAX_BYTES = 1_000_000
"""Largest buffer read: about 10 s of 48 kHz mono PCM16 (livekit-client stops recording after 10 s; its
Opus recording is far smaller)."""
MAX_STREAMS = 1
"""Buffers accepted per session: a page sends one, when the agent arrives."""


@dataclass
class _Held:
    """A buffer read whole: what livekit-agents' handler reads from a stream (`info`, the chunks)."""

    info: rtc.ByteStreamInfo
    chunks: list[bytes] = field(default_factory=list)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


class PreConnectAudio:
    """The pre-connect audio of one session: from its user only, one buffer, bounded."""

    def __init__(self, room: rtc.Room, user: str, *, log_extra: Any = None) -> None:
        self._room = room
        self._user = user
        self._log_extra = log_extra
        self._accepted = 0
        self._held: list[_Held] = []
        self._deliver: Callable[[Any, str], None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def listen(self) -> None:
        """Start holding the user's buffer (before the agent joins the room)."""
        self._room.register_byte_stream_handler(PRE_CONNECT_TOPIC, self._on_stream)

    def step_aside(self) -> None:
        """Let livekit-agents register its handler (right before the session starts)."""
        self._room.unregister_byte_stream_handler(PRE_CONNECT_TOPIC)

    def take_over(self) -> None:
        """Wrap livekit-agents' handler (right after the session started) and hand it what was held."""
        self._deliver = byte_stream_handler(self._room, PRE_CONNECT_TOPIC)
        if self._deliver is None:
            logger.warning("no pre-connect audio handler to hand the buffer to", extra=self._log_extra)
            return
        self._room.unregister_byte_stream_handler(PRE_CONNECT_TOPIC)
        self._room.register_byte_stream_handler(PRE_CONNECT_TOPIC, self._on_stream)
        held, self._held = self._held, []
        for buffer in held:
            self._deliver(buffer, self._user)

    async def aclose(self) -> None:
        """Stop reading."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _on_stream(self, reader: rtc.ByteStreamReader, identity: str) -> None:
        refusal = self._refusal(reader, identity)
        if refusal:
            logger.warning("pre-connect audio refused: %s", refusal, extra=self._log_extra)
            reader.close()
            return
        self._accepted += 1
        task = asyncio.create_task(self._read(reader))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _refusal(self, reader: rtc.ByteStreamReader, identity: str) -> str:
        if identity != self._user:
            return f"from {identity!r}, not the session's user"
        if self._accepted >= MAX_STREAMS:
            return "a buffer was already taken"
        if reader.info.size and reader.info.size > MAX_BYTES:
            return f"{reader.info.size} bytes declared, more than {MAX_BYTES}"
        return ""

    async def _read(self, reader: rtc.ByteStreamReader) -> None:
        held, size = _Held(reader.info), 0
        try:
            async for chunk in reader:
                size += len(chunk)
                if size > MAX_BYTES:
                    reader.close()
                    logger.warning(
                        "pre-connect audio dropped: over %d bytes", MAX_BYTES, extra=self._log_extra
                    )
                    return
                held.chunks.append(chunk)
        except rtc.StreamError as exc:
            logger.info("pre-connect audio not received whole: %s", exc, extra=self._log_extra)
            return
        logger.info("pre-connect audio received: %d bytes", size, extra=self._log_extra)
        if self._deliver is None:
            self._held.append(held)
        else:
            self._deliver(held, self._user)
