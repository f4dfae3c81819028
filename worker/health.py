"""The worker's health endpoint: `GET /` on ROLECALL_HEALTH_PORT answers 503 while LiveKit is out of reach.

livekit-agents 1.8.9 serves a `/` health check of its own, but it turns 503 only once its connection
task has given up: 16 failed attempts with back-off, about two and a half minutes, after which the
worker process exits anyway. While it retries it says OK, although no job can reach the worker. A
load balancer or `docker compose` healthcheck should see the outage, so RoleCall serves this endpoint
on the health port instead and moves livekit-agents' own to a free port.

"Connected" means registered with the LiveKit server right now: a `worker_registered` event was seen
and the connection task is not reconnecting. That state is read from the `AgentServer`'s private
`_connecting` / `_connection_failed` flags through `worker._livekit_compat.registration` (livekit-agents
1.8.9 has no public signal for a lost connection); `tests/deploy/test_worker_health.py` stops a real
LiveKit server to hold this to account.

A draining worker (SIGTERM) stays healthy: it still serves its sessions and takes no new ones.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

from worker._livekit_compat import LoadAwareServer, registration

logger = logging.getLogger("rolecall.health")


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
        self.on("worker_registered", self._on_registered)

    def _on_registered(self, *_: Any) -> None:
        self._registered = True

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
        """Serve the health endpoint, then run the worker."""
        app = web.Application()
        app.router.add_get("/", self._health_handler)
        self._health_runner = web.AppRunner(app, access_log=None)
        await self._health_runner.setup()
        try:
            await web.SockSite(self._health_runner, self._health_sock).start()
            logger.info("health endpoint listening on port %d", self.health_port)
            await super().run(devmode=devmode, unregistered=unregistered)
        finally:
            await self._health_runner.cleanup()

    async def _health_handler(self, _: web.Request) -> web.Response:
        state = self.health()
        return web.json_response(asdict(state), status=200 if state.healthy else 503)
