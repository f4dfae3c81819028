"""Session reports that are never lost: a spool on disk, delivery with retries, crash reports, a pull CLI.

spool.py      the spool folders; `SpoolWriter` (a session's job process checkpoints into its file) and
              `Claim` (the main process holds a file while delivering it)
records.py    what a spool file says: the session's report, final or rebuilt from checkpoints
envelope.py   the `session.ended` event and its Standard Webhooks signature (two secrets while rotating)
delivery.py   `Outbox`: the main process's delivery loop (retries, 410, dead letters, crash reports)
cli.py        `python -m worker reports list|show|resend|secret`
"""

from worker.outbox.delivery import Outbox, RetryPolicy
from worker.outbox.envelope import SessionEnded, Signer
from worker.outbox.spool import SpoolDir, SpoolWriter, new_event_id

__all__ = ["Outbox", "RetryPolicy", "SessionEnded", "Signer", "SpoolDir", "SpoolWriter", "new_event_id"]
