"""`python -m worker roles check|list|schema|types|live-variant`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from worker.roles.loader import check_dir
from worker.roles.policy import RolePolicy
from worker.roles.registry import ROLES_DIR_ENV, default_roles_dir
from worker.roles.schema import schema_text
from worker.yamlfile import display_path


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the `roles` command and its actions."""
    parser = subparsers.add_parser(
        "roles",
        help="check, list and describe role files",
        description="Check, list and describe role files.",
    )
    actions = parser.add_subparsers(dest="roles_command", metavar="ACTION")
    actions.required = True
    dir_help = f"roles directory (default: ${ROLES_DIR_ENV} or roles)"

    check = actions.add_parser(
        "check", help="validate every role, fragment and prompt file; exit 1 on errors"
    )
    check.add_argument("dir", nargs="?", default=None, help=dir_help)
    check.add_argument(
        "--online",
        action="store_true",
        help="also connect to the MCP servers the roles name: the allowlisted tools exist and fit",
    )
    check.set_defaults(func=_check)

    listing = actions.add_parser("list", help="name, title, tool count and description of each role")
    listing.add_argument("dir", nargs="?", default=None, help=dir_help)
    listing.set_defaults(func=_list)

    schema = actions.add_parser("schema", help="print the JSON Schema of role files (for editors)")
    schema.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    schema.add_argument("--fragment", action="store_true", help="the schema of fragment files instead")
    schema.set_defaults(func=_schema)

    types = actions.add_parser(
        "types", help="print a TypeScript module of the frontend tools' argument types and schemas"
    )
    types.add_argument("dir", nargs="?", default=None, help=dir_help)
    types.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    types.set_defaults(func=_types)

    variant = actions.add_parser(
        "live-variant",
        help="copy a roles directory with every role moved to GPT-Live (api: live), to compare both",
    )
    variant.add_argument("dir", nargs="?", default=None, help=dir_help)
    variant.add_argument("--output", "-o", metavar="DIR", required=True, help="new directory to write")
    variant.add_argument("--voice", default="marin", help="the GPT-Live voice of every role (default marin)")
    variant.set_defaults(func=_live_variant)


def _dir(args: argparse.Namespace) -> str:
    return str(args.dir) if args.dir else default_roles_dir()


def _existing_dir(args: argparse.Namespace) -> str | None:
    """The roles directory to read, or None (after saying so) when it does not exist."""
    roles_dir = _dir(args)
    if not os.path.isdir(roles_dir):
        print(f"{roles_dir}: roles directory not found", file=sys.stderr)
        return None
    return roles_dir


def _policy() -> RolePolicy | None:
    """The deployment's policy, from the environment and `.env` (None, after saying why, if invalid).

    The command line is the one place in this package that reads settings (the loader and the registry
    are handed a policy): a role is checked against what this deployment's worker will accept.
    """
    from worker.settings import Settings, SettingsError

    try:
        return Settings.load(need_livekit=False).role_policy()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _check(args: argparse.Namespace) -> int:
    roles_dir = _existing_dir(args)
    policy = _policy()
    if roles_dir is None or policy is None:
        return 1 if policy is not None else 2
    report = check_dir(roles_dir, policy=policy)
    width = max((len(r.role.name) for r in report.results if r.role is not None), default=0)
    for result in report.results:
        if result.role is not None:
            print(f"ok  {result.role.name:<{width}}  ({result.file})")
        for error in result.errors:
            print(error)
    for error in report.other_errors:
        print(error)
    if not report.results:  # the worker refuses to start without a role: so does the check
        print(f"{display_path(roles_dir)}: no role files (*.yaml) found", file=sys.stderr)
        return 1
    online_ok = _check_online([r.role for r in report.results if r.role is not None]) if args.online else True
    return 0 if report.ok and online_ok else 1


def _check_online(roles: list[Any]) -> bool:
    """`--online`: list each MCP server of the valid roles; print what each offers and every problem."""
    import asyncio

    from worker.settings import Settings
    from worker.tools.mcp.online import check_online

    checks, errors = asyncio.run(check_online(roles, Settings.load(need_livekit=False)))
    for check in checks:
        found = f"{check.listed} tools listed" if check.listed is not None else "not reachable"
        print(f"{'ok ' if check.listed is not None else '-- '} mcp {check.server}  ({check.url}: {found})")
    for error in errors:
        print(error)
    return not errors


def _list(args: argparse.Namespace) -> int:
    roles_dir = _existing_dir(args)
    policy = _policy()
    if roles_dir is None or policy is None:
        return 1 if policy is not None else 2
    report = check_dir(roles_dir, policy=policy)
    rows = [("NAME", "TITLE", "TOOLS", "DESCRIPTION")]
    invalid = []
    for result in report.results:
        if result.role is None:
            invalid.append(result.file)
            continue
        role = result.role
        rows.append((role.name, role.title, str(len(role.tools)), role.description))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}")
    for file in invalid:
        print(f"{file}: invalid, not listed (run: python -m worker roles check)", file=sys.stderr)
    return 0


def _schema(args: argparse.Namespace) -> int:
    text = schema_text("fragment" if args.fragment else "role")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _types(args: argparse.Namespace) -> int:
    from worker.roles.typescript import TypesError, generate_dir

    roles_dir = _existing_dir(args)
    policy = _policy()
    if roles_dir is None or policy is None:
        return 1 if policy is not None else 2
    try:
        text = generate_dir(roles_dir, policy=policy)
    except TypesError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print("no types generated: fix the role files first", file=sys.stderr)
        return 1
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _live_variant(args: argparse.Namespace) -> int:
    from worker.roles.live_variant import write_live_variant

    roles_dir = _existing_dir(args)
    policy = _policy()
    if roles_dir is None or policy is None:
        return 1 if policy is not None else 2
    if os.path.exists(args.output):
        print(f"{args.output}: already exists; name a new directory", file=sys.stderr)
        return 2
    names = write_live_variant(roles_dir, args.output, voice=args.voice)
    report = check_dir(args.output, policy=policy)
    for error in [e for r in report.results for e in r.errors] + report.other_errors:
        print(error, file=sys.stderr)
    print(f"{args.output}: {len(names)} roles on api: live ({', '.join(names)})")
    return 0 if report.ok else 1
