"""Verify what a RoleCall worker sends your Python backend. Copy this file; it needs only the standard
library, and the `standardwebhooks` package for the session webhook.

    # An http tool's request (aiohttp: path=request.raw_path; Flask: request.full_path.rstrip("?");
    # Starlette: request.url.path + ("?" + request.url.query if request.url.query else "")):
    key = verify_tool_call(TOOL_SECRET, method="POST", path=path, headers=headers, body=raw_body)
    answer = calls.answer(key, lambda: do_the_work(json.loads(raw_body)))   # once per call

    # The session webhook (Standard Webhooks):
    event = verify_webhook(WEBHOOK_SECRET, headers, raw_body)
    if not already_seen(event["id"]): store(event["data"])                 # dedupe on the event id

Both need the raw body bytes as received, before any JSON parsing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

MAX_AGE_S = 300
"""The replay window: a signature more than this far from now is refused."""


class Refused(Exception):
    """The request is not from the worker, or not this request, or too old: answer 401."""


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    raise Refused(f"missing {name} header")


def verify_tool_call(
    secret: str,
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> str:
    """Check an http tool's `X-RoleCall-Signature` (v2); return the call's `Idempotency-Key`.

    v2 = hex HMAC-SHA256(secret, f"{t}.{METHOD}.{path}.{key}." + body), `path` with its query string
    exactly as in the request line.
    """
    key = _header(headers, "Idempotency-Key")
    fields = [part.strip().partition("=") for part in _header(headers, "X-RoleCall-Signature").split(",")]
    stamps = [value for name, _, value in fields if name == "t"]
    digests = [value for name, _, value in fields if name == "v2"]
    if len(stamps) != 1 or not re.fullmatch(r"[0-9]{1,12}", stamps[0]) or not digests:
        raise Refused("malformed X-RoleCall-Signature")
    t = int(stamps[0])
    if abs((time.time() if now is None else now) - t) > MAX_AGE_S:
        raise Refused("stale signature")
    signed = f"{t}.{method.upper()}.{path}.{key}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest().encode()
    if not any(hmac.compare_digest(expected, d.encode("ascii", "replace")) for d in digests):
        raise Refused("signature does not match this request")
    return key


class Calls:
    """Answers each tool call once: a retry (the same Idempotency-Key) gets the stored answer.

    Keep keys at least MAX_AGE_S (a replay older than that is refused anyway); use a shared store
    (a database table with a unique key) when the backend runs in several processes.
    """

    def __init__(self, keep_s: float = 24 * 3600) -> None:
        self.keep_s = keep_s
        self._answers: dict[str, tuple[float, Any]] = {}

    def answer(self, key: str, work: Callable[[], Any]) -> Any:
        now = time.time()
        self._answers = {k: v for k, v in self._answers.items() if now - v[0] < self.keep_s}
        if key not in self._answers:
            self._answers[key] = (now, work())
        return self._answers[key][1]


def verify_webhook(secret: str, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """The `session.ended` event, if its Standard Webhooks signature is good (else `Refused`).

    `secret` is ROLECALL_WEBHOOK_SECRET as the worker has it: `whsec_...`, or raw text.
    """
    from standardwebhooks import Webhook
    from standardwebhooks.webhooks import WebhookVerificationError

    hook = Webhook(secret) if secret.startswith("whsec_") else Webhook(secret.encode())
    try:
        event: dict[str, Any] = hook.verify(body, dict(headers))
    except (WebhookVerificationError, ValueError) as exc:
        raise Refused(str(exc)) from None
    return event
