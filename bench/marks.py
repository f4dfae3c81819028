"""Marked audio: a loud burst after silence, and finding where one starts in a PCM stream.

The participant publishes silence with a short 1 kHz burst every so often; the simulator's replies
start after silence too. An *onset* is the first loud sample after at least `min_quiet_s` of quiet,
so each burst (or each reply) yields one onset however the stream is cut into chunks.
"""

from __future__ import annotations

import base64

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 24_000
BURST_HZ = 1_000.0
BURST_AMPLITUDE = 12_000
LOUD = 2_000
"""Samples above this (of 32767) are loud: far above Opus noise on silence, far below the burst."""

Pcm = npt.NDArray[np.int16]


def burst(duration_s: float = 0.06, sample_rate: int = SAMPLE_RATE) -> Pcm:
    """A 1 kHz sine burst at a fixed amplitude."""
    t = np.arange(int(duration_s * sample_rate)) / sample_rate
    return (BURST_AMPLITUDE * np.sin(2 * np.pi * BURST_HZ * t)).astype(np.int16)


def decode_pcm(b64: str) -> Pcm:
    """PCM16 little-endian mono from the base64 of an `input_audio_buffer.append` or audio delta."""
    raw = base64.b64decode(b64)
    return np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2").astype(np.int16)


def first_loud(pcm: Pcm, threshold: int = LOUD) -> int | None:
    """Index of the first loud sample, or None."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > threshold)
    return int(loud[0]) if loud.size else None


class OnsetDetector:
    """Feed consecutive chunks of one stream; `feed` returns the index of an onset in the chunk.

    At most one onset per chunk is reported (chunks are at most 100 ms, shorter than `min_quiet_s`).
    The stream starts quiet, so a stream opening loud has an onset at its first loud sample.
    """

    def __init__(
        self, *, threshold: int = LOUD, min_quiet_s: float = 0.15, sample_rate: int = SAMPLE_RATE
    ) -> None:
        self.threshold = threshold
        self.min_quiet = int(min_quiet_s * sample_rate)
        self._quiet_run = self.min_quiet

    def feed(self, pcm: Pcm) -> int | None:
        loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > self.threshold)
        if loud.size == 0:
            self._quiet_run += len(pcm)
            return None
        onset: int | None = None
        # quiet before each loud sample: the run carried in for the first, the gaps for the others
        gaps = np.diff(loud) - 1
        if self._quiet_run + int(loud[0]) >= self.min_quiet:
            onset = int(loud[0])
        else:
            after_gap = np.flatnonzero(gaps >= self.min_quiet)
            if after_gap.size:
                onset = int(loud[after_gap[0] + 1])
        self._quiet_run = len(pcm) - 1 - int(loud[-1])
        return onset


class StreamOnsets:
    """Onsets of one audio stream sent in timed chunks, where time without chunks is quiet too.

    GPT-Live's output audio is one stream with no response ids, paced in real time: an utterance the
    user cut off ends without its silent tail, and the next one follows in the samples at once, later
    on the clock. So a pause of at least `min_quiet_s` between one chunk's end (sent + its duration)
    and the next chunk counts as quiet; `feed` returns when an onset's sample was due (sent + offset).
    """

    def __init__(self, *, min_quiet_s: float = 0.15, sample_rate: int = SAMPLE_RATE) -> None:
        self.min_quiet_s = min_quiet_s
        self.sample_rate = sample_rate
        self._detector = OnsetDetector(min_quiet_s=min_quiet_s, sample_rate=sample_rate)
        self._end: float | None = None

    def feed(self, at: float, pcm: Pcm) -> float | None:
        """One chunk sent at `at` (seconds); the time its onset was due, if it holds one."""
        if self._end is not None and at - self._end >= self.min_quiet_s:
            self._detector = OnsetDetector(min_quiet_s=self.min_quiet_s, sample_rate=self.sample_rate)
        self._end = at + len(pcm) / self.sample_rate
        idx = self._detector.feed(pcm)
        return None if idx is None else at + idx / self.sample_rate
