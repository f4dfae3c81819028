"""Turn a role's tools into livekit-agents function tools, one small runner per kind.

Every call goes through the same guard: the per-turn limit, argument validation against the tool's
JSON Schema, timing, the session record, and the translation of any failure into a `ToolError` whose
text the model can speak about (the role's `error_message` plus a short reason). Nothing a tool does
can end the session by raising.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from livekit.agents import RunContext, function_tool
from livekit.agents.llm import RawFunctionTool, ToolError

from worker.roles import BuiltinTool, FrontendTool, HandoffTool, HttpTool, Role
from worker.tools.arguments import ArgumentValidator
from worker.tools.egress import EgressPolicy
from worker.tools.frontend import FrontendCallError
from worker.tools.http import CallContext, HttpTarget, HttpToolError, post_json

if TYPE_CHECKING:
    from worker.runtime import SessionRuntime

logger = logging.getLogger("rolecall.tools")

AnyTool = FrontendTool | HttpTool | HandoffTool | BuiltinTool
# A runner gets validated arguments and returns what the model should see (JSON text), or an Agent
# (handoff). It raises ToolFailure with a short reason when the tool did not work.
Runner = Callable[[dict[str, Any], RunContext[Any]], Awaitable[Any]]


class ToolFailure(Exception):
    """A tool ran and failed; the text is a short reason for the model and the record."""


def build_tools(
    role: Role, rt: SessionRuntime, *, handoff: Callable[[HandoffTool, dict[str, Any]], Any]
) -> list[Any]:
    """The function tools the model is offered for `role` in this session.

    Frontend tools the page did not declare in discovery are left out (and logged once by the caller).
    """
    offered_frontend = rt.frontend_methods_offered(role)
    tools: list[Any] = []
    for spec in role.tools:
        if isinstance(spec, FrontendTool) and spec.name not in offered_frontend:
            continue
        tools.append(_function_tool(spec, role, rt, _runner(spec, role, rt, handoff)))
    return tools


def _runner(spec: AnyTool, role: Role, rt: SessionRuntime, handoff: Callable[..., Any]) -> Runner:
    if isinstance(spec, FrontendTool):

        async def run_frontend(args: dict[str, Any], _: RunContext[Any]) -> str:
            try:
                return await rt.bridge.call(spec.method, args, timeout_s=spec.timeout_s)
            except FrontendCallError as exc:
                raise ToolFailure(exc.reason) from None

        return run_frontend

    if isinstance(spec, HttpTool):
        target = HttpTarget(
            tool_name=spec.name,
            url=rt.settings.http_tool_url(spec.url),
            timeout_s=spec.timeout_s,
            max_response_bytes=spec.max_response_bytes,
            secret_env=spec.secret_env,
            headers=spec.headers,
            allowed_hosts=frozenset(spec.allowed_hosts) if spec.allowed_hosts is not None else None,
            deployment_hosts=rt.settings.allowed_http_hosts(),
            env_policy=rt.settings.role_policy(),
            egress=EgressPolicy.from_settings(rt.settings),
        )

        async def run_http(args: dict[str, Any], _: RunContext[Any]) -> str:
            ctx = CallContext(
                room=rt.room_name, session_id=rt.session_id, participant=rt.participant, role=role.name
            )
            try:
                return await post_json(rt.http, target, args, ctx)
            except HttpToolError as exc:
                raise ToolFailure(str(exc)) from None

        return run_http

    if isinstance(spec, HandoffTool):

        async def run_handoff(args: dict[str, Any], _: RunContext[Any]) -> Any:
            return await handoff(spec, args)

        return run_handoff

    async def run_builtin(args: dict[str, Any], ctx: RunContext[Any]) -> str:
        assert spec.builtin == "end_session"
        return end_session(ctx, rt)

    return run_builtin


def _function_tool(spec: AnyTool, role: Role, rt: SessionRuntime, run: Runner) -> RawFunctionTool[Any, Any]:
    validator = ArgumentValidator(spec.name, spec.parameters)
    schema = {"name": spec.name, "description": spec.description, "parameters": spec.parameters}

    async def call(raw_arguments: dict[str, object], context: RunContext[Any]) -> Any:
        started = time.perf_counter()
        rt.tool_calls_this_turn += 1
        try:
            if rt.tool_calls_this_turn > role.limits.max_tool_calls_per_turn:
                raise ToolError(
                    f"too many tool calls in one turn (limit {role.limits.max_tool_calls_per_turn}); "
                    "answer the user without calling more tools"
                )
            args = validator.check(raw_arguments)
        except ToolError as exc:
            rt.record.add_tool_call(
                name=spec.name,
                kind=spec.kind,
                arguments=raw_arguments,
                ok=False,
                detail=exc.message,
                started=started,
            )
            logger.info("tool %s refused: %s", spec.name, exc.message, extra=rt.log_extra)
            raise
        try:
            result = await asyncio.wait_for(run(args, context), timeout=spec.timeout_s + 1.0)
        except ToolFailure as exc:
            return _failed(spec, rt, args, str(exc), started)
        except TimeoutError:
            return _failed(spec, rt, args, f"no answer within {spec.timeout_s:g} s", started)
        except ToolError:
            raise
        except Exception as exc:  # a bug of ours must not end the session: log it, tell the model
            logger.exception("tool %s crashed", spec.name, extra=rt.log_extra)
            return _failed(spec, rt, args, f"internal error ({type(exc).__name__})", started)
        detail = f"handoff to {spec.target}" if isinstance(spec, HandoffTool) else str(result)
        rt.record.add_tool_call(
            name=spec.name, kind=spec.kind, arguments=args, ok=True, detail=detail, started=started
        )
        return result

    return function_tool(call, raw_schema=schema)


def _failed(spec: AnyTool, rt: SessionRuntime, args: dict[str, Any], reason: str, started: float) -> Any:
    rt.record.add_tool_call(
        name=spec.name, kind=spec.kind, arguments=args, ok=False, detail=reason, started=started
    )
    logger.warning("tool %s failed: %s", spec.name, reason, extra=rt.log_extra)
    raise ToolError(f"{spec.name} failed: {reason}. {spec.error_message}")


def end_session(ctx: RunContext[Any], rt: SessionRuntime) -> str:
    """Built-in `end_session`: let the model say goodbye, then close the session once it has been heard.

    With OpenAI Realtime the reply to a tool's output plays within the speech that called the tool;
    should the goodbye come as a speech of its own, that one is awaited too.
    """
    session = ctx.session
    rt.ending = "end_session"
    loop = asyncio.get_running_loop()
    later: list[Any] = []

    def on_speech(ev: Any) -> None:
        later.append(ev.speech_handle)

    session.on("speech_created", on_speech)

    async def close_after_goodbye() -> None:
        try:
            await asyncio.wait_for(ctx.speech_handle.wait_for_playout(), timeout=30.0)
            await asyncio.sleep(0.2)
            for handle in list(later):
                await asyncio.wait_for(handle.wait_for_playout(), timeout=30.0)
        except TimeoutError:
            logger.warning(
                "the goodbye did not finish in time; ending the session anyway", extra=rt.log_extra
            )
        finally:
            session.off("speech_created", on_speech)
            session.shutdown(drain=True)

    task = loop.create_task(close_after_goodbye())
    rt.background.add(task)
    task.add_done_callback(rt.background.discard)
    return json.dumps(
        {"ending": True, "instruction": "Say a short, warm goodbye now. The call ends after it."}
    )
