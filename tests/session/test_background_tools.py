"""Tools that run beside the conversation: `mode: background`, spoken `progress`, the duplicate policy,
tool activity on the page, and a failing background tool the agent speaks about.

The app backend's `/gated` endpoints answer only once the test lets go of them (`stack.app.released`),
so "while the tool runs" is a fact of the test, not a race against the clock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.session.conftest import Stack
from tests.support.ui_participant import UIParticipant

pytestmark = pytest.mark.integration

PROGRESS = "Still searching, one moment."


def background_role(app_port: int) -> str:
    base = f"http://127.0.0.1:{app_port}"
    return f"""
name: background
title: Background bench
description: Tools that take their time.
model:
  modalities: [audio]
  turn_detection: {{type: server_vad, silence_duration_ms: 400}}
greeting:
  say: Hello from the background bench.
instructions: You are a test agent whose tools take their time.
tools:
  - name: slow_search
    kind: http
    description: A search that takes a while.
    url: {base}/gated
    secret_env: TOOL_TEST_HTTP_SECRET
    mode: background
    progress: {{after_ms: 300, say: "{PROGRESS}"}}
    duplicate: reject
    show_arguments: true
    timeout_s: 30
    parameters: {{type: object, properties: {{query: {{type: string}}}}, required: [query]}}
  - name: newest_search
    kind: http
    description: A search where only the newest call counts.
    url: {base}/gated
    secret_env: TOOL_TEST_HTTP_SECRET
    mode: background
    duplicate: replace
    timeout_s: 30
    parameters: {{type: object, properties: {{query: {{type: string}}}}, required: [query]}}
  - name: broken_search
    kind: http
    description: A search whose backend fails after a while.
    url: {base}/gated_fail
    secret_env: TOOL_TEST_HTTP_SECRET
    mode: background
    timeout_s: 30
    error_message: Tell the user the recipe search broke.
  - name: streamed_search
    kind: http
    description: A search that reports its progress.
    url: {base}/progress
    secret_env: TOOL_TEST_HTTP_SECRET
    progress: {{after_ms: 20000, say: Never said., updates: true}}
  - name: slow_page
    kind: frontend
    description: A page that waits on the user.
    mode: background
    progress: {{after_ms: 200, say: Waiting for you on the screen.}}
    timeout_s: 30                # LiveKit gives the page's handler this less 7 s (the round trip)
  - name: slow_lookup
    kind: http
    description: A lookup the agent waits for, until its progress time has passed.
    url: {base}/gated
    secret_env: TOOL_TEST_HTTP_SECRET
    progress: {{after_ms: 300, say: "Give me a second."}}
    timeout_s: 30
    parameters: {{type: object, properties: {{query: {{type: string}}}}, required: [query]}}
  - {{name: to_second, kind: handoff, target: background-second, history: none, description: Hand over.}}
  - {{name: end_session, kind: builtin, builtin: end_session, description: End the call.}}
