"""Tool parameter `pattern`s must run on RE2 (the worker, linear time) and mean the same in JavaScript (the
page): both are checked when the role loads, with the pattern's line and column."""

from __future__ import annotations

import pytest

from tests.roles.conftest import MINIMAL, Check
from worker.roles.regex import REFUSED_HINT, javascript_problem

pytestmark = pytest.mark.unit


def with_pattern(pattern: str) -> str:
    return MINIMAL.format(name="a") + (
        "tools:\n"
        "  - kind: frontend\n"
        "    name: t\n"
        "    description: d\n"
        "    parameters:\n"
        "      type: object\n"
        f"      properties: {{s: {{type: string, pattern: '{pattern}'}}}}\n"
    )


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("^(?=a)b$", "invalid perl operator: (?="),
        ("^(?!x).*$", "invalid perl operator: (?!"),
        ("(?<=a)b", "invalid perl operator: (?<="),
        (r"(\w)\1", r"invalid escape sequence: \1"),
    ],
)
def test_what_re2_cannot_run_is_refused_with_a_hint(check: Check, pattern: str, reason: str) -> None:
    assert check(with_pattern(pattern)) == [
        f"roles/a.yaml:11:47: tools[0].parameters.properties.s.pattern: pattern is not supported: {reason} "
        f"(hint: {REFUSED_HINT})"
    ]


@pytest.mark.parametrize("pattern", ["(?i)abc", "(?P<n>a)", r"\Aabc\z", r"\pL+", "[[:alpha:]]+", r"\Qa.b\E"])
def test_re2_syntax_javascript_reads_otherwise_is_refused(check: Check, pattern: str) -> None:
    errors = check(with_pattern(pattern))
    assert len(errors) == 1 and "pattern is not supported" in errors[0] and "JavaScript" in errors[0], errors


@pytest.mark.parametrize(
    "pattern", ["^(a+)+$", r"^\p{Lu}[a-z]*$", "^[0-9]{3}-[0-9]{4}$", "(?:ab)+", "(?<y>[0-9]{4})"]
)
def test_patterns_both_engines_read_alike_load(check: Check, pattern: str) -> None:
    assert check(with_pattern(pattern)) == []
    assert javascript_problem(pattern) is None
