"""One voice session, from dispatch to report (`worker.session.flow` reads top to bottom).

flow.py        entrypoint: role, model, session, user, run, report
assemble.py    build_session: the one factory (the worker's jobs and evals)
context.py     SessionContext: what a session's parts share, fixed at its start
lifecycle.py   Lifecycle: why and when it ends; the grace timer, limits, background tasks
agent.py       RoleAgent: a role acting in the session (greeting, live reload, handoffs)
running.py     the role's limits and live reload, beside the conversation
room.py        the session in its LiveKit room: the user coming and going, what the room may use
chat.py        typed chat from the user, capped
surface.py     what the agent participant serves in the room, and nothing more
page.py        telling the page what happens (`worker.protocol`)
pre_connect.py the page's pre-connect audio buffer, for roles that ask (the user's only, bounded)
control.py     commands from the app backend (control API), from the LiveKit server only
reporting.py   the session's spool file (checkpoints from the start) and its report, with the analysis
"""

from worker.session.assemble import BuiltSession, build_session
from worker.session.context import SessionContext
from worker.session.flow import entrypoint
from worker.session.lifecycle import Lifecycle, LimitHit, due_limit

__all__ = [
    "BuiltSession",
    "Lifecycle",
    "LimitHit",
    "SessionContext",
    "build_session",
    "due_limit",
    "entrypoint",
]
