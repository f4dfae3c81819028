"""The one wrapper every tool call goes through, whatever the tool's kind.

In order: the per-turn limit (`limits.max_tool_calls_per_turn`), the arguments checked against the
tool's JSON Schema (livekit-agents does not check raw-schema tools), the tool's timeout, one record in
the session report, and every failure turned into a `ToolError` whose text the model can speak about
(a short reason, then the role's `error_message`). Nothing a tool does can end the session by raising.

A kind's runner (`worker.tools.kinds`) gets validated arguments and returns what the model sees (JSON
text), or an `Outcome` when the report should say something else; it raises `ToolFailure` with a short
reason when the tool did not work.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livekit.agents import RunContext, function_tool
from livekit.agents.llm import RawFunctionTool, ToolError

from worker.errors import RoleCallError
from worker.roles import Role
from worker.roles.tool_specs import RoleTool
from worker.tools.arguments import ArgumentValidator

if TYPE_CHECKING:
    from worker.session.context import SessionContext

logger = logging.getLogger("rolecall.tools")

AnyTool = RoleTool
TIMEOUT_MARGIN_S = 1.0
"""Beyond its own `timeout_s` (which the kind enforces and explains), how long a call may run before
the guard gives up on it."""


class ToolFailure(RoleCallError):
    """A tool ran and did not work; the text is a short reason, for the model and the report."""


@dataclass(frozen=True)
class Outcome:
    """What a runner returns when the report's detail differs from what the model is handed."""

    output: Any
    """For livekit-agents: JSON text, or (Agent, text) to hand the session to another agent."""
    detail: str
    """For the session report."""


Runner = Callable[[dict[str, Any], RunContext[Any]], Awaitable[Any]]


class TurnCounter:
    """Tool calls in the current agent turn; the conversation resets it when the user speaks."""

    def __init__(self) -> None:
        self.calls = 0

    def next(self) -> int:
        """Count one more call; its number in this turn."""
        self.calls += 1
        return self.calls

    def reset(self) -> None:
        """A new turn begins."""
        self.calls = 0


def guarded(spec: AnyTool, role: Role, ctx: SessionContext, run: Runner) -> RawFunctionTool[Any, Any]:
    """The livekit-agents function tool for `spec`, running `run` inside the guard."""
    validator = ArgumentValidator(spec.name, spec.parameters)
    schema = {"name": spec.name, "description": spec.description, "parameters": spec.parameters}
    limit = role.limits.max_tool_calls_per_turn

    async def call(raw_arguments: dict[str, object], context: RunContext[Any]) -> Any:
        started = time.perf_counter()
        try:
            if ctx.tools.turns.next() > limit:
                raise ToolError(
                    f"too many tool calls in one turn (limit {limit}); "
                    "answer the user without calling more tools"
                )
            args = validator.check(raw_arguments)
        except ToolError as exc:
            ctx.record.add_tool_call(
                name=spec.name,
                kind=spec.kind,
                arguments=raw_arguments,
                ok=False,
                detail=exc.message,
                started=started,
            )
            logger.info("tool %s refused: %s", spec.name, exc.message, extra=ctx.log_extra)
            raise
        try:
            result = await asyncio.wait_for(run(args, context), timeout=spec.timeout_s + TIMEOUT_MARGIN_S)
        except ToolFailure as exc:
            raise _failed(spec, ctx, args, str(exc), started) from None
        except TimeoutError:
            raise _failed(spec, ctx, args, f"no answer within {spec.timeout_s:g} s", started) from None
        except ToolError:
            raise
        except Exception as exc:  # a bug of ours must not end the session: log it, tell the model
            logger.exception("tool %s crashed", spec.name, extra=ctx.log_extra)
            raise _failed(spec, ctx, args, f"internal error ({type(exc).__name__})", started) from None
        output, detail = (
            (result.output, result.detail) if isinstance(result, Outcome) else (result, str(result))
        )
        ctx.record.add_tool_call(
            name=spec.name, kind=spec.kind, arguments=args, ok=True, detail=detail, started=started
        )
        return output

    return function_tool(call, raw_schema=schema)


def _failed(
    spec: AnyTool, ctx: SessionContext, args: dict[str, Any], reason: str, started: float
) -> ToolError:
    ctx.record.add_tool_call(
        name=spec.name, kind=spec.kind, arguments=args, ok=False, detail=reason, started=started
    )
    logger.warning("tool %s failed: %s", spec.name, reason, extra=ctx.log_extra)
    return ToolError(f"{spec.name} failed: {reason}. {spec.error_message}")
