"""Load one role (or check a whole roles directory): parse, validate, read prompt files, merge fragments,
check tool parameters, handoff targets and template variables, and collect every error on the way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from worker.roles import parameters, tool_sources
from worker.roles._files import ROLE_SUFFIX, inside, list_named, read_text
from worker.roles._texts import Text, scalar_locator, template_errors, text_locator
from worker.roles.errors import RoleError, RoleSyntaxError, RoleValidationError
from worker.roles.model_checks import model_problems, read_model_block
from worker.roles.models import FragmentFile, HandoffTool, PromptFile, Role, RoleFile
from worker.roles.policy import RolePolicy
from worker.roles.version import role_version
from worker.yamlfile import (
    Document,
    Path,
    did_you_mean,
    display_path,
    implicit_surprise,
    parse,
    render_path,
    validation_errors,
)

_M = TypeVar("_M", bound=BaseModel)
ToolModel = Any  # FrontendTool | HttpTool | HandoffTool | BuiltinTool
_UNION_TAGS = ("kind", "type")
"""The keys of the role format's tagged unions (tool `kind`, turn detection `type`)."""
_EXPECTED: dict[Path, str] = {("greeting",): "text or a mapping with instructions or say"}
"""What a path expects, where its type alone says too little (a greeting is also a plain string)."""


@dataclass
class LoadResult:
    """What loading one file produced: the role (None if invalid), every error, and the files it read."""

    file: str
    role: Role | None
    errors: list[RoleError] = field(default_factory=list)
    dependencies: tuple[str, ...] = ()
    """Absolute paths whose change (or appearance) can change the result."""


@dataclass
class _Fragment:
    model: FragmentFile | None
    doc: Document | None
    texts: list[Text]
    errors: list[RoleError]
    dependencies: list[str]


def _at(doc: Document, path: Path, message: str, hint: str = "", *, key: bool = False) -> RoleValidationError:
    line, column = doc.position(path, key=key)
    return RoleValidationError(
        message, file=doc.file, line=line, column=column, field=render_path(path), hint=hint
    )


