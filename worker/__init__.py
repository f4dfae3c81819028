"""RoleCall: a LiveKit agent worker toolkit for OpenAI Realtime voice agents.

Roles live in YAML files (`worker.roles`), tool calls reach the web frontend as LiveKit RPC, and a
built-in simulator (`worker.simulator`) stands in for the OpenAI Realtime service.
"""

__version__ = "0.1.0"
