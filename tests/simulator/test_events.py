"""Client event parsing and server event validation against the openai types."""

from __future__ import annotations

import pytest

from worker.simulator.events import (
    CLIENT_EVENTS,
    SERVER_EVENTS,
    ProtocolError,
    error_event,
    parse_client_event,
    validate_server_event,
)

pytestmark = pytest.mark.unit


def refused(data: str | bytes) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        parse_client_event(data, max_bytes=10_000)
    return info.value


def test_every_ga_event_type_is_known() -> None:
    assert {"session.update", "input_audio_buffer.append", "response.create", "response.cancel"} <= set(
        CLIENT_EVENTS
    )
    assert {"response.output_audio.delta", "conversation.item.added", "response.done", "error"} <= set(
        SERVER_EVENTS
    )


def test_valid_event_parses() -> None:
    ev = parse_client_event('{"type": "input_audio_buffer.commit", "event_id": "e1"}', max_bytes=100)
    assert ev.type == "input_audio_buffer.commit"
    assert ev.event_id == "e1"


@pytest.mark.parametrize(
    ("data", "code", "param"),
    [
        ("{not json", "invalid_json", None),
        ("[1, 2]", "invalid_json", None),
        (b"\x00\x01", "invalid_json", None),
        ('{"event_id": "x"}', "missing_required_parameter", "type"),
        ('{"type": "session.create"}', "invalid_value", "type"),
        ('{"type": "input_audio_buffer.append", "audio": 5}', "invalid_type", "audio"),
        ('{"type": "conversation.item.create"}', "missing_required_parameter", "item"),
        (
            '{"type": "conversation.item.create", "item": {"type": "message", "role": "user",'
            ' "content": [{"type": "input_text", "text": 5}]}}',
            "invalid_type",
            "item.content.0.text",
        ),
        (
            '{"type": "conversation.item.create",'
            ' "item": {"type": "message", "role": "robot", "content": []}}',
            "invalid_value",
            "item.role",
        ),
        (
            '{"type": "session.update", "session": {"type": "realtime", "colour": "red"}}',
            "unknown_parameter",
            "session.colour",
        ),
        ('{"type": "response.cancel", "response_id": ["r"]}', "invalid_type", "response_id"),
    ],
)
def test_bad_events_get_openai_shaped_errors(data: str, code: str, param: str | None) -> None:
    err = refused(data)
    assert (err.code, err.param) == (code, param)
    assert err.message


def test_error_names_the_client_event_id() -> None:
    err = refused('{"type": "input_audio_buffer.append", "audio": 5, "event_id": "evt_9"}')
    event = error_event(err)
    assert event["error"]["event_id"] == "evt_9"
    assert validate_server_event(event) == []


def test_oversized_event_is_refused() -> None:
    err = refused('{"type": "input_audio_buffer.append", "audio": "' + "A" * 20_000 + '"}')
    assert "too large" in err.message


def test_deeply_nested_json_is_refused() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_event("[" * 100_000 + "]" * 100_000, max_bytes=1_000_000)
    assert info.value.code == "invalid_json"


def test_server_validation_catches_unknown_types_missing_and_extra_fields() -> None:
    assert validate_server_event({"type": "response.nope", "event_id": "e"}) != []
    assert validate_server_event({"type": "input_audio_buffer.cleared"}) != []  # no event_id
    good = {"type": "input_audio_buffer.cleared", "event_id": "e"}
    assert validate_server_event(good) == []
    problems = validate_server_event(good | {"colour": "red"})
    assert problems and "colour" in problems[0]
    nested = {
        "type": "conversation.item.added",
        "event_id": "e",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "hi", "x": 1}],
        },
    }
    assert any("content.0.x" in p for p in validate_server_event(nested))
