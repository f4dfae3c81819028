"""`python -m worker start | dev | connect`: run the RoleCall agent worker through livekit-agents.

- `start`: production mode (JSON logs, health endpoint on ROLECALL_HEALTH_PORT, drain on SIGTERM).
- `dev`: development mode (coloured logs, live reload of role files into running sessions on).
- `connect --room NAME`: join one room directly, without a dispatch (for trying a role quickly).
Settings are read and checked before anything starts; a bad one is reported by name.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import logging
import os
import shutil
import sys
import tempfile
from typing import Any

from worker.settings import Settings, SettingsError

logger = logging.getLogger("rolecall")


def register(sub: Any) -> None:
    """Add the start, dev and connect commands."""
    for name, help_text in (
        ("start", "run the worker in production mode"),
        ("dev", "run the worker in development mode (live reload on)"),
        ("connect", "run one session in a given room, without a dispatch"),
    ):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "--log-level", default=None, help="DEBUG, INFO, WARNING or ERROR (default ROLECALL_LOG_LEVEL)"
        )
        if name == "connect":
            p.add_argument("--room", required=True, help="room to join")
            p.add_argument("--role", default=None, help="role to play (default ROLECALL_DEFAULT_ROLE)")
        p.set_defaults(func=_run, mode=name)


def _run(args: argparse.Namespace) -> int:
    # Before the settings: loading them imports modules that import prometheus-client, which picks its
    # multiprocess mode on import (metrics off: the folder stays empty).
    _metrics_folder()
    try:
        settings = Settings.load()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not settings.openai_api_key and not settings.openai_base_url:
        print(
            "error: OPENAI_API_KEY is required (or set OPENAI_BASE_URL to a simulator, e.g. "
            "http://127.0.0.1:8765/v1 with `python -m worker simulate`)",
            file=sys.stderr,
        )
        return 2
    from worker.roles import RoleRegistry

    registry = RoleRegistry(settings.roles_dir, policy=settings.role_policy())
    if not registry.names():
        print(
            f"error: no valid role in {settings.roles_dir} (run `python -m worker roles check`)",
            file=sys.stderr,
        )
        return 2
    from worker._livekit_compat import run_worker
    from worker.server import build_server

    if args.mode == "connect" and args.role:
        # The job has no dispatch metadata under `connect`: the default role is the one it plays.
        os.environ["ROLECALL_DEFAULT_ROLE"] = args.role
        settings = Settings.load()
    devmode = args.mode != "start"
    if settings.live_reload is None:
        # Job processes read their settings anew: make the mode's default explicit for them.
        os.environ["ROLECALL_LIVE_RELOAD"] = "true" if devmode else "false"
        settings = Settings.load()
    _share_last_valid_roles()
    if not settings.spool_dir.is_absolute():  # the job processes must find the same folder
        os.environ["ROLECALL_SPOOL_DIR"] = str(settings.spool_dir.resolve())
        settings = Settings.load()
    problem = _spool_problem(settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        server = build_server(settings, devmode=devmode)
    except OSError as exc:
        print(f"error: cannot listen on ROLECALL_HEALTH_PORT={settings.health_port}: {exc}", file=sys.stderr)
        return 2
    log_level = (args.log_level or settings.log_level).upper()
    if args.mode == "connect":
        return _connect(server, settings, args.room, log_level)
    json_logs = settings.log_format == "json" or (not settings.log_format and not devmode)
    run_worker(server, log_level=log_level, devmode=devmode, json_logs=json_logs)
    if server.health().livekit == "failed":
        # livekit-agents ends its run loop normally after its last retry; a supervisor (systemd's
        # Restart=on-failure, crash-loop alerts) needs a failing status to notice.
        logger.error(
            "gave up connecting to LiveKit at %s after %d attempts; exiting with status 1",
            settings.livekit_url,
            settings.livekit_max_retry,
        )
        return 1
    return 0


def _metrics_folder() -> str:
    """Give this worker's processes one private folder for their Prometheus metrics (unless one is set).

    prometheus-client picks its multiprocess mode when first imported (`PROMETHEUS_MULTIPROC_DIR` then
    set): this runs before anything imports it, which is why it is not in `worker.metrics`. /metrics on
    the health port reads every process's files (`worker.metrics.exposition`)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:  # ours, removed at exit (an operator's own folder is left alone)
        folder = tempfile.mkdtemp(prefix="rolecall-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        atexit.register(shutil.rmtree, folder, True)
    return folder


def _share_last_valid_roles() -> None:
    """Give this worker's processes one store of last valid role versions, removed when it exits."""
    from worker.roles._last_valid import STORE_DIR_ENV, create_store_dir

    if os.environ.get(STORE_DIR_ENV):
        return  # a parent (livekit-agents' dev-mode reloader) made one already
    store = create_store_dir()
    os.environ[STORE_DIR_ENV] = store
    atexit.register(shutil.rmtree, store, True)


def _spool_problem(settings: Settings) -> str | None:
    """Why the report spool cannot be used (checked before any session can need it)."""
    from worker.outbox import SpoolDir

    spool = SpoolDir.of(settings.spool_dir, settings.agent_name)
    try:
        spool.create()
        probe = spool.outbox / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return f"ROLECALL_SPOOL_DIR={settings.spool_dir}: cannot write session reports there ({reason})"
    return None


def _connect(server: Any, settings: Settings, room: str, log_level: str) -> int:
    """Run the worker unregistered and hand it one job for `room` (like livekit-agents' `connect`)."""
    from livekit import api

    logging.basicConfig(level=log_level)

    async def main() -> None:
        async def simulate() -> None:
            async with api.LiveKitAPI(
                settings.livekit_url, settings.livekit_api_key, settings.livekit_api_secret
            ) as lk:
                rooms = await lk.room.list_rooms(api.ListRoomsRequest(names=[room]))
                info = (
                    rooms.rooms[0]
                    if rooms.rooms
                    else await lk.room.create_room(api.CreateRoomRequest(name=room))
                )
            await server.simulate_job(
                room=room, fake_job=False, room_info=info, agent_identity=f"agent-connect-{os.getpid()}"
            )

        server.once("worker_started", lambda: asyncio.ensure_future(simulate()))
        await server.run(devmode=True, unregistered=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0
