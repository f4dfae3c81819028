"""Reads the simulator's records (`sim.sent`, `sim.received`) into the marks the figures need.

Records are appended by the simulator thread; this reads them by index, each once. Both wires are read:
the Realtime API's and GPT-Live's (`/v1/live/sessions`), whose events for the same marks differ:

| mark | Realtime | GPT-Live |
| --- | --- | --- |
| input audio | `input_audio_buffer.append` | `session.input_audio.append` |
| output audio | `response.output_audio.delta` (per response) | `session.output_audio.delta` (one stream) |
| function call made | `response.output_item.done` | the same, inside a `response.event` envelope |
| its output | `conversation.item.create` | `response.item.create` |
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from bench.marks import SAMPLE_RATE, OnsetDetector, StreamOnsets, decode_pcm, first_loud
from worker.simulator import Simulator
from worker.simulator.records import AUDIO_IN

OUTPUT_ITEM_CREATE = ("conversation.item.create", "response.item.create")
"""Client events that can carry a `function_call_output` item, Realtime and GPT-Live."""


def function_call_made(event: dict[str, Any]) -> str | None:
    """The call_id of the function call a server event completes, if it completes one: a Realtime
    `response.output_item.done`, or the same Responses event in a GPT-Live `response.event` envelope."""
    if event.get("type") == "response.event" and isinstance(event.get("event"), dict):
        event = event["event"]
    if event.get("type") != "response.output_item.done":
        return None
    item = event.get("item") or {}
    return str(item.get("call_id")) if item.get("type") == "function_call" else None


def function_output_sent(event: dict[str, Any]) -> str | None:
    """The call_id whose output a client event carries, if it carries one (Realtime or GPT-Live)."""
    if event.get("type") not in OUTPUT_ITEM_CREATE:
        return None
    item = event.get("item") or {}
    return str(item.get("call_id")) if item.get("type") == "function_call_output" else None


@dataclass
class Tap:
    sim: Simulator
    input_onsets: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """Per connection: arrival time of each `input_audio_buffer.append` holding a burst onset."""
    input_samples: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Per connection: PCM samples received in appends."""
    reply_onsets: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """Per connection: for each response, when its first loud sample was due (delta sent + offset); on
    GPT-Live, whose audio has no responses, each onset of its one output stream (`StreamOnsets`)."""
    calls: dict[str, tuple[str, float]] = field(default_factory=dict)
    """call_id -> (connection, when the function_call `response.output_item.done` was sent)."""
    outputs: dict[str, float] = field(default_factory=dict)
    """call_id -> when the client event carrying its `function_call_output` arrived."""
    session_updates: list[tuple[str, float, str]] = field(default_factory=list)
    """(connection, arrival, instructions) of every `session.update` carrying instructions."""
    first_event: dict[str, float] = field(default_factory=dict)
    """Per connection: arrival of the first client event on it (a pre-opened one waits for its job)."""
    _claimed: set[str] = field(default_factory=set)
    _detectors: dict[str, OnsetDetector] = field(default_factory=dict)
    _loud_responses: set[str] = field(default_factory=set)
    _live_out: dict[str, StreamOnsets] = field(default_factory=dict)
    _sent_pos: int = 0
    _recv_pos: int = 0

    def poll(self) -> None:
        sent, received = self.sim.sent, self.sim.received
        end = len(received)
        for r in received[self._recv_pos : end]:
            ev = r.event
            self.first_event.setdefault(r.connection, r.at)
            if r.type in AUDIO_IN and isinstance(ev.get("audio"), str):
                pcm = decode_pcm(ev["audio"])
                self.input_samples[r.connection] += len(pcm)
                det = self._detectors.setdefault(r.connection, OnsetDetector())
                if det.feed(pcm) is not None:
                    self.input_onsets[r.connection].append(r.at)
            elif (call_id := function_output_sent(ev)) is not None:
                self.outputs.setdefault(call_id, r.at)
            elif r.type == "session.update":
                instructions = (ev.get("session") or {}).get("instructions")
                if isinstance(instructions, str):
                    self.session_updates.append((r.connection, r.at, instructions))
        self._recv_pos = end
        end = len(sent)
        for r in sent[self._sent_pos : end]:
            ev = r.event
            if r.type == "response.output_audio.delta":
                rid = str(ev.get("response_id"))
                if rid in self._loud_responses:
                    continue
                idx = first_loud(decode_pcm(ev.get("delta", "")))
                if idx is not None:
                    self._loud_responses.add(rid)
                    self.reply_onsets[r.connection].append(r.at + idx / SAMPLE_RATE)
            elif r.type == "session.output_audio.delta":
                stream = self._live_out.setdefault(r.connection, StreamOnsets())
                onset = stream.feed(r.at, decode_pcm(ev.get("delta", "")))
                if onset is not None:
                    self.reply_onsets[r.connection].append(onset)
            elif (call_id := function_call_made(ev)) is not None:
                self.calls[call_id] = (r.connection, r.at)
        self._sent_pos = end

    def new_connection(self, since: float) -> str | None:
        """The connection a session dispatched at `since` (time.monotonic()) uses, once it has sent on it:
        the first unclaimed one whose first client event came after `since`. Not "the next one opened":
        RoleCall's idle job processes open theirs before any dispatch (`worker.preopen`)."""
        self.poll()
        found = [(at, c) for c, at in self.first_event.items() if at >= since and c not in self._claimed]
        if not found:
            return None
        conn = min(found)[1]
        self._claimed.add(conn)
        return conn
