"""GPT-Live pieces without a socket: what a commentary asks, session configuration, event validation."""

from __future__ import annotations

import json

import pytest
from livekit.agents.llm._realtime import gpt_live

from worker.simulator.events import ProtocolError
from worker.simulator.live_config import apply_update, start_config
from worker.simulator.live_events import parse_live_client_event, validate_live_server_event
from worker.simulator.live_session import read_commentary

pytestmark = pytest.mark.unit


def test_livekit_agents_asks_are_understood() -> None:
    # Pinned to the installed livekit-agents: an upgrade that rewords its asks fails here first.
    assert read_commentary(f"{gpt_live._ASK_TYPED}\n\nI am making risotto") == (
        "reply",
        "I am making risotto",
    )
    assert read_commentary(gpt_live._ASK_BARE) == ("reply", "")
    assert read_commentary(f"{gpt_live._ASK_INSTRUCTED}\n\nSay exactly: Hi.") == (
        "follow",
        "Say exactly: Hi.",
    )


def test_commands_are_run_and_other_commentary_is_said() -> None:
    assert read_commentary('/call get_weather {"city": "Lyon"}') == (
        "user",
        '/call get_weather {"city": "Lyon"}',
    )
    assert read_commentary("The order shipped on Monday.") == ("say", "The order shipped on Monday.")


def test_start_defaults_to_client_delegation_and_refuses_what_the_simulator_does_not_serve() -> None:
    config = start_config({"model": "gpt-live-1"}, None)
    assert (config.delegation, config.voice, config.instructions) == ("client", "marin", None)
    with pytest.raises(ProtocolError, match="WebRTC"):
        start_config({"model": "gpt-live-1", "client": {"data_channel": {}}}, None)
    with pytest.raises(ProtocolError, match="not supported by the simulator") as err:
        start_config({"model": "gpt-live-1", "audio": {"format": {"type": "audio/pcm", "rate": 16000}}}, None)
    assert err.value.param == "session.audio.format"
    with pytest.raises(ProtocolError, match="exactly one text part"):
        start_config({"model": "gpt-live-1", "input": [{"role": "user", "content": []}]}, None)
    with pytest.raises(ProtocolError, match="128"):
        start_config(
            {"model": "gpt-live-1", "input": [{"role": "user", "content": [{"text": "x"}]}] * 129}, None
        )


def test_updates_are_sparse_within_the_startup_delegation_type() -> None:
    config = start_config(
        {
            "model": "gpt-live-1",
            "delegation": {"type": "responses", "responses": {"model": "m", "instructions": "a"}},
        },
        None,
    )
    apply_update(config, {"delegation": {"type": "responses", "responses": {"instructions": "b"}}}, None)
    assert config.responses == {"model": "m", "instructions": "b"}
    with pytest.raises(ProtocolError, match="cannot change"):
        apply_update(config, {"delegation": {"type": "client"}}, None)


def test_appends_require_the_delegation_id_key() -> None:
    event = {"type": "session.thinking.append", "content": "x"}
    with pytest.raises(ProtocolError) as err:
        parse_live_client_event(json.dumps(event), max_bytes=10_000)
    assert err.value.param == "delegation_id"
    parsed = parse_live_client_event(json.dumps(event | {"delegation_id": None}), max_bytes=10_000)
    assert parsed.type == "session.thinking.append"


def test_nested_responses_events_are_validated_too() -> None:
    good = {
        "type": "response.event",
        "event_id": "e",
        "delegation_id": "d",
        "event": {
            "type": "response.function_call_arguments.delta",
            "item_id": "i",
            "output_index": 0,
            "sequence_number": 0,
            "delta": "{}",
        },
    }
    assert validate_live_server_event(good) == []
    bad = good | {"event": good["event"] | {"name": "x"}}
    assert validate_live_server_event(bad) == [
        "event.name: not a field of ResponseFunctionCallArgumentsDeltaEvent"
    ]
    assert validate_live_server_event({"type": "session.output_audio.delta", "delta": "", "event_id": "x"})
