"""The docs' "What an error looks like" (docs/reference/role-files.md) is real output: `roles check` on tests/roles/data/broken.yaml
next to the starter roles, then on the same file with its field errors fixed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from worker.cli import main

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"


def _readme_block(after: str) -> list[str]:
    text = (ROOT / "docs" / "reference" / "role-files.md").read_text()
    start = text.index(after)
    block = re.search(r"```text\n(.*?)```", text[start:], re.S)
    assert block, f"no text block after {after!r}"
    return block.group(1).splitlines()


@pytest.mark.parametrize(
    ("file", "after"),
    [
        ("broken.yaml", "Real output of `python -m worker roles check roles`"),
        ("broken-fixed.yaml", "after fixing"),
    ],
)
def test_readme_error_example_is_what_roles_check_prints(
    file: str, after: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(ROOT / "roles", tmp_path / "roles", ignore=shutil.ignore_patterns("evals"))
    shutil.copy(DATA / file, tmp_path / "roles" / "broken.yaml")
    monkeypatch.chdir(tmp_path)
    assert main(["roles", "check", "roles"]) == 1
    printed = capsys.readouterr().out.splitlines()
    expected = _readme_block(after)
    assert [line for line in printed if line.startswith("roles/broken.yaml")] == [
        line for line in expected if line.startswith("roles/broken.yaml")
    ]
    if file == "broken.yaml":
        assert printed == expected
