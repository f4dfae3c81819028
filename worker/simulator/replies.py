"""What the simulated model answers: commands first, then the scenario, then a deterministic default.

A `Planner` lives for one connection. The session asks it for a `Reply` each time a response
starts, telling it what triggered the response: new user words, tool outputs, or nothing new.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from worker.simulator.commands import CallCommand, CommandError, SayCommand, parse_command
from worker.simulator.scenario import Scenario, Step, ToolCallSpec, Turn

DEFAULT_GREETING = "Hello! This is the RoleCall simulator. How can I help you?"
_VERBATIM = re.compile(r"\bsay exactly(?: this)?(?:, and nothing else)?:\s*(\S.*)", re.IGNORECASE | re.DOTALL)
"""Per-response instructions that ask for exact words (RoleCall's `greeting: {say: ...}` does)."""
_FIELD = re.compile(r"\{(\w+)\}")
"""`{field}` in an event turn's `say`: the event payload's field."""


@dataclass(frozen=True)
class ToolCall:
    """A function call the model makes; `arguments` is JSON text."""

    name: str
    arguments: str


@dataclass(frozen=True)
class Reply:
    """One response: an optional spoken/written message, then zero or more tool calls."""

    say: str | None = None
    calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class ToolOutput:
    """A `function_call_output` item with the name of the call it answers (when known)."""

    name: str
    output: str


def default_reply(text: str) -> str:
    """The deterministic answer to user words when nothing scripts one."""
    words = " ".join(text.split())
    if not words:
        return "I'm listening."
    return f"You said: {words}"


def _from_step(step: Step) -> Reply:
    calls = tuple(
        ToolCall(c.name, json.dumps(c.arguments, separators=(",", ":"), ensure_ascii=False))
        for c in step.calls
    )
    return Reply(step.say, calls)


def _summary(outputs: list[ToolOutput]) -> str:
    parts = []
    for o in outputs:
        text = " ".join(o.output.split())
        parts.append(f"{o.name} returned {text[:200]}{'…' if len(text) > 200 else ''}")
    return "Done. " + "; ".join(parts) + "." if parts else "Done."


@dataclass
class Planner:
    """Decides each reply of one connection; keeps the scenario's position and pending steps."""

    scenario: Scenario | None = None
    _next_ordered: int = 0
    _pending_steps: deque[Step] = field(default_factory=deque)
    _reserved: dict[str, Turn] = field(default_factory=dict)
    _events_used: set[int] = field(default_factory=set)

    def transcript_for_audio(self, item_id: str, duration_ms: int) -> str:
        """The transcript of a committed audio turn: the next ordered scenario turn's, else a placeholder.

        The turn chosen here also answers that item (an audio turn and its reply go together).
        """
        turn = self._take_ordered()
        if turn is not None:
            self._reserved[item_id] = turn
            if turn.transcript is not None:
                return turn.transcript
        return f"(audio, {duration_ms / 1000:.1f} s)"

    def for_user(
        self, item_id: str, text: str, tools: list[str] | None, *, tools_allowed: bool = True
    ) -> Reply:
        """The reply to a user message (`text`: its words or audio transcript).

        `tools`: the tools the session offers (a call to another is refused in words), or None when the
        simulated model cannot know them (GPT-Live's client delegation: the application decides)."""
        self._pending_steps.clear()
        command = parse_command(text)
        if isinstance(command, SayCommand):
            return Reply(command.text)
        if isinstance(command, CommandError):
            return Reply(f"Command error: {command.message}")
        if isinstance(command, CallCommand):
            return self._checked(
                Reply(None, (ToolCall(command.name, command.arguments),)), tools, tools_allowed
            )
        turn = self._reserved.pop(item_id, None) or self._match(text) or self._take_ordered()
        if turn is None:
            fallback = self.scenario.fallback if self.scenario else None
            return Reply(fallback.replace("{text}", text) if fallback else default_reply(text))
        self._pending_steps.extend(turn.then)
        return self._checked(_from_step(turn), tools, tools_allowed)

    def after_tools(
        self, outputs: list[ToolOutput], tools: list[str] | None, *, tools_allowed: bool = True
    ) -> Reply:
        """The reply once tool outputs arrived: the scenario's next `then` step, else a summary.

        Outputs that only ask for exact words (a tool's progress: "still running; say exactly ...") get
        those words, and the scenario waits for the tool's real answer."""
        asked = [_VERBATIM.search(o.output) for o in outputs]
        if asked and all(asked):
            return Reply(" ".join(m.group(1).strip() for m in asked if m is not None))
        if self._pending_steps:
            return self._checked(_from_step(self._pending_steps.popleft()), tools, tools_allowed)
        return Reply(_summary(outputs))

    def for_event(self, name: str, payload: Any, tools: list[str], *, tools_allowed: bool = True) -> Reply:
        """The reply to a UI event the worker put in the conversation: the scenario's `event` turn for
        it (`{field}` filled from the payload; several for one event are used in order, the last one
        again after that), else a deterministic note."""
        turns = (
            [i for i, t in enumerate(self.scenario.turns) if t.answers_event(name)] if self.scenario else []
        )
        index = next((i for i in turns if i not in self._events_used), turns[-1] if turns else None)
        turn = self.scenario.turns[index] if self.scenario is not None and index is not None else None
        if index is not None:
            self._events_used.add(index)
        fields = payload if isinstance(payload, dict) else {}
        if turn is None:
            shown = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
            return Reply(f"I see you did {name} on screen: {shown}.")
        self._pending_steps.clear()
        self._pending_steps.extend(turn.then)
        step = _from_step(turn)
        say = _FIELD.sub(lambda m: str(fields.get(m.group(1), m.group(0))), step.say) if step.say else None
        return self._checked(Reply(say, step.calls), tools, tools_allowed)

    def without_input(self, instructions: str = "") -> Reply:
        """The reply to a response with nothing new from the user (a greeting, usually).

        The scenario's greeting when it has one; else the words the response's own instructions ask
        for verbatim ("Say exactly: ...", as a real model would comply); else a default greeting.
        """
        greeting = self.scenario.greeting if self.scenario else None
        if greeting:
            return Reply(greeting)
        verbatim = _VERBATIM.search(instructions)
        if verbatim:
            return Reply(verbatim.group(1).strip().strip('"'))
        return Reply(DEFAULT_GREETING)

    def one_call(self, reply: Reply) -> Reply:
        """Without parallel tool calls: the reply's first call now, each other one in a response of its own
        once the previous call's output is in (before the scenario's `then` steps)."""
        if len(reply.calls) <= 1:
            return reply
        rest = [
            Step(calls=(ToolCallSpec(name=c.name, arguments=json.loads(c.arguments)),))
            for c in reply.calls[1:]
        ]
        self._pending_steps.extendleft(reversed(rest))
        return Reply(reply.say, reply.calls[:1])

    def out_of_band(self, metadata: object) -> Reply | None:
        """The scenario's reply to an out-of-band response with this `metadata`, if it scripts one."""
        scripted = self.scenario.out_of_band if self.scenario else ()
        found = next((o for o in scripted if o.matches(metadata)), None)
        return Reply(found.text) if found is not None else None

    def _match(self, text: str) -> Turn | None:
        if self.scenario is None:
            return None
        return next((t for t in self.scenario.turns if t.matches(text)), None)

    def _take_ordered(self) -> Turn | None:
        if self.scenario is None:
            return None
        ordered = [t for t in self.scenario.turns if t.match is None and t.event is None]
        if self._next_ordered >= len(ordered):
            return None
        self._next_ordered += 1
        return ordered[self._next_ordered - 1]

    @staticmethod
    def _checked(reply: Reply, tools: list[str] | None, tools_allowed: bool) -> Reply:
        """Refuse calls to tools the session does not have, in words the model would say."""
        if not reply.calls or tools is None:
            return reply
        if not tools_allowed:
            names = ", ".join(c.name for c in reply.calls)
            return Reply(reply.say or f"I would call {names}, but tools are disabled for this response.")
        missing = [c.name for c in reply.calls if c.name not in tools]
        if missing:
            available = ", ".join(tools) if tools else "none"
            problem = (
                f"I can't call {', '.join(missing)}: this session has no such tool (tools: {available})."
            )
            return Reply(f"{reply.say} {problem}" if reply.say else problem)
        return reply
