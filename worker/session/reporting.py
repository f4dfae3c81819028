"""The session's report, from its first line to its last: checkpoints into the spool, then the report.

`open_spool` (step 3 of the flow) creates the session's spool file and makes the session record write
every piece into it as it comes (`worker.outbox.spool`): if this process dies, the worker's main process
still reports the session from it. `report` (step 6) builds the report, runs the role's post-call
analysis (bounded in time), logs the report and writes it as the file's `final` record; the main
process delivers it (`worker.outbox.delivery`), never this one, which is about to exit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from worker.analysis import analyse
from worker.outbox.spool import SpoolDir, SpoolWriter, new_event_id
from worker.report import AnalysisResult, SessionReport, log_report
from worker.roles import Role, RoleError
from worker.session.context import SessionContext
from worker.session.observe import SessionObserver
from worker.session.running import price_table
from worker.settings import Settings

logger = logging.getLogger("rolecall.session")


class SessionSpool:
    """The session's spool file (or, when it cannot be written, the reason the report will be late)."""

    def __init__(self, settings: Settings, start: dict[str, Any]) -> None:
        self.spool = SpoolDir.of(settings.spool_dir, settings.agent_name)
        self.event_id = new_event_id()
        self.start = start
        self.writer: SpoolWriter | None = None
        try:
            self.writer = SpoolWriter.open(self.spool, self.event_id, start)
        except OSError as exc:  # the session goes on; its report is written at the end if it can be
            logger.error("cannot start the session's spool file in %s: %s", self.spool.outbox, exc)

    def append(self, kind: str, fields: dict[str, Any]) -> None:
        """A checkpoint (the session record's journal)."""
        if self.writer is not None:
            self.writer.append(kind, fields)

    def finish(self, report: SessionReport) -> None:
        """The final record: the whole report (blocking; run it off the event loop)."""
        try:
            writer = self.writer or SpoolWriter.open(self.spool, self.event_id, self.start)
            writer.finish("final", {"report": report.model_dump(mode="json", fallback=repr)})
        except OSError as exc:
            logger.error(
                "cannot write session %s's report to the spool (%s): only the log has it",
                report.session_id,
                exc,
                extra={"session_id": report.session_id},
            )


def open_spool(ctx: SessionContext, role: Role) -> SessionSpool:
    """Start the session's spool file and checkpoint the record into it from now on."""
    record = ctx.record
    spool = SessionSpool(
        ctx.settings,
        {
            "agent": ctx.settings.agent_name,
            "session_id": ctx.session_id,
            "room": record.room,
            "participant": record.participant,
            "role": role.name,
            "role_version": role.version,
            "model": record.model,
            "backend_model": record.backend_model,
            "started_at": record.started_at,
            "analysis": role.analysis is not None,
        },
    )
    record.journal = spool.append
    logger.info(
        "session started: role %s version %s (report %s)",
        role.name,
        role.version,
        spool.event_id,
        extra={**ctx.log_extra, "role_version": role.version, "event_id": spool.event_id},
    )
    return spool


async def report(
    ctx: SessionContext,
    settings: Settings,
    job_reason: str,
    spool: SessionSpool,
    observer: SessionObserver | None = None,
) -> None:
    """Step 6: the report, with its analysis, to the log and into the spool for delivery."""
    await ctx.lifecycle.close()
    prices = price_table(settings.prices_file, ctx.log_extra)
    reason = ctx.lifecycle.final_reason(job_reason)
    session_report = ctx.record.finish(reason, prices)
    if observer is not None:
        observer.ended(reason)
    analysed = analysis_role(ctx)
    if analysed is not None and analysed.analysis is not None:
        # Should this process die during the analysis, the report keeps the end reason decided here.
        spool.append(
            "ended", {"end_reason": session_report.end_reason, "ended_at": time.time(), "analysis": True}
        )
        try:
            session_report.analysis = await analyse(
                analysed.analysis,
                role=analysed.name,
                model=ctx.record.model,
                transcript=session_report.transcript,
                settings=settings,
            )
        except Exception as exc:  # a bug of ours must not cost the report
            logger.exception("post-call analysis crashed", extra=ctx.log_extra)
            session_report.analysis = AnalysisResult(
                status="failed", error=f"internal error ({type(exc).__name__})"
            )
    await asyncio.to_thread(spool.finish, session_report)
    await asyncio.to_thread(ctx.app_events.ended, session_report)  # the live events' last
    log_report(session_report)


def analysis_role(ctx: SessionContext) -> Role | None:
    """The role whose analysis the session gets: the last role it played that declares one."""
    for name in reversed(dict.fromkeys(ctx.record.roles)):
        try:
            role = ctx.registry.get(name)
        except RoleError:
            continue
        if role.analysis is not None:
            return role
    return None
