/**
 * What the worker tells the page besides audio and transcripts.
 *
 * State lives in the agent participant's attributes (`rolecall.role`, `rolecall.role_title`,
 * `rolecall.error`), so a page that joins late still sees it; events arrive as JSON on the
 * `rolecall.events` text stream topic. Only what the agent participant sends is believed. The names and
 * shapes are the page protocol's (`worker/protocol.py`, generated into `./generated/protocol.ts`).
 */
import {
  ConnectionState,
  ParticipantKind,
  RoomEvent,
  type Participant,
  type RemoteParticipant,
  type Room,
  type TextStreamReader,
} from "livekit-client";

import {
  AGENT_ERROR_CODE_VALUES,
  ATTR_ERROR,
  ATTR_ROLE,
  ATTR_ROLE_TITLE,
  EVENTS_TOPIC,
  REFUSAL_REASON_VALUES,
  TOOL_MODE_VALUES,
  TOOL_STATUS_VALUES,
  type AgentErrorCode,
  type ErrorAttribute,
  type PageErrorCode,
  type PageEvent,
  type SessionLimitEvent,
  type TimeLimit,
  type TimeLimitEvent,
} from "./generated/protocol.js";

export { ATTR_ERROR, ATTR_ROLE, ATTR_ROLE_TITLE, EVENTS_TOPIC } from "./generated/protocol.js";
/** How long the page waits for the agent after connecting before reporting `agent_did_not_join`. */
export const DEFAULT_JOIN_TIMEOUT_MS = 20_000;

/** An event the worker sends on `rolecall.events`: the protocol's `PageEvent`. */
export type RoleCallEvent = PageEvent;

/** The persona speaking now. */
export interface ActiveRole {
  name: string;
  title: string;
}

/**
 * Why the conversation is not going on: the worker's `code` (an `AgentErrorCode`, e.g.
 * `model_unavailable`), one the page detected (a `PageErrorCode`: `agent_did_not_join`, `agent_left`,
 * `session_limit`), or `agent_error` when the worker's `rolecall.error` attribute cannot be read.
 */
export interface AgentError {
  code: AgentErrorCode | PageErrorCode | "agent_error";
  message: string;
  /** Who noticed: the agent said so, or the page saw it. */
  source: "agent" | "page";
}

/** The part of a livekit-client `Room` these helpers use. */
export type EventRoom = Pick<
  Room,
  "on" | "off" | "registerTextStreamHandler" | "unregisterTextStreamHandler" | "remoteParticipants" | "state"
>;

