"""Streaming one response: the event sequence OpenAI sends, paced, cancellable, with usage.

Order for a reply that speaks then calls a tool (audio modality):

    response.created
    response.output_item.added, conversation.item.added, response.content_part.added
    (response.output_audio_transcript.delta | response.output_audio.delta)*   paced in real time
    response.output_audio.done, response.output_audio_transcript.done
    response.content_part.done, response.output_item.done, conversation.item.done
    response.output_item.added, conversation.item.added                      (function_call)
    response.function_call_arguments.delta, response.function_call_arguments.done
    response.output_item.done, conversation.item.done
    response.done, rate_limits.updated

A cancel (client `response.cancel` or barge-in) ends the item in progress as `incomplete` and the
response as `cancelled`; the calls not yet started are not made. A client may truncate the audio
item while it streams (`truncation.py`): the item, its content part and `response.done` then carry
the transcript cut to what was heard, the transcript stream (deltas, `..._transcript.done`) all of it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from worker.simulator.events import JsonDict, new_id
from worker.simulator.faults import Faults
from worker.simulator.replies import Reply
from worker.simulator.speech import SAMPLE_RATE, Synthesizer
from worker.simulator.truncation import SpokenAudio

CHUNK_MS = 100
AUDIO_FORMAT: JsonDict = {"type": "audio/pcm", "rate": SAMPLE_RATE}


class ConnectionGone(Exception):
    """The socket closed (client vanished or a fault dropped it): stop quietly."""


class ResponseHost(Protocol):
    """What a response needs from its session."""

    synth: Synthesizer

    @property
    def faults(self) -> Faults: ...

    async def send(self, event: JsonDict) -> None: ...
    async def drop(self) -> None: ...
    async def add_item(self, item: JsonDict) -> str | None: ...
    def item_done_event(self, item: JsonDict) -> JsonDict: ...
    def input_usage(self, instructions: str) -> tuple[int, int]: ...
    def spoken_audio(self, item_id: str) -> SpokenAudio: ...


@dataclass
class ActiveResponse:
    """A response being streamed."""

    id: str
    modalities: list[str]
    metadata: dict[str, Any] | None
    in_conversation: bool
    instructions: str
    voice: str
    max_output_tokens: int | str
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    reason: str | None = None
    output: list[JsonDict] = field(default_factory=list)
    first_delta_sent: bool = False
    text_tokens: int = 0
    audio_ms: int = 0

    def cancel(self, reason: str) -> None:
        """Ask the stream to stop at the next delta (`client_cancelled` or `turn_detected`)."""
        if not self.cancelled.is_set():
            self.reason = reason
            self.cancelled.set()

    def as_json(
        self, status: str, usage: JsonDict | None = None, details: JsonDict | None = None
    ) -> JsonDict:
        """The `response` object of `response.created` / `response.done`."""
        return {
            "object": "realtime.response",
            "id": self.id,
            "status": status,
            "status_details": details,
            "output": list(self.output),
            "conversation_id": "conv_simulator" if self.in_conversation else None,
            "output_modalities": self.modalities,
            "max_output_tokens": self.max_output_tokens,
            "audio": {"output": {"format": AUDIO_FORMAT, "voice": self.voice}},
            "usage": usage,
            "metadata": self.metadata,
        }


def tokens(text: str) -> int:
    """Deterministic token estimate: one token per four characters."""
    return math.ceil(len(text) / 4)


def word_timings(text: str, duration_ms: int) -> list[tuple[int, str]]:
    """Start time of each word (with its trailing space), spread over the audio by length."""
    words = [w + " " for w in text.split(" ") if w]
    if words:
        words[-1] = words[-1].rstrip(" ")
    total = sum(len(w) for w in words) or 1
    timings, chars = [], 0
    for w in words:
        timings.append((duration_ms * chars // total, w))
        chars += len(w)
    return timings


class ResponseStream:
    """Streams one `Reply` as the events of `ActiveResponse` through a `ResponseHost`."""

    def __init__(self, host: ResponseHost, response: ActiveResponse, reply: Reply) -> None:
        self.host = host
        self.r = response
        self.reply = reply

    async def run(self) -> None:
        """Stream the whole response; ConnectionGone propagates when the socket is gone."""
        r = self.r
        await self._send({"type": "response.created", "response": r.as_json("in_progress")})
        await self._pause(self.host.faults.first_delta_delay)
        if self.reply.say and not r.cancelled.is_set():
            await self._message(self.reply.say)
        for call in self.reply.calls:
            if r.cancelled.is_set():
                break
            await self._function_call(call.name, call.arguments)
        await self._finish()

    async def _send(self, event: JsonDict) -> None:
        event.setdefault("event_id", new_id("event"))
        await self.host.send(event)

    async def _pause(self, seconds: float) -> None:
        """Sleep unless cancelled first."""
        if seconds > 0 and not self.r.cancelled.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.r.cancelled.wait(), seconds)

    async def _delta_sent(self) -> None:
        if not self.r.first_delta_sent:
            self.r.first_delta_sent = True
            if self.host.faults.drop_mid_response:
                self.host.faults.drop_mid_response = False
                await self.host.drop()
                raise ConnectionGone

    async def _open_item(self, item: JsonDict) -> int:
        r = self.r
        index = len(r.output)
        r.output.append(item)
        await self._send(
            {
                "type": "response.output_item.added",
                "response_id": r.id,
                "output_index": index,
                "item": dict(item),
            }
        )
        if r.in_conversation:
            await self.host.add_item(item)
        return index

    async def _close_item(self, index: int, item: JsonDict) -> None:
        r = self.r
        await self._send(
            {
                "type": "response.output_item.done",
                "response_id": r.id,
                "output_index": index,
                "item": dict(item),
            }
        )
        if r.in_conversation:
            await self._send(self.host.item_done_event(item))

    async def _message(self, text: str) -> None:
        r = self.r
        audio = "audio" in r.modalities
        item: JsonDict = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        index = await self._open_item(item)
        ids = {"response_id": r.id, "item_id": item["id"], "output_index": index, "content_index": 0}
        part: JsonDict = {"type": "audio", "transcript": ""} if audio else {"type": "text", "text": ""}
        await self._send({"type": "response.content_part.added", **ids, "part": dict(part)})
        if audio:
            spoken = self.host.spoken_audio(str(item["id"]))
            said = await self._stream_audio(text, ids, spoken)
            heard = said if spoken.truncated_ms is None else spoken.transcript
            part["transcript"] = heard
            content: JsonDict = {"type": "output_audio", "transcript": heard}
        else:
            said = await self._stream_text(text, ids)
            part["text"] = said
            content = {"type": "output_text", "text": said}
        r.text_tokens += tokens(said)
        await self._send({"type": "response.content_part.done", **ids, "part": part})
        item["content"] = [content]
        item["status"] = "incomplete" if r.cancelled.is_set() else "completed"
        await self._close_item(index, item)

    async def _stream_text(self, text: str, ids: JsonDict) -> str:
        said = ""
        for _, word in word_timings(text, 0):
            if self.r.cancelled.is_set():
                return said
            await self._send({"type": "response.output_text.delta", **ids, "delta": word})
            said += word
            await self._delta_sent()
            await self._pause(self.host.faults.delta_interval)
        await self._send({"type": "response.output_text.done", **ids, "text": said})
        return said

    async def _stream_audio(self, text: str, ids: JsonDict, spoken: SpokenAudio) -> str:
        r = self.r
        pcm: npt.NDArray[np.int16] = await self.host.synth.synthesize(text)
        duration_ms = pcm.size * 1000 // SAMPLE_RATE
        words = word_timings(text, duration_ms)
        chunk = SAMPLE_RATE * CHUNK_MS // 1000
        loop = asyncio.get_running_loop()
        start = loop.time()
        said, next_word, sent_ms = "", 0, 0
        for offset in range(0, pcm.size, chunk):
            if r.cancelled.is_set():
                break
            piece = pcm[offset : offset + chunk]
            chunk_end_ms = sent_ms + piece.size * 1000 // SAMPLE_RATE
            first_word = next_word
            while next_word < len(words) and words[next_word][0] < chunk_end_ms:
                delta = words[next_word][1]
                await self._send({"type": "response.output_audio_transcript.delta", **ids, "delta": delta})
                said += delta
                next_word += 1
            # Recorded before it goes out: a client may truncate as soon as it has the delta.
            spoken.extend(piece.size, words[first_word:next_word])
            await self._send(
                {
                    "type": "response.output_audio.delta",
                    **ids,
                    "delta": base64.b64encode(piece.tobytes()).decode(),
                }
            )
            sent_ms = chunk_end_ms
            r.audio_ms += piece.size * 1000 // SAMPLE_RATE
            await self._delta_sent()
            pace = self.host.faults.audio_pace
            if pace > 0:
                await self._pause(start + sent_ms / 1000 / pace - loop.time())
        if not r.cancelled.is_set():
            await self._send({"type": "response.output_audio.done", **ids})
            await self._send({"type": "response.output_audio_transcript.done", **ids, "transcript": said})
        return said

    async def _function_call(self, name: str, arguments: str) -> None:
        r = self.r
        item: JsonDict = {
            "id": new_id("item"),
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "call_id": new_id("call"),
            "name": name,
            "arguments": "",
        }
        index = await self._open_item(item)
        ids = {"response_id": r.id, "item_id": item["id"], "output_index": index, "call_id": item["call_id"]}
        await self._send({"type": "response.function_call_arguments.delta", **ids, "delta": arguments})
        await self._delta_sent()
        await self._send(
            {"type": "response.function_call_arguments.done", **ids, "name": name, "arguments": arguments}
        )
        r.text_tokens += tokens(name + arguments)
        item["arguments"] = arguments
        item["status"] = "completed"
        await self._close_item(index, item)

    async def _finish(self) -> None:
        r = self.r
        text_in, audio_in = self.host.input_usage(r.instructions)
        audio_out = r.audio_ms // 50
        total = text_in + audio_in + r.text_tokens + audio_out
        usage = {
            "total_tokens": total,
            "input_tokens": text_in + audio_in,
            "output_tokens": r.text_tokens + audio_out,
            "input_token_details": {
                "text_tokens": text_in,
                "audio_tokens": audio_in,
                "image_tokens": 0,
                "cached_tokens": 0,
                "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
            },
            "output_token_details": {"text_tokens": r.text_tokens, "audio_tokens": audio_out},
        }
        if r.cancelled.is_set():
            status, details = "cancelled", {"type": "cancelled", "reason": r.reason}
        else:
            status, details = "completed", None
        await self._send({"type": "response.done", "response": r.as_json(status, usage, details)})
        await self._send(rate_limits_event(total))


def rate_limits_event(used_tokens: int) -> JsonDict:
    """A `rate_limits.updated` event with fixed, generous limits."""
    return {
        "type": "rate_limits.updated",
        "event_id": new_id("event"),
        "rate_limits": [
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            {
                "name": "tokens",
                "limit": 400000,
                "remaining": max(0, 400000 - used_tokens),
                "reset_seconds": 0.5,
            },
        ],
    }
