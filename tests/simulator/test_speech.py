"""Reply audio: espeak-ng output parsing and resampling, and the speech-like fallback."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from worker.simulator.speech import SAMPLE_RATE, Synthesizer, espeak_path, parse_wav, resample, tone_speech

pytestmark = pytest.mark.unit


def wav(samples: np.ndarray, rate: int, *, streamed: bool = False) -> bytes:
    body = samples.astype("<i2").tobytes()
    size = 0x7FFFFFFF if streamed else len(body)
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16)
    return b"RIFF" + struct.pack("<I", size) + b"WAVE" + fmt + b"data" + struct.pack("<I", size) + body


def test_parse_wav_with_streamed_sizes() -> None:
    samples = np.arange(100, dtype=np.int16)
    pcm, rate = parse_wav(wav(samples, 22050, streamed=True))
    assert rate == 22050
    assert np.array_equal(pcm, samples)


def test_parse_wav_rejects_other_data() -> None:
    with pytest.raises(ValueError):
        parse_wav(b"not a wav file at all")


def test_resample_keeps_duration() -> None:
    one_second = np.zeros(22050, dtype=np.int16)
    assert resample(one_second, 22050).size == SAMPLE_RATE
    tone = (np.sin(np.arange(22050) * 2 * np.pi * 440 / 22050) * 10000).astype(np.int16)
    out = resample(tone, 22050)
    assert abs(int(np.abs(out).max()) - 10000) < 100


def test_tone_speech_is_deterministic_and_lasts_like_speech() -> None:
    short, long = tone_speech("Hello."), tone_speech("Hello, this sentence has quite a few more words in it.")
    assert np.array_equal(short, tone_speech("Hello."))
    assert 0.2 < short.size / SAMPLE_RATE < 1.0
    assert 2.5 < long.size / SAMPLE_RATE < 6.0
    assert tone_speech("").size == 0


async def test_tone_engine() -> None:
    pcm = await Synthesizer("tone").synthesize("one two three")
    assert pcm.dtype == np.int16
    assert pcm.size > SAMPLE_RATE // 2


async def test_espeak_engine_lasts_as_long_as_the_text_takes() -> None:
    assert espeak_path() is not None, (
        "espeak-ng must be installed for the simulator tests (apt-get install espeak-ng)"
    )
    synth = Synthesizer("espeak")
    short = await synth.synthesize("Yes.")
    long = await synth.synthesize("Bring a large pot of salted water to the boil, then add the spaghetti.")
    assert short.size < long.size
    assert 3.0 < long.size / SAMPLE_RATE < 7.0
    assert await synth.synthesize("Yes.") is short  # cached
