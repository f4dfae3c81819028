"""The baseline: the agent a user writes with bare livekit-agents 1.8.9, without RoleCall.

Same RealtimeModel settings as the bench role (`bench/roles.py`): voice, audio modality, server VAD
that neither creates nor interrupts responses, no input transcription; the same greeting; and the
same `show_card` tool, hand-coded as a `perform_rpc` to the participant.

    python bench/baseline_agent.py start      # LIVEKIT_*, OPENAI_BASE_URL, OPENAI_API_KEY from the env

With `BASELINE_API=live` the same agent runs on GPT-Live instead: the plugin's `GPTLiveModel` with the
bench's live role settings (`bench/roles.py` `live_role_text`: voice `marin`, the default model and
backend) and Responses delegation, so the backend model calls `show_card` and the agent runs it as
on Realtime. Like the Realtime model, it takes `OPENAI_BASE_URL` and `OPENAI_API_KEY` from the env.

Two deviations from the documentation's minimal agent, both for the benchmark's sake: the load is
reported as 0 with `load_threshold=inf` (the bench measures capacity itself; with the default
CPU-based load, livekit-server refuses dispatches on a busy 2-core machine: "no servers available"),
and `BASELINE_AGENT_NAME` for explicit dispatch.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from livekit import rtc
from livekit.agents import (
    Agent,
    AgentServer,
    AgentSession,
    JobContext,
    JobExecutorType,
    RunContext,
    cli,
    function_tool,
    llm,
    room_io,
)
from livekit.agents.llm import ToolError
from livekit.plugins import openai
from openai.types.realtime.realtime_audio_input_turn_detection import ServerVad

GREETING = os.environ.get("BENCH_GREETING", "Hello from the bench.")
API = os.environ.get("BASELINE_API", "realtime")
if API not in ("realtime", "live"):
    raise SystemExit(f"BASELINE_API={API!r}: expected realtime or live")
CARD_SCHEMA = {
    "name": "show_card",
    "description": "Show a card on the user's screen.",
    "parameters": {
        "type": "object",
        "properties": {"title": {"type": "string"}},
        "required": ["title"],
        "additionalProperties": False,
    },
}


class BenchAgent(Agent):
    def __init__(self, room: rtc.Room, user: str) -> None:
        super().__init__(instructions="You are a benchmark agent.")
        self.room, self.user = room, user

    @function_tool(raw_schema=CARD_SCHEMA)
    async def show_card(self, raw_arguments: dict[str, Any], context: RunContext[Any]) -> str:
        try:
            return await self.room.local_participant.perform_rpc(
                destination_identity=self.user,
                method="show_card",
                payload=json.dumps(raw_arguments),
                response_timeout=3.0,
            )
        except rtc.RpcError as err:
            raise ToolError(f"show_card failed: {err.message}") from None


server = AgentServer(
    load_fnc=lambda _: 0.0,
    load_threshold=math.inf,
    port=0,
    # the bench's capacity figure runs both of livekit-agents' executors
    job_executor_type=JobExecutorType(os.environ.get("BASELINE_JOB_EXECUTOR", "process")),
)


def build_model() -> llm.RealtimeModel | llm.DuplexModel:
    """The model of `BASELINE_API`: realtime (the default) or live."""
    if API == "live":
        return openai.realtime.GPTLiveModel(voice="marin", delegation="responses")
    return openai.realtime.RealtimeModel(
        voice="marin",
        modalities=["audio"],
        turn_detection=ServerVad(type="server_vad", create_response=False, interrupt_response=False),
        input_audio_transcription=None,
    )


@server.rtc_session(agent_name=os.environ.get("BASELINE_AGENT_NAME", "baseline"))
async def entrypoint(ctx: JobContext) -> None:
    session: AgentSession[Any] = AgentSession(llm=build_model())
    await ctx.connect()
    user = await ctx.wait_for_participant()
    await session.start(
        BenchAgent(ctx.room, user.identity),
        room=ctx.room,
        room_options=room_io.RoomOptions(participant_identity=user.identity),
    )
    session.generate_reply(instructions=f"Say exactly this, and nothing else: {GREETING}")


if __name__ == "__main__":
    cli.run_app(server)
