"""The worker's argument check agrees with the page's: the same values accepted and refused.

Each case runs through `ArgumentValidator` and through the page's own `validate()` (Ajv with
ajv-formats, `frontend/lib/src/validate.ts`, run by Node via vite-node), for every supported `format`
and a few `pattern`s, and both must give the expected verdict (security review L3, §5.3 item 3).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from worker.roles.parameters import FORMATS
from worker.tools.arguments import ArgumentValidator

pytestmark = pytest.mark.integration  # runs Node

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "frontend" / "lib"
VITE_NODE = ROOT / "frontend" / "node_modules" / ".bin" / "vite-node"

FORMAT_CASES: list[tuple[str, str, bool]] = [
    ("date-time", "2026-12-01T18:30:00+01:00", True),
    ("date-time", "2026-12-01t18:30:00.250z", True),
    ("date-time", "2026-12-01 18:30:00Z", True),
    ("date-time", "2026-12-31T23:59:60Z", True),
    ("date-time", "2026-12-31T23:59:60+01:00", False),
    ("date-time", "2026-12-01T18:30:00", False),
    ("date-time", "2026-02-30T10:00:00Z", False),
    ("date-time", "yesterday", False),
    ("time", "18:30:00Z", True),
    ("time", "12:00:00.123+05:30", True),
    ("time", "12:00:00", False),
    ("time", "24:00:00Z", False),
    ("time", "12:00:00+24:00", False),
    ("date", "2024-02-29", True),
    ("date", "2023-02-29", False),
    ("date", "2024-13-01", False),
    ("date", "2024-1-01", False),
    ("duration", "PT20M", True),
    ("duration", "P1W", True),
    ("duration", "P1Y2M10DT2H30M", True),
    ("duration", "P", False),
    ("duration", "PT", False),
    ("duration", "p1d", False),
    ("duration", "20 minutes", False),
    ("email", "cook@example.com", True),
    ("email", "A.B+c@Sub.Example.co", True),
    ("email", "a@b", False),
    ("email", "nope", False),
    ("email", "ü@example.com", False),
    ("email", "a@b.com\n", False),
    ("hostname", "api.example.com", True),
    ("hostname", "example.com.", True),
    ("hostname", "a" * 63 + ".com", True),
    ("hostname", "a" * 64 + ".com", False),
    ("hostname", "-bad-.example.com", False),
    ("hostname", "ex ample.com", False),
    ("ipv4", "192.168.0.1", True),
    ("ipv4", "256.1.1.1", False),
    ("ipv4", "01.2.3.4", False),
    ("ipv4", "1.2.3", False),
    ("ipv6", "2001:db8::1", True),
    ("ipv6", "::ffff:192.168.0.1", True),
    ("ipv6", "::", True),
    ("ipv6", "1::2::3", False),
    ("ipv6", "2001:db8::g", False),
    ("uuid", "123e4567-e89b-12d3-a456-426614174000", True),
    ("uuid", "URN:UUID:123E4567-E89B-12D3-A456-426614174000", True),
    ("uuid", "123e4567e89b12d3a456426614174000", False),
    ("uuid", "123e4567-e89b-12d3-a456-42661417400", False),
]

PATTERN_CASES: list[tuple[str, str, bool]] = [
    ("^[a-z]+$", "abc", True),
    ("^[a-z]+$", "ABC", False),
    ("^abc$", "abc\n", False),  # `$` is the end of the text (Python's re would match before the \n)
    ("colou?r", "my colour", True),  # a match anywhere
    ("colou?r", "colr", False),
    (r"^\d{3}$", "123", True),
    (r"^\d{3}$", "١٢٣", False),  # \d is ASCII in both
    (r"^\w+$", "é", False),
    ("^.$", "😀", True),  # one code point (JavaScript's u flag)
    ("^.$", "\n", False),
    (r"^\p{Lu}", "Élan", True),
    (r"^\p{Lu}", "élan", False),
    # The catastrophic pattern: linear time on the worker (RE2); the page's JavaScript backtracks, so
    # the input stays short here (2^20 steps for Node).
    ("^(a+)+$", "a" * 20, True),
    ("^(a+)+$", "a" * 20 + "!", False),
]


def _schema(keyword: str, value: str) -> dict[str, Any]:
    return {"type": "object", "properties": {"x": {"type": "string", keyword: value}}}


def _page_verdicts(cases: list[dict[str, Any]]) -> list[bool]:
    done = subprocess.run(
        [str(VITE_NODE), str(Path(__file__).with_name("page_validate.ts"))],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        cwd=LIB,
        timeout=120,
        check=True,
    )
    return [not problems for problems in json.loads(done.stdout)]


def test_the_worker_and_the_page_agree_on_formats_and_patterns() -> None:
    assert {fmt for fmt, _, _ in FORMAT_CASES} == set(FORMATS)
    cases = [(_schema("format", f), v, ok) for f, v, ok in FORMAT_CASES]
    cases += [(_schema("pattern", p), v, ok) for p, v, ok in PATTERN_CASES]
    page = _page_verdicts([{"schema": schema, "value": {"x": value}} for schema, value, _ in cases])
    rows = []
    for (schema, value, expected), page_ok in zip(cases, page, strict=True):
        worker_ok = not ArgumentValidator("t", schema).problems({"x": value})
        rows.append((schema["properties"]["x"], value, expected, worker_ok, page_ok))
    disagreements = [row for row in rows if not row[2] == row[3] == row[4]]
    assert disagreements == [], "(schema, value, expected, worker, page): " + repr(disagreements)
