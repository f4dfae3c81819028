"""The worker process: RoleCall's `AgentServer`, its health endpoint, and what runs beside the sessions.

`build_server` makes the livekit-agents server that runs `worker.job.entrypoint` (the session code of
`worker.session`, which this process does not import under the process executor) for every dispatch
to our agent name; `prewarm` loads the roles in each idle job process; `watch_roles` logs every role
edit in the worker's own process (and shares valid versions with the job processes). The same long-lived
process delivers every session's report from the spool (`worker.outbox.Outbox`), crash reports included.

The health endpoint: `GET /` on ROLECALL_HEALTH_PORT answers 503 while LiveKit is out of reach.
livekit-agents 1.8.9 serves a `/` health check of its own, but it turns 503 only once its connection
task has given up: 16 failed attempts with back-off, about two and a half minutes, after which the
worker process exits anyway. While it retries it says OK, although no job can reach the worker. A
load balancer or `docker compose` healthcheck should see the outage, so RoleCall serves this endpoint
on the health port instead and moves livekit-agents' own to a free port on loopback.

"Connected" means registered with the LiveKit server right now: a `worker_registered` event was seen
and the connection task is not reconnecting (read through `worker._livekit_compat.registration`;
`tests/deploy/test_worker_health.py` stops a real LiveKit server to hold this to account). A draining
worker (SIGTERM) stays healthy: it still serves its sessions and takes no new ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import math
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web
from livekit.agents import AgentServer, JobExecutorType, JobProcess, JobRequest
from livekit.agents.worker import ServerEnvOption

from worker._livekit_compat import LoadAwareServer, on_job_loop, registration
from worker.dispatch import DispatchError, DispatchRequest
from worker.job import PREWARMED_REGISTRY, SESSION_MODULE, entrypoint
from worker.metrics import ActiveSessions, DeliveryMetrics, DeliveryStats, exposition, role_label
from worker.outbox import Outbox
from worker.preopen import PREOPENED, Preopened, targets_for
from worker.roles import RoleChange, RoleError, RoleRegistry
from worker.settings import Settings

logger = logging.getLogger("rolecall.server")


@dataclass(frozen=True)
class HealthState:
    """What `GET /` reports (as JSON); `healthy` decides between 200 and 503."""

    healthy: bool
    livekit: str
    """`connected`, `connecting` (not yet registered, or reconnecting) or `failed` (gave up)."""
    draining: bool
    active_sessions: int
    max_sessions: int
    reason: str = ""


class RoleCallServer(LoadAwareServer):
    """An `AgentServer` that also serves RoleCall's health endpoint for as long as it runs (and counts a
    pending job as one session in its load: `worker._livekit_compat.LoadAwareServer`).

    The port is bound here, at construction, so a taken port is an `OSError` the command line reports
    before anything starts (rather than a failure inside livekit-agents' run loop).
    """

    def __init__(
        self,
        *,
        health_host: str,
        health_port: int,
        max_sessions: int,
        session_weight: float,
        metrics: bool = False,
        role_names: Callable[[], list[str]] | None = None,
        outbox: Outbox | None = None,
        **kwargs: Any,
    ) -> None:
        # livekit-agents' own status server (`/`, `/worker`: agent name, version, jobs, load) binds every
        # interface by default; nothing outside needs it, RoleCall's endpoint below is the health check.
        super().__init__(host="127.0.0.1", **kwargs)
        self.session_weight = session_weight
        """The load one session adds (what `load_fnc` reports per active session)."""
        self._health_sock = socket.create_server((health_host, health_port))
        self.health_port: int = self._health_sock.getsockname()[1]
        """Port of the endpoint (a free one when constructed with 0)."""
        self.max_sessions = max_sessions
        self._registered = False
        self._health_runner: web.AppRunner | None = None
        self.role_watcher: asyncio.Task[None] | None = None
        self.metrics = metrics
        """Whether `/metrics` is served beside the health check."""
        self._role_names = role_names or (lambda: [])
        self.outbox = outbox
        """Delivers the session reports (None: reports stay in the spool for another worker)."""
        self._delivering: asyncio.Task[None] | None = None
        self._closing = False
        self.on("worker_registered", self._on_registered)

    def _on_registered(self, *_: Any) -> None:
        self._registered = True

    def watch_roles(self, settings: Settings) -> None:
        """Start `watch_roles` for as long as the worker runs (kept referenced here)."""
        self.role_watcher = asyncio.create_task(watch_roles(settings), name="rolecall.watch_roles")

    def health(self) -> HealthState:
        """The worker's state right now."""
        link = registration(self)
        if link.failed:
            livekit, reason = "failed", "gave up connecting to LiveKit (the worker is exiting)"
        elif not self._registered or link.connecting:
            livekit, reason = "connecting", "not connected to LiveKit (connecting)"
        else:
            livekit, reason = "connected", ""
        return HealthState(
            healthy=livekit == "connected",
            livekit=livekit,
            draining=self.draining,
            active_sessions=len(self.active_jobs),
            max_sessions=self.max_sessions,
            reason=reason,
        )

    async def run(self, *, devmode: bool = False, unregistered: bool = False) -> None:
        """Serve the health endpoint and deliver reports (a previous run's too), then run the worker."""
        app = web.Application()
        app.router.add_get("/", self._health_handler)
        if self.metrics:
            app.router.add_get("/metrics", self._metrics_handler)
        self._health_runner = web.AppRunner(app, access_log=None)
        await self._health_runner.setup()
        # Before LiveKit: the reports a previous run left are delivered even while LiveKit is away.
        if self.outbox is not None:
            self._delivering = asyncio.create_task(self.outbox.run(), name="rolecall.outbox")
        try:
            await web.SockSite(self._health_runner, self._health_sock).start()
            logger.info("health endpoint listening on port %d", self.health_port)
            await super().run(devmode=devmode, unregistered=unregistered)
        finally:
            if not self._closing:  # `aclose` stops it, after one last attempt
                await self._stop_delivering()
            await self._health_runner.cleanup()

    def active_roles(self) -> list[str]:
        """The role of each session running now (a name from the roles folder, or `other`)."""
        known = set(self._role_names())
        roles = []
        for job in self.active_jobs:
            try:
                name = DispatchRequest.parse(job.job.metadata).role
            except DispatchError:
                name = ""
            roles.append(role_label(name, known))
        return roles

    async def _metrics_handler(self, _: web.Request) -> web.Response:
        stats = self.outbox.stats if self.outbox is not None else DeliveryStats
        collectors = [ActiveSessions(self.active_roles), DeliveryMetrics(stats)]
        body, content_type = await asyncio.to_thread(exposition, collectors)
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def aclose(self) -> None:
        """Close the worker; then one last attempt at the reports of the sessions that just ended.

        livekit-agents awaits this after the drain and then cancels every task left, `run` included."""
        self._closing = True
        await super().aclose()
        if self.outbox is not None and self._delivering is not None and not self._delivering.done():
            # Bounded: whatever is still undelivered (or cut short) waits in the spool for the next run.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.flush(), self.outbox.settings.webhook_timeout_s + 1)
        await self._stop_delivering()

    async def _stop_delivering(self) -> None:
        task, self._delivering = self._delivering, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.outbox is not None:
            await self.outbox.aclose()

    async def _health_handler(self, _: web.Request) -> web.Response:
        state = self.health()
        return web.json_response(asdict(state), status=200 if state.healthy else 503)


PROCESS_START_TIMEOUT_S = 60.0
"""How long a new job process may take to start and prewarm. livekit-agents gives 10 s and then kills
it; on a saturated machine starting a process takes longer (`make soak` at 20 sessions on 2 cores:
"error initializing process", and a user who is never greeted)."""
PROCESS_SHUTDOWN_TIMEOUT_S = 30.0
"""How long a job process may take to end: the session's post-call analysis (ROLECALL_ANALYSIS_TIMEOUT_S)
and its report into the spool happen then (livekit-agents gives 10 s). A job killed at this limit is
still reported, from its checkpoints."""


PRELOADED_MODULES = [SESSION_MODULE]
"""Imported once in livekit-agents' forkserver (process executor), before its `gc.freeze`: every job
process forks with RoleCall's session code (and the libraries it pulls in: the MCP SDK, jsonschema,
YAML, OpenTelemetry; about 29 MB) already loaded and shares those pages instead of importing its own
copy. Importing them starts no thread and opens nothing, as a forkserver preload must (checked by hand:
one thread before and after); `tests/session/test_preopen.py` shows the forkserver holds them."""


LIVEKIT_TARGET_LOAD = 0.7
"""livekit-server stops sending jobs to a worker whose reported load reaches this (its default)."""


def build_server(settings: Settings, *, devmode: bool) -> RoleCallServer:
    """The livekit-agents server that runs `entrypoint` for every dispatch to our agent name.

    The load reported to LiveKit is active sessions over `max_sessions`, scaled to LiveKit's target
    load, rather than livekit-agents' default of machine-wide CPU: on a shared machine (LiveKit
    itself beside the worker) a CPU spike would otherwise make the server hold dispatches back for
    its 20 s retry although the worker has room.

    RoleCall's health endpoint (`RoleCallServer`) takes `health_port` under `start` (a free port under
    `dev`); livekit-agents' own, which stays OK while LiveKit is unreachable, moves to a free port.
    """

    def session_load(server: AgentServer) -> float:
        return min(1.0, LIVEKIT_TARGET_LOAD * len(server.active_jobs) / settings.max_sessions)

    server = RoleCallServer(
        health_host=settings.health_host,
        health_port=0 if devmode else settings.health_port,
        max_sessions=settings.max_sessions,
        session_weight=LIVEKIT_TARGET_LOAD / settings.max_sessions,
        metrics=settings.metrics,
        role_names=RoleRegistry(settings.roles_dir, policy=settings.role_policy()).names,
        outbox=Outbox(settings),
        load_fnc=session_load,
        load_threshold=ServerEnvOption(dev_default=math.inf, prod_default=LIVEKIT_TARGET_LOAD),
        ws_url=settings.livekit_url,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret,
        port=0,
        max_retry=settings.livekit_max_retry,
        drain_timeout=settings.drain_timeout_s,
        # One warm job process in dev too: a dispatch need not wait for a process to start.
        num_idle_processes=1 if devmode else settings.warm_processes(),
        setup_fnc=prewarm,
        preload_modules=PRELOADED_MODULES,
        job_executor_type=JobExecutorType(settings.job_executor),
        initialize_process_timeout=PROCESS_START_TIMEOUT_S,
        shutdown_process_timeout=PROCESS_SHUTDOWN_TIMEOUT_S,
    )
    if settings.job_executor == JobExecutorType.THREAD.value:  # jobs run here: import now, not at the first
        importlib.import_module(SESSION_MODULE)  # dispatch, on its greeting's path
    server.rtc_session(entrypoint, agent_name=settings.agent_name, on_request=accept_job)
    server.once("worker_started", lambda: server.watch_roles(settings))
    return server


async def watch_roles(settings: Settings) -> None:
    """In the worker's own process: load every saved edit and log what it did to each role.

    Each valid version this loads goes into the store shared with job processes (see
    `worker.roles._last_valid`), so a session started after an invalid edit still gets the last valid
    version; each invalid edit is logged with its errors (by the registry) as soon as it is saved.
    """
    registry = RoleRegistry(settings.roles_dir, policy=settings.role_policy())
    try:
        async for change in registry.watch():
            if change.removed:
                logger.warning("role %s was deleted: new sessions cannot use it", change.name)
            elif change.ok:
                logger.info(
                    "role %s: version saved at %s in use for new sessions", change.name, _saved(change)
                )
    except Exception:  # a broken watcher must not take the worker down; sessions still read the files
        logger.exception("watching %s for role edits failed", settings.roles_dir)


def prewarm(proc: JobProcess) -> None:
    """Load every role in the idle job process, so that a job's lookup costs a few `stat`s, not a parse;
    and (ROLECALL_MODEL_PREOPEN) open a connection to each model the roles use (`worker.preopen`).

    The registry is stat-based, so a role edited after this still reaches the job (measured with
    `make bench`: a cold lookup is about 25 ms on the greeting's critical path).
    """
    try:
        loaded = Settings.load()
        registry = RoleRegistry(loaded.roles_dir, policy=loaded.role_policy())
        roles = []
        for name in registry.names():
            with contextlib.suppress(RoleError):
                roles.append(registry.get(name))
    except Exception:  # the job reports any real problem itself; prewarming is only an optimisation
        logger.exception("could not prewarm the role registry")
        return
    proc.userdata[PREWARMED_REGISTRY] = registry
    if loaded.model_preopen:
        try:
            preopened = Preopened(targets_for(roles, loaded), max_age_s=loaded.model_preopen_max_age_s)
        except Exception:  # e.g. livekit-agents renamed what `targets_for` reads: connect per job
            logger.exception("could not pre-open model connections")
            return
        proc.userdata[PREOPENED] = preopened
        on_job_loop(preopened.start)  # the job's event loop does not exist yet


def _saved(change: RoleChange) -> str:
    assert change.role is not None
    newest = max((os.stat(f).st_mtime for f in change.role.files if os.path.exists(f)), default=0.0)
    return time.strftime("%H:%M:%S", time.localtime(newest))


async def accept_job(request: JobRequest) -> None:
    """Accept every dispatch; a bad role is reported inside the room, where the user can see it."""
    await request.accept(name="RoleCall agent", identity=f"agent-{request.id}")
