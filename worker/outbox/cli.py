"""`python -m worker reports`: the pull fallback over the spool, for reports an app backend missed.

    python -m worker reports list [--since 2h] [--status pending|delivered|dead|all]
    python -m worker reports show ID             # the event as it is sent (ID: event id, session id or room)
    python -m worker reports resend ID [ID ...]  # back into the outbox, and one attempt now
    python -m worker reports resend --since 1d --status dead
    python -m worker reports secret              # a new whsec_ secret for ROLECALL_WEBHOOK_SECRET

It reads the same settings as the worker (`ROLECALL_SPOOL_DIR`, `ROLECALL_AGENT_NAME`, the webhook's).
A running worker may hold a file for a moment while it delivers it; `resend` then says so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from worker.settings import Settings, SettingsError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
STATUSES = ("pending", "delivered", "dead")


def register(sub: Any) -> None:
    """Add `reports` and its sub-commands."""
    p = sub.add_parser("reports", help="session reports in the spool: list, show, resend")
    cmds = p.add_subparsers(dest="action", metavar="ACTION")
    cmds.required = True
    for name, text in (("list", "one line per report"), ("resend", "deliver reports again")):
        c = cmds.add_parser(name, help=text, description=text)
        if name == "resend":
            c.add_argument("ids", nargs="*", metavar="ID", help="event id, session id or room")
        c.add_argument("--since", type=since, default=None, help="ended after: 30m, 2h, 3d, or an ISO time")
        c.add_argument("--status", choices=(*STATUSES, "all"), default="all")
        c.set_defaults(func=_run)
    show = cmds.add_parser("show", help="print one report's event as JSON")
    show.add_argument("ids", nargs=1, metavar="ID", help="event id, session id or room")
    show.set_defaults(func=_run, since=None, status="all")
    secret = cmds.add_parser("secret", help="print a new webhook secret (whsec_...)")
    secret.set_defaults(func=_run)


def since(text: str) -> float:
    """`--since`: a duration back from now (30m, 2h, 3d), an ISO date/time, or unix seconds."""
    found = _DURATION.match(text.strip())
    if found:
        return time.time() - float(found.group(1)) * _UNITS[found.group(2)]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a duration (30m, 2h, 3d), an ISO time (2026-12-01T10:00) or unix seconds"
        ) from None


def _run(args: argparse.Namespace) -> int:
    if args.action == "secret":
        from worker.outbox.envelope import new_secret

        print(new_secret())
        return 0
    try:
        settings = Settings.load(need_livekit=False)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from worker.outbox.spool import SpoolDir

    spool = SpoolDir.of(settings.spool_dir, settings.agent_name)
    entries = [e for e in _entries(spool, settings) if _wanted(e, args)]
    if args.action == "list":
        return _list(entries)
    matched = [e for e in entries if any(_matches(e, i) for i in args.ids)] if args.ids else entries
    if args.ids and not matched:
        print(f"error: no report matches {' '.join(args.ids)} in {spool.root}", file=sys.stderr)
        return 1
    if args.action == "show":
        for entry in matched:
            print(json.dumps(entry["event"], indent=2, ensure_ascii=False))
        return 0
    if not args.ids and args.since is None and args.status == "all":
        print("error: name the reports to resend (IDs, --since or --status)", file=sys.stderr)
        return 2
    return asyncio.run(_resend(settings, spool, [Path(e["path"]) for e in matched]))


def _entries(spool: Any, settings: Settings) -> list[dict[str, Any]]:
    from worker.outbox.delivery import Outbox
    from worker.outbox.records import SpoolRecords, UnreadableSpoolFile
    from worker.outbox.spool import Claim

    prices = Outbox(settings, spool=spool).prices()
    out = []
    for status, path in spool.all_files():
        try:
            raw = [json.loads(line) for line in path.read_bytes().splitlines() if _json_line(line)]
            records = SpoolRecords.parse([r for r in raw if isinstance(r, dict) and "t" in r])
        except (OSError, UnreadableSpoolFile):
            continue
        running = False
        if status == "pending" and not records.finished and records.crashed_at is None:
            claim = Claim.take(path)
            running = claim is None
            if claim is not None:
                claim.release()
        event = records.event(prices)
        out.append(
            {
                "path": str(path),
                "status": "running" if running else status,
                "event": json.loads(event.body()),
                "attempts": len(records.attempts),
                "records": records,
            }
        )
    return out


def _json_line(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _wanted(entry: dict[str, Any], args: argparse.Namespace) -> bool:
    data = entry["event"]["data"]
    if args.since is not None and (data["ended_at"] or data["started_at"]) < args.since:
        return False
    return bool(args.status == "all" or entry["status"] == args.status)


def _matches(entry: dict[str, Any], wanted: str) -> bool:
    data = entry["event"]["data"]
    return wanted in (entry["event"]["id"], data["session_id"], data["room"])


def _list(entries: list[dict[str, Any]]) -> int:
    head = ("event id", "status", "ended (UTC)", "reason", "lines", "tries")
    print("{:<37} {:<9} {:<20} {:<15} {:>5} {:>5}  session".format(*head))
    for e in entries:
        data = e["event"]["data"]
        at = data["ended_at"]
        ended = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S") if at else "-"
        reason = "-" if e["status"] == "running" else data["end_reason"] + ("" if data["complete"] else "*")
        print(
            f"{e['event']['id']:<37} {e['status']:<9} {ended:<20} {reason:<15} "
            f"{len(data['transcript']):>5} {e['attempts']:>5}  {data['session_id']}"
        )
    print(f"{len(entries)} report(s); * partial (the session's process ended without finishing)")
    return 0


async def _resend(settings: Settings, spool: Any, paths: list[Path]) -> int:
    """Back into the outbox (attempts counted anew), then one attempt each now when a webhook is set."""
    import aiohttp

    from worker.outbox.delivery import Outbox
    from worker.outbox.records import SpoolRecords
    from worker.outbox.spool import Claim

    failed = 0
    async with aiohttp.ClientSession() as http:
        outbox = Outbox(settings, spool=spool, http=http)
        for path in paths:
            claim = Claim.take(path)
            if claim is None:
                print(f"{path.name}: in use (its session runs, or a worker is delivering it); left alone")
                failed += 1
                continue
            try:
                claim.append("resend", {"at": time.time()})
                if claim.path.parent != spool.outbox:
                    claim.move_to(spool.outbox)
                records = SpoolRecords.parse(claim.read())
                if outbox.signer is None:
                    print(
                        f"{records.event_id}: back in the outbox (no ROLECALL_WEBHOOK_URL: a worker keeps it)"
                    )
                    continue
                result = await outbox.attempt(claim, records)
                print(f"{records.event_id}: {'delivered' if result.delivered else result.detail}")
                failed += 0 if result.delivered else 1
            finally:
                claim.release()
    return 1 if failed else 0
