"""Roles written to a temporary folder for the tool unit tests."""

from __future__ import annotations

from pathlib import Path

from worker.roles import Role, RoleRegistry

FRONT = """
name: front
title: Front desk
description: A role with one tool of every kind.
limits: {max_tool_calls_per_turn: 2, max_handoffs: 1}
variables:
  user_name: {default: there}
  table: {default: "7"}
instructions: Help {{ user_name }}.
tools:
  - name: show_card
    kind: frontend
    description: Show a card.
    parameters: {type: object, properties: {title: {type: string, maxLength: 20}}, required: [title]}
    timeout_s: 0.05
    error_message: Apologise that the screen could not show it.
  - {name: other_card, kind: frontend, rpc_method: cards.other, description: Another card.}
  - {name: to_back, kind: handoff, target: back, description: Hand over., message: Say the back office takes over.}
  - {name: to_quiet, kind: handoff, target: quiet, history: none, description: Hand over to a fresh agent.}
  - {name: end_session, kind: builtin, builtin: end_session, description: End the call.}
"""

BACK = """
name: back
title: Back office
description: The handoff target.
variables:
  user_name: {default: you}
greeting: {say: Back office here.}
instructions: You are the back office, helping {{ user_name }}.
tools:
  - {name: back_only, kind: frontend, description: Only the back office has this.}
"""

QUIET = """
name: quiet
title: Quiet room
description: A handoff target without a greeting.
instructions: You are quiet.
"""


def write_roles(folder: Path) -> RoleRegistry:
    """`front`, `back` and `quiet` in `folder`, and a registry over them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("front", FRONT), ("back", BACK), ("quiet", QUIET)):
        (folder / f"{name}.yaml").write_text(text)
    return RoleRegistry(folder)


def front(registry: RoleRegistry) -> Role:
    return registry.get("front")
