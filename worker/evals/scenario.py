"""Offline runs: a simulator scenario that acts out what the eval expects, and the static checks.

Walking a conversation, the builder follows the role the session should be in (the starting role,
then each expected handoff's target). For every user turn it scripts one simulator turn: the
expected tool calls (arguments: `example` then `arguments`; the regex-checked ones need an example),
then the expected handoff, then a reply holding the `reply_contains` words (for a UI event turn, an
`event` turn of the simulator: it answers that event). An expectation that names
a tool the active role lacks, a role that does not exist, or a handoff the role cannot make gets a
problem instead (reported as a failure naming what exists); the rest of the conversation still runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from worker.evals.matching import words_present
from worker.evals.model import Conversation, Expect
from worker.roles import HandoffTool, Role, RoleError, RoleRegistry, UnknownRoleError
from worker.simulator import Scenario
from worker.simulator.scenario import Step, ToolCallSpec
from worker.simulator.scenario import Turn as SimTurn
from worker.yamlfile import did_you_mean

_PLAIN_REPLIES = ("Sure.", "Okay.", "Right.", "Got it.", "Understood.")


@dataclass
class Plan:
    """The scenario for one conversation, and why some expectations cannot pass."""

    scenario: Scenario
    problems: dict[tuple[int, int], str] = field(default_factory=dict)
    """(turn index, expectation index) -> the reason it fails before anything runs."""
    roles: list[str] = field(default_factory=list)
    """The role the session should be in at the start of each turn."""


def static_problems(
    conversation: Conversation, start: Role, registry: RoleRegistry
) -> tuple[dict[tuple[int, int], str], list[str]]:
    """Problems of expectations that name what does not exist, and the expected role of each turn."""
    problems: dict[tuple[int, int], str] = {}
    roles: list[str] = []
    role = start
    for ti, turn in enumerate(conversation.turns):
        roles.append(role.name)
        next_role = role
        for ei, expect in enumerate(turn.expect):
            problem, target = _problem(expect, role, registry)
            if problem is not None:
                problems[(ti, ei)] = problem
            elif target is not None:
                next_role = target
        role = next_role
    return problems, roles


def _problem(expect: Expect, role: Role, registry: RoleRegistry) -> tuple[str | None, Role | None]:
    names = [t.name for t in role.tools]
    if expect.kind == "tool" or (expect.kind == "no_tool" and isinstance(expect.no_tool, list)):
        wanted = [str(expect.tool)] if expect.kind == "tool" else list(expect.no_tool or [])  # type: ignore[arg-type]
        for name in wanted:
            if name not in names:
                hint = did_you_mean(str(name), names)
                return (
                    f"role {role.name} has no tool {name!r}{' (' + hint + ')' if hint else ''}; "
                    f"its tools: {', '.join(names) or '(none)'}",
                    None,
                )
        return None, None
    if expect.kind != "handoff":
        return None, None
    target_name = str(expect.handoff)
    try:
        target = registry.get(target_name)
    except UnknownRoleError:
        return f"unknown role {target_name!r}; roles: {', '.join(registry.names())}", None
    except RoleError as exc:
        return f"role {target_name!r} cannot be used: {exc.message}", None
    handoffs = [t for t in role.tools if isinstance(t, HandoffTool)]
    if not any(t.target == target_name for t in handoffs):
        listed = ", ".join(f"{t.name} -> {t.target}" for t in handoffs) or "(none)"
        return f"role {role.name} has no handoff to {target_name}; its handoffs: {listed}", None
    return None, target


def build_plan(
    conversation: Conversation, start: Role, registry: RoleRegistry, *, greeting: str | None
) -> Plan:
    """The scenario acting out `conversation` from role `start`, with the static problems."""
    problems, roles = static_problems(conversation, start, registry)
    turns: list[SimTurn] = []
    for ti, turn in enumerate(conversation.turns):
        role = registry.get(roles[ti])
        calls: list[ToolCallSpec] = []
        handoff: ToolCallSpec | None = None
        contains: list[str] = []
        excludes: list[str] = []
        for ei, expect in enumerate(turn.expect):
            if (ti, ei) in problems:
                continue
            if expect.kind == "tool" and expect.tool is not None:
                calls.append(ToolCallSpec(name=expect.tool, arguments=_arguments(expect)))
            elif expect.kind == "handoff":
                handoff = _handoff_call(expect, role, turn.user or turn.transcript or "")
            elif expect.kind == "reply_contains":
                contains += expect.reply_contains or []
            elif expect.kind == "reply_excludes":
                excludes += expect.reply_excludes or []
        if handoff is not None:
            calls.append(handoff)
        say = _reply(contains, excludes)
        event = re.escape(turn.event.name) if turn.event is not None else None  # answers that event
        if calls:
            turns.append(
                SimTurn(calls=tuple(calls), transcript=turn.transcript, event=event, then=(Step(say=say),))
            )
        else:
            turns.append(SimTurn(say=say, transcript=turn.transcript, event=event))
    return Plan(Scenario(greeting=greeting or "Hello.", turns=tuple(turns)), problems, roles)


def _arguments(expect: Expect) -> dict[str, Any]:
    return {**(expect.example or {}), **(expect.arguments or {})}


def _handoff_call(expect: Expect, role: Role, said: str) -> ToolCallSpec:
    tool = next(t for t in role.tools if isinstance(t, HandoffTool) and t.target == expect.handoff)
    arguments = _arguments(expect)
    properties = tool.parameters.get("properties", {})
    if not arguments and "summary" in properties:
        arguments = {"summary": f"The user said: {said}" if said else "The user asked for this."}
    return ToolCallSpec(name=tool.name, arguments=arguments)


def _reply(contains: list[str], excludes: list[str]) -> str:
    plain = next((r for r in _PLAIN_REPLIES if not words_present(r, excludes)), "…")
    if not contains:
        return plain
    return f"{plain} {', '.join(w.strip() for w in contains)}."
