"""Helper process for `reload_ms.next_session`: a warm `RoleRegistry` in another process.

For each line `VERSION` on stdin it polls `registry.get("bench")` (every 1 ms, as a new session's
lookup would) until the instructions carry that version, then prints `time.monotonic()` (the clock
is shared with the bench process on Linux). `python -m bench.reload_probe ROLES_DIR`.
"""

from __future__ import annotations

import sys
import time

from worker.roles import RoleRegistry


def main() -> None:
    registry = RoleRegistry(sys.argv[1])
    registry.get("bench")
    print("ready", flush=True)
    for line in sys.stdin:
        marker = f"version {line.strip()}."
        deadline = time.monotonic() + 10
        while marker not in registry.get("bench").instructions and time.monotonic() < deadline:
            time.sleep(0.001)
        print(time.monotonic() if time.monotonic() < deadline else "timeout", flush=True)


if __name__ == "__main__":
    main()
