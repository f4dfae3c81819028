"""Build livekit-agents' `GPTLiveModel` from an `api: live` role, and retune its backend in a session.

GPT-Live splits a role in two: the voice model speaks with the role's voice and `live_instructions`
(fixed for the connection by `session.start`), and a backend Responses model runs the role's
`instructions` and tools (`model.backend`), which `session.update` can change at any time. RoleCall puts
the role's prompt on the backend (`set_backend`), so handoffs and live reload change the backend only.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from livekit.agents import llm
from livekit.agents.llm._realtime.gpt_live import GPTLiveModel, GPTLiveSession, ResponsesDelegationOptions

from worker._livekit_compat import TakeConnection, connect_through, set_live_backend
from worker.roles import Role
from worker.roles.model_settings import FunctionChoice, ModelSettings, ToolChoice
from worker.settings import Settings

logger = logging.getLogger("rolecall.model")

SIMULATOR_KEY = "rolecall-simulator"
"""Key sent when no OpenAI key is set and the base URL points elsewhere (the simulator accepts any)."""


def tool_choice_of(choice: ToolChoice) -> llm.ToolChoice:
    """A role's `tool_choice` as livekit-agents takes it."""
    if isinstance(choice, FunctionChoice):
        return {"type": "function", "function": {"name": choice.function}}
    return choice


def backend_options(model: ModelSettings, instructions: str | None = None) -> ResponsesDelegationOptions:
    """The backend settings of a role (its instructions, when given), as livekit-agents takes them."""
    backend = model.backend
    options = ResponsesDelegationOptions(model=backend.model, tool_choice=tool_choice_of(model.tool_choice))
    if instructions is not None:
        options["instructions"] = instructions
    if backend.reasoning_effort is not None:
        options["reasoning"] = {"effort": backend.reasoning_effort}
    if backend.verbosity is not None:
        options["text"] = {"verbosity": backend.verbosity}
    if backend.max_output_tokens is not None:
        options["max_output_tokens"] = backend.max_output_tokens
    if model.parallel_tool_calls is not None:
        options["parallel_tool_calls"] = model.parallel_tool_calls
    return options


def build_live_model(role: Role, settings: Settings, take: TakeConnection | None = None) -> RoleCallLiveModel:
    """A GPTLiveModel with the role's model, voice and backend; the backend's instructions are set by
    the session (`RoleCallLiveModel.set_backend`) once the role's prompt is rendered."""
    m = role.model
    kwargs: dict[str, Any] = {
        "model": m.name,
        "voice": m.voice,
        "delegation": "responses",
        "responses_options": backend_options(m),
        "api_key": settings.openai_api_key or (SIMULATOR_KEY if settings.openai_base_url else None),
    }
    if settings.openai_base_url:
        kwargs["base_url"] = settings.openai_base_url
    return RoleCallLiveModel(take=take, **kwargs)


class RoleCallLiveModel(GPTLiveModel):
    """livekit-agents' GPTLiveModel with an early connection and a backend the session can retune.

    **An early connection**, as `worker.realtime.RoleCallRealtimeModel` has: `open_early()` creates the
    first session before the room is joined; GPT-Live connects at once and sends `session.start` only
    once the agent has configured it. **A backend to retune**: `set_backend` changes the backend's
    settings on the model (for sessions to come) and on every session of it (a started one gets a
    sparse `session.update`). **A pre-opened connection**: with `take`, as the Realtime model has.
    """

    def __init__(self, *, take: TakeConnection | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.take = take
        self._early: GPTLiveSession | None = None
        self._early_errors: list[Any] = []
        self._sessions: list[GPTLiveSession] = []

    def open_early(self) -> None:
        """Start connecting now; the first `session()` call returns this session."""
        if self._early is None:
            self._early = self._new_session()
            self._early.on("error", self._early_errors.append)

    def session(self) -> GPTLiveSession:
        early, self._early = self._early, None
        if early is None:
            return self._new_session()
        early.off("error", self._early_errors.append)
        errors, self._early_errors = self._early_errors, []
        loop = asyncio.get_running_loop()
        for err in errors:  # after the caller has attached its listeners
            loop.call_soon(early.emit, "error", err)
        return early

    def set_backend(self, options: ResponsesDelegationOptions) -> None:
        """Change the backend's settings (instructions, model, tools' choice, ...) from now on."""
        self._opts.responses.update(options)
        for session in self._sessions:
            set_live_backend(session, options)

    async def aclose(self) -> None:
        early, self._early = self._early, None
        if early is not None:
            try:
                await early.aclose()
            except Exception as exc:  # its failure was emitted as an error event already
                logger.debug("the unused early model session ended with %r", exc)
        await super().aclose()

    def _new_session(self) -> GPTLiveSession:
        session = super().session()
        if self.take is not None:
            connect_through(session, self.take)
        self._sessions.append(session)
        return session