"""


SECOND = """
name: background-second
title: Second background bench
description: The handoff target of the background bench.
greeting: {say: The second bench here.}
instructions: You are the second test agent; you have no tools of your own.
"""


@pytest.fixture
def role(stack: Stack) -> Iterator[str]:
    stack.app.released = False
    stack.write_role("background-second", SECOND)
    stack.write_role("background", background_role(stack.app.port))
    yield "background"
    stack.app.released = True


def outputs_of(stack: Stack, tool: str) -> list[dict[str, Any]]:
    """Every function_call_output the worker sent for calls of `tool` (the model's own call ids and the
    `<call_id>_update_N` / `_final` ones livekit-agents adds for a tool that runs beside the conversation)."""
    ids = {
        r.event["item"]["call_id"]
        for r in stack.sent()
        if r.type == "response.output_item.done"
        and r.event["item"].get("type") == "function_call"
        and r.event["item"].get("name") == tool
    }
    return [
        r.event["item"]
        for r in stack.received()
        if r.type == "conversation.item.create"
        and r.event["item"].get("type") == "function_call_output"
        and any(r.event["item"].get("call_id", "").startswith(i) for i in ids)
    ]


def activity(ui: UIParticipant, tool: str) -> list[tuple[str, str]]:
    return [(e["call_id"], e["status"]) for e in ui.events if e.get("type") == "tool" and e["name"] == tool]


async def test_a_background_search_speaks_its_progress_keeps_talking_and_delivers_its_answer(
    stack: Stack, role: str
) -> None:
    ui = await stack.session(role)
    try:
        await ui.wait_for(lambda: "Hello from the background bench" in ui.agent_text(), what="greeting")
        await ui.say_text('/call slow_search {"query": "pasta"}')
        await ui.wait_for(lambda: PROGRESS in ui.agent_text(), what="the progress message")
        # The backend has not answered (it cannot: the test holds it); the agent still answers the user.
        await ui.say_text("are you still there")
        await ui.wait_for(
            lambda: "You said: are you still there" in ui.agent_text(), what="a reply meanwhile"
        )
        assert not [o for o in outputs_of(stack, "slow_search") if "late" in o["output"]]
        stack.app.released = True
        final = await ui.wait_for(
            lambda: next((o for o in outputs_of(stack, "slow_search") if "late" in o["output"]), None),
            what="the search's answer reaching the model",
        )
        assert final["call_id"].endswith("_final")
        assert json.loads(final["output"]) == {"late": True, "query": "pasta"}
        await ui.wait_for(lambda: "slow_search returned" in ui.agent_text(), what="the agent speaking of it")
        # The page saw it start, make progress and answer, with the arguments the role lets it see.
        events = [e for e in ui.events if e.get("type") == "tool" and e["name"] == "slow_search"]
        assert [e["status"] for e in events] == ["started", "progress", "done"]
        assert events[0]["arguments"] == {"query": "pasta"} and events[0]["mode"] == "background"
        assert events[1]["message"] == PROGRESS and events[2]["duration_ms"] > 0
        await ui.say_text("/call end_session {}")
    finally:
        await ui.leave()


async def test_a_second_call_while_one_runs_follows_the_duplicate_policy(stack: Stack, role: str) -> None:
    ui = await stack.session(role)
    try:
        await ui.wait_for(lambda: "Hello from the background bench" in ui.agent_text(), what="greeting")
        # reject: the model is told the first call is still running
        await ui.say_text('/call slow_search {"query": "soup"}')
        await ui.wait_for(lambda: PROGRESS in ui.agent_text(), what="the first call running")
        await ui.say_text('/call slow_search {"query": "stew"}')
        refusal = await ui.wait_for(
            lambda: next(
                (o for o in outputs_of(stack, "slow_search") if "already running" in o["output"]), None
            ),
            what="the duplicate refused",
        )
        assert refusal["output"].startswith("slow_search is already running")
        # replace: the running call is cancelled, the newer one answers
        await ui.say_text('/call newest_search {"query": "first"}')
        await ui.wait_for(lambda: len(activity(ui, "newest_search")) == 1, what="the first call started")
        await ui.say_text('/call newest_search {"query": "second"}')
        await ui.wait_for(lambda: len(activity(ui, "newest_search")) == 3, what="the first replaced")
        stack.app.released = True
        await ui.wait_for(
            lambda: any('"second"' in o["output"] for o in outputs_of(stack, "newest_search")),
            what="the newer call's answer",
        )
        assert not any('"first"' in o["output"] for o in outputs_of(stack, "newest_search"))
        await ui.say_text("/call end_session {}")
        report = await stack.wait_report(ui.room_name)
        calls = [(c["name"], c["outcome"], c["detail"]) for c in report["tool_calls"]]
        assert ("newest_search", "error", "replaced by a newer call") in calls
        assert any(n == "slow_search" and o == "error" and "already running" in d for n, o, d in calls)
        assert any(n == "slow_search" and o == "ok" and '"soup"' in d for n, o, d in calls)
    finally:
        await ui.leave()


async def test_a_failing_background_tool_is_spoken_about(stack: Stack, role: str) -> None:
    ui = await stack.session(role)
    try:
        await ui.wait_for(lambda: "Hello from the background bench" in ui.agent_text(), what="greeting")
        await ui.say_text("/call broken_search {}")
        await ui.wait_for(lambda: activity(ui, "broken_search"), what="the call started")
        stack.app.released = True
        await ui.wait_for(
            lambda: "broken_search failed: the service answered HTTP 500" in ui.agent_text(),
            what="the agent telling the user",
        )
        assert "Tell the user the recipe search broke." in outputs_of(stack, "broken_search")[-1]["output"]
        assert [s for _, s in activity(ui, "broken_search")] == ["started", "failed"]
        await ui.say_text("still there")
        await ui.wait_for(lambda: "You said: still there" in ui.agent_text(), what="the session going on")
    finally:
        await ui.leave()


async def test_updates_a_backend_streams_are_spoken(stack: Stack, role: str) -> None:
    ui = await stack.session(role)
    try:
        await ui.wait_for(lambda: "Hello from the background bench" in ui.agent_text(), what="greeting")
        await ui.say_text("/call streamed_search {}")
        await ui.wait_for(lambda: "Found twelve recipes." in ui.agent_text(), what="the first update said")
        await ui.wait_for(
            lambda: any("amatriciana" in o["output"] for o in outputs_of(stack, "streamed_search")),
            what="the result after the updates",
        )
        messages = [e["message"] for e in ui.events if e.get("type") == "tool" and e["status"] == "progress"]
        assert messages[:2] == ["Found twelve recipes.", "Picking the best three."]
    finally:
        await ui.leave()


async def test_a_background_frontend_tool_waits_on_the_page_while_the_agent_talks(
    stack: Stack, role: str
) -> None:
    answered = False

    async def slow_page(_: dict[str, Any]) -> dict[str, Any]:
        while not answered:
            await asyncio.sleep(0.05)
        return {"picked": "carbonara"}

    ui = await stack.session(role, handlers={"slow_page": slow_page})
    try:
        await ui.wait_for(lambda: "Hello from the background bench" in ui.agent_text(), what="greeting")
        await ui.say_text("/call slow_page {}")
        await ui.wait_for(lambda: "Waiting for you on the screen." in ui.agent_text(), what="the progress")
        await ui.say_text("one moment")
        await ui.wait_for(lambda: "You said: one moment" in ui.agent_text(), what="a reply meanwhile")
        answered = True
        await ui.wait_for(
            lambda: any("carbonara" in o["output"] for o in outputs_of(stack, "slow_page")),
            what="the page's answer reaching the model",
        )
    finally:
        await ui.leave()


async def test_a_foreground_tool_past_its_progress_time_is_released_and_answers_after_a_handoff(
    stack: Stack, role: str
) -> None:
    ui = await stack.session(role)
    try:
        await ui.wait_for(lambda: "Hello from the background bench" in ui.agent_text(), what="greeting")
        await ui.say_text('/call slow_lookup {"query": "wine"}')
        await ui.wait_for(lambda: "Give me a second." in ui.agent_text(), what="the progress message")
        # Released: the conversation goes on, here to another role (history: none, a fresh agent).
        await ui.say_text('/call to_second {"summary": "The user is waiting for a lookup."}')
        await ui.wait_for(
            lambda: any(e.get("type") == "role" and e["name"] == "background-second" for e in ui.events),
            what="the handoff",
        )
        stack.app.released = True
        final = await ui.wait_for(
            lambda: next((o for o in outputs_of(stack, "slow_lookup") if "late" in o["output"]), None),
            what="the lookup's answer reaching the model after the handoff",
        )
        assert final["call_id"].endswith("_final")
        await ui.wait_for(
            lambda: "slow_lookup returned" in ui.agent_text(), what="the new role speaking of it"
        )
        statuses = [s for _, s in activity(ui, "slow_lookup")]
        assert statuses == ["started", "progress", "done"]
    finally:
        await ui.leave()
