"""The GPT-Live protocol over a raw WebSocket: startup, appends, delegation, audio, updates, close, faults.

Every server event the simulator sends in these tests is validated against `openai.types.live` (and the
nested Responses events against `openai.types.responses`) by the `start_sim` fixture.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed

from tests.simulator.conftest import RawClient, StartSim, fast_faults, live_connect
from worker.simulator import Simulator
from worker.simulator.speech import SAMPLE_RATE, tone_speech

pytestmark = pytest.mark.integration

TOOLS = [
    {"type": "function", "name": name, "description": f"{name}.", "parameters": {"type": "object"}}
    for name in ("get_weather", "get_time")
]


def responses(**settings: Any) -> dict[str, Any]:
    return {"type": "responses", "responses": {"model": "gpt-5.6-luna", "tools": TOOLS, **settings}}


async def start(client: RawClient, **session: Any) -> dict[str, Any]:
    await client.send(
        {"type": "session.start", "event_id": "start_1", "session": {"model": "gpt-live-1", **session}}
    )
    return await client.until("session.started")


def commentary(content: str, delegation_id: str | None = None, event_id: str = "c1") -> dict[str, Any]:
    return {
        "type": "session.commentary.append",
        "event_id": event_id,
        "delegation_id": delegation_id,
        "content": content,
    }


async def spoken(client: RawClient, words: str, *, silence_s: float = 1.0) -> None:
    """Send `words` as speech-like audio in 100 ms appends, with silence before and after."""
    pad = np.zeros(SAMPLE_RATE // 5, dtype=np.int16)
    pcm = np.concatenate([pad, tone_speech(words), np.zeros(int(SAMPLE_RATE * silence_s), dtype=np.int16)])
    step = SAMPLE_RATE // 10
    for offset in range(0, pcm.size, step):
        audio = base64.b64encode(pcm[offset : offset + step].tobytes()).decode()
        await client.send({"type": "session.input_audio.append", "audio": audio})


async def said(client: RawClient, until: str) -> str:
    """The model's transcript, read until it contains `until`."""
    text = ""
    async with asyncio.timeout(10):
        while until not in text:
            event = await client.recv()
            if event["type"] == "session.output_transcript.delta":
                text += event["delta"]
    return text


async def test_session_start_comes_first_and_is_strict(live: RawClient) -> None:
    await live.send(commentary("hello"))
    error = (await live.until("error"))["error"]
    assert error["code"] == "session_not_started" and error["client_event_id"] == "c1"

    await live.send({"type": "session.start", "session": {"model": "gpt-live-1", "temperature": 0.8}})
    error = (await live.until("error"))["error"]
    assert (error["code"], error["param"]) == ("unknown_parameter", "session.temperature")

    await live.send({"type": "session.start", "session": {"model": "gpt-live-1", "turn_detection": {}}})
    assert (await live.until("error"))["error"]["param"] == "session.turn_detection"

    started = await start(live)
    assert started["client_event_id"] == "start_1"
    await live.send({"type": "session.start", "session": {"model": "gpt-live-1"}})
    assert "already started" in (await live.until("error"))["error"]["message"]


async def test_started_session_resolves_defaults_and_the_given_settings(live: RawClient) -> None:
    session = (await start(live))["session"]
    assert session["delegation"]["type"] == "client"  # omitted delegation: the application's
    assert session["audio"]["output"]["voice"] == "marin"
    assert session["status"] == "active" and session["id"].startswith("sess_")


async def test_startup_settings_are_echoed(start_sim: StartSim) -> None:
    sim = await start_sim()
    async with live_connect(sim) as ws:
        client = RawClient(ws)
        session = (
            await start(
                client,
                instructions="Be brief.",
                audio={"format": {"type": "audio/pcm", "rate": 24000}, "output": {"voice": "cedar"}},
                delegation=responses(reasoning={"effort": "low"}, max_output_tokens=512),
                input=[{"role": "user", "content": [{"text": "Earlier words."}]}],
            )
        )["session"]
    assert session["audio"]["output"]["voice"] == "cedar"
    assert session["instructions"] == "Be brief."
    assert session["delegation"]["responses"]["reasoning"] == {"effort": "low"}
    assert session["delegation"]["responses"]["max_output_tokens"] == 512


