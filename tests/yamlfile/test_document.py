"""The safe YAML layer itself: positions, plain values, aliases, and the error class the caller names."""

from __future__ import annotations

import pytest

from worker.errors import FileError
from worker.roles.errors import RoleSyntaxError
from worker.yamlfile import parse

pytestmark = pytest.mark.unit


def test_positions_are_recorded_for_values_and_keys() -> None:
    doc = parse("a:\n  b: [1, {c: x}]\n", "f.yaml")
    assert doc.data == {"a": {"b": [1, {"c": "x"}]}}
    assert doc.position(("a", "b", 1, "c")) == (2, 14)
    assert doc.position(("a", "b"), key=True) == (2, 3)
    assert doc.position(("a", "missing")) == (2, 3)  # falls back to the parent mapping


def test_plain_values_keep_their_yaml_types() -> None:
    doc = parse("s: '012'\ni: 12\nf: 1.5\nb: true\nn: null\nd: 2024-01-01\n", "f.yaml")
    assert doc.data["s"] == "012"
    assert [type(doc.data[k]).__name__ for k in "ifbnd"] == ["int", "float", "bool", "NoneType", "date"]


def test_a_few_aliases_are_fine() -> None:
    assert parse("a: &x [1, 2]\nb: *x\n", "f.yaml").data == {"a": [1, 2], "b": [1, 2]}


def test_recursive_alias_is_rejected() -> None:
    with pytest.raises(FileError, match="nested more than 64 levels deep"):
        parse("a: &a [*a]\n", "f.yaml")


@pytest.mark.parametrize(
    "text",
    ["a: [\n", "a: 1\na: 2\n", "a: !!python/none x\n", "a: 012\n", "a: \x07\n", "a: &a [*a]\n"],
    ids=["syntax", "duplicate key", "tag", "yaml 1.1 number", "control character", "recursion"],
)
def test_every_refusal_is_the_error_class_the_caller_names(text: str) -> None:
    with pytest.raises(FileError) as plain:
        parse(text, "f.yaml")
    assert type(plain.value) is FileError
    assert plain.value.file == "f.yaml" and plain.value.line is not None
    with pytest.raises(RoleSyntaxError) as role:
        parse(text, "f.yaml", error=RoleSyntaxError)
    assert role.value.message == plain.value.message
