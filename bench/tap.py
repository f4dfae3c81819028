"""Reads the simulator's records (`sim.sent`, `sim.received`) into the marks the figures need.

Records are appended by the simulator thread; this reads them by index, each once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from bench.marks import SAMPLE_RATE, OnsetDetector, decode_pcm, first_loud
from worker.simulator import Simulator


@dataclass
class Tap:
    sim: Simulator
    input_onsets: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """Per connection: arrival time of each `input_audio_buffer.append` holding a burst onset."""
    input_samples: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Per connection: PCM samples received in appends."""
    reply_onsets: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """Per connection: for each response, when its first loud sample was due (delta sent + offset)."""
    calls: dict[str, tuple[str, float]] = field(default_factory=dict)
    """call_id -> (connection, when the function_call `response.output_item.done` was sent)."""
    outputs: dict[str, float] = field(default_factory=dict)
    """call_id -> when its `function_call_output` `conversation.item.create` arrived."""
    session_updates: list[tuple[str, float, str]] = field(default_factory=list)
    """(connection, arrival, instructions) of every `session.update` carrying instructions."""
    first_event: dict[str, float] = field(default_factory=dict)
    """Per connection: arrival of the first client event on it (a pre-opened one waits for its job)."""
    _claimed: set[str] = field(default_factory=set)
    _detectors: dict[str, OnsetDetector] = field(default_factory=dict)
    _loud_responses: set[str] = field(default_factory=set)
    _sent_pos: int = 0
    _recv_pos: int = 0

    def poll(self) -> None:
        sent, received = self.sim.sent, self.sim.received
        end = len(received)
        for r in received[self._recv_pos : end]:
            ev = r.event
            self.first_event.setdefault(r.connection, r.at)
            if r.type == "input_audio_buffer.append" and isinstance(ev.get("audio"), str):
                pcm = decode_pcm(ev["audio"])
                self.input_samples[r.connection] += len(pcm)
                det = self._detectors.setdefault(r.connection, OnsetDetector())
                if det.feed(pcm) is not None:
                    self.input_onsets[r.connection].append(r.at)
            elif r.type == "conversation.item.create":
                item = ev.get("item") or {}
                if item.get("type") == "function_call_output":
                    self.outputs.setdefault(str(item.get("call_id")), r.at)
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
            elif r.type == "response.output_item.done":
                item = ev.get("item") or {}
                if item.get("type") == "function_call":
                    self.calls[str(item.get("call_id"))] = (r.connection, r.at)
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
