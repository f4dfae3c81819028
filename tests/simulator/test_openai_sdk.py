"""Conformance with the official openai SDK's realtime client."""

from __future__ import annotations

import json

import pytest
from openai import AsyncOpenAI

from worker.simulator import Simulator

pytestmark = pytest.mark.integration

TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


async def test_text_turn_and_function_call_round_trip(sim: Simulator) -> None:
    client = AsyncOpenAI(base_url=sim.base_url, api_key="sim")
    async with client.realtime.connect(model="gpt-realtime") as conn:
        await conn.session.update(
            session={"type": "realtime", "output_modalities": ["text"], "tools": [TOOL]}
        )
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Hello there"}],
            }
        )
        await conn.response.create(response={"metadata": {"turn": "1"}})
        text = ""
        async for event in conn:  # the SDK parses each event into its own openai types
            if event.type == "response.created":
                assert event.response.metadata == {"turn": "1"}
            if event.type == "response.output_text.delta":
                text += event.delta
            if event.type == "response.done":
                assert event.response.status == "completed"
                break
        assert text == "You said: Hello there"

        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": '/call get_weather {"city": "Lyon"}'}],
            }
        )
        await conn.response.create()
        call = None
        async for event in conn:
            if event.type == "response.function_call_arguments.done":
                assert json.loads(event.arguments) == {"city": "Lyon"}
            if event.type == "response.output_item.done" and event.item.type == "function_call":
                call = event.item
            if event.type == "response.done":
                break
        assert call is not None and call.name == "get_weather" and call.call_id

        await conn.conversation.item.create(
            item={"type": "function_call_output", "call_id": call.call_id, "output": '{"temp_c": 18}'}
        )
        await conn.response.create()
        async for event in conn:
            if event.type == "response.output_text.done":
                assert event.text == 'Done. get_weather returned {"temp_c": 18}.'
            if event.type == "response.done":
                break

    outputs = sim.received_of("conversation.item.create")
    assert outputs[-1]["item"] == {
        "type": "function_call_output",
        "call_id": call.call_id,
        "output": '{"temp_c": 18}',
    }
    assert sim.violations == []
