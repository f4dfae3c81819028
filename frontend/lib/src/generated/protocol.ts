// Generated from worker/protocol.py by `python -m worker protocol types`. Do not edit.
// Regenerate: make types (.venv/bin/python -m worker protocol types -o frontend/lib/src/generated/protocol.ts)

/**
 * The page protocol: what the worker and the page say to each other, besides audio and transcripts.
 *
 * One module, typed, so both sides agree: the TypeScript the page library uses is generated from it
 * (`python -m worker protocol types`, into `frontend/lib/src/generated/protocol.ts`; `make test` fails
 * when that file is stale).
 *
 *     agent → page
 *       attributes of the agent participant   ATTR_ROLE, ATTR_ROLE_TITLE, ATTR_ERROR (JSON ErrorAttribute);
 *                                             a page that joins late still sees them
 *       text stream EVENTS_TOPIC              one JSON PageEvent per message
 *       RPC DISCOVERY_METHOD                  the page answers a DiscoveryReply: the tools it implements
 *       RPC <the role's frontend tools>       JSON arguments, JSON result (RPC_PAYLOAD_LIMIT both ways)
 *     page → agent
 *       text stream CHAT_TOPIC                typed chat from the session's user: at most MAX_CHAT_CHARS
 *                                             characters (the worker's default), a burst of CHAT_BURST
 *                                             messages, then one every CHAT_REFILL_S seconds
 *       RPC EVENT_METHOD                      a UiEventRequest from the session's user (an event the
 *                                             active role declares), answered with a UiEventReply or an
 *                                             RPC error whose `data` is an EventRefusalReason
 *       RPC replies
 *
 * Transcripts use livekit-agents' standard `lk.transcription` streams and are not part of this module.
 */

// --- constants -----------------------------------------------------------------------------------

/** Text-stream topic of the agent's events to the page. */
export const EVENTS_TOPIC = "rolecall.events";

/** Text-stream topic of typed chat (livekit-agents' standard one). */
export const CHAT_TOPIC = "lk.chat";

/** Agent attribute: the active role's name. */
export const ATTR_ROLE = "rolecall.role";

/** Agent attribute: the active role's title. */
export const ATTR_ROLE_TITLE = "rolecall.role_title";

/** Agent attribute: why the session cannot go on (JSON of an `ErrorAttribute`); absent while all is well. */
export const ATTR_ERROR = "rolecall.error";

/** RPC method the page registers to list the tools it implements (answered with a `DiscoveryReply`). */
export const DISCOVERY_METHOD = "rolecall.tools";

/** RPC method the agent serves: a UI event from the session's user (`UiEventRequest` → `UiEventReply`). */
export const EVENT_METHOD = "rolecall.event";

/**
 * How the worker fences a UI event in the model's context, `<ui_event name="NAME">JSON</ui_event>`
 * (a system item, never a user turn); the simulator recognises it.
 */
export const UI_EVENT_TAG = "ui_event";

/** LiveKit's RPC request and response payload limit, in UTF-8 bytes. */
export const RPC_PAYLOAD_LIMIT = 15_360;

/** LiveKit's limit on RPC error messages, in UTF-8 bytes. */
export const RPC_ERROR_MESSAGE_LIMIT = 256;

/** LiveKit's limit on RPC method names, in UTF-8 bytes. */
export const RPC_METHOD_LIMIT = 64;

/** Longest typed message the agent takes, in characters, by default (`ROLECALL_CHAT_MAX_CHARS`). */
export const MAX_CHAT_CHARS = 2000;

/** Typed messages the agent takes at once. */
export const CHAT_BURST = 10;

/** After a burst, the agent takes one more typed message every this many seconds. */
export const CHAT_REFILL_S = 1.0;

/**
 * How the worker asks the model for exact words (a role's `greeting: {say: ...}`); the simulator
 * recognises it, as a real model complies with it.
 */
export const SAY_EXACTLY = "Say exactly this, and nothing else:";

// --- literal types -------------------------------------------------------------------------------

