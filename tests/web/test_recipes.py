"""Recipe collection and search (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from worker.web.models import Recipe, RecipeSearchRequest
from worker.web.recipes import RECIPES_FILE, RecipeBook, words

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def book() -> RecipeBook:
    return RecipeBook.load()


def search(book: RecipeBook, query: str, **kw: object) -> list[str]:
    return [r.id for r in book.search(RecipeSearchRequest.model_validate({"query": query, **kw}))]


def test_bundled_collection_is_valid_and_complete(book: RecipeBook) -> None:
    raw = json.loads(RECIPES_FILE.read_text(encoding="utf-8"))
    assert 10 <= len(book) == len(raw) <= 15
    for item in raw:
        recipe = book.get(item["id"])
        assert recipe is not None and recipe.model_dump() == Recipe.model_validate(item).model_dump()
        assert recipe.steps and recipe.ingredients and recipe.servings > 0
        if "vegan" in recipe.diet:
            assert "vegetarian" in recipe.diet, recipe.id


def test_demo_scenario_recipe_matches_what_the_script_says(book: RecipeBook) -> None:
    # scenarios/demo.yaml: "spaghetti carbonara, ready in 25 minutes", step 1 boils water, ticks "spaghetti".
    recipe = book.get("spaghetti-carbonara")
    assert recipe is not None and recipe.minutes == 25
    assert "salted water to the boil" in recipe.steps[0]
    assert "al dente" in recipe.steps[1]
    assert "spaghetti" in [i.name for i in recipe.ingredients]
    assert "spaghetti-carbonara" in search(book, "quick pasta", max_results=3)


def test_words_fold_case_plurals_stop_words_and_synonyms() -> None:
    assert words("I'd like some Tomatoes and EGGS, please") == {"tomato", "egg"}
    assert words("fast spaghetti") == {"fast", "quick", "spaghetti", "pasta"}
    assert words("glass") == {"glass"}


def test_ranking_prefers_title_words_then_shorter_recipes(book: RecipeBook) -> None:
    assert search(book, "carbonara")[0] == "spaghetti-carbonara"
    assert search(book, "risotto") == ["mushroom-risotto"]
    # All three pastas score the same for "pasta": shortest first, then by id.
    assert search(book, "pasta", max_results=5) == [
        "spaghetti-aglio-e-olio",
        "penne-arrabbiata",
        "spaghetti-carbonara",
    ]
    # A title word (3) beats an ingredient word (2): "lentil" is the soup's title.
    assert search(book, "lentil")[0] == "red-lentil-soup"


def test_diet_filters_require_every_requested_diet(book: RecipeBook) -> None:
    vegan_pasta = search(book, "pasta", diet=["vegan"], max_results=5)
    assert vegan_pasta == ["spaghetti-aglio-e-olio", "penne-arrabbiata"]
    for rid in search(book, "garlic onion egg", diet=["vegetarian", "gluten-free"], max_results=5):
        recipe = book.get(rid)
        assert recipe is not None and {"vegetarian", "gluten-free"} <= set(recipe.diet)


def test_max_minutes_and_max_results(book: RecipeBook) -> None:
    hits = book.search(RecipeSearchRequest(query="garlic", max_minutes=20, max_results=5))
    assert hits and all(h.minutes <= 20 for h in hits)
    assert len(search(book, "garlic", max_results=2)) == 2
    assert search(book, "chicken", max_minutes=60) == []  # the roast takes 95 minutes
    assert search(book, "chicken") == ["lemon-herb-roast-chicken"]


def test_quick_matches_short_recipes_only(book: RecipeBook) -> None:
    hits = search(book, "something quick", max_results=5)
    assert len(hits) == 5
    for rid in hits:
        recipe = book.get(rid)
        assert recipe is not None and recipe.minutes <= 30


def test_quick_alone_cannot_make_a_hit_for_a_longer_query(book: RecipeBook) -> None:
    assert search(book, "quick pasta", diet=["vegan"], max_results=5) == [
        "spaghetti-aglio-e-olio",
        "penne-arrabbiata",
    ]
    assert search(book, "quick xylophone") == []


def test_no_shared_word_means_no_hit(book: RecipeBook) -> None:
    assert search(book, "xylophone zebra") == []
    assert search(book, "the and of") == []


def test_get_refuses_ids_outside_the_pattern(book: RecipeBook) -> None:
    assert book.get("spaghetti-carbonara") is not None
    for bad in ["", "../recipes", "Spaghetti-Carbonara", "a" * 65, "spaghetti carbonara", "-x"]:
        assert book.get(bad) is None


def test_duplicate_ids_and_invalid_files_are_refused(tmp_path: Path) -> None:
    recipe = Recipe.model_validate(json.loads(RECIPES_FILE.read_text())[0])
    with pytest.raises(ValueError, match="duplicate recipe id"):
        RecipeBook([recipe, recipe])
    bad = tmp_path / "recipes.json"
    bad.write_text(json.dumps([{**recipe.model_dump(), "steps": []}]))
    with pytest.raises(ValidationError):
        RecipeBook.load(bad)
