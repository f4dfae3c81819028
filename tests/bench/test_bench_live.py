"""The GPT-Live figure's pure parts: reading GPT-Live's wire, onsets of its one output stream, the bench
role's GPT-Live twin, the baseline's model choice and the report's GPT-Live section."""

from __future__ import annotations

import base64
import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest

from bench.marks import SAMPLE_RATE, StreamOnsets, burst, first_loud
from bench.render import markdown
from bench.roles import GREETING, LIVE_ROLE, ROLE, write_roles_dir
from bench.tap import Tap, function_call_made, function_output_sent
from worker.roles import check_dir
from worker.simulator import Simulator
from worker.simulator.records import RecordedEvent

pytestmark = pytest.mark.unit

CHUNK = SAMPLE_RATE // 10  # the simulator's 100 ms output deltas
QUIET = np.zeros(CHUNK, dtype=np.int16)
LOUD = np.full(CHUNK, 8000, dtype=np.int16)


def _b64(pcm: np.ndarray) -> str:
    return base64.b64encode(pcm.astype("<i2").tobytes()).decode()


def test_stream_onsets_count_a_pause_in_sending_as_quiet() -> None:
    s = StreamOnsets()
    assert s.feed(10.0, QUIET) is None
    assert s.feed(10.1, LOUD) == pytest.approx(10.1)  # after 100 ms of quiet samples and the stream's start
    assert s.feed(10.2, LOUD) is None  # the same utterance, paced
    # the utterance was cut: the next one follows loud at once in the samples, but 0.5 s later in time
    assert s.feed(10.8, LOUD) == pytest.approx(10.8)
    # a pause shorter than the 150 ms of quiet an onset needs is not one
    assert s.feed(10.95, LOUD) is None
    b = np.concatenate([QUIET, burst(0.06)])
    assert StreamOnsets().feed(5.0, b) == pytest.approx(5.0 + (CHUNK + first_loud(burst(0.06))) / SAMPLE_RATE)


def _tap(sent: list[tuple[float, dict[str, Any]]], received: list[tuple[float, dict[str, Any]]]) -> Tap:
    sim = SimpleNamespace(
        sent=[RecordedEvent("c1", at, ev) for at, ev in sent],
        received=[RecordedEvent("c1", at, ev) for at, ev in received],
    )
    tap = Tap(cast(Simulator, sim))
    tap.poll()
    return tap


def test_tap_reads_gpt_lives_wire() -> None:
    call = {"type": "function_call", "call_id": "call_1", "name": "show_card", "arguments": "{}"}
    done = {"type": "response.output_item.done", "output_index": 0, "item": call}
    output = {"type": "function_call_output", "call_id": "call_1", "output": '{"ok": true}'}
    tap = _tap(
        sent=[
            (1.0, {"type": "response.event", "delegation_id": "d1", "event": done}),
            (2.0, {"type": "session.output_audio.delta", "delta": _b64(LOUD)}),
            (2.1, {"type": "session.output_audio.delta", "delta": _b64(LOUD)}),
        ],
        received=[
            (0.5, {"type": "session.start", "session": {}}),
            (0.6, {"type": "session.input_audio.append", "audio": _b64(QUIET)}),
            (0.7, {"type": "session.input_audio.append", "audio": _b64(burst(0.06))}),
            (1.03, {"type": "response.item.create", "item": output}),
        ],
    )
    assert tap.calls == {"call_1": ("c1", 1.0)}
    assert tap.outputs == {"call_1": 1.03}
    assert tap.input_onsets["c1"] == [0.7] and tap.input_samples["c1"] == CHUNK + len(burst(0.06))
    assert tap.reply_onsets["c1"] == [pytest.approx(2.0)]
    assert tap.first_event["c1"] == 0.5


