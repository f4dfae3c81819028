"""`worker.protocol`: the contract the page library and the simulator read the worker by."""

from __future__ import annotations

import pytest

from worker.protocol import PAGE_EVENT, SAY_EXACTLY, BudgetLimitEvent, DiscoveryReply, encode

pytestmark = pytest.mark.unit


def test_the_simulator_says_the_words_the_worker_asks_for_exactly() -> None:
    from worker.simulator.replies import _VERBATIM

    found = _VERBATIM.search(f"{SAY_EXACTLY} Welcome back, Ana.")
    assert found is not None and found.group(1) == "Welcome back, Ana."


def test_events_round_trip_through_the_wire_form() -> None:
    event = BudgetLimitEvent(limit_usd=0.25)
    assert encode(event) == '{"type":"session_limit","limit":"budget","limit_usd":0.25}'
    assert PAGE_EVENT.validate_json(encode(event)) == event


def test_a_newer_pages_discovery_reply_is_still_read() -> None:
    reply = DiscoveryReply.model_validate_json('{"tools": ["show_recipe"], "version": 2}')
    assert reply.tools == ["show_recipe"]


def test_tool_activity_carries_every_field_and_ui_event_requests_are_strict() -> None:
    from worker.protocol import ToolActivityEvent, UiEventRequest

    event = ToolActivityEvent(
        call_id="c1",
        name="find_recipes",
        kind="http",
        mode="background",
        status="started",
        duration_ms=None,
        message=None,
        arguments=None,
    )
    assert encode(event) == (
        '{"type":"tool","call_id":"c1","name":"find_recipes","kind":"http","mode":"background",'
        '"status":"started","duration_ms":null,"message":null,"arguments":null}'
    )
    assert PAGE_EVENT.validate_json(encode(event)) == event
    assert UiEventRequest.model_validate_json('{"name": "x", "payload": {"a": 1}}').payload == {"a": 1}
    for bad in ('{"name": "x", "payload": [1]}', '{"name": "x"}', '{"name": "x", "payload": {}, "more": 1}'):
        with pytest.raises(ValueError):
            UiEventRequest.model_validate_json(bad)
