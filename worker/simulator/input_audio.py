"""The input audio buffer: audio the client appended and has not committed, and the server VAD on it.

No I/O: `Session` turns what happens here into `input_audio_buffer.*` events. Positions are in ms of
the whole input stream since the connection opened (what `audio_start_ms`/`audio_end_ms` report).
"""

from __future__ import annotations

import numpy as np

from worker.simulator.events import JsonDict
from worker.simulator.speech import SAMPLE_RATE
from worker.simulator.vad import EnergyVad, VadSettings

BYTES_PER_MS = SAMPLE_RATE * 2 // 1000
MAX_BUFFER_MS = 15 * 60 * 1000
"""Uncommitted input audio kept at most (15 minutes); older audio is dropped."""


class InputAudio:
    """The uncommitted audio of one connection, and the server VAD listening to it (when on)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._start_ms = 0  # stream position of the buffer's first byte
        self.stream_ms = 0
        """Audio appended so far, in ms."""
        self.vad: EnergyVad | None = None
        self._vad_offset_ms = 0

    @property
    def duration_ms(self) -> int:
        """How much audio the buffer holds."""
        return len(self._buffer) // BYTES_PER_MS

    def configure(self, turn_detection: JsonDict | None) -> None:
        """Follow the session's turn detection: no VAD when it is off, a new one when it changed."""
        if turn_detection is None:
            self.vad = None
            return
        settings = VadSettings.from_turn_detection(turn_detection)
        if self.vad is None or self.vad.settings != settings:
            self.vad = EnergyVad(settings)
            self._vad_offset_ms = self.stream_ms

    def append(self, audio: bytes) -> list[tuple[str, int]]:
        """Add PCM16 audio; the VAD's events in it, as `(started|stopped, stream ms)`, oldest first."""
        audio = audio[: len(audio) // 2 * 2]
        self._buffer.extend(audio)
        self.stream_ms += len(audio) // BYTES_PER_MS
        overflow = len(self._buffer) - MAX_BUFFER_MS * BYTES_PER_MS
        if overflow > 0:
            del self._buffer[:overflow]
            self._start_ms += overflow // BYTES_PER_MS
        if self.vad is None:
            return []
        samples = np.frombuffer(audio, dtype="<i2").astype(np.int16)
        return [(event.kind, event.at_ms + self._vad_offset_ms) for event in self.vad.push(samples)]

    def settle(self) -> None:
        """Between utterances keep only the VAD's prefix padding (the audio a speech start takes along)."""
        if self.vad is not None and not self.vad.speaking:
            self.trim(self.stream_ms - self.vad.settings.prefix_padding_ms)

    def speech_started(self, at_ms: int) -> None:
        """Drop what came before the speech that started at `at_ms`, but its prefix padding."""
        padding = self.vad.settings.prefix_padding_ms if self.vad is not None else 0
        self.trim(at_ms - padding)

    def clear(self) -> None:
        """Empty the buffer (commit or clear)."""
        self.trim(self.stream_ms)

    def reset_vad(self) -> None:
        """Forget the speech in progress (after a manual commit or a clear)."""
        if self.vad is not None:
            self.vad.reset()

    def trim(self, keep_from_ms: int) -> None:
        """Drop the audio before stream position `keep_from_ms`."""
        drop_ms = keep_from_ms - self._start_ms
        if drop_ms > 0:
            del self._buffer[: drop_ms * BYTES_PER_MS]
            self._start_ms += drop_ms
