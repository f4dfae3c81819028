"""`python -m worker roles types`: the JSON Schema → TypeScript mapping, the module, the committed copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.roles.conftest import MINIMAL, Write
from worker.cli import main
from worker.roles.typescript import COMMITTED_PATH, TypesError, generate_dir, pascal, ts_type

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_committed_module_is_fresh() -> None:
    committed = (ROOT / COMMITTED_PATH).read_text(encoding="utf-8")
    assert committed == generate_dir(str(ROOT / "roles")), (
        f"regenerate with: .venv/bin/python -m worker roles types -o {COMMITTED_PATH}"
    )


# ------------------------------------------------------------------------------------- the mapping


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string"}, "string"),
        ({"type": "integer", "minimum": 1}, "number"),
        ({"type": "number"}, "number"),
        ({"type": "boolean"}, "boolean"),
        ({"type": "null"}, "null"),
        ({"type": ["integer", "null"]}, "number | null"),
        ({"type": "string", "enum": ["a", "b"]}, '"a" | "b"'),
        ({"enum": [1, True, None, "x"]}, '1 | true | null | "x"'),
        ({"const": "fixed"}, '"fixed"'),
        ({"type": "array", "items": {"type": "string"}}, "string[]"),
        ({"type": "array", "items": {"type": "string", "enum": ["v", "w"]}}, '("v" | "w")[]'),
        ({"type": "array"}, "unknown[]"),
        ({"anyOf": [{"type": "string"}, {"type": "number"}]}, "string | number"),
        ({"anyOf": [{"type": "string"}, {}]}, "unknown"),
        ({}, "unknown"),
        (True, "unknown"),
        ({"type": "object"}, "Record<string, never>"),
        ({"type": "object", "additionalProperties": {"type": "number"}}, "{\n  [key: string]: number;\n}"),
    ],
)
def test_ts_type(schema: object, expected: str) -> None:
    assert ts_type(schema) == expected


def test_object_required_optional_docs_and_nesting() -> None:
    schema = {
        "type": "object",
        "properties": {
            "label": {
                "type": "string",
                "description": "What it is for. */ not a comment end",
                "maxLength": 40,
            },
            "when": {"type": ["string", "null"], "format": "date-time"},
            "odd-name": {"type": "boolean"},
            "inner": {
                "type": "object",
                "properties": {"n": {"type": "integer"}},
                "required": ["n"],
                "additionalProperties": True,
            },
        },
        "required": ["label", "when"],
        "additionalProperties": False,
    }
    assert ts_type(schema) == (
        "{\n"
        "  /** What it is for. *\\/ not a comment end (max length 40) */\n"
        "  label: string;\n"
        '  /** (format "date-time") */\n'
        "  when: string | null;\n"
        '  "odd-name"?: boolean;\n'
        "  inner?: {\n"
        "    n: number;\n"
        "    [key: string]: unknown;\n"
        "  };\n"
        "}"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [("show_recipe", "ShowRecipe"), ("cooking-guide", "CookingGuide"), ("ui.show", "UiShow"), ("3d", "T3d")],
)
def test_pascal(name: str, expected: str) -> None:
    assert pascal(name) == expected


# ------------------------------------------------------------------------------------------ module

TOOL = """
  - kind: frontend
    name: {name}
    description: {description}
    rpc_method: {method}
    parameters:
      type: object
      properties:
        value: {{type: {type}}}
      required: [value]
