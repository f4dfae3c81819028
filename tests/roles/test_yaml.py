"""Role files are read by the safe YAML layer (`worker.yamlfile`): everything `yaml.safe_load` would accept
but we refuse is a `RoleSyntaxError` line naming the file, line and column."""

from __future__ import annotations

import pytest

from tests.roles.conftest import Check
from worker.yamlfile import MAX_ALIASES

pytestmark = pytest.mark.unit


def _bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


CASES = {
    "malformed": (
        "name: a\ntitle: [T\n",
        "roles/a.yaml:3:1: not valid YAML: expected ',' or ']', but got '<stream end>' "
        "(hint: while parsing a flow sequence on line 2)",
    ),
    "duplicate key": (
        "name: a\nname: b\n",
        "roles/a.yaml:2:1: duplicate key 'name' (first defined on line 1)",
    ),
    "octal": (
        "name: a\ntitle: T\ndescription: D\ninstructions: x\nmodel:\n  name: 0123\n",
        "roles/a.yaml:6:9: model.name: 0123 is read by YAML 1.1 as the number 83 (hint: quote it if it is "
        "text "
        '("0123"), or write the number as 83)',
    ),
    "sexagesimal": (
        "limits:\n  max_duration_s: 1:30\n",
        "roles/a.yaml:2:19: limits.max_duration_s: 1:30 is read by YAML 1.1 as the number 90 (hint: quote it "
        "if it "
        'is text ("1:30"), or write the number as 90)',
    ),
    "underscore number": (
        "limits:\n  max_duration_s: 1_000\n",
        "roles/a.yaml:2:19: limits.max_duration_s: 1_000 is read by YAML 1.1 as the number 1000 (hint: quote "
        "it if "
        'it is text ("1_000"), or write the number as 1000)',
    ),
    "hex": (
        "x: 0x1f\n",
        "roles/a.yaml:1:4: x: 0x1f is read by YAML 1.1 as the number 31 (hint: quote it if it is text "
        '("0x1f"), or '
        "write the number as 31)",
    ),
    "python tag": (
        "name: !!python/object/apply:os.system ['ls']\n",
        "roles/a.yaml:1:7: name: tag !!python/object/apply:os.system is not allowed (hint: only plain YAML "
        "values "
        "(text, numbers, true/false, null, lists, mappings) are accepted)",
    ),
    "custom tag": (
        "title: !secret x\n",
        "roles/a.yaml:1:8: title: tag !secret is not allowed (hint: only plain YAML values (text, numbers, "
        "true/false, null, lists, mappings) are accepted)",
    ),
    "binary tag": (
        "title: !!binary aGVsbG8=\n",
        "roles/a.yaml:1:8: title: tag !!binary is not allowed (hint: only plain YAML values (text, numbers, "
        "true/false, null, lists, mappings) are accepted)",
    ),
    "alias bomb": (_bomb(14), "roles/a.yaml:1:5: more than 20000 values after expanding aliases (*name)"),
    "too many aliases": (
        _bomb(20),
        f"roles/a.yaml:18:12: not valid YAML: more than {MAX_ALIASES} aliases (*name) in one file",
    ),
    "merge key": (
        "<<: {a: 1}\n",
        "roles/a.yaml:1:1: YAML merge keys (<<) are not supported (hint: share settings with include:)",
    ),
    "boolean key": (
        "yes: 1\n",
        "roles/a.yaml:1:1: key yes is not text: YAML 1.1 reads unquoted yes as the boolean true (hint: quote "
        'it: "yes")',
    ),
    "list as key": ("? [1]\n: 2\n", "roles/a.yaml:1:3: a key must be a plain name, not a mapping or a list"),
    "two documents": (
        "a: 1\n---\nb: 2\n",
        "roles/a.yaml:2:1: not valid YAML: but found another document (hint: expected a single document in "
        "the "
        "stream on line 1)",
    ),
    "tab indentation": (
        "name: a\n\ttitle: x\n",
        "roles/a.yaml:2:1: not valid YAML: while scanning for the next token: found character '\\t' that "
        "cannot "
        "start any token",
    ),
    "control character": (
        "title: a\x07b\n",
        "roles/a.yaml:1:9: not valid YAML: control character U+0007 is not allowed (hint: remove it)",
    ),
    "undefined alias": ("title: *nope\n", "roles/a.yaml:1:8: not valid YAML: found undefined alias 'nope'"),
    "too deep": ("x: " + "[" * 80 + "]" * 80 + "\n", "roles/a.yaml:1:68: nested more than 64 levels deep"),
    "empty file": (
        "",
        "roles/a.yaml:1:1: the file is empty; expected a role with name, title, description and instructions",
    ),
    "only comments": (
        "# nothing yet\n",
        "roles/a.yaml:1:1: the file is empty; expected a role with name, title, description and instructions",
    ),
    "top level list": (
        "- a\n- b\n",
        "roles/a.yaml:1:1: expected a mapping (key: value lines) at the top level, found a list",
    ),
    "top level scalar": (
        "hello\n",
        "roles/a.yaml:1:1: expected a mapping (key: value lines) at the top level, found the single value "
        "'hello'",
    ),
}


@pytest.mark.parametrize("text, expected", CASES.values(), ids=list(CASES))
def test_rejected_yaml(check: Check, text: str, expected: str) -> None:
    assert check(text) == [expected]


def test_file_too_large(check: Check) -> None:
    text = "name: a\n" + "# padding\n" * 30000
    assert check(text) == [
        "roles/a.yaml:1:1: file is larger than 256 KiB (hint: split long prompts into prompt files and "
        "fragments)"
    ]


def test_not_utf8(check: Check) -> None:
    assert check(b"name: a\ntitle: \xff\n") == [
        "roles/a.yaml:2:8: not UTF-8 text (byte 0xff) (hint: save the file as UTF-8)"
    ]
