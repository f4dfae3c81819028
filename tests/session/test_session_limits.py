"""What a session may cost: a role's budget, and a dispatch whose user never comes."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.session.conftest import Stack

pytestmark = pytest.mark.integration

BUDGET_ROLE = """
name: budget
title: Budget
description: A role with a tiny budget.
model: {turn_detection: {type: server_vad, silence_duration_ms: 400}}
limits: {max_cost_usd: 0.0001}
greeting: {say: "Hello, I am on a budget and this greeting alone is more than it allows."}
instructions: You are a test agent on a budget.
tools:
  - {name: end_session, kind: builtin, builtin: end_session, description: End the call.}
"""


async def test_a_session_ends_with_a_goodbye_once_its_budget_is_spent(stack: Stack) -> None:
    stack.write_role("budget", BUDGET_ROLE)
    ui = await stack.session("budget")
    try:
        event = await ui.wait_for(
            lambda: next((e for e in ui.events if e.get("type") == "session_limit"), None),
            timeout=30,
            what="the budget limit",
        )
        assert event == {"type": "session_limit", "limit": "budget", "limit_usd": 0.0001}
        report = await stack.wait_report(ui.room_name)
        assert report["end_reason"] == "budget"
        assert report["cost_usd"] is not None and report["cost_usd"] >= 0.0001
        # The goodbye asked for when the budget ran out was spoken (and is in the report).
        assert len([line for line in report["transcript"] if line["speaker"] == "agent"]) >= 2
    finally:
        await ui.leave()


async def test_a_dispatch_whose_user_never_joins_gives_its_model_connection_back(stack: Stack) -> None:
    sim = stack.simulator.sim
    used_before = {c.id for c in sim.connections if c.received_count}
    gave_up = stack.worker.log().count("did not join; ending")
    await stack.dispatch("bench", participant=f"ghost-{uuid.uuid4().hex[:6]}")
    async with asyncio.timeout(30):
        # The job's model connection is configured before anyone joins (one an idle process pre-opened,
        # or its own): the first one to receive client events after the dispatch.
        while not (new := [c.id for c in sim.connections if c.received_count and c.id not in used_before]):
            await asyncio.sleep(0.05)
    opened = new[0]
    # ROLECALL_PARTICIPANT_TIMEOUT_S is 15 s in this stack (10 s by default): then the job ends.
    async with asyncio.timeout(45):
        while any(c.id == opened for c in sim.connections):
            await asyncio.sleep(0.1)
        while stack.worker.log().count("did not join; ending") == gave_up:
            await asyncio.sleep(0.1)
