"""`worker_start_ms`: process start (just before `Popen`) → registered with the LiveKit server.

The signal is the worker's `registered worker` log record, written when livekit-agents handles the
server's `RegisterWorkerResponse`; its JSON `timestamp` is used (not when the bench saw the line).
LiveKit's server API has no call that lists registered workers, and the worker's health endpoint
(`/`) answers OK before registration, so neither is a better signal. ABAB per sample.
"""

from __future__ import annotations

from typing import Any

from bench.stack import Stack
from bench.stats import summarize


def run(stack: Stack, labels: tuple[str, ...], n: int) -> dict[str, Any]:
    samples: dict[str, list[float]] = {k: [] for k in labels}
    for _ in range(n):
        for label in labels:
            w = stack.worker(label)
            try:
                samples[label].append(w.start())
            finally:
                w.stop()
    out: dict[str, Any] = {k: summarize(v) for k, v in samples.items()}
    out["_samples"] = samples
    return out
