"""Field validation: every bad value is reported at its line and column, with what was expected."""

from __future__ import annotations

import pytest

from tests.roles.conftest import MINIMAL, Check
from worker.roles.models import ModelSettings, RoleFile, SemanticVad

pytestmark = pytest.mark.unit

BASE = MINIMAL.format(name="a")
VOICES = "alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar"


def tool(line: str) -> str:
    return BASE + "tools:\n  - " + line + "\n"


CASES = {
    "voice no": (
        BASE + "model:\n  voice: no\n",
        f"roles/a.yaml:6:10: model.voice: expected one of {VOICES}, found no (YAML 1.1 reads unquoted no as "
        f"the "
        'boolean false) (hint: quote it: "no")',
    ),
    "title yes": (
        "name: a\ntitle: yes\ndescription: D\ninstructions: x\n",
        "roles/a.yaml:2:8: title: expected text, found yes (YAML 1.1 reads unquoted yes as the boolean true) "
        "(hint: "
        'quote it: "yes")',
    ),
    "title date": (
        "name: a\ntitle: 2024-01-01\ndescription: D\ninstructions: x\n",
        "roles/a.yaml:2:8: title: expected text, found 2024-01-01 (YAML 1.1 reads unquoted 2024-01-01 as a "
        "date "
        '(2024-01-01)) (hint: quote it: "2024-01-01")',
    ),
    "unknown key": (
        BASE + "model:\n  vocie: alloy\n",
        "roles/a.yaml:6:3: model.vocie: unknown key 'vocie' (hint: did you mean 'voice'?)",
    ),
    "unknown top-level key": (
        BASE + "tool: []\n",
        "roles/a.yaml:5:1: tool: unknown key 'tool' (hint: did you mean 'tools'?)",
    ),
    "bad voice": (
        BASE + "model:\n  voice: alloyy\n",
        f"roles/a.yaml:6:10: model.voice: expected one of {VOICES}, found 'alloyy' (hint: did you mean "
        f"'alloy'?)",
    ),
    "temperature too high": (
        BASE + "model:\n  temperature: 1.5\n",
        "roles/a.yaml:6:16: model.temperature: expected a number from 0.6 to 1.2, found 1.5",
    ),
    "temperature not a number": (
        BASE + "model:\n  temperature: hot\n",
        "roles/a.yaml:6:16: model.temperature: expected a number, found 'hot'",
    ),
    "name not the file stem": (
        MINIMAL.format(name="b"),
        "roles/a.yaml:1:7: name: name 'b' must equal the file name 'a' (hint: set name: a, or rename the "
        "file to b.yaml)",
    ),
    "bad name": (
        MINIMAL.format(name="A b"),
        "roles/a.yaml:1:7: name: expected text matching ^[a-z0-9][a-z0-9_-]{0,63}$, found 'A b'",
    ),
    "missing title": (
        "name: a\ndescription: D\ninstructions: x\n",
        "roles/a.yaml:1:1: title: missing required key 'title'",
    ),
    "max_output_tokens too large": (
        BASE + "model:\n  max_output_tokens: 5000\n",
        "roles/a.yaml:6:22: model.max_output_tokens: expected a number at most 4096 or inf, found 5000",
    ),
    "max_output_tokens word": (
        BASE + "model:\n  max_output_tokens: infinite\n",
        "roles/a.yaml:6:22: model.max_output_tokens: expected an integer or inf, found 'infinite'",
    ),
    "two modalities": (
        BASE + "model:\n  modalities: [audio, text]\n",
        "roles/a.yaml:6:15: model.modalities: expected at most 1 item, found 2",
    ),
    "bad eagerness": (
        BASE + "model:\n  turn_detection: {type: semantic_vad, eagerness: slow}\n",
        "roles/a.yaml:6:51: model.turn_detection.eagerness: expected one of low, medium, high, auto, found "
        "'slow' "
        "(hint: did you mean 'low'?)",
    ),
    "bad turn detection type": (
        BASE + "model:\n  turn_detection: {type: vad}\n",
        "roles/a.yaml:6:26: model.turn_detection.type: expected one of server_vad, semantic_vad, found 'vad'",
    ),
    "turn detection without type": (
        BASE + "model:\n  turn_detection: {eagerness: low}\n",
        "roles/a.yaml:6:19: model.turn_detection: missing required key 'type' (one of server_vad, "
        "semantic_vad)",
    ),
    "transcription language": (
        BASE + "model:\n  input_transcription: {language: english}\n",
        "roles/a.yaml:6:35: model.input_transcription.language: expected text matching ^[a-z]{2}$, found "
        "'english'",
    ),
    "limit out of range": (
        BASE + "limits:\n  max_duration_s: 5\n",
        "roles/a.yaml:6:19: limits.max_duration_s: expected a number from 10 to 14400, found 5",
    ),
    "variable default boolean": (
        BASE + "variables:\n  x: {default: no}\n",
        "roles/a.yaml:6:16: variables.x.default: expected text or a number, found no (YAML 1.1 reads "
        "unquoted no "
        'as the boolean false) (hint: quote it: "no")',
    ),
    "variable name": (
        BASE + "variables:\n  bad-name: {default: x}\n",
        "roles/a.yaml:6:3: variables.bad-name: expected text matching ^[A-Za-z_][A-Za-z0-9_]{0,63}$, found "
        "'bad-name'",
    ),
    "greeting with both": (
        BASE + "greeting: {say: hi, instructions: greet}\n",
        "roles/a.yaml:5:11: greeting: expected exactly one of instructions or say",
    ),
    "greeting number": (
        BASE + "greeting: 5\n",
        "roles/a.yaml:5:11: greeting: expected text or a mapping with instructions or say, found 5 (YAML 1.1 "
        "reads "
        'unquoted 5 as a number (5)) (hint: quote it: "5")',
    ),
    "instructions number": (
        "name: a\ntitle: T\ndescription: D\ninstructions: 5\n",
        "roles/a.yaml:4:15: instructions: expected text or a mapping {file: prompts/NAME.md}, found 5 (YAML "
        "1.1 "
        'reads unquoted 5 as a number (5)) (hint: quote it: "5")',
    ),
    "tool kind unknown": (
        tool("{kind: rpc, name: e, description: d}"),
        "roles/a.yaml:6:12: tools[0].kind: expected one of frontend, http, handoff, builtin, python, mcp, found 'rpc'",
    ),
    "tool kind missing": (
        tool("{name: e, description: d}"),
        "roles/a.yaml:6:5: tools[0]: missing required key 'kind' (one of frontend, http, handoff, builtin, python, mcp)",
    ),
    "tool name pattern": (
        tool("{kind: frontend, name: 'bad name', description: d}"),
        "roles/a.yaml:6:28: tools[0].name: expected text matching ^[a-zA-Z0-9_-]{1,64}$, found 'bad name'",
    ),
    "rpc method too long": (
        tool("{kind: frontend, name: e, description: d, rpc_method: " + "x" * 70 + "}"),
        "roles/a.yaml:6:59: tools[0].rpc_method: expected at most 64 bytes, found 70",
    ),
    "bad builtin": (
        tool("{kind: builtin, name: e, description: d, builtin: hangup}"),
        "roles/a.yaml:6:55: tools[0].builtin: expected end_session, found 'hangup'",
    ),
    "http url scheme": (
        tool("{kind: http, name: e, description: d, url: 'ftp://x/y'}"),
        "roles/a.yaml:6:48: tools[0].url: expected an http:// or https:// URL, found scheme 'ftp'",
    ),
    "http url with credentials": (
        tool("{kind: http, name: e, description: d, url: 'https://u:p@x/y'}"),
        "roles/a.yaml:6:48: tools[0].url: credentials in the URL are not allowed; use headers with "
        "${ENV_NAME}",
    ),
    "http unknown key": (
        tool("{kind: http, name: e, description: d, url: 'https://x', urll: 'https://y'}"),
        "roles/a.yaml:6:61: tools[0].urll: unknown key 'urll' (hint: did you mean 'url'?)",
    ),
    "http path with a space": (
        tool("{kind: http, name: e, description: d, url: '/api/a b'}"),
        "roles/a.yaml:6:48: tools[0].url: expected a path like /api/recipes/search (no spaces, no #fragment)",
    ),
    "http url without host": (
        tool("{kind: http, name: e, description: d, url: '//evil.test'}"),
        "roles/a.yaml:6:48: tools[0].url: expected an http:// or https:// URL, found scheme '(none)'",
    ),
    "http host not allowed": (
        tool("{kind: http, name: e, description: d, url: 'https://x.test/', allowed_hosts: [y.test]}"),
        "roles/a.yaml:6:5: tools[0]: url host 'x.test' is not in allowed_hosts (y.test)",
    ),
    "secret inline": (
        tool("{kind: http, name: e, description: d, url: 'https://x/y', secret_env: 'sk-live-abc123'}"),
        "roles/a.yaml:6:75: tools[0].secret_env: expected the NAME of an environment variable (like "
        "RECIPES_SECRET), "
        "found something else; if that was the secret itself, remove it from the file, put it in the "
        "environment "
        "and name the variable here",
    ),
    "credential header": (
        tool(
            "{kind: http, name: e, description: d, url: 'https://x/y', headers: {Authorization: Bearer abc}}"
        ),
        "roles/a.yaml:6:72: tools[0].headers: header Authorization looks like a credential; reference an "
        "environment variable instead of writing the value, e.g. Authorization: Bearer ${API_TOKEN}",
    ),
    "worker header": (
        tool(
            "{kind: http, name: e, description: d, url: 'https://x/y', headers: {Content-Type: text/plain}}"
        ),
        "roles/a.yaml:6:73: tools[0].headers.Content-Type: header Content-Type is set by the worker and "
        "cannot be configured",
    ),
}


