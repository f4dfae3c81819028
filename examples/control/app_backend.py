"""An app backend in control of RoleCall sessions, with the Python standard library only.

It receives the worker's live events (ROLECALL_EVENTS_URL=http://HOST:PORT/events), verifies each one
(Standard Webhooks, with the worker's ROLECALL_WEBHOOK_SECRET), and acts on what it sees: when the
agent starts a timer (`tool.completed` of `start_timer`), it tells the agent through the control API
once the timer has run out, as the demo's web backend does.

    ROLECALL_API_URL=http://127.0.0.1:8080 ROLECALL_API_KEY=... ROLECALL_WEBHOOK_SECRET=... \
        python examples/control/app_backend.py 9000
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_URL = os.environ.get("ROLECALL_API_URL", "http://127.0.0.1:8080").rstrip("/")
API_KEY = os.environ["ROLECALL_API_KEY"]
SECRET = os.environ["ROLECALL_WEBHOOK_SECRET"]
MAX_AGE_S = 300
seen: set[str] = set()


def control(room: str, command: str, body: dict) -> dict:
    """POST one command (say, context, respond, handoff, end); the answer holds its command_id."""
    request = urllib.request.Request(
        f"{API_URL}/api/sessions/{urllib.parse.quote(room, safe='')}/{command}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def verify(headers, body: bytes) -> dict:
    """The event, if its Standard Webhooks signature is good and fresh; ValueError otherwise."""
    event_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(stamp)) > MAX_AGE_S:
        raise ValueError("stale event")
    key = base64.b64decode(SECRET[6:]) if SECRET.startswith("whsec_") else SECRET.encode()
    mac = hmac.new(key, f"{event_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(mac).decode()
    if not any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split()):
        raise ValueError("bad signature")
    return json.loads(body)


def on_event(event: dict) -> None:
    """What this app does with the events it gets."""
    data = event["data"]
    if event["type"] == "tool.completed" and data["name"] == "start_timer" and data["arguments"]:
        seconds, label = data["arguments"]["seconds"], data["arguments"]["label"]
        text = f"The user's timer {label!r} ({seconds} s) has just finished."
        threading.Timer(seconds, control, (event["room"], "context", {"text": text})).start()
    elif event["type"] == "control.failed":
        print(f"command {data['command_id']} failed: {data['detail']}", file=sys.stderr)


class Events(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            event = verify(self.headers, body)
        except (KeyError, ValueError):
            self.send_response(401)
            self.end_headers()
            return
        if event["id"] not in seen:  # a retry of an event already handled
            seen.add(event["id"])
            on_event(event)
        self.send_response(204)
        self.end_headers()


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Events)
    print("listening", flush=True)
    server.serve_forever()
