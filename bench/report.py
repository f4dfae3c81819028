"""Results on disk: `<timestamp>.json`, `latest.json`, `latest.md` and PNG plots."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from tests.support.livekit_server import ROOT


def machine() -> dict[str, Any]:
    """CPU, cores, Python and the versions that matter."""
    cpu = platform.processor()
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        m = re.search(r"model name\s*:\s*(.+)", cpuinfo)
        cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    server = ROOT / ".tools" / "bin" / "livekit-server"
    try:
        lk = subprocess.run([str(server), "--version"], capture_output=True, text=True, timeout=10).stdout
        lk_version = lk.strip().split()[-1]
    except (OSError, IndexError, subprocess.SubprocessError):
        lk_version = "unknown"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "livekit-agents": metadata.version("livekit-agents"),
        "livekit-plugins-openai": metadata.version("livekit-plugins-openai"),
        "livekit (rtc)": metadata.version("livekit"),
        "livekit-server": lk_version,
        "load_average_at_end": list(os.getloadavg()),
    }


def write(results: dict[str, Any], out: Path) -> list[Path]:
    """Write the timestamped JSON, `latest.json`, `latest.md` and the plots; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    doc = {"timestamp": stamp, "machine": machine(), **results}
    body = json.dumps(doc, indent=2, sort_keys=False) + "\n"
    paths = [out / f"{stamp}.json", out / "latest.json"]
    for p in paths:
        p.write_text(body)
    from bench import render

    md = out / "latest.md"
    md.write_text(render.markdown(doc))
    paths.append(md)
    paths += render.plots(doc, out)
    return paths
