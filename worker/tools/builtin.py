"""`builtin` tools: the few shipped with the worker. Today one, `end_session`."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from livekit.agents import RunContext

from worker.roles import BuiltinTool, Role
from worker.tools.guard import Runner

if TYPE_CHECKING:
    from worker.session.context import SessionContext

logger = logging.getLogger("rolecall.tools")

GOODBYE_PLAYOUT_TIMEOUT_S = 30.0
"""How long the goodbye may take to be heard before the session ends anyway."""
GOODBYE_TAIL_S = 0.2
"""A moment after the goodbye's last audio, so its end is not clipped."""


def runner(spec: BuiltinTool, role: Role, ctx: SessionContext) -> Runner:
    """The runner of the built-in `spec.builtin`."""
    implementation = BUILTINS[spec.builtin]

    async def run(args: dict[str, Any], run_ctx: RunContext[Any]) -> str:
        return implementation(run_ctx, ctx)

    return run


def end_session(run_ctx: RunContext[Any], ctx: SessionContext) -> str:
    """Let the model say goodbye, then close the session once it has been heard (`end_reason:
    end_session`).

    With OpenAI Realtime the reply to a tool's output plays within the speech that called the tool;
    should the goodbye come as a speech of its own, that one is awaited too.
    """
    reply = json.dumps(
        {"ending": True, "instruction": "Say a short, warm goodbye now. The call ends after it."}
    )
    if not ctx.lifecycle.claim("end_session"):
        return reply  # already ending (a limit, the user gone): that end goes on
    session = run_ctx.session
    later: list[Any] = []

    def on_speech(ev: Any) -> None:
        later.append(ev.speech_handle)

    session.on("speech_created", on_speech)

    async def close_after_goodbye() -> None:
        try:
            await asyncio.wait_for(run_ctx.speech_handle.wait_for_playout(), GOODBYE_PLAYOUT_TIMEOUT_S)
            await asyncio.sleep(GOODBYE_TAIL_S)
            for handle in list(later):
                await asyncio.wait_for(handle.wait_for_playout(), GOODBYE_PLAYOUT_TIMEOUT_S)
        except TimeoutError:
            logger.warning(
                "the goodbye did not finish in time; ending the session anyway", extra=ctx.log_extra
            )
        finally:
            session.off("speech_created", on_speech)
            ctx.lifecycle.stop(drain=True)

    ctx.lifecycle.spawn(close_after_goodbye(), name="rolecall.end_session")
    return reply


BUILTINS: dict[str, Callable[[RunContext[Any], SessionContext], str]] = {"end_session": end_session}
"""Every built-in, by the name a role gives in `builtin:`."""
