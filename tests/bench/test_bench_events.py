"""The pure parts of the bench's `events` figure: pooling sessions, the receiver's lag, the verdict."""

from __future__ import annotations

from typing import Any

import pytest

from bench.figures.capacity import Window
from bench.figures.events import OFF, SLOW, event_lag_s, pooled
from bench.render import markdown, targets

pytestmark = pytest.mark.unit


def test_event_lag_reads_rfc3339_with_z_and_refuses_junk() -> None:
    # 2026-12-01T10:00:00Z is Unix 1796119200
    assert event_lag_s("2026-12-01T10:00:00.000Z", 1796119202.5) == pytest.approx(2.5)
    assert event_lag_s("not a time", 1.0) is None
    assert event_lag_s("None", 1.0) is None


def test_pooled_sums_losses_over_sessions_not_their_shares() -> None:
    a = Window(audio_in=[10.0, 20.0], missing=1, bursts=3, received_samples=900, expected_samples=1000.0)
    b = Window(audio_in=[30.0], missing=0, bursts=1, received_samples=3000, expected_samples=3000.0)
    a.cpu_pct, b.cpu_pct = 10.0, 20.0
    fig = pooled([a, b], [500.0, 700.0])
    assert fig["audio_in_ms"]["n"] == 3 and fig["audio_in_ms"]["p50"] == 20.0
    assert (fig["audio_in_ms"]["missing"], fig["audio_in_ms"]["bursts"]) == (1, 4)
    # 100 of 4000 samples lost: 2.5%, not the mean of 10% and 0%
    assert fig["input_drop"] == 0.025
    assert fig["greeting_ms"]["p50"] == 600.0 and fig["cpu_pct"] == 15.0
    assert pooled([], [])["input_drop"] == 0.0


def test_window_input_drop_never_negative() -> None:
    assert Window(received_samples=1010, expected_samples=1000.0).input_drop() == 0.0
    assert Window(received_samples=0, expected_samples=0.0).input_drop() == 0.0


def _fig(p95_off: float, p95_slow: float, *, events: int = 12, missing: int = 0) -> dict[str, Any]:
    def side(p95: float, missing: int) -> dict[str, Any]:
        lat = {"p50": p95 / 2, "p95": p95, "p99": p95, "n": 40, "missing": missing, "bursts": 40}
        none = {"p50": None, "p95": None}
        return {
            "sessions": 3,
            "audio_in_ms": lat,
            "input_drop": 0.0,
            "audio_out_ms": none,
            "tool_roundtrip_ms": none,
            "greeting_ms": {"p50": 800.0},
            "cpu_pct": 12.5,
        }

    return {
        OFF: side(p95_off, 0),
        SLOW: side(p95_slow, missing),
        "receiver": {
            "delay_s": 2.0,
            "events": events,
            "by_type": {"tool.started": events},
            "max_in_flight": 1,
            "lag_s": {"p50": 9.0, "max": 20.0},
        },
        "window_s": 6.0,
        "input_drop_tolerance": 0.01,
    }


def _verdict(fig: dict[str, Any]) -> tuple[str, str]:
    rows = {t: (v, ok) for t, v, ok in targets({"events": fig})}
    return rows["a slow receiver (2 s per event) never slows the conversation"]


def test_events_target_judges_the_slow_receiver_against_events_off() -> None:
    measured, ok = _verdict(_fig(100.0, 108.0))
    assert ok == "met"
    assert "54.0 / 108.0 ms with the slow receiver vs 50.0 / 100.0 ms with events off" in measured
    assert "answered 12 events, up to 20.0 s late" in measured
    assert _verdict(_fig(100.0, 130.0))[1] == "**missed**"
    assert _verdict(_fig(20.0, 24.0))[1] == "met"  # within 5 ms, though 20% more
    assert _verdict(_fig(100.0, 100.0, missing=1))[1] == "**missed**"
    assert _verdict(_fig(100.0, 100.0, events=0))[1] == "not shown: the receiver got no events"


def test_events_table_in_latest_md() -> None:
    text = markdown({"events": _fig(100.0, 108.0)})
    assert "| events_slow_receiver | 54.0 / 108.0 / 108.0 | 40 | 0/40 | 0.0% |" in text
    assert "The receiver answered 12 events (tool.started 12), at most 1 held at once" in text
