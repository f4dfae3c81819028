"""Safe YAML with positions: `yaml.SafeLoader` composes, we construct, and we remember where each value was.

Construction is ours (not `SafeConstructor.construct_document`) so that we can reject what `safe_load`
would silently accept: duplicate keys, non-string keys, tags outside the YAML core schema, merge keys,
alias bombs, and YAML 1.1 numbers nobody means (`012` octal, `1_000`, `1:20` sexagesimal, `0x1f`).
Every value's node is kept in `Document.nodes` under its path, so a later error can say `file:line:column`.
Errors are `FileError`s, or the subclass the caller names (`RoleSyntaxError` for roles).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from worker.errors import FileError

MAX_ALIASES = 32
"""At most this many `*alias` references per file: enough to share a block, too few to build a bomb."""
MAX_NODES = 20_000
"""At most this many values after alias expansion (the second line of defence against alias bombs)."""
MAX_DEPTH = 64
"""At most this many nested mappings/lists."""

Path = tuple[str | int, ...]

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
_CANONICAL_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_CANONICAL_FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|(0|[1-9][0-9]*)(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
_CANONICAL_NUMBER = {f"{_CORE}int": _CANONICAL_INT, f"{_CORE}float": _CANONICAL_FLOAT}
"""Numbers as YAML 1.2 writes them; other spellings (012, 1_000, 1:20) are YAML 1.1 surprises."""
_TYPE_WORDS = {
    f"{_CORE}bool": "a boolean",
    f"{_CORE}int": "a number",
    f"{_CORE}float": "a number",
    f"{_CORE}null": "null",
    f"{_CORE}timestamp": "a date",
}


@dataclass
class Document:
    """A parsed file: the plain data, the node of every path, and the source lines."""

    file: str
    data: Any
    nodes: dict[Path, Node] = field(default_factory=dict)
    keys: dict[Path, Node] = field(default_factory=dict)
    """The key node of each mapping entry, by the entry's path (for 'unknown key' errors)."""
    lines: list[str] = field(default_factory=list)

    def position(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at `path` (or its key), falling back to the nearest parent."""
        while True:
            node = (self.keys.get(path) if key else None) or self.nodes.get(path)
            if node is not None:
                return node.start_mark.line + 1, node.start_mark.column + 1
            if not path:
                return 1, 1
            path = path[:-1]
            key = False

    def node(self, path: Path) -> Node | None:
        """The node at `path`, if that path exists in the file."""
        return self.nodes.get(path)


def implicit_surprise(node: Node | None) -> str:
    """If `node` is an unquoted scalar that YAML 1.1 read as something other than text, say what it became."""
    if not isinstance(node, ScalarNode) or node.style is not None or node.tag not in _TYPE_WORDS:
        return ""
    if node.tag == f"{_CORE}null":
        return ""
    value = _construct_scalar(node)
    if node.tag == f"{_CORE}bool":
        return f"YAML 1.1 reads unquoted {node.value} as the boolean {str(value).lower()}"
    return f"YAML 1.1 reads unquoted {node.value} as {_TYPE_WORDS[node.tag]} ({value})"


def _construct_scalar(node: ScalarNode) -> Any:
    constructor = yaml.constructor.SafeConstructor()
    method = {
        f"{_CORE}str": constructor.construct_yaml_str,
        f"{_CORE}int": constructor.construct_yaml_int,
        f"{_CORE}float": constructor.construct_yaml_float,
        f"{_CORE}bool": constructor.construct_yaml_bool,
        f"{_CORE}null": constructor.construct_yaml_null,
        f"{_CORE}timestamp": constructor.construct_yaml_timestamp,
    }[node.tag]
    return method(node)


class _Loader(yaml.SafeLoader):
    """SafeLoader that only composes, counting aliases as it goes."""

    aliases_seen = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            self.aliases_seen += 1
            if self.aliases_seen > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ComposerError(None, None, f"more than {MAX_ALIASES} aliases (*name) in one file", mark)
        return super().compose_node(parent, index)


def _error(
    error: type[FileError], file: str, node: Node, message: str, hint: str = "", path: Path = ()
) -> FileError:
    return error(
        message,
        file=file,
        line=node.start_mark.line + 1,
        column=node.start_mark.column + 1,
        field=render_path(path),
        hint=hint,
    )


def render_path(path: Path) -> str:
    """`('tools', 2, 'parameters')` -> `tools[2].parameters`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


class _Builder:
    def __init__(self, doc: Document, error: type[FileError]) -> None:
        self.doc = doc
        self.error = error
        self.count = 0

    def build(self, node: Node, path: Path, depth: int) -> Any:
        self.count += 1
        file, error = self.doc.file, self.error
        if self.count > MAX_NODES:
            raise _error(error, file, node, f"more than {MAX_NODES} values after expanding aliases (*name)")
        if depth > MAX_DEPTH:
            raise _error(error, file, node, f"nested more than {MAX_DEPTH} levels deep")
        self.doc.nodes.setdefault(path, node)
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, SequenceNode):
            self.check_tag(node, f"{_CORE}seq", path)
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        self.check_tag(node, f"{_CORE}map", path)
        result: dict[str, Any] = {}
        first: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == f"{_CORE}merge":
                raise _error(
                    error,
                    file,
                    key_node,
                    "YAML merge keys (<<) are not supported",
                    "share settings with include:",
                    path,
                )
            if not isinstance(key_node, ScalarNode):
                raise _error(
                    error, file, key_node, "a key must be a plain name, not a mapping or a list", path=path
                )
            self.check_tag(key_node, f"{_CORE}str", path, scalar=True)
            key = key_node.value
            if key_node.tag != f"{_CORE}str":
                surprise = implicit_surprise(key_node) or f"YAML reads the key {key} as {key_node.tag}"
                message = f"key {key} is not text: {surprise}"
                raise _error(error, file, key_node, message, f'quote it: "{key}"', path)
            if key in first:
                line = first[key].start_mark.line + 1
                raise _error(
                    error, file, key_node, f"duplicate key {key!r} (first defined on line {line})", path=path
                )
            first[key] = key_node
            self.doc.keys.setdefault((*path, key), key_node)
            result[key] = self.build(value_node, (*path, key), depth + 1)
        return result

    def check_tag(self, node: Node, expected: str, path: Path, *, scalar: bool = False) -> None:
        ok = node.tag in _SCALAR_TAGS if scalar or isinstance(node, ScalarNode) else node.tag == expected
        if not ok:
            tag = node.tag.replace(_CORE, "!!")
            raise _error(
                self.error,
                self.doc.file,
                node,
                f"tag {tag} is not allowed",
                "only plain YAML values (text, numbers, true/false, null, lists, mappings) are accepted",
                path,
            )

    def scalar(self, node: ScalarNode, path: Path) -> Any:
        self.check_tag(node, "", path)
        canonical = _CANONICAL_NUMBER.get(node.tag)
        if node.style is None and canonical is not None and not canonical.fullmatch(node.value):
            value = _construct_scalar(node)
            raise _error(
                self.error,
                self.doc.file,
                node,
                f"{node.value} is read by YAML 1.1 as the number {value}",
                f'quote it if it is text ("{node.value}"), or write the number as {value}',
                path,
            )
        return _construct_scalar(node)


