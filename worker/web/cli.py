"""`python -m worker web`: serve the web backend until interrupted."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from aiohttp import web

from worker.settings import Settings, SettingsError

logger = logging.getLogger("rolecall.web")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `web` command."""
    p = subparsers.add_parser(
        "web",
        help="serve the web backend (session start, demo app, recipe API)",
        description="Serve the web backend: role list, session start with explicit agent dispatch, "
        "the cooking guide's recipe API and the built demo app. Settings come from the environment "
        "and .env (see README, 'The web backend').",
    )
    p.add_argument("--host", help="interface to bind (default $ROLECALL_WEB_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="TCP port (default $ROLECALL_WEB_PORT or 8080)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load settings, then serve until SIGINT/SIGTERM."""
    try:
        settings = Settings.load()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from worker.web.app import create_app  # after settings: a bad .env fails fast and cheaply

    host = args.host or settings.web_host
    port = settings.web_port if args.port is None else args.port
    if not settings.tool_secret:
        logger.warning("ROLECALL_TOOL_SECRET is not set: POST /api/recipes/search answers 503")
    if not settings.web_static_dir.joinpath("index.html").is_file():
        logger.warning("no built demo app in %s: / shows how to build it", settings.web_static_dir)
    try:
        web.run_app(
            create_app(settings),
            host=host,
            port=port,
            print=lambda *_: print(f"web backend listening on http://{_shown(host)}:{port}", flush=True),
            access_log_format='%a "%r" %s %b %Tfs',
        )
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    return 0


def _shown(host: str) -> str:
    return "localhost" if host in ("127.0.0.1", "0.0.0.0", "::1", "::", "localhost") else host
