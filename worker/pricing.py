"""Token prices for the session-end cost estimate.

USD per million tokens, per model. The built-in table holds OpenAI's published list prices for the
GA realtime models at the time of writing; prices change, so operators override them with
ROLECALL_PRICES_FILE (YAML or JSON of the same shape). A model missing from the table gets no
estimate (`None`), never a made-up one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class Price(BaseModel):
    """USD per million tokens of each kind."""

    model_config = ConfigDict(extra="forbid")
    text_in: float
    text_in_cached: float
    audio_in: float
    audio_in_cached: float
    text_out: float
    audio_out: float


class Usage(BaseModel):
    """Token counts of one session, summed over its responses."""

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


BUILTIN_PRICES: dict[str, Price] = {
    "gpt-realtime": Price(
        text_in=4.0, text_in_cached=0.4, audio_in=32.0, audio_in_cached=0.4, text_out=16.0, audio_out=64.0
    ),
    "gpt-realtime-mini": Price(
        text_in=0.6, text_in_cached=0.06, audio_in=10.0, audio_in_cached=0.3, text_out=2.4, audio_out=20.0
    ),
}


class PriceTableError(Exception):
    """The price file cannot be read; the message names the file and the entry."""


def load_prices(path: Path | None) -> dict[str, Price]:
    """The built-in table, updated with the entries of `path` when given."""
    table = dict(BUILTIN_PRICES)
    if path is None:
        return table
    try:
        text = path.read_text()
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise PriceTableError(f"{path}: cannot read price table: {exc}") from None
    if not isinstance(raw, Mapping):
        raise PriceTableError(f"{path}: expected a mapping of model name to prices")
    for model, entry in raw.items():
        try:
            table[str(model)] = Price.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise PriceTableError(f"{path}: {model}.{where}: {first['msg']}") from None
    return table


def estimate_cost(model: str, usage: Usage, prices: Mapping[str, Price]) -> float | None:
    """Estimated USD cost of `usage` on `model`, or None when the model has no price."""
    price = prices.get(model)
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
