"""HMAC-SHA256 signatures for what the worker POSTs to app backends (http tools, the session webhook).

Header format, in the style of Stripe's: `X-RoleCall-Signature: t=<unix seconds>,v1=<hex digest>`,
where the digest is HMAC-SHA256(secret, f"{t}.".encode() + body). The timestamp is signed so a
captured request cannot be replayed later; `verify` rejects signatures older than `max_age_s`.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-RoleCall-Signature"


class SignatureError(Exception):
    """A signature header is missing, malformed, stale or wrong."""


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The value of the signature header for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(
    secret: str, body: bytes, header: str | None, *, max_age_s: float = 300.0, now: float | None = None
) -> None:
    """Raise SignatureError unless `header` is a fresh, valid signature of `body` under `secret`."""
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise SignatureError(
            f"malformed {SIGNATURE_HEADER} header (expected t=<unix time>,v1=<hex>)"
        ) from None
    current = time.time() if now is None else now
    if abs(current - t) > max_age_s:
        raise SignatureError(
            f"signature timestamp is {int(current - t)} s away from now (max {int(max_age_s)} s)"
        )
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise SignatureError("signature does not match the body")
