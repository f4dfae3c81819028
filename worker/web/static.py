"""Serves the built demo app (a Vite `dist/` folder), with the single-page-app fallback.

`lookup` is the "stay inside this folder" check, after starlette's `StaticFiles.lookup_path`: the
candidate is resolved (symlinks followed) and must still be inside the resolved root. Requests for
`/` and for unknown extension-less paths get `index.html` so client-side routes survive a reload; a
missing file with an extension (`/assets/gone.js`) is a 404, not HTML pretending to be JavaScript.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from aiohttp import web

from worker.web.errors import ApiError

INDEX = "index.html"
MISSING_BUILD_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RoleCall</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>RoleCall web backend</h1>
<p>The API is up (<a href="/api/health">/api/health</a>, <a href="/api/openapi.json">/api/openapi.json</a>),
but the demo app has not been built, so there is nothing to show here yet.</p>
<p>Run <code>make demo</code>, or build it yourself with <code>npm run build</code> in
<code>frontend/demo</code> (or point <code>ROLECALL_WEB_STATIC_DIR</code> at a built app).</p>
</body></html>
"""


def lookup(root: Path, url_path: str) -> Path | None:
    """The file under `root` that `url_path` names, or None when it does not exist or would escape.

    `url_path` is the already-decoded request path. Anything with `..`, a backslash, a NUL or a drive-like
    colon is refused outright; the resolve-and-compare check catches the rest (symlinks leading out).
    """
    relative = url_path.lstrip("/")
    if not is_safe(relative):
        return None
    try:
        base = root.resolve(strict=True)
        candidate = (base / relative).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


def _has_extension(url_path: str) -> bool:
    return "." in PurePosixPath(url_path).name


class StaticApp:
    """GET handler for every non-API path."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info.get("tail", "")
        index = lookup(self.root, INDEX)
        if index is None:
            if path in ("", INDEX):
                return web.Response(text=MISSING_BUILD_PAGE, content_type="text/html")
            raise ApiError(404, "not_found", "the demo app is not built (run `make demo` or `npm run build`)")
        found = lookup(self.root, path) if path else index
        if found is not None:
            response = web.FileResponse(found)
            # Vite fingerprints everything under assets/; the entry page must always be re-checked.
            immutable = found.parent.name == "assets" and found != index
            response.headers["Cache-Control"] = (
                "public, max-age=31536000, immutable" if immutable else "no-cache"
            )
            return response
        if _has_extension(path) or not is_safe(path):
            raise ApiError(404, "not_found", "no such file")
        response = web.FileResponse(index)
        response.headers["Cache-Control"] = "no-cache"
        return response


def is_safe(url_path: str) -> bool:
    """False for a path with `..`, `.`, a dot-file, a backslash, a colon or a NUL in it."""
    relative = url_path.lstrip("/")
    if "\x00" in relative or "\\" in relative or ":" in relative:
        return False
    return not any(part.startswith(".") for part in relative.split("/"))
