"""`python` tools that misbehave on purpose, for tests (the well-behaved ones are examples/kitchen_tools)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from worker.tools.python import ToolContext, ToolFailure


async def slow(seconds: Annotated[float, Field(ge=0, le=60)]) -> str:
    """Answers after `seconds`."""
    await asyncio.sleep(seconds)
    return "done"


async def crash() -> str:
    """A bug: any exception but ToolFailure."""
    raise ValueError("a bug in the tool, with a detail the model must not see")


async def refuse(why: str) -> str:
    """A failure the model may speak about."""
    raise ToolFailure(why)


async def huge(chars: int) -> str:
    """A long result."""
    return "x" * chars


async def not_json() -> object:
    """Returns something JSON cannot hold."""
    return object()


@dataclass
class Point:
    x: int
    y: int


async def point(ctx: ToolContext, x: int, y: int = 0) -> Point:
    """A dataclass result, and the tool's name from its context."""
    ctx.log.info("point called")
    return Point(x, y)


def not_async(x: int) -> int:
    """Not an async function: refused by `roles check`."""
    return x


async def variadic(*values: int) -> int:
    """Takes *values: refused by `roles check`."""
    return sum(values)


async def untyped(x) -> int:  # type: ignore[no-untyped-def]
    """A parameter without a type hint: its parameters cannot be derived."""
    return int(x)
