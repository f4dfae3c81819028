// Generated from the role files by `python -m worker roles types`. Do not edit.
// Regenerate: .venv/bin/python -m worker roles types -o frontend/lib/src/generated/roles.ts

/** A JSON Schema, as written in a role file's tool `parameters`. */
export type JsonSchema = { readonly [keyword: string]: unknown };

// --- show_recipe (cooking-guide) -----------------------------------------------------------------

/** Arguments of RPC method `show_recipe`: Show a recipe card (ingredients and numbered steps) on the user's screen. */
export interface ShowRecipeArgs {
  /** The id returned by find_recipes. */
  recipe_id: string;
}

/** JSON Schema of {@link ShowRecipeArgs}, for validation at run time. */
export const ShowRecipeSchema = {
  "type": "object",
  "properties": {
    "recipe_id": {
      "type": "string",
      "description": "The id returned by find_recipes."
    }
  },
  "required": [
    "recipe_id"
  ],
  "additionalProperties": false
} as const;

// --- highlight_step (cooking-guide) --------------------------------------------------------------

/** Arguments of RPC method `highlight_step`: Highlight the step being cooked now on the recipe card. */
export interface HighlightStepArgs {
  /** The step number, starting at 1. (minimum 1) */
  step: number;
}

/** JSON Schema of {@link HighlightStepArgs}, for validation at run time. */
export const HighlightStepSchema = {
  "type": "object",
  "properties": {
    "step": {
      "type": "integer",
      "description": "The step number, starting at 1.",
      "minimum": 1
    }
  },
  "required": [
    "step"
  ],
  "additionalProperties": false
} as const;

// --- check_ingredient (cooking-guide) ------------------------------------------------------------

/** Arguments of RPC method `check_ingredient`: Tick (or untick) an ingredient on the recipe card's checklist once the user confirms they have it. */
export interface CheckIngredientArgs {
  /** The ingredient's name as written on the card. */
  ingredient: string;
  /** true when the user has it ready, false to untick. */
  checked: boolean;
}

/** JSON Schema of {@link CheckIngredientArgs}, for validation at run time. */
export const CheckIngredientSchema = {
  "type": "object",
  "properties": {
    "ingredient": {
      "type": "string",
      "description": "The ingredient's name as written on the card."
    },
    "checked": {
      "type": "boolean",
      "description": "true when the user has it ready, false to untick."
    }
  },
  "required": [
    "ingredient",
    "checked"
  ],
  "additionalProperties": false
} as const;

// --- start_timer (cooking-guide) -----------------------------------------------------------------

/** Arguments of RPC method `start_timer`: Start a countdown timer on the user's screen; it rings when done. */
export interface StartTimerArgs {
  /** What the timer is for, in two or three words (e.g. "pasta water"). (max length 40) */
  label: string;
  /** Duration in seconds. (minimum 1, maximum 21600) */
  seconds: number;
}

/** JSON Schema of {@link StartTimerArgs}, for validation at run time. */
export const StartTimerSchema = {
  "type": "object",
  "properties": {
    "label": {
      "type": "string",
      "description": "What the timer is for, in two or three words (e.g. \"pasta water\").",
      "maxLength": 40
    },
    "seconds": {
      "type": "integer",
      "description": "Duration in seconds.",
      "minimum": 1,
      "maximum": 21600
    }
  },
  "required": [
    "label",
    "seconds"
  ],
  "additionalProperties": false
} as const;

// --- cancel_timer (cooking-guide) ----------------------------------------------------------------

/** Arguments of RPC method `cancel_timer`: Stop a running timer. */
export interface CancelTimerArgs {
  /** The label the timer was started with. */
  label: string;
}

/** JSON Schema of {@link CancelTimerArgs}, for validation at run time. */
export const CancelTimerSchema = {
  "type": "object",
  "properties": {
    "label": {
      "type": "string",
      "description": "The label the timer was started with."
    }
  },
  "required": [
    "label"
  ],
  "additionalProperties": false
} as const;

// --- show_markdown (cooking-guide, sommelier) ----------------------------------------------------

/** Arguments of RPC method `show_markdown`: Show a short note on the user's screen (a list, a table, a few lines of text). */
export interface ShowMarkdownArgs {
  /** A heading of a few words. (max length 80) */
  title: string;
  /** The note in Markdown; keep it under 30 lines. (max length 4000) */
  markdown: string;
}

/** JSON Schema of {@link ShowMarkdownArgs}, for validation at run time. */
export const ShowMarkdownSchema = {
  "type": "object",
  "properties": {
    "title": {
      "type": "string",
      "description": "A heading of a few words.",
      "maxLength": 80
    },
    "markdown": {
      "type": "string",
      "description": "The note in Markdown; keep it under 30 lines.",
      "maxLength": 4000
    }
  },
  "required": [
    "title",
    "markdown"
  ],
  "additionalProperties": false
} as const;

// --- event ingredient_checked (cooking-guide) ----------------------------------------------------

/** Payload of UI event `ingredient_checked`: The user ticked or unticked an ingredient on the recipe card by hand. */
export interface IngredientCheckedPayload {
  /** The ingredient's name as written on the card. (max length 80) */
  ingredient: string;
  /** true when ticked (the user has it ready), false when unticked. */
  checked: boolean;
}

