"""One connection's state machine: session settings, the conversation, input audio, the response in flight.

`Session.handle` takes each validated client event in arrival order and answers with server events;
a refused event raises `ProtocolError`, which the connection turns into an `error` event. The
response streams in its own task (`response.py`), so appends, cancels and barge-in keep flowing
while it plays. The items and their events are `conversation.py`'s, the input buffer and its VAD
`input_audio.py`'s; this module sends what they produce and decides when a response starts.
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

from worker.simulator.conversation import Conversation
from worker.simulator.events import ClientEvent, JsonDict, ProtocolError, error_event, new_id
from worker.simulator.faults import Faults, error_payload
from worker.simulator.input_audio import InputAudio
from worker.simulator.replies import Planner, Reply, ToolCall
from worker.simulator.response import ActiveResponse, ConnectionGone, ResponseStream, rate_limits_event
from worker.simulator.scenario import Scenario
from worker.simulator.session_config import default_session, merge_session, turn_detection
from worker.simulator.speech import Synthesizer
from worker.simulator.truncation import SpokenAudio

log = logging.getLogger("rolecall.simulator")


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
        self.conversation = Conversation()
        self.audio = InputAudio()
        self.planner = Planner(scenario)
        self.response: ActiveResponse | None = None
        self._response_task: asyncio.Task[None] | None = None
        self._speech_item: str | None = None
        self._responses_started = 0
        self._error_fired = False
        self.audio.configure(turn_detection(self.session))

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
        self.audio.configure(turn_detection(self.session))
        await self.send({"type": "session.updated", "session": copy.deepcopy(self.session)})

    async def _append(self, ev: ClientEvent) -> None:
        try:
            audio = base64.b64decode(ev.raw["audio"], validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError(
                "Invalid 'audio': expected base64-encoded PCM16 audio.", param="audio", event_id=ev.event_id
            ) from None
        for kind, at_ms in self.audio.append(audio):
            if kind == "started":
                await self._speech_started(at_ms)
            else:
                await self._speech_stopped(at_ms)
        self.audio.settle()

    async def _commit(self, ev: ClientEvent) -> None:
        await self._commit_buffer(event_id=ev.event_id)
        self.audio.reset_vad()
        self._speech_item = None

    async def _clear(self, ev: ClientEvent) -> None:
        self.audio.clear()
        self.audio.reset_vad()
        self._speech_item = None
        await self.send({"type": "input_audio_buffer.cleared"})

    async def _item_create(self, ev: ClientEvent) -> None:
        for event in self.conversation.create(ev):
            await self.send(event)

    async def _item_truncate(self, ev: ClientEvent) -> None:
        await self.send(self.conversation.truncate(ev))

    async def _item_delete(self, ev: ClientEvent) -> None:
        await self.send(self.conversation.delete(ev))

    async def _item_retrieve(self, ev: ClientEvent) -> None:
        await self.send(self.conversation.retrieve(ev))

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

    async def add_item(self, item: JsonDict, after: str | None = None) -> str | None:
        """Insert an item at the end or after `after` (`root`: first); send `conversation.item.added`."""
        added = self.conversation.insert(item, after)
        await self.send(added)
        previous = added["previous_item_id"]
        return str(previous) if previous is not None else None

    def item_done_event(self, item: JsonDict) -> JsonDict:
        """`conversation.item.done` for an item in the conversation."""
        return self.conversation.done_event(item)

    def spoken_audio(self, item_id: str) -> SpokenAudio:
        """The record of an assistant item's audio, which its response extends delta by delta."""
        return self.conversation.spoken_audio(item_id)

    def input_usage(self, instructions: str) -> tuple[int, int]:
        """Deterministic input token counts (text, audio) for a response over the conversation."""
        return self.conversation.input_usage(instructions)

    # --- input audio -----------------------------------------------------------------------------

    async def _speech_started(self, at_ms: int) -> None:
        self.audio.speech_started(at_ms)
        self._speech_item = new_id("item")
        await self.send(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": at_ms,
                "item_id": self._speech_item,
            }
        )
        td = turn_detection(self.session) or {}
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
        td = turn_detection(self.session) or {}
        if td.get("create_response", True):
            if self.response is not None and self._response_task is not None:
                if not self.response.cancelled.is_set():
                    return  # interrupt_response is off: the reply in progress stands
                with contextlib.suppress(ConnectionGone):
                    await self._response_task
            await self.start_response({}, event_id=None)

    async def _commit_buffer(self, *, event_id: str | None) -> None:
        duration_ms = self.audio.duration_ms
        if duration_ms < 100:
            raise ProtocolError(
                "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, "
                f"but buffer only has {duration_ms:.2f}ms of audio.",
                code="input_audio_buffer_commit_empty",
                event_id=event_id,
            )
        item_id = self._speech_item or new_id("item")
        items = self.conversation.items
        previous = items[-1]["id"] if items else None
        await self.send(
            {"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": previous}
        )
        self.audio.clear()
        transcript = self.planner.transcript_for_audio(item_id, duration_ms)
        self.conversation.transcripts[item_id] = transcript
        self.conversation.input_audio_ms[item_id] = duration_ms
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
        if params.get("conversation", "auto") == "none":
            scripted = self.planner.out_of_band(params.get("metadata"))
            if scripted is not None:
                return scripted
        per_response = params.get("tools")
        tools_cfg: list[Any] = (
            per_response if isinstance(per_response, list) else self.session.get("tools") or []
        )
        tools = [t["name"] for t in tools_cfg if isinstance(t, dict) and t.get("type") == "function"]
        choice = params.get("tool_choice") or self.session.get("tool_choice") or "auto"
        allowed = choice != "none"
        reply = self.conversation.reply(self.planner, params, tools, allowed)
        if (params.get("parallel_tool_calls", self.session.get("parallel_tool_calls"))) is False:
            reply = self.planner.one_call(reply)
        if not reply.calls and allowed and tools and choice != "auto":
            forced = (
                choice.get("name") if isinstance(choice, dict) else tools[0] if choice == "required" else None
            )
            if forced in tools:
                reply = Reply(reply.say, (ToolCall(str(forced), "{}"),))
        return reply
