"""`http` tools: signed POSTs to the URL in the role file, and every way they can fail."""

from __future__ import annotations

import json

import pytest

from tests.session.conftest import Stack

pytestmark = pytest.mark.integration


async def test_http_tool_posts_signed_arguments_and_returns_the_json_to_the_model(stack: Stack) -> None:
    ui = await stack.session("bench", participant="cook-42")
    try:
        await ui.wait_for(lambda: ui.agent() is not None, what="agent")
        await ui.say_text('/call lookup {"query": "pasta"}')
        output = json.loads(await stack.wait_tool_output("lookup"))
        assert output == {"found": True, "query": "pasta", "recipes": ["pasta al limone"]}
        req = next(r for r in stack.app.received if r.headers.get("X-RoleCall-Room") == ui.room_name)
        assert req.path == "/lookup" and req.signature_ok, req.signature_error
        assert req.body == {"query": "pasta"}
        assert req.headers["X-RoleCall-Room"] == ui.room_name
        assert req.headers["X-RoleCall-Participant"] == "cook-42"
        assert req.headers["X-RoleCall-Role"] == "bench"
        assert req.headers["X-RoleCall-Tool"] == "lookup"
        assert req.headers["X-RoleCall-Session"].startswith(ui.room_name + ":")
    finally:
        await ui.leave()


@pytest.mark.parametrize(
    ("tool", "reason"),
    [
        ("http_fail", "the service answered HTTP 500"),
        ("http_redirect", "the service answered HTTP 302"),
        ("http_big", "the response is larger than 1000 bytes"),
        ("http_notjson", "the service answered with something that is not JSON"),
        ("http_slow", "the service did not answer within 1 s"),
    ],
)
async def test_http_failures_become_the_roles_error_message(stack: Stack, tool: str, reason: str) -> None:
    ui = await stack.session("bench")
    try:
        await ui.wait_for(lambda: ui.agent() is not None, what="agent")
        await ui.say_text(f"/call {tool} {{}}")
        output = await stack.wait_tool_output(tool)
        assert output.startswith(f"{tool} failed: {reason}."), output
        await ui.say_text("still there")
        await ui.wait_for(lambda: "You said: still there" in ui.agent_text(), what="the session going on")
    finally:
        await ui.leave()


async def test_http_redirect_is_not_followed(stack: Stack) -> None:
    ui = await stack.session("bench")
    try:
        await ui.wait_for(lambda: ui.agent() is not None, what="agent")
        await ui.say_text("/call http_redirect {}")
        await stack.wait_tool_output("http_redirect")
        paths = [r.path for r in stack.app.received if r.headers.get("X-RoleCall-Room") == ui.room_name]
        assert paths == ["/redirect"]  # the Location (/lookup) was never requested
    finally:
        await ui.leave()


async def test_http_invalid_arguments_are_never_posted(stack: Stack) -> None:
    ui = await stack.session("bench")
    try:
        await ui.wait_for(lambda: ui.agent() is not None, what="agent")
        await ui.say_text('/call lookup {"query": 7}')
        output = await stack.wait_tool_output("lookup")
        assert output.startswith("invalid arguments for lookup: query: 7 is not of type 'string'")
        assert not [r for r in stack.app.received if r.headers.get("X-RoleCall-Room") == ui.room_name]
    finally:
        await ui.leave()
