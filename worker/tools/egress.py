"""Where `http` tools may connect: public addresses, and the non-public hosts the operator allows.

A role fixes its tools' URLs, but role authors are not operators: unchecked, a role could reach the
cloud metadata service (169.254.169.254), Redis on loopback or anything on the private network, and
read the answer back through the model. So http tools connect only to public addresses, except to the
hosts the operator lists (`ROLECALL_HTTP_PRIVATE_HOSTS`, and the host of `ROLECALL_APP_URL`).

The check runs on the addresses the connection uses: `GuardedResolver` filters what DNS answers, at
connection time, so a name that resolves (or re-resolves: DNS rebinding) to a private address is
refused like a literal one. aiohttp never asks the resolver about a literal IP host: `post_json` checks
those with `EgressPolicy.literal_problem`. Which kinds of address count as non-public is decided in
`worker.roles.policy.address_problem`, which `roles check` uses too.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from worker.roles.policy import address_problem, literal_address, normal_host

if TYPE_CHECKING:
    from worker.settings import Settings

logger = logging.getLogger("rolecall.http")


class EgressRefused(OSError):
    """A connection the address policy refuses; the text names the host and the kind of address."""


@dataclass(frozen=True)
class EgressPolicy:
    """The non-public hosts http tools may call (`normal_host` form); every public address is fine."""

    private_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressPolicy:
        """`ROLECALL_HTTP_PRIVATE_HOSTS` plus the host of `ROLECALL_APP_URL`."""
        return cls(settings.private_http_hosts())

    def allows_private(self, host: str) -> bool:
        """Whether the operator lets http tools call `host` at a non-public address."""
        return normal_host(host) in self.private_hosts

    def literal_problem(self, host: str) -> str | None:
        """Why a URL whose host is the literal address `host` is refused (None: a name, or allowed)."""
        if self.allows_private(host):
            return None
        address = literal_address(normal_host(host))
        if address is None or str(address) in self.private_hosts:
            return None
        kind = address_problem(address)
        return None if kind is None else _refused(host, kind, address)


def _refused(host: str, kind: str, address: Any) -> str:
    shown = f"{host!r}" if str(address) == normal_host(host) else f"{host!r} ({address})"
    return f"host {shown} is a {kind} address, which http tools may not call on this worker"


class GuardedResolver(AbstractResolver):
    """Resolves with `resolver` (aiohttp's default), then drops the addresses `policy` refuses."""

    def __init__(self, policy: EgressPolicy, resolver: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._resolver = resolver if resolver is not None else aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The public addresses of `host` (all of them for an allowed host); EgressRefused if none."""
        results = await self._resolver.resolve(host, port, family)
        if self.policy.allows_private(host):
            return results
        public: list[ResolveResult] = []
        refused: list[tuple[str, str]] = []
        for result in results:
            try:
                kind = address_problem(ipaddress.ip_address(result["host"]))
            except ValueError:
                kind = "unreadable"
            if kind is None:
                public.append(result)
            else:
                refused.append((kind, result["host"]))
        if refused:
            logger.warning(
                "http tools: %s resolves to %s; not called (ROLECALL_HTTP_PRIVATE_HOSTS would allow it)",
                host,
                ", ".join(f"{address} ({kind})" for kind, address in refused),
            )
        if not public:
            kind, address = refused[0] if refused else ("unknown", "no address")
            raise EgressRefused(_refused(host, kind, address))
        return public

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self._resolver.close()


def client_session(policy: EgressPolicy) -> aiohttp.ClientSession:
    """An aiohttp session for http tools that connects only where `policy` allows (no proxy)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=GuardedResolver(policy)))


def refusal(exc: BaseException) -> str | None:
    """The policy's reason when `exc` is a connection error caused by `GuardedResolver`, else None."""
    cause = getattr(exc, "os_error", None)
    return str(cause) if isinstance(cause, EgressRefused) else None