def test_function_call_marks_on_both_wires_and_nothing_else() -> None:
    call = {"type": "function_call", "call_id": "call_9"}
    done = {"type": "response.output_item.done", "item": call}
    assert function_call_made(done) == "call_9"  # Realtime
    assert function_call_made({"type": "response.event", "event": done}) == "call_9"  # GPT-Live
    message_done = {"type": "response.output_item.done", "item": {"type": "message"}}
    assert function_call_made({"type": "response.event", "event": message_done}) is None
    assert function_call_made({"type": "response.event", "event": {"type": "response.created"}}) is None
    output = {"type": "function_call_output", "call_id": "call_9"}
    assert function_output_sent({"type": "conversation.item.create", "item": output}) == "call_9"
    assert function_output_sent({"type": "response.item.create", "item": output}) == "call_9"
    context = {"type": "message", "role": "user"}
    assert function_output_sent({"type": "response.item.create", "item": context}) is None


def test_the_live_bench_role_is_the_bench_role_on_gpt_live(tmp_path: Path) -> None:
    (live,) = check_dir(str(write_roles_dir(tmp_path / "live", live=True))).results
    (realtime,) = check_dir(str(write_roles_dir(tmp_path / "realtime"))).results
    assert live.role is not None and realtime.role is not None, (live.errors, realtime.errors)
    assert (live.role.name, realtime.role.name) == (LIVE_ROLE, ROLE)
    assert live.role.model.api == "live" and live.role.model.name == "gpt-live-1"
    assert live.role.model.voice == realtime.role.model.voice == "marin"
    assert live.role.greeting == realtime.role.greeting and live.role.greeting.say == GREETING
    assert live.role.tools == realtime.role.tools


def _baseline(monkeypatch: pytest.MonkeyPatch, api: str) -> ModuleType:
    monkeypatch.setenv("BASELINE_API", api)
    monkeypatch.setenv("OPENAI_API_KEY", "bench")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    path = Path(__file__).parents[2] / "bench" / "baseline_agent.py"
    spec = importlib.util.spec_from_file_location(f"baseline_agent_{api}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_the_baseline_runs_on_gpt_live_with_the_bench_roles_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from livekit.plugins import openai

    model = _baseline(monkeypatch, "live").build_model()
    assert isinstance(model, openai.realtime.GPTLiveModel)
    assert (model._opts.model, model._opts.voice, model._opts.delegation) == (
        "gpt-live-1",
        "marin",
        "responses",
    )
    assert model._opts.base_url == "http://127.0.0.1:9/v1"
    realtime = _baseline(monkeypatch, "realtime").build_model()
    assert isinstance(realtime, openai.realtime.RealtimeModel)
    with pytest.raises(SystemExit, match="BASELINE_API='gpt-live': expected realtime or live"):
        _baseline(monkeypatch, "gpt-live")


def test_latest_md_has_a_gpt_live_section_with_both_agents() -> None:
    lat = {"p50": 31.0, "p95": 40.0, "p99": 45.0, "n": 5, "failures": 0}
    live = {
        "tool_roundtrip_ms": {
            "rolecall": lat,
            "baseline": {**lat, "p50": 29.5, "failures": 1},
            "_samples": {},
        },
        "audio_in_ms": {"rolecall": {**lat, "missing": 0}, "baseline": {**lat, "missing": 2}, "_samples": {}},
        "greeting_ms": {"connect_delay_0ms": {"rolecall": lat, "baseline": lat, "_samples": {}}},
    }
    text = markdown({"live": live})
    section = text[text.index("## GPT-Live") :]
    assert "**GPT-Live tool_roundtrip_ms: function call sent → its output received" in section
    assert "| rolecall | 31.0 | 40.0 | 45.0 | 5 |  |" in section
    assert "| baseline | 29.5 | 40.0 | 45.0 | 5 | failures 1 |" in section
    assert "| baseline | 31.0 | 40.0 | 45.0 | 5 | missing 2 |" in section
    assert "**GPT-Live greeting_ms, connect delay 0ms: dispatch → first agent audio** (ms)" in section
    assert "raw_rpc" not in section
    assert "## GPT-Live" not in markdown({})
