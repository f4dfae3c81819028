"""GPT-Live delegation: the Responses backend the session runs, and the work it hands the application.

Under `responses` delegation a task the voice model delegates becomes a backend response whose events
arrive wrapped in `response.event` envelopes, with the delegation's id:

    session.delegation.created                       (target: responses, response_id)
    response.created
    response.output_item.added, response.function_call_arguments.delta/.done,
    response.output_item.done                        one per function call, status completed
    response.completed                               usage; output cleared, as the service sends it

The application runs each call and queues its result with `response.item.create`; `response.create`
runs the continuation once every call in the session has its output (a partial batch is refused). The
continuation's text is spoken by the voice model. Under `client` delegation the application gets only
`session.delegation.created` (metadata, no task text) and answers with `session.commentary.append`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from worker.simulator.events import ClientEvent, JsonDict, ProtocolError, new_id
from worker.simulator.live_config import LiveConfig
from worker.simulator.replies import Planner, Reply, ToolCall, ToolOutput
from worker.simulator.response import tokens

ACKNOWLEDGEMENT = "One moment, please."
"""What the simulated model says when it delegates and the scenario gives it nothing to say (the service
asks its model for a spoken acknowledgement, by default at once)."""


class BackendHost(Protocol):
    """What delegation needs from its session."""

    planner: Planner

    @property
    def settings(self) -> LiveConfig: ...

    async def send(self, event: JsonDict) -> None: ...
    def say(self, text: str) -> None: ...
    def now_ms(self) -> int: ...
    def context_text(self) -> str: ...


@dataclass
class _Call:
    call_id: str
    name: str
    delegation_id: str | None
    output: str | None = None


@dataclass
class _Delegation:
    id: str | None
    waiting: deque[ToolCall] = field(default_factory=deque)
    """Calls not made yet: one goes out per response when `parallel_tool_calls` is off."""


def with_tool_choice(reply: Reply, choice: Any, tools: list[str]) -> Reply:
    """Apply the backend's `tool_choice`: `none` makes no call, `required` or a named function forces one."""
    if choice == "none":
        return Reply(reply.say or "I cannot use tools right now.") if reply.calls else reply
    if reply.calls or not tools or choice in (None, "auto"):
        return reply
    forced = choice.get("name") if isinstance(choice, dict) else tools[0] if choice == "required" else None
    return Reply(reply.say, (ToolCall(str(forced), "{}"),)) if forced in tools else reply


