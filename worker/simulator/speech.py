"""Audio for the model's replies: PCM16 mono 24 kHz that lasts as long as the text takes to say.

With `espeak-ng` installed (Debian: `apt-get install espeak-ng`) replies are real synthetic speech,
resampled from espeak's 22.05 kHz. Without it, a speech-like signal stands in: voiced harmonics
shaped by two formants, one envelope per syllable, pauses between words; a log line says so once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shutil
import struct
import zlib
from collections import OrderedDict
from typing import Literal

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 24_000
WORDS_PER_MINUTE = 175
Engine = Literal["auto", "espeak", "tone"]

log = logging.getLogger("rolecall.simulator")
_warned_missing = False


def espeak_path() -> str | None:
    """Path of the espeak-ng binary, if installed."""
    return shutil.which("espeak-ng")


def resample(pcm: npt.NDArray[np.int16], src_rate: int, dst_rate: int = SAMPLE_RATE) -> npt.NDArray[np.int16]:
    """Linear-interpolation resampling (good enough for speech going to a simulator)."""
    if src_rate == dst_rate or pcm.size == 0:
        return pcm
    n_out = round(pcm.size * dst_rate / src_rate)
    x_out = np.arange(n_out, dtype=np.float64) * (src_rate / dst_rate)
    out = np.interp(x_out, np.arange(pcm.size, dtype=np.float64), pcm.astype(np.float64))
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def parse_wav(data: bytes) -> tuple[npt.NDArray[np.int16], int]:
    """PCM16 mono samples and rate from a WAV stream (espeak's streamed header has bogus sizes)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV stream")
    pos, rate = 12, 0
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk == b"fmt ":
            channels, rate = struct.unpack("<HI", data[pos + 10 : pos + 16])
            bits = struct.unpack("<H", data[pos + 22 : pos + 24])[0]
            if channels != 1 or bits != 16:
                raise ValueError(f"unsupported WAV: {channels} channels, {bits} bits")
        elif chunk == b"data":
            body = data[pos + 8 :]
            body = body[: len(body) // 2 * 2]
            return np.frombuffer(body, dtype="<i2").astype(np.int16), rate
        pos += 8 + size + (size & 1)
    raise ValueError("WAV stream without data")


def _syllables(word: str) -> int:
    return max(1, len(re.findall(r"[aeiouy]+", word.lower())))


def tone_speech(text: str) -> npt.NDArray[np.int16]:
    """A deterministic speech-like signal for `text` (used when espeak-ng is missing)."""
    rng = np.random.default_rng(zlib.crc32(text.encode()))
    words = re.findall(r"[\w']+|[.,!?;:]", text)
    word_s = 60.0 / WORDS_PER_MINUTE
    pieces: list[npt.NDArray[np.float64]] = []
    for word in words:
        if not word[0].isalnum():
            pieces.append(np.zeros(int(SAMPLE_RATE * (0.25 if word in ".!?" else 0.12))))
            continue
        n_syl = _syllables(word)
        syl_len = int(SAMPLE_RATE * word_s * 0.85 / n_syl)
        for _ in range(n_syl):
            t = np.arange(syl_len) / SAMPLE_RATE
            f0 = rng.uniform(105, 140) * (1 - 0.15 * t / max(t[-1], 1e-3))  # falling pitch
            phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
            f1, f2 = rng.uniform(350, 800), rng.uniform(1000, 2200)
            voiced = np.zeros(syl_len)
            for h in range(1, 25):
                fh = 130.0 * h
                gain = np.exp(-(((fh - f1) / 180) ** 2)) + 0.6 * np.exp(-(((fh - f2) / 250) ** 2)) + 0.05 / h
                voiced += gain * np.sin(h * phase)
            envelope = np.sin(np.pi * np.arange(syl_len) / syl_len) ** 0.7
            pieces.append(voiced * envelope)
        pieces.append(np.zeros(int(SAMPLE_RATE * word_s * 0.15)))
    if not pieces:
        return np.zeros(0, dtype=np.int16)
    signal = np.concatenate(pieces)
    peak = float(np.max(np.abs(signal))) or 1.0
    return (signal / peak * 0.3 * 32767).astype(np.int16)


class Synthesizer:
    """Turns reply text into PCM16 24 kHz audio; caches recent texts."""

    def __init__(self, engine: Engine = "auto", *, voice: str = "en-us", cache_size: int = 64) -> None:
        self.engine: Engine = engine
        self.voice = voice
        self._cache: OrderedDict[str, npt.NDArray[np.int16]] = OrderedDict()
        self._cache_size = cache_size

    @property
    def uses_espeak(self) -> bool:
        """Whether replies come from espeak-ng (else from the tone fallback)."""
        if self.engine == "tone":
            return False
        if self.engine == "espeak" and espeak_path() is None:
            raise RuntimeError("speech engine 'espeak' requested but espeak-ng is not installed")
        return espeak_path() is not None

    async def synthesize(self, text: str) -> npt.NDArray[np.int16]:
        """PCM16 mono 24 kHz samples saying `text`."""
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        if self.uses_espeak:
            pcm = await self._espeak(text)
        else:
            if self.engine == "auto":  # `tone` was asked for: nothing is missing
                _warn_missing_once()
            pcm = tone_speech(text)
        self._cache[text] = pcm
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return pcm

    async def _espeak(self, text: str) -> npt.NDArray[np.int16]:
        binary = espeak_path()
        assert binary is not None
        proc = await asyncio.create_subprocess_exec(
            binary,
            "--stdin",
            "--stdout",
            "-v",
            self.voice,
            "-s",
            str(WORDS_PER_MINUTE),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            out, _ = await proc.communicate(text.encode())
        finally:
            if proc.returncode is None:  # cancelled: do not leave the child behind
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                with contextlib.suppress(Exception):
                    await asyncio.shield(proc.wait())
        if proc.returncode != 0:
            log.warning("espeak-ng failed (exit %s); using the tone fallback", proc.returncode)
            return tone_speech(text)
        pcm, rate = parse_wav(out)
        return resample(pcm, rate)


def _warn_missing_once() -> None:
    global _warned_missing
    if not _warned_missing:
        _warned_missing = True
        log.warning(
            "espeak-ng is not installed: replies use a synthesized speech-like signal "
            "(install it with `apt-get install espeak-ng` for real speech)"
        )
