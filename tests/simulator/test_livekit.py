"""Conformance with livekit-agents' own client: `RealtimeModel` inside an `AgentSession` text run."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from livekit.agents import Agent, AgentSession, APIConnectOptions, function_tool
from livekit.plugins.openai.realtime import RealtimeModel

from worker.simulator import Simulator

pytestmark = pytest.mark.integration


class Sommelier(Agent):
    def __init__(self, chat_ctx: object) -> None:
        super().__init__(instructions="You are the sommelier.", chat_ctx=chat_ctx)  # type: ignore[arg-type]


class CookingGuide(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You are the cooking guide.")

    @function_tool
    async def start_timer(self, label: str, seconds: int) -> str:
        """Start a countdown timer."""
        return json.dumps({"started": label, "seconds": seconds})

    @function_tool
    async def ask_sommelier(self) -> Agent:
        """Bring in the sommelier."""
        return Sommelier(chat_ctx=self.chat_ctx)


@pytest.fixture
async def model(sim: Simulator) -> AsyncIterator[RealtimeModel]:
    m = RealtimeModel(
        base_url=sim.base_url,
        api_key="sim",
        modalities=["text"],
        conn_options=APIConnectOptions(max_retry=3, retry_interval=0.1, timeout=5),
    )
    yield m
    await m.aclose()


@pytest.fixture
async def session(model: RealtimeModel) -> AsyncIterator[AgentSession]:
    async with AgentSession(llm=model) as s:
        await s.start(CookingGuide())
        yield s


async def test_reply(session: AgentSession, sim: Simulator) -> None:
    result = await session.run(user_input="What can I cook tonight?")
    result.expect.next_event().is_message(role="assistant")
    assert result.events[-1].item.content == ["You said: What can I cook tonight?"]  # type: ignore[union-attr]
    created = sim.received_of("response.create")[-1]
    sent = sim.sent_of("response.created")[-1]
    assert sent["response"]["metadata"] == created["response"]["metadata"]


async def test_tool_round_trip(session: AgentSession, sim: Simulator) -> None:
    result = await session.run(user_input='/call start_timer {"label": "pasta", "seconds": 600}')
    result.expect.next_event().is_function_call(
        name="start_timer", arguments={"label": "pasta", "seconds": 600}
    )
    result.expect.next_event().is_function_call_output()
    result.expect.next_event().is_message(role="assistant")
    outputs = [
        e["item"]
        for e in sim.received_of("conversation.item.create")
        if e["item"]["type"] == "function_call_output"
    ]
    assert json.loads(outputs[-1]["output"]) == {"started": "pasta", "seconds": 600}


async def test_unknown_tool_gets_an_error_reply(session: AgentSession) -> None:
    result = await session.run(user_input="/call launch_rocket")
    result.expect.next_event().is_message(role="assistant")
    assert "launch_rocket" in str(result.events[-1].item.content)  # type: ignore[union-attr]


async def test_handoff_updates_instructions_on_the_same_connection(
    session: AgentSession, sim: Simulator
) -> None:
    await session.run(user_input="hello")
    result = await session.run(user_input="/call ask_sommelier")
    result.expect.contains_agent_handoff(new_agent_type=Sommelier)
    await sim.wait_for(
        "session.update", where=lambda r: r.event["session"].get("instructions") == "You are the sommelier."
    )
    assert {r.connection for r in sim.received} == {"conn_1"}
    # the conversation was kept: nothing the user said was deleted
    deleted = {e["item_id"] for e in sim.received_of("conversation.item.delete")}
    user_items = {
        e["item"]["id"]
        for e in sim.received_of("conversation.item.create")
        if e["item"].get("role") == "user"
    }
    assert not deleted & user_items


async def test_reconnect_replays_history(session: AgentSession, sim: Simulator) -> None:
    await session.run(user_input="first message")
    await sim.connections[0].drop()
    await sim.wait_for("conversation.item.create", where=lambda r: r.connection == "conn_2")
    result = await session.run(user_input="second message")
    result.expect.next_event().is_message(role="assistant")
    replayed = [e["item"] for e in sim.received_of("conversation.item.create", connection="conn_2")]
    texts = [c.get("text") for item in replayed for c in item.get("content", [])]
    assert texts[:3] == ["first message", "You said: first message", "second message"]
    assert sim.received_of("session.update", connection="conn_2")
