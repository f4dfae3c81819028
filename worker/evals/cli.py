"""`python -m worker eval [ROLE or FILE ...] [--live] [--api realtime|live] [--repeat N] [--report FILE]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any

from worker.evals.model import EVALS_DIR, EvalFileError, LoadedEval, eval_files, load_eval
from worker.evals.report import render_text, write_reports
from worker.evals.runner import EvalResult, run_eval, settings_from_env
from worker.roles.registry import ROLES_DIR_ENV, default_roles_dir
from worker.settings import SettingsError


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `eval` command."""
    parser = subparsers.add_parser(
        "eval",
        help="run role evals (roles/evals/*.yaml) offline, or live against the model",
        description=(
            "Run the conversations of role eval files and check each turn's expectations. Offline "
            "(the default) a simulator acts the expected behaviour out, which checks the wiring: tools, "
            "argument schemas, handoffs, results reaching the model. --live uses the real model "
            "(OPENAI_API_KEY, or OPENAI_BASE_URL). Exit status 1 when any expectation fails."
        ),
    )
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="ROLE or FILE",
        help=f"role names (roles/{EVALS_DIR}/ROLE.yaml) or eval files; default: every eval file",
    )
    parser.add_argument("--live", action="store_true", help="run against the real model, not the simulator")
    parser.add_argument(
        "--api",
        choices=("realtime", "live"),
        default=None,
        help="run the roles on this OpenAI API: live runs each eval against the GPT-Live variant of its "
        "roles (`roles live-variant`), to compare it with the role files as written",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="run each conversation N times (pass rates)"
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="also write FILE.json and FILE.md (a .json or .md extension is replaced)",
    )
    parser.add_argument(
        "--roles-dir", default=None, help=f"roles directory (default: ${ROLES_DIR_ENV} or roles)"
    )
    parser.add_argument(
        "--turn-timeout", type=float, default=None, metavar="S", help="longest wait for one turn"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="show the worker's and livekit's logs")
    parser.set_defaults(func=_run)


def _targets(args: argparse.Namespace, roles_dir: str) -> tuple[list[str], list[str]]:
    """Eval file paths to run, and problems with the targets."""
    available = eval_files(roles_dir)
    if not args.targets:
        return list(available.values()), [] if available else [f"no eval files in {roles_dir}/{EVALS_DIR}"]
    paths, problems = [], []
    for target in args.targets:
        if os.path.isfile(target):
            paths.append(target)
        elif target in available:
            paths.append(available[target])
        else:
            names = ", ".join(available) or "(none)"
            problems.append(f"{target}: no such eval file or role with evals (roles with evals: {names})")
    return paths, problems


def _run(args: argparse.Namespace) -> int:
    # The report says what went wrong; the logs repeat it (tool failures) or are noise (the simulator).
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s"
    )
    if args.repeat < 1:
        print("--repeat: expected at least 1", file=sys.stderr)
        return 2
    try:
        options = settings_from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    options.roles_dir = args.roles_dir or default_roles_dir()
    options.live = args.live
    options.repeat = args.repeat
    options.turn_timeout_s = args.turn_timeout
    if options.live and not (options.openai_api_key or options.openai_base_url):
        print(
            "--live needs OPENAI_API_KEY (or OPENAI_BASE_URL pointing at a compatible server)",
            file=sys.stderr,
        )
        return 2
    paths, problems = _targets(args, options.roles_dir)
    if args.api == "live" and not problems:  # the same eval files, against the roles moved to GPT-Live
        options.roles_dir = _live_variant(options.roles_dir)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 2
    loaded: list[LoadedEval] = []
    results: list[EvalResult] = []
    for path in paths:
        try:
            loaded.append(load_eval(path))
        except EvalFileError as exc:
            results.append(
                EvalResult(
                    path, "?", "live" if options.live else "offline", "", errors=[str(e) for e in exc.errors]
                )
            )
    results += asyncio.run(_run_all(loaded, options))
    print(render_text(results), end="")
    if args.report:
        json_path, md_path = write_reports(results, args.report)
        print(f"reports: {json_path} {md_path}")
    return 0 if all(r.ok for r in results) else 1


def _live_variant(roles_dir: str) -> str:
    """The GPT-Live variant of `roles_dir`, in a temporary directory removed at exit."""
    import atexit
    import shutil
    import tempfile

    from worker.roles.live_variant import write_live_variant

    scratch = tempfile.mkdtemp(prefix="rolecall-live-")
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    target = os.path.join(scratch, "roles")
    write_live_variant(roles_dir, target)
    return target


async def _run_all(loaded: list[LoadedEval], options: Any) -> list[EvalResult]:
    return [await run_eval(item, options) for item in loaded]
