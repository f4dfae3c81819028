"""One GPT-Live connection's state machine: startup, the user's audio, the model's turns, context, delegation.

`LiveSession.handle` takes each validated client event in arrival order; a refused one raises
`ProtocolError`, which the connection sends as an `error` event (the session stays open). The
simulated voice model is full duplex the way the simulator can be: it listens while it speaks (the
user speaking over it cuts it off), and it answers on its own when the user's speech ends (the same
energy VAD and scripted replies as the Realtime mode, `vad.py` and `replies.py`).

What the simulated model makes of `session.commentary.append`, the one way to ask it to speak:

- livekit-agents' asks (`GPTLiveSession.generate_reply`, 1.8.9): "Reply to the caller now ..." followed
  by a typed message is answered as the user's words (commands, scenario, "You said: ..."); "Immediately
  follow the instruction below ..." is answered like a Realtime response's instructions (a scenario
  greeting, "Say exactly: ...", else the default greeting);
- a `/call` or `/say` command is run as if the user had typed it (raw clients script delegation so);
- anything else is speakable context, which the real model paraphrases: the simulator says it verbatim
  (under client delegation, this is how the application's answer to a delegation is spoken).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

import numpy as np

from worker.simulator.commands import parse_command
from worker.simulator.events import ClientEvent, JsonDict, ProtocolError, new_id
from worker.simulator.faults import Faults, error_payload
from worker.simulator.live_backend import Backend, with_tool_choice
from worker.simulator.live_config import LiveConfig, apply_update, check_append, start_config
from worker.simulator.live_events import WITH_EVENT_ID, live_error_event
from worker.simulator.live_speech import Speaker
from worker.simulator.replies import Planner, Reply
from worker.simulator.response import tokens
from worker.simulator.scenario import Scenario
from worker.simulator.session import Transport
from worker.simulator.speech import Synthesizer
from worker.simulator.vad import EnergyVad, VadSettings

log = logging.getLogger("rolecall.simulator")

REPLY_ASK = "Reply to the caller now"
"""How livekit-agents 1.8.9 asks GPT-Live to answer (then a blank line and the typed message, if any)."""
FOLLOW_ASK = "Immediately follow the instruction below"
"""How livekit-agents 1.8.9 asks GPT-Live to follow instructions (a greeting, a goodbye)."""
TURN_SILENCE_MS = 600
"""Silence that ends the user's turn for the simulated model."""
USAGE_INTERVAL_S = 60.0
"""How often `session.usage.updated` reports the cumulative duration (the service: about once a minute)."""
CONTEXT_WINDOW_TOKENS = 128_000
"""The context size `context_window.usage_ratio` is measured against (the simulator's assumption)."""


def read_commentary(content: str) -> tuple[str, str]:
    """What a commentary asks of the simulated model: (`reply` | `follow` | `user` | `say`, its text)."""
    head, _, body = content.partition("\n\n")
    if head.startswith(REPLY_ASK):
        return "reply", body.strip()
    if head.startswith(FOLLOW_ASK):
        return "follow", body.strip()
    if parse_command(content) is not None:
        return "user", content.strip()
    return "say", content


