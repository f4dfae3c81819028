"""Typed bodies of the web API, and the one function that turns raw request bytes into them.

The OpenAPI description (`worker.web.openapi`) is generated from these models, so they are the contract
the frontend builds against.
"""

from __future__ import annotations

import json
import math
from typing import Literal, TypeVar, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from worker.web.errors import ApiError

MAX_VARS = 32
Diet = Literal["vegetarian", "vegan", "gluten-free", "dairy-free", "nut-free"]
DIETS: tuple[str, ...] = get_args(Diet)
VarValue = StrictStr | StrictInt | StrictFloat | StrictBool
SUBJECT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@:|+=-]{0,127}$"
"""An app's user id (api-key `identity`, jwt `sub`); the participant identity is `user-` + it."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# ---------------------------------------------------------------------------------------------- roles


class RoleInfo(_Body):
    """What a role picker shows; never instructions or tools."""

    name: str = Field(description="role name, used in POST /api/session")
    title: str
    description: str


class RolesResponse(_Body):
    """`GET /api/roles`."""

    roles: list[RoleInfo]


# ---------------------------------------------------------------------------------------------- sessions


class SessionRequest(_Body):
    """`POST /api/session`: which role to talk to, and its template variables."""

    role: str = Field(min_length=1, max_length=64, description="a name from GET /api/roles")
    vars: dict[str, VarValue] = Field(
        default_factory=dict,
        max_length=MAX_VARS,
        description="values for the role's declared variables (strings or numbers)",
    )
    identity: str | None = Field(
        default=None,
        pattern=SUBJECT_PATTERN,
        description="api-key mode only: the app's user id; the participant identity is user-<identity>",
    )


class SessionResponse(_Body):
    """Everything the page needs to join the room where the agent is dispatched."""

    url: str = Field(description="LiveKit WebSocket URL to connect to")
    token: str = Field(description="LiveKit access token for this room only; also the redispatch credential")
    room: str
    identity: str = Field(description="the page's participant identity")
    role: str
    expires_at: str = Field(description="when the token stops admitting new connections (ISO 8601, UTC)")
    pre_connect_audio: bool = Field(
        default=False,
        description="the role takes the user's first words before the agent joins: enable the microphone "
        "with livekit-client's `preConnectBuffer` before connecting",
    )


class RedispatchResponse(_Body):
    """`POST /api/session/redispatch`."""

    room: str
    dispatched: Literal[True]


class TokenMetadata(_Body):
    """The participant metadata minted into a session token (the JWT signature protects it)."""

    role: str = Field(max_length=64)
    vars: dict[str, VarValue] = Field(default_factory=dict, max_length=MAX_VARS)


# ---------------------------------------------------------------------------------------------- recipes


class RecipeSearchRequest(_Body):
    """The cooking guide's `find_recipes` tool arguments (roles/cooking-guide.yaml)."""

    query: str = Field(min_length=1, max_length=200)
    diet: list[Diet] = Field(default_factory=list, max_length=len(DIETS))
    max_minutes: int | None = Field(default=None, ge=5, le=480)
    max_results: int = Field(default=3, ge=1, le=5)


class RecipeSummary(_Body):
    """One search hit."""

    id: str
    title: str
    minutes: int
    summary: str


class RecipeSearchResponse(_Body):
    recipes: list[RecipeSummary]


class Ingredient(_Body):
    name: str = Field(min_length=1, description="as the agent refers to it (check_ingredient)")
    quantity: str = Field(description="amount and unit, e.g. '200 g'; empty for 'to taste'")


class Recipe(_Body):
    """A full recipe card (`GET /api/recipes/{id}`)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    title: str = Field(min_length=1)
    minutes: int = Field(gt=0, description="total time, preparation included")
    summary: str = Field(min_length=1)
    servings: int = Field(gt=0)
    diet: list[Diet] = Field(description="diets the recipe fits as written")
    tags: list[str] = Field(default_factory=list, description="cuisine, course and main ingredients")
    ingredients: list[Ingredient] = Field(min_length=1)
    steps: list[str] = Field(min_length=1, description="step 1 is steps[0] (highlight_step counts from 1)")


# ---------------------------------------------------------------------------------------------- misc


class HealthResponse(_Body):
    status: Literal["ok"]


class ErrorDetail(BaseModel):
    """`code` is stable and machine-readable; `message` is for people. Some codes add fields."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    field: str | None = Field(default=None, description="the offending field's path (invalid_request)")
    roles: list[str] | None = Field(default=None, description="valid role names (unknown_role)")
    retry_after_s: int | None = Field(
        default=None, description="seconds to wait, as in the Retry-After header (429)"
    )


class ErrorResponse(BaseModel):
    error: ErrorDetail


# ---------------------------------------------------------------------------------------------- parsing

M = TypeVar("M", bound=BaseModel)


def parse_body(raw: bytes, model: type[M]) -> M:
    """Parse a JSON request body into `model`: 400 for malformed JSON, 422 naming the first bad field."""
    try:
        data = json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
    except _NotJson as exc:
        raise ApiError(400, "malformed_json", f"the request body is not valid JSON: {exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        detail = f": {exc.msg} at position {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ApiError(400, "malformed_json", f"the request body is not valid JSON{detail}") from None
    except RecursionError:  # thousands of nested brackets fit under the body cap; json recurses per level
        raise ApiError(400, "malformed_json", "the request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_request", "(body): the request body must be a JSON object", field="")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        # Unions report one error per member (`vars.x.str`); name the field, not the member type.
        if where.startswith("vars.") and where.count(".") > 1:
            where = ".".join(where.split(".")[:2])
            message = "expected a string, a number or a boolean"
        else:
            message = first["msg"]
        raise ApiError(422, "invalid_request", f"{where or '(body)'}: {message}", field=where) from None


class _NotJson(ValueError):
    pass


def _no_constant(name: str) -> float:
    # Python's json accepts NaN and Infinity; JSON does not, and neither does a role variable.
    raise _NotJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e309 parses as infinity
        raise _NotJson(f"the number {text[:40]} is out of range")
    return number