async def test_appends_need_a_delegation_id_and_are_acknowledged(live: RawClient) -> None:
    await start(live, delegation=responses())
    await live.send({"type": "session.thinking.append", "event_id": "t1", "content": "The user is vegan."})
    error = (await live.until("error"))["error"]
    assert (error["code"], error["param"]) == ("missing_required_parameter", "delegation_id")

    for kind in ("instructions", "thinking"):
        await live.send(
            {"type": f"session.{kind}.append", "event_id": kind, "delegation_id": None, "content": "Note."}
        )
        ack = await live.until(f"session.{kind}.appended")
        assert ack["client_event_id"] == kind and ack["start_ms"] <= ack["end_ms"]

    await live.send(commentary("A result.", delegation_id="deleg_x"))
    assert "Responses delegation" in (await live.until("error"))["error"]["message"]
    await live.send(commentary("x " * 2100))
    assert (await live.until("error"))["error"]["code"] == "string_above_max_length"


async def test_responses_delegation_round_trip_refuses_a_partial_batch(live: RawClient) -> None:
    await start(live, delegation=responses())
    await live.send(commentary('/call get_weather {"city": "Lyon"}'))
    created = await live.until("session.delegation.created")
    delegation = created["delegation"]
    assert delegation["target"] == "responses" and delegation["response_id"].startswith("resp_")
    inner: list[dict[str, Any]] = []
    while not inner or inner[-1]["type"] != "response.completed":
        event = await live.until("response.event")
        assert event["delegation_id"] == delegation["id"]
        inner.append(event["event"])
    assert [e["type"] for e in inner] == [
        "response.created",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    call = inner[4]["item"]
    assert (call["name"], json.loads(call["arguments"]), call["status"]) == (
        "get_weather",
        {"city": "Lyon"},
        "completed",
    )
    assert inner[-1]["response"]["usage"]["total_tokens"] > 0 and inner[-1]["response"]["output"] == []

    await live.send({"type": "response.create", "event_id": "r1"})
    error = (await live.until("error"))["error"]
    assert error["code"] == "function_call_output_missing" and call["call_id"] in error["message"]

    output = {"type": "function_call_output", "call_id": call["call_id"], "output": '{"temp_c": 18}'}
    await live.send({"type": "response.item.create", "item": output})
    await live.send({"type": "response.create"})
    assert 'Done. get_weather returned {"temp_c": 18}.' in await said(live, "18}.")


async def test_one_call_per_response_without_parallel_tool_calls(start_sim: StartSim) -> None:
    sim = await start_sim(scenario=_two_calls())
    async with live_connect(sim) as ws:
        client = RawClient(ws)
        await start(client, delegation=responses(parallel_tool_calls=False))
        await client.send(commentary("Reply to the caller now.\n\nweather and time please"))
        names = []
        for _ in range(2):
            done = await _next_call(client)
            names.append(done["name"])
            output = {"type": "function_call_output", "call_id": done["call_id"], "output": "{}"}
            await client.send({"type": "response.item.create", "item": output})
            await client.send({"type": "response.create"})
        assert names == ["get_weather", "get_time"]
        assert "Both done." in await said(client, "Both done.")


def _two_calls() -> Any:
    from worker.simulator import Scenario

    return Scenario.from_yaml(
        "turns:\n  - match: weather\n    calls: [{name: get_weather}, {name: get_time}]\n"
        "    then: [{say: Both done.}]\n"
    )


async def _next_call(client: RawClient) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            event = await client.until("response.event")
            if event["event"]["type"] == "response.output_item.done":
                return dict(event["event"]["item"])


async def test_client_delegation_is_answered_with_commentary(live: RawClient) -> None:
    await start(live)  # no delegation: the application's
    await live.send(commentary('/call check_stock {"item": "flour"}'))
    created = await live.until("session.delegation.created")
    assert created["delegation"]["target"] == "client" and "response_id" not in created["delegation"]
    await live.send(commentary("We have two bags of flour.", delegation_id="deleg_unknown", event_id="c2"))
    assert "Unknown delegation_id" in (await live.until("error"))["error"]["message"]
    await live.send(commentary("We have two bags of flour.", delegation_id=created["delegation"]["id"]))
    assert "We have two bags of flour." in await said(live, "flour.")
    assert not [e for e in live.events if e["type"] == "response.event"]
    await live.send({"type": "response.create", "event_id": "r2"})
    assert "requires Responses delegation" in (await live.until("error"))["error"]["message"]


async def test_spoken_turn_is_transcribed_and_answered(live: RawClient, sim: Simulator) -> None:
    await start(live)
    await spoken(live, "hello there, how are you today")
    heard = await live.until("session.input_transcript.delta")
    assert heard["delta"].startswith("(audio, ") and 0 < heard["start_ms"] < heard["end_ms"]
    assert "You said: (audio" in await said(live, "s)")
    assert [e for e in live.events if e["type"] == "session.output_audio.delta"]


async def test_user_speaking_over_the_model_cuts_it_off(start_sim: StartSim) -> None:
    sim = await start_sim(faults=fast_faults(audio_pace=1.0))
    async with live_connect(sim) as ws:
        client = RawClient(ws)
        await start(client)
        story = "/say " + "once upon a time there was a lighthouse by the sea " * 6
        await client.send(commentary(story))
        await client.until("session.output_audio.delta")
        await spoken(client, "stop please", silence_s=0.8)
        heard = await client.until("session.input_transcript.delta")
        cut = "".join(
            e["delta"]
            for e in client.events[: client.events.index(heard)]
            if e["type"] == "session.output_transcript.delta"
        )
        assert cut and len(cut) < len(story) - len("/say ")


async def test_muted_input_is_silence_to_the_model(live: RawClient) -> None:
    await start(live)
    await live.send({"type": "session.input_audio.mute", "event_id": "m1"})
    assert (await live.until("session.input_audio.muted"))["client_event_id"] == "m1"
    await spoken(live, "you should not hear this")
    await live.send({"type": "session.input_audio.unmute", "event_id": "u1"})
    await live.until("session.input_audio.unmuted")
    assert not [e for e in live.events if e["type"] == "session.input_transcript.delta"]
    await spoken(live, "but this you hear")
    await live.until("session.input_transcript.delta")


async def test_update_changes_backend_settings_but_not_the_delegation_type(live: RawClient) -> None:
    await start(live, delegation=responses(instructions="Old."))
    backend = {"type": "responses", "responses": {"instructions": "New.", "tools": TOOLS[:1]}}
    await live.send({"type": "session.update", "event_id": "u1", "session": {"delegation": backend}})
    updated = await live.until("session.updated")
    assert updated["client_event_id"] == "u1"
    assert updated["session"]["delegation"]["responses"]["instructions"] == "New."
    assert updated["session"]["delegation"]["responses"]["model"] == "gpt-5.6-luna"  # sparse: kept
    await live.send({"type": "session.update", "session": {"delegation": {"type": "client"}}})
    assert "cannot change" in (await live.until("error"))["error"]["message"]
    await live.send({"type": "session.update", "session": {"instructions": "Voice."}})
    assert (await live.until("error"))["error"]["param"] == "session.instructions"


async def test_close_reports_the_final_usage_and_ends_the_socket(live: RawClient) -> None:
    await start(live)
    await asyncio.sleep(0.3)
    await live.send({"type": "session.close", "event_id": "bye"})
    closed = await live.until("session.closed")
    assert closed["reason"] == "close_requested" and closed["client_event_id"] == "bye"
    assert closed["usage"]["seconds"] >= 0.3
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(live.ws.recv(), 5)


@pytest.mark.parametrize("kind", ["insufficient_quota", "session_expired"])
async def test_error_faults_answer_the_next_reply(start_sim: StartSim, kind: str) -> None:
    sim = await start_sim(faults=fast_faults(error=kind))
    async with live_connect(sim) as ws:
        client = RawClient(ws)
        await start(client)
        await client.send(commentary("/say hello"))
        error = (await client.until("error"))["error"]
        assert error["code"] == kind
        if kind == "session_expired":
            assert (await client.until("session.closed"))["reason"] == "expired"


async def test_unsupported_events_are_refused_and_the_session_goes_on(live: RawClient) -> None:
    await start(live)
    await live.send({"type": "decision.create", "event_id": "d1"})
    error = (await live.until("error"))["error"]
    assert error["code"] == "unsupported" and error["client_event_id"] == "d1"
    await live.send(commentary("/say still here"))
    assert "still here" in await said(live, "here")
