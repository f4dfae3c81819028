"""The conversation of one connection: its items as the client sees them, what the simulator knows about
each (input audio length, transcript, the assistant audio sent), the `conversation.item.*` client events,
and which new input a response answers.

No I/O: `Session` sends the events these methods build; a refused event raises `ProtocolError`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from typing import Any

from openai.types.realtime import ConversationItemTruncateEvent

from worker.protocol import UI_EVENT_TAG
from worker.simulator.events import ClientEvent, JsonDict, ProtocolError, new_id
from worker.simulator.input_audio import BYTES_PER_MS
from worker.simulator.replies import Planner, Reply, ToolOutput
from worker.simulator.response import tokens
from worker.simulator.truncation import SpokenAudio, check_truncate

_UI_EVENT = re.compile(rf'<{UI_EVENT_TAG} name="([^"]+)">(.*?)</{UI_EVENT_TAG}>', re.DOTALL)
"""A UI event the worker put in the conversation (a system item, `worker.session.ui_events`)."""


def ui_event_of(item: JsonDict) -> tuple[str, Any] | None:
    """(name, payload) of a system item carrying a UI event, else None."""
    if item.get("type") != "message" or item.get("role") != "system":
        return None
    found = _UI_EVENT.search(text_of(item))
    if found is None:
        return None
    try:
        payload = json.loads(found.group(2))
    except ValueError:
        payload = None
    return found.group(1), payload


def text_of(item: JsonDict) -> str:
    """The words of a message item (typed text, or the transcript of audio)."""
    parts = []
    for c in item.get("content") or []:
        value = (
            c.get("text") if c.get("type") in ("input_text", "text", "output_text") else c.get("transcript")
        )
        if isinstance(value, str):
            parts.append(value)
    return " ".join(parts)


class Conversation:
    """The items in order, and per item what the simulator keeps beside it."""

    def __init__(self) -> None:
        self.items: list[JsonDict] = []
        self.input_audio_ms: dict[str, int] = {}
        """Length of the user audio in an item, by item id (for input token usage)."""
        self.transcripts: dict[str, str] = {}
        """What the simulator transcribed a committed audio item as, by item id."""
        self._spoken: dict[str, SpokenAudio] = {}
        self._answered: set[str] = set()

    def find(self, item_id: object) -> JsonDict | None:
        """The item with this id, if it is in the conversation."""
        return next((i for i in self.items if i.get("id") == item_id), None)

    def insert(self, item: JsonDict, after: str | None = None) -> JsonDict:
        """Insert at the end or after `after` (`root`: first); the `conversation.item.added` event."""
        if after == "root":
            index = 0
        elif after is not None:
            found = self.find(after)
            index = self.items.index(found) + 1 if found is not None else len(self.items)
        else:
            index = len(self.items)
        previous = self.items[index - 1]["id"] if index > 0 else None
        self.items.insert(index, item)
        return {"type": "conversation.item.added", "previous_item_id": previous, "item": copy.deepcopy(item)}

    def done_event(self, item: JsonDict) -> JsonDict:
        """`conversation.item.done` for an item in the conversation."""
        index = next((i for i, x in enumerate(self.items) if x is item), None)
        previous = self.items[index - 1]["id"] if index else None
        return {"type": "conversation.item.done", "previous_item_id": previous, "item": copy.deepcopy(item)}

    def remove(self, item: JsonDict) -> None:
        """Delete an item (and the record of its audio)."""
        self.items.remove(item)
        self._spoken.pop(item["id"], None)

    # --- conversation.item.* -------------------------------------------------------------------

    def create(self, ev: ClientEvent) -> list[JsonDict]:
        """`conversation.item.create`: add the item; `conversation.item.added` and `.done` to send."""
        item = copy.deepcopy(ev.raw["item"])
        item_id = item.get("id") or new_id("item")
        if self.find(item_id) is not None:
            raise ProtocolError(
                f"Item with id '{item_id}' already exists.",
                code="item_create_duplicate_item_id",
                param="item.id",
                event_id=ev.event_id,
            )
        previous = ev.raw.get("previous_item_id")
        if previous not in (None, "root") and self.find(previous) is None:
            raise ProtocolError(
                f"Previous item with id '{previous}' not found.",
                param="previous_item_id",
                event_id=ev.event_id,
            )
        item.update(id=item_id, object="realtime.item", status="completed")
        audio_ms = 0
        for index, content in enumerate(item.get("content") or []):
            if content.get("type") == "input_audio" and isinstance(content.get("audio"), str):
                try:
                    decoded = base64.b64decode(content["audio"], validate=True)
                except (binascii.Error, ValueError):
                    raise ProtocolError(
                        "Invalid 'audio': expected base64-encoded PCM16 audio.",
                        param=f"item.content[{index}].audio",
                        event_id=ev.event_id,
                    ) from None
                audio_ms += len(decoded) // BYTES_PER_MS
                content.pop("audio")  # kept out of the record and of echoes
        if audio_ms:
            self.input_audio_ms[item_id] = audio_ms
        return [self.insert(item, after=previous), self.done_event(item)]

    def truncate(self, ev: ClientEvent) -> JsonDict:
        """`conversation.item.truncate`: cut an assistant item to what was heard; the `.truncated` event."""
        request: ConversationItemTruncateEvent = ev.model  # typed: `raw` may hold "5" for 5
        item, spoken = check_truncate(self.find(request.item_id), self.spoken(request.item_id), request)
        # What the user did not hear is no longer part of the conversation; the response may
        # still be streaming this item (see truncation.py).
        item["content"] = [{"type": "output_audio", "transcript": spoken.cut(request.audio_end_ms)}]
        return {
            "type": "conversation.item.truncated",
            "item_id": request.item_id,
            "content_index": request.content_index,
            "audio_end_ms": request.audio_end_ms,
        }

    def delete(self, ev: ClientEvent) -> JsonDict:
        """`conversation.item.delete`: the `.deleted` event."""
        item = self.find(ev.raw["item_id"])
        if item is None:
            raise ProtocolError(
                f"Error deleting item: the item with id '{ev.raw['item_id']}' does not exist.",
                param="item_id",
                event_id=ev.event_id,
            )
        self.remove(item)
        return {"type": "conversation.item.deleted", "item_id": item["id"]}

    def retrieve(self, ev: ClientEvent) -> JsonDict:
        """`conversation.item.retrieve`: the `.retrieved` event."""
        item = self.find(ev.raw["item_id"])
        if item is None:
            raise ProtocolError(
                f"Item with id '{ev.raw['item_id']}' not found.", param="item_id", event_id=ev.event_id
            )
        return {"type": "conversation.item.retrieved", "item": copy.deepcopy(item)}

    # --- what the simulator keeps per item ---------------------------------------------------

    def spoken_audio(self, item_id: str) -> SpokenAudio:
        """The record of an assistant item's audio, which its response extends delta by delta."""
        return self._spoken.setdefault(item_id, SpokenAudio())

    def spoken(self, item_id: str) -> SpokenAudio | None:
        """The record of an assistant item's audio, if any was sent."""
        return self._spoken.get(item_id)

    def input_usage(self, instructions: str) -> tuple[int, int]:
        """Deterministic input token counts (text, audio) for a response over the conversation."""
        text = instructions + "".join(
            text_of(i) + i.get("arguments", "") + i.get("output", "") for i in self.items
        )
        audio_ms = sum(self.input_audio_ms.get(i["id"], 0) for i in self.items)
        return tokens(text), audio_ms // 100

    def reply(self, planner: Planner, params: JsonDict, tools: list[str], allowed: bool) -> Reply:
        """What a response answers: the newest user message or UI event (also one the agent's cut-off
        words sit after), else the tool outputs since the last answer (also those that arrived while the
        agent spoke), else nothing (a greeting, or the response's own instructions). Each is answered
        once."""
        given: list[Any] = params["input"] if isinstance(params.get("input"), list) else self.items
        items: list[JsonDict] = [
            i for i in given if isinstance(i, dict) and i.get("type") != "item_reference"
        ]
        asked = str(params.get("instructions") or "")
        if not items:
            return planner.without_input(asked)
        # The newest item that is not the agent's own words. An assistant message after the user's
        # words cannot be their answer (answering marks them): it is a reply the user cut off, which a
        # client that inserts the user's words where its own history ends (livekit-agents sends
        # `previous_item_id: "root"` when it never kept the cut-off greeting) leaves after them.
        last = next((i for i in reversed(items) if not _agent_words(i)), items[-1])
        if (
            last.get("type") == "message"
            and last.get("role") == "user"
            and last.get("id") not in self._answered
        ):
            if last.get("id"):
                self._answered.add(last["id"])
            text = self.transcripts.get(last.get("id", "")) or text_of(last)
            return planner.for_user(last.get("id", ""), text, tools, tools_allowed=allowed)
        event = ui_event_of(last)
        if event is not None and last.get("id") not in self._answered:
            if last.get("id"):
                self._answered.add(last["id"])
            return planner.for_event(event[0], event[1], tools, tools_allowed=allowed)
        outputs: list[ToolOutput] = []
        for item in reversed(items):
            if _agent_words(item):
                continue  # a tool's answer that arrived while the agent spoke sits before its words
            if item.get("type") != "function_call_output" or item.get("id") in self._answered:
                break
            if item.get("id"):
                self._answered.add(item["id"])
            call = next(
                (
                    i
                    for i in self.items
                    if i.get("type") == "function_call" and i.get("call_id") == item.get("call_id")
                ),
                None,
            )
            name = str(call.get("name")) if call else str(item.get("call_id"))
            outputs.insert(0, ToolOutput(name, str(item.get("output", ""))))
        if outputs:
            return planner.after_tools(outputs, tools, tools_allowed=allowed)
        return planner.without_input(asked)


def _agent_words(item: JsonDict) -> bool:
    """Whether an item is an assistant message (the agent's words, never what a response answers)."""
    return item.get("type") == "message" and item.get("role") == "assistant"
