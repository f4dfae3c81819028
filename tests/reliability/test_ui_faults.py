"""Faults of the page's tool handlers, one after another in one session, then the session-end report.

The page (a Python participant with real RPC handlers, as `@rolecall/client` answers) throws, hangs
past the tool's timeout, answers more than the RPC payload limit, lacks a method, and leaves in the
middle of a call and comes back. After each the model gets a sentence it can speak about and the
conversation goes on; at the end the signed report holds every line said and every call, each with
its outcome.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from livekit import rtc

from tests.reliability.conftest import RelStack
from tests.reliability.test_model_faults import exchange
from tests.support.ui_participant import UIParticipant

pytestmark = pytest.mark.integration


def _throw(_: dict[str, Any]) -> Any:
    raise rtc.RpcError(rtc.RpcError.ErrorCode.APPLICATION_ERROR, "recipe card exploded")


async def _hang(_: dict[str, Any]) -> Any:
    await asyncio.sleep(30)


def _show(args: dict[str, Any]) -> Any:
    return {"shown": args["title"]}


HANDLERS: dict[str, Any] = {
    "show_card": _show,
    "fail_card": _throw,
    "slow_card": _hang,
    "big_card": lambda _: {"blob": "x" * 20_000},
}
EXPECTED_FAILURES = {
    "fail_card": "the screen reported an error: recipe card exploded.",
    "slow_card": "the user's screen did not answer in time.",
    "big_card": "the screen's answer is 20012 bytes, over the RPC limit of 15360 bytes.",
    "missing_card": "the user's screen does not support this action.",
    "echo_card": "the user's screen disconnected before answering",
}


async def _call(rel: RelStack, ui: UIParticipant, tool: str, args: str = "{}") -> str:
    before = len(rel.tool_outputs(tool))
    await ui.say_text(f"/call {tool} {args}")
    async with asyncio.timeout(20):
        while len(rel.tool_outputs(tool)) <= before:
            await asyncio.sleep(0.05)
    output = rel.tool_outputs(tool)[-1]
    return output


async def test_ui_handler_faults_keep_the_session_and_the_report_keeps_everything(rel: RelStack) -> None:
    leaving: dict[str, UIParticipant] = {}

    async def leave_midway(_: dict[str, Any]) -> Any:
        asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(leaving["ui"].room.disconnect()))
        await asyncio.sleep(10)

    # The page does not answer discovery: every frontend tool is offered, so the model can call the
    # one the page lacks (missing_card), as with a page built against an older role file.
    ui = await rel.session("bench", {**HANDLERS, "echo_card": leave_midway}, answer_discovery=False)
    leaving["ui"] = ui
    await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="greeting")
    await exchange(rel, ui, "before the faults")
    assert (await _call(rel, ui, "show_card", '{"title": "first"}')) == '{"shown": "first"}'

    for tool in ("fail_card", "slow_card", "big_card", "missing_card"):
        output = await _call(rel, ui, tool)
        assert output.startswith(f"{tool} failed: {EXPECTED_FAILURES[tool]}"), output
        await exchange(rel, ui, f"still there after {tool}")

    # The user's page drops out in the middle of a call and comes back within the grace period (5 s).
    output = await _call(rel, ui, "echo_card")
    assert output.startswith(f"echo_card failed: {EXPECTED_FAILURES['echo_card']}"), output
    back = await UIParticipant(rel.livekit, ui.room_name, identity="user", handlers=HANDLERS).join()
    await back.wait_for(lambda: back.agent() is not None, what="the same agent after the return")
    await back.wait_for(lambda: back.calls_to("rolecall.tools"), what="tools asked for again")
    await exchange(rel, back, "back again")
    assert (await _call(rel, back, "show_card", '{"title": "last"}')) == '{"shown": "last"}'
    await back.say_text("/call end_session {}")
    await back.wait_for(lambda: back.agent() is None, timeout=30, what="the goodbye")
    await back.leave()

    report = await rel.report(ui.room_name)
    assert report["end_reason"] == "end_session"
    said = [(t["speaker"], t["text"]) for t in report["transcript"]]
    user_lines = [
        "before the faults",
        *(f"still there after {tool}" for tool in ("fail_card", "slow_card", "big_card", "missing_card")),
        "back again",
    ]
    for line in user_lines:
        assert ("user", line) in said, f"{line!r} missing from {said}"
        assert ("agent", f"You said: {line}") in [(w, t[: len(line) + 10]) for w, t in said], line
    calls = [(c["name"], c["outcome"]) for c in report["tool_calls"]]
    assert calls == [
        ("show_card", "ok"),
        ("fail_card", "error"),
        ("slow_card", "error"),
        ("big_card", "error"),
        ("missing_card", "error"),
        ("echo_card", "error"),
        ("show_card", "ok"),
        ("end_session", "ok"),
    ], calls
    details = {c["name"]: c["detail"] for c in report["tool_calls"] if c["outcome"] == "error"}
    for tool, reason in EXPECTED_FAILURES.items():
        assert reason.rstrip(".") in details[tool], (tool, details[tool])
