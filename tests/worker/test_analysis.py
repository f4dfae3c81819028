"""Post-call analysis: the answer's checks (pure), and the out-of-band request against the simulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from worker.analysis import analyse, check, instructions, realtime_url, transcript_text
from worker.report import TranscriptLine
from worker.roles.analysis import Analysis
from worker.settings import Settings
from worker.simulator import Simulator, SimulatorConfig
from worker.simulator.scenario import Scenario

SPEC = Analysis.model_validate(
    {
        "summary": {"instructions": "Two sentences."},
        "data": {
            "instructions": "What the user chose.",
            "schema": {
                "type": "object",
                "properties": {"dish": {"type": "string"}, "servings": {"type": "integer", "minimum": 1}},
                "required": ["dish"],
            },
        },
        "success": {"criteria": ["The user chose a recipe.", "A timer was started."]},
    }
)
GOOD = {
    "summary": "The user chose pasta.",
    "data": {"dish": "pasta", "servings": 2},
    "success": [{"met": True, "reason": "pasta"}, {"met": False}],
}
LINES = [
    TranscriptLine(speaker="agent", text="Hello!", role="cook", at=1.0),
    TranscriptLine(speaker="user", text="  Pasta,\n please. ", role="cook", at=2.0),
]


@pytest.mark.unit
def test_a_good_answer_becomes_the_result_with_each_criterion_judged() -> None:
    result = check(SPEC, "```json\n" + json.dumps(GOOD) + "\n```")  # fenced, as models like to
    assert result.status == "ok" and result.summary == "The user chose pasta."
    assert result.data == {"dish": "pasta", "servings": 2}
    assert result.success is not None
    assert [(c.criterion, c.met, c.reason) for c in result.success] == [
        ("The user chose a recipe.", True, "pasta"),
        ("A timer was started.", False, ""),
    ]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ("The user chose pasta.", "the answer is not JSON"),
        (json.dumps({**GOOD, "data": {"servings": 0}}), "data: 'dish' is a required property"),
        (json.dumps({**GOOD, "data": {"dish": "pasta", "servings": 0}}), "data.servings: 0 is less than"),
        (json.dumps({**GOOD, "success": [{"met": True}]}), "success: [{'met': True}] is too short"),
        (json.dumps({"summary": "x", "data": {"dish": "y"}}), "'success' is a required property"),
    ],
)
def test_an_answer_that_breaks_the_schema_says_where(answer: str, error: str) -> None:
    from worker.analysis import AnalysisFailed

    with pytest.raises(AnalysisFailed) as caught:
        check(SPEC, answer)
    assert error in str(caught.value)
    assert caught.value.answer == answer


@pytest.mark.unit
def test_the_request_asks_for_every_declared_part_and_only_those() -> None:
    text = instructions(SPEC, "cook")
    assert '"summary"' in text and "Two sentences." in text
    assert '"data"' in text and '"servings"' in text and "What the user chose." in text
    assert "1. The user chose a recipe." in text and "2. A timer was started." in text
    only_summary = instructions(Analysis.model_validate({"summary": {}}), "cook")
    assert '"data"' not in only_summary and '"success"' not in only_summary
    assert transcript_text(LINES) == "agent: Hello!\nuser: Pasta, please."


@pytest.mark.unit
def test_the_realtime_url_follows_openai_base_url_as_livekit_does() -> None:
    assert realtime_url(Settings(), "gpt-realtime") == "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    sim = Settings(openai_base_url="http://127.0.0.1:8765/v1")
    assert realtime_url(sim, "m") == "ws://127.0.0.1:8765/v1/realtime?model=m"


SCENARIO = f"""
out_of_band:
  - metadata: {{rolecall: analysis, role: good}}
    json: {json.dumps(GOOD)}
  - metadata: {{rolecall: analysis, role: bad}}
    json: {{summary: 42}}
"""


@pytest.mark.integration  # the simulator on loopback
async def test_the_out_of_band_request_gets_the_simulators_scripted_answer(tmp_path: Path) -> None:
    config = SimulatorConfig(port=0, speech="tone", scenario=Scenario.from_yaml(SCENARIO))
    async with Simulator(config) as sim:
        settings = Settings(openai_base_url=sim.base_url, analysis_timeout_s=10.0)
        good = await analyse(SPEC, role="good", model="gpt-realtime", transcript=LINES, settings=settings)
        bad = await analyse(SPEC, role="bad", model="gpt-realtime", transcript=LINES, settings=settings)
        (create, _) = sim.received_of("response.create")
    assert good.status == "ok" and good.data == GOOD["data"] and good.summary == GOOD["summary"]
    assert good.usage is not None and good.usage.text_out > 0
    assert bad.status == "failed" and "summary: 42 is not of type 'string'" in bad.error
    assert bad.answer == '{"summary":42}'
    response = create["response"]
    assert response["conversation"] == "none" and response["output_modalities"] == ["text"]
    assert response["metadata"] == {"rolecall": "analysis", "role": "good"}
    assert "user: Pasta, please." in response["input"][0]["content"][0]["text"]
    assert sim.received_of("conversation.item.create") == []  # nothing entered a conversation


@pytest.mark.integration  # a silent server on loopback
async def test_a_model_that_never_answers_fails_the_analysis_within_the_timeout(tmp_path: Path) -> None:
    async def accept_and_stay_silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)  # the WebSocket handshake, never answered

    server = await asyncio.start_server(accept_and_stay_silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = Settings(openai_base_url=f"http://127.0.0.1:{port}/v1", analysis_timeout_s=0.5)
    async with server:
        result = await analyse(SPEC, role="good", model="m", transcript=LINES, settings=settings)
    assert result.status == "failed" and result.error == "no answer within 0.5 s"


@pytest.mark.unit
async def test_nothing_said_is_nothing_to_analyse() -> None:
    result = await analyse(SPEC, role="good", model="m", transcript=[], settings=Settings())
    assert result.status == "skipped"
