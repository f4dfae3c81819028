"""`python -m worker protocol types`: the generator on a sample module, and the committed copy."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
import types
from pathlib import Path

import pytest

from worker.cli import main
from worker.protocol_ts import COMMITTED_PATH, ProtocolTypesError, generate

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_committed_module_is_fresh() -> None:
    committed = (ROOT / COMMITTED_PATH).read_text(encoding="utf-8")
    assert committed == generate(), (
        f"{COMMITTED_PATH} is stale (not what worker/protocol.py generates): run `make types`"
    )


def test_command_writes_the_module(tmp_path: Path) -> None:
    out = tmp_path / "protocol.ts"
    assert main(["protocol", "types", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == generate()


# ------------------------------------------------------------------------------- a sample module

SAMPLE = '''
"""A sample protocol."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

TOPIC = "sample.events"
"""Where events go."""
LIMIT = 15_360
RATE = 2.5
"""Per second; a */ in a doc."""
lower_case = "not a constant"
_PRIVATE = "hidden"
ADAPTER = TypeAdapter(int)

Colour = Literal["red", "green"]
"""A colour."""


class _Base(BaseModel):
    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)


class Paint(_Base):
    """Paint something.

    Two lines of doc."""

    type: Literal["paint"] = "paint"
    colour: Colour
    """Which one."""
    note: str | None = None
    tags: list[str] = []


class Wait(_Base):
    type: Literal["wait"] = "wait"
    kind: Literal["short"] = "short"
    seconds: int


class LongWait(_Base):
    type: Literal["wait"] = "wait"
    kind: Literal["long"] = "long"
    minutes: float


class Reply(BaseModel):
    """Not frozen: no readonly."""

    paint: Paint


AnyWait = Annotated[Wait | LongWait, Field(discriminator="kind")]
Event = Annotated[Paint | AnyWait, Field(discriminator="type")]
"""One event."""
'''

EXPECTED = """\
// Generated from sample_protocol.py by `python -m worker protocol types`. Do not edit.
// Regenerate: make types (.venv/bin/python -m worker protocol types -o frontend/lib/src/generated/protocol.ts)

/** A sample protocol. */

// --- constants -----------------------------------------------------------------------------------

/** Where events go. */
export const TOPIC = "sample.events";

export const LIMIT = 15_360;

/** Per second; a *\\/ in a doc. */
export const RATE = 2.5;

// --- literal types -------------------------------------------------------------------------------

/** A colour. */
export type Colour = "red" | "green";
/** Every {@link Colour}, in declaration order. */
export const COLOUR_VALUES = ["red", "green"] as const satisfies readonly Colour[];

// --- messages ------------------------------------------------------------------------------------

/**
 * Paint something.
 *
 * Two lines of doc.
 */
export interface Paint {
  readonly type: "paint";
  /** Which one. */
  readonly colour: Colour;
  readonly note: string | null;
  readonly tags: string[];
}

export interface Wait {
  readonly type: "wait";
  readonly kind: "short";
  readonly seconds: number;
}

export interface LongWait {
  readonly type: "wait";
  readonly kind: "long";
  readonly minutes: number;
}

/** Not frozen: no readonly. */
export interface Reply {
  paint: Paint;
}

/** Discriminated by `kind`. */
export type AnyWait = Wait | LongWait;

/** One event. Discriminated by `type`. */
export type Event = Paint | AnyWait;
"""


def _load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> types.ModuleType:
    """Import `source` as the module `sample_protocol` (a real file: docstrings are read from source)."""
    path = tmp_path / "sample_protocol.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("sample_protocol", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "sample_protocol", module)
    spec.loader.exec_module(module)
    return module


def test_sample_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert generate(_load(tmp_path, monkeypatch, SAMPLE)) == EXPECTED


def test_a_nested_model_must_be_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = SAMPLE + "\n\nclass Batch(_Base):\n    items: list[Paint]\n"
    with pytest.raises(ProtocolTypesError, match=r"Batch\.items: a model nested inside another type"):
        generate(_load(tmp_path, monkeypatch, source))


def test_union_members_must_be_declared_in_the_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = SAMPLE + "\n\nMixed = Paint | Annotated[Wait | LongWait, Field(discriminator='kind')]\n"
    with pytest.raises(ProtocolTypesError, match="Mixed: each member of a union"):
        generate(_load(tmp_path, monkeypatch, source))
