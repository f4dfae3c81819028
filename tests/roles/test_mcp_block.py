"""`kind: mcp` blocks at load time: the server's address and headers under the same policy as http
tools, an explicit allowlist with renames and descriptions, and one tool of the role per allowlisted
tool (so names are unique across the role, fragments included)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.roles.conftest import MINIMAL, Write
from worker.roles import McpTool, Role, RolePolicy
from worker.roles.loader import RoleLoader
from worker.roles.schema import json_schema

pytestmark = pytest.mark.unit

PRIVATE = RolePolicy(private_hosts=frozenset({"127.0.0.1"}))


def mcp_block(*lines: str, url: str = "https://tools.example.com/mcp") -> str:
    """`roles/a.yaml` with one mcp block starting on line 6 (`url` on line 8, then `lines` from line 9)."""
    head = ["tools:", "  - kind: mcp", "    server: kitchen", f"    url: {url}"]
    return MINIMAL.format(name="a") + "\n".join([*head, *lines]) + "\n"


def load(
    roles_dir: Path, write: Write, text: str, policy: RolePolicy | None = None
) -> tuple[list[str], Role | None]:
    write("a.yaml", text)
    result = RoleLoader(roles_dir, policy=policy).load(os.fspath(roles_dir / "a.yaml"))
    return [str(e) for e in result.errors], result.role


def test_each_allowlisted_tool_becomes_a_tool_of_the_role(roles_dir: Path, write: Write) -> None:
    text = mcp_block(
        "    transport: sse",
        "    timeout_s: 4",
        "    error_message: Say the kitchen is closed.",
        "    tools:",
        "      - search_recipes",
        "      - {tool: get_recipe, name: recipe, description: A recipe by id.}",
        "      - {tool: admin.stats, name: stats}",
    )
    errors, role = load(roles_dir, write, text)
    assert errors == [] and role is not None
    tools = [t for t in role.tools if isinstance(t, McpTool)]
    assert [(t.name, t.tool, t.described) for t in tools] == [
        ("search_recipes", "search_recipes", False),
        ("recipe", "get_recipe", True),
        ("stats", "admin.stats", False),
    ]
    assert tools[1].description == "A recipe by id."
    assert all(t.timeout_s == 4 and t.error_message == "Say the kitchen is closed." for t in tools)
    assert all(t.server.transport == "sse" and t.server.server == "kitchen" for t in tools)
    origin = tools[1].origin
    assert origin is not None and (origin.file, origin.line, origin.column, origin.field) == (
        "roles/a.yaml",
        14,
        9,
        "tools[0].tools[1]",
    )


@pytest.mark.parametrize(
    ("lines", "url", "error"),
    [
        (
            ["    tools: [search]"],
            "http://127.0.0.1:8000/mcp",
            "roles/a.yaml:8:10: tools[0].url: 127.0.0.1 is a loopback address; MCP servers do not call "
            "loopback, private, link-local or other non-public addresses on this worker (hint: if this worker "
            "should call it, the operator lists the host in ROLECALL_HTTP_PRIVATE_HOSTS)",
        ),
        (
            ["    tools: [search]"],
            "ftp://tools.example.com/mcp",
            "roles/a.yaml:8:10: tools[0].url: expected an http:// or https:// URL, found scheme 'ftp'",
        ),
        (
            ["    headers: {Authorization: Bearer abc123}", "    tools: [search]"],
            "https://tools.example.com/mcp",
            "roles/a.yaml:9:14: tools[0].headers: header Authorization looks like a credential; reference an "
            "environment variable instead of writing the value, e.g. Authorization: Bearer ${API_TOKEN}",
        ),
        (
            ['    headers: {Authorization: "Bearer ${OPENAI_API_KEY}"}', "    tools: [search]"],
            "https://tools.example.com/mcp",
            "roles/a.yaml:9:30: tools[0].headers.Authorization: OPENAI_API_KEY is one of RoleCall's own "
            "settings (LIVEKIT_*, OPENAI_*, ROLECALL_*); role files can never send those; reference a variable "
            "allowed by ROLECALL_TOOL_ENV (default TOOL_*)",
        ),
        (
            ["    tools: []"],
            "https://tools.example.com/mcp",
            "roles/a.yaml:9:12: tools[0].tools: expected at least 1 item, found 0",
        ),
        (
            ["    tools: [a.b]"],
            "https://tools.example.com/mcp",
            "roles/a.yaml:9:13: tools[0].tools[0]: the model cannot call a function named 'a.b' (hint: name it "
            "for the model (letters, digits, _, -): {tool: a.b, name: ...})",
        ),
        (
            ["    tools: [{tool: search, as: find}]"],
            "https://tools.example.com/mcp",
            "roles/a.yaml:9:28: tools[0].tools[0].as: unknown key 'as' (hint: valid keys: tool, name, description)",
        ),
    ],
)
def test_a_block_breaking_the_rules_is_refused_where_it_does(
    roles_dir: Path, write: Write, lines: list[str], url: str, error: str
) -> None:
    errors, role = load(roles_dir, write, mcp_block(*lines, url=url), RolePolicy())
    assert role is None
    assert errors == [error]


def test_the_operator_may_allow_a_private_server(roles_dir: Path, write: Write) -> None:
    errors, _ = load(
        roles_dir, write, mcp_block("    tools: [search]", url="http://127.0.0.1:8000/mcp"), PRIVATE
    )
    assert errors == []


def test_offered_names_are_unique_across_the_role(roles_dir: Path, write: Write) -> None:
    text = mcp_block(
        "    tools: [search, {tool: find, name: search}]",
        "  - {kind: builtin, builtin: end_session, name: end_session, description: End.}",
        "  - kind: mcp",
        "    server: other",
        "    url: https://other.example.com/mcp",
        "    tools: [end_session]",
    )
    errors, _ = load(roles_dir, write, text)
    assert errors == [
        "roles/a.yaml:9:40: tools[0].tools[1].name: duplicate tool name 'search' (hint: also defined at "
        "roles/a.yaml:9:13)",
        "roles/a.yaml:14:13: tools[2].tools[0].name: duplicate tool name 'end_session' (hint: also defined at "
        "roles/a.yaml:10:49)",
    ]


def test_the_editor_schema_describes_mcp_and_python_tools() -> None:
    schema = json_schema("role")
    kinds = {
        d["properties"]["kind"]["const"]
        for d in schema["$defs"].values()
        if "kind" in d.get("properties", {}) and "const" in d["properties"]["kind"]
    }
    assert {"mcp", "python"} <= kinds
    choice = schema["$defs"]["McpServer"]["properties"]["tools"]["items"]
    assert {"type": "string"} in choice["anyOf"]  # a plain tool name is allowed
