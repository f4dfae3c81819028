"""Eval results for people (a table, failure transcripts, tokens and cost) and for machines (JSON,
Markdown). Pass rates are passes over runs per expectation; a file fails when any expectation
passed fewer than all of its runs, or when it could not run at all."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from worker.evals.runner import EvalResult, ExpectationResult
from worker.pricing import Usage


def pass_rate(passed: int, runs: int) -> float:
    """`passed / runs` (0.0 when nothing ran)."""
    return passed / runs if runs else 0.0


def rate_text(row: ExpectationResult) -> str:
    """`3/5 (60%)`."""
    return f"{row.passed}/{row.runs} ({pass_rate(row.passed, row.runs):.0%})"


def instead(row: ExpectationResult) -> str:
    """What happened instead, from the first failing run (with how many runs saw the same)."""
    failures = [v.detail for v in row.verdicts if not v.passed]
    if not failures:
        return ""
    first = failures[0]
    same = sum(1 for f in failures if f == first)
    return first if same == len(failures) == 1 else f"{first} ({same} of {len(failures)} failures)"


def total_usage(results: Sequence[EvalResult]) -> tuple[Usage, float | None]:
    """Summed tokens, and the summed cost estimate (None when no run had a price)."""
    usage = Usage()
    costs = [run.cost_usd for r in results for run in r.runs if run.cost_usd is not None]
    for r in results:
        for run in r.runs:
            usage.add(run.usage)
    return usage, (sum(costs) if costs else None)


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False)[:6] or [""]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_text(results: Sequence[EvalResult], *, width: int = 110) -> str:
    """The table (per conversation), the transcripts of failed runs, and the totals."""
    out: list[str] = []
    for r in results:
        status = "ok" if r.ok else "FAILED"
        out.append(f"== {r.file} (role {r.role}, {r.mode}{', ' + r.model if r.model else ''}): {status}")
        out += [f"   error: {e}" for e in r.errors]
        label_width = min(60, max((len(row.label) for row in r.expectations), default=0))
        conversation = None
        for row in r.expectations:
            if row.conversation != conversation:
                conversation = row.conversation
                out.append(f"   {conversation}")
            mark = "ok  " if row.ok else "FAIL"
            out.append(
                f"     {mark} turn {row.turn}  {_cut(row.label, 60).ljust(label_width)}  {rate_text(row)}"
            )
            if not row.ok:
                lines = _wrap(instead(row), width - 21)
                out += [
                    f"            {'instead:' if i == 0 else '        '} {line}"
                    for i, line in enumerate(lines)
                ]
        for run in r.runs:
            if not run.failed:
                continue
            out += [f"   problem in {run.conversation} (run {run.repeat + 1}): {p}" for p in run.problems]
            out.append(f"   -- transcript: {run.conversation} (run {run.repeat + 1}) --")
            out += [f"     {line}" for line in run.transcript] or ["     (nothing was said)"]
        out.append("")
    usage, cost = total_usage(results)
    failed = sum(1 for r in results for row in r.expectations if not row.ok)
    total = sum(len(r.expectations) for r in results)
    broken = sum(1 for r in results if r.errors)
    troubled = sum(1 for r in results for run in r.runs if run.problems)
    summary = f"{total - failed}/{total} expectations passed in every run"
    if troubled:
        summary += f"; {troubled} run(s) had problems"
    if broken:
        summary += f"; {broken} file(s) could not run"
    out.append(summary)
    out.append(
        f"tokens: {usage.total} (text in {usage.text_in}, audio in {usage.audio_in}, text out "
        f"{usage.text_out}, audio out {usage.audio_out})"
        + (f"; GPT-Live voice {usage.seconds:.1f} s" if usage.seconds else "")
        + "; estimated cost: "
        + ("n/a" if cost is None else f"${cost:.4f}")
        + (" (simulated model)" if results and all(r.mode == "offline" for r in results) else "")
    )
    return "\n".join(out) + "\n"


def to_json(results: Sequence[EvalResult]) -> dict[str, Any]:
    """The machine-readable report."""
    usage, cost = total_usage(results)
    return {
        "ok": all(r.ok for r in results),
        "usage": usage.model_dump(),
        "cost_usd": cost,
        "files": [
            {
                "file": r.file,
                "role": r.role,
                "mode": r.mode,
                "model": r.model,
                "ok": r.ok,
                "errors": r.errors,
                "expectations": [
                    {
                        "conversation": row.conversation,
                        "turn": row.turn,
                        "expectation": row.label,
                        "where": row.where,
                        "passed": row.passed,
                        "runs": row.runs,
                        "pass_rate": pass_rate(row.passed, row.runs),
                        "failures": [v.detail for v in row.verdicts if not v.passed],
                    }
                    for row in r.expectations
                ],
                "runs": [
                    {
                        "conversation": run.conversation,
                        "repeat": run.repeat + 1,
                        "failed": run.failed,
                        "problems": run.problems,
                        "usage": run.usage.model_dump(),
                        "cost_usd": run.cost_usd,
                        "transcript": run.transcript,
                    }
                    for run in r.runs
                ],
            }
            for r in results
        ],
    }


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(results: Sequence[EvalResult]) -> str:
    """The report as Markdown (a table per file, failure transcripts in details blocks)."""
    out = ["# Role evals", ""]
    for r in results:
        out.append(f"## {r.file} — role `{r.role}`, {r.mode}: {'ok' if r.ok else '**FAILED**'}")
        out.append("")
        out += [f"- error: {_md(e)}" for e in r.errors]
        if r.expectations:
            out += ["| | turn | expectation | pass rate | what happened instead |", "|---|---|---|---|---|"]
            for row in r.expectations:
                mark = "✅" if row.ok else "❌"
                label = _md(f"{row.conversation} › {row.label}")
                out.append(f"| {mark} | {row.turn} | {label} | {rate_text(row)} | {_md(instead(row))} |")
            out.append("")
        for run in r.runs:
            if run.failed:
                out += [f"- problem in {_md(run.conversation)}: {_md(p)}" for p in run.problems]
                out += [f"<details><summary>{_md(run.conversation)} (run {run.repeat + 1})</summary>", ""]
                out += ["```", *run.transcript, "```", "", "</details>", ""]
    usage, cost = total_usage(results)
    out.append(f"Tokens: {usage.total}; estimated cost: {'n/a' if cost is None else f'${cost:.4f}'}")
    return "\n".join(out) + "\n"


def report_paths(target: str) -> tuple[Path, Path]:
    """`FILE.json` and `FILE.md` for `--report FILE`; an extension of .json or .md is replaced."""
    path = Path(target)
    base = path.with_suffix("") if path.suffix in (".json", ".md") else path
    return Path(f"{base}.json"), Path(f"{base}.md")


def write_reports(results: Sequence[EvalResult], target: str) -> tuple[Path, Path]:
    """Write both reports; return their paths."""
    json_path, md_path = report_paths(target)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(to_json(results), indent=2, ensure_ascii=False) + "\n")
    md_path.write_text(to_markdown(results))
    return json_path, md_path
