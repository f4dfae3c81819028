"""The demo's recipe collection (`recipes.json`, bundled) and its search, behind the `find_recipes` tool.

Search is deliberately simple and predictable: filters first (every requested diet, total time), then a
score from the words the query shares with each recipe — a title word counts 3, a tag or ingredient word
2, a summary word 1 — ties broken by the shorter recipe, then by id. A recipe sharing no word is not a hit,
nor one sharing only "quick" with a query that asks for more ("quick pasta" never returns tacos).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter

from worker.web.models import Recipe, RecipeSearchRequest, RecipeSummary

RECIPES_FILE = Path(__file__).with_name("recipes.json")
RECIPE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
QUICK_MINUTES = 30
"""Recipes this short also match "quick", "fast" and "easy"."""

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    re.findall(
        r"\S+",
        "a an and any are as at be but by can do for from get have i in into is it like make me my "
        "of on or please recipe recipes some something the to tonight want what with would you",
    )
)
_SOFT = frozenset({"quick"})
"""Words that refine a query but cannot make a hit on their own (unless they are the whole query)."""
_SYNONYMS = {"fast": "quick", "easy": "quick", "speedy": "quick", "spaghetti": "pasta", "penne": "pasta"}


def words(text: str) -> set[str]:
    """Search words of `text`: lower case, without stop words or single letters, plurals folded,
    synonyms added."""
    out = set()
    for word in _WORD.findall(text.lower()):
        if len(word) < 2 or word in _STOP:
            continue
        out.add(_stem(word))
        if word in _SYNONYMS:
            out.add(_SYNONYMS[word])
    return out


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("oes"):
        return word[:-2]  # tomatoes -> tomato
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@dataclass(frozen=True)
class _Indexed:
    recipe: Recipe
    weights: dict[str, int]


class RecipeBook:
    """Recipes by id, with `search`."""

    def __init__(self, recipes: Iterable[Recipe]) -> None:
        self._by_id: dict[str, _Indexed] = {}
        for recipe in recipes:
            if recipe.id in self._by_id:
                raise ValueError(f"duplicate recipe id {recipe.id!r}")
            self._by_id[recipe.id] = _Indexed(recipe, _weights(recipe))

    @classmethod
    def load(cls, path: Path = RECIPES_FILE) -> RecipeBook:
        """Read and validate a JSON list of recipes."""
        adapter = TypeAdapter(list[Recipe])
        return cls(adapter.validate_json(path.read_bytes()))

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, recipe_id: str) -> Recipe | None:
        """The recipe with this id, or None (ids outside `RECIPE_ID` are never looked up)."""
        if not RECIPE_ID.fullmatch(recipe_id):
            return None
        entry = self._by_id.get(recipe_id)
        return entry.recipe if entry is not None else None

    def search(self, request: RecipeSearchRequest) -> list[RecipeSummary]:
        """Best matches first, at most `request.max_results`."""
        wanted = words(request.query)
        scored: list[tuple[int, int, str, Recipe]] = []
        for entry in self._by_id.values():
            recipe = entry.recipe
            if not set(request.diet) <= set(recipe.diet):
                continue
            if request.max_minutes is not None and recipe.minutes > request.max_minutes:
                continue
            main = sum(entry.weights.get(word, 0) for word in wanted - _SOFT)
            soft = sum(entry.weights.get(word, 0) for word in wanted & _SOFT)
            # "quick pasta" must match pasta: a soft word alone only counts when the query has nothing else.
            if main > 0 or (soft > 0 and not wanted - _SOFT):
                scored.append((-(main + soft), recipe.minutes, recipe.id, recipe))
        scored.sort(key=lambda item: item[:3])
        return [
            RecipeSummary(id=r.id, title=r.title, minutes=r.minutes, summary=r.summary)
            for *_, r in scored[: request.max_results]
        ]


def _weights(recipe: Recipe) -> dict[str, int]:
    weights: dict[str, int] = {}

    def add(texts: Sequence[str], weight: int) -> None:
        for text in texts:
            for word in words(text):
                weights[word] = max(weights.get(word, 0), weight)

    add([recipe.summary], 1)
    add([*recipe.tags, *recipe.diet, *(i.name for i in recipe.ingredients)], 2)
    add([recipe.title], 3)
    if recipe.minutes <= QUICK_MINUTES:
        weights["quick"] = max(weights.get("quick", 0), 1)
    return weights
