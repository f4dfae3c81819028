"""The price table: the built-in prices, an operator's file over them, and errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.errors import ConfigError, FileError
from worker.pricing import BUILTIN_PRICES, PriceTableError, Usage, estimate_cost, load_prices

pytestmark = pytest.mark.unit

ENTRY = "{text_in: 1, text_in_cached: 0.1, audio_in: 2, audio_in_cached: 0.2, text_out: 3, audio_out: 4}"


def error_of(tmp_path: Path, text: str, name: str = "prices.yaml") -> PriceTableError:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PriceTableError) as info:
        load_prices(path)
    assert info.value.file == str(path)
    return info.value


def test_a_file_adds_and_overrides_models(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(f"gpt-new: {ENTRY}\ngpt-realtime: {ENTRY}\n")
    table = load_prices(path)
    assert set(table) == set(BUILTIN_PRICES) | {"gpt-new"}
    assert table["gpt-realtime"].audio_out == 4
    assert estimate_cost("gpt-new", Usage(text_in=1_000_000), table) == 1.0
    assert load_prices(None) == BUILTIN_PRICES


def test_a_bad_value_is_located(tmp_path: Path) -> None:
    err = error_of(tmp_path, f"gpt-new: {ENTRY}\ngpt-x:\n  text_in: cheap\n")
    assert (err.line, err.column, err.field) == (3, 12, "gpt-x.text_in")
    assert str(err).startswith(
        f"{tmp_path / 'prices.yaml'}:3:12: gpt-x.text_in: Input should be a valid number"
    )


def test_a_missing_price_points_at_its_entry(tmp_path: Path) -> None:
    err = error_of(tmp_path, "models:\n  x: 1\ngpt-x: {text_in: 1}\n")
    assert (err.line, err.column, err.field) == (2, 3, "models.text_in")  # the entry, where a key is missing
    err = error_of(tmp_path, "gpt-x: {text_in: 1}\n")
    assert (err.line, err.column, err.field) == (1, 8, "gpt-x.text_in_cached")
    assert "Field required" in err.message


def test_the_yaml_is_read_as_safely_as_role_files(tmp_path: Path) -> None:
    err = error_of(tmp_path, f"gpt-x: {ENTRY}\ngpt-x: {ENTRY}\n")
    assert (err.line, err.message) == (2, "duplicate key 'gpt-x' (first defined on line 1)")
    assert "not valid YAML" in str(error_of(tmp_path, "gpt-x: [\n"))


def test_json_files_say_where_their_syntax_breaks(tmp_path: Path) -> None:
    err = error_of(tmp_path, '{"gpt-x": {"text_in": }}', "prices.json")
    assert (err.line, err.column) == (1, 23) and err.message.startswith("not valid JSON: ")


def test_unreadable_or_not_a_mapping(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    with pytest.raises(PriceTableError, match=r"nowhere\.yaml: cannot read price table"):
        load_prices(missing)
    assert error_of(tmp_path, "- a\n- b\n").message == "expected a mapping of model name to prices"
    assert error_of(tmp_path, "").line is None


def test_a_price_table_error_is_a_config_error_and_a_file_error(tmp_path: Path) -> None:
    err = error_of(tmp_path, "- a\n")
    assert isinstance(err, ConfigError) and isinstance(err, FileError)
