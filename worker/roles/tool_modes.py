"""How a tool runs beside the conversation: in the foreground or the background, what the agent says
while it runs, what a second call does while one is running, and what the page is shown.

These fields sit on every tool kind (`worker.roles.tool_specs`); `check_tool_modes` refuses the
combinations that cannot work (a handoff or a built-in in the background).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from worker.protocol import ToolMode
from worker.roles._base import FileModel

__all__ = ["FOREGROUND_ONLY", "Duplicate", "Progress", "ToolMode", "check_tool_modes"]
Duplicate = Literal["allow", "reject", "replace"]
"""A call while one of the same tool is running: `allow` runs both; `reject` refuses the new one (the
model is told the first is still running); `replace` cancels the running one (background tools only)."""
FOREGROUND_ONLY = ("handoff", "builtin")
"""Kinds that change the session itself, so they cannot run beside the conversation."""


class Progress(FileModel):
    """What the agent says while a tool runs."""

    after_ms: int = Field(2000, ge=0, le=60000)
    """Say `say` once the tool has run this long without answering (0: as soon as it starts). A
    foreground tool is released then: the conversation goes on and its answer follows as a
    background tool's would."""
    say: str = Field(min_length=1, max_length=300)
    """The words, e.g. Still looking, this takes a few seconds."""
    updates: bool = False
    """Also say the updates the tool sends while it runs (http: `application/x-ndjson` lines
    `{"progress": "..."}` before the result)."""


def check_tool_modes(kind: str, mode: ToolMode, progress: Progress | None, duplicate: Duplicate) -> None:
    """ValueError naming the problem when these settings cannot work together for a tool of `kind`."""
    if kind in FOREGROUND_ONLY and mode == "background":
        raise ValueError(f"a {kind} tool changes the session itself and runs in the foreground only")
    if kind in FOREGROUND_ONLY and progress is not None:
        raise ValueError(f"a {kind} tool answers at once; progress is for tools that take a while")
    if kind != "http" and progress is not None and progress.updates:
        raise ValueError(
            f"progress.updates: only http tools send updates (NDJSON lines); a {kind} tool answers once"
        )
    if duplicate == "replace" and mode != "background":
        raise ValueError(
            "duplicate: replace needs mode: background (a foreground call holds the turn until it answers)"
        )
