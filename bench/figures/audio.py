"""`audio_in_ms` and `audio_out_ms`.

audio_in: the participant's microphone is silence with a 60 ms 1 kHz burst every `period`; a burst's
time is when its first 10 ms frame is handed to the audio source. It ends at the arrival (simulator
record) of the `input_audio_buffer.append` whose decoded PCM holds that burst's onset. An onset that
arrives before the next burst was even captured can only be this burst's, so matching is exact; a
burst with no such onset counts as missing.

audio_out: a typed `/say okay` makes the simulator reply; the mark is the first loud sample of the
reply's audio deltas (sent time + its offset in the delta, as the audio plays in real time). It ends
at the onset of that sample in the audio the participant receives (frame arrival − the samples after
the onset in the frame).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.participant import FRAME_S
from bench.session import BenchSession
from bench.stats import summarize
from bench.tap import Tap


def match_bursts(burst_times: list[float], onsets: list[float], period_s: float) -> list[float | None]:
    """Latency (ms) of each burst: the first onset at or after it and before the next burst was captured."""
    out: list[float | None] = []
    for i, t in enumerate(burst_times):
        limit = burst_times[i + 1] if i + 1 < len(burst_times) else t + period_s
        hit = next((o for o in onsets if t <= o < limit), None)
        out.append(None if hit is None else (hit - t) * 1000)
    return out


async def bursts(tap: Tap, s: BenchSession, count: int) -> tuple[list[float], int]:
    """Send `count` bursts on `s`; return the latencies found and the number missing."""
    p = s.participant
    period = p.burst_every * FRAME_S
    start = len(p.burst_times)
    p.bursting = True
    while len(p.burst_times) < start + count:
        await asyncio.sleep(0.05)
    p.bursting = False
    await asyncio.sleep(period + 0.5)  # let the last one arrive
    tap.poll()
    found = match_bursts(p.burst_times[start : start + count], tap.input_onsets[s.conn], period)
    return [x for x in found if x is not None], sum(x is None for x in found)


async def one_reply(tap: Tap, s: BenchSession, timeout: float = 10.0) -> float | None:
    t0 = time.monotonic()
    await s.participant.say("/say okay")
    deadline = t0 + timeout
    sim_onset = None
    while sim_onset is None and time.monotonic() < deadline:
        tap.poll()
        sim_onset = next((t for t in tap.reply_onsets[s.conn] if t > t0), None)
        await asyncio.sleep(0.005)
    if sim_onset is None:
        return None
    try:
        heard = await s.participant.wait_audio(after=sim_onset, timeout=max(0.5, deadline - time.monotonic()))
    except TimeoutError:
        return None
    await s.participant.wait_quiet(0.3)
    return (heard - sim_onset) * 1000


async def run(tap: Tap, sessions: dict[str, BenchSession], n: int, block: int) -> dict[str, Any]:
    for s in sessions.values():
        await s.participant.wait_quiet(0.5)  # the greeting is over (and with it the echo warm-up)
    return await audio_in(tap, sessions, n, block) | await audio_out(tap, sessions, n, block)


async def audio_in(tap: Tap, sessions: dict[str, BenchSession], n: int, block: int) -> dict[str, Any]:
    """`audio_in_ms`: blocks of `block` bursts per session, ABAB, until each has `n` (found or missing)."""
    ins: dict[str, list[float]] = {k: [] for k in sessions}
    missing = dict.fromkeys(sessions, 0)
    while min(len(v) + missing[k] for k, v in ins.items()) < n:
        for label, s in sessions.items():
            got, lost = await bursts(tap, s, block)
            ins[label] += got
            missing[label] += lost
    return {
        "audio_in_ms": {
            **{k: {**summarize(v), "missing": missing[k]} for k, v in ins.items()},
            "_samples": ins,
        }
    }


async def audio_out(tap: Tap, sessions: dict[str, BenchSession], n: int, block: int) -> dict[str, Any]:
    """`audio_out_ms`: blocks of `block` replies per session, ABAB, until each has `n` (or failed)."""
    outs: dict[str, list[float]] = {k: [] for k in sessions}
    out_fail = dict.fromkeys(sessions, 0)
    while min(len(v) + out_fail[k] for k, v in outs.items()) < n:
        for label, s in sessions.items():
            for _ in range(block):
                ms = await one_reply(tap, s)
                if ms is None:
                    out_fail[label] += 1
                else:
                    outs[label].append(ms)
    return {
        "audio_out_ms": {
            **{k: {**summarize(v), "failures": out_fail[k]} for k, v in outs.items()},
            "_samples": outs,
        }
    }
