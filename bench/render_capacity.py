"""The capacity part of `latest.md`: per-core targets, pinning, input chunk costs, the CPU split."""

from __future__ import annotations

from typing import Any


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def targets(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) rows for sessions per core, PSS, warm processes and the greeting."""
    rows: list[tuple[str, str, str]] = []
    cap = doc.get("capacity") or {}
    for rc, base in (("rolecall", "baseline"), ("rolecall_thread", "baseline_thread")):
        if rc in cap and base in cap:
            r, b = cap[rc]["max_sessions"], cap[base]["max_sessions"]
            rows.append(
                (
                    f"≥ 2× the baseline's sessions per worker core ({rc.replace('rolecall', 'RoleCall')})",
                    f"{r} vs {b} sessions per core ({r / b:.2f}×)" if b else f"{r} vs {b}",
                    _verdict(b > 0 and r >= 2 * b),
                )
            )
    if "rolecall" in cap and cap["rolecall"].get("pss_mb_per_session") is not None:
        pss = cap["rolecall"]["pss_mb_per_session"]
        rows.append(("≤ 100 MB PSS per session (process executor)", f"{pss} MB", _verdict(pss <= 100)))
    at80 = (cap.get("rolecall") or {}).get("at_80pct")
    if at80 and at80["greeting_ms_of_new_sessions"].get("p95") is not None:
        p95 = at80["greeting_ms_of_new_sessions"]["p95"]
        rows.append(
            (
                "job processes ready < 2 s at 80% of capacity",
                f"dispatch → greeting heard (an upper bound) p95 {p95:.0f} ms for the sessions opened to "
                f"reach {at80['sessions']} sessions",
                _verdict(p95 < 2000),
            )
        )
    greet = doc.get("greeting_ms") or {}
    g0 = (greet.get("connect_delay_0ms") or {}).get("rolecall", {}).get("p50")
    g300 = (greet.get("connect_delay_300ms") or {}).get("rolecall", {}).get("p50")
    if g0 is not None and g300 is not None:
        rows.append(
            (
                "greeting with a 300 ms model connection delay no slower than with 0 ms",
                f"p50 {g300:.0f} vs {g0:.0f} ms ({g300 - g0:+.0f} ms)",
                _verdict(g300 <= g0 + 25),
            )
        )
    return rows


def markdown(doc: dict[str, Any]) -> list[str]:
    """Pinning, the chunk table and the profile split, as markdown lines."""
    out: list[str] = []
    pin = doc.get("pinning")
    if pin:
        out += [
            f"**pinning**: worker processes on CPU {pin.get('worker_cpus')}, everything else (users, "
            f"simulator, livekit-server) on {pin.get('other_cpus')}; `Cpus_allowed_list` read back from "
            f"/proc (value: processes): {pin.get('cpus_allowed_list')}",
            "",
        ]
    for key in ("machine_before", "machine_after"):
        if key in doc:
            m = doc[key]
            busy = "; ".join(f"{b['cpu_pct']:.0f}% {b['cmd'][:60]}" for b in m.get("busy_processes", []))
            out += [
                f"**{key.replace('_', ' ')}**: load average {m.get('loadavg')}; busy: {busy or 'none'}",
                "",
            ]
    chunk = doc.get("chunk")
    if chunk:
        out += [
            "**input chunk size** (RoleCall, same load per chunk size)",
            "",
            "| chunk | sessions | CPU % per session | audio in p50/p95 ms | appends/s each | missing |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for k, v in chunk.items():
            a = v["audio_in_ms"]
            out.append(
                f"| {k} | {v['sessions']} | {v['cpu_pct_per_session']} | {a.get('p50')} / {a.get('p95')} | "
                f"{v['appends_per_s_per_session']} | {v['missing_bursts']} |"
            )
        out.append("")
    for label, cap in (doc.get("capacity") or {}).items():
        prof = cap.get("profile")
        if not prof:
            continue
        if "error" in prof:
            out += [f"**profile, {label}**: {prof['error']}", ""]
            continue
        split = ", ".join(f"{k} {v}" for k, v in prof["cpu_pct_per_session"].items())
        out += [
            f"**where a session's CPU goes, {label}** ({prof['sessions']} sessions, {prof['seconds']} s, "
            f"% of one core per session; flame graph `{prof['flamegraph']}`): total "
            f"{prof['cpu_pct_per_session_total']}: {split}",
            "",
        ]
    return out
