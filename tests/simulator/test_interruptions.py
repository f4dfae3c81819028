"""Interruptions at the protocol level: truncating assistant audio while it streams, races, errors."""

from __future__ import annotations

import asyncio
import base64
import logging
import math
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import connect

from tests.simulator.conftest import RawClient, StartSim, fast_faults
from worker.simulator import Simulator
from worker.simulator.response import word_timings

pytestmark = pytest.mark.integration

AUTH = {"Authorization": "Bearer x"}
REQUEST = "please give me a fairly long answer with quite a few words in it"
REPLY = f"You said: {REQUEST}"


def user_text(text: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]},
    }


def truncate(item_id: str, end_ms: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "conversation.item.truncate",
        "item_id": item_id,
        "content_index": 0,
        "audio_end_ms": end_ms,
        **extra,
    }


async def truncated(c: RawClient) -> dict[str, Any]:
    """The answer to a truncate: `conversation.item.truncated`; fails with the `error` sent instead."""
    async with asyncio.timeout(10):
        while True:
            event = await c.recv()
            assert event["type"] != "error", f"the truncate was refused: {event['error']}"
            if event["type"] == "conversation.item.truncated":
                return event


def audio_ms(c: RawClient) -> float:
    """Milliseconds of reply audio the client has received."""
    samples = sum(
        len(base64.b64decode(e["delta"])) // 2 for e in c.events if e["type"] == "response.output_audio.delta"
    )
    return samples * 1000 / 24000


def heard(text: str, total_ms: int, end_ms: int) -> str:
    """The words of a reply begun before `end_ms`, as the simulator times them over its audio."""
    return "".join(w for start, w in word_timings(text, total_ms) if start < end_ms).rstrip()


@pytest.fixture
async def streaming(start_sim: StartSim) -> AsyncIterator[tuple[Simulator, RawClient]]:
    """A client whose spoken reply to REQUEST is streaming in real time (no VAD), 3 deltas in."""
    sim = await start_sim(faults=fast_faults(audio_pace=1.0), speech="tone")
    async with connect(sim.ws_url, additional_headers=AUTH) as ws:
        c = RawClient(ws)
        await c.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
            }
        )
        await c.send(user_text(REQUEST))
        await c.send({"type": "response.create"})
        while sum(e["type"] == "response.output_audio.delta" for e in c.events) < 3:
            await c.until("response.output_audio.delta")
        yield sim, c


async def test_truncate_mid_stream_is_accepted_and_cuts_the_item(
    streaming: tuple[Simulator, RawClient],
) -> None:
    sim, c = streaming
    item_id = c.events[-1]["item_id"]
    await c.send(truncate(item_id, 150, event_id="cut"))
    answer = await truncated(c)
    assert answer == {**answer, "item_id": item_id, "content_index": 0, "audio_end_ms": 150}
    assert not [e for e in c.events if e["type"] in ("error", "response.done")]  # still streaming

    # Without a cancel the reply streams on (as from OpenAI), but what was cut stays out of the item.
    done = await c.until("response.done")
    after = c.events[c.events.index(answer) :]
    assert any(e["type"] == "response.output_audio.delta" for e in after)
    total_ms = int(audio_ms(c))
    cut = heard(REPLY, total_ms, 150)
    assert cut and REPLY.startswith(cut) and len(cut) < len(REPLY)
    full = next(e for e in c.events if e["type"] == "response.output_audio_transcript.done")
    assert full["transcript"] == REPLY  # the transcript stream is what was generated
    part = next(e for e in c.events if e["type"] == "response.content_part.done")["part"]
    item_done = next(
        e["item"] for e in c.events if e["type"] == "conversation.item.done" and e["item"]["id"] == item_id
    )
    assert done["response"]["status"] == "completed"
    for content in (part, item_done["content"][0], done["response"]["output"][0]["content"][0]):
        assert content["transcript"] == cut
    await c.send({"type": "conversation.item.retrieve", "item_id": item_id})
    assert (await c.until("conversation.item.retrieved"))["item"]["content"][0]["transcript"] == cut

    # The item is now 150 ms long: it can be cut further, not lengthened.
    await c.send(truncate(item_id, 151))
    err = (await c.until("error"))["error"]
    assert err["message"] == "Audio content of 150ms is already shorter than 151ms"
    await c.send(truncate(item_id, 50))
    assert (await c.until("conversation.item.truncated"))["audio_end_ms"] == 50
    assert [r.error for r in sim.received if r.type == "conversation.item.truncate"] == [
        None,
        err["message"],
        None,
    ]


