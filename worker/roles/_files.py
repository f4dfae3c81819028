"""Files under the roles directory: which are roles, and reading them (the shared reader, role-worded)."""

from __future__ import annotations

from worker import yamlfile
from worker.roles._base import ROLE_NAME
from worker.roles.errors import RoleSyntaxError

ROLE_SUFFIX = ".yaml"
ROOT_NAME = "the roles directory"
"""How path errors name the roles directory."""
_TOO_LARGE_HINT = "split long prompts into prompt files and fragments"


def read_text(path: str, display: str) -> str:
    """The file's text; `RoleSyntaxError` if it is too large or not UTF-8."""
    return yamlfile.read_text(path, display, error=RoleSyntaxError, hint=_TOO_LARGE_HINT)


def inside(root: str, relative: str) -> str:
    """The real path of `relative` under the roles directory `root`; `ValueError` if it escapes."""
    return yamlfile.inside(root, relative, root_name=ROOT_NAME)


def list_named(directory: str, suffix: str = ROLE_SUFFIX) -> tuple[dict[str, str], list[str]]:
    """`({name: path}, [paths with invalid names])` for the `*<suffix>` files directly in `directory`."""
    return yamlfile.list_named(directory, suffix, ROLE_NAME)
