"""The Python participant that plays the page: answers `show_card` at once, publishes a microphone of
silence with marked bursts, types to the agent, and timestamps the onsets of the agent's audio.

Microphones are driven by one `MicDriver` loop for all participants (one timer, not one per
participant), so forty sessions cost this process forty `capture_frame` calls per tick, not forty timers.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from livekit import rtc

from bench.marks import SAMPLE_RATE, OnsetDetector, burst
from tests.support.livekit_server import LiveKitServer

FRAME_S = 0.01
FRAME = int(SAMPLE_RATE * FRAME_S)
_SILENCE = np.zeros(FRAME, dtype=np.int16)


@dataclass
class Participant:
    """One page in one room."""

    server: LiveKitServer
    room_name: str
    identity: str = "user"
    room: rtc.Room = field(default_factory=rtc.Room)
    audio_onsets: list[float] = field(default_factory=list)
    """Monotonic time of each onset of agent audio (first loud sample after >= 150 ms quiet)."""
    last_loud_at: float = 0.0
    agent_joined_at: float | None = None
    """Monotonic time the agent was first seen in the room (the end of the dispatch path; when it was
    there before this participant, the moment the join completed: an upper bound)."""
    agent_track_at: float | None = None
    """Monotonic time the agent's audio track was subscribed."""
    rpc_calls: int = 0
    burst_times: list[float] = field(default_factory=list)
    """Monotonic time each burst's first frame was handed to the audio source."""
    bursting: bool = False
    burst_every: int = 43
    """Ticks (10 ms) from one burst to the next: 430 ms, not a multiple of the 100 ms (or 20 ms)
    chunks, so successive bursts fall at every phase of a chunk instead of the same one."""
    source: rtc.AudioSource | None = None
    _burst: np.ndarray = field(default_factory=lambda: burst(0.06))
    _tick: int = 0
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    async def join(self, *, answer_tools: bool = True) -> Participant:
        self.room.on("track_subscribed", self._on_track)
        self.room.on("participant_connected", self._on_participant)
        await self.room.connect(self.server.url, self.server.token(self.identity, self.room_name))
        if self.agent_joined_at is None and any(_is_agent(p) for p in self.room.remote_participants.values()):
            self.agent_joined_at = time.monotonic()
        if answer_tools:
            local = self.room.local_participant
            local.register_rpc_method("show_card", self._show_card)
            local.register_rpc_method("rolecall.tools", self._discovery)
        return self

    async def publish_mic(self) -> None:
        self.source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=100)
        track = rtc.LocalAudioTrack.create_audio_track("mic", self.source)
        opts = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(track, opts)

    async def say(self, text: str) -> None:
        """Type to the agent (`lk.chat`), as the demo's text box does."""
        await self.room.local_participant.send_text(text, topic="lk.chat")

    async def leave(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.room.disconnect()

    def quiet_for(self) -> float:
        """Seconds since the agent's audio was last loud."""
        return time.monotonic() - self.last_loud_at

    async def wait_audio(self, after: float, timeout: float = 20.0) -> float:
        """The first onset of agent audio later than `after` (monotonic)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t in self.audio_onsets:
                if t > after:
                    return t
            await asyncio.sleep(0.01)
        raise TimeoutError(f"no agent audio in {self.room_name} within {timeout}s")

    async def wait_quiet(self, quiet_s: float = 0.5, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.quiet_for() < quiet_s and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    # --- the microphone, one frame per tick (driven by MicDriver) -----------------------------

    def next_frame(self) -> tuple[np.ndarray, bool]:
        """This tick's samples, and whether a burst starts in it."""
        n_burst = len(self._burst) // FRAME
        phase = self._tick % self.burst_every
        self._tick += 1
        if not self.bursting or phase >= n_burst:
            return _SILENCE, False
        return self._burst[phase * FRAME : (phase + 1) * FRAME], phase == 0

    # --- internals -------------------------------------------------------------------------

    async def _show_card(self, data: rtc.RpcInvocationData) -> str:
        self.rpc_calls += 1
        return json.dumps({"ok": True})

    async def _discovery(self, data: rtc.RpcInvocationData) -> str:
        return json.dumps({"tools": ["show_card"]})

    def _on_participant(self, p: rtc.RemoteParticipant) -> None:
        if self.agent_joined_at is None and _is_agent(p):
            self.agent_joined_at = time.monotonic()

    def _on_track(self, track: rtc.Track, pub: rtc.RemoteTrackPublication, p: rtc.RemoteParticipant) -> None:
        if track.kind != rtc.TrackKind.KIND_AUDIO:
            return
        if self.agent_track_at is None:
            self.agent_track_at = time.monotonic()

        async def listen() -> None:
            detector = OnsetDetector()
            async for ev in rtc.AudioStream(track, sample_rate=SAMPLE_RATE, num_channels=1):
                now = time.monotonic()
                pcm = np.frombuffer(ev.frame.data, dtype=np.int16)
                idx = detector.feed(pcm)
                if idx is not None:
                    # the frame arrived whole: its sample idx was due (len - idx) samples earlier
                    self.audio_onsets.append(now - (len(pcm) - idx) / SAMPLE_RATE)
                if np.abs(pcm.astype(np.int32)).max(initial=0) > detector.threshold:
                    self.last_loud_at = now

        task = asyncio.ensure_future(listen())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _is_agent(p: rtc.RemoteParticipant) -> bool:
    return bool(p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT)


class MicDriver:
    """Feeds every participant's microphone one 10 ms frame per tick, in real time."""

    def __init__(self) -> None:
        self.mics: list[Participant] = []
        self.late_ticks = 0
        """Ticks this process ran more than 20 ms late (the load generator falling behind)."""
        self._task: asyncio.Task[None] | None = None

    def add(self, p: Participant) -> None:
        p._tick = len(self.mics) * 7  # spread the bursts of many sessions over the period
        self.mics.append(p)

    def remove(self, p: Participant) -> None:
        if p in self.mics:
            self.mics.remove(p)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        next_at = time.monotonic()
        while True:
            for p in list(self.mics):
                if p.source is None:
                    continue
                pcm, starts = p.next_frame()
                if starts:
                    p.burst_times.append(time.monotonic())
                await p.source.capture_frame(rtc.AudioFrame(pcm.tobytes(), SAMPLE_RATE, 1, FRAME))
            next_at += FRAME_S
            delay = next_at - time.monotonic()
            if delay < -0.02:
                self.late_ticks += 1
                next_at = time.monotonic()
            await asyncio.sleep(max(0.0, delay))
