/**
 * What the cooking screen shows, the tool handlers that change it, and what the user does by hand
 * (ticking an ingredient, tapping a step), which the page tells the agent as UI events.
 *
 * The state lives in a small external store (read with `useSyncExternalStore`) so handlers see the
 * latest state at once: the agent often calls show_recipe, then check_ingredient, within a second.
 * A handler that cannot do what it is asked throws; the library turns that into an RPC error the
 * agent can talk about.
 */
import type { ToolHandlers } from "@rolecall/client";
import type { ToolArgs } from "@rolecall/client/roles";

export interface Ingredient {
  name: string;
  quantity: string;
}

export interface Recipe {
  id: string;
  title: string;
  minutes: number;
  summary: string;
  servings: number;
  diet: string[];
  ingredients: Ingredient[];
  steps: string[];
}

export interface Timer {
  id: number;
  label: string;
  seconds: number;
  /** Epoch ms when it rings. */
  endsAt: number;
}

export interface Note {
  title: string;
  markdown: string;
}

export interface CookingState {
  recipe: Recipe | undefined;
  /** Names of ticked ingredients, as written on the card. */
  checked: readonly string[];
  /** 1-based step being cooked now. */
  step: number | undefined;
  timers: readonly Timer[];
  note: Note | undefined;
}

const EMPTY: CookingState = { recipe: undefined, checked: [], step: undefined, timers: [], note: undefined };

export class CookingStore {
  private state: CookingState = EMPTY;
  private listeners = new Set<() => void>();
  private nextTimer = 1;

  constructor(private readonly now: () => number = Date.now) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): CookingState => this.state;

  private set(patch: Partial<CookingState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of [...this.listeners]) listener();
  }

  reset(): void {
    this.set(EMPTY);
  }

  showRecipe(recipe: Recipe): void {
    this.set({ recipe, checked: [], step: undefined });
  }

  highlightStep(step: number): string {
    const recipe = this.requireRecipe();
    if (step < 1 || step > recipe.steps.length) {
      throw new Error(`${recipe.title} has steps 1 to ${recipe.steps.length}, not ${step}`);
    }
    this.set({ step });
    return recipe.steps[step - 1] ?? "";
  }

  /** Tick or untick the ingredient best matching `name`; returns its name as on the card. */
  checkIngredient(name: string, checked: boolean): string {
    const recipe = this.requireRecipe();
    const found = matchIngredient(recipe.ingredients, name);
    if (found === undefined) {
      const listed = recipe.ingredients.map((i) => i.name).join(", ");
      throw new Error(`"${name}" is not on the card (it lists: ${listed})`);
    }
    const others = this.state.checked.filter((n) => n !== found.name);
    this.set({ checked: checked ? [...others, found.name] : others });
    return found.name;
  }

  /** Tick or untick by hand; returns the new state of the box (the page tells the agent). */
  toggleIngredient(name: string): boolean {
    const checked = !this.state.checked.includes(name);
    this.checkIngredient(name, checked);
    return checked;
  }

  /** Start a timer; one with the same label restarts. */
  startTimer(label: string, seconds: number): Timer {
    const timer = { id: this.nextTimer++, label, seconds, endsAt: this.now() + seconds * 1000 };
    const others = this.state.timers.filter((t) => !sameLabel(t.label, label));
    this.set({ timers: [...others, timer] });
    return timer;
  }

  /** Stop the timer called `label`; returns how many seconds it had left. */
  cancelTimer(label: string): number {
    const timer = this.state.timers.find((t) => sameLabel(t.label, label));
    if (timer === undefined) {
      const running = this.state.timers.map((t) => `"${t.label}"`).join(", ") || "none";
      throw new Error(`no timer called "${label}" (running: ${running})`);
    }
    this.dismissTimer(timer.id);
    return Math.max(0, Math.ceil((timer.endsAt - this.now()) / 1000));
  }

  dismissTimer(id: number): void {
    this.set({ timers: this.state.timers.filter((t) => t.id !== id) });
  }

  showNote(note: Note): void {
    this.set({ note });
  }

  closeNote(): void {
    this.set({ note: undefined });
  }

  private requireRecipe(): Recipe {
    if (this.state.recipe === undefined) throw new Error("no recipe is on screen yet; call show_recipe first");
    return this.state.recipe;
  }
}

const normalize = (text: string): string => text.trim().toLowerCase().replace(/\s+/g, " ");
const sameLabel = (a: string, b: string): boolean => normalize(a) === normalize(b);

/** The ingredient called `name`: exact (ignoring case), else the one whose name contains it, or is contained. */
export function matchIngredient(ingredients: readonly Ingredient[], name: string): Ingredient | undefined {
  const wanted = normalize(name);
  if (!wanted) return undefined;
  return (
    ingredients.find((i) => normalize(i.name) === wanted) ??
    ingredients.find((i) => normalize(i.name).includes(wanted)) ??
    ingredients.find((i) => wanted.includes(normalize(i.name)))
  );
}

/** Fetch a full recipe card from the web backend; a clear error when there is none. */
export async function fetchRecipe(id: string, doFetch: typeof fetch = fetch): Promise<Recipe> {
  const response = await doFetch(`/api/recipes/${encodeURIComponent(id)}`, { headers: { Accept: "application/json" } });
  if (response.status === 404) throw new Error(`there is no recipe with id "${id}"`);
  if (!response.ok) throw new Error(`the recipe service answered ${response.status}`);
  return (await response.json()) as Recipe;
}

/** The page's tool handlers, typed by the role files (a renamed tool or parameter fails to compile). */
export function cookingHandlers(
  store: CookingStore,
  loadRecipe: (id: string) => Promise<Recipe> = fetchRecipe,
): ToolHandlers<ToolArgs> {
  return {
    show_recipe: async ({ recipe_id }) => {
      const recipe = await loadRecipe(recipe_id);
      store.showRecipe(recipe);
      return { shown: recipe.title, ingredients: recipe.ingredients.length, steps: recipe.steps.length };
    },
    highlight_step: ({ step }) => ({ step, text: store.highlightStep(step) }),
    check_ingredient: ({ ingredient, checked }) => ({ ingredient: store.checkIngredient(ingredient, checked), checked }),
    start_timer: ({ label, seconds }) => {
      const timer = store.startTimer(label, seconds);
      return { started: timer.label, seconds: timer.seconds };
    },
    cancel_timer: ({ label }) => ({ cancelled: label, seconds_left: store.cancelTimer(label) }),
    show_markdown: ({ title, markdown }) => {
      store.showNote({ title, markdown });
      return { shown: title };
    },
  };
}