class RoleLoader:
    """Loads roles from one directory. Fragments are cached per instance: use one loader per check.

    `policy` is the operator's part of what a role may reference (environment variables, private
    hosts); a role that goes beyond it is invalid. Default: `RolePolicy()` (default settings).
    """

    def __init__(self, roles_dir: str | os.PathLike[str], *, policy: RolePolicy | None = None) -> None:
        self.roles_dir = os.path.abspath(roles_dir)
        self.policy = policy if policy is not None else RolePolicy()
        self._fragments: dict[str, _Fragment] = {}
        self._contents: dict[str, str] = {}
        """The text of every file read, by path: what the role's version hashes."""

    # -------------------------------------------------------------------------------------- listing

    def role_files(self) -> dict[str, str]:
        """`{name: path}` of every role file (`<dir>/<name>.yaml` with a valid name)."""
        return list_named(self.roles_dir)[0]

    def fragment_files(self) -> dict[str, str]:
        """`{name: path}` of every fragment file (`<dir>/fragments/<name>.yaml`)."""
        return list_named(os.path.join(self.roles_dir, "fragments"))[0]

    # -------------------------------------------------------------------------------------- roles

    def load(self, path: str) -> LoadResult:
        """Load the role file at `path` (a path from `role_files()`); never raises for bad content."""
        display = display_path(path)
        try:
            return self._load(path, display)
        except RoleError as exc:
            return LoadResult(display, None, [exc], (path,))
        except (OSError, RecursionError, ValueError) as exc:  # unreadable file, pathological input
            error = RoleSyntaxError(f"cannot read the file: {exc}", file=display, line=1, column=1)
            return LoadResult(display, None, [error], (path,))

    def _load(self, path: str, display: str) -> LoadResult:
        stem = os.path.basename(path).removesuffix(ROLE_SUFFIX)
        deps: list[str] = [path]
        try:
            inside(self.roles_dir, os.path.relpath(path, self.roles_dir))
        except ValueError as exc:
            raise RoleSyntaxError(str(exc), file=display, line=1, column=1) from None
        doc = self._parse(path, display, what="role")
        errors: list[RoleError] = []
        role_file = self._validate(RoleFile, doc, errors)
        errors.extend(self._parameter_errors(doc))
        errors.extend(self._event_errors(doc))
        if role_file is None:
            errors.sort(key=lambda e: (e.line or 0, e.column or 0))  # model and parameter errors, by line
            return LoadResult(display, None, errors, tuple(deps))
        if role_file.name != stem:
            hint = f"set name: {stem}, or rename the file to {role_file.name}{ROLE_SUFFIX}"
            errors.append(
                _at(doc, ("name",), f"name {role_file.name!r} must equal the file name {stem!r}", hint)
            )

        texts: list[Text] = []
        own = self._instructions(role_file.instructions, doc, ("instructions",), errors, deps)
        if own is not None:
            texts.append(own)

        tools: list[tuple[ToolModel, Document, Path]] = [
            (tool, doc, ("tools", index)) for index, tool in enumerate(role_file.tools)
        ]
        fragment_names = self.fragment_files()
        for index, name in enumerate(role_file.include):
            deps.append(os.path.join(self.roles_dir, "fragments"))
            if name not in fragment_names:
                existing = ", ".join(fragment_names) or "(none)"
                hint = did_you_mean(name, list(fragment_names)) or f"existing fragments: {existing}"
                if "did you mean" in hint:
                    hint += f" existing fragments: {existing}"
                errors.append(_at(doc, ("include", index), f"unknown fragment {name!r}", hint))
                continue
            fragment = self._fragment(name, fragment_names[name])
            deps.extend(fragment.dependencies)
            errors.extend(e for e in fragment.errors if e not in errors)
            if fragment.model is not None and fragment.doc is not None:
                texts.extend(fragment.texts)
                tools.extend(
                    (tool, fragment.doc, ("tools", i)) for i, tool in enumerate(fragment.model.tools)
                )

        tools = tool_sources.resolve(tools, errors)  # mcp blocks expanded, python functions checked
        errors.extend(self._tool_errors(role_file.name, tools, deps))
        errors.extend(self._model_errors(role_file, doc, tools, deps))
        greeting_texts = self._greeting_texts(role_file, doc)
        for text in [*texts, *greeting_texts]:
            errors.extend(template_errors(text, role_file.variables, display))
        if errors:
            errors.sort(key=lambda e: (e.file != display, e.file, e.line or 0, e.column or 0))
            return LoadResult(display, None, errors, tuple(dict.fromkeys(deps)))
        role = Role(
            name=role_file.name,
            title=role_file.title,
            description=role_file.description,
            model=role_file.model,
            limits=role_file.limits,
            analysis=role_file.analysis,
            variables=dict(role_file.variables),
            instructions="\n\n".join(t.text.strip("\n") for t in texts),
            greeting=role_file.greeting,
            tools=tuple(tool for tool, _, _ in tools),
            events=tuple(role_file.events),
            source=display,
            files=tuple(dict.fromkeys(display_path(d) for d in deps if os.path.isfile(d))),
            version=role_version(self.roles_dir, [d for d in deps if os.path.isfile(d)], self._contents),
        )
        return LoadResult(display, role, [], tuple(dict.fromkeys(deps)))

    # -------------------------------------------------------------------------------------- pieces

    def _parse(self, path: str, display: str, *, what: str) -> Document:
        doc = parse(self._read(path, display), display, error=RoleSyntaxError)
        if doc.data is None:
            expected = (
                "name, title, description and instructions" if what == "role" else "instructions or tools"
            )
            raise RoleSyntaxError(
                f"the file is empty; expected a {what} with {expected}", file=display, line=1, column=1
            )
        if not isinstance(doc.data, dict):
            found = "a list" if isinstance(doc.data, list) else f"the single value {doc.data!r}"
            raise RoleSyntaxError(
                f"expected a mapping (key: value lines) at the top level, found {found}",
                file=display,
                line=1,
                column=1,
            )
        return doc

    def _read(self, path: str, display: str) -> str:
        text = read_text(path, display)
        self._contents[path] = text
        return text

    def _validate(self, model: type[_M], doc: Document, errors: list[RoleError]) -> _M | None:
        try:  # the policy's checks run inside the models' validators, located like any other error
            return model.model_validate(doc.data, context={"policy": self.policy})
        except ValidationError as exc:
            errors.extend(
                validation_errors(
                    exc, doc, model, error=RoleValidationError, tags=_UNION_TAGS, expected_at=_EXPECTED
                )
            )
            return None

    @staticmethod
    def _parameter_errors(doc: Document, section: str = "tools", key: str = "parameters") -> list[RoleError]:
        errors: list[RoleError] = []
        data = doc.data if isinstance(doc.data, dict) else {}
        schemas: list[tuple[Path, Any]] = []
        entries = data.get(section)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and key in entry:
                schemas.append(((section, index, key), entry[key]))
        analysis = data.get("analysis") if section == "tools" else None
        wanted = analysis.get("data") if isinstance(analysis, dict) else None
        if isinstance(wanted, dict) and "schema" in wanted:  # the analysis' data: the same rules
            schemas.append((("analysis", "data", "schema"), wanted["schema"]))
        for base, schema in schemas:
            for problem in parameters.check(schema):
                path = (*base, *problem.path)
                hint = problem.hint
                node = doc.node(path)
                surprise = implicit_surprise(node)
                message = problem.message
                if problem.quote and surprise and node is not None:
                    message += f" ({surprise})"
                    hint = hint or f'quote it: "{node.value}"'
                errors.append(_at(doc, path, message, hint))
        return errors

    @classmethod
    def _event_errors(cls, doc: Document) -> list[RoleError]:
        """Event payload schemas (checked like tool parameters) and event names used twice."""
        errors = cls._parameter_errors(doc, "events", "payload")
        events = doc.data.get("events") if isinstance(doc.data, dict) else None
        first: dict[str, int] = {}
        for index, event in enumerate(events if isinstance(events, list) else []):
            name = event.get("name") if isinstance(event, dict) else None
            if not isinstance(name, str):
                continue
            if name in first:
                line, column = doc.position(("events", first[name], "name"))
                errors.append(
                    _at(
                        doc,
                        ("events", index, "name"),
                        f"duplicate event name {name!r}",
                        f"also defined at {doc.file}:{line}:{column}",
                    )
                )
            else:
                first[name] = index
        return errors

    def _instructions(
        self,
        value: str | PromptFile | None,
        doc: Document,
        path: Path,
        errors: list[RoleError],
        deps: list[str],
    ) -> Text | None:
        if value is None:
            return None
        if isinstance(value, str):
            return Text(value, doc.file, render_path(path), scalar_locator(doc, path))
        file_path = (*path, "file")
        try:
            full = inside(self.roles_dir, value.file)
        except ValueError as exc:
            errors.append(_at(doc, file_path, str(exc), f"found {value.file!r}"))
            return None
        deps.append(full)
        prompt_display = display_path(full)
        if not os.path.isfile(full):
            prompts, _ = list_named(os.path.join(self.roles_dir, "prompts"), ".md")
            existing = ", ".join(f"prompts/{n}.md" for n in prompts) or "(none)"
            errors.append(
                _at(doc, file_path, f"prompt file not found: {value.file}", f"existing: {existing}")
            )
            return None
        try:
            text = self._read(full, prompt_display)
        except RoleError as exc:
            errors.append(exc)
            return None
        return Text(text, prompt_display, render_path(path), text_locator(text))

    def _fragment(self, name: str, path: str) -> _Fragment:
        if name in self._fragments:
            return self._fragments[name]
        display = display_path(path)
        errors: list[RoleError] = []
        deps = [path]
        texts: list[Text] = []
        doc: Document | None = None
        model: FragmentFile | None = None
        try:
            inside(self.roles_dir, os.path.relpath(path, self.roles_dir))
            doc = self._parse(path, display, what="fragment")
            model = self._validate(FragmentFile, doc, errors)
            errors.extend(self._parameter_errors(doc))
            if model is not None:
                text = self._instructions(model.instructions, doc, ("instructions",), errors, deps)
                texts = [text] if text is not None else []
        except RoleError as exc:
            errors.append(exc)
        except (OSError, ValueError, RecursionError) as exc:
            errors.append(RoleSyntaxError(f"cannot read the file: {exc}", file=display, line=1, column=1))
        fragment = _Fragment(model if not errors else None, doc, texts, errors, deps)
        self._fragments[name] = fragment
        return fragment

    def _tool_errors(
        self, role_name: str, tools: list[tuple[ToolModel, Document, Path]], deps: list[str]
    ) -> list[RoleError]:
        errors: list[RoleError] = []
        first: dict[str, tuple[Document, Path]] = {}
        roles = self.role_files()
        for tool, doc, path in tools:
            if tool.name in first:
                other_doc, other_path = first[tool.name]
                line, column = other_doc.position((*other_path, "name"))
                errors.append(
                    _at(
                        doc,
                        (*path, "name"),
                        f"duplicate tool name {tool.name!r}",
                        f"also defined at {other_doc.file}:{line}:{column}",
                    )
                )
            else:
                first[tool.name] = (doc, path)
            if isinstance(tool, HandoffTool):
                deps.append(self.roles_dir)  # a target appearing or disappearing changes the directory
                if tool.target == role_name:
                    errors.append(_at(doc, (*path, "target"), "a role cannot hand off to itself"))
                elif tool.target not in roles:
                    existing = ", ".join(r for r in roles if r != role_name) or "(none)"
                    hint = did_you_mean(tool.target, list(roles))
                    hint = f"{hint} existing roles: {existing}" if hint else f"existing roles: {existing}"
                    errors.append(_at(doc, (*path, "target"), f"unknown role {tool.target!r}", hint))
        return errors

    def _model_errors(
        self,
        role_file: RoleFile,
        doc: Document,
        tools: list[tuple[ToolModel, Document, Path]],
        deps: list[str],
    ) -> list[RoleError]:
        """`tool_choice` against the tools; each handoff target's model block against this one's."""
        roles = self.role_files()
        targets = {t.target for t, _, _ in tools if isinstance(t, HandoffTool) and t.target in roles}
        deps.extend(roles[name] for name in sorted(targets))  # their model blocks can invalidate this role
        models = {name: read_model_block(roles[name], self.policy) for name in targets}
        found = model_problems(role_file.model, role_file.name, doc, tools, models)
        return [_at(where, p.path, p.message, p.hint) for where, p in found]

    @staticmethod
    def _greeting_texts(role_file: RoleFile, doc: Document) -> list[Text]:
        greeting = role_file.greeting
        if greeting is None:
            return []
        key = "instructions" if greeting.instructions is not None else "say"
        text = greeting.instructions if greeting.instructions is not None else greeting.say
        path: Path = ("greeting", key) if doc.node(("greeting", key)) is not None else ("greeting",)
        return [Text(text or "", doc.file, render_path(path), scalar_locator(doc, path))]

    # -------------------------------------------------------------------------------------- fragments

    def check_fragment(self, name: str) -> list[RoleError]:
        """Errors in one fragment file on its own (template variables are checked per including role)."""
        files = self.fragment_files()
        return list(self._fragment(name, files[name]).errors) if name in files else []


