import { describe, expect, it } from "vitest";

import { activityLabel } from "../src/components/Workspace";
import { CookingStore, type Recipe } from "../src/cooking";

const RECIPE: Recipe = {
  id: "r",
  title: "R",
  minutes: 1,
  summary: "s",
  servings: 1,
  diet: [],
  ingredients: [{ name: "spaghetti", quantity: "200 g" }],
  steps: ["Boil.", "Cook."],
};

describe("what the page shows and tells the agent", () => {
  it("labels the recipe search with what is searched for, and other tools by name", () => {
    expect(activityLabel({ name: "find_recipes", arguments: { query: "quick pasta" } })).toBe(
      "Searching recipes for “quick pasta”…",
    );
    expect(activityLabel({ name: "find_recipes", arguments: undefined })).toBe("Searching recipes…");
    expect(activityLabel({ name: "book_table", arguments: undefined })).toBe("Working on book table…");
  });

  it("says whether a box ticked by hand is now ticked (the event the page sends)", () => {
    const store = new CookingStore();
    store.showRecipe(RECIPE);
    expect(store.toggleIngredient("spaghetti")).toBe(true);
    expect(store.getSnapshot().checked).toEqual(["spaghetti"]);
    expect(store.toggleIngredient("spaghetti")).toBe(false);
    expect(store.getSnapshot().checked).toEqual([]);
  });
});
