"""Which version of a role a new session gets, when each session runs in a process of its own.

The worker runs under `start` with no warm job processes, so the job that plays the role starts after
the edits below and has never read a valid version of the file itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from tests.session.conftest import Stack, make_stack
from tests.support.livekit_server import LiveKitServer

pytestmark = pytest.mark.integration

ROLE = """
name: bench-versions
title: Versions
description: Edited before a session starts.
instructions: You are version {version}.
greeting: {{say: Hello.}}
"""


@pytest.fixture(scope="module")
def stack(livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from make_stack(
        livekit_server, tmp_path_factory, mode="start", ROLECALL_IDLE_PROCESSES="0", ROLECALL_HEALTH_PORT="0"
    )


async def _log_shows(stack: Stack, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in stack.worker.log():
        assert time.monotonic() < deadline, f"worker log never showed {text!r}"
        await asyncio.sleep(0.1)


async def _watcher_is_live(stack: Stack) -> None:
    """Save a probe role until the worker's watcher logs it (a file written before the watch began
    is only in its first snapshot, which logs nothing)."""
    for attempt in range(20):
        stack.write_role(
            "bench-probe", ROLE.format(version=f"probe {attempt}").replace("bench-versions", "bench-probe")
        )
        try:
            await _log_shows(stack, "role bench-probe: version saved at", timeout=1.0)
            return
        except AssertionError:
            continue
    raise AssertionError("the worker never reported a saved role")


async def test_a_new_session_after_an_invalid_edit_gets_the_last_valid_version(stack: Stack) -> None:
    await _watcher_is_live(stack)
    stack.write_role("bench-versions", ROLE.format(version="one"))
    await _log_shows(stack, "role bench-versions: version saved at")
    # A mistake is saved: the worker reports it at once, naming the file and the field.
    stack.write_role("bench-versions", ROLE.format(version="two") + "model:\n  voice: nobody\n")
    await _log_shows(stack, "role bench-versions is invalid (keeping the last valid version)")
    assert "bench-versions.yaml:8:10: model.voice: expected one of alloy" in stack.worker.log()

    ui = await stack.session("bench-versions")
    try:
        await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="the greeting")
        assert not [e for e in ui.events if e.get("type") == "error"]
        instructions = [
            u.get("session", {}).get("instructions", "") for u in stack.client_events("session.update")
        ]
        assert any("You are version one." in i for i in instructions)
        assert not any("version two" in i for i in instructions)
    finally:
        await ui.leave()


async def test_a_role_never_valid_is_refused_without_server_paths(stack: Stack) -> None:
    stack.write_role(
        "bench-never",
        "name: bench-never\ntitle: Never\ndescription: D\ninstructions: Hi.\nmodel: {voice: nobody}\n",
    )
    await _log_shows(stack, "role bench-never is invalid (not available)")
    ui = await stack.session("bench-never")
    try:
        event = await ui.wait_for(
            lambda: next((e for e in ui.events if e.get("type") == "error"), None), what="the refusal"
        )
        assert event == {
            "type": "error",
            "code": "role_error",
            "message": "role 'bench-never' cannot be used right now (its file is invalid)",
        }
        await ui.wait_for(lambda: ui.agent() is None, timeout=15, what="the agent to leave")
    finally:
        await ui.leave()