@dataclass
class CheckReport:
    """Everything `roles check` found in a directory."""

    results: list[LoadResult]
    """One per role file, sorted by name."""
    other_errors: list[RoleError]
    """Problems not tied to one role: badly named files, broken unused fragments."""

    @property
    def ok(self) -> bool:
        """True when there is nothing to fix."""
        return not self.other_errors and all(r.role is not None for r in self.results)


def check_dir(roles_dir: str | os.PathLike[str], *, policy: RolePolicy | None = None) -> CheckReport:
    """Load every role and fragment in `roles_dir` (under `policy`, default `RolePolicy()`)."""
    loader = RoleLoader(roles_dir, policy=policy)
    results = [loader.load(path) for _, path in sorted(loader.role_files().items())]
    reported = {e for r in results for e in r.errors}
    other: list[RoleError] = []
    if not os.path.isdir(loader.roles_dir):
        other.append(RoleValidationError("roles directory not found", file=display_path(loader.roles_dir)))
    for path in list_named(loader.roles_dir)[1] + list_named(os.path.join(loader.roles_dir, "fragments"))[1]:
        stem = os.path.basename(path).removesuffix(ROLE_SUFFIX)
        other.append(
            RoleValidationError(
                f"file name {stem!r} is not a valid name",
                file=display_path(path),
                line=1,
                column=1,
                hint="use lowercase letters, digits, - and _ (starting with a letter or digit, at most 64)",
            )
        )
    for folder in (loader.roles_dir, os.path.join(loader.roles_dir, "fragments")):
        # `.yml` is a common spelling, and a file the worker would silently never load.
        for path in list_named(folder, ".yml")[0].values():
            stem = os.path.basename(path).removesuffix(".yml")
            other.append(
                RoleValidationError(
                    "role and fragment files end in .yaml; this file is not loaded",
                    file=display_path(path),
                    line=1,
                    column=1,
                    hint=f"rename it to {stem}{ROLE_SUFFIX}",
                )
            )
    for name in loader.fragment_files():
        other.extend(e for e in loader.check_fragment(name) if e not in reported)
    return CheckReport(results, other)