class Backend:
    """The delegations of one session: open calls, their outputs, and the continuations."""

    def __init__(self, host: BackendHost) -> None:
        self.host = host
        self.calls: dict[str, _Call] = {}
        """Calls made and not yet continued, by call id."""
        self.delegations: dict[str | None, _Delegation] = {}
        self.client_delegations: set[str] = set()
        """Client delegations created (the application answers them with commentary)."""
        self.context: list[JsonDict] = []
        """Other items the application queued for the backend (kept as context only)."""
        self._acknowledgements: list[asyncio.TimerHandle] = []

    @property
    def config(self) -> LiveConfig:
        return self.host.settings

    # --- the voice model delegates ------------------------------------------------------------------

    async def delegate(self, reply: Reply) -> None:
        """Hand `reply`'s calls to the backend (or to the application under client delegation), and
        acknowledge aloud: the scenario's words, else `ACKNOWLEDGEMENT`, after `acknowledgement_delay_ms`
        unless the application appends commentary or thinking first (`cancel_acknowledgements`)."""
        host = self.host
        delegation_id = new_id("deleg")
        info: JsonDict = {"id": delegation_id, "target": self.config.delegation, "type": "delegation"}
        response_id = new_id("resp")
        if self.config.delegation == "responses":
            info["response_id"] = response_id
        else:
            self.client_delegations.add(delegation_id)
        await host.send(
            {"type": "session.delegation.created", "delegation": info, "offset_ms": host.now_ms()}
        )
        self._acknowledge(reply.say or ACKNOWLEDGEMENT)
        if self.config.delegation == "client":
            return  # the application's commentary answers it
        delegation = self.delegations.setdefault(delegation_id, _Delegation(delegation_id))
        await self._respond(delegation, response_id, list(reply.calls), None)

    def _acknowledge(self, text: str) -> None:
        delay = self.config.acknowledgement_delay_ms / 1000
        if delay <= 0:
            self.host.say(text)
            return
        handle = asyncio.get_running_loop().call_later(delay, self.host.say, text)
        self._acknowledgements.append(handle)

    def cancel_acknowledgements(self) -> None:
        """Commentary or thinking was appended: acknowledgements not yet spoken are dropped."""
        for handle in self._acknowledgements:
            handle.cancel()
        self._acknowledgements.clear()

    # --- the application answers --------------------------------------------------------------------

    def item_create(self, ev: ClientEvent) -> None:
        """`response.item.create`: a call's output, or context for the backend."""
        self._require_responses(ev)
        item = ev.raw["item"]
        if item.get("type") != "function_call_output":
            self.context.append(item)
            return
        call = self.calls.get(item.get("call_id"))
        if call is None:
            raise ProtocolError(
                f"No open function call with call_id '{item.get('call_id')}'.",
                param="item.call_id",
                event_id=ev.event_id,
            )
        output = item.get("output")
        call.output = output if isinstance(output, str) else str(output)

    async def response_create(self, ev: ClientEvent) -> None:
        """`response.create`: continue each delegation once every call has its output (else refuse)."""
        self._require_responses(ev)
        missing = [c.call_id for c in self.calls.values() if c.output is None]
        if missing:
            raise ProtocolError(
                "Every function call needs an output (response.item.create) before response.create; "
                f"missing: {', '.join(missing)}.",
                code="function_call_output_missing",
                event_id=ev.event_id,
            )
        answered, self.calls = list(self.calls.values()), {}
        if not answered:  # a response the application asked for itself: no delegation
            reply = self.host.planner.without_input("")
            await self._respond(_Delegation(None), new_id("resp"), list(reply.calls), reply.say)
            return
        for delegation_id in dict.fromkeys(c.delegation_id for c in answered):
            delegation = self.delegations.setdefault(delegation_id, _Delegation(delegation_id))
            outputs = [
                ToolOutput(c.name, c.output or "") for c in answered if c.delegation_id == delegation_id
            ]
            if delegation.waiting:
                await self._respond(delegation, new_id("resp"), [delegation.waiting.popleft()], None)
                continue
            tools = self.config.tool_names
            reply = self.host.planner.after_tools(outputs, tools)
            reply = with_tool_choice(reply, self.config.responses.get("tool_choice"), tools)
            await self._respond(delegation, new_id("resp"), list(reply.calls), reply.say)

    def _require_responses(self, ev: ClientEvent) -> None:
        if self.config.delegation != "responses":
            raise ProtocolError(
                f"{ev.type} requires Responses delegation (this session uses client delegation).",
                param="type",
                event_id=ev.event_id,
            )

    # --- one backend response -----------------------------------------------------------------------

    async def _respond(
        self, delegation: _Delegation, response_id: str, calls: list[ToolCall], text: str | None
    ) -> None:
        if len(calls) > 1 and not self.config.parallel_tool_calls:
            delegation.waiting.extend(calls[1:])
            calls = calls[:1]
        seq = _Sequence(self.host, delegation.id)
        snapshot = self._snapshot(response_id)
        await seq.send({"type": "response.created", "response": snapshot | {"status": "in_progress"}})
        output_tokens = 0
        index = 0
        if text:
            await self._message(seq, index, text)
            output_tokens += tokens(text)
            index += 1
        for call in calls:
            call_id = new_id("call")
            item: JsonDict = {
                "id": new_id("fc"),
                "type": "function_call",
                "status": "in_progress",
                "call_id": call_id,
                "name": call.name,
                "arguments": "",
            }
            await seq.send({"type": "response.output_item.added", "output_index": index, "item": dict(item)})
            ids = {"item_id": item["id"], "output_index": index}
            await seq.send({"type": "response.function_call_arguments.delta", **ids, "delta": call.arguments})
            await seq.send(
                {"type": "response.function_call_arguments.done", **ids, "arguments": call.arguments}
            )
            item |= {"status": "completed", "arguments": call.arguments}
            await seq.send({"type": "response.output_item.done", "output_index": index, "item": item})
            self.calls[call_id] = _Call(call_id, call.name, delegation.id)
            output_tokens += tokens(call.name + call.arguments)
            index += 1
        input_tokens = tokens(str(self.config.responses.get("instructions") or "") + self.host.context_text())
        usage = {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        }
        completed = snapshot | {"status": "completed", "completed_at": time.time(), "usage": usage}
        await seq.send({"type": "response.completed", "response": completed})
        if text:
            self.host.say(text)  # the voice model speaks the backend's answer on its own

    async def _message(self, seq: _Sequence, index: int, text: str) -> None:
        item: JsonDict = {
            "id": new_id("msg"),
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        await seq.send({"type": "response.output_item.added", "output_index": index, "item": dict(item)})
        ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
        part = {"type": "output_text", "text": "", "annotations": []}
        await seq.send({"type": "response.content_part.added", **ids, "part": dict(part)})
        await seq.send({"type": "response.output_text.delta", **ids, "delta": text, "logprobs": []})
        await seq.send({"type": "response.output_text.done", **ids, "text": text, "logprobs": []})
        part["text"] = text
        await seq.send({"type": "response.content_part.done", **ids, "part": part})
        item |= {"status": "completed", "content": [part]}
        await seq.send({"type": "response.output_item.done", "output_index": index, "item": item})

    def _snapshot(self, response_id: str) -> JsonDict:
        """A response lifecycle snapshot as GPT-Live sends it: instructions, tools and output cleared."""
        responses = self.config.responses
        choice = responses.get("tool_choice")
        if isinstance(choice, dict):
            choice = (
                {"type": "function", "name": choice["name"]} if choice.get("type") == "function" else "auto"
            )
        return {
            "id": response_id,
            "object": "response",
            "created_at": time.time(),
            "model": str(responses.get("model") or ""),
            "output": [],
            "parallel_tool_calls": self.config.parallel_tool_calls,
            "tool_choice": choice or "auto",
            "tools": [],
            "max_output_tokens": responses.get("max_output_tokens"),
        }


class _Sequence:
    """Sends one response's events in their envelopes, numbering them as the Responses stream does."""

    def __init__(self, host: BackendHost, delegation_id: str | None) -> None:
        self.host = host
        self.delegation_id = delegation_id
        self.number = 0

    async def send(self, event: JsonDict) -> None:
        event["sequence_number"] = self.number
        self.number += 1
        await self.host.send(
            {
                "type": "response.event",
                "event_id": new_id("event"),
                "delegation_id": self.delegation_id,
                "event": event,
            }
        )
