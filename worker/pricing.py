"""Prices for the session-end cost estimate.

USD per million tokens, per model; or, for a model billed by duration (GPT-Live's voice model), USD per
minute (`per_minute`), with its backend's tokens priced at the backend model's entry. The built-in table
holds OpenAI's published list prices at the time of writing; prices change, so operators override them
with ROLECALL_PRICES_FILE (YAML or JSON of the same shape). A model missing from the table gets no
estimate (`None`), never a made-up one. A YAML price file is read as safely as role files
(`worker.yamlfile`), so its errors say `file:line:column`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from worker.errors import ConfigError, FileError
from worker.yamlfile import Document, parse, read_text


class Price(BaseModel):
    """USD per million tokens of each kind."""

    model_config = ConfigDict(extra="forbid")
    text_in: float
    text_in_cached: float
    audio_in: float
    audio_in_cached: float
    text_out: float
    audio_out: float


class DurationPrice(BaseModel):
    """USD per minute of session, billed per second (GPT-Live's voice model)."""

    model_config = ConfigDict(extra="forbid")
    per_minute: float


class Usage(BaseModel):
    """Token counts of one session, summed over its responses; on GPT-Live, the voice session's duration
    (`seconds`) and the backend's text tokens."""

    seconds: float = 0.0
    text_in: int = 0
    text_in_cached: int = 0
    audio_in: int = 0
    audio_in_cached: int = 0
    text_out: int = 0
    audio_out: int = 0

    def add(self, other: Usage) -> None:
        """Add another usage's counts to this one."""
        for name in Usage.model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def total(self) -> int:
        return self.text_in + self.audio_in + self.text_out + self.audio_out


AnyPrice = Price | DurationPrice

BUILTIN_PRICES: dict[str, AnyPrice] = {
    "gpt-realtime": Price(
        text_in=4.0, text_in_cached=0.4, audio_in=32.0, audio_in_cached=0.4, text_out=16.0, audio_out=64.0
    ),
    "gpt-realtime-mini": Price(
        text_in=0.6, text_in_cached=0.06, audio_in=10.0, audio_in_cached=0.3, text_out=2.4, audio_out=20.0
    ),
    "gpt-live-1": DurationPrice(per_minute=0.05),
    "gpt-5.6-luna": Price(
        text_in=0.2, text_in_cached=0.02, audio_in=0.0, audio_in_cached=0.0, text_out=1.2, audio_out=0.0
    ),
}


class PriceTableError(ConfigError, FileError):
    """The price file cannot be used: `file:line:column: model.field: message` (no position for JSON)."""


def load_prices(path: Path | None) -> dict[str, AnyPrice]:
    """The built-in table, updated with the entries of `path` when given."""
    table = dict(BUILTIN_PRICES)
    if path is None:
        return table
    file = str(path)
    doc: Document | None = None
    try:
        text = read_text(file, file, error=PriceTableError)
        if path.suffix == ".json":
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                message = f"not valid JSON: {exc.msg}"
                raise PriceTableError(message, file=file, line=exc.lineno, column=exc.colno) from None
        else:
            doc = parse(text, file, error=PriceTableError)
            raw = doc.data
    except (OSError, ValueError) as exc:  # a PriceTableError is neither
        raise PriceTableError(f"cannot read price table: {exc}", file=file) from None
    if not isinstance(raw, Mapping):
        line, column = doc.position(()) if doc is not None and raw is not None else (None, None)
        raise PriceTableError(
            "expected a mapping of model name to prices", file=file, line=line, column=column
        )
    for model, entry in raw.items():
        try:
            kind = DurationPrice if isinstance(entry, Mapping) and "per_minute" in entry else Price
            table[str(model)] = kind.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = (str(model), *first["loc"])
            line, column = doc.position(loc) if doc is not None else (None, None)
            field = ".".join(str(p) for p in loc)
            raise PriceTableError(first["msg"], file=file, line=line, column=column, field=field) from None
    return table


def estimate_cost(
    model: str, usage: Usage, prices: Mapping[str, AnyPrice], *, backend: str | None = None
) -> float | None:
    """Estimated USD cost of `usage` on `model` (and, for a duration-priced model, its `backend`'s tokens),
    or None when a model that was used has no price."""
    price = prices.get(model)
    if isinstance(price, DurationPrice):
        voice = usage.seconds / 60 * price.per_minute
        if not usage.total:
            return round(voice, 6)
        tokens = estimate_cost(backend, usage, prices) if backend is not None else None
        return None if tokens is None else round(voice + tokens, 6)
    if price is None:
        return None
    uncached_text = max(usage.text_in - usage.text_in_cached, 0)
    uncached_audio = max(usage.audio_in - usage.audio_in_cached, 0)
    micro = (
        uncached_text * price.text_in
        + usage.text_in_cached * price.text_in_cached
        + uncached_audio * price.audio_in
        + usage.audio_in_cached * price.audio_in_cached
        + usage.text_out * price.text_out
        + usage.audio_out * price.audio_out
    )
    return round(micro / 1_000_000, 6)
