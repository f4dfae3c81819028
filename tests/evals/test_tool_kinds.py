"""Evals of roles with `python` and `mcp` tools: the functions run as in the worker; MCP servers are
stood in for from `mocks:` (`http: mock`), or called for real (`http: live`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.evals.test_cli import run_eval
from tests.support.mcp_server import McpServerProcess, free_port

pytestmark = pytest.mark.integration

ROLE = """
name: pantry
title: Pantry
description: Python and MCP tools.
instructions: You help in the kitchen.
tools:
  - kind: python
    name: convert_units
    description: Convert kitchen units.
    function: examples.kitchen_tools.units:convert
  - kind: mcp
    server: kitchen
    url: {url}
    tools:
      - search_recipes
      - {{tool: get_recipe, name: recipe_details}}
"""
EVAL = """
http: {http}
mocks:
  search_recipes: [{{id: carbonara, name: Stand-in carbonara}}]
conversations:
  - name: converts and searches
    turns:
      - user: "How many ounces are 100 grams?"
        expect:
          - tool: convert_units
            arguments: {{amount: 100, from_unit: g, to_unit: oz}}
      - user: "Find me a carbonara recipe."
        expect:
          - tool: search_recipes
            arguments: {{query: carbonara}}
      - user: "Tell me about the limone one."
        expect:
          - tool: recipe_details
            arguments: {{recipe_id: limone}}
"""
ENV = {"ROLECALL_PYTHON_TOOL_MODULES": "examples.kitchen_tools", "ROLECALL_HTTP_PRIVATE_HOSTS": "127.0.0.1"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpServerProcess]:
    running = McpServerProcess(free_port(), "streamable-http", tmp_path_factory.mktemp("mcp") / "log").start()
    yield running
    running.stop()


def write(tmp_path: Path, url: str, http: str) -> Path:
    roles = tmp_path / "roles"
    (roles / "evals").mkdir(parents=True)
    (roles / "pantry.yaml").write_text(ROLE.format(url=url))
    (roles / "evals" / "pantry.yaml").write_text(EVAL.format(http=http))
    return roles


def tool_lines(report: Path) -> list[str]:
    runs = json.loads(report.read_text())["files"][0]["runs"]
    return [line.strip() for line in runs[0]["transcript"] if line.strip().startswith("tool ")]


def test_python_tools_run_and_mcp_tools_answer_from_mocks(tmp_path: Path, server: McpServerProcess) -> None:
    roles = write(tmp_path, server.url, "mock")
    proc = run_eval(
        "--roles-dir",
        str(roles),
        str(roles / "evals" / "pantry.yaml"),
        "--report",
        str(tmp_path / "r"),
        env=ENV,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert tool_lines(tmp_path / "r.json") == [
        'tool convert_units {"amount": 100, "from_unit": "g", "to_unit": "oz"} -> ok: {"amount":3.53,"unit":"oz"}',
        'tool search_recipes {"query": "carbonara"} -> ok: [{"id": "carbonara", "name": "Stand-in carbonara"}]',
        'tool recipe_details {"recipe_id": "limone"} -> ok: {"ok": true}',
    ]
    assert server.seen().calls() == []  # the stand-in answered, not the role's server


def test_with_http_live_mcp_tools_call_the_real_server(tmp_path: Path, server: McpServerProcess) -> None:
    roles = write(tmp_path, server.url, "live")
    proc = run_eval(
        "--roles-dir",
        str(roles),
        str(roles / "evals" / "pantry.yaml"),
        "--report",
        str(tmp_path / "r"),
        env=ENV,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = tool_lines(tmp_path / "r.json")
    assert '"name": "Spaghetti carbonara"' in lines[1] and '"name": "Pasta al limone"' in lines[2]
    assert [c["tool"] for c in server.seen().calls()] == ["search_recipes", "get_recipe"]


def test_python_tools_need_the_operators_modules(tmp_path: Path, server: McpServerProcess) -> None:
    roles = write(tmp_path, server.url, "mock")
    proc = run_eval(
        "--roles-dir",
        str(roles),
        str(roles / "evals" / "pantry.yaml"),
        env={**ENV, "ROLECALL_PYTHON_TOOL_MODULES": ""},
    )
    assert proc.returncode == 1
    assert "module examples.kitchen_tools.units is not under a prefix the operator allows" in proc.stdout
