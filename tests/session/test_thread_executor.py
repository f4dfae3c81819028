"""`ROLECALL_JOB_EXECUTOR=thread`: sessions share the worker's process and still stay apart.

Two sessions run at once in one worker: each greets its own user, calls its own page's tool with its
own arguments, ends on its own, and sends its own complete report; no job process is started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import psutil
import pytest

from tests.session.conftest import Stack, make_stack
from tests.support.livekit_server import LiveKitServer
from tests.support.ui_participant import UIParticipant

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from make_stack(livekit_server, tmp_path_factory, ROLECALL_JOB_EXECUTOR="thread")


async def _converse(stack: Stack, ui: UIParticipant, title: str) -> dict[str, Any]:
    await ui.wait_for(lambda: "Hello" in ui.agent_text(), what="greeting")
    await ui.say_text(f'/call show_card {{"title": "{title}"}}')
    await ui.wait_for(lambda: f'"shown": "{title}"' in ui.agent_text(), what="the tool's answer")
    await ui.say_text("/call end_session {}")
    await ui.wait_for(lambda: ui.agent() is None, timeout=30, what="the session to end")

    def report() -> dict[str, Any] | None:
        for r in stack.app.received:
            if r.path == "/hook" and isinstance(r.body, dict) and r.body.get("room") == ui.room_name:
                return r.body
        return None

    body: dict[str, Any] = await ui.wait_for(report, timeout=15, what="the webhook")
    return body


async def test_two_sessions_share_the_process_and_stay_apart(stack: Stack) -> None:
    assert stack.worker.proc is not None
    worker = psutil.Process(stack.worker.proc.pid)
    processes_before = len(worker.children(recursive=True))
    uis = [
        await stack.session("bench", {"show_card": lambda a: {"shown": a["title"]}}),
        await stack.session("bench", {"show_card": lambda a: {"shown": a["title"]}}),
    ]
    try:
        await asyncio.gather(*(u.wait_for(lambda u=u: u.agent() is not None, what="agent") for u in uis))
        assert len(worker.children(recursive=True)) == processes_before, "a session started a process"
        reports = await asyncio.gather(_converse(stack, uis[0], "first"), _converse(stack, uis[1], "second"))
    finally:
        for u in uis:
            await u.leave()
    for ui, body, title in zip(uis, reports, ("first", "second"), strict=True):
        assert body["room"] == ui.room_name
        assert body["end_reason"] == "end_session"
        calls = [(c["name"], c["arguments"]) for c in body["tool_calls"]]
        assert calls == [("show_card", {"title": title}), ("end_session", {})]
        said = " ".join(line["text"] for line in body["transcript"])
        assert title in said and ("second" if title == "first" else "first") not in said
    assert [c.arguments for c in uis[0].calls_to("show_card")] == [{"title": "first"}]
    assert [c.arguments for c in uis[1].calls_to("show_card")] == [{"title": "second"}]
