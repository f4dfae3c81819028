"""`rolecall` as a real wheel: built from the sources, installed into a fresh virtual environment outside
the checkout, and run from another folder.

A file the package reads at run time but the wheel leaves out, a sub-package missing from the build, or
an import that only works because the checkout is the working directory fails here: the roles check,
the simulator answering a real client, and the web backend serving `/api/roles` and a recipe all run
from the installed package, in a folder that holds only copies of the starter roles and a scenario.
"""

from __future__ import annotations

import asyncio
import email
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
import urllib.request
import zipfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from openai import AsyncOpenAI

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
VERSION: str = PROJECT["version"]
# What a user's shell would not have: the checkout on the path, or RoleCall's settings.
LEAKS = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "ROLECALL_", "LIVEKIT_", "OPENAI_")


def run(cmd: list[str], cwd: Path, timeout: float = 600, env: dict[str, str] | None = None) -> str:
    """Run `cmd`; fail with its output when it exits non-zero. Returns stdout."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, (
        f"`{' '.join(cmd)}` exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    )
    return proc.stdout


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: none of the checkout's paths or RoleCall's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(LEAKS)}
    return {**env, **extra}


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    home: Path
    """A folder outside the checkout with copies of the starter roles (`roles/`) and `demo.yaml`."""

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)


def build_wheel(out: Path) -> Path:
    """The wheel of a copy of the sources (what a clean clone has: no build/, no egg-info, no caches)."""
    src = out / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "worker", src / "worker", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out / "wheels"), str(src)],
        out,
    )
    (wheel,) = (out / "wheels").glob("rolecall-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """The wheel, installed with constraints.txt into a fresh venv; a working folder beside it."""
    base = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(base)
    venv = base / "venv"
    run([sys.executable, "-m", "venv", str(venv)], base)
    run(
        [
            str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "-c", str(ROOT / "constraints.txt"), str(wheel),
        ],
        base,
        timeout=1500,
        env=user_env(),
    )  # fmt: skip
    home = base / "elsewhere"
    shutil.copytree(ROOT / "roles", home / "roles")
    shutil.copy(ROOT / "scenarios" / "demo.yaml", home / "demo.yaml")
    yield Installed(wheel, venv, home)


# --- what the wheel holds --------------------------------------------------------------------------


@pytest.mark.integration
def test_wheel_holds_the_package_its_data_and_complete_metadata(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as whl:
        names = set(whl.namelist())
        info = f"rolecall-{VERSION}.dist-info"
        meta = email.message_from_bytes(whl.read(f"{info}/METADATA"))
        entry_points = whl.read(f"{info}/entry_points.txt").decode()
    # Every file of the package, code and data (py.typed, web/recipes.json), and nothing else.
    package = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "worker").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert {"worker/py.typed", "worker/web/recipes.json"} <= package
    missing = package - names
    assert not missing, f"in worker/ but not in the wheel (package data?): {sorted(missing)}"
    extra = {n for n in names if not n.startswith(("worker/", f"{info}/"))}
    assert not extra, f"the wheel installs more than the package: {sorted(extra)}"
    assert "rolecall = worker.cli:main" in entry_points
    assert f"{info}/licenses/LICENSE" in names  # the Apache-2.0 text ships with the package

    assert meta["Name"] == "rolecall" and meta["Version"] == VERSION
    assert meta["Summary"] == PROJECT["description"]
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta["Requires-Python"] == ">=3.11"
    assert meta["Description-Content-Type"] == "text/markdown" and "# RoleCall" in meta.get_payload()
    classifiers = meta.get_all("Classifier") or []
    assert "Programming Language :: Python :: 3.11" in classifiers and "Typing :: Typed" in classifiers
    requires = meta.get_all("Requires-Dist") or []
    assert "livekit-agents[openai]==1.8.9" in requires  # exact pins, as in pyproject.toml
    assert not [r for r in requires if "extra ==" not in r and "==" not in r], requires


@pytest.mark.integration
def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Installed) -> None:
    where = run(
        [installed.bin("python"), "-c", "import worker; print(worker.__file__)"],
        installed.home,
        env=user_env(),
    )
    assert Path(where.strip()).is_relative_to(installed.venv), where
    assert (
        run([installed.bin("rolecall"), "--version"], installed.home, env=user_env())
        == f"rolecall {VERSION}\n"
    )
    assert run([installed.bin("python"), "-m", "worker", "--version"], installed.home, env=user_env()) == (
        f"rolecall {VERSION}\n"
    )


# --- the commands, from another folder -------------------------------------------------------------


@pytest.mark.integration
def test_roles_check_on_a_copy_of_the_starter_roles(installed: Installed) -> None:
    out = run([installed.bin("rolecall"), "roles", "check", "roles"], installed.home, env=user_env())
    for role in ("concierge", "cooking-guide", "sommelier"):
        assert re.search(rf"^ok  {role}\s", out, re.M), out


@asynccontextmanager
async def serving(
    installed: Installed, args: list[str], ready: str, **env: str
) -> AsyncIterator[re.Match[str]]:
    """Run `rolecall ARGS` until its first stdout line matches `ready`; stop it with SIGINT after."""
    proc = await asyncio.create_subprocess_exec(
        installed.bin("rolecall"), *args,
        cwd=installed.home, env=user_env(**env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        match = re.search(ready, line)
        if match is None:
            proc.kill()
            raise AssertionError(
                f"rolecall {' '.join(args)} said {line!r}\n{(await proc.stderr.read()).decode()}"
            )
        yield match
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 20)
    logged = (await proc.stderr.read()).decode()
    assert code == 0, logged
    assert "Traceback" not in logged, logged


@pytest.mark.integration
async def test_simulate_answers_the_openai_sdk(installed: Installed) -> None:
    args = ["simulate", "--port", "0", "--log-level", "warning", "--scenario", "demo.yaml"]
    async with serving(installed, args, r"OPENAI_BASE_URL=(\S+)") as ready:
        client = AsyncOpenAI(base_url=ready.group(1), api_key="sim")
        async with client.realtime.connect(model="gpt-realtime") as conn:
            await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
            await conn.response.create()
            text = ""
            async for event in conn:
                if event.type == "response.output_text.done":
                    text = event.text
                if event.type == "response.done":
                    break
    assert text.startswith("Hi! I'm your cooking guide."), text


@pytest.mark.integration
async def test_web_serves_the_roles_and_the_bundled_recipes(installed: Installed) -> None:
    # /api/roles and /api/recipes/{id} never reach LiveKit: placeholder credentials are enough.
    livekit = {
        "LIVEKIT_URL": "ws://127.0.0.1:7880",
        "LIVEKIT_API_KEY": "devkey",
        "LIVEKIT_API_SECRET": "secret",
    }
    args = ["web", "--host", "127.0.0.1", "--port", "0"]
    async with serving(installed, args, r"listening on (http://\S+)", **livekit) as ready:
        base = ready.group(1).replace("localhost", "127.0.0.1")

        def get(path: str) -> object:
            with urllib.request.urlopen(base + path, timeout=10) as response:
                return json.loads(response.read())

        roles = await asyncio.to_thread(get, "/api/roles")
        recipe = await asyncio.to_thread(get, "/api/recipes/spaghetti-carbonara")
    assert isinstance(roles, dict)
    assert {r["name"] for r in roles["roles"]} == {"concierge", "cooking-guide", "sommelier"}
    assert isinstance(recipe, dict) and recipe["id"] == "spaghetti-carbonara"  # recipes.json, package data
