"""Audio in and out: a spoken clip through livekit's own client, server VAD, scripted transcript, barge-in."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import llm
from livekit.plugins.openai.realtime import RealtimeModel
from websockets.asyncio.client import connect

from tests.simulator.conftest import RawClient, StartSim, fast_faults
from worker.simulator import Scenario
from worker.simulator.speech import Synthesizer

pytestmark = pytest.mark.integration

SCRIPT = Scenario.from_yaml(
    """
turns:
  - transcript: "What can I cook tonight?"
    say: "How about pasta?"
"""
)


async def spoken(text: str, lead_s: float = 0.2, tail_s: float = 0.8) -> np.ndarray:
    clip = await Synthesizer("espeak").synthesize(text)
    return np.concatenate(
        [np.zeros(int(24000 * lead_s), np.int16), clip, np.zeros(int(24000 * tail_s), np.int16)]
    )


async def test_spoken_turn_through_livekit_client(start_sim: StartSim) -> None:
    # audio replies paced 4x faster than real time: this test checks content, not timing
    sim = await start_sim(scenario=SCRIPT, faults=fast_faults(audio_pace=4.0))
    model = RealtimeModel(base_url=sim.base_url, api_key="sim")
    rs = model.session()
    seen: dict[str, Any] = {}
    frames: list[rtc.AudioFrame] = []
    done = asyncio.Event()

    async def text(msg: llm.MessageGeneration) -> None:
        seen["reply"] = "".join([t async for t in msg.text_stream])

    async def audio(msg: llm.MessageGeneration) -> None:
        frames.extend([f async for f in msg.audio_stream])

    async def consume(ev: llm.GenerationCreatedEvent) -> None:
        async for msg in ev.message_stream:
            await asyncio.gather(text(msg), audio(msg))
        done.set()

    tasks: set[asyncio.Task[None]] = set()
    rs.on("input_speech_started", lambda _: seen.setdefault("started", True))
    rs.on("input_speech_stopped", lambda _: seen.setdefault("stopped", True))
    rs.on(
        "input_audio_transcription_completed",
        lambda e: seen.setdefault("transcript", e.transcript) if e.is_final else None,
    )
    rs.on("generation_created", lambda ev: tasks.add(asyncio.ensure_future(consume(ev))))
    try:
        pcm = await spoken("What can I cook tonight?")
        for i in range(0, pcm.size, 2400):  # 100 ms frames, in real time as a microphone would
            chunk = pcm[i : i + 2400]
            rs.push_audio(rtc.AudioFrame(chunk.tobytes(), 24000, 1, chunk.size))
            await asyncio.sleep(0.1)
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await rs.aclose()
        await model.aclose()
    assert seen == {
        "started": True,
        "stopped": True,
        "transcript": "What can I cook tonight?",
        "reply": "How about pasta?",
    }
    samples = np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])
    assert 0.5 < samples.size / 24000 < 3.0  # lasts about as long as saying it
    assert np.abs(samples).max() > 1000  # not silence
    started = sim.sent_of("input_audio_buffer.speech_started")[0]
    stopped = sim.sent_of("input_audio_buffer.speech_stopped")[0]
    assert 150 <= started["audio_start_ms"] < stopped["audio_end_ms"]
    assert (
        started["item_id"] == stopped["item_id"] == sim.sent_of("input_audio_buffer.committed")[0]["item_id"]
    )


async def test_barge_in_cancels_the_response(start_sim: StartSim) -> None:
    sim = await start_sim(faults=fast_faults(audio_pace=1.0))
    pcm = await spoken("Wait, stop please.", lead_s=0.0, tail_s=0.7)
    async with connect(sim.ws_url, additional_headers={"Authorization": "Bearer x"}) as ws:
        c = RawClient(ws)
        await c.send({"type": "response.create"})  # a long greeting, played in real time
        first = await c.until("response.output_audio.delta")
        for i in range(0, pcm.size, 2400):
            await c.send(
                {
                    "type": "input_audio_buffer.append",
                    "audio": base64.b64encode(pcm[i : i + 2400].tobytes()).decode(),
                }
            )
        await c.until("input_audio_buffer.speech_started")
        done = await c.until("response.done")
        assert done["response"]["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
        await c.send(
            {
                "type": "conversation.item.truncate",
                "item_id": first["item_id"],
                "content_index": 0,
                "audio_end_ms": 100,
            }
        )
        assert (await c.until("conversation.item.truncated"))["item_id"] == first["item_id"]
        # the user's turn ends and the server answers it on its own (create_response)
        async with asyncio.timeout(10):
            while sum(e["type"] == "response.created" for e in c.events) < 2:
                await c.recv()
        types = [e["type"] for e in c.events]
        assert types.index("input_audio_buffer.committed") < len(types) - 1 - types[::-1].index(
            "response.created"
        )
        await c.send({"type": "response.cancel"})
        await c.until("response.done")
    truncated = sim.sent_of("conversation.item.truncated")
    assert truncated and truncated[0]["audio_end_ms"] == 100
