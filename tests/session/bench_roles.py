"""Roles written into the test stack's roles folder: one tool per behaviour under test."""

from __future__ import annotations

CARD = {
    "type": "object",
    "properties": {"title": {"type": "string"}},
    "required": ["title"],
    "additionalProperties": False,
}


def bench_role(app_port: int) -> str:
    base = f"http://127.0.0.1:{app_port}"
    return f"""
name: bench
title: Test bench
description: Integration-test role with a tool for every behaviour.
model:
  modalities: [audio]
  turn_detection: {{type: server_vad, silence_duration_ms: 400}}
greeting:
  say: Hello from the test bench.
instructions: You are a test agent for {{{{ user_name }}}}.
variables:
  user_name: {{default: tester}}
tools:
  - {{name: show_card, kind: frontend, description: Show a card., parameters: {CARD}, timeout_s: 3}}
  - {{name: slow_card, kind: frontend, description: Never answers in time., timeout_s: 1}}
  - {{name: fail_card, kind: frontend, description: Throws in the page.}}
  - {{name: big_card, kind: frontend, description: Answers too much.}}
  - {{name: missing_card, kind: frontend, description: Not implemented by the page.}}
  - name: echo_card
    kind: frontend
    description: Echoes its arguments.
    parameters: {{type: object, properties: {{text: {{type: string}}}}}}
    error_message: Apologise that the screen could not show it.
  - name: lookup
    kind: http
    description: Look a recipe up.
    url: {base}/lookup
    secret_env: TOOL_TEST_HTTP_SECRET
    parameters: {{type: object, properties: {{query: {{type: string}}}}, required: [query]}}
  - {{name: http_fail, kind: http, description: Fails., url: {base}/fail, secret_env: TOOL_TEST_HTTP_SECRET}}
  - {{name: http_redirect, kind: http, description: Redirects., url: {base}/redirect, secret_env: TOOL_TEST_HTTP_SECRET}}
  - name: http_big
    kind: http
    description: Answers too much.
    url: {base}/big
    secret_env: TOOL_TEST_HTTP_SECRET
    max_response_bytes: 1000
  - {{name: http_notjson, kind: http, description: Answers HTML., url: {base}/notjson, secret_env: TOOL_TEST_HTTP_SECRET}}
  - {{name: http_slow, kind: http, description: Too slow., url: {base}/slow, secret_env: TOOL_TEST_HTTP_SECRET, timeout_s: 1}}
  - {{name: to_second, kind: handoff, description: Hand over to the second bench., target: bench-second}}
  - {{name: end_session, kind: builtin, builtin: end_session, description: End the call when the user is done.}}
"""


SECOND_ROLE = """
name: bench-second
title: Second bench
description: The handoff target of the test bench.
greeting: Introduce yourself as the second bench.
instructions: You are the second test agent.
tools:
  - {name: second_only, kind: frontend, description: Only the second bench has this.}
  - name: back_to_bench
    kind: handoff
    description: Hand back to the first bench.
    target: bench
"""


LIVE_MODEL = """model:
  api: live
  voice: cedar
  live_instructions: Speak briefly. Hand every request to your backend.
  backend: {model: gpt-5.6-luna, reasoning_effort: low}
"""


def live_bench_role(app_port: int) -> str:
    """The test bench on GPT-Live: a frontend tool, an http tool, a handoff and end_session."""
    base = f"http://127.0.0.1:{app_port}"
    return f"""
name: bench-gpt-live
title: Live bench
description: The test bench on GPT-Live.
{LIVE_MODEL}
greeting:
  say: Hello from the live bench.
instructions: You are the live test agent for {{{{ user_name }}}}.
variables:
  user_name: {{default: tester}}
tools:
  - {{name: show_card, kind: frontend, description: Show a card., parameters: {CARD}, timeout_s: 3}}
  - name: lookup
    kind: http
    description: Look a recipe up.
    url: {base}/lookup
    secret_env: TOOL_TEST_HTTP_SECRET
    parameters: {{type: object, properties: {{query: {{type: string}}}}, required: [query]}}
  - {{name: to_second, kind: handoff, description: Hand over., target: bench-gpt-live-second}}
  - {{name: end_session, kind: builtin, builtin: end_session, description: End the call.}}
"""


LIVE_SECOND_ROLE = f"""
name: bench-gpt-live-second
title: Second live bench
description: The handoff target of the live bench.
{LIVE_MODEL}
instructions: You are the second live test agent.
tools:
  - {{name: second_only, kind: frontend, description: Only the second bench has this.}}
  - {{name: end_session, kind: builtin, builtin: end_session, description: End the call.}}
"""
