"""Whatever the bytes, loading only ever reports `RoleError`s."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.roles.loader import RoleLoader

pytestmark = pytest.mark.unit

FRAGMENTS = st.sampled_from(
    [
        "name: a\n",
        "title: ",
        "yes",
        "[",
        "{",
        "&x ",
        "*x",
        "!!python/name:os.system",
        "tools:\n  - kind: http\n",
        "    url: ftp://x\n",
        "instructions: {file: ../x}\n",
        "{{ x }}",
        "\t",
        "- ",
        ": ",
        "'",
        '"',
        "012",
        "\n",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(st.lists(FRAGMENTS, max_size=12).map("".join), st.text(max_size=200), st.binary(max_size=200))
)
def test_load_never_raises(tmp_path: Path, data: str | bytes) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    result = RoleLoader(tmp_path).load(os.fspath(path))
    assert (result.role is None) == bool(result.errors)
    for error in result.errors:
        assert str(error).startswith(result.file)
        # A location a prompt author can jump to: a line and a column, both from 1.
        assert error.line >= 1 and error.column >= 1, str(error)
        assert str(error).startswith(f"{result.file}:{error.line}:{error.column}: "), str(error)
