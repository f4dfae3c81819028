"""`latest.md` (the figures against the targets) and the PNG plots, from a results document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import render_capacity, render_events

AGENTS = ("rolecall", "baseline", "rolecall_chunk100", "raw_rpc")
FIGURE_TITLES = (
    ("tool_roundtrip_ms", "tool_roundtrip_ms: function call sent → its output received (simulator clock)"),
    ("audio_in_ms", "audio_in_ms: burst captured → the append holding it arrives at the simulator"),
    ("audio_out_ms", "audio_out_ms: reply's first loud sample due → heard by the participant"),
)
LIVE_INTRO = (
    "RoleCall serving the bench role on GPT-Live (`api: live`) vs bare livekit-agents on `GPTLiveModel` "
    "(`BASELINE_API=live`), each in a worker of its own, measured as the figures above: the tool round "
    "trip is the backend's function call (in a `response.event`) sent → its `response.item.create` "
    "received, each call waiting for the spoken answer; audio in and out over `session.input_audio.append` "
    "and `session.output_audio.delta`; the greeting at 0 ms connection delay. On GPT-Live, livekit-agents "
    "sends a tool's output once the speech the call arrived in has played (the acknowledgement the model "
    "speaks as it delegates, then 0.8 s of silence): that wait is in both agents' round trip."
)


def _ms(v: Any) -> str:
    return "–" if v is None else f"{v:.1f}"


def _row(name: str, entry: Any) -> str:
    if not isinstance(entry, dict):
        return f"| {name} | {entry} | | | | |"
    extra = ", ".join(f"{k} {entry[k]}" for k in ("failures", "missing") if entry.get(k))
    return (
        f"| {name} | {_ms(entry.get('p50'))} | {_ms(entry.get('p95'))} | {_ms(entry.get('p99'))} "
        f"| {entry.get('n', 0)} | {extra} |"
    )


def _table(title: str, figure: dict[str, Any]) -> list[str]:
    lines = [
        f"**{title}** (ms)",
        "",
        "| agent | p50 | p95 | p99 | n | notes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [_row(k, v) for k, v in figure.items() if not k.startswith("_")]
    return [*lines, ""]


def _greeting_phases(key: str, phases: dict[str, Any]) -> list[str]:
    """The greeting split at the agent's arrival in the room: p50 / p95 of each part, per agent."""
    if not phases:
        return []
    lines = [
        f"**greeting_ms, {key.replace('_', ' ')}, in parts** (p50 / p95 ms)",
        "",
        "| agent | dispatch → agent in the room | agent in the room → audio track"
        " | agent in the room → first audio |",
        "| --- | --- | --- | --- |",
    ]
    for agent, parts in phases.items():
        cells = [
            f"{part['p50']:.0f} / {part['p95']:.0f}"
            if (part := parts.get(p) or {}).get("p50") is not None
            else "–"
            for p in ("dispatch_to_agent_in_room", "agent_in_room_to_track", "agent_in_room_to_audio")
        ]
        lines.append(f"| {agent} | {' | '.join(cells)} |")
    return [*lines, ""]


def _p50(doc: dict[str, Any], *path: str) -> float | None:
    node: Any = doc
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node if isinstance(node, int | float) else None


