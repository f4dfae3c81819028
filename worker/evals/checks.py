"""What one user turn produced, and the verdict of each expectation on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from worker.evals.matching import argument_problems, shown, words_missing, words_present
from worker.evals.model import Expect


@dataclass
class CallOutcome:
    """One function call the model made in the turn, and what it got back."""

    name: str
    arguments: Any
    """The arguments as the model sent them (parsed JSON when they parse)."""
    output: str = ""
    is_error: bool = False
    delivered: bool | None = None
    """Whether the result reached the model (offline: seen in the simulator's record; live: unknown)."""
    call_id: str = ""

    def line(self) -> str:
        """`name {args} -> ok|error: output`, for transcripts and messages."""
        verdict = "error" if self.is_error else "ok"
        output = " ".join(self.output.split())
        return f"{self.name} {shown(self.arguments)} -> {verdict}: {output[:160]}"


@dataclass
class TurnOutcome:
    """Everything the checks look at for one user turn."""

    user: str
    replies: list[str] = field(default_factory=list)
    calls: list[CallOutcome] = field(default_factory=list)
    roles_entered: list[str] = field(default_factory=list)
    responses: int = 0
    error: str | None = None
    """Set when the turn did not complete (timeout, session ended, model error)."""

    @property
    def reply(self) -> str:
        return " ".join(r.strip() for r in self.replies if r.strip())


@dataclass(frozen=True)
class Verdict:
    """One expectation on one run: passed, and if not, what happened instead."""

    passed: bool
    detail: str = ""


def _calls_summary(turn: TurnOutcome) -> str:
    if not turn.calls:
        return "no tool was called"
    return "calls: " + "; ".join(c.line() for c in turn.calls)


def _reply_shown(turn: TurnOutcome) -> str:
    return f"the reply was {shown(turn.reply, 160)}" if turn.reply else "there was no reply"


def check(
    expect: Expect,
    turn: TurnOutcome,
    *,
    problem: str | None = None,
    handoff_tools: Mapping[str, set[str]] | None = None,
) -> Verdict:
    """Judge `expect` on `turn`. `problem` is a reason it cannot pass (an unknown tool or role);
    `handoff_tools` maps a role to the names of the tools that hand off to it."""
    if problem is not None:
        return Verdict(False, problem)
    if turn.error is not None:
        return Verdict(False, f"the turn did not complete: {turn.error}")
    kind = expect.kind
    if kind == "tool":
        return _check_call(expect, [c for c in turn.calls if c.name == expect.tool], turn)
    if kind == "handoff":
        target = str(expect.handoff)
        if target not in turn.roles_entered:
            where = f"moved to {', '.join(turn.roles_entered)}" if turn.roles_entered else "no handoff"
            return Verdict(False, f"{where}; {_calls_summary(turn)}")
        if expect.arguments or expect.patterns:
            tools = (handoff_tools or {}).get(target, set())
            return _check_call(expect, [c for c in turn.calls if c.name in tools], turn)
        return Verdict(True)
    if kind == "no_tool":
        names: set[str] | None = None if expect.no_tool is True else set(expect.no_tool or [])
        called = [c for c in turn.calls if names is None or c.name in names]
        return Verdict(not called, "" if not called else "called " + "; ".join(c.line() for c in called))
    if kind == "reply_contains":
        missing = words_missing(turn.reply, expect.reply_contains or [])
        if missing:
            return Verdict(False, f"missing {', '.join(repr(w) for w in missing)}; {_reply_shown(turn)}")
        return Verdict(True)
    if kind == "reply_excludes":
        present = words_present(turn.reply, expect.reply_excludes or [])
        if present:
            return Verdict(False, f"said {', '.join(repr(w) for w in present)}; {_reply_shown(turn)}")
        return Verdict(True)
    assert kind == "max_turns" and expect.max_turns is not None
    if turn.responses > expect.max_turns:
        return Verdict(False, f"{turn.responses} model turns; {_calls_summary(turn)}")
    return Verdict(True)


def _check_call(expect: Expect, candidates: list[CallOutcome], turn: TurnOutcome) -> Verdict:
    if not candidates:
        return Verdict(False, f"not called; {_calls_summary(turn)}; {_reply_shown(turn)}")
    reasons: list[str] = []
    for call in candidates:
        problems = argument_problems(call.arguments, expect.arguments, expect.patterns)
        if call.is_error:
            problems.append(f"the call failed: {call.output}")
        elif call.delivered is False:
            problems.append("its result never reached the model")
        if not problems:
            return Verdict(True)
        reasons.append(f"{call.name} {shown(call.arguments)}: " + "; ".join(problems))
    return Verdict(False, " | ".join(reasons))
