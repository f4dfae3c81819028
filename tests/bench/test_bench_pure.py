"""The pure parts of `make bench`: percentiles, burst onsets and matching, the report."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from bench.figures.audio import match_bursts
from bench.marks import SAMPLE_RATE, OnsetDetector, burst, decode_pcm, first_loud
from bench.render import markdown, targets
from bench.stats import percentile, summarize

pytestmark = pytest.mark.unit


def test_percentile_matches_numpy_linear() -> None:
    values = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0]
    for q in (0, 25, 50, 95, 99, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summarize() -> None:
    s = summarize([float(x) for x in range(1, 101)])
    assert (s["p50"], s["p95"], s["p99"], s["n"]) == (50.5, 95.05, 99.01, 100)
    assert summarize([])["p50"] is None and summarize([])["n"] == 0


def _chunks(signal: np.ndarray, size: int) -> list[np.ndarray]:
    return [signal[i : i + size] for i in range(0, len(signal), size)]


def test_onset_found_once_per_burst_whatever_the_chunking() -> None:
    quiet = np.zeros(int(0.3 * SAMPLE_RATE), dtype=np.int16)
    stream = np.concatenate([quiet, burst(0.06), quiet, burst(0.06), quiet])
    starts = [len(quiet), 2 * len(quiet) + len(burst(0.06))]
    for size in (240, 480, 1000, 2400):
        det = OnsetDetector()
        found = []
        for i, chunk in enumerate(_chunks(stream, size)):
            idx = det.feed(chunk)
            if idx is not None:
                found.append(i * size + idx)
        # the sine starts at zero: the first loud sample is a few samples into the burst
        assert [f - s for f, s in zip(found, starts, strict=True)] == [first_loud(burst(0.06))] * 2


def test_no_onset_inside_a_burst_or_on_faint_noise() -> None:
    det = OnsetDetector()
    noise = (np.random.default_rng(1).normal(0, 300, 4800)).astype(np.int16)
    assert det.feed(noise) is None
    b = burst(0.2)
    assert det.feed(b[:2400]) is not None
    assert det.feed(b[2400:]) is None  # same burst, next chunk


def test_decode_pcm_roundtrip() -> None:
    pcm = np.array([0, 1, -1, 32767, -32768], dtype=np.int16)
    assert decode_pcm(base64.b64encode(pcm.astype("<i2").tobytes()).decode()).tolist() == pcm.tolist()


def test_match_bursts_takes_only_onsets_before_the_next_burst() -> None:
    bursts = [1.0, 1.4, 1.8]
    onsets = [1.1, 1.65, 2.05]  # each onset lies between its burst and the next one
    assert match_bursts(bursts, onsets, 0.4) == pytest.approx([100.0, 250.0, 250.0])
    assert match_bursts([1.0, 1.4], [1.45], 0.4) == [None, pytest.approx(50.0)]


def _doc() -> dict[str, object]:
    lat = {"p50": 10.0, "p95": 20.0, "p99": 30.0, "n": 200}
    return {
        "timestamp": "20260101T000000",
        "quick": True,
        "machine": {"cpu": "x", "cores": 2},
        "tool_roundtrip_ms": {
            "rolecall": {**lat, "p50": 30.0},
            "baseline": {**lat, "p50": 29.0},
            "raw_rpc": {**lat, "p50": 6.0},
            "_samples": {},
        },
        "audio_in_ms": {"rolecall": {**lat, "p50": 100.0}, "baseline": {**lat, "p50": 98.0}, "_samples": {}},
        "greeting_ms": {
            "connect_delay_300ms": {
                "rolecall": {**lat, "p50": 700.0},
                "_samples": {},
                "_phases": {
                    "rolecall": {
                        "dispatch_to_agent_in_room": {**lat, "p50": 380.0, "p95": 450.0},
                        "agent_in_room_to_track": {**lat, "p50": 90.0, "p95": 120.0},
                        "agent_in_room_to_audio": {**lat, "p50": 320.0, "p95": 400.0},
                    }
                },
            }
        },
        "reload_ms": {"next_session": {"rolecall": {**lat, "p95": 12.0}, "baseline": "n/a"}},
    }


def test_targets_split_the_tool_overhead_and_judge_each_target() -> None:
    rows = {t: (v, ok) for t, v, ok in targets(_doc())}
    measured, verdict = rows["tool overhead ≤ 2 ms p50 over raw RPC"]
    assert "+24.0 ms over raw RPC" in measured and "livekit-agents (baseline − raw) +23.0 ms" in measured
    assert verdict == "**missed** over raw; met over the baseline"
    assert rows["audio_in_ms (rolecall) within 5% of baseline or better"][1] == "met"
    assert rows["greeting ≤ 250 ms over the dispatch path (300ms model connection delay)"] == (
        "p50 700 ms = dispatch path (dispatch → agent in the room) 380 ms + 320 ms (agent in the room → first audio)",
        "**missed**",
    )
    assert rows["reload < 1 s (next_session)"][1] == "met"


def test_markdown_names_the_run_and_shows_na() -> None:
    text = markdown(_doc())
    assert "(--quick: small sample counts)" in text
    assert "| baseline | n/a |" in text
    assert "| rolecall | 30.0 | 20.0 | 30.0 | 200 |  |" in text
    assert "| rolecall | 380 / 450 | 90 / 120 | 320 / 400 |" in text  # the greeting in parts


def test_capacity_below_the_tried_levels_is_not_a_miss() -> None:
    doc = {
        "counts": {"levels": [1, 3]},
        "capacity": {"rolecall": {"max_sessions": 3, "stopped": "all levels passed"}},
    }
    assert targets(doc) == [
        (
            "≥ 20 concurrent sessions",
            "3 sessions (levels tried: [1, 3]); stopped: all levels passed",
            "not reached: no level ≥ 20 was tried",
        )
    ]
    doc["capacity"]["rolecall"] = {
        "max_sessions": 5,
        "stopped": "10 sessions: audio-in p95 500 ms > 2 × 170 ms",
    }
    assert targets(doc)[0][2] == "**missed**"
