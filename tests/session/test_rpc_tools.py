"""`frontend` tools over LiveKit RPC: the happy path and every failure, with the session alive after each."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from livekit import rtc

from tests.session.conftest import Stack

pytestmark = pytest.mark.integration


def _raise(_: dict[str, Any]) -> Any:
    # What the frontend library sends when a handler throws: an application error with its message.
    raise rtc.RpcError(rtc.RpcError.ErrorCode.APPLICATION_ERROR, "recipe card exploded")


async def _hang(_: dict[str, Any]) -> Any:
    await asyncio.sleep(30)


HANDLERS: dict[str, Any] = {
    "show_card": lambda args: {"shown": args["title"]},
    "echo_card": lambda args: {"echo": args},
    "slow_card": _hang,
    "fail_card": _raise,
    "big_card": lambda _: {"blob": "x" * 20_000},
}


async def _still_alive(stack: Stack, ui: Any, words: str) -> None:
    """The session answers a new message after the failure."""
    await ui.say_text(words)
    await ui.wait_for(lambda: f"You said: {words}" in ui.agent_text(), what="a reply after the failure")


async def test_rpc_tool_reaches_the_page_with_validated_arguments_and_its_result_reaches_the_model(
    stack: Stack,
) -> None:
    ui = await stack.session("bench", HANDLERS)
    try:
        await ui.wait_for(lambda: ui.calls_to("rolecall.tools"), what="discovery")
        await ui.say_text('/call show_card {"title": "Carbonara"}')
        await ui.wait_for(lambda: ui.calls_to("show_card"), what="the RPC call")
        call = ui.calls_to("show_card")[0]
        assert call.arguments == {"title": "Carbonara"}
        assert call.caller.startswith("agent-")
        assert json.loads(await stack.wait_tool_output("show_card")) == {"shown": "Carbonara"}
    finally:
        await ui.leave()


async def test_rpc_invalid_arguments_never_reach_the_page(stack: Stack) -> None:
    ui = await stack.session("bench", HANDLERS)
    try:
        await ui.wait_for(lambda: ui.calls_to("rolecall.tools"), what="discovery")
        await ui.say_text('/call show_card {"title": 42, "color": "red"}')
        output = await stack.wait_tool_output("show_card")
        assert "invalid arguments for show_card" in output
        assert "title: 42 is not of type 'string'" in output
        assert not ui.calls_to("show_card")
        await _still_alive(stack, ui, "after bad arguments")
    finally:
        await ui.leave()


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ("fail_card", "fail_card failed: the screen reported an error: recipe card exploded."),
        ("slow_card", "slow_card failed: the user's screen did not answer in time."),
        (
            "big_card",
            "big_card failed: the screen's answer is 20012 bytes, over the RPC limit of 15360 bytes.",
        ),
    ],
)
async def test_rpc_failures_become_speakable_errors_and_the_session_goes_on(
    stack: Stack, tool: str, expected: str
) -> None:
    ui = await stack.session("bench", HANDLERS)
    try:
        await ui.wait_for(lambda: ui.calls_to("rolecall.tools"), what="discovery")
        await ui.say_text(f"/call {tool} {{}}")
        output = await stack.wait_tool_output(tool)
        assert output.startswith(expected), output
        assert "The tool failed." in output  # the role's (default) error_message follows the reason
        await _still_alive(stack, ui, f"after {tool}")
    finally:
        await ui.leave()


async def test_rpc_tool_the_page_does_not_implement_is_not_offered(stack: Stack) -> None:
    ui = await stack.session("bench", HANDLERS)
    try:
        await ui.wait_for(lambda: ui.calls_to("rolecall.tools"), what="discovery")
        await asyncio.sleep(0.5)
        offered = _tools_in_last_update(stack, "show_card")
        assert "show_card" in offered and "missing_card" not in offered
        await ui.say_text("/call missing_card {}")
        # The model does not have the tool: the simulator's model answers that it cannot call it.
        await ui.wait_for(lambda: "missing_card" in ui.agent_text(), what="the model's refusal")
        assert not stack.tool_outputs("missing_card")
    finally:
        await ui.leave()


async def test_rpc_without_discovery_offers_every_tool_and_maps_unsupported_method(stack: Stack) -> None:
    ui = await stack.session("bench", {"show_card": HANDLERS["show_card"]}, answer_discovery=False)
    try:
        await ui.wait_for(lambda: ui.agent() is not None, what="agent")
        await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="greeting")
        await ui.say_text("/call missing_card {}")
        output = await stack.wait_tool_output("missing_card")
        assert output.startswith("missing_card failed: the user's screen does not support this action.")
        await _still_alive(stack, ui, "after an unsupported method")
    finally:
        await ui.leave()


async def test_rpc_oversized_arguments_are_refused_before_sending(stack: Stack) -> None:
    ui = await stack.session("bench", HANDLERS)
    try:
        await ui.wait_for(lambda: ui.calls_to("rolecall.tools"), what="discovery")
        text = "y" * 16_000
        await ui.say_text("/call echo_card " + json.dumps({"text": text}))
        output = await stack.wait_tool_output("echo_card")
        assert "over LiveKit's RPC limit of 15360 bytes" in output
        # The role overrides the error message for this tool.
        assert output.endswith("Apologise that the screen could not show it.")
        assert not ui.calls_to("echo_card")
        await _still_alive(stack, ui, "after a large payload")
    finally:
        await ui.leave()


async def test_rpc_participant_gone_during_the_call(stack: Stack) -> None:
    left = asyncio.Event()
    ui_box: list[Any] = []

    async def leave_midway(_: dict[str, Any]) -> Any:
        asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(_leave()))
        await asyncio.sleep(10)

    async def _leave() -> None:
        await ui_box[0].room.disconnect()
        left.set()

    ui = await stack.session("bench", {**HANDLERS, "echo_card": leave_midway})
    ui_box.append(ui)
    try:
        await ui.wait_for(lambda: ui.calls_to("rolecall.tools"), what="discovery")
        await ui.say_text("/call echo_card {}")
        await asyncio.wait_for(left.wait(), 10)
        output = await stack.wait_tool_output("echo_card")
        assert output.startswith("echo_card failed: the user's screen disconnected before answering"), output
    finally:
        await ui.leave()


def _tools_in_last_update(stack: Stack, must_have: str) -> set[str]:
    for ev in reversed(stack.client_events("session.update")):
        tools = ev.get("session", {}).get("tools")
        if tools and any(t.get("name") == must_have for t in tools):
            return {t["name"] for t in tools}
    return set()
