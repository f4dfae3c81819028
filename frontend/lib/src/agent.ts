/**
 * What the worker tells the page besides audio and transcripts.
 *
 * State lives in the agent participant's attributes (`rolecall.role`, `rolecall.role_title`,
 * `rolecall.error`), so a page that joins late still sees it; events arrive as JSON on the
 * `rolecall.events` text stream topic. Only what the agent participant sends is believed.
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

export const EVENTS_TOPIC = "rolecall.events";
export const ATTR_ROLE = "rolecall.role";
export const ATTR_ROLE_TITLE = "rolecall.role_title";
export const ATTR_ERROR = "rolecall.error";
/** How long the page waits for the agent after connecting before reporting `agent_did_not_join`. */
export const DEFAULT_JOIN_TIMEOUT_MS = 20_000;

/** An event the worker sends on `rolecall.events`. */
export type RoleCallEvent =
  | { type: "role"; name: string; title: string }
  | { type: "error"; code: string; message: string }
  | { type: "session_limit"; limit: "max_duration" | "idle"; limit_s: number }
  | { type: "session_limit"; limit: "budget"; limit_usd: number }
  /** A typed message the agent did not take (`too_long`, `too_fast`); the session goes on. */
  | { type: "input_refused"; reason: string; message: string };

/** The persona speaking now. */
export interface ActiveRole {
  name: string;
  title: string;
}

/**
 * Why the conversation is not going on: the worker's `code` (e.g. `model_unavailable`), or one the page
 * detected: `agent_did_not_join`, `agent_left`, `session_limit`.
 */
export interface AgentError {
  code: string;
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

/** Parse one `rolecall.events` message; undefined when it is not one we know. */
export function parseEvent(text: string): RoleCallEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const event = value as Record<string, unknown>;
  const str = (key: string): string | undefined => (typeof event[key] === "string" ? (event[key] as string) : undefined);
  switch (event["type"]) {
    case "role": {
      const name = str("name");
      return name === undefined ? undefined : { type: "role", name, title: str("title") ?? name };
    }
    case "error": {
      const code = str("code");
      return code === undefined ? undefined : { type: "error", code, message: str("message") ?? code };
    }
    case "session_limit": {
      if (event["limit"] === "budget") {
        const usd = event["limit_usd"];
        return typeof usd === "number" ? { type: "session_limit", limit: "budget", limit_usd: usd } : undefined;
      }
      if (typeof event["limit_s"] !== "number") return undefined;
      const limit = event["limit"] === "idle" ? "idle" : "max_duration";
      return { type: "session_limit", limit, limit_s: event["limit_s"] };
    }
    case "input_refused": {
      const reason = str("reason");
      return reason === undefined ? undefined : { type: "input_refused", reason, message: str("message") ?? reason };
    }
    default:
      return undefined;
  }
}

/** The worker's error from the `rolecall.error` attribute, if set. */
export function errorFromAttributes(attributes: Readonly<Record<string, string>>): AgentError | undefined {
  const raw = attributes[ATTR_ERROR];
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as { code?: unknown; message?: unknown };
    const code = typeof value.code === "string" ? value.code : "agent_error";
    const message = typeof value.message === "string" ? value.message : code;
    return { code, message, source: "agent" };
  } catch {
    return { code: "agent_error", message: raw, source: "agent" };
  }
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
      set({
        code: "session_limit",
        message:
          event.limit === "idle"
            ? `The session ended after ${span} without hearing from you.`
            : `The session reached its time limit of ${span}.`,
        source: "agent",
      });
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
