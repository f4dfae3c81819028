"""The conversation's items and the `conversation.item.*` client events, without a socket."""

from __future__ import annotations

import json
from typing import Any

import pytest

from worker.simulator.conversation import Conversation
from worker.simulator.events import ClientEvent, ProtocolError, parse_client_event
from worker.simulator.replies import DEFAULT_GREETING, Planner, Reply
from worker.simulator.truncation import SpokenAudio

pytestmark = pytest.mark.unit


def event(**fields: Any) -> ClientEvent:
    return parse_client_event(json.dumps(fields), max_bytes=1_000_000)


def user_item(text: str, item_id: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": text}],
    }


def user(text: str, item_id: str) -> ClientEvent:
    return event(type="conversation.item.create", item=user_item(text, item_id))


def test_items_go_at_the_end_first_or_after_another_and_events_name_the_previous_one() -> None:
    c = Conversation()
    added, done = c.create(user("one", "a"))
    assert (added["type"], added["previous_item_id"], done["previous_item_id"]) == (
        "conversation.item.added",
        None,
        None,
    )
    c.create(user("two", "b"))
    first, _ = c.create(event(type="conversation.item.create", previous_item_id="root", item={**_msg("c")}))
    assert first["previous_item_id"] is None
    middle, done = c.create(event(type="conversation.item.create", previous_item_id="c", item={**_msg("d")}))
    assert middle["previous_item_id"] == "c" and done["previous_item_id"] == "c"
    assert [i["id"] for i in c.items] == ["c", "d", "a", "b"]


def _msg(item_id: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "x"}],
    }


def test_refusals_are_worded_as_the_service_words_them() -> None:
    c = Conversation()
    c.create(user("one", "a"))
    with pytest.raises(ProtocolError, match=r"^Item with id 'a' already exists\.$") as duplicate:
        c.create(user("again", "a"))
    assert duplicate.value.code == "item_create_duplicate_item_id"
    with pytest.raises(ProtocolError, match=r"^Previous item with id 'zz' not found\.$"):
        c.create(event(type="conversation.item.create", previous_item_id="zz", item=_msg("b")))
    with pytest.raises(ProtocolError, match="the item with id 'zz' does not exist"):
        c.delete(event(type="conversation.item.delete", item_id="zz", event_id="e1"))
    with pytest.raises(ProtocolError, match=r"^Item with id 'zz' not found\.$") as missing:
        c.retrieve(event(type="conversation.item.retrieve", item_id="zz", event_id="e2"))
    assert missing.value.event_id == "e2"


def test_delete_and_retrieve() -> None:
    c = Conversation()
    c.create(user("one", "a"))
    assert c.retrieve(event(type="conversation.item.retrieve", item_id="a"))["item"]["id"] == "a"
    assert c.delete(event(type="conversation.item.delete", item_id="a")) == {
        "type": "conversation.item.deleted",
        "item_id": "a",
    }
    assert c.items == []


def test_input_audio_is_counted_and_kept_out_of_the_item() -> None:
    c = Conversation()
    audio = "AAAA" * 1200  # 3600 bytes of PCM16 at 24 kHz: 75 ms
    content = [{"type": "input_audio", "audio": audio}]
    item = {"id": "a", "type": "message", "role": "user", "content": content}
    added, _ = c.create(event(type="conversation.item.create", item=item))
    assert "audio" not in added["item"]["content"][0]
    assert c.input_audio_ms == {"a": 75}


def test_a_truncate_cuts_the_item_to_what_was_heard() -> None:
    c = Conversation()
    c.insert({"id": "r", "type": "message", "role": "assistant", "content": []})
    c.spoken_audio("r").extend(7200, [(0, "one "), (100, "two")])
    truncated = c.truncate(
        event(type="conversation.item.truncate", item_id="r", content_index=0, audio_end_ms=50)
    )
    assert truncated["audio_end_ms"] == 50
    assert c.items[0]["content"] == [{"type": "output_audio", "transcript": "one"}]
    assert isinstance(c.spoken("r"), SpokenAudio) and c.spoken("nope") is None


def test_a_user_message_is_answered_once() -> None:
    c = Conversation()
    c.create(user("hello there", "a"))
    planner = Planner()
    assert c.reply(planner, {}, [], True) == Reply("You said: hello there")
    assert c.reply(planner, {}, [], True) == Reply(DEFAULT_GREETING)  # nothing new: a greeting


def test_user_words_placed_before_a_cut_off_reply_are_still_answered() -> None:
    # livekit-agents interrupts its greeting for typed words and, never having kept the cut-off
    # greeting, creates the user's message at the root: the greeting's item then sits after it.
    c = Conversation()
    c.insert({"id": "g", "type": "message", "role": "assistant", "content": []})
    c.create(event(type="conversation.item.create", previous_item_id="root", item=user_item("risotto", "u")))
    assert [i["id"] for i in c.items] == ["u", "g"]
    planner = Planner()
    assert c.reply(planner, {}, [], True) == Reply("You said: risotto")
    assert c.reply(planner, {}, [], True) == Reply(DEFAULT_GREETING)  # answered once
