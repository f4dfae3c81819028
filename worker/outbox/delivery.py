"""The worker's main process delivers every session's report from the spool, with retries for days.

`Outbox.run` looks at the outbox every `SCAN_INTERVAL_S`. A file whose lock it can take has no session
running any more (`worker.outbox.spool`): with a `final` record it is a finished session; without one its
process died, and a partial report (`end_reason: crashed`, `complete: false`) is sent instead. The first
look after the worker starts finds what a previous run left: sessions it never reported, reports it
never delivered.

Attempts follow `RetryPolicy`: at once, then after each delay of `ROLECALL_WEBHOOK_RETRY_S` (the last
repeating) until `ROLECALL_WEBHOOK_GIVE_UP_S` after the first; a new worker run tries every pending
report at once. A 2xx answer delivers; `410 Gone` stops for good; anything else (another status, a
timeout, no connection) waits for the next attempt; after the last one the file moves to `dead/` with an
ERROR log line. Every attempt sends the same event id and body, freshly signed. Nothing here runs in a
session's process or waits for one: delivery never slows a conversation. When the worker exits (after a
drain, say) it makes one last attempt at what is due, for at most `ROLECALL_WEBHOOK_TIMEOUT_S`; what is
still undelivered then waits in the spool for the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from worker.metrics import DeliveryStats
from worker.outbox.envelope import Signer
from worker.outbox.records import SpoolRecords, UnreadableSpoolFile
from worker.outbox.spool import Claim, SpoolDir, stale_tmp_files
from worker.pricing import AnyPrice, PriceTableError, load_prices
from worker.report import log_report
from worker.settings import Settings

logger = logging.getLogger("rolecall.outbox")

SCAN_INTERVAL_S = 0.5
CONCURRENT_ATTEMPTS = 4
CLEANUP_INTERVAL_S = 3600.0
TMP_MAX_AGE_S = 3600.0


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again: `delays_s` between attempts (the last repeats) for `give_up_s` in all."""

    delays_s: tuple[float, ...]
    give_up_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(settings.webhook_retry_delays(), settings.webhook_give_up_s)

    def next_at(self, attempts: list[dict[str, Any]]) -> float | None:
        """When the attempt after `attempts` is due (unix time); None when there is none left."""
        if not attempts:
            return 0.0
        first, last = float(attempts[0]["at"]), float(attempts[-1]["at"])
        delay = self.delays_s[min(len(attempts) - 1, len(self.delays_s) - 1)]
        due = last + delay
        return due if due - first <= self.give_up_s else None


@dataclass(frozen=True)
class Result:
    """One attempt: delivered, gone (410), or failed with `detail`."""

    status: int | None
    detail: str

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status == 410


