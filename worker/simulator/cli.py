"""`python -m worker simulate`: serve the simulator until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from worker.simulator.faults import ERROR_KINDS, Faults
from worker.simulator.scenario import Scenario, ScenarioError
from worker.simulator.server import Simulator, SimulatorConfig


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `simulate` command."""
    p = subparsers.add_parser(
        "simulate",
        help="serve the OpenAI Realtime protocol locally (no OpenAI key needed)",
        description="Serve the OpenAI Realtime WebSocket protocol at /v1/realtime for offline development.",
    )
    d = SimulatorConfig()
    f = Faults()
    p.add_argument("--host", default=d.host, help=f"interface to bind (default {d.host}, loopback)")
    p.add_argument(
        "--port", type=int, default=d.port, help=f"TCP port, 0 for any free one (default {d.port})"
    )
    p.add_argument("--scenario", metavar="FILE", help="scenario YAML scripting the conversation")
    p.add_argument(
        "--speech", choices=["auto", "espeak", "tone"], default=d.speech, help="reply audio engine"
    )
    p.add_argument(
        "--no-strict", action="store_true", help="do not validate outgoing events against openai types"
    )
    p.add_argument(
        "--max-event-bytes", type=int, default=d.max_event_bytes, help="largest client event accepted"
    )
    g = p.add_argument_group("latency and faults (per connection)")
    g.add_argument(
        "--connect-delay", type=float, default=f.connect_delay, metavar="S", help="delay before handshake"
    )
    g.add_argument(
        "--first-delta-delay",
        type=float,
        default=f.first_delta_delay,
        metavar="S",
        help="response.created to first delta",
    )
    g.add_argument(
        "--delta-interval", type=float, default=f.delta_interval, metavar="S", help="between text deltas"
    )
    g.add_argument(
        "--audio-pace",
        type=float,
        default=f.audio_pace,
        metavar="X",
        help="audio speed vs real time; 0 unpaced",
    )
    g.add_argument("--drop-after-events", type=int, metavar="N", help="drop after sending N server events")
    g.add_argument(
        "--drop-mid-response", action="store_true", help="drop after the first delta of the first response"
    )
    g.add_argument("--error", choices=ERROR_KINDS, help="answer a response.create with this error (once)")
    g.add_argument(
        "--error-after", type=int, default=0, metavar="N", help="responses that succeed before --error"
    )
    g.add_argument(
        "--close-code", type=int, metavar="CODE", help="drops send this close code instead of cutting TCP"
    )
    p.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """Build the configuration from parsed flags (raises ScenarioError for a bad scenario)."""
    return SimulatorConfig(
        host=args.host,
        port=args.port,
        scenario=Scenario.load(args.scenario) if args.scenario else None,
        speech=args.speech,
        strict=not args.no_strict,
        max_event_bytes=args.max_event_bytes,
        # A long-lived server keeps no event records: nothing in this process reads them, and
        # they would grow by about 5.5 MB per minute of audio.
        record=False,
        faults=Faults(
            connect_delay=args.connect_delay,
            first_delta_delay=args.first_delta_delay,
            delta_interval=args.delta_interval,
            audio_pace=args.audio_pace,
            drop_after_events=args.drop_after_events,
            drop_mid_response=args.drop_mid_response,
            error=args.error,
            error_after_responses=args.error_after,
            close_code=args.close_code,
        ),
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM."""
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = config_from_args(args)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(config))
    except OSError as exc:
        print(f"error: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(config: SimulatorConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with Simulator(config) as sim:
        print(
            f"simulator listening on {sim.ws_url} — point clients at it with "
            f"OPENAI_BASE_URL={sim.base_url} OPENAI_API_KEY=sim",
            flush=True,
        )
        await stop.wait()
