"""The GPT-Live variant of a roles directory: the same role files, with their `model:` blocks moved to
`api: live`, so a prompt author can run and compare both (`roles live-variant`, `eval --api live`,
`make demo` with `ROLECALL_DEMO_API=live`).

Only the model block changes; instructions, tools, prompts, fragments and evals are copied as they are.
The new block keeps what applies to both APIs (tool choice, parallel tool calls, the pre-connect audio
buffer) and drops the Realtime-only settings. Every role gets the same voice and voice prompt, because
roles that hand off to each other share them on GPT-Live (`worker.roles.model_checks`).
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import yaml

from worker.roles._files import ROLE_SUFFIX, list_named, read_text
from worker.roles.errors import RoleSyntaxError
from worker.yamlfile import parse

KEPT = ("tool_choice", "parallel_tool_calls", "pre_connect_audio")
"""Model settings that apply to both APIs, carried over."""


def live_model_block(model: dict[str, Any], *, voice: str, live_instructions: str | None) -> str:
    """The `model:` block of the GPT-Live variant of a role whose model block is `model`."""
    block: dict[str, Any] = {"api": "live", "voice": voice}
    if live_instructions:
        block["live_instructions"] = live_instructions
    block |= {key: model[key] for key in KEPT if key in model}
    body = yaml.safe_dump(block, sort_keys=False, allow_unicode=True, width=100)
    return "model:\n" + "".join(f"  {line}\n" for line in body.splitlines())


def to_live(text: str, display: str, *, voice: str = "marin", live_instructions: str | None = None) -> str:
    """A role file's text with its model block replaced by the GPT-Live one (appended when it had none)."""
    doc = parse(text, display, error=RoleSyntaxError)
    data = doc.data if isinstance(doc.data, dict) else {}
    model = data.get("model")
    model = model if isinstance(model, dict) else {}
    block = live_model_block(model, voice=voice, live_instructions=live_instructions)
    key, value = doc.keys.get(("model",)), doc.node(("model",))
    lines = text.splitlines(keepends=True)
    if key is None or value is None:
        return text + ("" if text.endswith("\n") else "\n") + "\n" + block
    start = key.start_mark.line
    end = value.end_mark.line + (1 if value.end_mark.column else 0)
    replaced = lines[start:end]
    blank = 0  # the blank lines between the block and the next key stay
    while replaced and not replaced[-1].strip():
        blank += 1
        replaced.pop()
    return "".join(lines[:start]) + block + "\n" * blank + "".join(lines[end:])


def write_live_variant(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    voice: str = "marin",
    live_instructions: str | None = None,
) -> list[str]:
    """Copy the roles directory `source` to `target` (which must not exist) with every role on GPT-Live;
    the names of the roles rewritten."""
    shutil.copytree(source, target)
    roles, _ = list_named(os.fspath(target))
    for path in roles.values():
        text = read_text(path, path)
        with open(path, "w", encoding="utf-8") as out:
            out.write(to_live(text, path, voice=voice, live_instructions=live_instructions))
    return sorted(name.removesuffix(ROLE_SUFFIX) for name in roles)
