"""Which client sent a request: the peer address, or `X-Forwarded-For` when the peer is a trusted proxy.

A client can write any `X-Forwarded-For` it likes, so the header is read only when the direct peer is
in `ROLECALL_TRUSTED_PROXIES`, and then from the right: each trusted proxy appends the address it saw,
so the right-most address that is not a trusted proxy is the client (the entries left of it were
written by the client and are ignored). IPv6 clients are keyed by their /64, the block one subscriber
usually gets, so a rate limit cannot be dodged by cycling the low bits.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from worker.web.config import Network

UNKNOWN = "unknown"
MAX_KEY_CHARS = 64


def client_address(peer: str | None, forwarded_for: Iterable[str], trusted: tuple[Network, ...]) -> str:
    """The client's address for `peer` and the `X-Forwarded-For` header values (all of them, in order)."""
    peer_ip = _ip(peer)
    if peer_ip is None:
        return (peer or UNKNOWN)[:MAX_KEY_CHARS]
    if not _trusted(peer_ip, trusted):
        return str(peer_ip)
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    client = str(peer_ip)
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:
            # Written by whoever sits left of the last trusted proxy, i.e. by the client side.
            return hop[:MAX_KEY_CHARS]
        client = str(ip)
        if not _trusted(ip, trusted):
            return client
    return client  # every hop is a trusted proxy: the left-most one is as far as we can see


def rate_key(address: str) -> str:
    """The key a client's rate limit is kept under: the address, or its /64 for IPv6."""
    ip = _ip(address)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return address


def _ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:1.2.3.4 on a dual-stack socket is the IPv4 client 1.2.3.4
    return ip


def _trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: tuple[Network, ...]) -> bool:
    return any(ip.version == net.version and ip in net for net in trusted)