async def test_truncate_then_cancel(streaming: tuple[Simulator, RawClient]) -> None:
    """The OpenAI Agents SDK's forced cancel: the truncate first, `response.cancel` right behind it."""
    sim, c = streaming
    item_id = c.events[-1]["item_id"]
    end_ms = int(audio_ms(c))  # all the audio received so far
    await c.send(truncate(item_id, end_ms))
    await c.send({"type": "response.cancel"})
    answer = await truncated(c)
    done = await c.until("response.done")
    assert answer["audio_end_ms"] == end_ms
    assert done["response"]["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    item = done["response"]["output"][0]
    assert item["status"] == "incomplete"
    words_heard = item["content"][0]["transcript"]
    assert words_heard and REPLY.startswith(words_heard) and len(words_heard) < len(REPLY)
    assert not [e for e in c.events if e["type"] == "error"]
    await c.send(user_text("still there?"))  # the conversation goes on
    await c.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
    assert (await c.until("response.done"))["response"]["status"] == "completed"
    assert [r.error for r in sim.received] == [None] * len(sim.received)


def _speech_appends() -> list[dict[str, Any]]:
    """Loud noise then silence, as 100 ms appends: the server VAD hears the user start to speak."""
    rng = np.random.default_rng(3)
    pcm = np.concatenate(
        [rng.integers(-8000, 8000, 24000 * 6 // 10).astype(np.int16), np.zeros(2400 * 6, np.int16)]
    )
    return [
        {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm[i : i + 2400].tobytes()).decode()}
        for i in range(0, pcm.size, 2400)
    ]


async def test_truncate_racing_a_barge_in(start_sim: StartSim) -> None:
    """pipecat truncates about 1 ms after `speech_started`, while the cancelled reply winds down."""
    sim = await start_sim(faults=fast_faults(audio_pace=1.0), speech="tone")
    async with connect(sim.ws_url, additional_headers=AUTH) as ws:
        c = RawClient(ws)
        vad = {"type": "server_vad", "silence_duration_ms": 300, "create_response": False}
        await c.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"input": {"turn_detection": vad}}},
            }
        )
        await c.send(user_text(REQUEST))
        await c.send({"type": "response.create"})
        while sum(e["type"] == "response.output_audio.delta" for e in c.events) < 3:
            await c.until("response.output_audio.delta")
        item_id, end_ms = c.events[-1]["item_id"], int(audio_ms(c))
        # The user talks over the reply; the truncate follows the speech without waiting for
        # anything, so it reaches the server while the barge-in's cancel is still winding down.
        for append in _speech_appends():
            await c.send(append)
        await c.send(truncate(item_id, end_ms, event_id="barge-in"))
        await c.until("input_audio_buffer.speech_started")
        answer = await truncated(c)
        done = next((e for e in c.events if e["type"] == "response.done"), None) or await c.until(
            "response.done"
        )
    assert answer["item_id"] == item_id and answer["audio_end_ms"] == end_ms
    assert done["response"]["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    assert not [e for e in c.events if e["type"] == "error"]
    received = next(r for r in sim.received if r.type == "conversation.item.truncate")
    wound_down = next(r for r in sim.sent if r.type == "response.done")
    assert received.at < wound_down.at, "the truncate did not race the cancelled response"


async def test_truncate_refusals_read_like_the_service(raw: RawClient, sim: Simulator) -> None:
    await raw.send(user_text("hello"))
    user_item = (await raw.until("conversation.item.added"))["item"]["id"]
    await raw.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
    text_item = (await raw.until("response.done"))["response"]["output"][0]["id"]
    await raw.send({"type": "response.create"})  # a spoken reply, streamed unpaced
    spoken = (await raw.until("response.done"))["response"]["output"][0]["id"]
    total_ms = math.ceil(audio_ms(raw))  # rounded up, as clients that count bytes do

    cases: list[tuple[dict[str, Any], tuple[str | None, str | None, str]]] = [
        (
            truncate("nope", 10),
            (
                "item_truncate_invalid_item_id",
                "item_id",
                "Error truncating item: the item with id 'nope' does not exist.",
            ),
        ),
        (
            truncate(user_item, 10),
            ("unsupported_content_type", None, "Only model output audio messages can be truncated"),
        ),
        (
            truncate(text_item, 0),
            ("unsupported_content_type", None, "Only model output audio messages can be truncated"),
        ),
        (
            truncate(spoken, total_ms + 1),
            (
                "invalid_value",
                None,
                f"Audio content of {total_ms}ms is already shorter than {total_ms + 1}ms",
            ),
        ),
        (
            truncate(spoken, -5),
            (
                "integer_below_min_value",
                "audio_end_ms",
                "Invalid 'audio_end_ms': integer below minimum value. Expected a value >= 0, but got -5 instead.",
            ),
        ),
        (
            truncate(spoken, 10) | {"content_index": 1},
            ("invalid_value", "content_index", "Invalid 'content_index'"),
        ),
    ]
    for event, (code, param, message) in cases:
        await raw.send(event | {"event_id": "t"})
        err = (await raw.until("error"))["error"]
        assert (err["type"], err["code"], err["param"], err["event_id"]) == (
            "invalid_request_error",
            code,
            param,
            "t",
        )
        assert err["message"].startswith(message), err["message"]
    # the whole audio, to the millisecond, is fine
    await raw.send(truncate(spoken, total_ms))
    assert (await raw.until("conversation.item.truncated"))["audio_end_ms"] == total_ms


async def test_every_error_sent_is_logged_with_its_client_event(
    raw: RawClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="rolecall.simulator")
    await raw.send(truncate("nope", 10, event_id="evt_7"))
    await raw.until("error")
    huge_type = "x" * 100_000
    await raw.send({"type": huge_type, "audio": "A" * 100_000, "event_id": "evt_8"})
    await raw.until("error")
    await raw.send("{not json")
    await raw.until("error")
    lines = [r for r in caplog.records if r.name == "rolecall.simulator" and "sent error" in r.getMessage()]
    assert [r.levelno for r in lines] == [logging.WARNING] * 3
    first, second, third = (r.getMessage() for r in lines)
    assert "client event conversation.item.truncate (event_id 'evt_7')" in first
    assert "item_truncate_invalid_item_id" in first and "the item with id 'nope' does not exist" in first
    assert "event_id 'evt_8'" in second and len(second) < 1000  # client input is clipped, never dumped
    assert "an unparsed frame" in third and "invalid_json" in third
