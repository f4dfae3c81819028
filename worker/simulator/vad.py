"""Server VAD: speech start and stop from signal energy, with OpenAI's turn-detection settings.

The level of each 20 ms frame is its RMS in dBFS mapped linearly onto 0..1 (-70 dBFS -> 0,
-10 dBFS -> 1), so the session's `threshold` (default 0.5) means about -40 dBFS: quiet room noise
stays below it, normal speech is well above it. Speech starts at the first of `START_FRAMES`
consecutive frames above the threshold and stops after `silence_duration_ms` below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 24_000
FRAME_MS = 20
START_FRAMES = 2
"""Frames above threshold needed to start speech (40 ms): a click is not a turn."""

SEMANTIC_SILENCE_MS = {"low": 1500, "medium": 800, "auto": 800, "high": 400}
"""`semantic_vad` is approximated by a silence duration chosen from its `eagerness`."""


@dataclass(frozen=True)
class VadSettings:
    """Turn detection settings, as in `session.audio.input.turn_detection`."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500

    @classmethod
    def from_turn_detection(cls, td: dict[str, object]) -> VadSettings:
        """Read a `server_vad` or `semantic_vad` object (missing fields take OpenAI's defaults)."""
        if td.get("type") == "semantic_vad":
            eagerness = str(td.get("eagerness") or "auto")
            return cls(silence_duration_ms=SEMANTIC_SILENCE_MS.get(eagerness, 800))
        threshold = td.get("threshold")
        prefix = td.get("prefix_padding_ms")
        silence = td.get("silence_duration_ms")
        return cls(
            threshold=float(threshold) if isinstance(threshold, int | float) else 0.5,
            prefix_padding_ms=int(prefix) if isinstance(prefix, int | float) else 300,
            silence_duration_ms=int(silence) if isinstance(silence, int | float) else 500,
        )


@dataclass(frozen=True)
class VadEvent:
    """Speech started or stopped, at `at_ms` milliseconds of audio since the session began."""

    kind: Literal["started", "stopped"]
    at_ms: int


def frame_level(frame: npt.NDArray[np.int16]) -> float:
    """The 0..1 level of a PCM16 frame (see the module docstring for the scale)."""
    if frame.size == 0:
        return 0.0
    rms = float(np.sqrt(np.mean(np.square(frame.astype(np.float64) / 32768.0))))
    dbfs = 20.0 * np.log10(max(rms, 1e-9))
    return float(min(1.0, max(0.0, (dbfs + 70.0) / 60.0)))


class EnergyVad:
    """Feed PCM16 mono 24 kHz audio; get `VadEvent`s. One instance per input audio stream."""

    def __init__(self, settings: VadSettings, *, sample_rate: int = SAMPLE_RATE) -> None:
        self.settings = settings
        self._frame = sample_rate * FRAME_MS // 1000
        self._pending = np.zeros(0, dtype=np.int16)
        self._frames_seen = 0
        self._loud_run = 0
        self._quiet_run = 0
        self.speaking = False

    @property
    def position_ms(self) -> int:
        """Milliseconds of audio analysed so far."""
        return self._frames_seen * FRAME_MS

    def push(self, pcm: npt.NDArray[np.int16]) -> list[VadEvent]:
        """Analyse more audio; return the starts and stops it completes."""
        events: list[VadEvent] = []
        data = np.concatenate([self._pending, pcm]) if self._pending.size else pcm
        whole = data.size // self._frame * self._frame
        for start in range(0, whole, self._frame):
            loud = frame_level(data[start : start + self._frame]) > self.settings.threshold
            self._frames_seen += 1
            if not self.speaking:
                self._loud_run = self._loud_run + 1 if loud else 0
                if self._loud_run >= START_FRAMES:
                    self.speaking = True
                    self._quiet_run = 0
                    events.append(VadEvent("started", self.position_ms - START_FRAMES * FRAME_MS))
            else:
                self._quiet_run = 0 if loud else self._quiet_run + 1
                if self._quiet_run * FRAME_MS >= self.settings.silence_duration_ms:
                    self.speaking = False
                    self._loud_run = 0
                    events.append(VadEvent("stopped", self.position_ms))
        self._pending = data[whole:].copy()
        return events

    def reset(self) -> None:
        """Forget any speech in progress (after `input_audio_buffer.clear` or a manual commit)."""
        self.speaking = False
        self._loud_run = 0
        self._quiet_run = 0
