"""Energy VAD: starts, stops, and the turn detection settings."""

from __future__ import annotations

import numpy as np
import pytest

from worker.simulator.speech import tone_speech
from worker.simulator.vad import EnergyVad, VadEvent, VadSettings, frame_level

pytestmark = pytest.mark.unit

RATE = 24_000


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(RATE * seconds), dtype=np.int16)


def noise(seconds: float, amplitude: int) -> np.ndarray:
    return np.random.default_rng(1).integers(-amplitude, amplitude, int(RATE * seconds)).astype(np.int16)


def run(vad: EnergyVad, pcm: np.ndarray, chunk: int = 2400) -> list[VadEvent]:
    events: list[VadEvent] = []
    for i in range(0, pcm.size, chunk):
        events += vad.push(pcm[i : i + chunk])
    return events


def test_levels() -> None:
    assert frame_level(silence(0.02)) == 0.0
    assert frame_level(noise(0.02, 30)) < 0.5
    assert frame_level(noise(0.02, 8000)) > 0.5


def test_silence_and_room_noise_are_not_speech() -> None:
    assert run(EnergyVad(VadSettings()), np.concatenate([silence(1), noise(1, 30)])) == []


def test_speech_starts_and_stops_after_the_silence_duration() -> None:
    speech = tone_speech("hello there, how are you")
    events = run(
        EnergyVad(VadSettings(silence_duration_ms=500)), np.concatenate([silence(0.5), speech, silence(1)])
    )
    assert [e.kind for e in events] == ["started", "stopped"]
    start, stop = events[0].at_ms, events[1].at_ms
    assert 480 <= start <= 560
    speech_end_ms = 500 + speech.size * 1000 // RATE
    assert speech_end_ms + 300 <= stop <= speech_end_ms + 600  # the silence duration is included


def test_a_pause_shorter_than_the_silence_duration_keeps_the_turn() -> None:
    burst = noise(0.3, 8000)
    pcm = np.concatenate([burst, silence(0.4), burst, silence(1.5)])
    assert [e.kind for e in run(EnergyVad(VadSettings(silence_duration_ms=800)), pcm)] == [
        "started",
        "stopped",
    ]
    assert [e.kind for e in run(EnergyVad(VadSettings(silence_duration_ms=200)), pcm)] == [
        "started",
        "stopped",
        "started",
        "stopped",
    ]


def test_threshold_is_honoured() -> None:
    quiet = noise(0.5, 300)  # about -47 dBFS
    assert run(EnergyVad(VadSettings(threshold=0.2)), np.concatenate([quiet, silence(1)])) != []
    assert run(EnergyVad(VadSettings(threshold=0.6)), np.concatenate([quiet, silence(1)])) == []


def test_a_click_is_not_a_turn() -> None:
    assert run(EnergyVad(VadSettings()), np.concatenate([noise(0.02, 8000), silence(1)])) == []


def test_chunking_does_not_change_the_result() -> None:
    pcm = np.concatenate([silence(0.3), tone_speech("one two three"), silence(1)])
    assert run(EnergyVad(VadSettings()), pcm, chunk=2400) == run(EnergyVad(VadSettings()), pcm, chunk=333)


def test_settings_from_turn_detection() -> None:
    assert VadSettings.from_turn_detection({"type": "server_vad"}) == VadSettings()
    custom = VadSettings.from_turn_detection(
        {"type": "server_vad", "threshold": 0.7, "prefix_padding_ms": 100, "silence_duration_ms": 900}
    )
    assert custom == VadSettings(0.7, 100, 900)
    assert (
        VadSettings.from_turn_detection({"type": "semantic_vad", "eagerness": "low"}).silence_duration_ms
        == 1500
    )
    assert (
        VadSettings.from_turn_detection({"type": "semantic_vad", "eagerness": "high"}).silence_duration_ms
        == 400
    )


def test_reset_forgets_speech_in_progress() -> None:
    vad = EnergyVad(VadSettings())
    assert [e.kind for e in vad.push(noise(0.2, 8000))] == ["started"]
    vad.reset()
    assert not vad.speaking
    assert vad.push(silence(1)) == []
