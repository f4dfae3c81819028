"""The public API of `worker.roles` is what `__all__` says (like httpx's test_exported_members)."""

from __future__ import annotations

import pytest

import worker.roles

pytestmark = pytest.mark.unit


def test_all_exports_exist_and_are_public() -> None:
    exported = set(worker.roles.__all__)
    assert all(hasattr(worker.roles, name) for name in exported)
    public = {n for n in dir(worker.roles) if not n.startswith("_")}
    modules = {
        "errors",
        "loader",
        "models",
        "registry",
        "schema",
        "template",
        "parameters",
        "cli",
        "typescript",
        "policy",
        "regex",
        "model_settings",
        "model_checks",
        "live_variant",
        "tool_specs",
        "event_specs",
        "tool_modes",
        "analysis",
        "version",
        "tool_sources",
        "python_functions",
        "schema_import",
    }
    assert public - modules - exported == set()


def test_errors_share_one_base() -> None:
    for name in (
        "RoleSyntaxError",
        "RoleValidationError",
        "UnknownRoleError",
        "InvalidRoleError",
        "RoleRenderError",
    ):
        assert issubclass(getattr(worker.roles, name), worker.roles.RoleError)
