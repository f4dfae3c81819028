"""Live session events for the app backend: opt-in, signed, retried, in order per session.

model.py      the event types, their envelope (Standard Webhooks, like the report) and the type filter
log.py        `AppEvents`: a session's job process writes its events into the spool, never waiting
delivery.py   `EventOutbox`: the worker's main process delivers them, one session's events in order

A session's events go to `<ROLECALL_SPOOL_DIR>/<agent>/events/outbox/<report id>.jsonl`, one line each,
written with the report spool's `SpoolWriter` (one `write()` per event, no fsync on the event loop); the
main process reads each file as it grows and POSTs the events one at a time, so a slow receiver only
delays the events behind it, never the conversation.
"""

from worker.events.delivery import EventOutbox
from worker.events.log import AppEvents
from worker.events.model import EVENT_TYPES, LiveEvent, parse_filter

__all__ = ["EVENT_TYPES", "AppEvents", "EventOutbox", "LiveEvent", "parse_filter"]
