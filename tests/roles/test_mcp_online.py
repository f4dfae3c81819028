"""`roles check --online`: connect to the MCP servers the roles name (a real server, in a child process),
and report each allowlisted tool the server does not list or describes in a way OpenAI would not take,
at its line in the role file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.roles.conftest import MINIMAL, Write
from tests.support.mcp_server import McpServerProcess, free_port
from worker.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[McpServerProcess]:
    running = McpServerProcess(free_port(), "sse", tmp_path_factory.mktemp("mcp") / "server.log").start()
    yield running
    running.stop()


def test_online_check_lists_the_servers_and_locates_each_problem(
    server: McpServerProcess,
    roles_dir: Path,
    write: Write,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    down = free_port()
    write(
        "a.yaml",
        MINIMAL.format(name="a")
        + f"""tools:
  - kind: mcp
    server: kitchen
    url: {server.url}
    transport: sse
    tools:
      - search_recipes
      - {{tool: get_recipes, name: recipes}}
      - positive
  - kind: mcp
    server: gone
    url: http://127.0.0.1:{down}/mcp
    tools: [anything]
""",
    )
    monkeypatch.setenv("ROLECALL_HTTP_PRIVATE_HOSTS", "127.0.0.1")
    assert main(["roles", "check", "roles"]) == 0  # offline, the file is fine
    capsys.readouterr()
    assert main(["roles", "check", "--online", "roles"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        "ok  a  (roles/a.yaml)",
        f"ok  mcp kitchen  ({server.url}: 7 tools listed)",
        f"--  mcp gone  (http://127.0.0.1:{down}/mcp: not reachable)",
    ]
    assert out[3] == (
        "roles/a.yaml:12:9: tools[0].tools[1]: the kitchen server does not list 'get_recipes' (hint: it lists: "
        "broken, delete_everything, get_recipe, huge, positive, search_recipes, slow)"
    )
    assert out[4] == (
        "roles/a.yaml:13:9: tools[0].tools[2]: the kitchen server's input schema of 'positive' is not one OpenAI "
        "function calling takes: properties.n.exclusiveMinimum: keyword 'exclusiveMinimum' is not supported by "
        "OpenAI function calling (hint: change the tool on the server, or leave it out of the allowlist)"
    )
    assert out[5].startswith(
        "roles/a.yaml:17:13: tools[1].tools[0]: not checked: the gone server could not be reached"
    )
    assert len(out) == 6
