"""An OpenAI-Realtime- and GPT-Live-compatible WebSocket server for offline development, tests and benchmarks.

`python -m worker simulate` serves it; tests start it in-process:

    from worker.simulator import Simulator, SimulatorConfig, Scenario
    async with Simulator(SimulatorConfig(port=0, scenario=Scenario.load("scenarios/demo.yaml"))) as sim:
        RealtimeModel(base_url=sim.base_url, api_key="sim")

Modules: `events` (protocol vocabulary and validation), `session` (one connection's state
machine), `session_config` (the session object: defaults, `session.update`), `conversation` (the
items and `conversation.item.*`), `input_audio` (the input buffer and its VAD), `response` (streaming
one response), `replies` (what the model answers), `commands` (/call, /say), `scenario` (scenario
files), `speech` (reply audio), `vad` (server VAD), `truncation` (assistant audio as sent, and
cutting it), `faults` (latency and fault knobs), `records` (what is kept of the events), `server`
(WebSocket server and in-process API), `cli`. GPT-Live (`/v1/live/sessions`): `wire` (which protocol a
connection speaks), `live_events` (its vocabulary, validated against `openai.types.live`), `live_config`
(`session.start` and `session.update`), `live_session` (one connection's state machine), `live_speech`
(the voice model's output), `live_backend` (delegation).
"""

from worker.simulator.faults import ERROR_KINDS, ErrorKind, Faults
from worker.simulator.records import RecordedEvent, Violation
from worker.simulator.scenario import Scenario, ScenarioError, Step, ToolCallSpec, Turn
from worker.simulator.server import Connection, Simulator, SimulatorConfig

__all__ = [
    "ERROR_KINDS",
    "Connection",
    "ErrorKind",
    "Faults",
    "RecordedEvent",
    "Scenario",
    "ScenarioError",
    "Simulator",
    "SimulatorConfig",
    "Step",
    "ToolCallSpec",
    "Turn",
    "Violation",
]
