"""The GPT-Live voice model's output: one utterance at a time, paced, with its transcript on the timeline.

An utterance is `session.output_transcript.delta` events (one word each, with `start_ms`/`end_ms` on the
session timeline) interleaved with `session.output_audio.delta` events (100 ms of PCM16 each; on the
primary WebSocket they carry no timing), then a second of silence. What the model says next waits in a
queue; the user speaking over it cuts the utterance in progress and drops the queue (barge-in). The
service streams its silence all the time; the simulator sends only that second after each utterance.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

import numpy as np

from worker.simulator.events import JsonDict, new_id
from worker.simulator.faults import Faults
from worker.simulator.response import CHUNK_MS, ConnectionGone, word_timings
from worker.simulator.speech import SAMPLE_RATE, Synthesizer

log = logging.getLogger("rolecall.simulator")

SILENCE_TAIL_MS = 1000
"""Silence sent after each utterance. The service streams its silence all the time; a client that tells
bursts of speech apart by a quiet stretch (livekit-agents' gate waits 0.8 s) needs some of it."""


class SpeechHost(Protocol):
    """What the speaker needs from its session."""

    synth: Synthesizer

    @property
    def faults(self) -> Faults: ...

    async def send(self, event: JsonDict) -> None: ...
    async def drop(self) -> None: ...
    def now_ms(self) -> int: ...


class Speaker:
    """Speaks queued texts in order; `interrupt` cuts the current one and forgets the rest."""

    def __init__(self, host: SpeechHost, *, on_said: Callable[[str], None] | None = None) -> None:
        self.host = host
        self._queue: deque[str] = deque()
        self._wake = asyncio.Event()
        self._cut = asyncio.Event()
        self._speaking = False
        self._task: asyncio.Task[None] | None = None
        self._on_said = on_said
        self.end_ms = 0
        """Where on the session timeline the last utterance ended."""
        self.audio_ms = 0
        """Output audio sent so far, in ms."""

    @property
    def speaking(self) -> bool:
        """Whether an utterance is playing or waiting."""
        return self._speaking or bool(self._queue)

    def start(self) -> None:
        """Start speaking what gets queued."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="sim-live-speaker")

    def say(self, text: str) -> None:
        """Queue `text` (said after whatever is playing)."""
        if text.strip():
            self._queue.append(text)
            self._wake.set()

    def interrupt(self) -> bool:
        """Barge-in: cut the utterance in progress and drop what waits; True when something was cut."""
        cut = self.speaking
        self._queue.clear()
        if self._speaking:
            self._cut.set()
        return cut

    async def aclose(self) -> None:
        """Stop speaking for good."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionGone):
                await self._task

    async def _run(self) -> None:
        try:
            while True:
                while not self._queue:
                    self._wake.clear()
                    await self._wake.wait()
                text = self._queue.popleft()
                self._speaking = True
                self._cut.clear()
                try:
                    said = await self._speak(text)
                finally:
                    self._speaking = False
                if said and self._on_said is not None:
                    self._on_said(said)
        except ConnectionGone:
            pass  # the socket is gone: nothing left to say

    async def _pause(self, seconds: float) -> None:
        if seconds > 0 and not self._cut.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._cut.wait(), seconds)

    async def _silence(self, began: float, sent_ms: int) -> int:
        """The silence after an utterance: clients hear where it ended (ms of it sent)."""
        loop = asyncio.get_running_loop()
        chunk = np.zeros(SAMPLE_RATE * CHUNK_MS // 1000, dtype=np.int16).tobytes()
        delta = base64.b64encode(chunk).decode()
        quiet = 0
        while quiet < SILENCE_TAIL_MS and not self._cut.is_set():
            await self.host.send({"type": "session.output_audio.delta", "delta": delta})
            quiet += CHUNK_MS
            self.audio_ms += CHUNK_MS
            pace = self.host.faults.audio_pace
            if pace > 0:
                await self._pause(began + (sent_ms + quiet) / 1000 / pace - loop.time())
        return quiet

    async def _speak(self, text: str) -> str:
        host = self.host
        pcm = await host.synth.synthesize(text)
        duration_ms = pcm.size * 1000 // SAMPLE_RATE
        words = word_timings(text, duration_ms)
        start = max(host.now_ms(), self.end_ms)
        chunk = SAMPLE_RATE * CHUNK_MS // 1000
        loop = asyncio.get_running_loop()
        began = loop.time()
        said, next_word, sent_ms = "", 0, 0
        await self._pause(host.faults.first_delta_delay)
        for offset in range(0, pcm.size, chunk):
            if self._cut.is_set():
                break
            piece = pcm[offset : offset + chunk]
            chunk_end_ms = sent_ms + piece.size * 1000 // SAMPLE_RATE
            while next_word < len(words) and words[next_word][0] < chunk_end_ms:
                word_start, word = words[next_word]
                word_end = words[next_word + 1][0] if next_word + 1 < len(words) else duration_ms
                await host.send(
                    {
                        "type": "session.output_transcript.delta",
                        "event_id": new_id("event"),
                        "delta": word,
                        "start_ms": start + word_start,
                        "end_ms": start + word_end,
                    }
                )
                said += word
                next_word += 1
            await host.send(
                {"type": "session.output_audio.delta", "delta": base64.b64encode(piece.tobytes()).decode()}
            )
            sent_ms = chunk_end_ms
            self.audio_ms += piece.size * 1000 // SAMPLE_RATE
            if offset == 0 and host.faults.drop_mid_response:
                host.faults.drop_mid_response = False
                await host.drop()
                raise ConnectionGone
            pace = host.faults.audio_pace
            if pace > 0:
                await self._pause(began + sent_ms / 1000 / pace - loop.time())
        if not self._cut.is_set():
            sent_ms += await self._silence(began, sent_ms)
        self.end_ms = start + sent_ms
        if self._cut.is_set():
            log.info("simulated model cut off after %d ms: the user spoke over it", sent_ms)
        return said
