"""HMAC-SHA256 signatures of the requests `http` tools send to app backends.

Header format, in the style of Stripe's: `X-RoleCall-Signature: t=<unix seconds>,v1=<hex>,v2=<hex>`.

- `v2` = HMAC-SHA256(secret, f"{t}.{METHOD}.{path}.{idempotency key}.".encode() + body): it covers the
  method, the path (with its query), the call's `Idempotency-Key` header and the body, so a captured
  request cannot be sent to another endpoint or with another key. `verify_request` checks it.
- `v1` = HMAC-SHA256(secret, f"{t}.".encode() + body): the body only, kept for backends written before
  `v2` (`verify`). New backends should check `v2`.

The timestamp is signed too: both refuse signatures more than `max_age_s` (300 s) away from now, the
replay window. Within it a replayed request carries the same `Idempotency-Key`: a backend answers it
from what it stored for that key (or refuses it), so a state-changing tool never acts twice.
(The session webhook is signed differently, with Standard Webhooks: `worker.outbox.envelope`.)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from worker.errors import RoleCallError

SIGNATURE_HEADER = "X-RoleCall-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class SignatureError(RoleCallError):
    """A signature header is missing, malformed, stale or wrong."""


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The value of the signature header for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def sign_request(
    secret: str, *, method: str, path: str, idempotency_key: str, body: bytes, timestamp: int | None = None
) -> str:
    """The value of the signature header of an http tool's request: `t`, `v1` and `v2`."""
    t = int(time.time()) if timestamp is None else timestamp
    v1 = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={v1},v2={_v2(secret, t, method, path, idempotency_key, body)}"


def _v2(secret: str, t: int, method: str, path: str, key: str, body: bytes) -> str:
    signed = f"{t}.{method.upper()}.{path}.{key}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify(
    secret: str, body: bytes, header: str | None, *, max_age_s: float = 300.0, now: float | None = None
) -> None:
    """Raise SignatureError unless `header` is a fresh, valid `v1` signature of `body` under `secret`.

    Any malformed header is a SignatureError (never another exception): exactly one `t` of 1 to 12
    digits, at least one `v1` of 64 lowercase hex digits. Several `v1` values are accepted, any one
    of which may match (a signer rotating its secret sends one per secret); other keys are ignored.
    """
    t, digests = _parse(header, "v1", max_age_s, now)
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    _compare(expected, digests, "signature does not match the body")


def verify_request(
    secret: str,
    header: str | None,
    *,
    method: str,
    path: str,
    idempotency_key: str | None,
    body: bytes,
    max_age_s: float = 300.0,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless `header` holds a fresh `v2` signature of this request under `secret`.

    `path` is the request's path with its query string, as the worker sent it (behind a proxy that
    rewrites paths: the original one). Malformed headers are SignatureErrors, as in `verify`.
    """
    if not idempotency_key:
        raise SignatureError(f"missing {IDEMPOTENCY_HEADER} header")
    t, digests = _parse(header, "v2", max_age_s, now)
    expected = _v2(secret, t, method, path, idempotency_key, body)
    _compare(expected, digests, "signature does not match the request (method, path, key or body)")


def _parse(header: str | None, scheme: str, max_age_s: float, now: float | None) -> tuple[int, list[str]]:
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    stamps: list[str] = []
    digests: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            stamps.append(value)
        elif key == scheme:
            digests.append(value)
    if len(stamps) != 1 or not _TIMESTAMP.fullmatch(stamps[0]):
        raise _malformed("one t of 1 to 12 digits", scheme)
    if not digests or not all(_DIGEST.fullmatch(d) for d in digests):
        raise _malformed(f"{scheme} of 64 lowercase hex digits", scheme)
    t = int(stamps[0])
    current = time.time() if now is None else now
    if abs(current - t) > max_age_s:
        raise SignatureError(
            f"signature timestamp is {int(current - t)} s away from now (max {int(max_age_s)} s)"
        )
    return t, digests


def _compare(expected: str, digests: list[str], mismatch: str) -> None:
    # Compare every value (no early exit), as bytes: the patterns made them ASCII.
    matches = [hmac.compare_digest(expected.encode(), d.encode()) for d in digests]
    if not any(matches):
        raise SignatureError(mismatch)


# re.ASCII: `\d` alone would also accept other scripts' digits, which int() reads.
_TIMESTAMP = re.compile(r"\d{1,12}", re.ASCII)
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _malformed(need: str, scheme: str = "v1") -> SignatureError:
    return SignatureError(
        f"malformed {SIGNATURE_HEADER} header (expected t=<unix time>,{scheme}=<hex>): needs {need}"
    )
