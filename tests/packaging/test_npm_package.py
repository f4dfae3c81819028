"""`@rolecall/client` as a real npm package: what it publishes, and an app outside the workspace using it.

The integration test packs the library (`npm pack`), then a minimal app in a temporary folder
(`tests/packaging/consumer`) installs the tarball with `livekit-client` and React from the registry,
generates its own role types with `python -m worker roles types`, type-checks in strict mode (Vite's
`bundler` resolution, and Node's `NodeNext`), imports every entry point in Node, and builds with Vite.
A missing declaration or export, a wrong peer dependency or an import that only resolves inside the
workspace fails one of those steps.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
LIB = FRONTEND / "lib"
CONSUMER = Path(__file__).with_name("consumer")
# The consumer pins its direct dependencies; `--before` fixes the transitive ones to what the registry
# had on this day, so the install is the same tomorrow. Move it forward when the pins move.
NPM_BEFORE = "2026-12-07"
ENTRY_POINTS = (
    "@rolecall/client",
    "@rolecall/client/react",
    "@rolecall/client/protocol",
    "@rolecall/client/roles",
    "@rolecall/client/roles/validators",
)
# In React's element code (react, react/jsx-runtime): present in a chunk that carries React.
REACT_MARKER = b"react.transitional.element"
REACT_PACKAGES = {"react", "react-dom", "@livekit/components-react"}
# A module specifier in tsc's output: `from "x"`, `import "x"`, `import("x")`; and its comments.
_SPECIFIER = re.compile(r'\b(?:from|import)\s*\(?\s*"([^"]+)"')
_COMMENT = re.compile(r"/\*.*?\*/|^\s*//.*?$", re.S | re.M)


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((LIB / "package.json").read_text(encoding="utf-8"))
    return data


def package_name(specifier: str) -> str:
    """`@scope/name/deep/path.js` -> `@scope/name`; `ajv/dist/2020.js` -> `ajv`."""
    parts = specifier.split("/")
    return "/".join(parts[:2] if specifier.startswith("@") else parts[:1])


def bare_imports(entry: Path) -> set[str]:
    """The packages the built module `entry` loads, following its relative imports."""
    seen: set[Path] = set()
    out: set[str] = set()
    todo = [entry]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        code = _COMMENT.sub("", module.read_text(encoding="utf-8"))
        for specifier in _SPECIFIER.findall(code):
            if specifier.startswith("."):
                todo.append((module.parent / specifier).resolve())
            else:
                out.add(package_name(specifier))
    return out


def run(cmd: list[str], cwd: Path, timeout: float = 300) -> str:
    """Run `cmd`; fail with its output when it exits non-zero. Returns stdout."""
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, (
        f"`{' '.join(cmd)}` in {cwd} exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    )
    return proc.stdout


# --- the manifest ----------------------------------------------------------------------------------


@pytest.mark.unit
def test_version_moves_with_the_python_package() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    demo = json.loads((FRONTEND / "demo" / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((FRONTEND / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    found = {
        "frontend/lib/package.json version": manifest()["version"],
        "frontend/demo/package.json dependency": demo["dependencies"]["@rolecall/client"],
        "frontend/package-lock.json lib version": lock["lib"]["version"],
        "frontend/package-lock.json demo dependency": lock["demo"]["dependencies"]["@rolecall/client"],
    }
    wrong = {where: v for where, v in found.items() if v != version}
    assert not wrong, f"pyproject.toml says {version}; these differ (and `npm install` the lock): {wrong}"


@pytest.mark.unit
def test_manifest_publishes_the_build_only() -> None:
    m = manifest()
    assert "private" not in m
    assert m["type"] == "module" and m["license"] == "Apache-2.0"
    assert m["files"] == ["dist", "README.md"]
    assert (LIB / "README.md").is_file()
    for entry, target in m["exports"].items():
        if entry == "./package.json":
            continue
        assert list(target) == ["types", "default"], entry  # in this order: conditions match first-first
        assert target["types"].startswith("./dist/") and target["types"].endswith(".d.ts"), entry
        assert target["default"] == target["types"].removesuffix(".d.ts") + ".js", entry
    # The app brings livekit-client and React: one copy of each, whatever version it chose.
    assert set(m["peerDependencies"]) == {"livekit-client", "react", "@livekit/components-react"}
    assert set(m["peerDependenciesMeta"]) == {"react", "@livekit/components-react"}
    assert not set(m["dependencies"]) & set(m["peerDependencies"])
    assert m["scripts"]["prepack"] == "npm run build"


# --- an app outside the workspace ------------------------------------------------------------------


@pytest.mark.integration
def test_an_outside_app_installs_type_checks_and_builds_the_packed_library(tmp_path: Path) -> None:
    # 1. The tarball, as `npm pack` makes it (built first: the build is what gets packed).
    run(["npm", "run", "build", "--silent"], LIB)
    packed = json.loads(
        run(["npm", "pack", "--ignore-scripts", "--json", "--pack-destination", str(tmp_path)], LIB)
    )[0]
    files = {f["path"] for f in packed["files"]}
    assert {
        "package.json",
        "README.md",
        "LICENSE",
        "dist/index.js",
        "dist/index.d.ts",
        "dist/react.js",
    } <= files
    assert not {
        f for f in files if not f.startswith("dist/") and f not in ("package.json", "README.md", "LICENSE")
    }
    for entry, target in manifest()["exports"].items():
        if entry != "./package.json":
            assert {target["types"][2:], target["default"][2:]} <= files, entry

    # 2. The app, in a folder of its own, with role types generated from its own roles.
    app = tmp_path / "app"
    shutil.copytree(CONSUMER, app, ignore=shutil.ignore_patterns("node_modules", "dist", "roles.ts"))
    shutil.copy(tmp_path / packed["filename"], app / "rolecall-client.tgz")
    run([sys.executable, "-m", "worker", "roles", "types", "roles", "-o", "src/roles.ts"], app)
    run(
        [
            "npm", "install", "--no-audit", "--no-fund", "--no-package-lock", "--prefer-offline",
            f"--before={NPM_BEFORE}", "--loglevel=error",
        ],
        app,
    )  # fmt: skip
    # Peers met, nothing invalid; and one livekit-client, the app's own (a peer, not a private copy).
    run(["npm", "ls", "--all"], app)
    copies = run(["npm", "ls", "livekit-client", "--all", "--parseable"], app).split()
    assert copies == [str(app / "node_modules" / "livekit-client")], copies

    # What each entry point loads: only declared packages (a dependency, or a peer the app brings); and
    # React only from /react, so an app without React needs none of it installed.
    installed = app / "node_modules" / "@rolecall" / "client"
    declared = set(manifest()["dependencies"]) | set(manifest()["peerDependencies"])
    for entry, target in manifest()["exports"].items():
        if entry == "./package.json":
            continue
        loads = bare_imports(installed / target["default"])
        assert loads <= declared, f"{entry} imports undeclared packages: {sorted(loads - declared)}"
        if entry != "./react":
            assert not loads & REACT_PACKAGES, f"{entry} loads React: {sorted(loads & REACT_PACKAGES)}"
    assert {"react", "@livekit/components-react"} <= bare_imports(installed / "dist" / "react.js")

    # 3. Strict type checks: as a Vite app resolves (the app's tsconfig), and as Node does (NodeNext),
    # where our own declarations are checked too (skipLibCheck off; livekit-client's own are not ours).
    tsc = str(app / "node_modules" / ".bin" / "tsc")
    run([tsc, "-p", "tsconfig.json"], app)
    proc = subprocess.run(
        [tsc, "-p", "tsconfig.nodenext.json", "--skipLibCheck", "false"],
        cwd=app, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    ours = [
        line
        for line in proc.stdout.splitlines()
        if re.match(r"(src/|node_modules/@rolecall/)", line) or line.startswith("error")
    ]
    assert not ours, "\n".join(ours)

    # 4. Every entry point imports in Node (ESM, as published: no extensionless relative imports).
    script = "".join(f"await import({json.dumps(e)});" for e in ENTRY_POINTS)
    run(["node", "--input-type=module", "-e", script], app)

    # 5. Vite builds both pages; the page without React loads no React.
    run([str(app / "node_modules" / ".bin" / "vite"), "build"], app)
    chunks = json.loads((app / "dist" / ".vite" / "manifest.json").read_text(encoding="utf-8"))

    def loaded(key: str) -> set[str]:
        chunk = chunks[key]
        out = {chunk["file"]}
        for imported in chunk.get("imports", []):
            out |= loaded(imported)
        return out

    def has_react(key: str) -> bool:
        return any(REACT_MARKER in (app / "dist" / f).read_bytes() for f in loaded(key))

    assert has_react("react.html"), "the React page's chunks should carry React (the marker is stale?)"
    assert not has_react("index.html"), "@rolecall/client without /react pulled React into the page"
