"""The web backend (`python -m worker web`): session start for the demo page, and the demo's app API.

    from worker.web import create_app
    web.run_app(create_app(Settings.load()), port=8080)

See `worker.web.app` for the routes and README, "The web backend", for the contract and security model.
"""

from worker.web.app import MAX_BODY_BYTES, create_app
from worker.web.errors import ApiError

__all__ = ["MAX_BODY_BYTES", "ApiError", "create_app"]
