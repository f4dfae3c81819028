"""The `python -m worker` command line: one sub-command per concept.

Each sub-command lives in the package that owns it and exposes `register(subparsers)`, which adds its
parser and sets `func(args) -> int`. Modules are imported only when their command runs, so
`python -m worker roles check` does not pay for importing the simulator or livekit-agents.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from worker import __version__

# command name -> (module that registers it, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "roles": ("worker.roles.cli", "check, list and describe role files"),
    "protocol": ("worker.protocol_ts", "the page protocol (worker/protocol.py) as TypeScript"),
    "simulate": ("worker.simulator.cli", "serve the OpenAI Realtime protocol locally (no OpenAI key needed)"),
    "start": ("worker.runner", "run the worker in production mode"),
    "dev": ("worker.runner", "run the worker in development mode (live reload on)"),
    "connect": ("worker.runner", "run one session in a given room, without a dispatch"),
    "web": ("worker.web.cli", "serve the web backend (session start, demo app, recipe API)"),
    "eval": ("worker.evals.cli", "run role evals (roles/evals/*.yaml): offline, or --live against the model"),
    "reports": ("worker.outbox.cli", "session reports in the spool: list, show, resend (the pull fallback)"),
    "sessions": ("worker.control.cli", "running sessions through the control API: list, show, say, end, ..."),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the parser; with `only`, import just that command's module."""
    parser = argparse.ArgumentParser(prog="python -m worker", description="RoleCall worker toolkit")
    parser.add_argument("--version", action="version", version=f"rolecall {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    registered: set[str] = set()
    for name, (module, help_text) in COMMANDS.items():
        if module in registered:
            continue
        if only is not None and COMMANDS[only][0] != module:
            sub.add_parser(name, help=help_text)
            continue
        importlib.import_module(module).register(sub)
        registered.add(module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a sub-command and return its exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in args_list if not a.startswith("-")), None)
    parser = build_parser(only=first if first in COMMANDS else None)
    args = parser.parse_args(args_list)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    code: int = func(args)
    return code
