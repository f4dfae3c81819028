"""The input audio buffer and its VAD, without a socket: what is kept, and where speech was heard."""

from __future__ import annotations

import numpy as np
import pytest

from worker.simulator.input_audio import BYTES_PER_MS, MAX_BUFFER_MS, InputAudio
from worker.simulator.session_config import default_turn_detection

pytestmark = pytest.mark.unit

RATE = 24_000


def pcm(seconds: float, amplitude: int = 0) -> bytes:
    samples = np.random.default_rng(1).integers(-amplitude - 1, amplitude + 1, int(RATE * seconds))
    return samples.astype("<i2").tobytes()


def test_without_turn_detection_everything_is_kept_until_cleared() -> None:
    audio = InputAudio()
    assert audio.append(pcm(1.0, 8000)) == []
    audio.settle()
    assert audio.duration_ms == 1000 and audio.stream_ms == 1000
    audio.clear()
    assert audio.duration_ms == 0 and audio.stream_ms == 1000


def test_an_odd_byte_is_dropped() -> None:
    audio = InputAudio()
    audio.append(b"\x00" * (BYTES_PER_MS * 10 + 1))
    assert audio.duration_ms == 10


def test_the_vad_reports_speech_at_stream_positions_and_silence_keeps_only_the_padding() -> None:
    audio = InputAudio()
    audio.append(pcm(0.5))  # before the VAD is on: shifts every later position by 500 ms
    audio.configure(default_turn_detection({"type": "server_vad", "silence_duration_ms": 300}))
    audio.append(pcm(1.0))
    audio.settle()
    assert audio.duration_ms == 300  # the prefix padding
    events = audio.append(pcm(1.0, 8000)) + audio.append(pcm(1.0))
    assert [kind for kind, _ in events] == ["started", "stopped"]
    started, stopped = (at for _, at in events)
    assert 1500 <= started < 1600 and 2500 <= stopped < 2900
    audio.speech_started(started)
    assert audio.duration_ms == 3500 - (started - 300)


def test_the_buffer_is_capped() -> None:
    audio = InputAudio()
    audio.append(b"\x00" * (MAX_BUFFER_MS * BYTES_PER_MS + 100 * BYTES_PER_MS))
    assert audio.duration_ms == MAX_BUFFER_MS
