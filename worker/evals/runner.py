"""Run an eval's conversations through the worker's own role, agent and tool code, and judge them.

Each run is one fresh session without a LiveKit room, built by the worker's own factory
(`worker.session.build_session`: the role's `RealtimeModel`, a `RoleAgent`, argument validation, the
per-turn limit, handoffs, the session record), with a stand-in page for frontend tools and, for
`http: mock`, a local backend for http tools. Typed turns go through `AgentSession.run`; spoken turns
are fed to the session's audio input. Offline the model is an in-process simulator playing
`scenario.build_plan`; live it is `OPENAI_BASE_URL` (or OpenAI).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
from livekit.agents import llm
from livekit.agents.voice.events import ConversationItemAddedEvent, SpeechCreatedEvent
from livekit.agents.voice.speech_handle import SpeechHandle

from worker._livekit_compat import session_running
from worker.evals.checks import TurnOutcome, Verdict, check
from worker.evals.model import LoadedEval
from worker.evals.scenario import build_plan, static_problems
from worker.evals.standins import (
    McpStandIn,
    MockBackend,
    StandInPage,
    frontend_methods,
    http_secrets,
    mcp_tools,
    mock_secrets,
)
from worker.evals.turns import ClipInput, delegated_turn, event_turn, reason_of, said, spoken_turn, typed_turn
from worker.pricing import Usage, load_prices
from worker.realtime import build_model
from worker.report import SessionRecord
from worker.roles import HandoffTool, Role, RoleError, RoleRegistry
from worker.session import build_session
from worker.settings import Settings
from worker.simulator import Faults, Simulator, SimulatorConfig
from worker.tools import SessionTools
from worker.tools.egress import EgressPolicy, client_session
from worker.tools.mcp import McpState

logger = logging.getLogger("rolecall.evals")

PARTICIPANT = "eval-user"


@dataclass
class RunOptions:
    """How to run evals."""

    roles_dir: str = "roles"
    live: bool = False
    """Against the real model (`OPENAI_BASE_URL` / `OPENAI_API_KEY`) instead of the offline simulator."""
    repeat: int = 1
    turn_timeout_s: float | None = None
    """Longest wait for one turn (default 20 s offline, 90 s live)."""
    openai_api_key: str = field(default="", repr=False)
    openai_base_url: str = ""
    prices_file: Path | None = None
    deployment: Settings = field(default_factory=Settings)
    """What roles may reference and reach here (`DEPLOYMENT_SETTINGS`), as the worker judges them."""

    @property
    def timeout_s(self) -> float:
        return self.turn_timeout_s or (90.0 if self.live else 20.0)


@dataclass
class ExpectationResult:
    """One expectation over every repeat."""

    conversation: str
    turn: int
    """1-based."""
    label: str
    where: str
    """`file:line` of the expectation."""
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(v.passed for v in self.verdicts)

    @property
    def runs(self) -> int:
        return len(self.verdicts)

    @property
    def ok(self) -> bool:
        return self.passed == self.runs


@dataclass
class ConversationRun:
    """One run of one conversation: its turns, transcript and usage."""

    conversation: str
    repeat: int
    turns: list[TurnOutcome]
    transcript: list[str]
    usage: Usage
    cost_usd: float | None
    failed: bool = False
    problems: list[str] = field(default_factory=list)
    """What went wrong outside the expectations (a turn that errored, events the simulator sent that
    OpenAI's types reject); any problem fails the eval."""


@dataclass
class EvalResult:
    """Everything about one eval file."""

    file: str
    role: str
    mode: str
    model: str
    expectations: list[ExpectationResult] = field(default_factory=list)
    runs: list[ConversationRun] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Problems that stopped the file from running (invalid file, unknown starting role)."""

    @property
    def ok(self) -> bool:
        return (
            not self.errors
            and all(e.ok for e in self.expectations)
            and not any(run.problems for run in self.runs)
        )


DEPLOYMENT_SETTINGS = (
    "ROLECALL_TOOL_ENV",
    "ROLECALL_HTTP_PRIVATE_HOSTS",
    "ROLECALL_HTTP_ALLOWED_HOSTS",
    "ROLECALL_APP_URL",
    "ROLECALL_PYTHON_TOOL_MODULES",
    "ROLECALL_MCP_LIST_TTL_S",
)
"""The worker's settings evals honour: what roles may reference and reach (SettingsError if malformed)."""


def settings_from_env() -> RunOptions:
    """The OpenAI, price and deployment settings evals read from the environment."""
    prices = os.environ.get("ROLECALL_PRICES_FILE")
    given = {name: os.environ[name] for name in DEPLOYMENT_SETTINGS if name in os.environ}
    return RunOptions(
        openai_api_key=os.environ.get("OPENAI_API_KEY", ""),
        openai_base_url=os.environ.get("OPENAI_BASE_URL", ""),
        prices_file=Path(prices) if prices else None,
        deployment=Settings.load(given, dotenv=None, need_livekit=False),
    )


async def run_eval(loaded: LoadedEval, options: RunOptions) -> EvalResult:
    """Run every conversation of `loaded` `options.repeat` times; judge every expectation."""
    registry = RoleRegistry(options.roles_dir, policy=options.deployment.role_policy())
    mode = "live" if options.live else "offline"
    try:
        start = registry.get(loaded.role)
    except RoleError as exc:
        valid = ", ".join(registry.names()) or "(none)"
        return EvalResult(
            loaded.file, loaded.role, mode, "", errors=[f"{loaded.file}: {exc.message}; roles: {valid}"]
        )
    result = EvalResult(loaded.file, start.name, mode, start.model.name)
    roles = [registry.get(n) for n in registry.names()]
    handoff_tools: dict[str, set[str]] = {}
    for r in roles:
        for t in r.tools:
            if isinstance(t, HandoffTool):
                handoff_tools.setdefault(t.target, set()).add(t.name)
    for ci, conversation in enumerate(loaded.spec.conversations):
        problems, _ = static_problems(conversation, start, registry)
        rows: dict[tuple[int, int], ExpectationResult] = {}
        for ti, turn in enumerate(conversation.turns):
            for ei, expect in enumerate(turn.expect):
                row = ExpectationResult(
                    conversation.name, ti + 1, expect.describe(), loaded.position(ci, ti, ei)
                )
                rows[(ti, ei)] = row
                result.expectations.append(row)
        for repeat in range(options.repeat):
            run = await _run_conversation(loaded, ci, start, registry, roles, options, repeat)
            result.runs.append(run)
            for (ti, ei), row in rows.items():
                turn_outcome = run.turns[ti]
                verdict = check(
                    conversation.turns[ti].expect[ei],
                    turn_outcome,
                    problem=problems.get((ti, ei)),
                    handoff_tools=handoff_tools,
                )
                row.verdicts.append(verdict)
                run.failed = run.failed or not verdict.passed
            run.problems[:0] = [f"turn {i + 1}: {t.error}" for i, t in enumerate(run.turns) if t.error]
            run.failed = run.failed or bool(run.problems)
    return result


async def _run_conversation(
    loaded: LoadedEval,
    index: int,
    start: Role,
    registry: RoleRegistry,
    roles: list[Role],
    options: RunOptions,
    repeat: int,
) -> ConversationRun:
    conversation = loaded.spec.conversations[index]
    variables = {**loaded.spec.variables, **conversation.variables}
    name = conversation.name
    try:
        rendered = start.render(variables)
    except RoleError as exc:
        failed = TurnOutcome(user="", error=f"the role's variables were rejected: {exc}")
        return ConversationRun(name, repeat, [failed] * len(conversation.turns), [], Usage(), None, True)
    async with contextlib.AsyncExitStack() as stack:
        sim: Simulator | None = None
        if options.live:
            settings = replace(
                options.deployment,
                openai_api_key=options.openai_api_key,
                openai_base_url=options.openai_base_url,
                roles_dir=Path(options.roles_dir),
                prices_file=options.prices_file,
            )
        else:
            greeting = rendered.greeting.say if rendered.greeting is not None else None
            plan = build_plan(conversation, start, registry, greeting=greeting)
            sim = Simulator(
                SimulatorConfig(
                    host="127.0.0.1",
                    port=0,
                    scenario=plan.scenario,
                    faults=Faults(audio_pace=0.0, delta_interval=0.0),
                    speech="tone",
                )
            )
            await sim.start()
            stack.push_async_callback(sim.stop)
            settings = replace(
                options.deployment,
                openai_base_url=sim.base_url,
                roles_dir=Path(options.roles_dir),
                prices_file=options.prices_file,
            )
        tools = SessionTools()
        if loaded.spec.http == "mock":
            secrets = stack.enter_context(mock_secrets(http_secrets(roles)))
            backend = MockBackend(loaded.spec.mocks, secrets)
            await backend.start()
            stack.push_async_callback(backend.stop)
            http = backend.client()
            if served := mcp_tools(roles):  # mcp tools answer from `mocks:` too, through the real client
                stand_in = McpStandIn(loaded.spec.mocks, served)
                await stand_in.start()
                stack.push_async_callback(stand_in.stop)
                tools = SessionTools(mcp=McpState(stand_in=stand_in.url))
        else:
            http = client_session(EgressPolicy.from_settings(settings))  # http tools: public addresses only
        stack.push_async_callback(http.close)
        page = StandInPage(loaded.spec.ui, frontend_methods(roles))
        turns, record = await _converse(
            loaded, index, start, rendered, registry, settings, http, page, options, tools
        )
        if sim is not None:
            delivered = {  # Realtime: conversation.item.create; GPT-Live: response.item.create
                e["item"].get("call_id")
                for kind in ("conversation.item.create", "response.item.create")
                for e in sim.received_of(kind)
                if e["item"].get("type") == "function_call_output"
            }
            for turn in turns:
                for call in turn.calls:
                    call.delivered = call.call_id in delivered
    cost = record.cost(load_prices(options.prices_file))
    run = ConversationRun(name, repeat, turns, _transcript(record, turns), record.usage, cost)
    if sim is not None:  # the offline simulator holds itself to OpenAI's event types
        run.problems += [f"simulator sent an invalid event: {v}" for v in sim.violations]
    return run


async def _converse(
    loaded: LoadedEval,
    index: int,
    start: Role,
    rendered: Any,
    registry: RoleRegistry,
    settings: Settings,
    http: aiohttp.ClientSession,
    page: StandInPage,
    options: RunOptions,
    tools: SessionTools,
) -> tuple[list[TurnOutcome], SessionRecord]:
    conversation = loaded.spec.conversations[index]
    session_id = f"eval:{Path(loaded.file).stem}:{index + 1}"
    model = build_model(start, settings)
    built = build_session(
        start,
        rendered,
        model=model,
        settings=settings,
        registry=registry,
        participant=PARTICIPANT,
        session_id=session_id,
        variables={**loaded.spec.variables, **conversation.variables},
        http=http,
        rpc=page,
        greet=loaded.spec.greet,
        mute_while_speaking=False,  # no echo to cancel here: user audio is never muted while the agent talks
        tools=tools,
    )
    session, agent, record, lifecycle = built.session, built.agent, built.ctx.record, built.ctx.lifecycle
    clips = ClipInput()
    session.input.audio = clips
    speeches: list[SpeechHandle] = []
    users: list[str] = []
    spoke = asyncio.Event()

    @session.on("speech_created")
    def _speech(ev: SpeechCreatedEvent) -> None:
        speeches.append(ev.speech_handle)
        spoke.set()

    @session.on("conversation_item_added")
    def _item(ev: ConversationItemAddedEvent) -> None:
        if isinstance(ev.item, llm.ChatMessage) and ev.item.role == "user":
            users.append(ev.item.text_content or "")

    outcomes: list[TurnOutcome] = []
    try:
        try:
            await asyncio.wait_for(
                session.start(agent, capture_run=True, record=False, session_host=False), options.timeout_s
            )
        except Exception as exc:  # the model is unreachable: every turn fails with the reason
            reason = f"the session did not start: {reason_of(exc)}"
            return [TurnOutcome(user=t.user or "", error=reason) for t in conversation.turns], record
        for turn in conversation.turns:
            roles_before = len(record.roles)
            if not session_running(session) or lifecycle.ending:
                outcome = TurnOutcome(user=said(turn), error="the session had ended (end_session)")
            elif turn.user is not None and start.model.live:
                outcome = await delegated_turn(session, turn.user, speeches, spoke, options.timeout_s)
            elif turn.user is not None:
                outcome = await typed_turn(session, turn.user, options.timeout_s)
            elif turn.event is not None:
                outcome = await event_turn(
                    built.events, turn.event, speeches, spoke, timeout_s=options.timeout_s
                )
            else:
                outcome = await spoken_turn(
                    loaded,
                    turn,
                    clips,
                    speeches,
                    spoke,
                    users,
                    live=options.live,
                    timeout_s=options.timeout_s,
                )
            outcome.roles_entered = record.roles[roles_before:]
            outcomes.append(outcome)
    finally:
        await lifecycle.close()
        with contextlib.suppress(Exception):
            await session.aclose()
        with contextlib.suppress(Exception):
            await model.aclose()
    return outcomes, record


def _transcript(record: SessionRecord, turns: list[TurnOutcome]) -> list[str]:
    """The session record's lines, tool calls and UI events in time order, as text."""
    entries: list[tuple[float, str]] = [
        (line.at, f"{line.speaker}: {line.text}") for line in record.transcript
    ]
    entries += [
        (
            call.at,
            f"  tool {call.name} {json.dumps(call.arguments, ensure_ascii=False)} -> {call.outcome}: "
            f"{call.detail[:200]}",
        )
        for call in record.tool_calls
    ]
    entries += [
        (event.at, f"  event {event.name} {json.dumps(event.payload, ensure_ascii=False)} -> {event.outcome}")
        for event in record.ui_events
    ]
    lines = [text for _, text in sorted(entries, key=lambda e: e[0])]
    lines += [f"  (turn {i + 1} did not complete: {t.error})" for i, t in enumerate(turns) if t.error]
    return lines
