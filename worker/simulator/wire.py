"""The two protocols the simulator serves, as what a connection needs from each.

`/v1/realtime` speaks the OpenAI Realtime protocol (`session.py`, `events.py`); `/v1/live/sessions`
speaks GPT-Live (`live_session.py`, `live_events.py`). A connection parses client frames, validates
server events and words refusals with its protocol's `Wire`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from worker.simulator.events import (
    ClientEvent,
    JsonDict,
    ProtocolError,
    error_event,
    parse_client_event,
    validate_server_event,
)
from worker.simulator.live_events import live_error_event, parse_live_client_event, validate_live_server_event


def _parse_realtime(data: str | bytes, max_bytes: int) -> ClientEvent:
    return parse_client_event(data, max_bytes=max_bytes)


def _parse_live(data: str | bytes, max_bytes: int) -> ClientEvent:
    return parse_live_client_event(data, max_bytes=max_bytes)


@dataclass(frozen=True)
class Wire:
    """One protocol: its endpoint, and how its events are parsed, validated and refused."""

    name: str
    path: str
    """The endpoint's path suffix, e.g. `/realtime`."""
    parse: Callable[[str | bytes, int], ClientEvent]
    validate: Callable[[JsonDict], list[str]]
    error_event: Callable[[ProtocolError], JsonDict]


REALTIME = Wire("realtime", "/realtime", _parse_realtime, validate_server_event, error_event)
LIVE = Wire("live", "/live/sessions", _parse_live, validate_live_server_event, live_error_event)
WIRES = (REALTIME, LIVE)