/**
 * Why the agent cannot serve the session (ErrorEvent, ErrorAttribute):
 * `bad_dispatch` the dispatch metadata is unusable; `unknown_role` no such role; `role_error` the role
 * has no valid version or its variables are wrong; `model_unavailable` the model connection is lost for good.
 */
export type AgentErrorCode = "bad_dispatch" | "unknown_role" | "role_error" | "model_unavailable";
/** Every {@link AgentErrorCode}, in declaration order. */
export const AGENT_ERROR_CODE_VALUES = ["bad_dispatch", "unknown_role", "role_error", "model_unavailable"] as const satisfies readonly AgentErrorCode[];

/**
 * What the page library reports itself (never sent by the worker): the agent did not join in time,
 * it left, the session reached a limit, or the worker's error attribute was unreadable (`agent_error`).
 */
export type PageErrorCode = "agent_did_not_join" | "agent_left" | "session_limit" | "agent_error";
/** Every {@link PageErrorCode}, in declaration order. */
export const PAGE_ERROR_CODE_VALUES = ["agent_did_not_join", "agent_left", "session_limit", "agent_error"] as const satisfies readonly PageErrorCode[];

/** The role's time limits: the session's length (`max_duration_s`), the user's silence (`idle_timeout_s`). */
export type TimeLimit = "max_duration" | "idle";
/** Every {@link TimeLimit}, in declaration order. */
export const TIME_LIMIT_VALUES = ["max_duration", "idle"] as const satisfies readonly TimeLimit[];

/** Why a typed message was not taken: over the length limit, or over the rate. */
export type RefusalReason = "too_long" | "too_fast";
/** Every {@link RefusalReason}, in declaration order. */
export const REFUSAL_REASON_VALUES = ["too_long", "too_fast"] as const satisfies readonly RefusalReason[];

/**
 * Why a UI event was refused (the RPC error's `data`): the caller is not the session's user; the active
 * role declares no such event; the payload does not match the event's schema; it is over the event's
 * `max_bytes`; more events of that name than its `rate_limit` allows.
 */
export type EventRefusalReason = "not_allowed" | "unknown_event" | "invalid_payload" | "too_large" | "too_fast";
/** Every {@link EventRefusalReason}, in declaration order. */
export const EVENT_REFUSAL_REASON_VALUES = ["not_allowed", "unknown_event", "invalid_payload", "too_large", "too_fast"] as const satisfies readonly EventRefusalReason[];

/**
 * What the agent does with an accepted UI event (the role's `respond`): takes note only; answers once
 * it is quiet, unless it already has; answers at once.
 */
export type EventResponse = "never" | "when_idle" | "now";
/** Every {@link EventResponse}, in declaration order. */
export const EVENT_RESPONSE_VALUES = ["never", "when_idle", "now"] as const satisfies readonly EventResponse[];

/** How a tool runs: the agent waits for it, or goes on talking while it runs. */
export type ToolMode = "foreground" | "background";
/** Every {@link ToolMode}, in declaration order. */
export const TOOL_MODE_VALUES = ["foreground", "background"] as const satisfies readonly ToolMode[];

/**
 * Where a tool call is: running; running, and the agent said `message`; answered; failed, refused or
 * cancelled.
 */
export type ToolStatus = "started" | "progress" | "done" | "failed";
/** Every {@link ToolStatus}, in declaration order. */
export const TOOL_STATUS_VALUES = ["started", "progress", "done", "failed"] as const satisfies readonly ToolStatus[];

/**
 * Why a session ended (the report's `end_reason`): the model called `end_session`; a limit of the role
 * (`max_duration`, `idle`, `budget`); the user did not come back within the grace period (`user_left`),
 * or never joined (`user_absent`); the model connection was lost for good (`model_error`); the worker
 * shut the job down (drain limit, exit: `worker_shutdown`); livekit-agents closed the session for a reason
 * of its own (`session_closed`); the session's process died before it finished (`crashed`: a partial report,
 * `complete: false`, sent by the worker's main process from the session's checkpoints); the app backend
 * ended it through the control API (`app_ended`).
 */
