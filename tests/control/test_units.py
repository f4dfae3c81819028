"""Pure parts of the control API and live events: the filter, the event file, the command limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from worker.control.commands import MAX_TEXT_CHARS, ControlPacket, HandoffBody, SayBody, packet
from worker.events.delivery import read_lines
from worker.events.log import AppEvents, event_spool
from worker.events.model import EVENT_TYPES, parse_filter
from worker.protocol import ToolActivityEvent
from worker.settings import Settings, SettingsError

pytestmark = pytest.mark.unit


def test_the_filter_takes_names_prefixes_and_star_and_names_a_bad_entry() -> None:
    assert parse_filter("*") == frozenset(EVENT_TYPES) == parse_filter("")
    assert parse_filter("tool.*, session.ended") == {
        "tool.started",
        "tool.completed",
        "tool.failed",
        "session.ended",
    }
    with pytest.raises(ValueError, match=r"unknown event type 'tool\.done'"):
        parse_filter("tool.done")
    with pytest.raises(ValueError, match="matches no event type"):
        parse_filter("nothing.*")


def test_events_need_a_secret_and_a_valid_filter() -> None:
    with pytest.raises(SettingsError) as err:
        Settings.load(
            {"ROLECALL_EVENTS_URL": "http://app/events", "ROLECALL_EVENTS_FILTER": "bogus"},
            dotenv=None,
            need_livekit=False,
        )
    text = str(err.value)
    assert "ROLECALL_WEBHOOK_SECRET is required when ROLECALL_EVENTS_URL is set" in text
    assert "ROLECALL_EVENTS_FILTER='bogus'" in text


def test_a_session_writes_its_events_in_order_filtered_with_shared_arguments_only(tmp_path: Path) -> None:
    settings = Settings(
        events_url="http://app/events",
        webhook_secret="s" * 32,
        spool_dir=tmp_path,
        events_filter="session.*,transcript.line,tool.*,role.changed",
    )
    events = AppEvents.off()
    events.open(settings, session_id="room:job", room="room", report_id="evt_" + "0" * 32)
    journal = events.tee(None)
    events.started(role="a", role_version="v1", participant="user", model="m")
    journal("line", {"speaker": "user", "text": "hi", "role": "a", "at": 1.0, "interrupted": False})
    journal("usage", {"input_tokens": 3})
    journal("role", {"role": "a", "version": "v2", "at": 2.0, "reason": "reload"})  # same role: no event
    journal("role", {"role": "b", "version": "v1", "at": 3.0, "reason": "handoff"})
    common = {"call_id": "c1", "name": "t", "kind": "http", "mode": "foreground", "message": None}
    events.page_event(ToolActivityEvent(**common, status="started", duration_ms=None, arguments={"q": 1}))
    events.page_event(ToolActivityEvent(**common, status="progress", duration_ms=5.0, arguments=None))
    events.page_event(ToolActivityEvent(**common, status="done", duration_ms=9.0, arguments=None))
    events.control("cmd_1", "say", applied=True, detail="speaking")  # filtered out
    events.close(finished=True)
    path = event_spool(tmp_path, settings.agent_name).outbox / ("evt_" + "0" * 32 + ".jsonl")
    records = [r for r, _ in read_lines(path, 0)]
    assert [r["t"] for r in records] == ["start", "event", "event", "event", "event", "event", "end"]
    written = [r for r in records if r["t"] == "event"]
    assert [e["type"] for e in written] == [
        "session.started",
        "transcript.line",
        "role.changed",
        "tool.started",
        "tool.completed",
    ]
    assert [e["seq"] for e in written] == [1, 2, 3, 4, 5]
    assert len({e["id"] for e in written}) == 5
    assert written[2]["data"]["previous"] == "a" and written[2]["data"]["role"] == "b"
    assert written[4]["data"] == {
        **{k: v for k, v in common.items() if k != "message"},
        "arguments": {"q": 1},
        "duration_ms": 9.0,
        "outcome": "ok",
    }
    # a record still being written (no newline yet) waits
    with path.open("ab") as f:
        f.write(json.dumps({"t": "event"}).encode())
    assert len(read_lines(path, 0)) == len(records)


def test_without_an_events_url_nothing_is_written(tmp_path: Path) -> None:
    events = AppEvents.off()
    events.open(Settings(spool_dir=tmp_path), session_id="s", room="r", report_id="evt_" + "1" * 32)
    events.started(role="a", role_version="", participant="u", model="m")
    assert not events.on and not list(tmp_path.rglob("*.jsonl"))


def test_commands_are_capped_and_packets_checked_again() -> None:
    with pytest.raises(ValidationError):
        SayBody(text="x" * (MAX_TEXT_CHARS + 1))
    with pytest.raises(ValidationError):
        HandoffBody(role="../etc/passwd")
    sent = packet("say", SayBody(text="hello"))
    back = ControlPacket.model_validate_json(sent.encode())
    assert back.parsed() == SayBody(text="hello")
    wrong = ControlPacket(id=sent.id, command="handoff", body={"text": "hello"})
    with pytest.raises(ValidationError):
        wrong.parsed()
