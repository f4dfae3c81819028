"""One connection's conversation: session settings, items, input audio, and the response in flight.

`Session.handle` takes each validated client event in arrival order and answers with server events;
a refused event raises `ProtocolError`, which the connection turns into an `error` event. The
response streams in its own task (`response.py`), so appends, cancels and barge-in keep flowing
while it plays.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import copy
import logging
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar, Protocol

import numpy as np
from openai.types.realtime import ConversationItemTruncateEvent

from worker.simulator.events import ClientEvent, JsonDict, ProtocolError, error_event, new_id
from worker.simulator.faults import Faults, error_payload
from worker.simulator.replies import Planner, Reply, ToolCall, ToolOutput
from worker.simulator.response import (
    AUDIO_FORMAT,
    ActiveResponse,
    ConnectionGone,
    ResponseStream,
    rate_limits_event,
    tokens,
)
from worker.simulator.scenario import Scenario
from worker.simulator.speech import SAMPLE_RATE, Synthesizer
from worker.simulator.truncation import SpokenAudio, check_truncate
from worker.simulator.vad import EnergyVad, VadSettings

log = logging.getLogger(__name__)

DEFAULT_INSTRUCTIONS = "You are a helpful assistant (simulated by RoleCall)."
BYTES_PER_MS = SAMPLE_RATE * 2 // 1000
MAX_BUFFER_MS = 15 * 60 * 1000
"""Uncommitted input audio kept at most (15 minutes); older audio is dropped."""


def default_turn_detection(td: JsonDict) -> JsonDict:
    """A turn detection object with OpenAI's defaults filled in."""
    if td.get("type") == "semantic_vad":
        base: JsonDict = {"type": "semantic_vad", "eagerness": "auto", "create_response": True}
        base["interrupt_response"] = True
    else:
        base = {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": 500,
            "create_response": True,
            "interrupt_response": True,
            "idle_timeout_ms": None,
        }
    return base | {k: v for k, v in td.items() if v is not None}


def default_session(model: str) -> JsonDict:
    """The session a new connection starts with (OpenAI's GA defaults)."""
    return {
        "type": "realtime",
        "model": model,
        "output_modalities": ["audio"],
        "instructions": DEFAULT_INSTRUCTIONS,
        "audio": {
            "input": {
                "format": dict(AUDIO_FORMAT),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": default_turn_detection({"type": "server_vad"}),
            },
            "output": {"format": dict(AUDIO_FORMAT), "voice": "marin", "speed": 1.0},
        },
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "include": None,
    }


def merge_session(current: JsonDict, update: JsonDict) -> JsonDict:
    """Apply a `session.update`: nested settings merge, tagged objects (with `type`) and lists replace."""
    merged = copy.deepcopy(current)
    for key, value in update.items():
        old = merged.get(key)
        if isinstance(value, dict) and isinstance(old, dict) and "type" not in value:
            merged[key] = merge_session(old, value)
        else:
            merged[key] = copy.deepcopy(value)
    td = merged.get("audio", {}).get("input", {}).get("turn_detection")
    if isinstance(td, dict):
        merged["audio"]["input"]["turn_detection"] = default_turn_detection(td)
    return merged


def _text_of(item: JsonDict) -> str:
    parts = []
    for c in item.get("content") or []:
        value = (
            c.get("text") if c.get("type") in ("input_text", "text", "output_text") else c.get("transcript")
        )
        if isinstance(value, str):
            parts.append(value)
    return " ".join(parts)


class Transport(Protocol):
    """What a session needs from its connection."""

    faults: Faults

    async def send(self, event: JsonDict) -> None: ...
    async def drop(self) -> None: ...
    async def close(self, code: int, reason: str = "") -> None: ...


