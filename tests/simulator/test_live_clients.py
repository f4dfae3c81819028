"""Conformance with two real GPT-Live clients: the openai SDK's `client.live.connect`, and livekit-agents'
`GPTLiveModel` (the worker's path) inside an `AgentSession`. Each completes a session with text, audio and
a delegated function call."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import Agent, AgentSession, APIConnectOptions, function_tool, llm
from livekit.agents.llm._realtime.gpt_live import GPTLiveModel
from livekit.agents.voice.io import AudioInput
from openai import AsyncOpenAI

from tests.simulator.conftest import StartSim
from worker.simulator import Simulator
from worker.simulator.speech import SAMPLE_RATE, tone_speech

pytestmark = pytest.mark.integration

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def speech_chunks(words: str, *, silence_s: float = 1.5) -> list[bytes]:
    """`words` as speech-like PCM16 24 kHz audio, then silence, in 100 ms chunks."""
    pcm = np.concatenate([tone_speech(words), np.zeros(int(SAMPLE_RATE * silence_s), dtype=np.int16)])
    step = SAMPLE_RATE // 10
    return [pcm[i : i + step].tobytes().ljust(step * 2, b"\0") for i in range(0, pcm.size, step)]


async def test_openai_sdk_completes_a_session_with_text_audio_and_a_delegated_call(sim: Simulator) -> None:
    client = AsyncOpenAI(base_url=sim.base_url, api_key="sim")
    async with client.live.connect() as conn:
        await conn.session.start(
            session={
                "model": "gpt-live-1",
                "instructions": "Answer briefly.",
                "delegation": {
                    "type": "responses",
                    "responses": {"model": "gpt-5.6-luna", "tools": [WEATHER]},
                },
            }
        )
        started = await conn.recv()  # the SDK parses every event into openai.types.live
        assert started.type == "session.started" and started.session.delegation is not None

        # Text: a typed command the model delegates; the SDK sees the backend's call in its envelope.
        await conn.session.commentary.append(content='/call get_weather {"city": "Lyon"}', delegation_id=None)
        call: dict[str, Any] | None = None
        async for event in conn:
            if event.type == "response.event" and event.event["type"] == "response.output_item.done":
                call = dict(event.event["item"])  # type: ignore[arg-type]
            if event.type == "response.event" and event.event["type"] == "response.completed":
                break
        assert call is not None and json.loads(call["arguments"]) == {"city": "Lyon"}
        await conn.response.item.create(
            item={"type": "function_call_output", "call_id": call["call_id"], "output": '{"temp_c": 18}'}
        )
        await conn.response.create()
        spoken = ""
        async for event in conn:
            if event.type == "session.output_transcript.delta":
                spoken += event.delta
            if spoken.endswith('{"temp_c": 18}.'):
                break
        assert 'Done. get_weather returned {"temp_c": 18}.' in spoken

        # Audio: speech in, a transcript of it, and audio out.
        for chunk in speech_chunks("what is the weather tomorrow"):
            await conn.session.input_audio.append(audio=base64.b64encode(chunk).decode())
        heard, answer, audio = None, "", 0
        async for event in conn:
            if event.type == "session.input_transcript.delta":
                heard = event
            if event.type == "session.output_transcript.delta" and heard is not None:
                answer += event.delta
            if event.type == "session.output_audio.delta" and heard is not None:
                audio += len(base64.b64decode(event.delta))
            if answer.endswith("s)") and audio:
                break
        assert heard is not None and heard.end_ms > heard.start_ms
        assert answer.startswith("You said: (audio")

        await conn.session.close()
        async for event in conn:
            if event.type == "session.closed":
                assert event.reason == "close_requested" and event.usage.seconds > 0
                break
    assert [r.type for r in sim.received if r.error] == []


# --- livekit-agents' GPTLiveModel ---------------------------------------------------------------------


class Microphone(AudioInput):
    """An AgentSession audio input like a live microphone: what the test says, else silence, in real
    time (GPTLiveSession ends the user's turn after 0.8 s of audio pushed after their last words)."""

    def __init__(self) -> None:
        super().__init__(label="test")
        self.queue: asyncio.Queue[rtc.AudioFrame] = asyncio.Queue()
        self.silence = rtc.AudioFrame(bytes(SAMPLE_RATE // 5), SAMPLE_RATE, 1, SAMPLE_RATE // 10)

    async def __anext__(self) -> rtc.AudioFrame:
        if not self.queue.empty():
            return self.queue.get_nowait()
        await asyncio.sleep(0.1)
        return self.silence

    def speak(self, words: str) -> None:
        for chunk in speech_chunks(words):
            self.queue.put_nowait(rtc.AudioFrame(chunk, SAMPLE_RATE, 1, len(chunk) // 2))


class Guide(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="Speak warmly and briefly; delegate anything needing tools.")

    @function_tool
    async def start_timer(self, label: str, seconds: int) -> str:
        """Start a countdown timer."""
        return json.dumps({"started": label, "seconds": seconds})


@pytest.fixture
async def live_model(start_sim: StartSim) -> AsyncIterator[tuple[GPTLiveModel, Simulator]]:
    sim = await start_sim(speech="tone")
    model = GPTLiveModel(
        base_url=sim.base_url,
        api_key="sim",
        responses_options={"model": "gpt-5.6-luna", "instructions": "You run the kitchen's tools."},
        conn_options=APIConnectOptions(max_retry=1, retry_interval=0.1, timeout=5),
    )
    yield model, sim
    await model.aclose()


async def _history_until(
    session: AgentSession[Any], text: str, role: str = "assistant"
) -> list[llm.ChatItem]:
    async with asyncio.timeout(15):
        while not any(
            isinstance(i, llm.ChatMessage) and i.role == role and text in (i.text_content or "")
            for i in session.history.items
        ):
            await asyncio.sleep(0.05)
    return list(session.history.items)


async def test_gpt_live_model_completes_a_session_with_text_audio_and_a_delegated_call(
    live_model: tuple[GPTLiveModel, Simulator],
) -> None:
    model, sim = live_model
    audio = Microphone()
    async with AgentSession(llm=model) as session:
        session.input.audio = audio
        await session.start(Guide())

        result = await session.run(user_input="What can I cook tonight?")
        assert result.events[-1].item.text_content == "You said: What can I cook tonight?"  # type: ignore[union-attr]

        await session.run(user_input='/call start_timer {"label": "pasta", "seconds": 600}')
        items = await _history_until(session, "Done. start_timer returned")
        call = next(i for i in items if isinstance(i, llm.FunctionCall))
        output = next(i for i in items if isinstance(i, llm.FunctionCallOutput))
        assert json.loads(call.arguments) == {"label": "pasta", "seconds": 600}
        assert json.loads(output.output) == {"started": "pasta", "seconds": 600}

        audio.speak("set another timer please")
        await _history_until(session, "You said: (audio")
        await _history_until(session, "(audio", role="user")  # the turn ends on 0.8 s of silence after it

    start = sim.received_of("session.start")[0]["session"]
    assert start["instructions"] == "Speak warmly and briefly; delegate anything needing tools."
    backend = start["delegation"]["responses"]
    assert backend["instructions"] == "You run the kitchen's tools."
    assert [t["name"] for t in backend["tools"]] == ["start_timer"]
    outputs = sim.received_of("response.item.create")
    assert outputs[0]["item"]["call_id"] == call.call_id
    assert [r.type for r in sim.received if r.error] == []