"""


def _role(name: str, *tools: str) -> str:
    return MINIMAL.format(name=name) + ("tools:" + "".join(tools) if tools else "")


def test_module_keys_by_method_and_unions_roles_that_disagree(roles_dir: Path, write: Write) -> None:
    write(
        "a.yaml",
        _role("a", TOOL.format(name="show", description="Show it.", method="ui.show", type="string")),
    )
    write(
        "b.yaml",
        _role("b", TOOL.format(name="display", description="Show.", method="ui.show", type="integer")),
    )
    write("c.yaml", _role("c"))
    text = generate_dir(str(roles_dir))
    assert "export interface AUiShowArgs {\n  value: string;\n}" in text
    assert "export interface BUiShowArgs {\n  value: number;\n}" in text
    assert '  "ui.show": AUiShowArgs | BUiShowArgs;' in text
    assert '  "ui.show": { anyOf: [AUiShowSchema, BUiShowSchema] },' in text
    assert '      show: { method: "ui.show", schema: AUiShowSchema },' in text
    assert '      display: { method: "ui.show", schema: BUiShowSchema },' in text
    assert "  c: Record<never, never>;" in text
    assert 'export const TOOL_METHODS = ["ui.show"] as const' in text


def test_roles_that_agree_share_one_interface(roles_dir: Path, write: Write) -> None:
    tool = TOOL.format(name="note", description="Note.", method="note", type="string")
    write("a.yaml", _role("a", tool))
    write("b.yaml", _role("b", tool))
    text = generate_dir(str(roles_dir))
    assert text.count("export interface NoteArgs") == 1
    assert "// --- note (a, b) " in text
    assert "  note: NoteArgs;" in text


def test_invalid_roles_generate_nothing(roles_dir: Path, write: Write) -> None:
    write("a.yaml", "name: a\ntitle: T\n")
    with pytest.raises(TypesError) as caught:
        generate_dir(str(roles_dir))
    assert any("instructions" in str(e) for e in caught.value.errors)


# ------------------------------------------------------------------------------------------ command


def test_types_command_writes_the_module(
    roles_dir: Path, write: Write, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write("a.yaml", _role("a", TOOL.format(name="show", description="Show.", method="show", type="string")))
    assert main(["roles", "types", "roles"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("// Generated from the role files")
    out = tmp_path / "roles.ts"
    assert main(["roles", "types", "roles", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == printed


def test_types_command_fails_on_invalid_roles(
    roles_dir: Path, write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("a.yaml", "name: a\ntitle: T\ndescription: D\ninstructions: x\nmodel: {voice: nova}\n")
    assert main(["roles", "types", "roles"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "roles/a.yaml:5:16: model.voice" in captured.err
    assert "no types generated" in captured.err


EVENTS = """
events:
  - name: {name}
    description: {description}
    respond: {respond}
    payload:
      type: object
      properties:
        value: {{type: {type}}}
      required: [value]
"""


def test_events_get_payload_types_schemas_and_a_map_by_name(roles_dir: Path, write: Write) -> None:
    write(
        "a.yaml",
        _role("a") + EVENTS.format(name="picked", description="Picked.", respond="now", type="string"),
    )
    write(
        "b.yaml",
        _role("b") + EVENTS.format(name="picked", description="Picked.", respond="never", type="integer"),
    )
    write("c.yaml", _role("c"))
    text = generate_dir(str(roles_dir))
    assert "export interface APickedPayload {\n  value: string;\n}" in text
    assert "export interface BPickedPayload {\n  value: number;\n}" in text
    assert '      picked: { respond: "now", schema: APickedEventSchema },' in text
    assert '      picked: { respond: "never", schema: BPickedEventSchema },' in text
    assert "    events: {}," in text  # role c
    assert "  picked: APickedPayload | BPickedPayload;" in text
    assert "  picked: { anyOf: [APickedEventSchema, BPickedEventSchema] }," in text
    assert 'export const EVENT_NAMES = ["picked"] as const' in text
    assert "export type EventName = keyof EventPayloads;" in text


def test_an_event_and_a_tool_of_one_name_do_not_clash(roles_dir: Path, write: Write) -> None:
    tool = TOOL.format(name="picked", description="Pick.", method="picked", type="string")
    write(
        "a.yaml",
        _role("a", tool) + EVENTS.format(name="picked", description="Picked.", respond="now", type="string"),
    )
    text = generate_dir(str(roles_dir))
    assert "export interface PickedArgs" in text and "export interface PickedPayload" in text
    assert "export const PickedSchema" in text and "export const PickedEventSchema" in text
