"""RoleCall: a LiveKit agent worker toolkit for OpenAI Realtime voice agents.

Roles live in YAML files (`worker.roles`), tool calls reach the web frontend as LiveKit RPC, and a
built-in simulator (`worker.simulator`) stands in for the OpenAI Realtime service.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rolecall")
    """The installed distribution's version (pyproject.toml's; `@rolecall/client` has the same)."""
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"
