"""The generated reference pages hold everything they are generated from, and the site builds strictly.

The pages are written from the code at build time (docs/reference_pages.py, added by docs/hooks.py), so
they cannot go stale; these tests make sure no generator silently drops a part of what it documents.
"""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
import yaml
from mkdocs.commands.build import build
from mkdocs.config import load_config

from docs import reference_pages as ref
from worker import protocol
from worker.cli import COMMANDS
from worker.roles.models import FragmentFile, RoleFile
from worker.settings import Settings
from worker.web.openapi import spec

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_has_a_row_with_its_default_and_its_docstring() -> None:
    page = ref.settings_page()
    rows = {env: (default, doc) for env, default, doc in ref.settings_rows()}
    assert list(rows) == list(Settings.env_names().values())
    for env, (_, doc) in rows.items():
        assert f"| `{env}` |" in page
        assert doc and "Env:" not in doc, env
    assert rows["ROLECALL_MAX_SESSIONS"][0] == "`20`"
    assert "Secret" in rows["LIVEKIT_API_SECRET"][1] and "Secret" not in rows["LIVEKIT_URL"][1]


def test_every_role_and_fragment_field_and_every_section_is_documented() -> None:
    page = ref.roles_page()
    for model in (RoleFile, FragmentFile):
        for name, info in model.model_fields.items():
            assert f"| `{name}` |" in page, name
            assert info.description and ref._cell(info.description) in page, name
    schema = RoleFile.model_json_schema()
    for name in schema["$defs"]:
        assert f"{{ #schema-{name.lower()} }}" in page, name


def test_every_route_and_webhook_is_documented() -> None:
    page = ref.web_api_page()
    doc = spec()
    for path, operations in doc["paths"].items():
        for method in operations:
            assert f"### {method.upper()} `{path}`" in page
    for name in doc["webhooks"]:
        assert f"`webhook {name}`" in page
    for name in doc["components"]["schemas"]:
        assert f"{{ #schema-{name.lower()} }}" in page


def test_every_protocol_constant_literal_and_message_is_documented() -> None:
    page = ref.protocol_page()
    for name, value in vars(protocol).items():
        if name.startswith("_"):
            continue
        if (name.isupper() and type(value) in (str, int, float)) or typing.get_origin(
            value
        ) is typing.Literal:
            assert f"| `{name}` |" in page, name
        elif isinstance(value, type) and value.__module__ == protocol.__name__:
            assert f"### {name} " in page, name


def test_every_command_is_documented_with_its_help() -> None:
    page = ref.cli_page()
    for command in COMMANDS:
        assert f"## `python -m worker {command}`" in page
    assert "## `python -m worker roles check`" in page and "--online" in page


def test_every_error_class_and_code_is_documented() -> None:
    page = ref.errors_page()
    classes = ref.error_classes()
    assert len(classes) > 20
    for cls in classes:
        assert f"| `{cls.__name__}` | `{cls.__module__}` |" in page
    for value in typing.get_args(protocol.EndReason) + typing.get_args(protocol.AgentErrorCode):
        assert f"`{value}`" in page
    assert "429" in page and "too_many_sessions" in page


def test_the_nav_lists_every_generated_page() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    listed: list[str] = []

    def walk(items: list[typing.Any]) -> None:
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            walk(value) if isinstance(value, list) else listed.append(value)

    walk(config["nav"])
    assert set(ref.PAGES) <= set(listed)
    missing = [p for p in listed if p not in ref.PAGES and not p.startswith("explanation/bench/")]
    assert [p for p in missing if not (ROOT / "docs" / p).is_file()] == []


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    """What `make test` runs (`mkdocs build --strict`): a broken link, anchor or nav entry fails."""
    config = load_config(str(ROOT / "mkdocs.yml"), site_dir=str(tmp_path / "site"), strict=True)
    build(config)
    assert (tmp_path / "site" / "reference" / "settings" / "index.html").is_file()


def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nSee [nowhere](missing.md).\n")
    (tmp_path / "mkdocs.yml").write_text("site_name: t\ndocs_dir: docs\nstrict: true\n")
    config = load_config(str(tmp_path / "mkdocs.yml"), site_dir=str(tmp_path / "site"))
    with pytest.raises(SystemExit):
        build(config)
