"""The roles shipped in roles/ are valid, wired together, and use every feature they should show off."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.roles import BuiltinTool, FrontendTool, HandoffTool, HttpTool, RoleRegistry, check_dir

pytestmark = pytest.mark.unit

ROLES = Path(__file__).resolve().parents[2] / "roles"


@pytest.fixture(scope="module")
def registry() -> RoleRegistry:
    return RoleRegistry(ROLES)


def test_check_passes() -> None:
    report = check_dir(ROLES)
    assert [str(e) for r in report.results for e in r.errors] + [str(e) for e in report.other_errors] == []
    assert [r.role.name for r in report.results if r.role] == ["concierge", "cooking-guide", "sommelier"]


def test_every_role_file_starts_with_the_schema_comment() -> None:
    for path in ROLES.glob("*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=./role.schema.json\n"), path
    for path in (ROLES / "fragments").glob("*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=../fragment.schema.json\n"), path


def test_cooking_guide_tools(registry: RoleRegistry) -> None:
    role = registry.get("cooking-guide")
    kinds = {tool.name: type(tool) for tool in role.tools}
    assert kinds == {
        "find_recipes": HttpTool,
        "show_recipe": FrontendTool,
        "highlight_step": FrontendTool,
        "check_ingredient": FrontendTool,
        "start_timer": FrontendTool,
        "cancel_timer": FrontendTool,
        "ask_sommelier": HandoffTool,
        "end_session": BuiltinTool,
        "show_markdown": FrontendTool,
    }
    search = role.tool("find_recipes")
    assert isinstance(search, HttpTool)
    assert search.url == "/api/recipes/search"  # on ROLECALL_APP_URL, wherever the backend runs
    assert search.secret_env == "ROLECALL_TOOL_SECRET"
    assert "prompts/cooking-guide.md" in " ".join(role.files)


def test_handoffs_form_a_closed_graph(registry: RoleRegistry) -> None:
    names = set(registry.names())
    graph = {name: set(registry.get(name).handoff_targets) for name in names}
    assert graph == {
        "concierge": {"cooking-guide", "sommelier"},
        "cooking-guide": {"sommelier"},
        "sommelier": {"cooking-guide", "concierge"},
    }


def test_shared_fragment_used_by_several_roles(registry: RoleRegistry) -> None:
    users = [n for n in registry.names() if "roles/fragments/voice-style.yaml" in registry.get(n).files]
    assert len(users) >= 2


def test_rendering_with_and_without_variables(registry: RoleRegistry) -> None:
    role = registry.get("cooking-guide")
    default = role.render()
    assert "{{" not in default.instructions
    assert "standing next to the user" in default.instructions
    assert "standing next to Ana" in role.render({"user_name": "Ana"}).instructions
    assert default.greeting is not None and default.greeting.instructions is not None
    assert "Greet the user" in default.greeting.instructions
