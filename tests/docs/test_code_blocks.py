"""The code in the documentation is checked, so the docs cannot drift from the code.

Every fenced block of every page under `docs/` is read: YAML must parse, and a YAML role (a mapping
with `name` and `instructions`) must pass the role loader next to the starter roles; a YAML excerpt of
a role (only role keys, e.g. a `model:` block) is checked inside a minimal role; eval files and
simulator scenarios go through their loaders. TypeScript is type-checked against `@rolecall/client`
by the workspace's `tsc` in strict mode. Python is compiled, and run when it is self-contained (every
name it uses is defined or imported in it).
"""

from __future__ import annotations

import ast
import builtins
import re
import shutil
import subprocess
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from worker.evals.model import load_eval
from worker.roles import RolePolicy, check_dir
from worker.roles.models import RoleFile
from worker.simulator import Scenario

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
TSC = ROOT / "frontend" / "node_modules" / ".bin" / "tsc"
TSCONFIG = """{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "types": ["node"], "noUnusedLocals": false },
  "include": ["*.ts"]
}
"""
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)
BASE_ROLE = {
    "name": "doc-example",
    "title": "Doc example",
    "description": "A docs excerpt.",
    "instructions": "Help.",
}
# The annotated role names the example python tool package, as a deployment would allow it.
POLICY = RolePolicy(python_modules=("examples.kitchen_tools",))


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    text: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line} ({self.lang})"


def blocks(*langs: str) -> list[Block]:
    """The fenced blocks of every page in docs/ (and the README) whose language is one of `langs`."""
    found = []
    for path in [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match["lang"] in langs:
                line = text.count("\n", 0, match.start()) + 1
                body = textwrap.dedent(match["body"])
                found.append(Block(str(path.relative_to(ROOT)), line, match["lang"], body))
    return found


def _ids(items: list[Block]) -> list[str]:
    return [str(b) for b in items]


YAML = blocks("yaml", "yml")
PYTHON = blocks("python", "py")
TYPESCRIPT = blocks("ts", "typescript")


def test_the_docs_have_code_of_every_kind() -> None:
    assert len(YAML) >= 10 and len(PYTHON) >= 4 and len(TYPESCRIPT) >= 6
    roles = [
        b
        for b in YAML
        if isinstance(d := yaml.safe_load(b.text), dict) and {"name", "instructions"} <= d.keys()
    ]
    assert len(roles) >= 4, "the tutorial, the how-to guides and the annotated role each show a whole role"


def _roles_dir(tmp_path: Path) -> Path:
    roles = tmp_path / "roles"
    shutil.copytree(ROOT / "roles", roles, ignore=shutil.ignore_patterns("evals"))
    return roles


def _check_role(tmp_path: Path, name: str, text: str, block: Block) -> None:
    roles = _roles_dir(tmp_path)
    (roles / f"{name}.yaml").write_text(text, encoding="utf-8")
    report = check_dir(roles, policy=POLICY)
    result = next(r for r in report.results if Path(r.file).name == f"{name}.yaml")
    assert result.role is not None and not result.errors, f"{block}: " + "\n".join(map(str, result.errors))


@pytest.mark.parametrize("block", YAML, ids=_ids(YAML))
def test_yaml_blocks_parse_and_roles_validate(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # python tools name modules of this checkout (examples.kitchen_tools)
    data = yaml.safe_load(block.text)
    if not isinstance(data, dict):
        return
    if {"name", "instructions"} <= data.keys():
        _check_role(tmp_path, data["name"], block.text, block)
    elif "conversations" in data:
        evals = tmp_path / "roles" / "evals"
        shutil.copytree(ROOT / "roles" / "evals", evals)
        path = evals / f"{data.get('role', 'cooking-guide')}.yaml"
        path.write_text(block.text, encoding="utf-8")
        load_eval(str(path))
    elif "turns" in data and "greeting" in data:
        path = tmp_path / "scenario.yaml"
        path.write_text(block.text, encoding="utf-8")
        Scenario.load(path)
    elif data.keys() <= set(RoleFile.model_fields) and data.keys() & {
        "model",
        "events",
        "limits",
        "variables",
    }:
        text = yaml.safe_dump({**BASE_ROLE, **data}, sort_keys=False)
        _check_role(tmp_path, str(BASE_ROLE["name"]), text, block)


def _free_names(tree: ast.AST) -> set[str]:
    """Names a module reads that nothing in it binds (and are not builtins)."""
    loaded, bound = set(), set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return loaded - bound


@pytest.mark.parametrize("block", PYTHON, ids=_ids(PYTHON))
def test_python_blocks_compile_and_self_contained_ones_run(
    block: Block, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    tree = compile(block.text, str(block), "exec", flags=flags)
    code = compile(tree, str(block), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    top_level_await = bool(code.co_flags & 0x80)  # CO_COROUTINE: the block awaits at module level
    if not _free_names(tree) and not top_level_await:
        monkeypatch.chdir(ROOT)
        exec(code, {"__name__": "docs_example"})


def test_the_typescript_blocks_type_check() -> None:
    if not TSC.is_file():
        raise RuntimeError(f"{TSC} is missing: run `make setup` (npm ci in frontend/)")
    assert TYPESCRIPT, "no TypeScript in docs/"
    scratch = Path(tempfile.mkdtemp(prefix=".docs-ts-", dir=ROOT / "frontend" / "lib"))
    try:
        names = {}
        for index, block in enumerate(TYPESCRIPT):
            name = f"example{index}.ts"
            names[name] = str(block)
            # `export {}` makes each block a module of its own, as a page's file would be.
            (scratch / name).write_text(block.text + "\nexport {};\n", encoding="utf-8")
        (scratch / "tsconfig.json").write_text(TSCONFIG, encoding="utf-8")
        done = subprocess.run(
            [str(TSC), "--noEmit", "-p", str(scratch)], capture_output=True, text=True, timeout=300
        )
        output = done.stdout + done.stderr
        for name, where in names.items():
            output = output.replace(name, where)
        assert done.returncode == 0, f"TypeScript in docs/ does not compile:\n{output}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_the_page_events_guide_shows_every_sender_and_follower() -> None:
    """What tests/worker/test_readme_typescript.py asked of the README's section, now of its page."""
    joined = "\n".join(b.text for b in TYPESCRIPT if b.page == "docs/how-to/page-events.md")
    for name in ("sendEvent", "useSendEvent", "onToolActivity", "trackToolActivity", "useToolActivity"):
        assert name in joined
