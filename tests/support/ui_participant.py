"""A Python participant that plays the web page in integration tests.

It does what the frontend library does: registers tool handlers (and the discovery method) before
connecting, records every RPC it receives, follows the agent's transcripts, events and attributes,
can type to the agent (`lk.chat`), publish a WAV file as its microphone, and count agent audio.
"""

from __future__ import annotations

import asyncio
import json
import time
import wave
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc

from tests.support.livekit_server import LiveKitServer

Handler = Callable[[dict[str, Any]], Awaitable[Any] | Any]
SAMPLE_RATE = 24_000


@dataclass
class RpcCall:
    method: str
    arguments: Any
    caller: str
    at: float


@dataclass
class Transcript:
    speaker: str
    text: str
    final: bool
    at: float = 0.0
    """`time.monotonic()` when the whole stream had arrived."""


@dataclass
class UIParticipant:
    """One simulated page in a room."""

    server: LiveKitServer
    room_name: str
    identity: str = "user"
    handlers: dict[str, Handler] = field(default_factory=dict)
    answer_discovery: bool = True
    register_after_s: float = 0.0
    """Register the RPC methods this long after connecting: a slow page, or one on an SDK that can only
    register once connected, while the agent (already in the room) asks for its tools at once."""
    audio_frame_ms: int = 10
    """Size of the agent audio frames this page reads (larger: less CPU for a load generator, coarser
    timing)."""
    decode_audio: bool = True
    """Decode the agent's audio (for `audio_frames`, `audio_times`). A load generator may leave it off
    in most of its pages: the audio still arrives (the worker's work is the same), only the page's
    own Opus decoding is saved."""
    token: str | None = None
    """Join with this token (e.g. from `POST /api/session`) instead of one minted for `identity`."""
    room: rtc.Room = field(default_factory=rtc.Room)
    calls: list[RpcCall] = field(default_factory=list)
    transcripts: list[Transcript] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    audio_frames: int = 0
    first_audio_at: float | None = None
    audio_times: deque[float] = field(default_factory=lambda: deque(maxlen=3000))
    """`time.monotonic()` of the latest audible agent frames (the last 30 s of them), for gap measurements."""
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def join(self) -> UIParticipant:
        self.room.register_text_stream_handler("lk.transcription", self._on_transcription)
        self.room.register_text_stream_handler("rolecall.events", self._on_event)
        self.room.on("track_subscribed", self._on_track)
        await self.room.connect(
            self.server.url, self.token or self.server.token(self.identity, self.room_name)
        )
        # The Python SDK registers RPC methods on the local participant, which exists once connected
        # (the JS library registers on the Room before connecting); an agent already in the room may
        # ask in between, and the worker asks again while a page that has just joined says
        # "unsupported method".
        if self.register_after_s:
            await asyncio.sleep(self.register_after_s)
        local = self.room.local_participant
        for name, handler in self.handlers.items():
            local.register_rpc_method(name, self._wrap(name, handler))
        if self.answer_discovery:
            local.register_rpc_method("rolecall.tools", self._discovery)
        return self

    async def leave(self) -> None:
        await self.room.disconnect()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- what the page sees -------------------------------------------------------------------

    def agent(self) -> rtc.RemoteParticipant | None:
        for p in self.room.remote_participants.values():
            if p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
                return p
        return None

    def agent_attribute(self, key: str) -> str | None:
        agent = self.agent()
        return agent.attributes.get(key) if agent else None

    def agent_text(self) -> str:
        """Everything the agent's transcript streams carried so far (each stream is read whole)."""
        return " ".join(t.text for t in self.transcripts if t.speaker != self.identity)

    def calls_to(self, method: str) -> list[RpcCall]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition"
    ) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            await asyncio.sleep(0.05)
        raise AssertionError(
            f"timed out after {timeout}s waiting for {what}; rpc calls: {[c.method for c in self.calls]}, "
            f"events: {self.events}, transcripts: {[(t.speaker, t.text) for t in self.transcripts if t.final]}"
        )

    # --- what the page does -------------------------------------------------------------------

    async def say_text(self, text: str) -> None:
        """Type to the agent, as the demo's text box does."""
        await self.room.local_participant.send_text(text, topic="lk.chat")

    async def publish_wav(self, path: Path, *, trailing_silence_s: float = 1.5) -> None:
        """Publish a mono 16-bit WAV as the microphone, in real time, then silence."""
        source = rtc.AudioSource(SAMPLE_RATE, 1)
        track = rtc.LocalAudioTrack.create_audio_track("mic", source)
        opts = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(track, opts)
        samples = _read_wav_24k(path)
        samples = np.concatenate([samples, np.zeros(int(SAMPLE_RATE * trailing_silence_s), dtype=np.int16)])
        chunk = SAMPLE_RATE // 100  # 10 ms frames
        for start in range(0, len(samples), chunk):
            part = samples[start : start + chunk]
            if len(part) < chunk:
                part = np.pad(part, (0, chunk - len(part)))
            frame = rtc.AudioFrame(part.tobytes(), SAMPLE_RATE, 1, chunk)
            await source.capture_frame(frame)

    # --- internals ----------------------------------------------------------------------------

    def _wrap(self, name: str, handler: Handler) -> Callable[[rtc.RpcInvocationData], Awaitable[str]]:
        async def invoke(data: rtc.RpcInvocationData) -> str:
            args = json.loads(data.payload) if data.payload else {}
            self.calls.append(RpcCall(name, args, data.caller_identity, time.monotonic()))
            result = handler(args)
            if asyncio.iscoroutine(result):
                result = await result
            return result if isinstance(result, str) else json.dumps(result)

        return invoke

    async def _discovery(self, data: rtc.RpcInvocationData) -> str:
        self.calls.append(RpcCall("rolecall.tools", {}, data.caller_identity, time.monotonic()))
        return json.dumps({"tools": sorted(self.handlers)})

    def _on_transcription(self, reader: rtc.TextStreamReader, participant: str) -> None:
        async def read() -> None:
            text = await reader.read_all()
            final = (reader.info.attributes or {}).get("lk.transcription_final") == "true"
            self.transcripts.append(Transcript(participant, text, final, time.monotonic()))

        self._spawn(read())

    def _on_event(self, reader: rtc.TextStreamReader, participant: str) -> None:
        async def read() -> None:
            self.events.append(json.loads(await reader.read_all()))

        self._spawn(read())

    def _on_track(self, track: rtc.Track, pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO and self.decode_audio:

            async def count() -> None:
                async for ev in rtc.AudioStream(
                    track, sample_rate=SAMPLE_RATE, num_channels=1, frame_size_ms=self.audio_frame_ms
                ):
                    if np.abs(np.frombuffer(ev.frame.data, dtype=np.int16)).max(initial=0) > 300:
                        self.audio_frames += 1
                        self.audio_times.append(time.monotonic())
                        if self.first_audio_at is None:
                            self.first_audio_at = time.monotonic()

            self._spawn(count())

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _read_wav_24k(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, "need mono 16-bit WAV"
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    if rate == SAMPLE_RATE:
        return data
    n = int(len(data) * SAMPLE_RATE / rate)
    return np.interp(np.linspace(0, len(data) - 1, n), np.arange(len(data)), data).astype(np.int16)
