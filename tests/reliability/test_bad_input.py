"""Bad input, generated: tool arguments that break the schema never reach a tool; hostile role names
are never paths; YAML bombs and tags are refused. Pure logic, no network.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from livekit.agents.llm import ToolError

from tests.support.fake_session import fake_context
from worker.roles import RoleError, RoleRegistry, UnknownRoleError
from worker.roles.loader import RoleLoader
from worker.tools.arguments import ArgumentValidator
from worker.tools.guard import guarded

pytestmark = pytest.mark.unit

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 20},
        "seconds": {"type": "integer", "minimum": 1, "maximum": 3600},
        "kind": {"type": "string", "enum": ["pasta", "rice"]},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "note": {"type": ["string", "null"]},
    },
    "required": ["title", "seconds"],
    "additionalProperties": False,
}

ROLE = f"""
name: fuzz
title: Fuzz
description: Property tests.
instructions: Test.
tools:
  - name: card
    kind: frontend
    description: A card.
    parameters: {json.dumps(SCHEMA)}
"""

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
PLAUSIBLE = {
    "title": st.one_of(st.text(max_size=25), JSON),
    "seconds": st.one_of(st.integers(min_value=-5, max_value=4000), st.floats(allow_nan=False), JSON),
    "kind": st.one_of(st.sampled_from(["pasta", "rice", "bread", ""]), JSON),
    "tags": st.one_of(st.lists(st.text(max_size=5), max_size=5), JSON),
    "note": st.one_of(st.none(), st.text(max_size=5), JSON),
    "extra": JSON,
}
# Near-valid objects (each known key with a plausible or random value, sometimes an unknown key), or anything.
ARGUMENTS = st.one_of(
    st.fixed_dictionaries({}, optional=PLAUSIBLE),
    st.fixed_dictionaries(
        {"title": st.text(max_size=20), "seconds": st.integers(1, 3600)},
        optional={k: v for k, v in PLAUSIBLE.items() if k not in ("title", "seconds")},
    ),
    JSON,
)


@pytest.fixture(scope="module")
def role(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("roles")
    (folder / "fuzz.yaml").write_text(ROLE)
    result = RoleLoader(folder).load(str(folder / "fuzz.yaml"))
    assert result.role is not None, result.errors
    return result.role


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ARGUMENTS, st.booleans())
def test_arguments_that_break_the_schema_never_reach_the_tool(
    role: Any, arguments: Any, as_text: bool
) -> None:
    """Through the same guard the worker wraps every tool in: the runner runs iff the schema accepts."""
    spec = role.tools[0]
    ran: list[Any] = []

    async def run(args: dict[str, Any], _: Any) -> str:
        ran.append(args)
        return "{}"

    valid = Draft202012Validator(SCHEMA).is_valid(arguments)
    raw = json.dumps(arguments) if as_text else arguments

    records: list[Any] = []

    async def call() -> None:
        async with fake_context(role="fuzz") as ctx:
            records.append(ctx.record)
            tool = guarded(spec, role, ctx, run)
            await tool(raw, None)  # type: ignore[arg-type]

    try:
        asyncio.run(call())
        refused = False
    except ToolError as exc:
        refused = True
        assert exc.message.startswith("invalid arguments for card: ")
    assert refused is not valid
    assert ran == ([] if not valid else [arguments])
    assert records[0].tool_calls[-1].outcome == ("ok" if valid else "error")


@given(st.text(max_size=300))
def test_arguments_that_are_not_json_are_refused_with_a_reason(text: str) -> None:
    validator = ArgumentValidator("card", SCHEMA)
    try:
        parsed = json.loads(text or "{}")
    except ValueError:
        parsed = None
        with pytest.raises(ToolError, match="not JSON"):
            validator.check(text)
        return
    if Draft202012Validator(SCHEMA).is_valid(parsed):
        assert validator.check(text) == parsed
    else:
        with pytest.raises(ToolError, match="invalid arguments for card"):
            validator.check(text)


@pytest.mark.parametrize("depth", [100, 5000, 100_000])
def test_deeply_nested_arguments_and_bodies_are_refused_not_crashed(depth: int) -> None:
    from worker.web.errors import ApiError
    from worker.web.models import SessionRequest, parse_body

    text = "[" * depth + "]" * depth
    with pytest.raises(ToolError, match="invalid arguments for card"):
        ArgumentValidator("card", SCHEMA).check(text)
    with pytest.raises(ApiError) as err:
        parse_body(text.encode(), SessionRequest)
    assert err.value.status in (400, 422)


HOSTILE_NAMES = [
    "../roles/bench",
    "..",
    "/etc/passwd",
    "bench/../bench",
    "bench.yaml",
    "bench\x00",
    "bench\n",
    "bench\r\nx",
    "Bench",
    "bénch",
    "bench\u200b",
    "bеnch",  # Cyrillic е
    "ｂｅｎｃｈ",  # fullwidth
    "fragments/voice-style",
    "prompts/cooking-guide",
    "evals/cooking-guide",
    "%2e%2e%2fbench",
    "~",
    "-bench",
    "a" * 65,
    "",
    " ",
]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> RoleRegistry:
    folder = tmp_path_factory.mktemp("registry")
    (folder / "bench.yaml").write_text("name: bench\ntitle: B\ndescription: B.\ninstructions: Test.\n")
    (folder / "fragments").mkdir()
    (folder / "fragments" / "voice-style.yaml").write_text("description: x\ninstructions: y\n")
    return RoleRegistry(folder)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_role_names_are_unknown_roles(registry: RoleRegistry, name: str) -> None:
    with pytest.raises(UnknownRoleError):
        registry.get(name)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_role_name_is_a_known_role_or_an_unknown_role_error(name: str) -> None:
    folder = Path(__file__).resolve().parents[2] / "roles"
    reg = _starter_registry(folder)
    if name in reg.names():
        assert reg.get(name).name == name
    else:
        with pytest.raises(UnknownRoleError) as err:
            reg.get(name)
        assert err.value.field == "role"


_REGISTRIES: dict[Path, RoleRegistry] = {}


def _starter_registry(folder: Path) -> RoleRegistry:
    if folder not in _REGISTRIES:
        _REGISTRIES[folder] = RoleRegistry(folder)
    return _REGISTRIES[folder]


BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]"]
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
        for i in range(8)
    ]
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BOMB, "alias"),  # "billion laughs": 9^9 values once expanded
        ("name: !!python/object/apply:os.system [echo pwned]\n", "tag"),
        ("name: !custom x\n", "tag"),
        ("<<: {name: x}\n", "merge"),
    ],
)
def test_yaml_bombs_and_tags_are_refused_quickly(tmp_path: Path, text: str, expected: str) -> None:
    """(tests/roles/test_yaml.py has the full list; these are the dangerous ones, timed.)"""
    path = tmp_path / "x.yaml"
    path.write_text(text)
    started = time.perf_counter()
    result = RoleLoader(tmp_path).load(str(path))
    elapsed = time.perf_counter() - started
    print(f"\n{expected}: refused in {elapsed * 1000:.1f} ms")
    assert result.role is None
    assert any(expected in str(e).lower() for e in result.errors), [str(e) for e in result.errors]
    assert all(isinstance(e, RoleError) and e.line is not None for e in result.errors)
