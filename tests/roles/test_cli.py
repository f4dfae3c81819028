"""`python -m worker roles check|list|schema`, called in-process through `worker.cli.main`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.roles.conftest import MINIMAL, Write
from worker.cli import main
from worker.roles.schema import schema_text

pytestmark = pytest.mark.unit


def test_check_ok(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("alpha.yaml", MINIMAL.format(name="alpha"))
    write("b.yaml", MINIMAL.format(name="b"))
    assert main(["roles", "check", "roles"]) == 0
    assert capsys.readouterr().out == "ok  alpha  (roles/alpha.yaml)\nok  b      (roles/b.yaml)\n"


def test_check_prints_every_error_and_fails(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("a.yaml", MINIMAL.format(name="a"))
    write("b.yaml", "name: b\ntitle: yes\ndescription: D\ninstructions: x\nmodel: {voice: nova}\n")
    assert main(["roles", "check", "roles"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "ok  a  (roles/a.yaml)",
        "roles/b.yaml:2:8: title: expected text, found yes (YAML 1.1 reads unquoted yes as the boolean true) "
        '(hint: quote it: "yes")',
        "roles/b.yaml:5:16: model.voice: expected one of alloy, ash, ballad, coral, echo, sage, shimmer, "
        "verse, "
        "marin, cedar, found 'nova'",
    ]


def test_check_uses_env_dir(
    write: Write, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write("a.yaml", MINIMAL.format(name="a"))
    monkeypatch.setenv("ROLECALL_ROLES_DIR", "roles")
    assert main(["roles", "check"]) == 0
    assert capsys.readouterr().out == "ok  a  (roles/a.yaml)\n"


def test_check_missing_dir(roles_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["roles", "check", "nowhere"]) == 1
    assert capsys.readouterr().err == "nowhere: roles directory not found\n"


def test_check_flags_yml_files_the_worker_would_never_load(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    write("a.yaml", MINIMAL.format(name="a"))
    write("sommelier.yml", MINIMAL.format(name="sommelier"))
    assert main(["roles", "check", "roles"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "ok  a  (roles/a.yaml)",
        "roles/sommelier.yml:1:1: role and fragment files end in .yaml; this file is not loaded "
        "(hint: rename it to sommelier.yaml)",
    ]


def test_check_fails_on_a_folder_without_roles(roles_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["roles", "check", "roles"]) == 1
    assert capsys.readouterr().err == "roles: no role files (*.yaml) found\n"


def test_list(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    write("a.yaml", MINIMAL.format(name="a") + "tools:\n  - {kind: frontend, name: x, description: d}\n")
    write("broken.yaml", "name: [\n")
    assert main(["roles", "list", "roles"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["NAME  TITLE  TOOLS  DESCRIPTION", "a     T          1  D"]
    assert "roles/broken.yaml: invalid, not listed" in captured.err


def test_schema_to_stdout_and_file(roles_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["roles", "schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "RoleCall role"
    assert main(["roles", "schema", "--fragment", "--output", "out.json"]) == 0
    assert Path("out.json").read_text() == schema_text("fragment")
