"""The committed JSON Schemas are fresh, and they accept what the loader accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
import yaml
from jsonschema import Draft202012Validator

from worker.roles.schema import SCHEMA_FILES, json_schema, schema_text

pytestmark = pytest.mark.unit

ROLES = Path(__file__).resolve().parents[2] / "roles"


@pytest.mark.parametrize("kind", ["role", "fragment"])
def test_committed_schema_is_fresh(kind: Literal["role", "fragment"]) -> None:
    committed = (ROLES / SCHEMA_FILES[kind]).read_text(encoding="utf-8")
    assert committed == schema_text(kind), (
        "regenerate with: python -m worker roles schema -o roles/role.schema.json"
    )


@pytest.mark.parametrize("kind", ["role", "fragment"])
def test_schema_is_valid_draft_2020_12(kind: Literal["role", "fragment"]) -> None:
    Draft202012Validator.check_schema(json_schema(kind))


def test_starter_files_validate_against_the_schemas() -> None:
    role = Draft202012Validator(json_schema("role"))
    fragment = Draft202012Validator(json_schema("fragment"))
    for path in sorted(ROLES.glob("*.yaml")):
        assert list(role.iter_errors(yaml.safe_load(path.read_text()))) == [], path
    for path in sorted((ROLES / "fragments").glob("*.yaml")):
        assert list(fragment.iter_errors(yaml.safe_load(path.read_text()))) == [], path


def test_schema_knows_shorthands_and_voices() -> None:
    validator = Draft202012Validator(json_schema("role"))
    good = {
        "name": "a",
        "title": "T",
        "description": "D",
        "instructions": "x",
        "greeting": "Hi",
        "model": {"turn_detection": "none", "voice": "cedar"},
    }
    assert list(validator.iter_errors(good)) == []
    bad = dict(good, model={"voice": "nova"})
    assert [e.json_path for e in validator.iter_errors(bad)] == ["$.model.voice"]
    assert json.dumps(json_schema()).count('"marin"') >= 1