/** JSON Schema of {@link IngredientCheckedPayload}, for validation at run time. */
export const IngredientCheckedEventSchema = {
  "type": "object",
  "properties": {
    "ingredient": {
      "type": "string",
      "description": "The ingredient's name as written on the card.",
      "maxLength": 80
    },
    "checked": {
      "type": "boolean",
      "description": "true when ticked (the user has it ready), false when unticked."
    }
  },
  "required": [
    "ingredient",
    "checked"
  ],
  "additionalProperties": false
} as const;

// --- event step_selected (cooking-guide) ---------------------------------------------------------

/** Payload of UI event `step_selected`: The user tapped a step of the method on the card, to cook it now. */
export interface StepSelectedPayload {
  /** The step number, starting at 1. (minimum 1, maximum 50) */
  step: number;
}

/** JSON Schema of {@link StepSelectedPayload}, for validation at run time. */
export const StepSelectedEventSchema = {
  "type": "object",
  "properties": {
    "step": {
      "type": "integer",
      "description": "The step number, starting at 1.",
      "minimum": 1,
      "maximum": 50
    }
  },
  "required": [
    "step"
  ],
  "additionalProperties": false
} as const;

// --- roles ---------------------------------------------------------------------------------------

/** Every role, with its frontend tools: tool name → RPC method and JSON Schema. */
export const ROLES = {
  concierge: {
    title: "Concierge",
    description: "Says hello, finds out what you need, and connects you with the cooking guide or the sommelier.",
    tools: {},
    events: {},
  },
  "cooking-guide": {
    title: "Cooking Guide",
    description: "Finds a recipe with you, then walks you through it step by step, with timers, by voice.",
    tools: {
      show_recipe: { method: "show_recipe", schema: ShowRecipeSchema },
      highlight_step: { method: "highlight_step", schema: HighlightStepSchema },
      check_ingredient: { method: "check_ingredient", schema: CheckIngredientSchema },
      start_timer: { method: "start_timer", schema: StartTimerSchema },
      cancel_timer: { method: "cancel_timer", schema: CancelTimerSchema },
      show_markdown: { method: "show_markdown", schema: ShowMarkdownSchema },
    },
    events: {
      ingredient_checked: { respond: "now", schema: IngredientCheckedEventSchema },
      step_selected: { respond: "when_idle", schema: StepSelectedEventSchema },
    },
  },
  sommelier: {
    title: "Sommelier",
    description: "Suggests a wine (or an alcohol-free drink) for your dish, then hands you back.",
    tools: {
      show_markdown: { method: "show_markdown", schema: ShowMarkdownSchema },
    },
    events: {},
  },
} as const;

/** The name of a role. */
export type RoleName = keyof typeof ROLES;

/** Per role, the arguments of each frontend tool by RPC method. */
export interface RoleToolArgs {
  concierge: Record<never, never>;
  "cooking-guide": {
    show_recipe: ShowRecipeArgs;
    highlight_step: HighlightStepArgs;
    check_ingredient: CheckIngredientArgs;
    start_timer: StartTimerArgs;
    cancel_timer: CancelTimerArgs;
    show_markdown: ShowMarkdownArgs;
  };
  sommelier: {
    show_markdown: ShowMarkdownArgs;
  };
}

/** Arguments by RPC method, over every role: what a page implements. */
export interface ToolArgs {
  cancel_timer: CancelTimerArgs;
  check_ingredient: CheckIngredientArgs;
  highlight_step: HighlightStepArgs;
  show_markdown: ShowMarkdownArgs;
  show_recipe: ShowRecipeArgs;
  start_timer: StartTimerArgs;
}

/** An RPC method some role's frontend tool calls. */
export type ToolMethod = keyof ToolArgs;

/** Every RPC method, sorted. */
export const TOOL_METHODS = ["cancel_timer", "check_ingredient", "highlight_step", "show_markdown", "show_recipe", "start_timer"] as const satisfies readonly ToolMethod[];

/** JSON Schema by RPC method (`anyOf` when roles declare a method differently). */
export const TOOL_SCHEMAS: { readonly [M in ToolMethod]: JsonSchema } = {
  cancel_timer: CancelTimerSchema,
  check_ingredient: CheckIngredientSchema,
  highlight_step: HighlightStepSchema,
  show_markdown: ShowMarkdownSchema,
  show_recipe: ShowRecipeSchema,
  start_timer: StartTimerSchema,
};

/** Per role, the payload of each UI event it accepts. */
export interface RoleEventPayloads {
  concierge: Record<never, never>;
  "cooking-guide": {
    ingredient_checked: IngredientCheckedPayload;
    step_selected: StepSelectedPayload;
  };
  sommelier: Record<never, never>;
}

/** Payload by UI event name, over every role: what `sendEvent` takes. */
export interface EventPayloads {
  ingredient_checked: IngredientCheckedPayload;
  step_selected: StepSelectedPayload;
}

/** A UI event some role accepts. */
export type EventName = keyof EventPayloads;

/** Every UI event name, sorted. */
export const EVENT_NAMES = ["ingredient_checked", "step_selected"] as const satisfies readonly EventName[];

/** JSON Schema of each event's payload (`anyOf` when roles declare an event differently). */
export const EVENT_SCHEMAS: { readonly [N in EventName]: JsonSchema } = {
  ingredient_checked: IngredientCheckedEventSchema,
  step_selected: StepSelectedEventSchema,
};
