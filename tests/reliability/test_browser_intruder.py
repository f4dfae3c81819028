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
from livekit import rtc

from tests.browser.conftest import BrowserStack, browser_stack  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


async def test_a_standard_participant_cannot_call_the_pages_handlers(
    browser_stack: BrowserStack,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hold = tmp_path / "release"
    monkeypatch.setenv("HOLD_FILE", str(hold))
    known = await browser_stack.room_names()
    page = asyncio.create_task(asyncio.to_thread(browser_stack.run, "hold"))
    intruder = rtc.Room()
    outcomes: dict[str, Any] = {}
    try:
        room, user = await browser_stack.page_room(known)
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
