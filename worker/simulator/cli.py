"""`python -m worker simulate`: serve the simulator until interrupted."""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import dataclasses
import inspect
import itertools
import logging
import re
import signal
import sys
import textwrap
import typing
from dataclasses import dataclass
from typing import Any, Literal

from worker.simulator.faults import Faults
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
    for option in fault_options():
        g.add_argument(option.flag, dest=option.field, **option.argparse)
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
        faults=Faults(**{option.field: getattr(args, option.field) for option in fault_options()}),
    )


@dataclass(frozen=True)
class FaultOption:
    """The flag of one `Faults` field, read from the field's type, default and docstring."""

    field: str
    flag: str
    argparse: dict[str, Any]
    """Keyword arguments for `add_argument` (help, default, type or action, metavar, choices)."""


def fault_options() -> list[FaultOption]:
    """One option per `Faults` field, named by the "CLI `--flag METAVAR`" that ends its docstring."""
    docs = _attribute_docstrings(Faults)
    hints = typing.get_type_hints(Faults)
    defaults = Faults()
    options: list[FaultOption] = []
    for f in dataclasses.fields(Faults):
        doc = docs.get(f.name, "")
        match = re.search(r"\s*CLI `(--[a-z-]+)(?: ([A-Z]+))?`\.?$", doc)
        if match is None:
            raise RuntimeError(f"Faults.{f.name}: the docstring must end with CLI `--flag METAVAR`")
        flag, metavar = match.group(1), match.group(2)
        kind = [t for t in typing.get_args(hints[f.name]) if t is not type(None)] or [hints[f.name]]
        spec: dict[str, Any] = {"help": doc[: match.start()], "default": getattr(defaults, f.name)}
        if kind[0] is bool:
            spec["action"] = "store_true"
        elif typing.get_origin(kind[0]) is Literal:
            choices = typing.get_args(kind[0])
            listed = f"{spec['help'].rstrip('.')}: one of {', '.join(choices)}"
            spec |= {"choices": choices, "metavar": metavar, "help": listed}
        else:
            spec |= {"type": kind[0], "metavar": metavar}
        options.append(FaultOption(f.name, flag, spec))
    return options


def _attribute_docstrings(cls: type) -> dict[str, str]:
    """The string under each annotated attribute of `cls` (what pydantic's use_attribute_docstrings reads)."""
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0]
    assert isinstance(body, ast.ClassDef)
    docs: dict[str, str] = {}
    for node, after in itertools.pairwise(body.body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = " ".join(after.value.value.split())
    return docs


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
