"""Assistant audio as sent, and `conversation.item.truncate`: cutting an item to what was heard.

The real service lets a client truncate an assistant audio item at any time, also while its
response is still streaming, up to the audio sent so far; interruption in every client relies on
it (the OpenAI Agents SDK truncates without cancelling under server VAD, pipecat truncates about
1 ms after `input_audio_buffer.speech_started`, before the cancelled response has wound down).
So each item's audio is recorded delta by delta, before the delta goes out, with the words whose
transcript went along. A truncate cuts the item's transcript to the words begun before
`audio_end_ms`, and the cut sticks: a response that keeps streaming after it (no
`response.cancel`) still sends its deltas, but they are no longer part of the item.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from openai.types.realtime import ConversationItemTruncateEvent

from worker.simulator.events import JsonDict, ProtocolError
from worker.simulator.speech import SAMPLE_RATE


@dataclass
class SpokenAudio:
    """One assistant item's audio: samples sent, the words begun in them, where a client cut it."""

    samples: int = 0
    words: list[tuple[int, str]] = field(default_factory=list)
    """(start in ms, word with its trailing space) of each word whose transcript was sent."""
    truncated_ms: int | None = None

    def extend(self, samples: int, words: Iterable[tuple[int, str]]) -> None:
        """Audio about to be sent and the words that begin in it (ignored once the item was cut)."""
        if self.truncated_ms is None:
            self.samples += samples
            self.words.extend(words)

    @property
    def length_ms(self) -> int:
        """The item's audio length; rounded up, as clients that count received bytes do."""
        if self.truncated_ms is not None:
            return self.truncated_ms
        return math.ceil(self.samples * 1000 / SAMPLE_RATE)

    @property
    def transcript(self) -> str:
        """The transcript of the words in the item's audio."""
        return "".join(w for _, w in self.words).rstrip()

    def cut(self, end_ms: int) -> str:
        """Keep the audio up to `end_ms` and the words begun before it; return their transcript."""
        self.truncated_ms = end_ms
        self.words = [(start, w) for start, w in self.words if start < end_ms]
        return self.transcript


def check_truncate(
    item: JsonDict | None,
    spoken: SpokenAudio | None,
    ev: ConversationItemTruncateEvent,
) -> tuple[JsonDict, SpokenAudio]:
    """The item and audio a truncate may cut; else `ProtocolError`, worded as the service words it."""
    item_id, content_index, end_ms, event_id = ev.item_id, ev.content_index, ev.audio_end_ms, ev.event_id
    if end_ms < 0:
        raise ProtocolError(
            "Invalid 'audio_end_ms': integer below minimum value. "
            f"Expected a value >= 0, but got {end_ms} instead.",
            code="integer_below_min_value",
            param="audio_end_ms",
            event_id=event_id,
        )
    if item is None:
        raise ProtocolError(
            f"Error truncating item: the item with id '{item_id}' does not exist.",
            code="item_truncate_invalid_item_id",
            param="item_id",
            event_id=event_id,
        )
    is_assistant_message = item.get("type") == "message" and item.get("role") == "assistant"
    # An item with no audio sent yet is refused too, as the service does when a client
    # truncates before the first audio delta.
    has_audio = spoken is not None and (spoken.samples > 0 or spoken.truncated_ms is not None)
    if not (is_assistant_message and has_audio):
        raise ProtocolError(
            "Only model output audio messages can be truncated",
            code="unsupported_content_type",
            event_id=event_id,
        )
    assert spoken is not None  # has_audio
    if content_index != 0:
        raise ProtocolError(
            f"Invalid 'content_index': item '{item_id}' has one content part, at index 0; "
            f"got {content_index}.",
            param="content_index",
            event_id=event_id,
        )
    if end_ms > spoken.length_ms:
        raise ProtocolError(
            f"Audio content of {spoken.length_ms}ms is already shorter than {end_ms}ms",
            event_id=event_id,
        )
    return item, spoken
