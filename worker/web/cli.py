"""`python -m worker web`: serve the web backend until interrupted."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import AsyncIterator
from typing import Any

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
    configure_logging(settings)
    from worker.tracing import configure
    from worker.web.app import create_app  # after settings: a bad .env fails fast and cheaply
    from worker.web.serve import serve_forever

    configure(settings.otlp_endpoint, service="rolecall-web", content=False, livekit_agents=False)

    host = args.host or settings.web_host
    port = settings.web_port if args.port is None else args.port
    from worker.web.config import problems as web_problems

    if problems := web_problems(settings, host):  # also when --host overrides ROLECALL_WEB_HOST
        print(f"error: {SettingsError(problems)}", file=sys.stderr)
        return 2
    if not settings.tool_secret:
        logger.warning("ROLECALL_TOOL_SECRET is not set: POST /api/recipes/search answers 503")
    if not settings.web_static_dir.joinpath("index.html").is_file():
        logger.warning("no built demo app in %s: / shows how to build it", settings.web_static_dir)
    app = create_app(settings)
    if settings.web_metrics_port:
        app.cleanup_ctx.append(_metrics_listener(settings))
    try:
        serve_forever(
            app,
            host,
            port,
            on_ready=lambda bound: print(
                f"web backend listening on http://{_shown(host)}:{bound}", flush=True
            ),
        )
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    return 0


def _shown(host: str) -> str:
    return "localhost" if host in ("127.0.0.1", "0.0.0.0", "::1", "::", "localhost") else host


def configure_logging(settings: Settings) -> None:
    """Text lines, or one JSON object a line (`ROLECALL_LOG_FORMAT=json`, livekit-agents' formatter)."""
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if settings.log_format == "json":
        from worker._livekit_compat import use_json_logs

        use_json_logs()


def _metrics_listener(settings: Settings) -> Any:
    """`/metrics` on ROLECALL_WEB_METRICS_HOST:ROLECALL_WEB_METRICS_PORT for as long as the app runs."""

    async def listen(_: Any) -> AsyncIterator[None]:
        from worker.web.observe import serve_metrics

        runner = await serve_metrics(settings.web_metrics_host, settings.web_metrics_port)
        logger.info("metrics on http://%s:%d/metrics", settings.web_metrics_host, settings.web_metrics_port)
        yield
        await runner.cleanup()

    return listen