/** The agent participant in the room, if it is there. */
export function findAgent(room: Pick<Room, "remoteParticipants">): RemoteParticipant | undefined {
  for (const participant of room.remoteParticipants.values()) {
    if (participant.kind === ParticipantKind.AGENT) return participant;
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------ parsing

type Fields = Readonly<Record<string, unknown>>;

/** The members of union `U` whose discriminator `K` can be `V`. */
type Having<U, K extends keyof U, V> = U extends unknown ? (V extends U[K] ? U : never) : never;

/**
 * A parser per value of discriminator `K` of union `U`. Typed by the generated protocol: a new event,
 * limit or field in `worker/protocol.py` is a compile error here until it is parsed.
 */
type ParsersBy<U, K extends keyof U> = {
  readonly [V in U[K] & string]: (fields: Fields) => Having<U, K, V> | undefined;
};

const text = (fields: Fields, key: string): string | undefined => {
  const value = fields[key];
  return typeof value === "string" ? value : undefined;
};

const finite = (fields: Fields, key: string): number | undefined => {
  const value = fields[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
};

const oneOf = <T extends string>(values: readonly T[], value: unknown): value is T =>
  typeof value === "string" && (values as readonly string[]).includes(value);

const asFields = (value: unknown): Fields | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Fields) : undefined;

/** A field that may be null but must be there: its value, null, or undefined when missing or mistyped. */
function nullable<T>(fields: Fields, key: string, read: (fields: Fields, key: string) => T | undefined): T | null | undefined {
  if (!Object.hasOwn(fields, key)) return undefined;
  return fields[key] === null ? null : read(fields, key);
}

/** The parser for `fields[key]` (own keys only: `constructor` or `__proto__` are no event). */
function dispatch<U>(
  parsers: { readonly [value: string]: (fields: Fields) => U | undefined },
  fields: Fields,
  key: string,
): U | undefined {
  const value = fields[key];
  if (typeof value !== "string" || !Object.hasOwn(parsers, value)) return undefined;
  return parsers[value]?.(fields);
}

function timeLimit(limit: TimeLimit, fields: Fields): TimeLimitEvent | undefined {
  const seconds = finite(fields, "limit_s");
  return seconds === undefined ? undefined : { type: "session_limit", limit, limit_s: seconds };
}

const SESSION_LIMIT_PARSERS: ParsersBy<SessionLimitEvent, "limit"> = {
  max_duration: (fields) => timeLimit("max_duration", fields),
  idle: (fields) => timeLimit("idle", fields),
  budget: (fields) => {
    const usd = finite(fields, "limit_usd");
    return usd === undefined ? undefined : { type: "session_limit", limit: "budget", limit_usd: usd };
  },
};

const EVENT_PARSERS: ParsersBy<PageEvent, "type"> = {
  role: (fields) => {
    const name = text(fields, "name");
    const title = text(fields, "title");
    return name === undefined || title === undefined ? undefined : { type: "role", name, title };
  },
  error: (fields) => {
    const code = fields["code"];
    const message = text(fields, "message");
    return oneOf(AGENT_ERROR_CODE_VALUES, code) && message !== undefined ? { type: "error", code, message } : undefined;
  },
  session_limit: (fields) => dispatch<SessionLimitEvent>(SESSION_LIMIT_PARSERS, fields, "limit"),
  input_refused: (fields) => {
    const reason = fields["reason"];
    const message = text(fields, "message");
    return oneOf(REFUSAL_REASON_VALUES, reason) && message !== undefined
      ? { type: "input_refused", reason, message }
      : undefined;
  },
  tool: (fields) => {
    const [callId, name, kind, mode, status] = [
      text(fields, "call_id"),
      text(fields, "name"),
      text(fields, "kind"),
      fields["mode"],
      fields["status"],
    ];
    const duration = nullable(fields, "duration_ms", finite);
    const message = nullable(fields, "message", text);
    const args = nullable(fields, "arguments", (f, key) => asFields(f[key]));
    if (callId === undefined || name === undefined || kind === undefined) return undefined;
    if (!oneOf(TOOL_MODE_VALUES, mode) || !oneOf(TOOL_STATUS_VALUES, status)) return undefined;
    if (duration === undefined || message === undefined || args === undefined) return undefined;
    return { type: "tool", call_id: callId, name, kind, mode, status, duration_ms: duration, message, arguments: args };
  },
};

/**
 * Parse one `rolecall.events` message, checked against the protocol: undefined when it is not JSON, not
 * an event we know, or a field is missing or of the wrong type. Fields the protocol does not name are
 * dropped (a newer worker may send more).
 */
export function parseEvent(text: string): RoleCallEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const fields = asFields(value);
  return fields === undefined ? undefined : dispatch<PageEvent>(EVENT_PARSERS, fields, "type");
}

/** The value of the `rolecall.error` attribute, if it is a valid `ErrorAttribute`. */
function parseErrorAttribute(fields: Fields | undefined): ErrorAttribute | undefined {
  const code = fields?.["code"];
  const message = fields === undefined ? undefined : text(fields, "message");
  return oneOf(AGENT_ERROR_CODE_VALUES, code) && message !== undefined ? { code, message } : undefined;
}

/**
 * The worker's error from the `rolecall.error` attribute, if set. One that cannot be read (not JSON, or
 * a code this library does not know) still stops the conversation: it comes back as `agent_error`.
 */
export function errorFromAttributes(attributes: Readonly<Record<string, string>>): AgentError | undefined {
  const raw = attributes[ATTR_ERROR];
  if (!raw) return undefined;
  let fields: Fields | undefined;
  try {
    fields = asFields(JSON.parse(raw));
  } catch {
    return { code: "agent_error", message: raw, source: "agent" };
  }
  const reported = parseErrorAttribute(fields);
  if (reported !== undefined) return { ...reported, source: "agent" };
  return { code: "agent_error", message: (fields && text(fields, "message")) || raw, source: "agent" };
}

/** The active role from the agent's attributes, if set. */
export function roleFromAttributes(attributes: Readonly<Record<string, string>>): ActiveRole | undefined {
  const name = attributes[ATTR_ROLE];
  return name ? { name, title: attributes[ATTR_ROLE_TITLE] || name } : undefined;
}

// ------------------------------------------------------------------------------------------ events

type Listener = (event: RoleCallEvent) => void;
const hubs = new WeakMap<EventRoom, Set<Listener>>();

/**
 * Call `listener` for each `rolecall.events` message from the agent. Subscribe before connecting so
 * nothing is missed. Returns the unsubscribe function.
 */
export function onRoleCallEvent(room: EventRoom, listener: Listener): () => void {
  let listeners = hubs.get(room);
  if (listeners === undefined) {
    const set = new Set<Listener>();
    listeners = set;
    hubs.set(room, set);
    room.registerTextStreamHandler(EVENTS_TOPIC, (reader: TextStreamReader, from: { identity: string }) => {
      void reader.readAll().then(
        (text) => {
          const sender = room.remoteParticipants.get(from.identity);
          if (sender?.kind !== ParticipantKind.AGENT) return;
          const event = parseEvent(text);
          if (event !== undefined) for (const fn of [...set]) fn(event);
        },
        () => undefined, // a stream cut short by a disconnect carries nothing we could use
      );
    });
  }
  listeners.add(listener);
  const set = listeners;
  return () => {
    set.delete(listener);
    if (set.size === 0 && hubs.get(room) === set) {
      hubs.delete(room);
      room.unregisterTextStreamHandler(EVENTS_TOPIC);
    }
  };
}

// ------------------------------------------------------------------------------------------ active role

/**
 * Follow the persona speaking now (it changes on handoff): calls `onChange` at once with what is known,
 * then on every change. Returns the unsubscribe function.
 */
export function watchActiveRole(room: EventRoom, onChange: (role: ActiveRole | undefined) => void): () => void {
  let current: ActiveRole | undefined;
  const set = (role: ActiveRole | undefined): void => {
    if (role?.name === current?.name && role?.title === current?.title) return;
    current = role;
    onChange(role);
  };
  const fromAgent = (): void => {
    const agent = findAgent(room);
    const role = agent ? roleFromAttributes(agent.attributes) : undefined;
    if (role !== undefined) set(role);
  };
  const onAttributes = (_changed: Record<string, string>, participant: Participant): void => {
    if (participant.kind === ParticipantKind.AGENT) fromAgent();
  };
  const onJoined = (participant: RemoteParticipant): void => {
    if (participant.kind === ParticipantKind.AGENT) fromAgent();
  };
  const onDisconnected = (): void => set(undefined);
  const off = onRoleCallEvent(room, (event) => {
    if (event.type === "role") set({ name: event.name, title: event.title });
  });
  room.on(RoomEvent.ParticipantAttributesChanged, onAttributes);
  room.on(RoomEvent.ParticipantConnected, onJoined);
  room.on(RoomEvent.Disconnected, onDisconnected);
  onChange(current);
  fromAgent();
  return () => {
    off();
    room.off(RoomEvent.ParticipantAttributesChanged, onAttributes);
    room.off(RoomEvent.ParticipantConnected, onJoined);
    room.off(RoomEvent.Disconnected, onDisconnected);
  };
}

// ------------------------------------------------------------------------------------------ agent errors

// One sentence per time limit of the protocol (a new one is a compile error until it has its own).
const TIME_LIMIT_MESSAGES: { readonly [L in TimeLimit]: (span: string) => string } = {
  max_duration: (span) => `The session reached its time limit of ${span}.`,
  idle: (span) => `The session ended after ${span} without hearing from you.`,
};

export interface WatchAgentErrorsOptions {
  /** Report `agent_did_not_join` when no agent is in the room this long after connecting (ms). */
  joinTimeoutMs?: number;
}

/** Controls a `watchAgentErrors` watch. */
export interface AgentErrorWatch {
  /** The error shown now, if any. */
  readonly current: AgentError | undefined;
  /** Forget the error and wait for the agent again (call after a re-dispatch). */
  reset(): void;
  stop(): void;
}

/**
 * Follow what stops the conversation: the worker's `rolecall.error` (attribute or event), the session
 * limit, an agent that does not join within `joinTimeoutMs` of connecting, or one that leaves. Calls
 * `onChange` with the current error (undefined once the agent is back).
 */
export function watchAgentErrors(
  room: EventRoom,
  onChange: (error: AgentError | undefined) => void,
  options: WatchAgentErrorsOptions = {},
): AgentErrorWatch {
  const joinTimeoutMs = options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;
  let current: AgentError | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const set = (error: AgentError | undefined): void => {
    if (error?.code === current?.code && error?.message === current?.message) return;
    current = error;
    onChange(error);
  };
  const clearTimer = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const armJoinTimer = (): void => {
    clearTimer();
    if (room.state !== ConnectionState.Connected || findAgent(room) !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (findAgent(room) === undefined && room.state === ConnectionState.Connected) {
        const seconds = Math.round(joinTimeoutMs / 1000);
        set({ code: "agent_did_not_join", message: `The agent did not join within ${seconds} s.`, source: "page" });
      }
    }, joinTimeoutMs);
  };
  const onConnected = (): void => armJoinTimer();
  const onParticipantConnected = (participant: RemoteParticipant): void => {
    if (participant.kind !== ParticipantKind.AGENT) return;
    clearTimer();
    const reported = errorFromAttributes(participant.attributes);
    if (reported !== undefined) set(reported);
    else if (current?.source === "page") set(undefined);
  };
  const onParticipantDisconnected = (participant: RemoteParticipant): void => {
    if (participant.kind !== ParticipantKind.AGENT || room.state !== ConnectionState.Connected) return;
    if (findAgent(room) !== undefined) return;
    if (current === undefined || current.code === "agent_did_not_join") {
      set({ code: "agent_left", message: "The agent left the conversation.", source: "page" });
    }
  };
  const onAttributes = (_changed: Record<string, string>, participant: Participant): void => {
    if (participant.kind !== ParticipantKind.AGENT) return;
    const reported = errorFromAttributes(participant.attributes);
    if (reported !== undefined) set(reported);
  };
  const onDisconnected = (): void => {
    clearTimer();
    set(undefined);
  };
  const off = onRoleCallEvent(room, (event) => {
    if (event.type === "error") set({ code: event.code, message: event.message, source: "agent" });
    if (event.type === "session_limit" && event.limit === "budget") {
      set({ code: "session_limit", message: "The session reached its spending limit.", source: "agent" });
    } else if (event.type === "session_limit") {
      const minutes = Math.max(1, Math.round(event.limit_s / 60));
      const span = `${minutes} minute${minutes === 1 ? "" : "s"}`;
      set({ code: "session_limit", message: TIME_LIMIT_MESSAGES[event.limit](span), source: "agent" });
    }
  });
  room.on(RoomEvent.Connected, onConnected);
  room.on(RoomEvent.ParticipantConnected, onParticipantConnected);
  room.on(RoomEvent.ParticipantDisconnected, onParticipantDisconnected);
  room.on(RoomEvent.ParticipantAttributesChanged, onAttributes);
  room.on(RoomEvent.Disconnected, onDisconnected);
  armJoinTimer();
  const agent = findAgent(room);
  if (agent !== undefined) {
    const reported = errorFromAttributes(agent.attributes);
    if (reported !== undefined) set(reported);
  }
  return {
    get current() {
      return current;
    },
    reset() {
      set(undefined);
      armJoinTimer();
    },
    stop() {
      clearTimer();
      off();
      room.off(RoomEvent.Connected, onConnected);
      room.off(RoomEvent.ParticipantConnected, onParticipantConnected);
      room.off(RoomEvent.ParticipantDisconnected, onParticipantDisconnected);
      room.off(RoomEvent.ParticipantAttributesChanged, onAttributes);
      room.off(RoomEvent.Disconnected, onDisconnected);
    },
  };
}
