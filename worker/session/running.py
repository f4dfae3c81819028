"""What runs beside a live conversation: the role's limits, and live reload of its file.

Both run as lifecycle tasks (`Lifecycle.spawn`), so they end with the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from livekit.agents import AgentSession

from worker.pricing import AnyPrice, PriceTableError, load_prices
from worker.protocol import BudgetLimitEvent, TimeLimitEvent
from worker.roles import RoleError, RoleRegistry
from worker.session.agent import RoleAgent
from worker.session.context import SessionContext
from worker.session.lifecycle import LimitHit, due_limit

logger = logging.getLogger("rolecall.session")

LIMIT_CHECK_INTERVAL_S = 1.0
GOODBYE_GRACE_S = 8.0
"""How long the agent may take to say goodbye when a limit ends the session."""


async def enforce_limits(session: AgentSession[Any], ctx: SessionContext) -> None:
    """End the session (after a goodbye) at the first limit of the active role it reaches."""
    lifecycle, prices = ctx.lifecycle, price_table(ctx.settings.prices_file, ctx.log_extra)
    unpriced_warned = False
    while not lifecycle.ending:
        await asyncio.sleep(LIMIT_CHECK_INTERVAL_S)
        agent = session.current_agent
        if not isinstance(agent, RoleAgent) or lifecycle.ending:
            continue
        limits = agent.role.limits
        cost = ctx.record.cost(prices) if limits.max_cost_usd else None
        if limits.max_cost_usd is not None and cost is None and not unpriced_warned:
            unpriced_warned = True
            logger.warning(
                "max_cost_usd cannot be enforced: the price table has no entry for model %s",
                ctx.record.model,
                extra=ctx.log_extra,
            )
        hit = due_limit(
            limits,
            now=lifecycle.clock(),
            started=lifecycle.started,
            last_activity=lifecycle.last_activity,
            cost_usd=cost,
        )
        if hit is not None and lifecycle.claim(hit.reason):
            await say_goodbye(session, ctx, hit)
            return


async def say_goodbye(session: AgentSession[Any], ctx: SessionContext, hit: LimitHit) -> None:
    """Tell the page which limit ended the session, let the agent say goodbye, then stop."""
    logger.info("session limit reached: %s (%s)", hit.reason, hit.detail, extra=ctx.log_extra)
    if hit.reason == "budget":
        await ctx.page.send(BudgetLimitEvent(limit_usd=hit.detail["limit_usd"]))
    elif hit.reason in ("max_duration", "idle"):
        await ctx.page.send(TimeLimitEvent(limit=hit.reason, limit_s=hit.detail["limit_s"]))
    goodbye = session.generate_reply(instructions=f"{hit.say} Say a short, friendly goodbye.")
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(goodbye.wait_for_playout(), GOODBYE_GRACE_S)
    ctx.lifecycle.stop(drain=True)


async def live_reload(registry: RoleRegistry, session: AgentSession[Any], ctx: SessionContext) -> None:
    """Apply saved edits of the active role to this session (instructions and tools)."""
    async for change in registry.watch():
        agent = session.current_agent
        if not isinstance(agent, RoleAgent) or change.name != agent.role.name:
            continue
        if change.role is None:
            logger.warning(
                "role %s edit is invalid; keeping the running version: %s", change.name, change.error
            )
            continue
        try:
            await agent.apply_role_update(change.role)
        except RoleError as exc:
            logger.warning("role %s reload failed: %s", change.name, exc, extra=ctx.log_extra)


def price_table(path: Any, log_extra: Mapping[str, Any]) -> dict[str, AnyPrice]:
    """The operator's price table (`ROLECALL_PRICES_FILE`), or the built-in one if it has become
    unreadable since start-up (limits and reports must still work)."""
    try:
        return load_prices(path)
    except PriceTableError as exc:
        logger.warning("cost estimate from the built-in prices: %s", exc, extra=log_extra)
        return load_prices(None)
