"""Suite-wide rules: every test carries exactly one kind marker, and CI tolerates no skips."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

KINDS = ("unit", "integration", "browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [item.nodeid for item in items if not any(item.get_closest_marker(k) for k in KINDS)]
    if unmarked:
        raise pytest.UsageError(
            "every test needs one of the markers "
            + ", ".join(KINDS)
            + "; unmarked:\n  "
            + "\n  ".join(unmarked)
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A skipped test in CI is a test that did not run: fail the run instead of hiding it.
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped and session.exitstatus == 0:
        session.exitstatus = 1
        if reporter is not None:
            reporter.write_line(f"CI=true: {skipped} test(s) skipped; every test must run in CI", red=True)


@pytest.fixture(autouse=True)
def _simulator_events_validate(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every simulator a test starts sends only events that validate against openai's types.

    (Simulators started by module-scoped stacks check the same when the stack stops.)
    """
    from worker.simulator import Simulator

    started: list[Simulator] = []
    original = Simulator.start

    async def start(self: Simulator) -> None:
        started.append(self)
        await original(self)

    monkeypatch.setattr(Simulator, "start", start)
    yield
    bad = [v for sim in started for v in sim.violations]
    assert not bad, f"the simulator sent events that do not validate: {bad[:3]}"


@pytest.fixture(scope="session")
def livekit_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real `livekit-server --dev` shared by the session's integration tests."""
    from tests.support.livekit_server import LiveKitServer

    server = LiveKitServer(log_path=tmp_path_factory.mktemp("livekit") / "livekit-server.log").start()
    yield server
    server.stop(force=True)