def targets(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each target that has data."""
    rows: list[tuple[str, str, str]] = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    rc, base, raw = (_p50(doc, "tool_roundtrip_ms", k, "p50") for k in ("rolecall", "baseline", "raw_rpc"))
    if rc is not None and raw is not None and base is not None:
        rows.append(
            (
                "tool overhead ≤ 2 ms p50 over raw RPC",
                f"RoleCall {rc - raw:+.1f} ms over raw RPC, of which livekit-agents (baseline − raw) "
                f"{base - raw:+.1f} ms and RoleCall (RoleCall − baseline) {rc - base:+.1f} ms",
                f"{verdict(rc - raw <= 2)} over raw; {verdict(rc - base <= 2)} over the baseline",
            )
        )
    for fig in ("audio_in_ms", "audio_out_ms"):
        for variant in ("rolecall", "rolecall_chunk100"):
            r, b = _p50(doc, fig, variant, "p50"), _p50(doc, fig, "baseline", "p50")
            if r is not None and b is not None and b > 0:
                rows.append(
                    (
                        f"{fig} ({variant}) within 5% of baseline or better",
                        f"p50 {r:.1f} vs {b:.1f} ms ({(r / b - 1) * 100:+.1f}%)",
                        verdict(r <= 1.05 * b),
                    )
                )
    for key, fig in (doc.get("greeting_ms") or {}).items():
        delay = key.removeprefix("connect_delay_")
        r = _p50(fig, "rolecall", "p50")
        over = _p50(fig, "_phases", "rolecall", "agent_in_room_to_audio", "p50")
        path = _p50(fig, "_phases", "rolecall", "dispatch_to_agent_in_room", "p50")
        if r is not None and over is not None and path is not None:
            rows.append(
                (
                    f"greeting ≤ 250 ms over the dispatch path ({delay} model connection delay)",
                    f"p50 {r:.0f} ms = dispatch path (dispatch → agent in the room) {path:.0f} ms + "
                    f"{over:.0f} ms (agent in the room → first audio)",
                    verdict(over <= 250),
                )
            )
    rows += render_events.targets(doc)
    rows += render_capacity.targets(doc)
    cap = (doc.get("capacity") or {}).get("rolecall")
    if cap:
        levels = doc.get("counts", {}).get("levels", [])
        bound = f" (levels tried: {levels})" if levels else ""
        untested = cap["max_sessions"] < 20 and cap.get("stopped") == "all levels passed"
        rows.append(
            (
                "≥ 20 concurrent sessions",
                f"{cap['max_sessions']} sessions{bound}; stopped: {cap.get('stopped')}",
                "not reached: no level ≥ 20 was tried" if untested else verdict(cap["max_sessions"] >= 20),
            )
        )
    for kind in ("next_session", "live_session"):
        p95 = _p50(doc, "reload_ms", kind, "rolecall", "p95")
        if p95 is not None:
            rows.append((f"reload < 1 s ({kind})", f"p95 {p95:.0f} ms", verdict(p95 < 1000)))
    return rows


def markdown(doc: dict[str, Any]) -> str:
    m = doc.get("machine", {})
    out = [
        "# RoleCall benchmark: RoleCall vs bare livekit-agents",
        "",
        f"Run {doc.get('timestamp')}{' (--quick: small sample counts)' if doc.get('quick') else ''}, "
        f"{doc.get('duration_s', '?')} s. {m.get('cpu')}, {m.get('cores')} cores, Python {m.get('python')}, "
        f"livekit-agents {m.get('livekit-agents')}, livekit-server {m.get('livekit-server')}, "
        f"load average at the end {m.get('load_average_at_end')}.",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "| --- | --- | --- |",
    ]
    out += [f"| {t} | {v} | {ok} |" for t, v, ok in targets(doc)]
    out.append("")
    out.append("## Figures")
    out.append("")
    for key, title in (*FIGURE_TITLES, ("worker_start_ms", "worker_start_ms: process start → registered")):
        if key in doc:
            out += _table(title, doc[key])
    for key, fig in (doc.get("greeting_ms") or {}).items():
        out += _table(f"greeting_ms, {key.replace('_', ' ')}: dispatch → first agent audio", fig)
        out += _greeting_phases(key, fig.get("_phases") or {})
    if "reload_ms" in doc:
        for kind in ("next_session", "live_session"):
            if kind in doc["reload_ms"]:
                out += _table(
                    f"reload_ms, {kind}: role file saved → new version in use", doc["reload_ms"][kind]
                )
    out += render_events.markdown(doc)
    out += render_capacity.markdown(doc)
    for label, cap in (doc.get("capacity") or {}).items():
        out += [
            f"**capacity, {label}**: max_sessions {cap['max_sessions']}, rss_mb_per_session "
            f"{cap['rss_mb_per_session']} (PSS {cap.get('pss_mb_per_session')}), cpu_pct_per_session "
            f"{cap['cpu_pct_per_session']} (idle worker tree: RSS {cap['idle_rss_mb']} MB, PSS "
            f"{cap.get('idle_pss_mb')} MB, CPU {cap.get('idle_cpu_pct')} %); stopped: {cap['stopped']}",
            "",
            "| sessions | audio in p50/p95 | audio out p50/p95 | tool p50/p95 | missing bursts | input drop "
            "| CPU % (tree) | RSS / PSS MB (tree) | bench late ticks |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for lv in cap["levels"]:

            def pp(f: dict[str, Any]) -> str:
                return f"{_ms(f['p50'])} / {_ms(f['p95'])}"

            out.append(
                f"| {lv['sessions']} | {pp(lv['audio_in_ms'])} | {pp(lv['audio_out_ms'])} | "
                f"{pp(lv['tool_roundtrip_ms'])} | {lv['missing_bursts']}/{lv['bursts']} | "
                f"{lv['input_drop']:.1%} | {lv['cpu_pct']} | {lv['rss_mb']} / {lv.get('pss_mb')} | "
                f"{lv['bench_late_ticks']} |"
            )
        out.append("")
    out += live_markdown(doc.get("live") or {})
    return "\n".join(out) + "\n"


def live_markdown(live: dict[str, Any]) -> list[str]:
    """The GPT-Live section: the same tables as the Realtime figures, rolecall vs baseline."""
    if not live:
        return []
    out = ["## GPT-Live", "", LIVE_INTRO, ""]
    for key, title in FIGURE_TITLES:
        if key in live:
            out += _table(f"GPT-Live {title}", live[key])
    for key, fig in (live.get("greeting_ms") or {}).items():
        out += _table(f"GPT-Live greeting_ms, {key.replace('_', ' ')}: dispatch → first agent audio", fig)
    return out


def plots(doc: dict[str, Any], out: Path) -> list[Path]:
    """`latency.png` (distributions per figure and agent) and `capacity.png`; none without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    written: list[Path] = []
    panels: list[tuple[str, dict[str, list[float]]]] = []
    for key in ("tool_roundtrip_ms", "audio_in_ms", "audio_out_ms"):
        if key in doc:
            panels.append((key, doc[key]["_samples"]))
    for key, fig in (doc.get("greeting_ms") or {}).items():
        panels.append((f"greeting_ms ({key.removeprefix('connect_delay_')} delay)", fig["_samples"]))
    live = doc.get("live") or {}
    for key, _ in FIGURE_TITLES:
        if key in live:
            panels.append((f"GPT-Live {key}", live[key]["_samples"]))
    if panels:
        fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4), squeeze=False)
        for ax, (title, samples) in zip(axes[0], panels, strict=True):
            labels = [k for k in AGENTS if samples.get(k)]
            ax.boxplot([samples[k] for k in labels], whis=(5, 95), showfliers=True)
            ax.set_xticks(range(1, len(labels) + 1), [k.replace("_", "\n") for k in labels])
            ax.set_title(title, fontsize=10)
            ax.set_ylabel("ms")
            ax.grid(axis="y", alpha=0.3)
        fig.suptitle("Latency (box: p25–p75, whiskers: p5–p95)", fontsize=11)
        fig.tight_layout()
        path = out / "latency.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    cap = doc.get("capacity")
    if cap:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
        colors = {"rolecall": "tab:blue", "baseline": "tab:orange"}
        for label, c in cap.items():
            color = colors.get(label, "tab:gray")
            xs = [lv["sessions"] for lv in c["levels"]]
            a1.plot(
                xs,
                [lv["audio_in_ms"]["p95"] for lv in c["levels"]],
                marker="o",
                label=f"{label} audio in p95",
            )
            a1.plot(
                xs,
                [lv["audio_out_ms"]["p95"] for lv in c["levels"]],
                marker="x",
                ls="--",
                label=f"{label} audio out p95",
            )
            a2.plot(
                xs,
                [lv["cpu_pct"] for lv in c["levels"]],
                marker="o",
                color=color,
                label=f"{label} CPU % (tree)",
            )
        a1.set_xlabel("concurrent sessions")
        a1.set_ylabel("ms")
        a1.legend(fontsize=8)
        a1.grid(alpha=0.3)
        a2.set_xlabel("concurrent sessions")
        a2.set_ylabel("% of one core")
        a2.legend(fontsize=8)
        a2.grid(alpha=0.3)
        fig.suptitle("Capacity", fontsize=11)
        fig.tight_layout()
        path = out / "capacity.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written
