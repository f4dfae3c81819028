"""`python -m worker sessions`: the control API from a terminal (an operator, or a script).

    python -m worker sessions list
    python -m worker sessions show ROOM [--json]
    python -m worker sessions say ROOM TEXT [--interrupt]
    python -m worker sessions context ROOM TEXT
    python -m worker sessions respond ROOM [--instructions TEXT]
    python -m worker sessions handoff ROOM ROLE [--var NAME=VALUE ...]
    python -m worker sessions end ROOM [--reason TEXT] [--goodbye TEXT]

It talks to the web backend at `ROLECALL_API_URL` (default http://127.0.0.1:8080) with the API key in
`ROLECALL_API_KEY` (a key of the backend's `ROLECALL_WEB_API_KEYS`). Exit codes: 0 done, 1 the API
refused (its error code and message on stderr), 2 a usage or connection problem.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from worker.errors import RoleCallError

DEFAULT_URL = "http://127.0.0.1:8080"
TIMEOUT_S = 15.0


class Refused(RoleCallError):
    """The API answered with an error."""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "sessions", help="running sessions: list, show, say, context, respond, handoff, end"
    )
    commands = parser.add_subparsers(dest="action", metavar="ACTION")
    commands.required = True
    commands.add_parser("list", help="running sessions")
    show = commands.add_parser("show", help="one session, with the tail of its transcript")
    show.add_argument("room")
    show.add_argument("--json", action="store_true", help="print the API's JSON")
    say = commands.add_parser("say", help="the agent says TEXT, word for word")
    say.add_argument("room")
    say.add_argument("text")
    say.add_argument("--interrupt", action="store_true", help="stop what the agent is saying first")
    context = commands.add_parser("context", help="add TEXT to the conversation, without a reply")
    context.add_argument("room")
    context.add_argument("text")
    respond = commands.add_parser("respond", help="the agent replies now")
    respond.add_argument("room")
    respond.add_argument("--instructions", help="what this reply should do")
    handoff = commands.add_parser("handoff", help="switch the session to ROLE")
    handoff.add_argument("room")
    handoff.add_argument("role")
    handoff.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a role variable")
    end = commands.add_parser("end", help="end the session (end_reason: app_ended)")
    end.add_argument("room")
    end.add_argument("--reason", help="why (for the log and the control.applied event)")
    end.add_argument("--goodbye", help="words the agent says before it leaves")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    key = os.environ.get("ROLECALL_API_KEY", "").strip()
    if not key:
        print("set ROLECALL_API_KEY to a key of the web backend's ROLECALL_WEB_API_KEYS", file=sys.stderr)
        return 2
    base = os.environ.get("ROLECALL_API_URL", "").strip() or DEFAULT_URL
    try:
        return _run(args, base.rstrip("/"), key)
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"cannot reach the web backend at {base} (ROLECALL_API_URL): {reason}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, base: str, key: str) -> int:
    if args.action == "list":
        sessions = _call(base, key, "GET", "/api/sessions")["sessions"]
        if not sessions:
            print("no running sessions")
        for s in sessions:
            user, state = s["participant"] or "-", s["agent_state"] or "-"
            print(f"{s['room']}  {s['role']}  {user}  {state}  {s['started_at']}")
        return 0
    room = urllib.parse.quote(args.room, safe="")
    if args.action == "show":
        detail = _call(base, key, "GET", f"/api/sessions/{room}")
        if args.json:
            print(json.dumps(detail, indent=2))
            return 0
        print(
            f"room {detail['room']}: role {detail['role']} ({detail['role_title']}), "
            f"user {detail['participant'] or '-'}, agent {detail['agent_state'] or '-'}, "
            f"started {detail['started_at']}"
        )
        for line in detail["transcript"]:
            print(f"  {line['speaker']}: {line['text']}")
        return 0
    body: dict[str, Any]
    if args.action == "say":
        body = {"text": args.text, "interrupt": args.interrupt}
    elif args.action == "context":
        body = {"text": args.text}
    elif args.action == "respond":
        body = {"instructions": args.instructions} if args.instructions else {}
    elif args.action == "handoff":
        body = {"role": args.role, "vars": dict(_var(v) for v in args.var)}
    else:
        body = {k: v for k, v in (("reason", args.reason), ("goodbye", args.goodbye)) if v}
    answer = _call(base, key, "POST", f"/api/sessions/{room}/{args.action}", body)
    print(f"{answer['command']} sent to {answer['room']}: {answer['command_id']}")
    return 0


def _var(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise ValueError(f"--var {text!r}: expected NAME=VALUE")
    try:
        value = json.loads(raw)  # numbers and booleans as such
    except ValueError:
        value = raw
    return name, value if isinstance(value, str | int | float | bool) else raw


def _call(base: str, key: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
            return answer
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read())["error"]
            raise Refused(f"{exc.code} {error['code']}: {error['message']}") from None
        except (ValueError, KeyError, TypeError):
            raise Refused(f"HTTP {exc.code} from {base}{path}") from None
