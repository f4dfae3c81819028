"""The one wrapper every tool call goes through, whatever the tool's kind.

In order: the per-turn limit (`limits.max_tool_calls_per_turn`), the arguments checked against the
tool's JSON Schema (livekit-agents does not check raw-schema tools), the duplicate policy (`duplicate:`),
the tool's timeout, one record in the session report, and every failure turned into a `ToolError`
whose text the model can speak about (a short reason, then the role's `error_message`). Nothing a tool
does can end the session by raising. The page is told as each call starts, makes progress, answers or
fails (`ToolActivityEvent`); a tool that runs beside the conversation is released, and its progress
spoken, through `worker.tools.background`.

A kind's runner (`worker.tools.kinds`) gets validated arguments and returns what the model sees (JSON
text), or an `Outcome` when the report should say something else; it raises `ToolFailure` with a short
reason when the tool did not work.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livekit.agents import RunContext, function_tool
from livekit.agents.llm import RawFunctionTool, ToolError
from opentelemetry.trace import StatusCode

from worker.errors import RoleCallError
from worker.metrics import TOOL_CALLS, TOOL_SECONDS
from worker.protocol import ToolActivityEvent, ToolStatus
from worker.roles import Role
from worker.roles.tool_specs import RoleTool
from worker.tools import progress
from worker.tools.arguments import ArgumentValidator
from worker.tools.background import Beside, RunningCall
from worker.tracing import tracer

if TYPE_CHECKING:
    from worker.session.context import SessionContext

logger = logging.getLogger("rolecall.tools")

AnyTool = RoleTool
TIMEOUT_MARGIN_S = 1.0
"""Beyond its own `timeout_s` (which the kind enforces and explains), how long a call may run before
the guard gives up on it."""


class _Refused(Exception):
    """Inside the guard: the call was refused before it ran (limit, arguments); carries the ToolError."""

    def __init__(self, error: ToolError) -> None:
        super().__init__(error.message)
        self.error = error


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
    labels = {"role": role.name, "tool": spec.name, "kind": spec.kind}

    async def call(raw_arguments: dict[str, object], context: RunContext[Any]) -> Any:
        started = time.perf_counter()
        outcome = "error"
        with tracer.start_as_current_span(
            "rolecall.tool", attributes={"rolecall.tool.name": spec.name, "rolecall.tool.kind": spec.kind}
        ) as span:
            if ctx.settings.trace_content:
                span.set_attribute("rolecall.tool.arguments", json.dumps(raw_arguments, default=str)[:4096])
            try:
                output = await guard(raw_arguments, context, started)
                outcome = "ok"
                return output
            except _Refused as refused:
                outcome = "refused"
                raise refused.error from None
            finally:
                span.set_attribute("rolecall.tool.outcome", outcome)
                if outcome != "ok":
                    span.set_status(StatusCode.ERROR, outcome)
                TOOL_CALLS.labels(**labels, outcome=outcome).inc()
                TOOL_SECONDS.labels(**labels, outcome=outcome).observe(time.perf_counter() - started)

    async def guard(raw_arguments: dict[str, object], context: RunContext[Any], started: float) -> Any:
        call_id = context.function_call.call_id if context is not None else f"call_{uuid.uuid4().hex[:12]}"
        activity = Activity(spec, ctx, call_id, started)
        try:
            if ctx.tools.turns.next() > limit:
                raise ToolError(
                    f"too many tool calls in one turn (limit {limit}); "
                    "answer the user without calling more tools"
                )
            args = validator.check(raw_arguments)
            _duplicates(spec, ctx)
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
            activity.post("failed")
            raise _Refused(exc) from None
        activity.post("started", arguments=args)
        running = RunningCall(spec.name, call_id, asyncio.current_task(), started)
        ctx.tools.running.calls.append(running)
        beside = Beside(spec, context, lambda message: activity.post("progress", message=message))
        updates = spec.progress is not None and spec.progress.updates
        try:
            await beside.start()
            with progress.reporting(beside.say if updates else None):
                result = await asyncio.wait_for(run(args, context), timeout=spec.timeout_s + TIMEOUT_MARGIN_S)
        except ToolFailure as exc:
            raise _failed(spec, ctx, args, str(exc), activity) from None
        except TimeoutError:
            raise _failed(spec, ctx, args, f"no answer within {spec.timeout_s:g} s", activity) from None
        except ToolError:
            activity.post("failed")
            raise
        except asyncio.CancelledError:  # replaced by a newer call, or the session is over
            why = "replaced by a newer call" if running.replaced else "cancelled"
            _failed(spec, ctx, args, why, activity)
            raise
        except Exception as exc:  # a bug of ours must not end the session: log it, tell the model
            logger.exception("tool %s crashed", spec.name, extra=ctx.log_extra)
            raise _failed(spec, ctx, args, f"internal error ({type(exc).__name__})", activity) from None
        finally:
            beside.stop()
            ctx.tools.running.calls.remove(running)
        output, detail = (
            (result.output, result.detail) if isinstance(result, Outcome) else (result, str(result))
        )
        ctx.record.add_tool_call(
            name=spec.name, kind=spec.kind, arguments=args, ok=True, detail=detail, started=started
        )
        activity.post("done")
        return output

    return function_tool(call, raw_schema=schema)


@dataclass(frozen=True)
class Activity:
    """Tells the page about one call (`ToolActivityEvent`), arguments only where the role allows."""

    spec: AnyTool
    ctx: SessionContext
    call_id: str
    started: float

    def post(self, status: ToolStatus, *, arguments: dict[str, Any] | None = None, message: str = "") -> None:
        """One event of the call, sent in order without waiting."""
        self.ctx.page.post(
            ToolActivityEvent(
                call_id=self.call_id,
                name=self.spec.name,
                kind=self.spec.kind,
                mode=self.spec.mode,
                status=status,
                duration_ms=None
                if status == "started"
                else round((time.perf_counter() - self.started) * 1000, 1),
                message=message or None,
                arguments=arguments if self.spec.show_arguments else None,
            )
        )


def _duplicates(spec: AnyTool, ctx: SessionContext) -> None:
    """Apply `duplicate:` to a new call while calls of the same tool run (ToolError when refused)."""
    running = ctx.tools.running.of(spec.name)
    if not running or spec.duplicate == "allow":
        return
    if spec.duplicate == "reject":
        since = time.perf_counter() - running[0].started
        raise ToolError(
            f"{spec.name} is already running (for {since:.0f} s) and its answer will follow; tell the user "
            "it is still working instead of calling it again"
        )
    for earlier in running:  # replace
        earlier.replaced = True
        if earlier.task is not None:
            earlier.task.cancel()


def _failed(
    spec: AnyTool, ctx: SessionContext, args: dict[str, Any], reason: str, activity: Activity
) -> ToolError:
    ctx.record.add_tool_call(
        name=spec.name, kind=spec.kind, arguments=args, ok=False, detail=reason, started=activity.started
    )
    logger.warning("tool %s failed: %s", spec.name, reason, extra=ctx.log_extra)
    activity.post("failed")
    return ToolError(f"{spec.name} failed: {reason}. {spec.error_message}")
