"""An assistant item's audio as sent, and the refusals of `conversation.item.truncate`."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.realtime import ConversationItemTruncateEvent

from worker.simulator.events import ProtocolError
from worker.simulator.truncation import SpokenAudio, check_truncate

pytestmark = pytest.mark.unit

ASSISTANT: dict[str, Any] = {"id": "item_1", "type": "message", "role": "assistant", "content": []}
WORDS = [(0, "one "), (100, "two "), (250, "three")]


def truncate(end_ms: int, index: int = 0, event_id: str | None = None) -> ConversationItemTruncateEvent:
    return ConversationItemTruncateEvent(
        type="conversation.item.truncate",
        item_id="item_1",
        content_index=index,
        audio_end_ms=end_ms,
        event_id=event_id,
    )


def spoken(samples: int = 7200) -> SpokenAudio:
    audio = SpokenAudio()
    audio.extend(samples, WORDS)
    return audio


def refusal(
    item: dict[str, Any] | None, audio: SpokenAudio | None, end_ms: int, index: int = 0
) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        check_truncate(item, audio, truncate(end_ms, index, "e1"))
    assert info.value.event_id == "e1"
    return info.value


def test_audio_grows_delta_by_delta_until_it_is_cut() -> None:
    audio = SpokenAudio()
    audio.extend(2400, WORDS[:1])
    audio.extend(1201, WORDS[1:2])
    assert audio.length_ms == 151  # 150.04 ms, rounded up as clients that count bytes do
    assert audio.transcript == "one two"
    assert audio.cut(100) == "one"  # "two" begins at 100 ms: not heard
    audio.extend(2400, WORDS[2:])  # the response streams on; the cut item does not grow
    assert (audio.length_ms, audio.transcript) == (100, "one")


def test_the_whole_audio_may_be_truncated_but_not_more() -> None:
    check_truncate(ASSISTANT, spoken(), truncate(300))
    err = refusal(ASSISTANT, spoken(), 301)
    assert (err.message, err.code, err.param) == (
        "Audio content of 300ms is already shorter than 301ms",
        "invalid_value",
        None,
    )


def test_refusals() -> None:
    missing = refusal(None, None, 10)
    assert (missing.code, missing.param) == ("item_truncate_invalid_item_id", "item_id")
    assert missing.message == "Error truncating item: the item with id 'item_1' does not exist."
    user = {**ASSISTANT, "role": "user"}
    for item, audio in [(user, spoken()), (ASSISTANT, None), (ASSISTANT, SpokenAudio())]:
        # a user message, a text reply, a spoken reply before its first audio delta
        err = refusal(item, audio, 0)
        assert (err.message, err.code) == (
            "Only model output audio messages can be truncated",
            "unsupported_content_type",
        )
    assert refusal(ASSISTANT, spoken(), -1).code == "integer_below_min_value"
    assert refusal(ASSISTANT, spoken(), 10, index=1).param == "content_index"


def test_an_item_cut_to_nothing_can_be_cut_there_again() -> None:
    audio = spoken()
    assert audio.cut(0) == ""
    check_truncate(ASSISTANT, audio, truncate(0))
    assert refusal(ASSISTANT, audio, 1).message == "Audio content of 0ms is already shorter than 1ms"
