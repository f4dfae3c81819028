import type { RunningTool } from "@rolecall/client";
import { useEffect, useState } from "react";

import type { CookingState, CookingStore, Timer } from "../cooking";
import { clock } from "../format";
import { Markdown } from "../markdown";

/** What the user does by hand on the card (the page tells the agent). */
export interface HandActions {
  ingredientToggled(ingredient: string, checked: boolean): void;
  stepSelected(step: number): void;
}

export interface WorkspaceProps {
  state: CookingState;
  store: CookingStore;
  connected: boolean;
  /** Tool calls in flight (`useToolActivity`). */
  running: readonly RunningTool[];
  hand: HandActions;
}

export function Workspace({ state, store, connected, running, hand }: WorkspaceProps) {
  return (
    <div className="kitchen">
      <ToolActivity running={running} />
      {state.timers.length > 0 && <Timers timers={state.timers} store={store} />}
      {state.note !== undefined && (
        <article className="card note" data-testid="note">
          <header className="card-header">
            <h2 data-testid="note-title">{state.note.title}</h2>
            <button className="icon-button" onClick={() => store.closeNote()} aria-label="Close note">
              ×
            </button>
          </header>
          <Markdown source={state.note.markdown} />
        </article>
      )}
      {state.recipe !== undefined ? (
        <RecipeCard state={state} store={store} hand={hand} />
      ) : (
        connected && (
          <div className="card empty-recipe">
            <svg className="empty-icon" viewBox="0 0 48 48" width="48" height="48" aria-hidden="true">
              <circle cx="20" cy="26" r="14" fill="none" stroke="currentColor" strokeWidth="3" />
              <path d="M33 22l11-6" stroke="currentColor" strokeWidth="4" strokeLinecap="round" />
              <ellipse cx="20" cy="26" rx="5" ry="4" fill="currentColor" opacity="0.35" />
            </svg>
            <h2>No recipe yet</h2>
            <p className="muted">
              Tell your guide what you feel like cooking. The recipe, your ingredients and the steps will show up here.
            </p>
          </div>
        )
      )}
    </div>
  );
}

/** What the agent is busy with while it is quiet: one card per slow tool call in flight. */
function ToolActivity({ running }: { running: readonly RunningTool[] }) {
  const shown = running.filter((call) => call.kind !== "frontend"); // the page's own tools show themselves
  if (shown.length === 0) return null;
  return (
    <section className="activity" aria-live="polite" aria-label="What your guide is doing">
      {shown.map((call) => (
        <div key={call.callId} className="card activity-card" data-testid="tool-activity" data-tool={call.name}>
          <span className="spinner" aria-hidden="true" />
          <div>
            <p className="activity-title">{activityLabel(call)}</p>
            {call.message !== undefined && <p className="muted activity-message">{call.message}</p>}
          </div>
        </div>
      ))}
    </section>
  );
}

/** "Searching recipes for “quick pasta”…", or the tool's name for the others. */
export function activityLabel(call: Pick<RunningTool, "name" | "arguments">): string {
  if (call.name === "find_recipes") {
    const query = call.arguments?.["query"];
    return typeof query === "string" && query ? `Searching recipes for “${query}”…` : "Searching recipes…";
  }
  return `Working on ${call.name.replaceAll("_", " ")}…`;
}

function RecipeCard({ state, store, hand }: { state: CookingState; store: CookingStore; hand: HandActions }) {
  const recipe = state.recipe;
  if (recipe === undefined) return null;
  const ready = state.checked.length;
  return (
    <article className="card recipe" data-testid="recipe" data-recipe-id={recipe.id}>
      <header className="recipe-header">
        <div>
          <h2 data-testid="recipe-title">{recipe.title}</h2>
          <p className="recipe-summary">{recipe.summary}</p>
        </div>
        <dl className="facts">
          <div>
            <dt>Time</dt>
            <dd>{recipe.minutes} min</dd>
          </div>
          <div>
            <dt>Serves</dt>
            <dd>{recipe.servings}</dd>
          </div>
        </dl>
      </header>
      {recipe.diet.length > 0 && (
        <ul className="tags" aria-label="Diet">
          {recipe.diet.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      )}
      <div className="recipe-body">
        <section className="ingredients" aria-label="Ingredients">
          <h3>
            Ingredients <span className="count">{ready}/{recipe.ingredients.length} ready</span>
          </h3>
          <ul>
            {recipe.ingredients.map((ingredient) => {
              const checked = state.checked.includes(ingredient.name);
              return (
                <li key={ingredient.name} className={checked ? "checked" : ""} data-testid="ingredient" data-checked={checked}>
                  <label>
                    <input
                      type="checkbox"
                      checked={checked}
                      onChange={() => hand.ingredientToggled(ingredient.name, store.toggleIngredient(ingredient.name))}
                    />
                    <span className="check" aria-hidden="true" />
                    <span className="ingredient-name">{ingredient.name}</span>
                    {ingredient.quantity && <span className="quantity">{ingredient.quantity}</span>}
                  </label>
                </li>
              );
            })}
          </ul>
        </section>
        <section className="steps" aria-label="Steps">
          <h3>Method</h3>
          <ol>
            {recipe.steps.map((step, index) => {
              const number = index + 1;
              const current = state.step === number;
              const done = state.step !== undefined && number < state.step;
              return (
                <li
                  key={number}
                  className={`${current ? "current" : ""} ${done ? "done" : ""}`}
                  aria-current={current ? "step" : undefined}
                  data-testid="step"
                  data-current={current}
                >
                  <button
                    className="step-button"
                    onClick={() => {
                      store.highlightStep(number);
                      hand.stepSelected(number);
                    }}
                    aria-label={`Cook step ${number} now`}
                  >
                    <span className="step-number">{number}</span>
                    <span className="step-text">{step}</span>
                  </button>
                </li>
              );
            })}
          </ol>
        </section>
      </div>
    </article>
  );
}

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}

function Timers({ timers, store }: { timers: readonly Timer[]; store: CookingStore }) {
  const now = useNow(250);
  return (
    <section className="timers" aria-label="Timers">
      {timers.map((timer) => {
        const left = Math.max(0, (timer.endsAt - now) / 1000);
        const done = left <= 0;
        const progress = Math.min(1, 1 - left / timer.seconds);
        return (
          <div
            key={timer.id}
            className={`timer ${done ? "timer-done" : ""}`}
            data-testid="timer"
            data-label={timer.label}
            data-remaining={Math.ceil(left)}
            role="timer"
            aria-label={`${timer.label}: ${done ? "done" : clock(left) + " left"}`}
          >
            <svg className="timer-ring" viewBox="0 0 36 36" aria-hidden="true">
              <circle cx="18" cy="18" r="15.5" className="ring-track" />
              <circle
                cx="18"
                cy="18"
                r="15.5"
                className="ring-fill"
                strokeDasharray={`${(1 - progress) * 97.4} 97.4`}
              />
            </svg>
            <div className="timer-text">
              <span className="timer-label">{timer.label}</span>
              <span className="timer-clock" data-testid="timer-clock">
                {done ? "Done!" : clock(left)}
              </span>
            </div>
            <button
              className="icon-button"
              onClick={() => store.dismissTimer(timer.id)}
              aria-label={done ? `Dismiss ${timer.label}` : `Cancel ${timer.label}`}
              title={done ? "Dismiss" : "Cancel"}
            >
              ×
            </button>
          </div>
        );
      })}
    </section>
  );
}
