"""The role fields of issue 18: `events:` (UI events from the page) and how a tool runs beside the
conversation (`mode`, `progress`, `duplicate`, `show_arguments`), each refused precisely when wrong."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.roles.conftest import MINIMAL, Check
from worker.roles.loader import RoleLoader

pytestmark = pytest.mark.unit

BASE = MINIMAL.format(name="a")
EVENT = """events:
  - name: ingredient_checked
    description: The user ticked an ingredient by hand.
    respond: now
    payload:
      type: object
      properties: {ingredient: {type: string}, checked: {type: boolean}}
      required: [ingredient, checked]
    rate_limit: {burst: 3, per_minute: 12}
    max_bytes: 512
"""


def test_a_role_with_events_loads_them(check: Check, roles_dir: Path) -> None:
    assert check(BASE + EVENT) == []
    role = RoleLoader(roles_dir).load(os.fspath(roles_dir / "a.yaml")).role
    assert role is not None
    event = role.event("ingredient_checked")
    assert event is not None and role.event("other") is None
    assert (event.respond, event.rate_limit.burst, event.rate_limit.per_minute, event.max_bytes) == (
        "now",
        3,
        12,
        512,
    )


def test_event_defaults_take_note_only_with_a_modest_rate() -> None:
    from worker.roles import UiEvent

    event = UiEvent(name="noted", description="d")
    assert (event.respond, event.rate_limit.burst, event.rate_limit.per_minute, event.max_bytes) == (
        "never",
        5,
        30,
        2048,
    )
    assert event.payload == {"type": "object", "properties": {}, "additionalProperties": False}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            EVENT.replace("respond: now", "respond: always"),
            "roles/a.yaml:8:14: events[0].respond: expected one of never, when_idle, now, found 'always'",
        ),
        (
            EVENT.replace("name: ingredient_checked", "name: Ingredient-Checked"),
            "roles/a.yaml:6:11: events[0].name: expected text matching ^[a-z][a-z0-9_]{0,63}$, "
            "found 'Ingredient-Checked'",
        ),
        (
            EVENT.replace("{type: boolean}", "{type: bool}"),
            "roles/a.yaml:11:64: events[0].payload.properties.checked.type: expected one of string, "
            "number, integer, boolean, object, array, null, [TYPE, \"null\"], found 'bool' "
            "(hint: did you mean 'boolean'?)",
        ),
        (
            EVENT.replace("max_bytes: 512", "max_bytes: 100000"),
            "roles/a.yaml:14:16: events[0].max_bytes: expected a number from 2 to 8192, found 100000",
        ),
        (
            EVENT.replace("burst: 3", "burst: 0"),
            "roles/a.yaml:13:25: events[0].rate_limit.burst: expected a number from 1 to 100, found 0",
        ),
    ],
)
def test_bad_events_are_located(check: Check, text: str, expected: str) -> None:
    assert check(BASE + text) == [expected]


def test_an_event_name_used_twice(check: Check) -> None:
    twice = EVENT + "  - {name: ingredient_checked, description: again}\n"
    assert check(BASE + twice) == [
        "roles/a.yaml:15:12: events[1].name: duplicate event name 'ingredient_checked' "
        "(hint: also defined at roles/a.yaml:6:11)"
    ]


HTTP = """tools:
  - kind: http
    name: find_recipes
    description: d
    url: https://api.example.com/search
"""


def test_a_background_tool_with_progress_loads(check: Check, roles_dir: Path) -> None:
    text = HTTP + (
        "    mode: background\n"
        "    progress: {after_ms: 1500, say: Still looking., updates: true}\n"
        "    duplicate: replace\n"
        "    show_arguments: true\n"
    )
    assert check(BASE + text) == []
    role = RoleLoader(roles_dir).load(os.fspath(roles_dir / "a.yaml")).role
    assert role is not None
    tool = role.tool("find_recipes")
    assert (tool.mode, tool.duplicate, tool.show_arguments) == ("background", "replace", True)
    assert tool.progress is not None and (tool.progress.after_ms, tool.progress.updates) == (1500, True)


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        (
            "  - {kind: handoff, name: h, description: d, target: sommelier, mode: background}\n",
            "roles/a.yaml:6:5: tools[0]: a handoff tool changes the session itself and runs in the "
            "foreground only",
        ),
        (
            "  - {kind: builtin, builtin: end_session, name: e, description: d, progress: {say: Bye}}\n",
            "roles/a.yaml:6:30: tools[0].builtin: a builtin tool answers at once; progress is for tools that take "
            "a while",
        ),
        (
            "  - {kind: frontend, name: f, description: d, duplicate: replace}\n",
            "roles/a.yaml:6:5: tools[0]: duplicate: replace needs mode: background (a foreground call "
            "holds the turn until it answers)",
        ),
        (
            "  - {kind: frontend, name: f, description: d, progress: {say: Wait., updates: true}}\n",
            "roles/a.yaml:6:5: tools[0]: progress.updates: only http tools send updates (NDJSON lines); a "
            "frontend tool answers once",
        ),
        (
            "  - {kind: frontend, name: f, description: d, mode: later}\n",
            "roles/a.yaml:6:53: tools[0].mode: expected one of foreground, background, found 'later'",
        ),
        (
            "  - {kind: frontend, name: f, description: d, progress: {after_ms: 500}}\n",
            "roles/a.yaml:6:57: tools[0].progress.say: missing required key 'say'",
        ),
    ],
)
def test_tool_modes_that_cannot_work_are_refused(check: Check, tool: str, expected: str) -> None:
    assert check(BASE + "tools:\n" + tool) == [expected]
