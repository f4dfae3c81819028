"""What role files may reach on this deployment: environment variables and private hosts.

Role authors are not operators. A role file names environment variables (`${NAME}` in an http tool's
headers, `secret_env`) and URLs; the operator decides which of those the worker will honour:

- RoleCall's own settings (`LIVEKIT_*`, `OPENAI_*`, `ROLECALL_*`) can never be sent in a header, whatever
  the operator allows; `secret_env` may name `ROLECALL_TOOL_SECRET` (the operator's tool signing key:
  it only signs, it is never sent) but no other of them (signing with the webhook key would make a
  signing oracle).
- The worker's own headers (`User-Agent`, `X-RoleCall-*`, ...) cannot be set by a role.
- Other names must be in the operator's allowlist (`ROLECALL_TOOL_ENV`, default `TOOL_*`).
- http tools do not call loopback, private, link-local and other non-public addresses, unless the
  operator allows the host (`ROLECALL_HTTP_PRIVATE_HOSTS`, and the host of `ROLECALL_APP_URL`).
- python tools name functions only in modules under the operator's prefixes
  (`ROLECALL_PYTHON_TOOL_MODULES`, default none).

`RolePolicy` carries the operator's part into the loader; this package never reads settings itself.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

RESERVED_ENV_PREFIXES = ("LIVEKIT_", "OPENAI_", "ROLECALL_")
"""RoleCall's own environment variables: never sent by a role file."""
SIGNING_KEY_ENV = "ROLECALL_TOOL_SECRET"
"""The one reserved name `secret_env` may use: the operator's tool signing key."""
DEFAULT_ENV_ALLOW = ("TOOL_*",)
"""`ROLECALL_TOOL_ENV`'s default."""
DEFAULT_PRIVATE_HOSTS = frozenset({"localhost"})
"""The host of `ROLECALL_APP_URL`'s default (`http://localhost:8080`)."""

WORKER_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "user-agent",
        "idempotency-key",
    }
)
"""Headers the worker sets on every http tool call, which a role may not set."""
WORKER_HEADER_PREFIX = "x-rolecall-"
"""The worker's identity and signature headers (room, session, participant, role, tool, signature)."""

_ENV_ENTRY = re.compile(r"^[A-Z_][A-Z0-9_]*\*?$")
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_worker_header(name: str) -> bool:
    """Whether the worker sets header `name` itself (any letter case), so a role may not."""
    lowered = name.lower()
    return lowered in WORKER_HEADERS or lowered.startswith(WORKER_HEADER_PREFIX)


def reserved_env(name: str, *, signing: bool = False) -> bool:
    """True when `name` is one of RoleCall's own variables (`signing`: as `secret_env`)."""
    if signing and name == SIGNING_KEY_ENV:
        return False
    return name.startswith(RESERVED_ENV_PREFIXES)


def reserved_env_message(name: str, *, signing: bool = False) -> str:
    """Why a role file may not reference `name` (a reserved name)."""
    if signing:
        return (
            f"{name} is one of RoleCall's own settings and cannot sign tool calls; use "
            f"{SIGNING_KEY_ENV} (the operator's tool signing key) or a variable allowed by ROLECALL_TOOL_ENV "
            "(default TOOL_*)"
        )
    return (
        f"{name} is one of RoleCall's own settings (LIVEKIT_*, OPENAI_*, ROLECALL_*); role files can never "
        "send those; reference a variable allowed by ROLECALL_TOOL_ENV (default TOOL_*)"
    )


def parse_env_allow(text: str) -> tuple[str, ...]:
    """`ROLECALL_TOOL_ENV` as entries (names, or prefixes ending in `*`)."""
    return tuple(entry.strip() for entry in text.split(",") if entry.strip())


def env_allow_problems(entries: tuple[str, ...]) -> list[str]:
    """What is wrong with allowlist `entries` (malformed, or able to match a reserved name)."""
    problems = []
    for entry in entries:
        if entry != "*" and not _ENV_ENTRY.fullmatch(entry):
            problems.append(f"{entry!r} is not a variable NAME or a PREFIX_* (A-Z, 0-9, _)")
            continue
        prefix = entry.removesuffix("*")
        wildcard = entry.endswith("*")
        if any(
            prefix.startswith(reserved) or (wildcard and reserved.startswith(prefix))
            for reserved in RESERVED_ENV_PREFIXES
        ):
            what = "could match" if wildcard else "is one of"
            problems.append(
                f"{entry!r} {what} RoleCall's own settings (LIVEKIT_*, OPENAI_*, ROLECALL_*), which role "
                "files can never reference; use a prefix of your own, like TOOL_*"
            )
    return problems


