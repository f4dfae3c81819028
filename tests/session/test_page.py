"""What the page is told: typed events and attributes from `worker.protocol`, to the user only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from worker.protocol import ATTR_ERROR, ATTR_ROLE, ATTR_ROLE_TITLE, EVENTS_TOPIC, PAGE_EVENT, TimeLimitEvent
from worker.session.page import Page

pytestmark = pytest.mark.unit


class FakeLocal:
    def __init__(self, *, fail: bool = False) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.attributes: dict[str, str] = {}
        self.fail = fail

    async def send_text(self, text: str, **kwargs: Any) -> None:
        if self.fail:
            raise RuntimeError("room closing")
        self.sent.append((text, kwargs))

    async def set_attributes(self, attributes: dict[str, str]) -> None:
        if self.fail:
            raise RuntimeError("room closing")
        self.attributes.update(attributes)


async def test_events_go_to_the_user_on_the_events_topic_and_validate() -> None:
    local = FakeLocal()
    page = Page(local, "user-1")  # type: ignore[arg-type]
    await page.send(TimeLimitEvent(limit="idle", limit_s=120))
    await page.announce_role("sommelier", "Sommelier")
    await page.report_error("model_unavailable", "The voice model connection was lost.")
    assert [PAGE_EVENT.validate_json(text).type for text, _ in local.sent] == [
        "session_limit",
        "role",
        "error",
    ]
    assert all(
        kw["topic"] == EVENTS_TOPIC and kw["destination_identities"] == ["user-1"] for _, kw in local.sent
    )
    assert local.attributes[ATTR_ROLE] == "sommelier" and local.attributes[ATTR_ROLE_TITLE] == "Sommelier"
    assert json.loads(local.attributes[ATTR_ERROR]) == {
        "code": "model_unavailable",
        "message": "The voice model connection was lost.",
    }


async def test_without_a_room_or_with_a_closing_one_nothing_is_raised() -> None:
    await Page(None, "user-1").announce_role("a", "A")
    closing = Page(FakeLocal(fail=True), "user-1")  # type: ignore[arg-type]
    await closing.send(TimeLimitEvent(limit="idle", limit_s=1))
    await closing.report_error("role_error", "x")


def test_a_protocol_message_the_page_would_not_know_is_refused() -> None:
    with pytest.raises(ValueError):
        PAGE_EVENT.validate_json('{"type": "session_limit", "limit": "budget", "limit_s": 5}')
    with pytest.raises(ValueError):
        PAGE_EVENT.validate_json('{"type": "error", "code": "made_up", "message": "x"}')
