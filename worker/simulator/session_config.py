"""The `session` object of a Realtime connection: OpenAI's GA defaults, and how `session.update` merges."""

from __future__ import annotations

import copy

from worker.simulator.events import JsonDict
from worker.simulator.response import AUDIO_FORMAT

DEFAULT_INSTRUCTIONS = "You are a helpful assistant (simulated by RoleCall)."


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


def turn_detection(session: JsonDict) -> JsonDict | None:
    """The session's turn detection object, or None when it is off (push-to-talk)."""
    td = session.get("audio", {}).get("input", {}).get("turn_detection")
    return td if isinstance(td, dict) else None