_MODULE_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def parse_modules(text: str) -> tuple[str, ...]:
    """`ROLECALL_PYTHON_TOOL_MODULES` as dotted module prefixes."""
    return tuple(entry.strip() for entry in text.split(",") if entry.strip())


def module_problems(entries: tuple[str, ...]) -> list[str]:
    """Entries of `ROLECALL_PYTHON_TOOL_MODULES` that are not dotted module names."""
    return [
        f"{entry!r} is not a dotted module name (like my_company.voice_tools)"
        for entry in entries
        if not _MODULE_PREFIX.match(entry)
    ]


def address_problem(address: IpAddress) -> str | None:
    """What kind of non-public address `address` is ("loopback", "private", ...); None when public."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(embedded)
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "shared (CGNAT)"
    if address.is_reserved:  # before is_private, which also covers 240.0.0.0/4
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "reserved"
    return None


def literal_address(host: str) -> IpAddress | None:
    """The address `host` spells out (including legacy IPv4 forms like 127.1), or None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    if host and all(ch in "0123456789abcdefx." for ch in host.lower()) and host[0].isdigit():
        try:  # what getaddrinfo would make of 127.1, 0x7f.1 or 2130706433
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def normal_host(host: str) -> str:
    """A host as compared with allowlists: lower case, no brackets or trailing dot, IPs canonical."""
    host = host.strip().lower().strip("[]").rstrip(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def parse_hosts(text: str) -> frozenset[str]:
    """A comma-separated list of hosts, each in `normal_host` form."""
    return frozenset(normal_host(h) for h in text.split(",") if h.strip())


_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$")


def host_problems(text: str) -> list[str]:
    """Entries of a comma-separated host list that are not a host name or an IP address."""
    bad = [h.strip() for h in text.split(",") if h.strip() and not _is_host(normal_host(h))]
    return [f"{entry!r} is not a host name or an IP address (no scheme, port or path)" for entry in bad]


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOST_NAME.match(host))
    return True


@dataclass(frozen=True)
class RolePolicy:
    """The operator's limits on what role files reference (see the module docstring).

    The default equals what a deployment with default settings builds: `TOOL_*` names, and only
    `localhost` (the default app backend) among private hosts.
    """

    env_allow: tuple[str, ...] = DEFAULT_ENV_ALLOW
    """Variable names, or prefixes ending in `*`, that role files may reference (`ROLECALL_TOOL_ENV`)."""
    private_hosts: frozenset[str] = DEFAULT_PRIVATE_HOSTS
    """Hosts (`normal_host` form) http tools may call although they are not public addresses."""
    python_modules: tuple[str, ...] = ()
    """Dotted module prefixes whose functions python tools may name (`ROLECALL_PYTHON_TOOL_MODULES`)."""

    def env_allowed(self, name: str) -> bool:
        """Whether the allowlist names `name` (reserved names aside: check `reserved_env` too)."""
        return any(
            name.startswith(entry[:-1]) if entry.endswith("*") else name == entry for entry in self.env_allow
        )

    def env_problem(self, name: str, *, signing: bool = False) -> str | None:
        """Why a role file may not reference variable `name` here (None: it may)."""
        if reserved_env(name, signing=signing):
            return reserved_env_message(name, signing=signing)
        if signing and name == SIGNING_KEY_ENV:
            return None
        if not self.env_allowed(name):
            return (
                f"{name} is not an environment variable role files may reference on this worker "
                f"(ROLECALL_TOOL_ENV: {', '.join(self.env_allow) or '(none)'})"
            )
        return None

    def module_problem(self, module: str) -> str | None:
        """Why a python tool may not name a function of `module` here (None: it may)."""
        if any(module == prefix or module.startswith(prefix + ".") for prefix in self.python_modules):
            return None
        allowed = ", ".join(self.python_modules) or "(none)"
        return (
            f"module {module} is not under a prefix the operator allows for python tools "
            f"(ROLECALL_PYTHON_TOOL_MODULES: {allowed})"
        )

    def host_problem(self, host: str) -> str | None:
        """Why an http tool URL naming `host` would be refused (None: allowed or a public name).

        Only what the URL text shows: a literal address or a `localhost` name. Names are checked again,
        on the addresses they resolve to, when the worker connects.
        """
        normal = normal_host(host)
        if normal in self.private_hosts:
            return None
        if normal == "localhost" or normal.endswith(".localhost"):
            return f"{host} is a loopback name"
        address = literal_address(normal)
        if address is None or str(address) in self.private_hosts:
            return None
        kind = address_problem(address)
        return None if kind is None else f"{host} is a {kind} address"