export type EndReason = "end_session" | "max_duration" | "idle" | "budget" | "user_left" | "user_absent" | "model_error" | "worker_shutdown" | "session_closed" | "crashed" | "app_ended";
/** Every {@link EndReason}, in declaration order. */
export const END_REASON_VALUES = ["end_session", "max_duration", "idle", "budget", "user_left", "user_absent", "model_error", "worker_shutdown", "session_closed", "crashed", "app_ended"] as const satisfies readonly EndReason[];

// --- messages ------------------------------------------------------------------------------------

/** The active role changed (the session started, or a handoff). */
export interface RoleEvent {
  readonly type: "role";
  /** The role's name. */
  readonly name: string;
  /** The role's title, for display. */
  readonly title: string;
}

/** The session cannot go on; the agent leaves. */
export interface ErrorEvent {
  readonly type: "error";
  readonly code: AgentErrorCode;
  /** For people; never server paths or the model provider's own words. */
  readonly message: string;
}

/** The session reached a time limit of its role; the agent says goodbye and leaves. */
export interface TimeLimitEvent {
  readonly type: "session_limit";
  readonly limit: TimeLimit;
  /** The limit, in seconds. */
  readonly limit_s: number;
}

/** The session reached its role's `max_cost_usd`; the agent says goodbye and leaves. */
export interface BudgetLimitEvent {
  readonly type: "session_limit";
  readonly limit: "budget";
  /** The budget, in US dollars. */
  readonly limit_usd: number;
}

/** A typed message the agent did not take; the session goes on. */
export interface InputRefusedEvent {
  readonly type: "input_refused";
  readonly reason: RefusalReason;
  /** For people: what to do instead. */
  readonly message: string;
}

/** A tool call started, made progress, answered or failed (any kind: frontend, http, handoff, ...). */
export interface ToolActivityEvent {
  readonly type: "tool";
  /** The model's id of the call; every event of one call carries it. */
  readonly call_id: string;
  /** The tool's name, as in the role file. */
  readonly name: string;
  /** The tool's kind (`frontend`, `http`, `handoff`, `builtin`, ...). */
  readonly kind: string;
  readonly mode: ToolMode;
  readonly status: ToolStatus;
  /** Since the call started (null when it starts). */
  readonly duration_ms: number | null;
  /** With `progress`: what the agent was asked to say; otherwise null. */
  readonly message: string | null;
  /** The call's arguments, when the role's `show_arguments` allows; otherwise null. */
  readonly arguments: {
    [key: string]: unknown;
  } | null;
}

/** The session reached a limit of its role (a time limit or the budget); discriminated by `limit`. Discriminated by `limit`. */
export type SessionLimitEvent = TimeLimitEvent | BudgetLimitEvent;

/** One message on EVENTS_TOPIC. Discriminated by `type`. */
export type PageEvent = RoleEvent | ErrorEvent | SessionLimitEvent | InputRefusedEvent | ToolActivityEvent;

/** The value of ATTR_ERROR (JSON). */
export interface ErrorAttribute {
  readonly code: AgentErrorCode;
  readonly message: string;
}

/** The page's answer to DISCOVERY_METHOD. Keys a newer page adds are ignored (forward compatible). */
export interface DiscoveryReply {
  /** The RPC methods (tool names) this page implements. */
  readonly tools: string[];
}

/** The page's EVENT_METHOD payload: an event the active role declares, with its data. */
export interface UiEventRequest {
  /** The event's name (the role's `events[].name`). */
  readonly name: string;
  /** The event's data: a JSON object valid against the event's `payload` schema. */
  readonly payload: {
    [key: string]: unknown;
  };
}

/** The agent's answer to EVENT_METHOD: the event is in the conversation. */
export interface UiEventReply {
  readonly name: string;
  /** What the agent does with it (the role's `respond`). */
  readonly respond: EventResponse;
}
