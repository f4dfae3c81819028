"""A role file edited during a live session: instructions and tools change in place."""

from __future__ import annotations

import asyncio

import pytest

from tests.session.conftest import Stack

pytestmark = pytest.mark.integration

ROLE = """
name: bench-live
title: Live bench
description: Edited while a session runs.
instructions: You are version {version}.
tools:
  - {{name: {tool}, kind: frontend, description: A tool.}}
"""


async def test_role_edited_during_a_live_session_updates_instructions_and_tools(stack: Stack) -> None:
    path = stack.write_role("bench-live", ROLE.format(version="one", tool="tool_one"))
    ui = await stack.session("bench-live", {"tool_one": lambda _: {}, "tool_two": lambda _: {}})
    try:
        await ui.wait_for(lambda: ui.calls_to("rolecall.tools"), what="discovery")
        await asyncio.sleep(0.5)
        path.write_text(ROLE.format(version="two", tool="tool_two"))

        def updated() -> bool:
            updates = stack.client_events("session.update")
            instr = [
                u for u in updates if "You are version two" in u.get("session", {}).get("instructions", "")
            ]
            tools = [
                u
                for u in updates
                if any(t.get("name") == "tool_two" for t in u.get("session", {}).get("tools") or [])
            ]
            return bool(instr and tools)

        await ui.wait_for(updated, timeout=10, what="the edit to reach the live session")

        # An invalid edit keeps the running version.
        path.write_text("name: bench-live\ntitle: [unclosed\n")
        await asyncio.sleep(1.5)
        await ui.say_text("/call tool_two {}")
        await ui.wait_for(lambda: ui.calls_to("tool_two"), what="the reloaded tool to work")
    finally:
        await ui.leave()
