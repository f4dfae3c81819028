"""The `python` kind's runner on a real session context without a room (`tests/support/fake_session.py`):
arguments converted to the function's type hints, its context, its result as JSON, and its failures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_session import fake_context
from worker.roles import PythonTool, Role, RoleRegistry
from worker.settings import Settings
from worker.tools import build_tools, python
from worker.tools.guard import ToolFailure

pytestmark = pytest.mark.unit

ROLE = """
name: py
title: Python
description: Python tools.
instructions: Hello.
variables:
  servings: {default: 4, type: integer}
tools:
  - {kind: python, name: convert, description: Convert., function: "examples.kitchen_tools.units:convert"}
  - {kind: python, name: point, description: Point., function: "tests.support.python_tools:point"}
  - {kind: python, name: about, description: About., function: "examples.kitchen_tools.session:about_this_call"}
  - kind: python
    name: huge
    description: Huge.
    function: tests.support.python_tools:huge
    max_result_bytes: 100
  - {kind: python, name: not_json, description: Object., function: "tests.support.python_tools:not_json"}
  - {kind: python, name: refuse, description: Refuse., function: "tests.support.python_tools:refuse"}
"""
MODULES = "examples.kitchen_tools,tests.support.python_tools"


def setup(folder: Path, modules: str = MODULES) -> tuple[Role, Settings]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "py.yaml").write_text(ROLE)
    settings = Settings(roles_dir=folder, python_tool_modules=MODULES)
    role = RoleRegistry(folder, policy=settings.role_policy()).get("py")
    return role, Settings(roles_dir=folder, python_tool_modules=modules)


async def run(role: Role, settings: Settings, name: str, args: dict[str, Any], **ctx_kw: Any) -> str:
    spec = role.tool(name)
    assert isinstance(spec, PythonTool)
    async with fake_context(settings=settings, role="py", **ctx_kw) as ctx:
        result = await python.runner(spec, role, ctx)(args, None)  # type: ignore[arg-type]
    assert isinstance(result, str)
    return result


async def test_arguments_are_converted_to_the_type_hints_and_the_result_is_json(tmp_path: Path) -> None:
    role, settings = setup(tmp_path)
    assert json.loads(
        await run(role, settings, "convert", {"amount": 2, "from_unit": "lb", "to_unit": "kg"})
    ) == {
        "amount": 0.91,
        "unit": "kg",
    }
    assert json.loads(await run(role, settings, "point", {"x": 3})) == {"x": 3, "y": 0}  # a dataclass


async def test_the_function_gets_its_context(tmp_path: Path) -> None:
    role, settings = setup(tmp_path)
    about = json.loads(await run(role, settings, "about", {}, variables={"servings": 3}))
    assert about == {
        "session_id": "test:1",
        "role": "py",
        "tool": "about",
        "participant": "user-test",
        "variables": {"servings": 3},
    }


async def test_the_context_carries_the_sessions_http_client_and_log_fields(tmp_path: Path) -> None:
    role, settings = setup(tmp_path)
    spec = role.tool("about")
    assert isinstance(spec, PythonTool)
    async with fake_context(settings=settings) as ctx:
        context = python._context(spec, role, ctx)
        assert context.http is ctx.http  # the session's client: public addresses only, as http tools
        assert context.log.extra is not None and context.log.extra["tool"] == "about"


@pytest.mark.parametrize(
    ("name", "args", "reason"),
    [
        ("refuse", {"why": "the pantry is empty"}, "the pantry is empty"),
        ("huge", {"chars": 500}, "the result is larger than 100 bytes"),
        ("not_json", {}, "the function returned something that is not JSON (object)"),
        (
            "point",
            {"x": "three"},
            "the arguments do not fit the function: x: Input should be a valid integer",
        ),
    ],
)
async def test_failures_are_tool_failures_with_a_speakable_reason(
    tmp_path: Path, name: str, args: dict[str, Any], reason: str
) -> None:
    role, settings = setup(tmp_path)
    with pytest.raises(ToolFailure) as info:
        await run(role, settings, name, args)
    assert str(info.value).startswith(reason)


async def test_a_module_the_worker_no_longer_allows_is_refused_at_call_time(tmp_path: Path) -> None:
    role, _ = setup(tmp_path)
    narrower = Settings(roles_dir=tmp_path, python_tool_modules="examples.kitchen_tools")
    with pytest.raises(ToolFailure, match="may not be used on this worker"):
        await run(role, narrower, "point", {"x": 1})


async def test_python_tools_are_offered_with_their_derived_parameters(tmp_path: Path) -> None:
    role, settings = setup(tmp_path)
    async with fake_context(settings=settings) as ctx:
        offered = {t.info.name: t.info.raw_schema for t in build_tools(role, ctx)}  # type: ignore[union-attr]
    assert offered["convert"]["parameters"]["required"] == ["amount", "from_unit", "to_unit"]
    assert offered["about"]["parameters"]["properties"] == {}
