"""The protocol over a raw WebSocket: conversation flow, errors, bad input, faults."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json

import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.simulator.conftest import RawClient, StartSim, fast_faults
from worker.simulator import Simulator

pytestmark = pytest.mark.integration

AUTH = {"Authorization": "Bearer anything"}


def user_text(text: str) -> dict[str, object]:
    return {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
    }


async def test_text_turn_in_order(raw: RawClient, sim: Simulator) -> None:
    await raw.send({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}})
    assert (await raw.recv())["session"]["output_modalities"] == ["text"]
    await raw.send(user_text("good morning"))
    added = await raw.recv()
    assert added["type"] == "conversation.item.added" and added["previous_item_id"] is None
    await raw.until("conversation.item.done")
    await raw.send({"type": "response.create", "response": {"metadata": {"client_event_id": "abc"}}})
    created = await raw.recv()
    assert created["type"] == "response.created" and created["response"]["metadata"] == {
        "client_event_id": "abc"
    }
    done = await raw.until("response.done")
    assert done["response"]["status"] == "completed"
    assert done["response"]["output"][0]["content"][0]["text"] == "You said: good morning"
    assert done["response"]["usage"]["total_tokens"] > 0
    types = [e["type"] for e in raw.events]
    assert types.index("response.output_item.added") < types.index("response.output_text.delta")
    assert (await raw.recv())["type"] == "rate_limits.updated"
    assert [e["type"] for e in sim.received_of("response.create")] == ["response.create"]


async def test_usage_is_deterministic(start_sim: StartSim) -> None:
    totals = []
    for _ in range(2):
        sim = await start_sim()
        async with connect(sim.ws_url, additional_headers=AUTH) as ws:
            c = RawClient(ws)
            await c.send(user_text("count my tokens please"))
            await c.send({"type": "response.create"})
            totals.append((await c.until("response.done"))["response"]["usage"])
    assert totals[0] == totals[1]


async def test_errors_keep_the_connection_open(raw: RawClient, sim: Simulator) -> None:
    bad: list[str | bytes] = [
        "{oops",
        "42",
        b"\x00binary",
        json.dumps({"type": "nope.nope", "event_id": "e1"}),
        json.dumps({"type": "input_audio_buffer.append", "audio": 123}),
        json.dumps({"type": "input_audio_buffer.append", "audio": "***not base64***", "event_id": "e2"}),
        json.dumps(
            {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": "x"}}
        ),
        json.dumps({"type": "conversation.item.delete", "item_id": "missing"}),
        json.dumps(
            {
                "type": "conversation.item.truncate",
                "item_id": "missing",
                "content_index": 0,
                "audio_end_ms": 5,
            }
        ),
        json.dumps({"type": "response.cancel"}),
        json.dumps({"type": "input_audio_buffer.commit"}),
        json.dumps({"type": "session.update", "session": {"type": "transcription"}}),
        json.dumps(user_text("x") | {"previous_item_id": "nowhere"}),
    ]
    for frame in bad:
        await raw.send(frame)
        event = await raw.recv()
        assert event["type"] == "error", frame
        assert set(event["error"]) == {"type", "code", "message", "param", "event_id"}
    errors = [e["error"] for e in raw.events if e["type"] == "error"]
    codes = [e["code"] for e in errors]
    assert codes[:6] == [
        "invalid_json",
        "invalid_json",
        "invalid_json",
        "invalid_value",
        "invalid_type",
        "invalid_value",
    ]
    assert errors[3]["event_id"] == "e1"
    assert errors[5]["param"] == "audio" and errors[5]["event_id"] == "e2"
    assert "response_cancel_not_active" in codes and "input_audio_buffer_commit_empty" in codes
    # still serving
    await raw.send(user_text("still there?"))
    await raw.send({"type": "response.create"})
    assert (await raw.until("response.done"))["response"]["status"] == "completed"
    assert sum(1 for r in sim.received if r.error) == len(bad)


async def test_oversized_frames(start_sim: StartSim) -> None:
    sim = await start_sim(max_event_bytes=64 * 1024)
    async with connect(sim.ws_url, additional_headers=AUTH, max_size=None) as ws:
        c = RawClient(ws)
        await c.recv()
        audio = base64.b64encode(bytes(70 * 1024)).decode()
        await c.send({"type": "input_audio_buffer.append", "audio": audio})
        assert (await c.recv())["error"]["message"].startswith("Event too large")
        await c.send({"type": "input_audio_buffer.append", "audio": audio * 3})  # past the hard cap
        with pytest.raises(ConnectionClosed) as info:
            await c.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1009
    async with connect(sim.ws_url, additional_headers=AUTH) as ws:  # the server lives on
        assert (await RawClient(ws).recv())["type"] == "session.created"


async def test_rejects_missing_token_and_wrong_path(sim: Simulator) -> None:
    with pytest.raises(InvalidStatus) as info:
        async with connect(sim.ws_url):
            pass
    assert info.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as info:
        async with connect(sim.ws_url.replace("/v1/realtime", "/v1/chat"), additional_headers=AUTH):
            pass
    assert info.value.response.status_code == 404


async def test_item_create_after_root_delete_and_retrieve(raw: RawClient) -> None:
    await raw.send(user_text("one") | {"event_id": "c1"})
    first = (await raw.until("conversation.item.added"))["item"]["id"]
    await raw.send(
        {
            "type": "conversation.item.create",
            "previous_item_id": "root",
            "item": {
                "id": "mine",
                "type": "message",
                "role": "system",
                "content": [{"type": "input_text", "text": "s"}],
            },
        }
    )
    added = await raw.until("conversation.item.added")
    assert added["item"]["id"] == "mine" and added["previous_item_id"] is None
    await raw.send(user_text("dup") | {"item": {**user_text("d")["item"], "id": "mine"}})  # type: ignore[dict-item]
    assert (await raw.until("error"))["error"]["code"] == "item_create_duplicate_item_id"
    await raw.send({"type": "conversation.item.retrieve", "item_id": first})
    assert (await raw.until("conversation.item.retrieved"))["item"]["content"][0]["text"] == "one"
    await raw.send({"type": "conversation.item.delete", "item_id": first})
    assert (await raw.until("conversation.item.deleted"))["item_id"] == first


async def test_function_call_with_command_and_tool_choice(raw: RawClient) -> None:
    tool = {"type": "function", "name": "start_timer", "parameters": {"type": "object"}}
    await raw.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "output_modalities": ["text"], "tools": [tool]},
        }
    )
    await raw.send(user_text('/call start_timer {"seconds": 60}'))
    await raw.send({"type": "response.create"})
    done = await raw.until("response.done")
    call = done["response"]["output"][0]
    assert (call["type"], call["name"], json.loads(call["arguments"])) == (
        "function_call",
        "start_timer",
        {"seconds": 60},
    )
    await raw.send(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": call["call_id"], "output": "ok"},
        }
    )
    await raw.send({"type": "response.create", "response": {"tool_choice": "none"}})
    done = await raw.until("response.done")
    assert done["response"]["output"][0]["content"][0]["text"] == "Done. start_timer returned ok."
    # a forced tool choice makes the model call it
    await raw.send(user_text("hello"))
    await raw.send(
        {"type": "response.create", "response": {"tool_choice": {"type": "function", "name": "start_timer"}}}
    )
    done = await raw.until("response.done")
    assert [o["type"] for o in done["response"]["output"]] == ["message", "function_call"]


async def test_cancel_and_truncate(start_sim: StartSim) -> None:
    sim = await start_sim(faults=fast_faults(audio_pace=1.0))
    async with connect(sim.ws_url, additional_headers=AUTH) as ws:
        c = RawClient(ws)
        await c.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
            }
        )
        await c.send({"type": "response.create", "response": {"instructions": "greet"}})
        delta = await c.until("response.output_audio.delta")
        await c.send({"type": "response.create"})
        assert (await c.until("error"))["error"]["code"] == "conversation_already_has_active_response"
        await c.send({"type": "response.cancel"})
        done = await c.until("response.done")
        assert done["response"]["status"] == "cancelled"
        assert done["response"]["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
        item = done["response"]["output"][0]
        assert item["status"] == "incomplete"
        await c.send(
            {
                "type": "conversation.item.truncate",
                "item_id": delta["item_id"],
                "content_index": 0,
                "audio_end_ms": 99999,
            }
        )
        assert (await c.until("error"))["error"]["message"].endswith("is already shorter than 99999ms")
        await c.send(
            {
                "type": "conversation.item.truncate",
                "item_id": delta["item_id"],
                "content_index": 0,
                "audio_end_ms": 50,
            }
        )
        assert (await c.until("conversation.item.truncated"))["audio_end_ms"] == 50


async def test_manual_commit_without_vad(raw: RawClient) -> None:
    await raw.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
        }
    )
    pcm = base64.b64encode(np.zeros(4800, dtype=np.int16).tobytes()).decode()
    await raw.send({"type": "input_audio_buffer.append", "audio": pcm})
    await raw.send({"type": "input_audio_buffer.commit"})
    committed = await raw.until("input_audio_buffer.committed")
    await raw.send({"type": "input_audio_buffer.append", "audio": pcm})
    await raw.send({"type": "input_audio_buffer.clear"})
    await raw.until("input_audio_buffer.cleared")
    await raw.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
    done = await raw.until("response.done")
    assert done["response"]["output"][0]["content"][0]["text"] == "You said: (audio, 0.2 s)"
    assert committed["item_id"] != done["response"]["output"][0]["id"]


async def test_vanished_client_leaks_no_task(start_sim: StartSim) -> None:
    before = asyncio.all_tasks()
    sim = await start_sim(faults=fast_faults(audio_pace=1.0))
    ws = await connect(sim.ws_url, additional_headers=AUTH)
    c = RawClient(ws)
    await c.send({"type": "response.create"})
    await c.until("response.output_audio.delta")
    assert ws.transport is not None
    ws.transport.abort()  # gone mid-response, without a close frame
    async with asyncio.timeout(5):
        while sim.connections:
            await asyncio.sleep(0.01)
    await sim.stop()
    await asyncio.sleep(0)
    leaked = [t for t in asyncio.all_tasks() - before if t is not asyncio.current_task() and not t.done()]
    assert leaked == []


async def test_drop_after_events_and_close_code(start_sim: StartSim) -> None:
    sim = await start_sim(faults=fast_faults(drop_after_events=3))
    async with connect(sim.ws_url, additional_headers=AUTH) as ws:
        c = RawClient(ws)
        await c.send(user_text("hi"))
        with pytest.raises(ConnectionClosed) as info:
            while True:
                await c.recv()
        assert info.value.rcvd is None  # cut without a close frame
        assert len(c.events) == 3
    sim.faults.drop_after_events = None
    sim.faults.close_code = 4000
    sim.faults.drop_mid_response = True  # armed for connections opened from now on
    async with connect(sim.ws_url, additional_headers=AUTH) as ws:
        c = RawClient(ws)
        await c.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        with pytest.raises(ConnectionClosed) as info:
            while True:
                await c.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 4000
        assert c.events[-1]["type"] == "response.output_text.delta"


async def test_fault_armed_on_a_live_connection(raw: RawClient, sim: Simulator) -> None:
    conn = sim.connections[0]
    conn.faults.error = "server_error"
    await raw.send({"type": "response.create", "event_id": "rc1"})
    err = await raw.until("error")
    assert err["error"]["type"] == "server_error" and err["error"]["event_id"] == "rc1"
    await raw.send({"type": "response.create"})  # once only
    assert (await raw.until("response.done"))["response"]["status"] == "completed"
    await conn.send_error("insufficient_quota")
    assert (await raw.until("error"))["error"]["code"] == "insufficient_quota"
    await conn.close(4001, "bye")
    with pytest.raises(ConnectionClosed) as info:
        await raw.recv()
    assert info.value.rcvd is not None and info.value.rcvd.code == 4001


@pytest.mark.parametrize("kind", ["rate_limit", "session_expired"])
async def test_error_kinds(start_sim: StartSim, kind: str) -> None:
    sim = await start_sim(faults=fast_faults(error=kind, error_after_responses=1, connect_delay=0.05))
    async with connect(sim.ws_url, additional_headers=AUTH) as ws:
        c = RawClient(ws)
        await c.send({"type": "response.create"})
        assert (await c.until("response.done"))["response"]["status"] == "completed"
        await c.send({"type": "response.create"})
        if kind == "rate_limit":
            done = await c.until("response.done")
            assert done["response"]["status"] == "failed"
            assert done["response"]["status_details"]["error"]["code"] == "inference_rate_limit_exceeded"
        else:
            assert (await c.until("error"))["error"]["code"] == "session_expired"
            with pytest.raises(ConnectionClosed):
                await c.recv()


async def test_create_right_after_cancel_starts_a_new_response(start_sim: StartSim) -> None:
    """Events are handled in order: a cancelled response is done before the next event is read."""
    sim = await start_sim(faults=fast_faults(audio_pace=1.0))
    async with connect(sim.ws_url, additional_headers=AUTH) as ws:
        c = RawClient(ws)
        await c.send({"type": "response.create"})
        await c.until("response.output_audio.delta")
        await c.send({"type": "response.cancel"})
        await c.send({"type": "response.create"})
        first = await c.until("response.done")
        assert first["response"]["status"] == "cancelled"
        second = await c.until("response.created")
        assert second["response"]["id"] != first["response"]["id"]
        assert not [e for e in c.events if e["type"] == "error"]


async def test_latency_knobs_hold_events_back_at_least_as_long_as_configured(start_sim: StartSim) -> None:
    """Lower bounds only (the simulator's own clock): a knob that is ignored fails, a busy machine does not."""
    faults = fast_faults(connect_delay=0.3, first_delta_delay=0.25, delta_interval=0.05)
    sim = await start_sim(faults=faults)
    loop = asyncio.get_running_loop()
    asked = loop.time()
    async with connect(sim.ws_url, additional_headers=AUTH) as ws:
        assert loop.time() - asked >= 0.3  # the handshake waited for connect_delay
        c = RawClient(ws)
        await c.send(
            {"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}}
        )
        await c.send(user_text("one two three four five"))
        await c.send({"type": "response.create"})
        await c.until("response.done")
    stamps = [(r.type, r.at) for r in sim.sent]
    created = next(at for t, at in stamps if t == "response.created")
    deltas = [at for t, at in stamps if t == "response.output_text.delta"]
    assert len(deltas) >= 5
    assert deltas[0] - created >= 0.25
    gaps = [b - a for a, b in itertools.pairwise(deltas)]
    assert min(gaps) >= 0.05 * 0.9  # asyncio.sleep may wake a hair early on some clocks


async def test_audio_streams_in_real_time(start_sim: StartSim) -> None:
    """audio_pace 1: a reply's audio takes at least as long to arrive as it lasts."""
    sim = await start_sim(faults=fast_faults(audio_pace=1.0), speech="tone")
    async with connect(sim.ws_url, additional_headers=AUTH) as ws:
        c = RawClient(ws)
        await c.send(user_text("a sentence that takes a couple of seconds to say out loud"))
        await c.send({"type": "response.create"})
        await c.until("response.done")
    audio = [(r.at, r.event["delta"]) for r in sim.sent if r.type == "response.output_audio.delta"]
    samples = sum(len(base64.b64decode(d)) // 2 for _, d in audio)
    duration = samples / 24_000
    assert duration > 1.0
    # The last delta may be sent as soon as the one before it has played out.
    last_chunk = len(base64.b64decode(audio[-1][1])) // 2 / 24_000
    assert audio[-1][0] - audio[0][0] >= duration - last_chunk - audio_chunk_slack(audio)


def audio_chunk_slack(audio: list[tuple[float, str]]) -> float:
    """One delta's length: pacing may send a delta up to one delta ahead of real time."""
    return len(base64.b64decode(audio[0][1])) // 2 / 24_000


async def test_user_audio_in_an_item_must_be_base64(raw: RawClient, sim: Simulator) -> None:
    item = {
        "type": "conversation.item.create",
        "event_id": "bad-audio",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_audio", "audio": "not base64!"}],
        },
    }
    await raw.send(item)
    err = await raw.until("error")
    assert err["error"]["param"] == "item.content[0].audio" and err["error"]["event_id"] == "bad-audio"
    pcm = base64.b64encode(np.zeros(2400, dtype="<i2").tobytes()).decode()
    item["item"]["content"][0]["audio"] = pcm  # type: ignore[index]
    item["event_id"] = "good-audio"
    await raw.send(item)
    added = await raw.until("conversation.item.added")
    assert added["item"]["content"][0]["type"] == "input_audio"
    assert "audio" not in added["item"]["content"][0]


def _spoken(seconds: float = 0.6) -> list[str]:
    """Silence, a loud burst, then silence, as 100 ms base64 appends."""
    rng = np.random.default_rng(7)
    pcm = np.concatenate(
        [
            np.zeros(2400 * 3, dtype=np.int16),
            rng.integers(-8000, 8000, int(24000 * seconds)).astype(np.int16),
            np.zeros(2400 * 8, dtype=np.int16),
        ]
    )
    return [
        base64.b64encode(pcm[i : i + 2400].astype("<i2").tobytes()).decode() for i in range(0, pcm.size, 2400)
    ]


async def _speak(c: RawClient) -> None:
    for chunk in _spoken():
        await c.send({"type": "input_audio_buffer.append", "audio": chunk})


def _server_vad(**options: object) -> dict[str, object]:
    detection = {"type": "server_vad", "silence_duration_ms": 300, **options}
    return {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "output_modalities": ["text"],
            "audio": {"input": {"turn_detection": detection}},
        },
    }


async def test_server_vad_without_create_response_commits_but_does_not_answer(raw: RawClient) -> None:
    await raw.send(_server_vad(create_response=False))
    await raw.until("session.updated")
    await _speak(raw)
    await raw.until("input_audio_buffer.committed")
    await raw.send({"type": "conversation.item.retrieve", "item_id": "nope", "event_id": "marker"})
    await raw.until("error")  # everything the speech caused has been sent by now
    assert not [e for e in raw.events if e["type"] == "response.created"]


async def test_server_vad_without_interrupt_response_lets_the_reply_finish(start_sim: StartSim) -> None:
    sim = await start_sim(faults=fast_faults(delta_interval=0.05))
    async with connect(sim.ws_url, additional_headers=AUTH) as ws:
        c = RawClient(ws)
        await c.send(_server_vad(interrupt_response=False, create_response=False))
        await c.until("session.updated")
        await c.send(user_text("please give me a fairly long answer with quite a few words in it"))
        await c.send({"type": "response.create"})
        await c.until("response.output_text.delta")
        await _speak(c)  # the user talks over the reply
        await c.until("input_audio_buffer.speech_started")
        done = await c.until("response.done")
        assert done["response"]["status"] == "completed"


async def test_server_vad_interrupts_a_reply_by_default(start_sim: StartSim) -> None:
    sim = await start_sim(faults=fast_faults(delta_interval=0.05))
    async with connect(sim.ws_url, additional_headers=AUTH) as ws:
        c = RawClient(ws)
        await c.send(_server_vad(create_response=False))
        await c.until("session.updated")
        await c.send(user_text("please give me a fairly long answer with quite a few words in it"))
        await c.send({"type": "response.create"})
        await c.until("response.output_text.delta")
        await _speak(c)
        done = await c.until("response.done")
        assert done["response"]["status"] == "cancelled"
