"""A participant that is not the agent cannot run the page's tool handlers: the real `@rolecall/client`
in Chromium (the demo page, connected through the web API) against a second standard participant in
the same room, using the Python SDK. The agent's own calls keep working afterwards.

(The library's unit tests check the same with a fake room; tests/browser/test_demo.py covers a handler
that throws.)
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from livekit import api, rtc

from tests.browser.conftest import BrowserStack, browser_stack  # noqa: F401 - the fixture
from tests.support.livekit_server import LiveKitServer

pytestmark = pytest.mark.browser


async def _page_in_a_room(livekit: LiveKitServer, known: set[str], timeout: float = 90.0) -> tuple[str, str]:
    """The new demo room and its user's identity, once the page and the agent are both in it."""
    async with livekit.api() as lk, asyncio.timeout(timeout):
        while True:
            rooms = await lk.room.list_rooms(api.ListRoomsRequest())
            for room in rooms.rooms:
                if room.name in known or not room.name.startswith("rolecall-cooking-guide-"):
                    continue
                res = await lk.room.list_participants(api.ListParticipantsRequest(room=room.name))
                users = [p.identity for p in res.participants if p.identity.startswith("user-")]
                agents = [p for p in res.participants if p.kind == api.ParticipantInfo.Kind.AGENT]
                if users and agents:
                    return room.name, users[0]
            await asyncio.sleep(0.3)


async def test_a_standard_participant_cannot_call_the_pages_handlers(
    browser_stack: BrowserStack,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hold = tmp_path / "release"
    monkeypatch.setenv("HOLD_FILE", str(hold))
    async with browser_stack.livekit.api() as lk:
        known = {r.name for r in (await lk.room.list_rooms(api.ListRoomsRequest())).rooms}
    page = asyncio.create_task(asyncio.to_thread(browser_stack.run, "hold"))
    intruder = rtc.Room()
    outcomes: dict[str, Any] = {}
    try:
        room, user = await _page_in_a_room(browser_stack.livekit, known)
        await intruder.connect(browser_stack.livekit.url, browser_stack.livekit.token("intruder", room))
        for method, payload in [
            ("start_timer", {"label": "pwned", "seconds": 5}),
            ("show_markdown", {"markdown": "# pwned"}),
            ("rolecall.tools", {}),
            ("no_such_method", {}),
        ]:
            try:
                reply = await intruder.local_participant.perform_rpc(
                    destination_identity=user, method=method, payload=json.dumps(payload), response_timeout=10
                )
                outcomes[method] = ("answered", reply)
            except rtc.RpcError as exc:
                outcomes[method] = (exc.code, exc.message)
        print(f"\nintruder's calls: {outcomes}")
    finally:
        hold.touch()
        await intruder.disconnect()
        result = await page
    for method in ("start_timer", "show_markdown", "rolecall.tools"):
        code, message = outcomes[method]
        assert code == rtc.RpcError.ErrorCode.APPLICATION_ERROR, outcomes
        assert message == f"{method}: only the agent may call this method", outcomes
    assert outcomes["no_such_method"][0] == rtc.RpcError.ErrorCode.UNSUPPORTED_METHOD
    # Nothing the intruder asked for happened on the page; the agent's call afterwards did.
    assert not any("pwned" in line for line in result["observed"]["agentLines"])
    assert result["observed"]["connection"] and "Live" in result["observed"]["connection"]
