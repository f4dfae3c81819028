import { describe, expect, it } from "vitest";

import { CookingStore, cookingHandlers, fetchRecipe, matchIngredient, type Recipe } from "../src/cooking";
import { clock } from "../src/format";
import { accentFor, initials } from "../src/persona";

const CARBONARA: Recipe = {
  id: "spaghetti-carbonara",
  title: "Spaghetti Carbonara",
  minutes: 25,
  summary: "Roman pasta.",
  servings: 2,
  diet: ["nut-free"],
  ingredients: [
    { name: "spaghetti", quantity: "200 g" },
    { name: "guanciale or pancetta", quantity: "100 g" },
    { name: "eggs", quantity: "2" },
  ],
  steps: ["Boil water.", "Cook pasta.", "Mix."],
};

function setup(now = { t: 1_000_000 }) {
  const store = new CookingStore(() => now.t);
  const handlers = cookingHandlers(store, async (id) => {
    if (id !== CARBONARA.id) throw new Error(`there is no recipe with id "${id}"`);
    return CARBONARA;
  });
  const call = { method: "x", callerIdentity: "agent", requestId: "r", responseTimeout: 10_000 };
  return { store, handlers, call, now };
}

describe("cooking handlers", () => {
  it("show a recipe, tick ingredients and highlight steps", async () => {
    const { store, handlers, call } = setup();
    expect(await handlers.show_recipe?.({ recipe_id: "spaghetti-carbonara" }, call)).toEqual({
      shown: "Spaghetti Carbonara",
      ingredients: 3,
      steps: 3,
    });
    expect(handlers.check_ingredient?.({ ingredient: "Pancetta", checked: true }, call)).toEqual({
      ingredient: "guanciale or pancetta",
      checked: true,
    });
    expect(handlers.highlight_step?.({ step: 2 }, call)).toEqual({ step: 2, text: "Cook pasta." });
    expect(store.getSnapshot()).toMatchObject({ checked: ["guanciale or pancetta"], step: 2 });
    handlers.check_ingredient?.({ ingredient: "guanciale or pancetta", checked: false }, call);
    expect(store.getSnapshot().checked).toEqual([]);
  });

  it("throw clear errors the agent can talk about", async () => {
    const { handlers, call } = setup();
    await expect(handlers.show_recipe?.({ recipe_id: "does-not-exist" }, call)).rejects.toThrow(
      'there is no recipe with id "does-not-exist"',
    );
    expect(() => handlers.highlight_step?.({ step: 1 }, call)).toThrow("no recipe is on screen yet");
    await handlers.show_recipe?.({ recipe_id: "spaghetti-carbonara" }, call);
    expect(() => handlers.highlight_step?.({ step: 9 }, call)).toThrow("Spaghetti Carbonara has steps 1 to 3, not 9");
    expect(() => handlers.check_ingredient?.({ ingredient: "saffron", checked: true }, call)).toThrow(
      '"saffron" is not on the card (it lists: spaghetti, guanciale or pancetta, eggs)',
    );
    expect(() => handlers.cancel_timer?.({ label: "eggs" }, call)).toThrow('no timer called "eggs" (running: none)');
  });

  it("start, restart and cancel timers", () => {
    const { store, handlers, call, now } = setup();
    handlers.start_timer?.({ label: "eggs", seconds: 30 }, call);
    handlers.start_timer?.({ label: "pasta", seconds: 600 }, call);
    handlers.start_timer?.({ label: "Eggs", seconds: 60 }, call);
    expect(store.getSnapshot().timers.map((t) => [t.label, t.seconds])).toEqual([
      ["pasta", 600],
      ["Eggs", 60],
    ]);
    now.t += 15_500;
    expect(handlers.cancel_timer?.({ label: "eggs" }, call)).toEqual({ cancelled: "eggs", seconds_left: 45 });
    expect(store.getSnapshot().timers.map((t) => t.label)).toEqual(["pasta"]);
  });

  it("show notes and notify subscribers", () => {
    const { store, handlers, call } = setup();
    let changes = 0;
    const off = store.subscribe(() => changes++);
    handlers.show_markdown?.({ title: "Wine", markdown: "- Frascati" }, call);
    off();
    store.closeNote();
    expect(changes).toBe(1);
    expect(store.getSnapshot().note).toBeUndefined();
  });
});

describe("helpers", () => {
  it("match ingredients leniently", () => {
    expect(matchIngredient(CARBONARA.ingredients, " EGGS ")?.name).toBe("eggs");
    expect(matchIngredient(CARBONARA.ingredients, "the spaghetti")?.name).toBe("spaghetti");
    expect(matchIngredient(CARBONARA.ingredients, "")).toBeUndefined();
  });

  it("fetch recipes and explain a 404", async () => {
    const seen: string[] = [];
    const fake = (status: number, body: unknown): typeof fetch =>
      async (input) => {
        seen.push(String(input));
        return new Response(JSON.stringify(body), { status });
      };
    expect(await fetchRecipe("spaghetti-carbonara", fake(200, CARBONARA))).toEqual(CARBONARA);
    await expect(fetchRecipe("a b", fake(404, {}))).rejects.toThrow('there is no recipe with id "a b"');
    await expect(fetchRecipe("x", fake(500, {}))).rejects.toThrow("the recipe service answered 500");
    expect(seen).toEqual(["/api/recipes/spaghetti-carbonara", "/api/recipes/a%20b", "/api/recipes/x"]);
  });

  it("format clocks, initials and accents", () => {
    expect([clock(0), clock(29.2), clock(600), clock(3725)]).toEqual(["0:00", "0:30", "10:00", "1:02:05"]);
    expect([initials("Cooking Guide"), initials("Sommelier"), initials("")]).toEqual(["CG", "So", "?"]);
    expect(accentFor("sommelier")).not.toBe(accentFor("cooking-guide"));
    expect(accentFor("custom-role")).toBe(accentFor("custom-role"));
  });
});