class LiveSession:
    """The state machine of one GPT-Live connection."""

    def __init__(self, transport: Transport, *, scenario: Scenario | None, synth: Synthesizer) -> None:
        self.transport = transport
        self.synth = synth
        self.planner = Planner(scenario)
        self.config: LiveConfig | None = None
        self.speaker = Speaker(self, on_said=lambda text: self.context.append(f"assistant: {text}"))
        self.backend = Backend(self)
        self.vad = EnergyVad(VadSettings(silence_duration_ms=TURN_SILENCE_MS))
        self.context: list[str] = []
        """What the model has heard and said, as text lines (for token estimates)."""
        self.muted = False
        self._speech_start_ms = 0
        self._t0 = asyncio.get_running_loop().time()
        self._replies = 0
        self._error_fired = False
        self._usage_task: asyncio.Task[None] | None = None
        self.closed = False

    @property
    def faults(self) -> Faults:
        return self.transport.faults

    @property
    def started(self) -> bool:
        return self.config is not None

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Nothing is sent on connect: the client speaks first, with `session.start`."""

    async def aclose(self) -> None:
        """Stop speaking and reporting (the socket is gone or closing)."""
        if self._usage_task is not None:
            self._usage_task.cancel()
        await self.speaker.aclose()

    async def send(self, event: JsonDict) -> None:
        if event.get("type") in WITH_EVENT_ID:
            event.setdefault("event_id", new_id("event"))
        await self.transport.send(event)

    async def drop(self) -> None:
        await self.transport.drop()

    def now_ms(self) -> int:
        """Milliseconds on the session timeline (since the connection opened)."""
        return int((asyncio.get_running_loop().time() - self._t0) * 1000)

    def say(self, text: str) -> None:
        self.speaker.say(text)

    def context_text(self) -> str:
        return "\n".join(self.context)

    def usage(self) -> JsonDict:
        """Cumulative duration: GPT-Live bills the whole session, silence included."""
        return {"seconds": round(self.now_ms() / 1000, 3)}

    # --- dispatch --------------------------------------------------------------------------------

    async def handle(self, ev: ClientEvent) -> None:
        """Answer one validated client event."""
        if self.closed:
            raise ProtocolError("The session is closed.", code="session_closed", event_id=ev.event_id)
        if not self.started and ev.type != "session.start":
            raise ProtocolError(
                "Send session.start first and wait for session.started before other events.",
                code="session_not_started",
                param="type",
                event_id=ev.event_id,
            )
        handler = self._handlers.get(ev.type)
        if handler is None:
            raise ProtocolError(
                f"'{ev.type}' is not supported by the simulator.",
                code="unsupported",
                param="type",
                event_id=ev.event_id,
            )
        await handler(self, ev)

    @property
    def settings(self) -> LiveConfig:
        """The configuration of the started session."""
        assert self.config is not None
        return self.config

    async def _start(self, ev: ClientEvent) -> None:
        if self.config is not None:
            raise ProtocolError("The session has already started.", param="type", event_id=ev.event_id)
        self.config = start_config(ev.raw["session"], ev.event_id)
        for item in self.config.input:
            self.context.append(f"{item.get('role')}: {item['content'][0].get('text', '')}")
        await self.send(
            {"type": "session.started", "session": self.config.resource(), "client_event_id": ev.event_id}
        )
        self.speaker.start()
        self._usage_task = asyncio.create_task(self._report_usage(), name="sim-live-usage")

    async def _update(self, ev: ClientEvent) -> None:
        apply_update(self.settings, ev.raw["session"], ev.event_id)
        await self.send(
            {"type": "session.updated", "session": self.settings.resource(), "client_event_id": ev.event_id}
        )

    async def _audio(self, ev: ClientEvent) -> None:
        try:
            audio = base64.b64decode(ev.raw["audio"], validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError(
                "Invalid 'audio': expected base64-encoded PCM16 audio.", param="audio", event_id=ev.event_id
            ) from None
        samples = np.frombuffer(audio[: len(audio) // 2 * 2], dtype="<i2").astype(np.int16)
        if self.muted:  # the model hears silence; the timeline goes on
            samples = np.zeros_like(samples)
        for event in self.vad.push(samples):
            if event.kind == "started":
                self._speech_start_ms = event.at_ms
                if self.speaker.interrupt():
                    log.info("the user spoke over the simulated model: it stops")
            else:
                await self._user_turn(self._speech_start_ms, event.at_ms)

    async def _user_turn(self, start_ms: int, end_ms: int) -> None:
        item_id = new_id("item")
        transcript = self.planner.transcript_for_audio(item_id, end_ms - start_ms)
        await self.send(
            {
                "type": "session.input_transcript.delta",
                "delta": transcript,
                "start_ms": start_ms,
                "end_ms": end_ms,
            }
        )
        self.context.append(f"user: {transcript}")
        await self._act(self._answer(item_id, transcript))

    async def _mute(self, ev: ClientEvent) -> None:
        self.muted = ev.type.endswith(".mute")
        kind = "session.input_audio.muted" if self.muted else "session.input_audio.unmuted"
        await self.send({"type": kind, "client_event_id": ev.event_id})

    async def _append(self, ev: ClientEvent) -> None:
        content, delegation_id = str(ev.raw["content"]), ev.raw.get("delegation_id")
        self._check_delegation_id(delegation_id, ev)
        check_append(content, ev.event_id)
        now = self.now_ms()
        kind = ev.type.removeprefix("session.").removesuffix(".append")
        await self.send(
            {
                "type": f"session.{kind}.appended",
                "start_ms": now,
                "end_ms": now,
                "client_event_id": ev.event_id,
            }
        )
        if kind != "instructions":
            self.backend.cancel_acknowledgements()
        if kind != "commentary":
            self.context.append(f"{kind}: {content}")
            return
        ask, text = read_commentary(content)
        if ask == "reply" and text:
            await self._act(self._answer(new_id("item"), text))
        elif ask in ("reply", "follow"):
            await self._act(self.planner.without_input(text))
        elif ask == "user":
            await self._act(self._answer(new_id("item"), text))
        else:
            await self._act(Reply(text))

    def _check_delegation_id(self, delegation_id: object, ev: ClientEvent) -> None:
        if delegation_id is None:
            return
        if self.settings.delegation == "responses":
            raise ProtocolError(
                "A non-null delegation_id is not accepted with Responses delegation.",
                param="delegation_id",
                event_id=ev.event_id,
            )
        if delegation_id not in self.backend.client_delegations:
            raise ProtocolError(
                f"Unknown delegation_id '{delegation_id}'.", param="delegation_id", event_id=ev.event_id
            )

    async def _item_create(self, ev: ClientEvent) -> None:
        self.backend.item_create(ev)

    async def _response_create(self, ev: ClientEvent) -> None:
        await self.backend.response_create(ev)

    async def _close(self, ev: ClientEvent) -> None:
        await self.finish("close_requested", client_event_id=ev.event_id)

    _handlers: ClassVar[dict[str, Callable[[LiveSession, ClientEvent], Coroutine[Any, Any, None]]]] = {
        "session.start": _start,
        "session.update": _update,
        "session.input_audio.append": _audio,
        "session.input_audio.mute": _mute,
        "session.input_audio.unmute": _mute,
        "session.instructions.append": _append,
        "session.thinking.append": _append,
        "session.commentary.append": _append,
        "response.item.create": _item_create,
        "response.create": _response_create,
        "session.close": _close,
    }

    # --- the model's turns -------------------------------------------------------------------------

    def _answer(self, item_id: str, text: str) -> Reply:
        """The reply to the user's words, with the tools the session has (and its tool choice)."""
        config = self.settings
        if config.delegation == "client":
            return self.planner.for_user(item_id, text, None)
        tools = config.tool_names
        choice = config.responses.get("tool_choice")
        reply = self.planner.for_user(item_id, text, tools, tools_allowed=choice != "none")
        return with_tool_choice(reply, choice, tools)

    async def _act(self, reply: Reply) -> None:
        """Speak the reply, or delegate its calls; a fault may answer with an error instead."""
        self._replies += 1
        faults = self.faults
        if (
            faults.error is not None
            and not self._error_fired
            and self._replies > faults.error_after_responses
        ):
            self._error_fired = True
            await self._inject_error()
            return
        if reply.calls:
            await self.backend.delegate(reply)
        elif reply.say:
            self.say(reply.say)

    async def _inject_error(self) -> None:
        kind = self.faults.error
        assert kind is not None
        payload = error_payload(kind)
        err = ProtocolError(payload["message"], code=payload["code"] or "server_error", type=payload["type"])
        await self.send(live_error_event(err))
        if kind == "session_expired":
            await self.finish("expired", close_code=self.faults.close_code or 1000)

    async def finish(
        self, reason: str, *, client_event_id: str | None = None, close_code: int = 1000
    ) -> None:
        """End the session: `session.closed` with the final usage, then the socket closes."""
        if self.closed:
            return
        self.speaker.interrupt()
        event: JsonDict = {
            "type": "session.closed",
            "reason": reason,
            "session": self.settings.resource(),
            "usage": self.usage(),
        }
        if client_event_id is not None:
            event["client_event_id"] = client_event_id
        await self.send(event)
        self.closed = True
        await self.transport.close(close_code, reason)

    async def _report_usage(self) -> None:
        with contextlib.suppress(Exception):
            while not self.closed:
                await asyncio.sleep(USAGE_INTERVAL_S)
                ratio = min(1.0, tokens(self.context_text()) / CONTEXT_WINDOW_TOKENS)
                await self.send(
                    {
                        "type": "session.usage.updated",
                        "usage": self.usage(),
                        "context_window": {"usage_ratio": ratio},
                    }
                )
