"""`roles live-variant`: the same role files with their model blocks moved to GPT-Live."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from worker.cli import main
from worker.roles import RoleRegistry, check_dir
from worker.roles.live_variant import to_live, write_live_variant

pytestmark = pytest.mark.unit

ROLES = Path(__file__).resolve().parents[2] / "roles"


def test_only_the_model_block_changes() -> None:
    text = (
        "name: a  # comment kept\nmodel:\n  voice: alloy\n  turn_detection: {type: server_vad}\n"
        "  tool_choice: required\n  pre_connect_audio: true\n\ninstructions: Hi.\n"
    )
    assert to_live(text, "a.yaml") == (
        "name: a  # comment kept\nmodel:\n  api: live\n  voice: marin\n  tool_choice: required\n"
        "  pre_connect_audio: true\n\ninstructions: Hi.\n"
    )
    assert to_live("name: b\ninstructions: Hi.\n", "b.yaml", voice="cedar").endswith(
        "\nmodel:\n  api: live\n  voice: cedar\n"
    )
    assert "  model: {voice: alloy}" not in to_live("name: c\nmodel: {voice: alloy}\n", "c.yaml")


def test_the_starter_roles_variant_is_valid_and_hands_off_on_one_connection(tmp_path: Path) -> None:
    names = write_live_variant(ROLES, tmp_path / "roles")
    assert names == ["concierge", "cooking-guide", "sommelier"]
    report = check_dir(tmp_path / "roles")
    assert report.ok, [str(e) for r in report.results for e in r.errors]
    registry = RoleRegistry(tmp_path / "roles")
    models = [registry.get(n).model for n in names]
    assert {(m.api, m.voice, m.voice_instructions) for m in models} == {
        ("live", "marin", models[0].voice_instructions)
    }
    assert (tmp_path / "roles" / "evals" / "concierge.yaml").is_file()  # evals and prompts come along
    assert registry.get("cooking-guide").instructions == RoleRegistry(ROLES).get("cooking-guide").instructions


def test_the_cli_writes_a_new_directory_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["roles", "live-variant", str(ROLES), "-o", str(tmp_path / "live")]) == 0
    assert "3 roles on api: live" in capsys.readouterr().out
    assert main(["roles", "live-variant", str(ROLES), "-o", str(tmp_path / "live")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_make_demo_can_switch_the_starter_roles_to_gpt_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("demo", ROLES.parent / "scripts" / "demo.py")
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "demo", demo)  # its dataclasses look their module up
    spec.loader.exec_module(demo)
    monkeypatch.setattr(demo, "LIVE_ROLES", tmp_path / "demo-roles-live")
    monkeypatch.setattr(demo, "ROOT", ROLES.parent)
    monkeypatch.setenv("ROLECALL_DEMO_API", "live")
    env, _ = demo._roles()
    assert env == {"ROLECALL_ROLES_DIR": str(tmp_path / "demo-roles-live")}
    assert RoleRegistry(tmp_path / "demo-roles-live").get("concierge").model.live
    monkeypatch.setenv("ROLECALL_DEMO_API", "realtime")
    assert demo._roles()[0] == {}


@pytest.mark.parametrize("api", ["realtime", "live"])
def test_the_last_valid_store_gives_back_the_same_role_on_either_api(api: str, tmp_path: Path) -> None:
    """A job process that starts after an invalid edit reads the role back from the store: the stored
    form must pass the same checks (a realtime role must not come back with live-only settings)."""
    from worker.roles._last_valid import LastValidStore

    roles = ROLES if api == "realtime" else tmp_path / "roles"
    if api == "live":
        write_live_variant(ROLES, roles)
    store = LastValidStore(str(tmp_path / "store"), str(roles))
    for name in ["concierge", "cooking-guide", "sommelier"]:
        role = RoleRegistry(roles).get(name)
        store.save(role, version_ns=1)
        assert store.load(name) == role
