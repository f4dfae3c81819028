"""The bench role: the same model settings, greeting and tool as `bench/baseline_agent.py`.

Server VAD neither creates nor interrupts responses, so the marked bursts the participant sends
never make the agent speak; replies come only when the bench asks (`/say`, `/call` typed on
`lk.chat`). The greeting is long enough (about 4 s of speech) to use up livekit-agents' 3 s echo
warm-up, during which user audio is replaced by silence.
"""

from __future__ import annotations

from pathlib import Path

ROLE = "bench"
GREETING = "Hello from the bench. This greeting is long enough to use up the echo warm up time."


def role_text(version: int = 0) -> str:
    """The role file; `version` is written into the instructions (the reload figure bumps it)."""
    return f"""\
name: {ROLE}
title: Bench
description: The benchmark role (make bench).
model:
  voice: marin
  modalities: [audio]
  turn_detection: {{type: server_vad, create_response: false, interrupt_response: false}}
  input_transcription: null
limits: {{max_tool_calls_per_turn: 64, idle_timeout_s: null}}
greeting:
  say: {GREETING}
instructions: "You are a benchmark agent. Instructions version {version}."
tools:
  - kind: frontend
    name: show_card
    description: Show a card on the user's screen.
    timeout_s: 3
    parameters:
      type: object
      properties: {{title: {{type: string}}}}
      required: [title]
      additionalProperties: false
"""


def write_roles_dir(path: Path) -> Path:
    """A roles folder holding only the bench role."""
    path.mkdir(parents=True, exist_ok=True)
    (path / f"{ROLE}.yaml").write_text(role_text())
    return path