@pytest.mark.parametrize("text, expected", CASES.values(), ids=list(CASES))
def test_rejected_value(check: Check, text: str, expected: str) -> None:
    assert check(text) == [expected]


def test_all_errors_of_a_file_are_reported(check: Check) -> None:
    text = "name: a\ntitle: T\ndescription: D\ninstructions: x\nmodel:\n  voice: nova\n  temperature: 3\n"
    assert check(text) == [
        f"roles/a.yaml:6:10: model.voice: expected one of {VOICES}, found 'nova'",
        "roles/a.yaml:7:16: model.temperature: expected a number from 0.6 to 1.2, found 3",
    ]


def test_defaults_match_livekit_openai_defaults() -> None:
    settings = ModelSettings()
    assert settings.name == "gpt-realtime"
    assert settings.voice == "marin"
    assert settings.turn_detection == SemanticVad(type="semantic_vad", eagerness="medium")
    assert settings.max_output_tokens == "inf"
    assert settings.input_transcription is not None
    assert settings.input_transcription.model == "gpt-4o-mini-transcribe"


def test_shorthands() -> None:
    role = RoleFile.model_validate(
        {
            "name": "a",
            "title": "T",
            "description": "D",
            "instructions": "x",
            "greeting": "Say hi",
            "model": {"turn_detection": "none", "input_transcription": None},
        }
    )
    assert role.greeting is not None and role.greeting.instructions == "Say hi"
    assert role.model.turn_detection is None
    assert role.model.input_transcription is None


def test_env_references_in_headers_are_listed() -> None:
    role = RoleFile.model_validate(
        {
            "name": "a",
            "title": "T",
            "description": "D",
            "instructions": "x",
            "tools": [
                {
                    "kind": "http",
                    "name": "h",
                    "description": "d",
                    "url": "https://x.test/",
                    "secret_env": "S",
                    "headers": {"Authorization": "Bearer ${TOKEN}", "X-Team": "kitchen"},
                }
            ],
        }
    )
    assert role.tools[0].env_names() == ["S", "TOKEN"]  # type: ignore[union-attr]
