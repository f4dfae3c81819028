"""HMAC-SHA256 signatures for what the worker POSTs to app backends (http tools, the session webhook).

Header format, in the style of Stripe's: `X-RoleCall-Signature: t=<unix seconds>,v1=<hex digest>`,
where the digest is HMAC-SHA256(secret, f"{t}.".encode() + body). The timestamp is signed so a
captured request cannot be replayed later; `verify` rejects signatures older than `max_age_s`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from worker.errors import RoleCallError

SIGNATURE_HEADER = "X-RoleCall-Signature"


class SignatureError(RoleCallError):
    """A signature header is missing, malformed, stale or wrong."""


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The value of the signature header for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(
    secret: str, body: bytes, header: str | None, *, max_age_s: float = 300.0, now: float | None = None
) -> None:
    """Raise SignatureError unless `header` is a fresh, valid signature of `body` under `secret`.

    Any malformed header is a SignatureError (never another exception): exactly one `t` of 1 to 12
    digits, at least one `v1` of 64 lowercase hex digits. Several `v1` values are accepted, any one
    of which may match (a signer rotating its secret sends one per secret); other keys are ignored.
    """
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    stamps: list[str] = []
    digests: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            stamps.append(value)
        elif key == "v1":
            digests.append(value)
    if len(stamps) != 1 or not _TIMESTAMP.fullmatch(stamps[0]):
        raise _malformed("one t of 1 to 12 digits")
    if not digests or not all(_DIGEST.fullmatch(d) for d in digests):
        raise _malformed("v1 of 64 lowercase hex digits")
    t = int(stamps[0])
    current = time.time() if now is None else now
    if abs(current - t) > max_age_s:
        raise SignatureError(
            f"signature timestamp is {int(current - t)} s away from now (max {int(max_age_s)} s)"
        )
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest().encode()
    # Compare every value (no early exit), as bytes: the patterns above made them ASCII.
    matches = [hmac.compare_digest(expected, d.encode()) for d in digests]
    if not any(matches):
        raise SignatureError("signature does not match the body")


# re.ASCII: `\d` alone would also accept other scripts' digits, which int() reads.
_TIMESTAMP = re.compile(r"\d{1,12}", re.ASCII)
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _malformed(need: str) -> SignatureError:
    return SignatureError(
        f"malformed {SIGNATURE_HEADER} header (expected t=<unix time>,v1=<hex>): needs {need}"
    )
