"""Cross-file checks: prompt files, fragments, handoff targets, tool names, template variables."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.roles.conftest import MINIMAL, Check, Write
from worker.roles.loader import RoleLoader, check_dir

pytestmark = pytest.mark.unit

BASE = MINIMAL.format(name="a")
HEAD = "name: a\ntitle: T\ndescription: D\n"
FRAGMENT = (
    "instructions: Be brief.\ntools:\n"
    "  - {kind: builtin, builtin: end_session, name: end_session, description: d}\n"
)


def test_prompt_file_escaping_the_roles_dir(check: Check) -> None:
    assert check(HEAD + "instructions:\n  file: ../secret.md\n") == [
        "roles/a.yaml:5:9: instructions.file: '..' is not allowed in paths; files must be inside the roles "
        "directory (hint: found '../secret.md')"
    ]


def test_prompt_file_absolute(check: Check) -> None:
    assert check(HEAD + "instructions:\n  file: /etc/passwd\n") == [
        "roles/a.yaml:5:9: instructions.file: expected a path relative to the roles directory, found an "
        "absolute "
        "path (hint: found '/etc/passwd')"
    ]


def test_prompt_file_symlink_outside(check: Check, roles_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.md").write_text("secret")
    os.symlink(tmp_path / "outside.md", roles_dir / "prompts" / "link.md")
    assert check(HEAD + "instructions:\n  file: prompts/link.md\n") == [
        "roles/a.yaml:5:9: instructions.file: path resolves outside the roles directory (through a symlink) "
        "(hint: found 'prompts/link.md')"
    ]


def test_prompt_file_missing(check: Check) -> None:
    extra = {"prompts/guide.md": "Hi"}
    assert check(HEAD + "instructions:\n  file: prompts/gide.md\n", extra) == [
        "roles/a.yaml:5:9: instructions.file: prompt file not found: prompts/gide.md (hint: existing: "
        "prompts/guide.md)"
    ]


def test_unknown_variable_inline_block(check: Check) -> None:
    text = HEAD + "variables:\n  user_name: {default: x}\ninstructions: |\n  Hello\n  Hi {{ usr_name }}!\n"
    assert check(text) == [
        "roles/a.yaml:8:6: instructions: unknown variable 'usr_name' (hint: did you mean 'user_name'? "
        "variables "
        "declared in roles/a.yaml: user_name)"
    ]


def test_unknown_variable_in_prompt_file(check: Check) -> None:
    extra = {"prompts/p.md": "# Role\n\nYou help {{ user }}.\n"}
    assert check(HEAD + "instructions: {file: prompts/p.md}\n", extra) == [
        "roles/prompts/p.md:3:10: instructions: unknown variable 'user' (hint: variables declared in "
        "roles/a.yaml: "
        "none)"
    ]


def test_unknown_variable_in_greeting(check: Check) -> None:
    assert check(BASE + "greeting: 'Hi {{ name }}'\n") == [
        "roles/a.yaml:5:15: greeting: unknown variable 'name' (hint: variables declared in roles/a.yaml: "
        "none)"
    ]


def test_template_expression_rejected(check: Check) -> None:
    assert check(HEAD + "instructions: 'Hi {{ user.name }}'\n") == [
        "roles/a.yaml:4:19: instructions: {{ user.name }} is not a variable; only {{ name }} is supported"
    ]


def test_template_unclosed(check: Check) -> None:
    assert check(HEAD + "instructions: 'Hi {{ user'\n") == [
        "roles/a.yaml:4:19: instructions: {{ is never closed with }}"
    ]


def test_fragment_missing(check: Check) -> None:
    extra = {"fragments/voice-style.yaml": FRAGMENT}
    assert check(BASE + "include: [voice]\n", extra) == [
        "roles/a.yaml:5:11: include[0]: unknown fragment 'voice' (hint: did you mean 'voice-style'? existing "
        "fragments: voice-style)"
    ]


def test_fragment_errors_point_into_the_fragment(check: Check) -> None:
    extra = {
        "fragments/f.yaml": "instructions: x\ntools:\n"
        "  - {kind: builtin, builtin: end_call, name: e, description: d}\n"
    }
    assert check(BASE + "include: [f]\n", extra) == [
        "roles/fragments/f.yaml:3:30: tools[0].builtin: expected end_session, found 'end_call'"
    ]


def test_duplicate_tool_name_across_fragment(check: Check) -> None:
    extra = {"fragments/f.yaml": FRAGMENT}
    text = BASE + "include: [f]\ntools:\n  - {kind: frontend, name: end_session, description: d}\n"
    assert check(text, extra) == [
        "roles/fragments/f.yaml:3:49: tools[0].name: duplicate tool name 'end_session' (hint: also defined "
        "at roles/a.yaml:7:28)"
    ]


def test_duplicate_tool_name(check: Check) -> None:
    text = (
        BASE
        + "tools:\n  - {kind: frontend, name: x, description: d}\n"
        + "  - {kind: frontend, name: x, description: d}\n"
    )
    assert check(text) == [
        "roles/a.yaml:7:28: tools[1].name: duplicate tool name 'x' (hint: also defined at roles/a.yaml:6:28)"
    ]


def test_handoff_target_missing(check: Check) -> None:
    assert check(BASE + "tools:\n  - {kind: handoff, name: h, description: d, target: sommelierr}\n") == [
        "roles/a.yaml:6:54: tools[0].target: unknown role 'sommelierr' (hint: did you mean 'sommelier'? "
        "existing "
        "roles: sommelier)"
    ]


def test_handoff_to_itself(check: Check) -> None:
    assert check(BASE + "tools:\n  - {kind: handoff, name: h, description: d, target: a}\n") == [
        "roles/a.yaml:6:54: tools[0].target: a role cannot hand off to itself"
    ]


PARAMS = BASE + "tools:\n  - kind: frontend\n    name: e\n    description: d\n    parameters:\n"
PARAM_CASES = {
    "bad type": (
        "      type: object\n      properties:\n        minutes:\n          type: integr\n",
        "roles/a.yaml:13:17: tools[0].parameters.properties.minutes.type: expected one of string, number, "
        "integer, "
        "boolean, object, array, null, [TYPE, \"null\"], found 'integr' (hint: did you mean 'integer'?)",
    ),
    "unsupported keyword": (
        "      type: object\n      properties:\n        x:\n          type: string\n          oneOf: []\n",
        "roles/a.yaml:14:18: tools[0].parameters.properties.x.oneOf: keyword 'oneOf' is not supported by "
        "OpenAI "
        "function calling (hint: did you mean 'anyOf'?)",
    ),
    "not a valid JSON schema": (
        "      type: object\n      required: notalist\n",
        "roles/a.yaml:11:17: tools[0].parameters.required: not a valid JSON Schema: 'notalist' is not of "
        "type "
        "'array'",
    ),
    "top level not object": (
        "      type: array\n",
        "roles/a.yaml:10:13: tools[0].parameters.type: expected type: object at the top level (function "
        "arguments "
        "are an object), found type 'array'",
    ),
    "required not in properties": (
        "      type: object\n      properties:\n        query: {type: string}\n      required: [qeury]\n",
        "roles/a.yaml:13:18: tools[0].parameters.required[0]: required lists 'qeury', which is not in "
        "properties "
        "(hint: did you mean 'query'?)",
    ),
    "unsupported format": (
        "      type: object\n      properties:\n        u: {type: string, format: uri}\n",
        "roles/a.yaml:12:35: tools[0].parameters.properties.u.format: format 'uri' is not supported (hint: "
        "supported: date-time, time, date, duration, email, hostname, ipv4, ipv6, uuid)",
    ),
}


@pytest.mark.parametrize("schema, expected", PARAM_CASES.values(), ids=list(PARAM_CASES))
def test_rejected_parameters(check: Check, schema: str, expected: str) -> None:
    assert check(PARAMS + schema) == [expected]


def test_yes_no_enum_in_parameters(check: Check) -> None:
    schema = "      type: object\n      properties:\n        a: {type: string, enum: [yes, no]}\n"
    assert check(PARAMS + schema) == [
        "roles/a.yaml:12:34: tools[0].parameters.properties.a.enum[0]: enum value true is not of type string "
        '(YAML 1.1 reads unquoted yes as the boolean true) (hint: quote it: "yes")',
        "roles/a.yaml:12:39: tools[0].parameters.properties.a.enum[1]: enum value false is not of type "
        "string "
        '(YAML 1.1 reads unquoted no as the boolean false) (hint: quote it: "no")',
    ]


def test_nullable_type_and_nested_schemas_accepted(check: Check) -> None:
    schema = (
        "      type: object\n      properties:\n        n: {type: [integer, 'null'], minimum: 1}\n"
        "        tags: {type: array, items: {type: string, enum: [a, b]}, maxItems: 3}\n"
        "        pick: {anyOf: [{type: string}, {type: number}]}\n      required: [n]\n"
        "      additionalProperties: false\n"
    )
    assert check(PARAMS + schema) == []


def test_role_is_built_from_fragments_and_prompt_file(write: Write, roles_dir: Path) -> None:
    write("prompts/p.md", "You are {{ who }}.\n")
    write("fragments/f.yaml", FRAGMENT)
    write(
        "a.yaml",
        HEAD + "variables:\n  who: {default: a helper}\ninclude: [f]\ninstructions: {file: prompts/p.md}\n",
    )
    result = RoleLoader(roles_dir).load(os.fspath(roles_dir / "a.yaml"))
    assert result.errors == []
    role = result.role
    assert role is not None
    assert role.instructions == "You are {{ who }}.\n\nBe brief."
    assert [t.name for t in role.tools] == ["end_session"]
    assert role.files == ("roles/a.yaml", "roles/prompts/p.md", "roles/fragments/f.yaml")
    assert role.render({"who": "Ana's guide"}).instructions == "You are Ana's guide.\n\nBe brief."


def test_check_dir_reports_bad_file_names_and_broken_unused_fragments(write: Write, roles_dir: Path) -> None:
    write("a.yaml", BASE)
    write("Bad Name.yaml", BASE)
    write("fragments/unused.yaml", "tools: 3\n")
    report = check_dir(roles_dir)
    assert not report.ok
    assert [str(e) for e in report.other_errors] == [
        "roles/Bad Name.yaml:1:1: file name 'Bad Name' is not a valid name (hint: use lowercase letters, "
        "digits, - "
        "and _ (starting with a letter or digit, at most 64))",
        "roles/fragments/unused.yaml:1:8: tools: expected a list, found 3",
    ]
