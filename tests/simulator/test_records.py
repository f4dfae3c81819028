"""What the simulator keeps of the events: everything in tests, a bounded tail, or nothing."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from websockets.asyncio.client import connect

from tests.simulator.conftest import RawClient, StartSim
from worker.simulator.records import MAX_VIOLATIONS, Recorder, Violation, without_audio

AUDIO = base64.b64encode(np.ones(2400, dtype="<i2").tobytes()).decode()  # 100 ms, 4,800 bytes


@pytest.mark.unit
def test_audio_payloads_become_their_size() -> None:
    append = {"type": "input_audio_buffer.append", "event_id": "e1", "audio": AUDIO}
    assert without_audio(append) == {"type": "input_audio_buffer.append", "event_id": "e1", "bytes": 4800}
    delta = {"type": "response.output_audio.delta", "item_id": "i", "delta": AUDIO}
    assert without_audio(delta) == {"type": "response.output_audio.delta", "item_id": "i", "bytes": 4800}
    create = {
        "type": "conversation.item.create",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": AUDIO}]},
    }
    stripped = without_audio(create)
    assert stripped["item"]["content"] == [{"type": "input_audio", "bytes": 4800}]
    assert create["item"]["content"][0]["audio"] == AUDIO  # the event itself is left alone
    text = {"type": "response.output_text.delta", "delta": "hello"}
    assert without_audio(text) is text


@pytest.mark.unit
def test_a_limited_recorder_keeps_the_newest_events_without_audio() -> None:
    recorder = Recorder(enabled=True, limit=10)
    for i in range(1000):
        recorder.send("conn_1", float(i), {"type": "response.output_audio.delta", "delta": AUDIO})
        record = recorder.receive("conn_1", float(i), {"type": "input_audio_buffer.append", "audio": AUDIO})
        assert record is not None and len(recorder.sent) < 20 and len(recorder.received) < 20
    assert recorder.sent[-1].at == 999.0 and recorder.received[-1].at == 999.0
    assert all("delta" not in r.event and r.event["bytes"] == 4800 for r in recorder.sent)


@pytest.mark.unit
def test_an_unlimited_recorder_keeps_everything_whole_and_an_off_one_nothing() -> None:
    whole = Recorder(enabled=True, limit=None)
    off = Recorder(enabled=False, limit=None)
    for recorder in (whole, off):
        for i in range(100):
            recorder.send("c", float(i), {"type": "response.output_audio.delta", "delta": AUDIO})
            recorder.receive("c", float(i), {"type": "input_audio_buffer.append", "audio": AUDIO})
    assert len(whole.sent) == len(whole.received) == 100 and whole.sent[0].event["delta"] == AUDIO
    assert off.sent == off.received == [] and off.receive("c", 0.0, {"type": "x"}) is None
    with pytest.raises(ValueError, match="record_limit must be at least 1"):
        Recorder(enabled=True, limit=0)


@pytest.mark.unit
def test_violations_are_kept_up_to_a_cap() -> None:
    recorder = Recorder(enabled=False, limit=None)  # kept even with recording off: they are bugs
    for _ in range(MAX_VIOLATIONS + 50):
        recorder.violation(Violation("c", {"type": "response.output_audio.delta", "delta": AUDIO}, ["x"]))
    assert len(recorder.violations) == MAX_VIOLATIONS


@pytest.mark.integration
@pytest.mark.parametrize("record", [False, True])
async def test_a_long_running_simulator_holds_a_bounded_record(start_sim: StartSim, record: bool) -> None:
    """Counted in records and bytes: a server answering many spoken turns does not grow its records."""
    sim = await start_sim(record=record, record_limit=50)
    async with connect(sim.ws_url, additional_headers={"Authorization": "Bearer x"}) as ws:
        c = RawClient(ws)
        await c.recv()
        await c.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
            }
        )
        for turn in range(20):
            for _ in range(5):
                await c.send({"type": "input_audio_buffer.append", "audio": AUDIO})
            await c.send({"type": "input_audio_buffer.commit"})
            await c.send({"type": "response.create", "event_id": f"turn-{turn}"})
            await c.until("response.done")
            held = len(sim.sent) + len(sim.received)
            held_bytes = sum(len(json.dumps(r.event)) for r in [*sim.sent, *sim.received])
            assert held <= 4 * 50 and held_bytes < 4 * 50 * 2000, (held, held_bytes)
        sent = sum(e["type"] == "response.output_audio.delta" for e in c.events)
    assert sent > 200  # the traffic was many times the bound
    if record:
        assert sim.received[-1].type == "response.create" and sim.received[-1].event["event_id"] == "turn-19"
    else:
        assert sim.sent == sim.received == []