class Outbox:
    """Delivers the reports of one spool (`run` for as long as the worker runs)."""

    def __init__(
        self, settings: Settings, *, spool: SpoolDir | None = None, http: aiohttp.ClientSession | None = None
    ) -> None:
        self.settings = settings
        self.spool = spool or SpoolDir.of(settings.spool_dir, settings.agent_name)
        self.policy = RetryPolicy.from_settings(settings)
        self.url = settings.webhook_url
        self.signer = (
            Signer(settings.webhook_secret, settings.webhook_secret_previous)
            if settings.webhook_url
            else None
        )
        self._tried: set[str] = set()
        """Event ids attempted by this run (a new run tries each pending one at once)."""
        self._not_before: dict[str, float] = {}
        self._busy: set[str] = set()
        self._retrying: set[str] = set()
        """Event ids whose last attempt failed, until delivered or given up on (`pending`)."""
        self._stats = DeliveryStats()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(CONCURRENT_ATTEMPTS)
        self._http = http
        self._own_http = http is None
        self._cleaned = 0.0
        self.events: Any = None
        """The live events' deliverer (`worker.events.EventOutbox`), when `ROLECALL_EVENTS_URL` is set."""
        if settings.events_url:
            from worker.events.delivery import EventOutbox  # it builds on this module

            self.events = EventOutbox(settings, http=http)
        self._streaming: asyncio.Task[None] | None = None

    def pending(self) -> int:
        """How many reports wait for another attempt after a failed one (`rolecall_reports_pending`)."""
        return len(self._retrying)

    def stats(self) -> DeliveryStats:
        """What this outbox did so far (`worker.metrics.DeliveryMetrics`)."""
        self._stats.pending = self.pending()
        return self._stats

    async def run(self) -> None:
        """Deliver until cancelled (then `aclose`); an attempt cut off is made again by the next run."""
        self.spool.create()
        if self.events is not None and self._streaming is None:
            self._streaming = asyncio.create_task(self.events.run(), name="rolecall.events")
        while True:
            try:
                await self.scan()
            except Exception:  # a bad file or a full disk must not stop the deliveries of the others
                logger.exception("looking at the report spool %s failed", self.spool.outbox)
            await asyncio.sleep(SCAN_INTERVAL_S)

    async def aclose(self) -> None:
        """Stop the attempts under way (their reports stay in the outbox) and close the HTTP client."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._streaming is not None:
            self._streaming.cancel()
            await asyncio.gather(self._streaming, return_exceptions=True)
            self._streaming = None
        if self.events is not None:
            await self.events.aclose()
        if self._own_http and self._http is not None:
            await self._http.close()
            self._http = None

    async def flush(self) -> None:
        """One last look, and the attempts it starts, before the worker exits (the caller bounds it)."""
        await self.scan()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def scan(self) -> None:
        """One look at the outbox: start an attempt for each report that is due."""
        now = time.time()
        if now - self._cleaned > CLEANUP_INTERVAL_S:
            self._cleaned = now
            await asyncio.to_thread(self.clean_up)
        for path in await asyncio.to_thread(self.spool.files, self.spool.outbox):
            event_id = path.name.removesuffix(".jsonl")
            if event_id in self._busy or self._not_before.get(event_id, 0.0) > now:
                continue
            claim = await asyncio.to_thread(Claim.take, path)
            if claim is None:
                continue  # its session is running (or another worker is delivering it)
            self._busy.add(event_id)
            task = asyncio.create_task(self._handle(claim, event_id), name=f"rolecall.outbox.{event_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _handle(self, claim: Claim, event_id: str) -> None:
        try:
            async with self._slots:
                await self.process(claim)
        except Exception:
            logger.exception("delivering session report %s failed", event_id)
            self._not_before[event_id] = time.time() + SCAN_INTERVAL_S * 20
        finally:
            # Here, not in a thread: unlocking and closing never block, and an `await` here would let
            # `aclose`'s cancellation return before the lock is let go (the file held by a task gone).
            claim.release()
            self._busy.discard(event_id)

    async def process(self, claim: Claim) -> None:
        """Decide what a claimed file needs, and do it (at most one attempt)."""
        try:
            records = SpoolRecords.parse(await asyncio.to_thread(claim.read))
        except UnreadableSpoolFile:
            logger.error(
                "spool file %s is unreadable (no start record); moved to %s", claim.path, self.spool.dead
            )
            await asyncio.to_thread(claim.move_to, self.spool.dead)
            return
        if records.outcome is not None:  # its move failed last time (a full disk): move it now
            folder = self.spool.dead if records.outcome == "dead" else self.spool.done
            await asyncio.to_thread(claim.move_to, folder)
            return
        event_id = records.event_id
        if not records.finished and records.crashed_at is None:
            await asyncio.to_thread(claim.append, "crashed", {"at": time.time()})
            records.crashed_at = time.time()
            logger.warning(
                "session %s ended without its report (its process died): reporting it from %d checkpoints",
                records.start.get("session_id"),
                len(records.checkpoints),
                extra={"session_id": records.start.get("session_id"), "event_id": event_id},
            )
            log_report(records.partial(self.prices()))  # its process died before it could log one
            self._stats.crashes += 1
        if self.signer is None:  # no webhook: the spool keeps it for `python -m worker reports`
            await asyncio.to_thread(self._finish, claim, "kept", {}, self.spool.done)
            return
        due = 0.0 if event_id not in self._tried else self.policy.next_at(records.attempts)
        if due is None:
            await self._dead_letter(claim, records, "no attempt left")
            return
        if due > time.time():
            self._not_before[event_id] = due
            return
        await self.attempt(claim, records)

    async def attempt(self, claim: Claim, records: SpoolRecords) -> Result:
        """One attempt at delivering, recorded in the file; the file moves on when it is over."""
        event = records.event(self.prices())
        event_id = records.event_id
        self._tried.add(event_id)
        result = await self.post(event_id, event.body())
        at = time.time()
        await asyncio.to_thread(
            claim.append, "attempt", {"at": at, "status": result.status, "error": result.detail}
        )
        records.attempts.append({"at": at, "status": result.status})
        number = len(records.attempts)
        outcome = "delivered" if result.delivered else "gone" if result.gone else "failed"
        self._stats.attempts[outcome] = self._stats.attempts.get(outcome, 0) + 1
        if outcome == "failed":
            self._retrying.add(event_id)
        else:
            self._retrying.discard(event_id)
        if result.delivered:
            await asyncio.to_thread(self._finish, claim, "delivered", {"attempts": number}, self.spool.done)
            logger.info(
                "session report %s delivered (attempt %d)", event_id, number, extra={"event_id": event_id}
            )
        elif result.gone:
            await asyncio.to_thread(self._finish, claim, "dead", {"reason": "410 Gone"}, self.spool.dead)
            self._stats.dead["gone"] = self._stats.dead.get("gone", 0) + 1
            logger.warning(
                "session report %s: the webhook answered 410 Gone; not sending it again (kept in %s)",
                event_id,
                self.spool.dead,
                extra={"event_id": event_id},
            )
        else:
            due = self.policy.next_at(records.attempts)
            if due is None:
                await self._dead_letter(claim, records, result.detail)
            else:
                self._not_before[event_id] = due
                logger.warning(
                    "session report %s: attempt %d failed (%s); next attempt in %.0f s",
                    event_id,
                    number,
                    result.detail,
                    max(0.0, due - at),
                    extra={"event_id": event_id},
                )
        return result

    async def post(self, event_id: str, body: bytes) -> Result:
        """POST the signed event once."""
        assert self.signer is not None
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return await post_signed(
            self._http, self.url, self.signer, event_id, body, self.settings.webhook_timeout_s
        )

    async def _dead_letter(self, claim: Claim, records: SpoolRecords, last: str) -> None:
        await asyncio.to_thread(self._finish, claim, "dead", {"reason": last}, self.spool.dead)
        self._stats.dead["exhausted"] = self._stats.dead.get("exhausted", 0) + 1
        self._retrying.discard(records.event_id)
        logger.error(
            "session report %s (session %s) dead-lettered after %d attempts (last: %s): it is in %s; "
            "send it again with: python -m worker reports resend %s",
            records.event_id,
            records.start.get("session_id"),
            len(records.attempts),
            last,
            self.spool.dead,
            records.event_id,
            extra={"event_id": records.event_id},
        )

    @staticmethod
    def _finish(claim: Claim, outcome: str, fields: Mapping[str, Any], folder: Path) -> None:
        claim.append(outcome, {"at": time.time(), **fields})
        claim.move_to(folder)

    def prices(self) -> dict[str, AnyPrice]:
        try:
            return load_prices(self.settings.prices_file)
        except PriceTableError:
            return load_prices(None)

    def clean_up(self) -> None:
        """Forget delivered and dead reports older than ROLECALL_SPOOL_KEEP_DAYS, and stale temp files."""
        cutoff = time.time() - self.settings.spool_keep_days * 86400
        for folder in (self.spool.done, self.spool.dead):
            for path in self.spool.files(folder):
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
        for path in stale_tmp_files(self.spool, TMP_MAX_AGE_S):
            with contextlib.suppress(OSError):
                os.unlink(path)


async def post_signed(
    http: aiohttp.ClientSession, url: str, signer: Signer, event_id: str, body: bytes, timeout_s: float
) -> Result:
    """POST one event, signed (Standard Webhooks), once: the report's outbox and the live events both."""
    try:
        async with http.post(
            url,
            data=body,
            headers=signer.headers(event_id, body),
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            allow_redirects=False,
        ) as resp:
            status = resp.status
    except TimeoutError:
        return Result(None, f"no answer within {timeout_s:g} s")
    except aiohttp.ClientError as exc:
        return Result(None, type(exc).__name__)
    return Result(status, f"HTTP {status}")
