"""pydantic errors phrased at their YAML position, for any model and in the caller's error class."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from worker.errors import FileError
from worker.yamlfile import Document, Path, did_you_mean, hinted, parse, validation_errors

pytestmark = pytest.mark.unit


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Cat(_Strict):
    kind: Literal["cat"]
    lives: int = Field(9, ge=1, le=9)


class Dog(_Strict):
    kind: Literal["dog"]
    name: str


class Shelter(_Strict):
    animals: list[Annotated[Cat | Dog, Field(discriminator="kind")]]
    city: str = ""


class ShelterError(FileError):
    """The caller's own error class."""


def errors(text: str, tags: tuple[str, ...] = (), expected_at: dict[Path, str] | None = None) -> list[str]:
    doc = parse(text, "shelter.yaml")
    with pytest.raises(ValidationError) as info:
        Shelter.model_validate(doc.data)
    found = validation_errors(
        info.value, doc, Shelter, error=ShelterError, tags=tags, expected_at=expected_at
    )
    assert all(type(e) is ShelterError for e in found)
    return [str(e) for e in found]


def test_errors_are_located_phrased_and_of_the_callers_class() -> None:
    text = "animals:\n  - {kind: cat, lives: 12}\n  - {kind: dog}\ncity: [x]\nzoo: true\n"
    assert errors(text, tags=("kind",)) == [
        "shelter.yaml:2:24: animals[0].lives: expected a number from 1 to 9, found 12",
        "shelter.yaml:3:5: animals[1].name: missing required key 'name'",
        "shelter.yaml:4:7: city: expected text, found a list",
        "shelter.yaml:5:1: zoo: unknown key 'zoo' (hint: valid keys: animals, city)",
    ]


def test_a_missing_tag_lists_the_values_the_union_declares() -> None:
    assert errors("animals:\n  - {name: Rex}\n", tags=("kind",)) == [
        "shelter.yaml:2:5: animals[0]: missing required key 'kind' (one of cat, dog)"
    ]
    assert errors("animals:\n  - {kind: dgo}\n", tags=("kind",)) == [
        "shelter.yaml:2:12: animals[0].kind: expected one of cat, dog, found 'dgo' (hint: did you mean 'dog'?)"
    ]


def test_a_path_can_say_what_it_expects() -> None:
    assert errors("animals: 5\n", expected_at={("animals",): "a list of animals"}) == [
        "shelter.yaml:1:10: animals: expected a list of animals, found 5"
    ]


def test_hinted_errors_and_did_you_mean() -> None:
    assert hinted("no", "try yes").type == "hinted"
    assert did_you_mean("citty", ["city", "animals"]) == "did you mean 'city'?"
    assert did_you_mean("zzz", ["city"]) == ""
    assert isinstance(parse("a: 1\n", "f.yaml"), Document)
