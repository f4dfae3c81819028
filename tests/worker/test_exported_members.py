"""Each package's public API is exactly what its `__all__` says (httpx's tests/test_exported_members.py).

A name imported into a package's `__init__` is public unless it starts with `_`; it must be listed in
`__all__`, and everything listed must exist. Submodules are reached by their own path, not through
`__all__`. `worker.tools` and `worker.session` are left out while issue 15 rebuilds them.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

pytestmark = pytest.mark.unit

PACKAGES = [
    "worker.errors",
    "worker.evals",
    "worker.roles",
    "worker.simulator",
    "worker.web",
    "worker.yamlfile",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_lists_exactly_the_public_names(name: str) -> None:
    package = importlib.import_module(name)
    exported: list[str] = package.__all__
    assert len(exported) == len(set(exported)), f"{name}.__all__ lists a name twice"
    missing = [n for n in exported if not hasattr(package, n)]
    assert missing == [], f"{name}.__all__ lists names the package does not have"
    public = {
        n for n, value in vars(package).items() if not n.startswith("_") and not inspect.ismodule(value)
    }
    public -= {"annotations"}  # `from __future__ import annotations`
    assert public - set(exported) == set(), f"public in {name} but not in __all__"
