"""Latency and fault knobs, for benchmarks and fault tests.

`SimulatorConfig.faults` is the template copied into each new connection; `Connection.faults` is
that connection's own copy, read at the moment each knob applies, so a test can arm a fault on a
live connection (`sim.connections[0].faults.drop_mid_response = True`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ErrorKind = Literal["rate_limit", "session_expired", "server_error", "insufficient_quota"]
ERROR_KINDS: tuple[ErrorKind, ...] = ("rate_limit", "session_expired", "server_error", "insufficient_quota")


@dataclass
class Faults:
    """Knobs that slow down or break a connection. Defaults: fast, real-time audio, no faults.

    Each field's docstring ends with its `simulate` flag, as in CLI `--flag METAVAR`: the CLI builds its
    options from these fields and docstrings, so a new knob gets its flag by being documented here.
    """

    connect_delay: float = 0.0
    """Seconds to wait before accepting a WebSocket handshake. CLI `--connect-delay S`."""
    first_delta_delay: float = 0.0
    """Seconds between `response.created` and the first content of the response.
    CLI `--first-delta-delay S`."""
    delta_interval: float = 0.02
    """Seconds between text deltas (one word each) in text replies. CLI `--delta-interval S`."""
    audio_pace: float = 1.0
    """Speed of audio streaming relative to real time: 1 real time, 4 four times faster, 0 as fast
    as possible (the text transcript follows the audio). CLI `--audio-pace X`."""
    drop_after_events: int | None = None
    """Drop the connection once it has sent this many server events. CLI `--drop-after-events N`."""
    drop_mid_response: bool = False
    """Drop the connection after the first delta of the next response (once). CLI `--drop-mid-response`."""
    error: ErrorKind | None = None
    """Answer a `response.create` with this error, once per connection. CLI `--error KIND`."""
    error_after_responses: int = 0
    """How many responses succeed on a connection before `error` fires. CLI `--error-after N`."""
    close_code: int | None = None
    """How drops end the socket: None cuts TCP without a close frame, a number sends a close frame
    with that code (e.g. 1011, 4000). CLI `--close-code CODE`."""

    def copy(self) -> Faults:
        """An independent copy (one per connection)."""
        return Faults(**vars(self))


def error_payload(kind: ErrorKind) -> dict[str, Any]:
    """The `error` object OpenAI sends for each kind (as seen from clients; codes as documented)."""
    if kind == "rate_limit":
        return {
            "type": "invalid_request_error",
            "code": "inference_rate_limit_exceeded",
            "message": "Rate limit reached for requests. Please try again later.",
        }
    if kind == "session_expired":
        return {
            "type": "invalid_request_error",
            "code": "session_expired",
            "message": "Your session hit the maximum duration of 60 minutes.",
        }
    if kind == "insufficient_quota":
        return {
            "type": "insufficient_quota",
            "code": "insufficient_quota",
            "message": "You exceeded your current quota, please check your plan and billing details.",
        }
    return {
        "type": "server_error",
        "code": None,
        "message": "The server had an error while processing your request. Sorry about that!",
    }
