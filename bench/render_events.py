"""The live-events part of `latest.md`: the audio path with events off vs a slow receiver."""

from __future__ import annotations

from typing import Any

from bench.figures.events import OFF, SLOW

P95_SLACK = 1.10
P95_SLACK_MS = 5.0
"""The slow receiver's audio-in p95 may exceed the one without events by 10% or 5 ms, whichever is more:
the two workers' own run-to-run spread at these sample counts."""


def _ms(v: Any) -> str:
    return "–" if v is None else f"{v:.1f}"


def verdict(fig: dict[str, Any]) -> str:
    """`met` when the slow receiver got events and its audio path is as fast (p95 within the slack) and
    as whole (no missing bursts, input loss within the tolerance) as with events off."""
    off, slow, got = fig[OFF], fig[SLOW], fig["receiver"]["events"]
    if not got:
        return "not shown: the receiver got no events"
    p95_off, p95_slow = off["audio_in_ms"]["p95"], slow["audio_in_ms"]["p95"]
    if p95_off is None or p95_slow is None:
        return "**missed**: no audio-in samples"
    ok = (
        p95_slow <= max(P95_SLACK * p95_off, p95_off + P95_SLACK_MS)
        and slow["audio_in_ms"]["missing"] == 0
        and slow["input_drop"] <= fig.get("input_drop_tolerance", 0.01)
    )
    return "met" if ok else "**missed**"


def targets(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The target row, when the figure ran."""
    fig = doc.get("events")
    if not fig:
        return []
    off, slow, rx = fig[OFF]["audio_in_ms"], fig[SLOW]["audio_in_ms"], fig["receiver"]
    measured = (
        f"audio in p50/p95 {_ms(slow['p50'])} / {_ms(slow['p95'])} ms with the slow receiver vs "
        f"{_ms(off['p50'])} / {_ms(off['p95'])} ms with events off; missing bursts {slow['missing']} vs "
        f"{off['missing']}, input loss {fig[SLOW]['input_drop']:.1%} vs {fig[OFF]['input_drop']:.1%}; "
        f"the receiver answered {rx['events']} events, up to {rx['lag_s'].get('max')} s late"
    )
    return [
        (
            f"a slow receiver ({rx['delay_s']:g} s per event) never slows the conversation",
            measured,
            verdict(fig),
        )
    ]


def markdown(doc: dict[str, Any]) -> list[str]:
    """The figure's table and what the receiver got, as markdown lines."""
    fig = doc.get("events")
    if not fig:
        return []
    rx = fig["receiver"]
    out = [
        f"**events**: RoleCall with live events off vs `ROLECALL_EVENTS_URL` at a receiver taking "
        f"{rx['delay_s']:g} s per event; {fig[OFF]['sessions']} sessions each, one at a time (ABAB), "
        f"{fig['window_s']:g} s of bursts and a tool call every {fig.get('call_every_s', 4.0):g} s "
        "per session (ms)",
        "",
        "| worker | audio in p50 / p95 / p99 | n | missing bursts | input loss | audio out p50 / p95 "
        "| tool p50 / p95 | greeting p50 | CPU % (tree) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label in (OFF, SLOW):
        v = fig[label]
        a, o, t = v["audio_in_ms"], v["audio_out_ms"], v["tool_roundtrip_ms"]
        out.append(
            f"| {label} | {_ms(a['p50'])} / {_ms(a['p95'])} / {_ms(a['p99'])} | {a['n']} | "
            f"{a['missing']}/{a['bursts']} | {v['input_drop']:.1%} | {_ms(o['p50'])} / {_ms(o['p95'])} | "
            f"{_ms(t['p50'])} / {_ms(t['p95'])} | {_ms(v['greeting_ms']['p50'])} | {v['cpu_pct']} |"
        )
    lag = rx["lag_s"]
    kinds = ", ".join(f"{k} {n}" for k, n in rx["by_type"].items()) or "none"
    out += [
        "",
        f"The receiver answered {rx['events']} events ({kinds}), at most {rx['max_in_flight']} held at "
        f"once; created → answered p50 {lag.get('p50')} s, max {lag.get('max')} s (the backlog behind "
        f"the {rx['delay_s']:g} s answers).",
        "",
    ]
    return out
