"""The bench role: the same model settings, greeting and tool as `bench/baseline_agent.py`.

Server VAD neither creates nor interrupts responses, so the marked bursts the participant sends
never make the agent speak; replies come only when the bench asks (`/say`, `/call` typed on
`lk.chat`). The greeting is long enough (about 4 s of speech) to use up livekit-agents' 3 s echo
warm-up, during which user audio is replaced by silence.

`LIVE_ROLE` is the same role on GPT-Live (`api: live`, the `live` figure): the same voice, greeting and
`show_card` tool, GPT-Live's defaults otherwise (gpt-live-1, the gpt-5.6-luna backend running the
instructions and the tool). GPT-Live has no turn detection to configure: the model answers when the
user's speech ends, and typing does not interrupt it.
"""

from __future__ import annotations

from pathlib import Path

ROLE = "bench"
LIVE_ROLE = "bench-live"
GREETING = "Hello from the bench. This greeting is long enough to use up the echo warm up time."


SHOW_CARD = """\
  - kind: frontend
    name: show_card
    description: Show a card on the user's screen.
    timeout_s: 3
    parameters:
      type: object
      properties: {title: {type: string}}
      required: [title]
      additionalProperties: false
"""


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
{SHOW_CARD}"""


def live_role_text() -> str:
    """The bench role on GPT-Live."""
    return f"""\
name: {LIVE_ROLE}
title: Bench (GPT-Live)
description: The benchmark role on GPT-Live (make bench, the live figure).
model:
  api: live
  voice: marin
limits: {{max_tool_calls_per_turn: 64, idle_timeout_s: null}}
greeting:
  say: {GREETING}
instructions: You are a benchmark agent.
tools:
{SHOW_CARD}"""


def write_roles_dir(path: Path, *, live: bool = False) -> Path:
    """A roles folder holding only the bench role (with `live`: only its GPT-Live twin, so that the
    worker's idle processes pre-open one GPT-Live connection and no Realtime one)."""
    path.mkdir(parents=True, exist_ok=True)
    if live:
        (path / f"{LIVE_ROLE}.yaml").write_text(live_role_text())
    else:
        (path / f"{ROLE}.yaml").write_text(role_text())
    return path
