"""How a running tool reports progress: `await progress.report("Found 12 recipes, picking three")`.

A kind's runner calls `report` while its tool works (the http kind does, for each
`{"progress": "..."}` line its backend streams). The guard decides what happens: with the tool's
`progress.updates: true` the agent says the update and the page is told; otherwise nothing does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Sink = Callable[[str], Awaitable[None]]
"""Takes one update."""

MAX_UPDATE_CHARS = 300
"""An update longer than this is cut (the agent says it out loud)."""

_sink: ContextVar[Sink | None] = ContextVar("rolecall_tool_progress", default=None)


def accepts_updates() -> bool:
    """Whether the tool running here has its updates said (`progress.updates: true`)."""
    return _sink.get() is not None


async def report(message: str) -> None:
    """One update from the tool running here (ignored unless its role accepts updates)."""
    sink = _sink.get()
    text = " ".join(message.split())[:MAX_UPDATE_CHARS]
    if sink is not None and text:
        await sink(text)


@contextmanager
def reporting(sink: Sink | None) -> Iterator[None]:
    """Within this block (and the tasks it starts), `report` goes to `sink`."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)
