"""Checks of a role's `model:` block that need more than the block: its tools, and its handoff targets.

A handoff keeps the session's model connection (`worker.session.agent`). On GPT-Live that connection's
voice, model and voice prompt (`live_instructions`) are fixed by `session.start`; only the backend
(instructions, tools, settings) can change. So roles that hand off to each other must share the API,
and under `api: live` the model name, voice and live instructions too; a target that differs is an error
of the handing role (`roles check`), and is refused softly at run time if its file changed since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from worker.roles._files import read_text
from worker.roles.errors import RoleError, RoleSyntaxError
from worker.roles.model_settings import FunctionChoice, ModelSettings
from worker.roles.policy import RolePolicy
from worker.yamlfile import Document, Path, did_you_mean, display_path, parse


@dataclass(frozen=True)
class Problem:
    """One problem, at a path of the role file (relative to the file's root)."""

    path: Path
    message: str
    hint: str = ""


def tool_choice_problems(model: ModelSettings, tool_names: Sequence[str]) -> list[Problem]:
    """`tool_choice` must name one of the role's tools, and `required` needs one."""
    choice = model.tool_choice
    if isinstance(choice, FunctionChoice) and choice.function not in tool_names:
        hint = did_you_mean(choice.function, list(tool_names)) or "tools: " + (
            ", ".join(tool_names) or "none"
        )
        return [Problem(("model", "tool_choice", "function"), f"no tool named {choice.function!r}", hint)]
    if choice == "required" and not tool_names:
        return [Problem(("model", "tool_choice"), "tool_choice: required needs at least one tool")]
    return []


def handoff_problem(source: ModelSettings, target: ModelSettings, target_name: str) -> Problem | None:
    """Why a role on `source` cannot hand the session to `target_name` (on `target`), if it cannot."""
    if source.api != target.api:
        return Problem(
            (),
            f"role {target_name!r} runs on api: {target.api}, this one on api: {source.api}",
            "a handoff keeps the model connection: roles that hand off to each other use the same api",
        )
    if not source.live:
        return None
    differs = [
        f"{what} ({mine!r} here, {theirs!r} there)" if len(mine + theirs) < 60 else what
        for what, mine, theirs in (
            ("model.name", source.name, target.name),
            ("model.voice", source.voice, target.voice),
            ("model.live_instructions", source.voice_instructions, target.voice_instructions),
        )
        if mine != theirs
    ]
    if differs:
        return Problem(
            (),
            f"role {target_name!r} has another {', '.join(differs)}: GPT-Live fixes them when the session "
            "starts, and a handoff keeps the connection",
            "give both roles the same values, and put what differs between them in instructions (the "
            "backend's, which a handoff changes)",
        )
    return None


def history_problem(source: ModelSettings) -> str:
    """Why `history: none` is refused under `api: live` ('' when it is not)."""
    if source.live:
        return "history: none is not supported under api: live: a GPT-Live connection keeps its conversation"
    return ""


def read_model_block(path: str, policy: RolePolicy) -> ModelSettings | None:
    """The `model:` block of a role file, or None when it cannot be read (the file's own check says why)."""
    try:
        display = display_path(path)
        data = parse(read_text(path, display), display, error=RoleSyntaxError).data
        block = data.get("model") if isinstance(data, dict) else None
        return ModelSettings.model_validate(block or {}, context={"policy": policy})
    except (RoleError, ValidationError, OSError, ValueError, RecursionError):
        return None


def model_problems(
    model: ModelSettings,
    name: str,
    doc: Document,
    tools: Sequence[tuple[Any, Document, Path]],
    targets: Mapping[str, ModelSettings | None],
) -> list[tuple[Document, Problem]]:
    """Every problem of role `name`'s model block (in `doc`) with its `tools` (each with the document and
    path it comes from) and its handoff `targets`' model blocks (None: unreadable, its own check says why)."""
    found = [(doc, p) for p in tool_choice_problems(model, [tool.name for tool, _, _ in tools])]
    for tool, where, path in tools:
        if getattr(tool, "kind", None) != "handoff" or tool.target == name or tool.target not in targets:
            continue
        if tool.history == "none" and (why := history_problem(model)):
            found.append((where, Problem((*path, "history"), why, "use history: full")))
        target = targets[tool.target]
        problem = handoff_problem(model, target, tool.target) if target is not None else None
        if problem is not None:
            found.append((where, Problem((*path, "target"), problem.message, problem.hint)))
    return found
