"""The web backend (`python -m worker web`): session start for the demo page, and the demo's app API.

    from worker.web import create_app
    from worker.web.serve import serve_forever
    serve_forever(create_app(Settings.load()), "127.0.0.1", 8080, on_ready=print)

`serve_forever` (what `python -m worker web` runs) adds deadlines for slow clients and a connection
cap that a bare `web.run_app` lacks.

See `worker.web.app` for the routes and README, "The web backend", for the contract and security model.
"""

from __future__ import annotations

import typing as _typing

from worker.web.errors import ApiError

if _typing.TYPE_CHECKING:
    from worker.web.app import MAX_BODY_BYTES, create_app

__all__ = ["MAX_BODY_BYTES", "ApiError", "create_app"]


def __getattr__(name: str) -> _typing.Any:
    # The app is imported on first use, not with the package: modules the app itself imports (the
    # control API's service uses `worker.web.admission`) can then be imported first without a cycle.
    if name in ("MAX_BODY_BYTES", "create_app"):
        from worker.web import app

        return getattr(app, name)
    raise AttributeError(f"module 'worker.web' has no attribute {name!r}")
