"""Tools that run beside the conversation (`mode: background`, `progress:`), on livekit-agents' own machinery.

What livekit-agents 1.8.9 gives (`voice/tool_executor.py`, `llm/async_toolset.py`, `RunContext.update`):
a tool's first `update(message)` answers the model's call at once with that message, so the agent goes
on (it speaks about it, or stays quiet with `silent=True`); later updates, and the tool's eventual return
or error, are added to the conversation as calls of their own (`<call_id>_update_N`, `<call_id>_final`)
and the agent answers them once it is idle. Tools in an `AsyncToolset` given to the `AgentSession` keep
running through a handoff, and their results reach whichever agent is speaking then.

What RoleCall adds: the role file's switches; one session-scoped toolset (`BackgroundTools`) whose tools
are the active role's, so a background result survives a handoff; the progress message after
`after_ms`, and updates the tool sends (`worker.tools.progress`), both asked for in the author's exact
words; the wording of what the model is told. The guard (`worker.tools.guard`) drives it and keeps the
report and the page's tool activity.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import RunContext
from livekit.agents.llm import Tool, Toolset
from livekit.agents.llm.async_toolset import AsyncToolset
from livekit.agents.voice.tool_executor import AsyncToolOptions

from worker.protocol import SAY_EXACTLY

logger = logging.getLogger("rolecall.tools")

STARTED = (
    "{function_name} is running in the background (call {call_id}); its answer will be added to the "
    "conversation when it is ready. Carry on with the user meanwhile, and do not call it again for this."
)
"""The model's answer to a background call, at once (silent: the agent says nothing about it)."""
PROGRESS = "{function_name} has not answered yet and is still running. " + SAY_EXACTLY + " {message}"
"""A progress message: the role's `say`, or an update the tool sent; the model is asked for those words."""
OPTIONS: AsyncToolOptions = {
    "reply_at_tail_template": (
        "News from a tool that is running, or has just answered (call ids {call_ids}): do what its newest "
        "output says. Do not repeat what you have already told the user."
    ),
    "reply_maybe_covered_template": (
        "News from a tool that is running, or has just answered (call ids {call_ids}). If you have already "
        "told the user all of it, say nothing; otherwise do what its newest output says, with a natural "
        "transition, without repeating yourself."
    ),
}
"""How the agent is asked to answer what arrives later (livekit-agents' defaults speak of 'results')."""


def runs_beside(spec: Any) -> bool:
    """Whether a tool spec runs beside the conversation (background, or released after `progress`)."""
    return getattr(spec, "mode", "foreground") == "background" or getattr(spec, "progress", None) is not None


@dataclass
class RunningCall:
    """One tool call in flight."""

    name: str
    call_id: str
    task: asyncio.Task[Any] | None
    started: float
    replaced: bool = False
    """Cancelled by a newer call of the same tool (`duplicate: replace`)."""


@dataclass
class RunningCalls:
    """The session's tool calls in flight, by tool name (for the duplicate policy)."""

    calls: list[RunningCall] = field(default_factory=list)

    def of(self, name: str) -> list[RunningCall]:
        """The calls of tool `name` running now."""
        return [c for c in self.calls if c.name == name]

    def cancel_all(self) -> None:
        """The session is over: stop whatever still runs."""
        for running in self.calls:
            if running.task is not None and running.task is not asyncio.current_task():
                running.task.cancel()


class BackgroundTools(AsyncToolset):
    """The session's tools that run beside the conversation, session-scoped (given to the `AgentSession`)
    so that a result survives a handoff; its tools are the active role's (`use`)."""

    def __init__(self, running: RunningCalls) -> None:
        self._current: list[Tool | Toolset] = []
        self._running = running
        super().__init__(id="rolecall.background", tool_handling={"async_options": OPTIONS})

    @property
    def tools(self) -> Sequence[Tool | Toolset]:
        """The active role's tools that run beside the conversation."""
        return list(self._current)

    def use(self, tools: Sequence[Tool | Toolset]) -> None:
        """The role changed (start, handoff, live reload): offer its tools (the caller updates the agent)."""
        self._current = list(tools)

    async def aclose(self) -> None:
        """At the session's end: cancel what still runs, rather than wait up to its timeout."""
        self._running.cancel_all()
        await super().aclose()


class Beside:
    """One call's life beside the conversation: the immediate answer of a background call, the progress
    message once `after_ms` has passed, and the updates the tool sends."""

    def __init__(
        self,
        spec: Any,
        context: RunContext[Any] | None,
        on_progress: Callable[[str], None],
    ) -> None:
        self.spec = spec
        self.context = context
        self.on_progress = on_progress
        self._timer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Release a background call at once; time the progress message."""
        progress = self.spec.progress
        if self.spec.mode == "background" and not (progress is not None and progress.after_ms == 0):
            await self._update("", STARTED, silent=True)
        if progress is not None:
            self._timer = asyncio.get_running_loop().create_task(self._after(progress.after_ms, progress.say))

    async def say(self, message: str) -> None:
        """An update the tool sent (`progress.updates`): the agent says it."""
        await self._update(message, PROGRESS)
        self.on_progress(message)

    def stop(self) -> None:
        """The call is over (answered, failed or cancelled): no progress message after that."""
        if self._timer is not None:
            self._timer.cancel()

    async def _after(self, after_ms: int, message: str) -> None:
        await asyncio.sleep(after_ms / 1000)
        await self.say(message)

    async def _update(self, message: str, template: str, *, silent: bool = False) -> None:
        if self.context is None:  # outside a session (unit tests): nothing to tell the model
            return
        with contextlib.suppress(RuntimeError):  # the session is closing
            await self.context.update(message, template=template, silent=silent)
