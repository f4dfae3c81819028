"""Tools that use their `ToolContext`: who is calling, the dispatch's variables, the log.

- kind: python
  name: servings_for
  description: How much of an ingredient to use for the user's number of servings.
  function: examples.kitchen_tools.session:servings_for
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from worker.tools.python import ToolContext


async def servings_for(
    ctx: ToolContext,
    grams_per_serving: Annotated[float, Field(ge=1, description="Grams of the ingredient for one serving.")],
    servings: Annotated[int | None, Field(ge=1, le=50, description="Default: the session's.")] = None,
) -> dict[str, float | int]:
    """Grams for `servings`, or for the dispatch's `servings` variable (the role declares it)."""
    count = servings or int(ctx.variables.get("servings", 2))
    ctx.log.info("servings_for: %s servings", count)  # carries the session's room, job, role, user
    return {"servings": count, "grams": round(grams_per_serving * count, 1)}


async def about_this_call(ctx: ToolContext) -> dict[str, object]:
    """What a tool knows about the call it serves (a debugging aid: no arguments)."""
    return {
        "session_id": ctx.session_id,
        "role": ctx.role,
        "tool": ctx.tool,
        "participant": ctx.participant,
        "variables": dict(ctx.variables),
    }
