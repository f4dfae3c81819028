"""The configuration of a GPT-Live session: `session.start` checked and resolved, `session.update` merged.

The openai types check shapes and unknown keys (`live_events.py`); this module checks what they cannot
(one text part per startup message, the 128-message cap, the instruction budget, an update that tries
to change the delegation type) and what the simulator does not serve (WebRTC-only `client` settings,
Decisions delegation and triggers, audio formats other than 24 kHz PCM), and builds the resolved session
resource that `session.started`, `session.updated` and `session.closed` carry.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from worker.simulator.events import JsonDict, ProtocolError, new_id
from worker.simulator.response import tokens
from worker.simulator.speech import SAMPLE_RATE

MAX_INPUT_ITEMS = 128
"""Startup history messages a session accepts."""
MAX_INSTRUCTION_TOKENS = 16_384
"""The voice model's instructions, in the simulator's token estimate (four characters each)."""
MAX_APPEND_TOKENS = 500
"""One instructions, thinking or commentary append."""
SESSION_TTL_S = 3600
"""`expires_at` is this long after the start (the simulator does not end sessions on it)."""
DEFAULT_VOICE = "marin"


def _unsupported(what: str, param: str, event_id: str | None) -> ProtocolError:
    return ProtocolError(
        f"{what} is not supported by the simulator.", code="unsupported", param=param, event_id=event_id
    )


@dataclass
class LiveConfig:
    """A started session's configuration, as resolved by the (simulated) service."""

    model: str
    instructions: str | None
    voice: str | JsonDict
    delegation: str
    """`client` (the default when omitted) or `responses`."""
    responses: JsonDict = field(default_factory=dict)
    """The Responses backend's settings (under `responses` delegation)."""
    acknowledgement_delay_ms: int = 0
    input: list[JsonDict] = field(default_factory=list)
    store: bool = False
    safety_identifier: str | None = None
    id: str = field(default_factory=lambda: new_id("sess"))
    expires_at: int = field(default_factory=lambda: int(time.time()) + SESSION_TTL_S)

    @property
    def tool_names(self) -> list[str]:
        """The backend's function tools, by name."""
        tools = self.responses.get("tools") or []
        return [str(t["name"]) for t in tools if isinstance(t, dict) and t.get("type") == "function"]

    @property
    def parallel_tool_calls(self) -> bool:
        """Whether one backend response may carry several calls (the Responses default: yes)."""
        return self.responses.get("parallel_tool_calls") is not False

    def resource(self) -> JsonDict:
        """The session resource of `session.started` / `.updated` / `.closed`."""
        delegation: JsonDict = {"type": self.delegation}
        delegation["acknowledgement_delay_ms"] = self.acknowledgement_delay_ms
        if self.delegation == "responses":
            delegation["responses"] = copy.deepcopy(self.responses)
        resource: JsonDict = {
            "id": self.id,
            "expires_at": self.expires_at,
            "model": self.model,
            "status": "active",
            "audio": {
                "format": {"type": "audio/pcm", "rate": SAMPLE_RATE},
                "output": {"voice": copy.deepcopy(self.voice)},
            },
            "delegation": delegation,
            "instructions": self.instructions,
            "input": copy.deepcopy(self.input) or None,
            "store": self.store,
        }
        if self.safety_identifier is not None:
            resource["safety_identifier"] = self.safety_identifier
        return resource


def start_config(session: JsonDict, event_id: str | None) -> LiveConfig:
    """Check `session.start`'s session object (already type-checked) and resolve its defaults."""
    if session.get("client") is not None:
        raise ProtocolError(
            "session.client applies to WebRTC sessions only; a primary WebSocket is trusted.",
            param="session.client",
            event_id=event_id,
        )
    if session.get("triggers") is not None:
        raise _unsupported("Decisions triggers", "session.triggers", event_id)
    audio = session.get("audio") or {}
    fmt = audio.get("format")
    if fmt is not None and (fmt.get("type") != "audio/pcm" or fmt.get("rate") != SAMPLE_RATE):
        raise _unsupported(
            f"Audio format {fmt.get('type')} at {fmt.get('rate')} Hz", "session.audio.format", event_id
        )
    instructions = session.get("instructions")
    if isinstance(instructions, str) and tokens(instructions) > MAX_INSTRUCTION_TOKENS:
        raise ProtocolError(
            f"Instructions are limited to {MAX_INSTRUCTION_TOKENS} tokens.",
            code="string_above_max_length",
            param="session.instructions",
            event_id=event_id,
        )
    items = session.get("input") or []
    if len(items) > MAX_INPUT_ITEMS:
        raise ProtocolError(
            f"Startup history is limited to {MAX_INPUT_ITEMS} messages, got {len(items)}.",
            code="array_above_max_length",
            param="session.input",
            event_id=event_id,
        )
    for index, item in enumerate(items):
        if len(item.get("content") or []) != 1:
            raise ProtocolError(
                "Each startup history message needs exactly one text part.",
                param=f"session.input[{index}].content",
                event_id=event_id,
            )
    config = LiveConfig(
        model=str(session["model"]),
        instructions=instructions or None,
        voice=(audio.get("output") or {}).get("voice") or DEFAULT_VOICE,
        delegation="client",
        input=copy.deepcopy(items),
        store=bool(session.get("store")),
        safety_identifier=session.get("safety_identifier"),
    )
    delegation = session.get("delegation")
    if delegation is not None:
        _apply_delegation(config, delegation, event_id, starting=True)
    return config


def apply_update(config: LiveConfig, update: JsonDict, event_id: str | None) -> None:
    """Merge a `session.update` (sparse: omitted settings keep their values)."""
    if update.get("triggers") is not None:
        raise _unsupported("Decisions triggers", "session.triggers", event_id)
    delegation = update.get("delegation")
    if delegation is not None:
        _apply_delegation(config, delegation, event_id, starting=False)


def _apply_delegation(
    config: LiveConfig, delegation: JsonDict, event_id: str | None, *, starting: bool
) -> None:
    kind = delegation.get("type")
    if kind == "decisions":
        raise _unsupported("Decisions delegation", "session.delegation.type", event_id)
    if not starting and kind != config.delegation:
        raise ProtocolError(
            f"The delegation type cannot change after startup (the session uses '{config.delegation}').",
            param="session.delegation.type",
            event_id=event_id,
        )
    config.delegation = str(kind)
    delay = delegation.get("acknowledgement_delay_ms")
    if delay is not None:
        config.acknowledgement_delay_ms = int(delay)
    responses: Any = delegation.get("responses")
    if kind == "responses" and isinstance(responses, dict):
        config.responses |= {k: copy.deepcopy(v) for k, v in responses.items() if v is not None}


def check_append(content: str, event_id: str | None) -> None:
    """An append's content must fit the 500-token budget."""
    if tokens(content) > MAX_APPEND_TOKENS:
        raise ProtocolError(
            f"An append is limited to {MAX_APPEND_TOKENS} tokens.",
            code="string_above_max_length",
            param="content",
            event_id=event_id,
        )
