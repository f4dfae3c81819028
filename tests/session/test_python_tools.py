"""`python` tools through the whole worker: functions of `examples/kitchen_tools` (and misbehaving ones
from `tests/support/python_tools.py`), named in a role, called by the simulator's `/call`.

Parameters derived from type hints, the validated arguments, the `ToolContext` (session, role,
participant, variables), a `ToolFailure` the model may speak about, a crash, a timeout, the report.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.session.conftest import Stack, make_stack
from tests.support.livekit_server import LiveKitServer
from tests.support.ui_participant import UIParticipant

pytestmark = pytest.mark.integration

ROLE = """
name: py-kitchen
title: Python kitchen
description: Tools that are Python functions.
variables:
  servings: {default: 2, type: integer}
instructions: You help in the kitchen.
tools:
  - kind: python
    name: convert_units
    description: Convert an amount between kitchen units.
    function: examples.kitchen_tools.units:convert
    error_message: Say the conversion did not work.
  - kind: python
    name: servings_for
    description: Grams of an ingredient for the servings.
    function: examples.kitchen_tools.session:servings_for
  - kind: python
    name: about_this_call
    description: What a tool knows about its call.
    function: examples.kitchen_tools.session:about_this_call
  - kind: python
    name: point
    description: A point.
    function: tests.support.python_tools:point
    parameters:
      type: object
      properties: {x: {type: integer}, y: {type: integer}}
      required: [x]
  - {kind: python, name: slow, description: Slow., function: "tests.support.python_tools:slow", timeout_s: 1}
  - {kind: python, name: crash, description: Crashes., function: "tests.support.python_tools:crash"}
"""


@pytest.fixture(scope="module")
def stack(livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    modules = "examples.kitchen_tools,tests.support.python_tools"
    for made in make_stack(livekit_server, tmp_path_factory, ROLECALL_PYTHON_TOOL_MODULES=modules):
        made.write_role("py-kitchen", ROLE)
        yield made


def offered(stack: Stack) -> dict[str, Any]:
    updates = [
        r.event["session"]["tools"]
        for r in stack.received()
        if r.type == "session.update" and r.event.get("session", {}).get("tools")
    ]
    return {t["name"]: t for t in updates[-1]} if updates else {}


async def call(stack: Stack, ui: UIParticipant, tool: str, args: dict[str, Any]) -> str:
    before = len(stack.tool_outputs(tool))
    await ui.say_text(f"/call {tool} {json.dumps(args)}")
    async with asyncio.timeout(20):
        while len(stack.tool_outputs(tool)) == before:
            await asyncio.sleep(0.05)
    return stack.tool_outputs(tool)[-1]


async def test_python_tools_run_with_validated_arguments_and_their_context(stack: Stack) -> None:
    ui = await stack.session("py-kitchen", participant="cook-7", vars={"servings": 3})
    try:
        await ui.wait_for(lambda: "convert_units" in offered(stack), what="the tools")
        convert = offered(stack)["convert_units"]["parameters"]
        assert convert["required"] == ["amount", "from_unit", "to_unit"]  # from the type hints
        assert convert["properties"]["amount"]["maximum"] == 100_000
        assert "cup" in convert["properties"]["to_unit"]["enum"]

        output = await call(stack, ui, "convert_units", {"amount": 100, "from_unit": "g", "to_unit": "oz"})
        assert json.loads(output) == {"amount": 3.53, "unit": "oz"}
        assert json.loads(await call(stack, ui, "servings_for", {"grams_per_serving": 80})) == {
            "servings": 3,  # the dispatch's variable
            "grams": 240.0,
        }
        about = json.loads(await call(stack, ui, "about_this_call", {}))
        assert about["session_id"].startswith(ui.room_name + ":")
        assert (about["role"], about["tool"], about["participant"]) == (
            "py-kitchen",
            "about_this_call",
            "cook-7",
        )
        assert about["variables"] == {"servings": 3}
        assert json.loads(await call(stack, ui, "point", {"x": 2})) == {"x": 2, "y": 0}

        output = await call(stack, ui, "convert_units", {"amount": "lots", "from_unit": "g", "to_unit": "oz"})
        assert output.startswith(
            "invalid arguments for convert_units: amount: 'lots' is not of type 'number'"
        )

        await ui.leave()
        report = await stack.wait_report(ui.room_name)
        calls = [(c["name"], c["kind"], c["outcome"]) for c in report["tool_calls"]]
        assert ("convert_units", "python", "ok") in calls and ("convert_units", "python", "error") in calls
        assert ("about_this_call", "python", "ok") in calls
    finally:
        await ui.leave()


@pytest.mark.parametrize(
    ("tool", "args", "output"),
    [
        (
            "convert_units",
            {"amount": 1, "from_unit": "g", "to_unit": "cup"},
            "convert_units failed: g is a weight and cup is not: converting between them depends on the "
            "ingredient. Say the conversion did not work.",
        ),
        ("slow", {"seconds": 5}, "slow failed: no answer within 1 s. "),
        ("crash", {}, "crash failed: internal error (ValueError). "),
    ],
)
async def test_a_failing_python_tool_tells_the_model_and_the_session_goes_on(
    stack: Stack, tool: str, args: dict[str, Any], output: str
) -> None:
    ui = await stack.session("py-kitchen")
    try:
        await ui.wait_for(lambda: "convert_units" in offered(stack), what="the tools")
        said = await call(stack, ui, tool, args)
        assert said.startswith(output), said
        assert "must not see" not in said  # a crash's own message stays in the log
        output = await call(stack, ui, "convert_units", {"amount": 1, "from_unit": "kg", "to_unit": "g"})
        assert json.loads(output) == {"amount": 1000.0, "unit": "g"}
    finally:
        await ui.leave()
    if tool == "crash":
        assert "a bug in the tool, with a detail the model must not see" in stack.worker.log()  # traceback
