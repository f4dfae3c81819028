"""A role's version (a content hash of its files) and its `analysis:` section."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.roles.conftest import MINIMAL, Check, Write
from worker.roles.loader import RoleLoader

pytestmark = pytest.mark.unit

ROLE = """name: a
title: T
description: D
include: [style]
instructions: {file: prompts/a.md}
"""


def _version(roles_dir: Path) -> str:
    role = RoleLoader(roles_dir).load(os.fspath(roles_dir / "a.yaml")).role
    assert role is not None
    return role.version


def test_the_version_changes_with_the_role_file_its_prompt_and_its_fragments(
    roles_dir: Path, write: Write
) -> None:
    write("a.yaml", ROLE)
    write("prompts/a.md", "You cook.")
    write("fragments/style.yaml", "instructions: Be brief.\n")
    first = _version(roles_dir)
    assert len(first) == 12 and int(first, 16) >= 0
    assert _version(roles_dir) == first  # same files, same version
    seen = {first}
    for relative, text in (
        ("prompts/a.md", "You cook well."),
        ("fragments/style.yaml", "instructions: Be very brief.\n"),
        ("a.yaml", ROLE + "greeting: Hi.\n"),
    ):
        write(relative, text)
        version = _version(roles_dir)
        assert version not in seen, relative
        seen.add(version)
    write("roles-unrelated.md", "not used by the role")
    assert _version(roles_dir) in seen


def test_the_same_files_elsewhere_have_the_same_version(
    roles_dir: Path, write: Write, tmp_path: Path
) -> None:
    write("a.yaml", ROLE)
    write("prompts/a.md", "You cook.")
    write("fragments/style.yaml", "instructions: Be brief.\n")
    copy = tmp_path / "elsewhere" / "roles"
    shutil.copytree(roles_dir, copy)
    assert _version(copy) == _version(roles_dir)


ANALYSIS = """
analysis:
  summary: {}
  data:
    instructions: What the user chose.
    schema:
      type: object
      properties: {dish: {type: string}}
      required: [dish]
  success:
    criteria: [The user chose a recipe.]
"""


def test_a_role_declares_its_post_call_analysis(roles_dir: Path, write: Write) -> None:
    write("a.yaml", MINIMAL.format(name="a") + ANALYSIS)
    role = RoleLoader(roles_dir).load(os.fspath(roles_dir / "a.yaml")).role
    assert role is not None and role.analysis is not None
    assert (
        role.analysis.summary is not None and "two or three sentences" in role.analysis.summary.instructions
    )
    schema = role.analysis.answer_schema()
    assert schema["required"] == ["summary", "data", "success"]
    assert schema["properties"]["data"] == {
        "type": "object",
        "properties": {"dish": {"type": "string"}},
        "required": ["dish"],
    }
    assert schema["properties"]["success"]["minItems"] == schema["properties"]["success"]["maxItems"] == 1


@pytest.mark.parametrize(
    ("section", "error"),
    [
        ("analysis: {}", "a.yaml:5:11: analysis: expected at least one of summary, data or success"),
        (
            "analysis: {data: {schema: {type: array}}}",
            "a.yaml:5:34: analysis.data.schema.type: expected type: object at the top level",
        ),
        (
            "analysis: {data: {schema: {type: object, properties: {n: {type: intger}}}}}",
            "analysis.data.schema.properties.n.type: expected one of string, number, integer",
        ),
        ("analysis: {success: {criteria: []}}", "analysis.success.criteria: "),
        ("analysis: {summary: {instruction: x}}", "did you mean 'instructions'?"),
    ],
)
def test_a_bad_analysis_section_is_refused_with_its_place(check: Check, section: str, error: str) -> None:
    errors = check(MINIMAL.format(name="a") + section + "\n")
    assert any(error in e for e in errors), errors
