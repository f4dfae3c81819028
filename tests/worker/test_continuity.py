from __future__ import annotations

import json

import pytest

from worker.continuity import summary_from_metadata, tail_metadata
from worker.report import SessionRecord

pytestmark = pytest.mark.unit


def _record(lines: int) -> SessionRecord:
    rec = SessionRecord(session_id="s", room="r", participant="u", role="cooking-guide", model="gpt-realtime")
    for i in range(lines):
        rec.add_line("user" if i % 2 == 0 else "agent", f"line {i}")
    return rec


def test_tail_round_trips_through_room_metadata_keeping_other_keys() -> None:
    meta = tail_metadata(_record(3), json.dumps({"app": {"theme": "dark"}}))
    data = json.loads(meta)
    assert data["app"] == {"theme": "dark"}
    assert data["rolecall"]["role"] == "cooking-guide"
    assert summary_from_metadata(meta) == "user: line 0\nagent: line 1\nuser: line 2"


def test_tail_keeps_only_the_last_lines() -> None:
    summary = summary_from_metadata(tail_metadata(_record(40), ""))
    assert summary.splitlines()[0] == "user: line 24"
    assert summary.splitlines()[-1] == "agent: line 39"


@pytest.mark.parametrize(
    "metadata", ["", "not json", "[1, 2]", '{"rolecall": 5}', '{"rolecall": {"transcript_tail": [1]}}']
)
def test_foreign_or_broken_metadata_gives_no_summary(metadata: str) -> None:
    assert summary_from_metadata(metadata) == ""
    json.loads(tail_metadata(_record(1), metadata))  # and we can still write ours
