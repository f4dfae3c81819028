"""`kind: python` tools at load time: only the operator's modules are imported, the function must be an
`async def` whose signature agrees with the role's `parameters` (or gives them, from its type hints),
and every refusal names the file, line and field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.roles.conftest import MINIMAL, Write
from worker.cli import main
from worker.roles import PythonTool, RolePolicy
from worker.roles.loader import RoleLoader

pytestmark = pytest.mark.unit

ALLOWED = RolePolicy(python_modules=("examples.kitchen_tools", "tests.support.python_tools"))


def python_tool(function: str, *extra: str) -> str:
    """`roles/a.yaml` with one python tool: `function` on line 9, then the `extra` lines."""
    lines = ["tools:", "  - kind: python", "    name: t", "    description: d", f"    function: {function}"]
    return MINIMAL.format(name="a") + "\n".join([*lines, *extra]) + "\n"


def load(roles_dir: Path, write: Write, text: str, policy: RolePolicy = ALLOWED) -> tuple[list[str], object]:
    write("a.yaml", text)
    result = RoleLoader(roles_dir, policy=policy).load(os.fspath(roles_dir / "a.yaml"))
    return [str(e) for e in result.errors], result.role


def test_a_module_outside_the_operators_prefixes_is_refused_and_never_imported(
    roles_dir: Path, write: Write, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write("a.yaml", python_tool("os:getcwd"))
    monkeypatch.setenv("ROLECALL_PYTHON_TOOL_MODULES", "examples.kitchen_tools")
    assert main(["roles", "check", "roles"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "roles/a.yaml:9:15: tools[0].function: module os is not under a prefix the operator allows for "
        "python tools (ROLECALL_PYTHON_TOOL_MODULES: examples.kitchen_tools) (hint: the operator lists it (or "
        "a parent) in ROLECALL_PYTHON_TOOL_MODULES)"
    ]


def test_a_prefix_covers_its_modules_but_not_its_namesakes(roles_dir: Path, write: Write) -> None:
    policy = RolePolicy(python_modules=("examples.kitchen",))
    errors, _ = load(roles_dir, write, python_tool("examples.kitchen_tools.units:convert"), policy)
    assert errors and "module examples.kitchen_tools.units is not under a prefix" in errors[0]
    assert RolePolicy(python_modules=("examples",)).module_problem("examples.kitchen_tools.units") is None
    assert RolePolicy().module_problem("examples") is not None  # by default: none at all


def test_without_parameters_they_come_from_the_type_hints(roles_dir: Path, write: Write) -> None:
    errors, role = load(roles_dir, write, python_tool("examples.kitchen_tools.units:convert"))
    assert errors == []
    tool = role.tools[0]  # type: ignore[attr-defined]
    assert isinstance(tool, PythonTool)
    units = ["g", "kg", "oz", "lb", "ml", "l", "cup", "tbsp", "tsp"]
    assert tool.parameters == {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "amount": {
                "type": "number",
                "description": "How much, in from_unit.",
                "minimum": 0,
                "maximum": 100000,
            },
            "from_unit": {"type": "string", "enum": units},
            "to_unit": {"type": "string", "enum": units},
        },
        "required": ["amount", "from_unit", "to_unit"],
    }


def test_the_tool_context_parameter_is_not_an_argument(roles_dir: Path, write: Write) -> None:
    errors, role = load(roles_dir, write, python_tool("examples.kitchen_tools.session:servings_for"))
    assert errors == []
    assert set(role.tools[0].parameters["properties"]) == {"grams_per_serving", "servings"}  # type: ignore[attr-defined]


def test_a_signature_that_does_not_match_the_parameters_is_refused(roles_dir: Path, write: Write) -> None:
    text = python_tool(
        "examples.kitchen_tools.units:convert",
        "    parameters:",
        "      type: object",
        "      properties:",
        "        amount: {type: string}",
        "        from_unit: {type: string}",
        "        extra: {type: integer}",
        "      required: [amount]",
    )
    errors, role = load(roles_dir, write, text)
    assert role is None
    prefix = "tools[0].parameters"
    why = "does not match the signature of examples.kitchen_tools.units:convert"
    hint = "(hint: make them agree, or leave parameters out to derive them from the type hints)"
    assert errors == [
        f"roles/a.yaml:11:7: {prefix}: {why}: convert() requires 'from_unit', which is not in required {hint}",
        f"roles/a.yaml:11:7: {prefix}: {why}: convert() requires 'to_unit', which is not in properties {hint}",
        f"roles/a.yaml:13:17: {prefix}.properties.amount: {why}: a string here, but a number in convert()'s "
        f"type hint {hint}",
        f"roles/a.yaml:15:16: {prefix}.properties.extra: {why}: 'extra' is not a parameter of convert() {hint}",
    ]


def test_parameters_that_agree_with_the_signature_are_kept(roles_dir: Path, write: Write) -> None:
    text = python_tool(
        "tests.support.python_tools:point",
        "    parameters: {type: object, properties: {x: {type: integer, minimum: 0}}, required: [x]}",
    )
    errors, role = load(roles_dir, write, text)
    assert errors == []
    assert role.tools[0].parameters["properties"] == {"x": {"type": "integer", "minimum": 0}}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (
            "examples.kitchen_tools.nowhere:convert",
            "module examples.kitchen_tools.nowhere not found (hint: install the package in the worker's "
            "environment, or put it on its PYTHONPATH)",
        ),
        (
            "examples.kitchen_tools.units:convrt",
            "examples.kitchen_tools.units has no convrt (hint: did you mean 'convert'?)",
        ),
        (
            "tests.support.python_tools:not_async",
            "tests.support.python_tools:not_async is not an async function (hint: python tools are written "
            "as async def)",
        ),
        (
            "tests.support.python_tools:variadic",
            "tests.support.python_tools:variadic takes *values; python tools are called with named arguments "
            "only (hint: declare each argument as a parameter of its own)",
        ),
        (
            "tests.support.python_tools:untyped",
            "cannot derive parameters from the type hints of tests.support.python_tools:untyped: parameters "
            "without a type hint: x (hint: write parameters: for this tool in the role file)",
        ),
    ],
)
def test_a_function_that_cannot_be_a_tool_is_refused_with_the_reason(
    roles_dir: Path, write: Write, function: str, message: str
) -> None:
    errors, role = load(roles_dir, write, python_tool(function))
    assert role is None
    assert errors == [f"roles/a.yaml:9:15: tools[0].function: {message}"]


def test_derived_parameters_openai_would_not_take_are_refused(
    roles_dir: Path, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = roles_dir / "gt_tools.py"  # a module of the test's own, with a pydantic gt= constraint
    module.write_text(
        "from typing import Annotated\nfrom pydantic import Field\n\n"
        "async def positive(x: Annotated[int, Field(gt=0)]) -> int:\n    return x\n"
    )
    monkeypatch.syspath_prepend(os.fspath(roles_dir))
    policy = RolePolicy(python_modules=("gt_tools",))
    errors, _ = load(roles_dir, write, python_tool("gt_tools:positive"), policy)
    assert errors == [
        "roles/a.yaml:9:15: tools[0].function: cannot derive parameters from the type hints of "
        "gt_tools:positive: properties.x.exclusiveMinimum: keyword 'exclusiveMinimum' is not supported by "
        "OpenAI function calling (hint: write parameters: for this tool in the role file)"
    ]


def test_a_bad_module_prefix_setting_is_a_settings_error() -> None:
    from worker.settings import Settings, SettingsError

    with pytest.raises(
        SettingsError, match="ROLECALL_PYTHON_TOOL_MODULES: 'my-tools' is not a dotted module"
    ):
        Settings.load({"ROLECALL_PYTHON_TOOL_MODULES": "my-tools"}, None, need_livekit=False)
    settings = Settings.load({"ROLECALL_PYTHON_TOOL_MODULES": "a.b, c"}, None, need_livekit=False)
    assert settings.role_policy().python_modules == ("a.b", "c")
