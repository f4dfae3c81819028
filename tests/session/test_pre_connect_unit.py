"""The pre-connect audio buffer's guard without a room server: who may send it, how much, when it is held."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from livekit import rtc

from worker._livekit_compat import PRE_CONNECT_TOPIC, byte_stream_handler
from worker.session.pre_connect import MAX_BYTES, PreConnectAudio
from worker.session.surface import allowed_surface

pytestmark = pytest.mark.unit


class Reader:
    """What a byte stream handler is handed: `info`, the chunks, `close()`."""

    def __init__(self, chunks: list[bytes], *, size: int | None = None) -> None:
        self.info = rtc.ByteStreamInfo(
            stream_id="s",
            mime_type="application/octet-stream",
            topic=PRE_CONNECT_TOPIC,
            timestamp=0,
            size=size,
            attributes={"trackId": "TR_1", "sampleRate": "24000", "channels": "1"},
            name="preconnect-buffer",
        )
        self.chunks = chunks
        self.closed = False

    def __aiter__(self) -> Any:
        return self._iter()

    async def _iter(self) -> Any:
        for chunk in self.chunks:
            if self.closed:
                return
            yield chunk

    def close(self) -> None:
        self.closed = True


async def _drain(guard: PreConnectAudio) -> None:
    await asyncio.gather(*guard._tasks)


async def test_the_users_buffer_is_held_until_livekit_agents_handler_takes_it() -> None:
    room = rtc.Room()
    guard = PreConnectAudio(room, "user")
    guard.listen()
    handler = byte_stream_handler(room, PRE_CONNECT_TOPIC)
    assert handler is not None
    handler(Reader([b"\x01\x00" * 100, b"\x02\x00" * 100]), "user")
    await _drain(guard)

    delivered: list[tuple[list[bytes], str, dict[str, str] | None]] = []

    async def read(reader: Any, identity: str) -> None:
        delivered.append(([chunk async for chunk in reader], identity, reader.info.attributes))

    tasks: list[asyncio.Task[None]] = []
    guard.step_aside()
    room.register_byte_stream_handler(
        PRE_CONNECT_TOPIC, lambda r, i: tasks.append(asyncio.create_task(read(r, i)))
    )
    guard.take_over()
    await asyncio.gather(*tasks)
    assert delivered == [([b"\x01\x00" * 100, b"\x02\x00" * 100], "user", Reader([]).info.attributes)]
    assert byte_stream_handler(room, PRE_CONNECT_TOPIC) == guard._on_stream  # later streams meet the guard


@pytest.mark.parametrize(
    ("identity", "reader", "why"),
    [
        ("intruder", Reader([b"x"]), "not the session's user"),
        ("user", Reader([b"x"], size=MAX_BYTES + 1), "bytes declared"),
    ],
)
async def test_others_and_oversized_buffers_are_refused(
    identity: str, reader: Reader, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    guard = PreConnectAudio(rtc.Room(), "user")
    guard._on_stream(reader, identity)  # type: ignore[arg-type]
    assert reader.closed and not guard._tasks and not guard._held
    assert why in caplog.text


async def test_one_buffer_per_session_and_never_more_than_the_cap(caplog: pytest.LogCaptureFixture) -> None:
    guard = PreConnectAudio(rtc.Room(), "user")
    big = Reader([b"\0" * 400_000] * 3)  # no size declared: counted while read
    guard._on_stream(big, "user")  # type: ignore[arg-type]
    await _drain(guard)
    assert big.closed and guard._held == [] and "over 1000000 bytes" in caplog.text
    second = Reader([b"x"])
    guard._on_stream(second, "user")  # type: ignore[arg-type]
    assert second.closed and "already taken" in caplog.text


def test_the_topic_is_served_only_for_a_role_that_asks() -> None:
    assert PRE_CONNECT_TOPIC not in allowed_surface(session_host=False).byte_topics
    assert allowed_surface(session_host=False, pre_connect_audio=True).byte_topics == {PRE_CONNECT_TOPIC}