def parse(text: str, file: str, *, error: type[FileError] = FileError) -> Document:
    """Parse one YAML document; raise `error` (a `FileError`) for anything unsafe or surprising."""
    doc = Document(file=file, data=None, lines=text.splitlines())
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(error, file, exc) from None
    except yaml.reader.ReaderError as exc:  # control characters; not a MarkedYAMLError
        line, column = _reader_position(exc.position, text)
        message = f"not valid YAML: control character U+{exc.character:04X} is not allowed"
        raise error(message, file=file, line=line, column=column, hint="remove it") from None
    except yaml.YAMLError as exc:
        raise error(f"not valid YAML: {exc}", file=file, line=1, column=1) from None
    except RecursionError:
        raise error(f"nested more than {MAX_DEPTH} levels deep", file=file, line=1, column=1) from None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        return doc
    doc.data = _Builder(doc, error).build(root, (), 0)
    return doc


def _syntax_error(error: type[FileError], file: str, exc: yaml.MarkedYAMLError) -> FileError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "not valid YAML"
    hint = ""
    if exc.context and exc.context_mark is not None and exc.context_mark is not mark:
        hint = f"{exc.context} on line {exc.context_mark.line + 1}"
    elif exc.context:
        problem = f"{exc.context}: {problem}"
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return error(f"not valid YAML: {problem}", file=file, line=line, column=column, hint=hint)


def _reader_position(position: int, text: str) -> tuple[int, int]:
    before = text[:position]
    return before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1
