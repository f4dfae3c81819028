"""`python -m worker simulate`: flags and the standalone server."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import re
import signal
import sys
from pathlib import Path

import pytest
from openai import AsyncOpenAI

from worker.simulator import Faults, SimulatorConfig
from worker.simulator.cli import config_from_args, fault_options, register

REPO = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser.parse_args(["simulate", *argv])


@pytest.mark.unit
def test_defaults_bind_loopback() -> None:
    config = config_from_args(parse())
    assert (config.host, config.port, config.scenario, config.strict) == ("127.0.0.1", 8765, None, True)


@pytest.mark.unit
def test_the_long_lived_server_keeps_no_event_records() -> None:
    """`make demo` and the compose profile run the CLI for hours; in-process (tests) keeps them all."""
    assert config_from_args(parse()).record is False
    assert (SimulatorConfig().record, SimulatorConfig().record_limit) == (True, None)


@pytest.mark.unit
def test_every_knob_has_a_flag() -> None:
    args = parse(
        "--scenario", str(REPO / "scenarios" / "demo.yaml"),
        "--connect-delay", "0.5", "--first-delta-delay", "0.2", "--delta-interval", "0.01",
        "--audio-pace", "0", "--drop-after-events", "7", "--drop-mid-response",
        "--error", "rate_limit", "--error-after", "2", "--close-code", "4000",
        "--no-strict", "--speech", "tone",
    )  # fmt: skip
    c = config_from_args(args)
    f = c.faults
    assert c.scenario is not None and not c.strict and c.speech == "tone"
    assert (f.connect_delay, f.first_delta_delay, f.delta_interval, f.audio_pace) == (0.5, 0.2, 0.01, 0.0)
    assert (f.drop_after_events, f.drop_mid_response, f.error, f.error_after_responses, f.close_code) == (
        7, True, "rate_limit", 2, 4000,
    )  # fmt: skip


@pytest.mark.unit
def test_the_fault_flags_are_the_faults_fields_documented_in_the_docs() -> None:
    """The flags are generated from `Faults`: one per field, its help the field's docstring."""
    options = fault_options()
    assert [o.field for o in options] == [f.name for f in dataclasses.fields(Faults)]
    by_field = {o.field: o for o in options}
    assert by_field["error_after_responses"].flag == "--error-after"
    assert (
        by_field["connect_delay"].argparse["help"]
        == "Seconds to wait before accepting a WebSocket handshake."
    )
    from docs.reference_pages import cli_page

    page = cli_page()  # docs/reference/cli.md, generated at build time
    for o in options:
        metavar = o.argparse.get("metavar")
        assert f"| `{o.flag}{' ' + metavar if metavar else ''}` | `{o.field}` |" in page


@pytest.mark.unit
def test_bad_scenario_exits_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("turns:\n  - sya: hi\n")
    args = parse("--scenario", str(bad))
    assert args.func(args) == 2
    assert f"{bad}:2:5: turns.0.sya: unknown field" in capsys.readouterr().err


@pytest.mark.integration
async def test_standalone_server_serves_the_sdk() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "worker", "simulate", "--port", "0", "--log-level", "warning",
        "--scenario", str(REPO / "scenarios" / "demo.yaml"),
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        match = re.search(r"OPENAI_BASE_URL=(\S+)", line)
        assert match, line
        client = AsyncOpenAI(base_url=match.group(1), api_key="sim")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
            await conn.response.create()
            async for event in conn:
                if event.type == "response.output_text.done":
                    assert event.text.startswith("Hi! I'm your cooking guide.")
                if event.type == "response.done":
                    break
    finally:
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    assert proc.stderr is not None
    logged = (await proc.stderr.read()).decode()
    assert "does not validate" not in logged, logged  # every event it sent fits openai's types
