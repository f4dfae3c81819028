"""Command mode: user text messages that script the model directly, for people building UIs.

    /call NAME {"json": "arguments"}   the model calls tool NAME with these arguments
    /say TEXT                          the model says TEXT

Any other text (including other words starting with `/`) is an ordinary user message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CALL_USAGE = 'usage: /call NAME {"arg": "value"}'


@dataclass(frozen=True)
class CallCommand:
    """`/call NAME {json}`: `arguments` is the JSON object as compact text."""

    name: str
    arguments: str


@dataclass(frozen=True)
class SayCommand:
    """`/say TEXT`."""

    text: str


@dataclass(frozen=True)
class CommandError:
    """A command that could not be parsed; the model says `message` instead."""

    message: str


Command = CallCommand | SayCommand | CommandError


def parse_command(text: str) -> Command | None:
    """Parse a user message; None when it is not a command."""
    stripped = text.strip()
    word, _, rest = stripped.partition(" ")
    rest = rest.strip()
    if word == "/say":
        return SayCommand(rest) if rest else CommandError("usage: /say TEXT")
    if word != "/call":
        return None
    name, _, raw_args = rest.partition(" ")
    if not name:
        return CommandError(CALL_USAGE)
    if not _TOOL_NAME.match(name):
        return CommandError(f"invalid tool name {name[:80]!r}: use letters, digits, _ and - (at most 64)")
    raw_args = raw_args.strip() or "{}"
    try:
        arguments = json.loads(raw_args)
    except json.JSONDecodeError as exc:
        return CommandError(f"the arguments of /call {name} are not valid JSON: {exc.msg} ({CALL_USAGE})")
    if not isinstance(arguments, dict):
        return CommandError(f"the arguments of /call {name} must be a JSON object ({CALL_USAGE})")
    return CallCommand(name, json.dumps(arguments, separators=(",", ":"), ensure_ascii=False))
