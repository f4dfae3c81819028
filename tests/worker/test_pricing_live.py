"""GPT-Live's cost: the voice session by duration, the backend's tokens at the backend model's price."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.pricing import BUILTIN_PRICES, DurationPrice, PriceTableError, Usage, estimate_cost, load_prices
from worker.report import SessionRecord

pytestmark = pytest.mark.unit


def test_the_voice_session_is_priced_by_the_second() -> None:
    usage = Usage(seconds=90)
    assert estimate_cost("gpt-live-1", usage, BUILTIN_PRICES) == pytest.approx(0.075)  # $0.05 a minute


def test_backend_tokens_are_added_at_the_backend_models_price() -> None:
    usage = Usage(seconds=60, text_in=1_000_000, text_in_cached=500_000, text_out=1_000_000)
    cost = estimate_cost("gpt-live-1", usage, BUILTIN_PRICES, backend="gpt-5.6-luna")
    assert cost == pytest.approx(0.05 + 0.5 * 0.2 + 0.5 * 0.02 + 1.2)


def test_unpriced_backend_tokens_give_no_estimate_rather_than_a_low_one() -> None:
    usage = Usage(seconds=60, text_in=10)
    assert estimate_cost("gpt-live-1", usage, BUILTIN_PRICES, backend="gpt-unknown") is None
    assert estimate_cost("gpt-live-1", usage, BUILTIN_PRICES) is None
    assert estimate_cost("gpt-live-1", Usage(seconds=60), BUILTIN_PRICES, backend="gpt-unknown") == 0.05


def test_a_price_file_may_price_by_the_minute(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("gpt-live-2: {per_minute: 0.04}\n")
    table = load_prices(path)
    assert table["gpt-live-2"] == DurationPrice(per_minute=0.04)
    path.write_text("gpt-live-2: {per_minute: 0.04, text_in: 1}\n")
    with pytest.raises(PriceTableError) as err:
        load_prices(path)
    assert (err.value.line, err.value.field) == (1, "gpt-live-2.text_in")


def test_the_report_carries_the_backend_model_and_the_duration_cost() -> None:
    record = SessionRecord(
        session_id="s", room="r", participant="p", role="a", model="gpt-live-1", backend_model="gpt-5.6-luna"
    )
    record.usage = Usage(seconds=120)
    report = record.finish("end_session", BUILTIN_PRICES)
    assert report.backend_model == "gpt-5.6-luna" and report.cost_usd == pytest.approx(0.1)
    assert report.usage.seconds == 120
