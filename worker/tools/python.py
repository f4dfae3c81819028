"""`python` tools: an `async def` of the worker's environment, named in the role file.

A team that builds its own worker image writes a tool in its own package, and names it::

    # my_company/voice_tools.py (ROLECALL_PYTHON_TOOL_MODULES=my_company)
    from typing import Literal
    from worker.tools.python import ToolContext, ToolFailure

    async def convert(ctx: ToolContext, amount: float, unit: Literal["g", "oz"]) -> dict[str, float]:
        if amount > 10_000:
            raise ToolFailure("that is more than a kitchen scale weighs")  # the model may say this
        return {"amount": amount / 28.35 if unit == "g" else amount * 28.35}

    # roles/x.yaml
    tools:
      - kind: python
        name: convert
        description: Convert grams and ounces.
        function: my_company.voice_tools:convert

The function gets the arguments the guard validated, converted to its type hints (pydantic), and,
if it asks for one, a `ToolContext`. What it returns is sent to the model as JSON (pydantic models,
dataclasses and dates included). A `ToolFailure` it raises is a failure the model is told about in the
function's own words; any other exception is a bug: logged with its traceback, the model told "internal
error". Timeout, the per-turn limit and the report record are the guard's, as for every tool.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import pydantic_core
from pydantic import ValidationError

from worker.roles import PythonTool, Role
from worker.roles.python_functions import Problem, PythonFunction, load
from worker.tools.guard import Runner, ToolFailure

if TYPE_CHECKING:
    from livekit.agents import RunContext

    from worker.session.context import SessionContext

__all__ = ["ToolContext", "ToolFailure", "runner"]

logger = logging.getLogger("rolecall.tools.python")


@dataclass(frozen=True)
class ToolContext:
    """What a python tool knows about the call it serves (declare a parameter of this type to get it)."""

    session_id: str
    """The session (`<room>:<job id>`), as in the session report."""
    role: str
    """The role whose tool this is."""
    tool: str
    """The tool's name in the role."""
    participant: str
    """The identity of the user the session serves."""
    variables: Mapping[str, Any]
    """The dispatch's template variables (read only)."""
    log: logging.LoggerAdapter[logging.Logger]
    """Logs with the session's fields (room, job, role, participant), under `rolecall.tools.python`."""
    http: aiohttp.ClientSession
    """The session's HTTP client: like http tools, it connects to public addresses only, and to the
    hosts the operator allows (`ROLECALL_HTTP_PRIVATE_HOSTS`)."""


def runner(spec: PythonTool, role: Role, ctx: SessionContext) -> Runner:
    """The runner of one python tool of `role`."""
    policy = ctx.settings.role_policy()

    async def run(args: dict[str, Any], _: RunContext[Any]) -> str:
        module = spec.function.partition(":")[0]
        refused = policy.module_problem(module)  # the loader refused it already; never import it here
        if refused:
            logger.warning("python tool %s refused: %s", spec.name, refused, extra=ctx.log_extra)
            raise ToolFailure(f"the function {spec.function} may not be used on this worker")
        function = load(spec.function)
        if isinstance(function, Problem):
            logger.error("python tool %s: %s", spec.name, function.message, extra=ctx.log_extra)
            raise ToolFailure(f"the function {spec.function} cannot be used: {function.message}")
        kwargs = _arguments(function, args)
        if function.context is not None:
            kwargs[function.context] = _context(spec, role, ctx)
        result = await function.function(**kwargs)
        return _json(result, spec.max_result_bytes)

    return run


def _arguments(function: PythonFunction, args: dict[str, Any]) -> dict[str, Any]:
    """The validated arguments converted to the function's type hints (a model of `Recipe`, an enum)."""
    try:
        converted = function.arguments.model_validate(args)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(arguments)"
        raise ToolFailure(f"the arguments do not fit the function: {where}: {first['msg']}") from None
    return {name: getattr(converted, name) for name in function.arguments.model_fields}


def _context(spec: PythonTool, role: Role, ctx: SessionContext) -> ToolContext:
    return ToolContext(
        session_id=ctx.session_id,
        role=role.name,
        tool=spec.name,
        participant=ctx.participant,
        variables=ctx.variables,
        log=logging.LoggerAdapter(logger, {**ctx.log_extra, "tool": spec.name}),
        http=ctx.http,
    )


def _json(result: Any, cap: int) -> str:
    try:
        raw = pydantic_core.to_json(result, inf_nan_mode="null")
    except pydantic_core.PydanticSerializationError:
        what = type(result).__name__
        raise ToolFailure(f"the function returned something that is not JSON ({what})") from None
    if len(raw) > cap:
        raise ToolFailure(f"the result is larger than {cap} bytes")
    return raw.decode()
