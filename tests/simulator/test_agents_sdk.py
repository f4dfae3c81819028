"""Interruptions from a real third-party client: the OpenAI Agents SDK's realtime session.

The SDK interrupts the way its users' apps do: `session.interrupt()` under server VAD sends only
`conversation.item.truncate` while the reply still streams (the server's VAD would cancel it), and
a tripped output guardrail forces a cancel, sending the truncate before `response.cancel`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from agents import GuardrailFunctionOutput, OutputGuardrail, RunContextWrapper, set_tracing_disabled
from agents.realtime import RealtimeAgent, RealtimeRunConfig, RealtimeRunner, RealtimeSession

from tests.simulator.conftest import StartSim, fast_faults
from worker.simulator import Simulator

pytestmark = pytest.mark.integration

STORY = "please tell me a long story about a cat who lived in a lighthouse by the sea"


class Events:
    """Every event of an Agents SDK session, collected in the background."""

    def __init__(self, session: RealtimeSession) -> None:
        self.all: list[Any] = []
        self._task = asyncio.create_task(self._collect(session))

    async def _collect(self, session: RealtimeSession) -> None:
        async for event in session:
            self.all.append(event)

    def server(self, event_type: str) -> list[dict[str, Any]]:
        """The raw server events of this type that reached the SDK, in order."""
        return [
            e.data.data
            for e in self.all
            if e.type == "raw_model_event"
            and e.data.type == "raw_server_event"
            and e.data.data.get("type") == event_type
        ]

    def errors(self) -> list[Any]:
        return [e.error for e in self.all if e.type == "error"]

    async def until(self, what: str, found: Callable[[], Any], timeout: float = 20.0) -> Any:
        """Wait until `found()` is truthy (the SDK's errors, if any, are in the failure message)."""
        try:
            async with asyncio.timeout(timeout):
                while not (value := found()):
                    await asyncio.sleep(0.01)
                return value
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}; SDK errors: {self.errors()}") from None

    async def aclose(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


@pytest.fixture(autouse=True)
def _no_tracing() -> None:
    set_tracing_disabled(True)  # the SDK would otherwise try to export traces to OpenAI


@asynccontextmanager
async def _session(
    sim: Simulator, config: RealtimeRunConfig
) -> AsyncIterator[tuple[RealtimeSession, Events]]:
    agent = RealtimeAgent(name="simulated", instructions="Answer briefly.")
    config = config | {"tracing_disabled": True}
    config["model_settings"] = {
        "model_name": "gpt-realtime",
        "turn_detection": {"type": "server_vad", "interrupt_response": True, "create_response": True},
    }
    runner = RealtimeRunner(agent, config=config)
    session = await runner.run(model_config={"url": f"{sim.ws_url}?model=gpt-realtime", "api_key": "sim"})
    async with session:
        events = Events(session)
        try:
            yield session, events
        finally:
            await events.aclose()


def _refused(sim: Simulator) -> list[str]:
    return [f"{r.type}: {r.error}" for r in sim.received if r.error is not None]


async def test_interrupt_while_the_reply_streams_truncates_it_and_the_session_goes_on(
    start_sim: StartSim,
) -> None:
    sim = await start_sim(faults=fast_faults(audio_pace=2.0), speech="tone")
    async with _session(sim, {}) as (session, events):
        await session.send_message(STORY)
        await events.until("reply audio", lambda: sum(e.type == "audio" for e in events.all) >= 5)
        await session.interrupt()
        truncated = await events.until(
            "conversation.item.truncated", lambda: events.server("conversation.item.truncated")
        )
        done = await events.until("the first response.done", lambda: events.server("response.done"))

        truncate = next(r for r in sim.received if r.type == "conversation.item.truncate")
        finished = next(r for r in sim.sent if r.type == "response.done")
        assert truncate.at < finished.at, "the SDK truncated after the reply had finished streaming"
        assert truncate.error is None, truncate.error
        assert not sim.received_of("response.cancel")  # under server VAD the SDK sends only the truncate
        # The SDK asks for the item back: what the user heard, cut from the reply it had started.
        retrieved = await events.until("the item", lambda: events.server("conversation.item.retrieved"))
        item = retrieved[0]["item"]
        assert item["id"] == truncated[0]["item_id"]
        heard = item["content"][0]["transcript"]
        assert f"You said: {STORY}".startswith(heard) and len(heard) < len(f"You said: {STORY}")
        assert done[0]["response"]["status"] == "completed"  # a truncate alone does not cancel

        await session.send_message("and then?")
        await events.until(
            "the next reply",
            lambda: [d for d in events.server("response.done")[1:] if d["response"]["status"] == "completed"],
        )
        texts = [d["transcript"] for d in events.server("response.output_audio_transcript.done")]
        assert texts[-1] == "You said: and then?"
    assert events.errors() == [] and sim.sent_of("error") == [], (events.errors(), _refused(sim))


async def _trips_on_lighthouse(
    context: RunContextWrapper[Any], agent: Any, output: str
) -> GuardrailFunctionOutput:
    return GuardrailFunctionOutput(output_info=None, tripwire_triggered="lighthouse" in output)


async def test_forced_cancel_sends_truncate_then_cancel_and_both_are_accepted(start_sim: StartSim) -> None:
    sim = await start_sim(faults=fast_faults(audio_pace=2.0), speech="tone")
    guardrail = OutputGuardrail(guardrail_function=_trips_on_lighthouse, name="story_filter")
    config: RealtimeRunConfig = {
        "output_guardrails": [guardrail],
        "guardrails_settings": {"debounce_text_length": 10},
    }
    async with _session(sim, config) as (session, events):
        await session.send_message(STORY)
        await events.until("the guardrail", lambda: [e for e in events.all if e.type == "guardrail_tripped"])
        await events.until(
            "conversation.item.truncated", lambda: events.server("conversation.item.truncated")
        )
        first = (await events.until("the first response.done", lambda: events.server("response.done")))[0]
        assert first["response"]["status"] == "cancelled"

        # The SDK tells the model its guardrail tripped, and the model answers.
        await events.until(
            "the reply after the guardrail",
            lambda: [d for d in events.server("response.done")[1:] if d["response"]["status"] == "completed"],
        )
        texts = [d["transcript"] for d in events.server("response.output_audio_transcript.done")]
        assert texts[-1] == "You said: guardrail triggered: story_filter"

    order = [r.type for r in sim.received if r.type in ("conversation.item.truncate", "response.cancel")]
    assert order == ["conversation.item.truncate", "response.cancel"]
    assert _refused(sim) == [] and events.errors() == [] and sim.sent_of("error") == []
    # What the conversation keeps of the interrupted reply is what was heard.
    cut = first["response"]["output"][0]["content"][0]["transcript"]
    assert f"You said: {STORY}".startswith(cut) and len(cut) < len(f"You said: {STORY}")
