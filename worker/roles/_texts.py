"""Instruction texts (inline, prompt files, greetings): where each character is in its file, and their
template errors located there."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from yaml.nodes import ScalarNode

from worker.roles import template
from worker.roles.errors import RoleError, RoleValidationError
from worker.roles.models import Variable
from worker.yamlfile import Document, Path, did_you_mean

Locator = Callable[[int], tuple[int, int]]
"""Maps a character offset in the text to its 1-based (line, column) in the file."""


@dataclass
class Text:
    """Instruction text and how to point at a character in it."""

    text: str
    file: str
    field: str
    locate: Locator


def scalar_locator(doc: Document, path: Path) -> Locator:
    """Map a character offset inside a string value to its line and column in the YAML source."""
    node = doc.node(path)
    line, column = doc.position(path)
    if not isinstance(node, ScalarNode):
        return lambda offset: (line, column)
    value: str = node.value

    def locate(offset: int) -> tuple[int, int]:
        index = value.count("\n", 0, offset)
        in_line = offset - (value.rfind("\n", 0, offset) + 1)
        if node.style == "|":
            source_index = line + index  # content starts on the line after the `|`
            if source_index < len(doc.lines):
                source = doc.lines[source_index]
                content = value.split("\n")[index]
                return source_index + 1, len(source) - len(content) + in_line + 1
        if index == 0 and node.style in (None, "'", '"'):
            return line, column + in_line + (0 if node.style is None else 1)
        return line, column

    return locate


def text_locator(text: str) -> Locator:
    """Map a character offset in a whole file's text (a prompt file) to its line and column."""

    def locate(offset: int) -> tuple[int, int]:
        return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1

    return locate


def template_errors(text: Text, variables: Mapping[str, Variable], display: str) -> list[RoleError]:
    """Template problems in `text`, and the `{{ names }}` it uses that `variables` (of `display`) lacks."""
    errors: list[RoleError] = []
    placeholders, problems = template.scan(text.text)
    declared = list(variables)
    for problem in problems:
        line, column = text.locate(problem.offset)
        errors.append(
            RoleValidationError(problem.message, file=text.file, line=line, column=column, field=text.field)
        )
    for placeholder in placeholders:
        if placeholder.name in variables:
            continue
        line, column = text.locate(placeholder.offset)
        hint = did_you_mean(placeholder.name, declared)
        listed = ", ".join(declared) if declared else "none"
        hint = (hint + " " if hint else "") + f"variables declared in {display}: {listed}"
        errors.append(
            RoleValidationError(
                f"unknown variable {placeholder.name!r}",
                file=text.file,
                line=line,
                column=column,
                field=text.field,
                hint=hint,
            )
        )
    return errors
