"""The webhook event and its Standard Webhooks signature.

Every event is one JSON envelope, the same bytes on every attempt:

    {"type": "session.ended", "version": 1, "id": "evt_…", "created_at": "2026-12-01T10:00:00Z",
     "data": {…the SessionReport…}}

sent with the headers of Standard Webhooks (https://www.standardwebhooks.com):

    webhook-id: evt_…              the event's id, the same on every attempt: the receiver's idempotency key
    webhook-timestamp: 1764583200  this attempt's time (unix seconds); receivers refuse stale ones
    webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>

The `standardwebhooks` package signs. With two secrets (`ROLECALL_WEBHOOK_SECRET` and
`ROLECALL_WEBHOOK_SECRET_PREVIOUS`, while rotating) the header carries two signatures separated by a
space, and a receiver holding either one verifies.

A secret is either Standard Webhooks' own form, `whsec_` + base64 of the key bytes (24 to 64 bytes),
or any other text of at least `MIN_RAW_SECRET` characters, whose UTF-8 bytes are the key. A receiver
passes a `whsec_` secret to its library as it is, and a raw one as bytes (Python:
`Webhook(secret.encode())`; Node: `new Webhook(secret, {format: "raw"})`).
"""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field
from standardwebhooks import Webhook

from worker.report import SessionReport

EVENT_TYPE = "session.ended"
EVENT_VERSION = 1
SECRET_PREFIX = "whsec_"
MIN_RAW_SECRET = 16
"""Shortest raw (not `whsec_`) secret accepted, in characters."""
KEY_BYTES = (24, 64)
"""Standard Webhooks' key size, in bytes, for `whsec_` secrets."""


class SessionEnded(BaseModel):
    """The `session.ended` event: one per session, also for a session whose process died."""

    type: Literal["session.ended"] = "session.ended"
    version: Literal[1] = 1
    """Of the envelope and of `data`; a change that breaks receivers gets a new version."""
    id: str = Field(description="the event's id, also sent as webhook-id: stable across retries")
    created_at: str = Field(description="when the session ended (or its crash was found), RFC 3339 UTC")
    data: SessionReport

    def body(self) -> bytes:
        """The JSON bytes sent (the same on every attempt)."""
        return self.model_dump_json().encode()


def rfc3339(unix: float) -> str:
    """`unix` seconds as RFC 3339 UTC with milliseconds, e.g. 2026-12-01T10:00:00.000Z."""
    return datetime.fromtimestamp(unix, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def secret_problem(raw: str) -> str | None:
    """Why `raw` cannot be a webhook secret, or None when it can (no secret text in the message)."""
    if raw.startswith(SECRET_PREFIX):
        try:
            key = base64.b64decode(raw[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            return "a whsec_ secret must be whsec_ followed by base64"
        if not KEY_BYTES[0] <= len(key) <= KEY_BYTES[1]:
            return f"a whsec_ secret must hold {KEY_BYTES[0]} to {KEY_BYTES[1]} bytes, found {len(key)}"
        return None
    if len(raw) < MIN_RAW_SECRET:
        return (
            f"expected at least {MIN_RAW_SECRET} characters, or whsec_ + base64 of 24-64 random bytes "
            "(generate one with: python -m worker reports secret)"
        )
    return None


def secret_key(raw: str) -> bytes:
    """The HMAC key of a secret (`whsec_…`: its base64 bytes; anything else: its UTF-8 bytes)."""
    if raw.startswith(SECRET_PREFIX):
        return base64.b64decode(raw[len(SECRET_PREFIX) :], validate=True)
    return raw.encode()


def new_secret() -> str:
    """A fresh `whsec_` secret (32 random bytes)."""
    import secrets

    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class Signer:
    """Signs events with one or two secrets (the current one first)."""

    def __init__(self, *secrets: str) -> None:
        self._hooks = [Webhook(secret_key(s)) for s in secrets if s]
        if not self._hooks:
            raise ValueError("no webhook secret")

    def headers(self, event_id: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
        """The Standard Webhooks headers of one attempt at sending `body`."""
        at = int(time.time() if now is None else now)
        stamp = datetime.fromtimestamp(at, tz=UTC)
        text = body.decode()
        signatures = " ".join(h.sign(msg_id=event_id, timestamp=stamp, data=text) for h in self._hooks)
        return {
            "Content-Type": "application/json",
            "User-Agent": "RoleCall-worker",
            "webhook-id": event_id,
            "webhook-timestamp": str(at),
            "webhook-signature": signatures,
        }
