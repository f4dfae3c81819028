"""The Realtime settings roles gained (reasoning effort, noise reduction, truncation, tool choice, parallel
tool calls): the simulator accepts them as the service does, and acts on the ones that change the
conversation's shape."""

from __future__ import annotations

import pytest
from websockets.asyncio.client import connect

from tests.simulator.conftest import RawClient, StartSim
from worker.simulator import Scenario

pytestmark = pytest.mark.integration

TOOLS = [
    {"type": "function", "name": n, "description": n, "parameters": {"type": "object"}} for n in ("a", "b")
]
TWO_CALLS = Scenario.from_yaml(
    "turns:\n  - match: both\n    calls: [{name: a}, {name: b}]\n    then: [{say: All done.}]\n"
)


async def _session(sim_url: str) -> RawClient:
    ws = await connect(sim_url + "?model=gpt-realtime-2", additional_headers={"Authorization": "Bearer x"})
    client = RawClient(ws)
    await client.until("session.created")
    return client


async def _calls_of_next_response(client: RawClient) -> list[str]:
    done = await client.until("response.done")
    return [o["name"] for o in done["response"]["output"] if o["type"] == "function_call"]


async def test_the_new_settings_are_accepted_and_echoed(start_sim: StartSim) -> None:
    sim = await start_sim()
    client = await _session(sim.ws_url)
    settings = {
        "type": "realtime",
        "reasoning": {"effort": "low"},
        "truncation": {"type": "retention_ratio", "retention_ratio": 0.8},
        "audio": {"input": {"noise_reduction": {"type": "far_field"}}},
        "tool_choice": "required",
        "parallel_tool_calls": False,
    }
    await client.send({"type": "session.update", "session": settings})
    session = (await client.until("session.updated"))["session"]
    assert session["reasoning"] == {"effort": "low"}
    assert session["truncation"] == {"type": "retention_ratio", "retention_ratio": 0.8}
    assert session["audio"]["input"]["noise_reduction"] == {"type": "far_field"}
    assert (session["tool_choice"], session["parallel_tool_calls"]) == ("required", False)
    await client.ws.close()


@pytest.mark.parametrize("parallel", [True, False])
async def test_without_parallel_tool_calls_each_call_gets_its_own_response(
    start_sim: StartSim, parallel: bool
) -> None:
    sim = await start_sim(scenario=TWO_CALLS)
    client = await _session(sim.ws_url)
    update = {
        "type": "realtime",
        "output_modalities": ["text"],
        "tools": TOOLS,
        "parallel_tool_calls": parallel,
    }
    await client.send({"type": "session.update", "session": update})
    await client.until("session.updated")
    await client.send(
        {
            "type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "both"}]},
        }
    )
    await client.send({"type": "response.create"})
    rounds = []
    while True:
        done = await client.until("response.done")
        calls = [o for o in done["response"]["output"] if o["type"] == "function_call"]
        if not calls:
            assert done["response"]["output"][0]["content"][0]["text"] == "All done."
            break
        rounds.append([c["name"] for c in calls])
        for call in calls:
            output = {"type": "function_call_output", "call_id": call["call_id"], "output": "{}"}
            await client.send({"type": "conversation.item.create", "item": output})
        await client.send({"type": "response.create"})
    assert rounds == ([["a", "b"]] if parallel else [["a"], ["b"]])
    await client.ws.close()