class Session:
    """The state machine of one Realtime connection."""

    def __init__(
        self, transport: Transport, *, model: str, scenario: Scenario | None, synth: Synthesizer
    ) -> None:
        self.transport = transport
        self.synth = synth
        self.session = default_session(model)
        self.items: list[JsonDict] = []
        self.planner = Planner(scenario)
        self.response: ActiveResponse | None = None
        self._response_task: asyncio.Task[None] | None = None
        self._answered: set[str] = set()
        self._spoken: dict[str, SpokenAudio] = {}
        self._input_audio_ms: dict[str, int] = {}
        self._transcripts: dict[str, str] = {}
        self._buffer = bytearray()
        self._buffer_start_ms = 0  # stream position of the buffer's first byte
        self._stream_ms = 0  # audio appended so far, in ms
        self._vad: EnergyVad | None = None
        self._vad_offset_ms = 0
        self._speech_item: str | None = None
        self._responses_started = 0
        self._error_fired = False
        self._configure_vad()

    @property
    def faults(self) -> Faults:
        return self.transport.faults

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Greet the client with `session.created`."""
        await self.send({"type": "session.created", "session": copy.deepcopy(self.session)})

    async def aclose(self) -> None:
        """Stop the response in flight (the socket is gone or closing)."""
        task = self._response_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionGone):
                await task

    async def send(self, event: JsonDict) -> None:
        event.setdefault("event_id", new_id("event"))
        await self.transport.send(event)

    async def drop(self) -> None:
        await self.transport.drop()

    # --- dispatch --------------------------------------------------------------------------------

    async def handle(self, ev: ClientEvent) -> None:
        """Answer one validated client event."""
        handler = self._handlers.get(ev.type)
        if handler is None:
            raise ProtocolError(
                f"'{ev.type}' is not supported by the simulator.", param="type", event_id=ev.event_id
            )
        await handler(self, ev)

    async def _session_update(self, ev: ClientEvent) -> None:
        update = ev.raw["session"]
        if update.get("type") != "realtime":
            raise ProtocolError(
                "The simulator only serves realtime sessions (session.type = 'realtime').",
                param="session.type",
                event_id=ev.event_id,
            )
        self.session = merge_session(self.session, update)
        self._configure_vad()
        await self.send({"type": "session.updated", "session": copy.deepcopy(self.session)})

    async def _append(self, ev: ClientEvent) -> None:
        try:
            audio = base64.b64decode(ev.raw["audio"], validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError(
                "Invalid 'audio': expected base64-encoded PCM16 audio.", param="audio", event_id=ev.event_id
            ) from None
        audio = audio[: len(audio) // 2 * 2]
        self._buffer.extend(audio)
        self._stream_ms += len(audio) // BYTES_PER_MS
        overflow = len(self._buffer) - MAX_BUFFER_MS * BYTES_PER_MS
        if overflow > 0:
            del self._buffer[:overflow]
            self._buffer_start_ms += overflow // BYTES_PER_MS
        if self._vad is None:
            return
        for vad_event in self._vad.push(np.frombuffer(audio, dtype="<i2").astype(np.int16)):
            at_ms = vad_event.at_ms + self._vad_offset_ms
            if vad_event.kind == "started":
                await self._speech_started(at_ms)
            else:
                await self._speech_stopped(at_ms)
        if not self._vad.speaking:
            self._trim_buffer(self._stream_ms - self._vad.settings.prefix_padding_ms)

    async def _commit(self, ev: ClientEvent) -> None:
        await self._commit_buffer(event_id=ev.event_id)
        if self._vad is not None:
            self._vad.reset()
            self._speech_item = None

    async def _clear(self, ev: ClientEvent) -> None:
        self._trim_buffer(self._stream_ms)
        if self._vad is not None:
            self._vad.reset()
        self._speech_item = None
        await self.send({"type": "input_audio_buffer.cleared"})

    async def _item_create(self, ev: ClientEvent) -> None:
        item = copy.deepcopy(ev.raw["item"])
        item_id = item.get("id") or new_id("item")
        if self._find(item_id) is not None:
            raise ProtocolError(
                f"Item with id '{item_id}' already exists.",
                code="item_create_duplicate_item_id",
                param="item.id",
                event_id=ev.event_id,
            )
        previous = ev.raw.get("previous_item_id")
        if previous not in (None, "root") and self._find(previous) is None:
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
            self._input_audio_ms[item_id] = audio_ms
        await self.add_item(item, after=previous)
        await self.send(self.item_done_event(item))

    async def _item_truncate(self, ev: ClientEvent) -> None:
        request: ConversationItemTruncateEvent = ev.model  # typed: `raw` may hold "5" for 5
        item, spoken = check_truncate(self._find(request.item_id), self._spoken.get(request.item_id), request)
        # What the user did not hear is no longer part of the conversation; the response may
        # still be streaming this item (see truncation.py).
        item["content"] = [{"type": "output_audio", "transcript": spoken.cut(request.audio_end_ms)}]
        await self.send(
            {
                "type": "conversation.item.truncated",
                "item_id": request.item_id,
                "content_index": request.content_index,
                "audio_end_ms": request.audio_end_ms,
            }
        )

    async def _item_delete(self, ev: ClientEvent) -> None:
        item = self._find(ev.raw["item_id"])
        if item is None:
            raise ProtocolError(
                f"Error deleting item: the item with id '{ev.raw['item_id']}' does not exist.",
                param="item_id",
                event_id=ev.event_id,
            )
        self.items.remove(item)
        self._spoken.pop(item["id"], None)
        await self.send({"type": "conversation.item.deleted", "item_id": item["id"]})

    async def _item_retrieve(self, ev: ClientEvent) -> None:
        item = self._find(ev.raw["item_id"])
        if item is None:
            raise ProtocolError(
                f"Item with id '{ev.raw['item_id']}' not found.", param="item_id", event_id=ev.event_id
            )
        await self.send({"type": "conversation.item.retrieved", "item": copy.deepcopy(item)})

    async def _response_create(self, ev: ClientEvent) -> None:
        await self.start_response(ev.raw.get("response") or {}, event_id=ev.event_id)

    async def _response_cancel(self, ev: ClientEvent) -> None:
        wanted = ev.raw.get("response_id")
        r = self.response
        if r is None or r.cancelled.is_set() or (wanted is not None and wanted != r.id):
            raise ProtocolError(
                "Cancellation failed: no active response found",
                code="response_cancel_not_active",
                event_id=ev.event_id,
            )
        r.cancel("client_cancelled")
        # OpenAI handles client events in order: the cancelled response is done (its
        # `response.done` sent) before the next event, so a `response.create` right behind a
        # cancel starts a new response instead of failing with "active response in progress".
        if self._response_task is not None:
            with contextlib.suppress(ConnectionGone):
                await self._response_task

    async def _output_audio_clear(self, ev: ClientEvent) -> None:
        raise ProtocolError(
            "output_audio_buffer.clear is only supported for WebRTC and SIP connections.",
            param="type",
            event_id=ev.event_id,
        )

    _handlers: ClassVar[dict[str, Callable[[Session, ClientEvent], Coroutine[Any, Any, None]]]] = {
        "session.update": _session_update,
        "input_audio_buffer.append": _append,
        "input_audio_buffer.commit": _commit,
        "input_audio_buffer.clear": _clear,
        "conversation.item.create": _item_create,
        "conversation.item.truncate": _item_truncate,
        "conversation.item.delete": _item_delete,
        "conversation.item.retrieve": _item_retrieve,
        "response.create": _response_create,
        "response.cancel": _response_cancel,
        "output_audio_buffer.clear": _output_audio_clear,
    }

    # --- conversation ----------------------------------------------------------------------------

    def _find(self, item_id: object) -> JsonDict | None:
        return next((i for i in self.items if i.get("id") == item_id), None)

    async def add_item(self, item: JsonDict, after: str | None = None) -> str | None:
        """Insert an item at the end or after `after` (`root`: first); send `conversation.item.added`."""
        if after == "root":
            index = 0
        elif after is not None:
            found = self._find(after)
            index = self.items.index(found) + 1 if found is not None else len(self.items)
        else:
            index = len(self.items)
        previous = self.items[index - 1]["id"] if index > 0 else None
        self.items.insert(index, item)
        await self.send(
            {"type": "conversation.item.added", "previous_item_id": previous, "item": copy.deepcopy(item)}
        )
        return str(previous) if previous is not None else None

    def item_done_event(self, item: JsonDict) -> JsonDict:
        """`conversation.item.done` for an item in the conversation."""
        index = next((i for i, x in enumerate(self.items) if x is item), None)
        previous = self.items[index - 1]["id"] if index else None
        return {"type": "conversation.item.done", "previous_item_id": previous, "item": copy.deepcopy(item)}

    def spoken_audio(self, item_id: str) -> SpokenAudio:
        """The record of an assistant item's audio, which its response extends delta by delta."""
        return self._spoken.setdefault(item_id, SpokenAudio())

    def input_usage(self, instructions: str) -> tuple[int, int]:
        """Deterministic input token counts (text, audio) for a response over the conversation."""
        text = instructions + "".join(
            _text_of(i) + i.get("arguments", "") + i.get("output", "") for i in self.items
        )
        audio_ms = sum(self._input_audio_ms.get(i["id"], 0) for i in self.items)
        return tokens(text), audio_ms // 100

    # --- input audio -----------------------------------------------------------------------------

    def _turn_detection(self) -> JsonDict | None:
        td = self.session.get("audio", {}).get("input", {}).get("turn_detection")
        return td if isinstance(td, dict) else None

    def _configure_vad(self) -> None:
        td = self._turn_detection()
        if td is None:
            self._vad = None
            return
        settings = VadSettings.from_turn_detection(td)
        if self._vad is None or self._vad.settings != settings:
            self._vad = EnergyVad(settings)
            self._vad_offset_ms = self._stream_ms

    def _trim_buffer(self, keep_from_ms: int) -> None:
        drop_ms = keep_from_ms - self._buffer_start_ms
        if drop_ms > 0:
            del self._buffer[: drop_ms * BYTES_PER_MS]
            self._buffer_start_ms += drop_ms

    async def _speech_started(self, at_ms: int) -> None:
        assert self._vad is not None
        self._trim_buffer(at_ms - self._vad.settings.prefix_padding_ms)
        self._speech_item = new_id("item")
        await self.send(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": at_ms,
                "item_id": self._speech_item,
            }
        )
        td = self._turn_detection() or {}
        if self.response is not None and td.get("interrupt_response", True):
            self.response.cancel("turn_detected")

    async def _speech_stopped(self, at_ms: int) -> None:
        item_id = self._speech_item or new_id("item")
        await self.send(
            {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": at_ms, "item_id": item_id}
        )
        self._speech_item = item_id
        await self._commit_buffer(event_id=None)
        self._speech_item = None
        td = self._turn_detection() or {}
        if td.get("create_response", True):
            if self.response is not None and self._response_task is not None:
                if not self.response.cancelled.is_set():
                    return  # interrupt_response is off: the reply in progress stands
                with contextlib.suppress(ConnectionGone):
                    await self._response_task
            await self.start_response({}, event_id=None)

    async def _commit_buffer(self, *, event_id: str | None) -> None:
        duration_ms = len(self._buffer) // BYTES_PER_MS
        if duration_ms < 100:
            raise ProtocolError(
                "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, "
                f"but buffer only has {duration_ms:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
                event_id=event_id,
            )
        item_id = self._speech_item or new_id("item")
        previous = self.items[-1]["id"] if self.items else None
        await self.send(
            {"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": previous}
        )
        self._trim_buffer(self._stream_ms)
        transcript = self.planner.transcript_for_audio(item_id, duration_ms)
        self._transcripts[item_id] = transcript
        self._input_audio_ms[item_id] = duration_ms
        item: JsonDict = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        await self.add_item(item)
        await self.send(self.item_done_event(item))
        if self.session.get("audio", {}).get("input", {}).get("transcription") is not None:
            ids = {"item_id": item_id, "content_index": 0}
            await self.send(
                {"type": "conversation.item.input_audio_transcription.delta", **ids, "delta": transcript}
            )
            usage = {"type": "duration", "seconds": round(duration_ms / 1000, 3)}
            await self.send(
                {
                    "type": "conversation.item.input_audio_transcription.completed",
                    **ids,
                    "transcript": transcript,
                    "usage": usage,
                }
            )
            item["content"] = [{"type": "input_audio", "transcript": transcript}]

    # --- responses -------------------------------------------------------------------------------

    async def start_response(self, params: JsonDict, *, event_id: str | None) -> None:
        """Begin a response (client `response.create`, or the server VAD's own)."""
        if self.response is not None:
            raise ProtocolError(
                f"Conversation already has an active response in progress: {self.response.id}. "
                "Wait until the response is finished before creating a new one.",
                code="conversation_already_has_active_response",
                event_id=event_id,
            )
        response = ActiveResponse(
            id=new_id("resp"),
            modalities=list(
                params.get("output_modalities") or self.session.get("output_modalities") or ["audio"]
            ),
            metadata=params.get("metadata"),
            in_conversation=params.get("conversation", "auto") != "none",
            instructions=str(params.get("instructions") or self.session.get("instructions") or ""),
            voice=str((params.get("audio") or {}).get("output", {}).get("voice") or self._voice()),
            max_output_tokens=params.get("max_output_tokens")
            or self.session.get("max_output_tokens")
            or "inf",
        )
        faults = self.faults
        self._responses_started += 1
        if (
            faults.error is not None
            and not self._error_fired
            and self._responses_started > faults.error_after_responses
        ):
            self._error_fired = True
            await self._inject_error(response, event_id)
            return
        reply = self._plan(params)
        self.response = response
        self._response_task = asyncio.create_task(
            self._run(response, reply), name=f"sim-response-{response.id}"
        )

    async def _run(self, response: ActiveResponse, reply: Reply) -> None:
        try:
            await ResponseStream(self, response, reply).run()
        except ConnectionGone:
            pass  # the socket is gone (a client leaving or a drop fault): nothing left to send
        finally:
            self.response = None

    async def _inject_error(self, response: ActiveResponse, event_id: str | None) -> None:
        kind = self.faults.error
        assert kind is not None
        payload = error_payload(kind)
        if kind == "rate_limit":  # a response that fails, as OpenAI reports rate limits
            await self.send({"type": "response.created", "response": response.as_json("in_progress")})
            details = {"type": "failed", "error": {"type": payload["type"], "code": payload["code"]}}
            await self.send({"type": "response.done", "response": response.as_json("failed", None, details)})
            await self.send(rate_limits_event(0))
            return
        await self.send(
            error_event(
                ProtocolError(
                    payload["message"], code=payload["code"], type=payload["type"], event_id=event_id
                )
            )
        )
        if kind == "session_expired":
            await self.transport.close(self.faults.close_code or 1000, "session expired")

    def _voice(self) -> str:
        voice = self.session.get("audio", {}).get("output", {}).get("voice")
        return voice if isinstance(voice, str) else "marin"

    def _plan(self, params: JsonDict) -> Reply:
        per_response = params.get("tools")
        tools_cfg: list[Any] = (
            per_response if isinstance(per_response, list) else self.session.get("tools") or []
        )
        tools = [t["name"] for t in tools_cfg if isinstance(t, dict) and t.get("type") == "function"]
        choice = params.get("tool_choice") or self.session.get("tool_choice") or "auto"
        allowed = choice != "none"
        reply = self._reply_for_trigger(params, tools, allowed)
        if not reply.calls and allowed and tools and choice != "auto":
            forced = (
                choice.get("name") if isinstance(choice, dict) else tools[0] if choice == "required" else None
            )
            if forced in tools:
                reply = Reply(reply.say, (ToolCall(str(forced), "{}"),))
        return reply

    def _reply_for_trigger(self, params: JsonDict, tools: list[str], allowed: bool) -> Reply:
        given: list[Any] = params["input"] if isinstance(params.get("input"), list) else self.items
        items: list[JsonDict] = [
            i for i in given if isinstance(i, dict) and i.get("type") != "item_reference"
        ]
        asked = str(params.get("instructions") or "")
        if not items:
            return self.planner.without_input(asked)
        last = items[-1]
        if (
            last.get("type") == "message"
            and last.get("role") == "user"
            and last.get("id") not in self._answered
        ):
            if last.get("id"):
                self._answered.add(last["id"])
            text = self._transcripts.get(last.get("id", "")) or _text_of(last)
            return self.planner.for_user(last.get("id", ""), text, tools, tools_allowed=allowed)
        outputs: list[ToolOutput] = []
        for item in reversed(items):
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
            return self.planner.after_tools(outputs, tools, tools_allowed=allowed)
        return self.planner.without_input(asked)
