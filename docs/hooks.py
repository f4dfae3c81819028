"""MkDocs hook: the reference pages are written from the code at build time (`docs/reference_pages.py`).

Generating them during the build, rather than committing their output, means they cannot go stale: a
changed setting, role field, route or command is in the next build, and a page that links to a name
that no longer exists fails the strict build (`make test`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

# Document this checkout's code, not whatever `worker` the environment has installed (an editable
# install may point at another checkout).
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from docs.reference_pages import PAGES  # noqa: E402

BENCH = ROOT / "bench" / "results"
"""The latest benchmark run (`make bench` commits `latest.md` and its plots): published as they are."""


def on_files(files: Files, config: Any) -> Files:
    """Add every generated reference page, and the latest benchmark results, to the build."""
    for path, write in PAGES.items():
        files.append(File.generated(config, path, content=write()))
    files.append(
        File.generated(
            config, "explanation/bench/latest.md", content=(BENCH / "latest.md").read_text("utf-8")
        )
    )
    for plot in ("latency.png", "capacity.png"):
        files.append(File.generated(config, f"explanation/bench/{plot}", content=(BENCH / plot).read_bytes()))
    return files
