/**
 * UI events: tell the agent what the user did on the page (ticked an ingredient, picked a card), as
 * context for the model, never as the user's words.
 *
 *   import { EVENT_SCHEMAS, type EventPayloads } from "./rolecall/roles";   // python -m worker roles types
 *   const sendEvent = createEventSender<EventPayloads>(room, { schemas: EVENT_SCHEMAS });
 *   await sendEvent("ingredient_checked", { ingredient: "spaghetti", checked: true });
 *
 * The events are the ones the app's roles declare (`events:` in the role files); their names and payload
 * types are generated from them (`EventPayloads`), so a renamed event or a changed field is a compile
 * error. The payload is checked against the event's schema here first (or a precompiled validator, for a
 * page under a strict Content-Security-Policy), then by the worker, which also checks the caller is the
 * session's user and the event's rate limit; what the agent does with it (`respond`) is the role's. A
 * refusal throws a `UiEventError` whose `reason` says why; the session goes on.
 */
import { ParticipantKind, RpcError, type Participant, type Room } from "livekit-client";

import { describeError } from "./errors.js";
import {
  EVENT_METHOD,
  EVENT_REFUSAL_REASON_VALUES,
  EVENT_RESPONSE_VALUES,
  type EventRefusalReason,
  type UiEventReply,
  type UiEventRequest,
} from "./generated/protocol.js";
import { validate, type JsonSchema, type SchemaValidator } from "./validate.js";

export { EVENT_METHOD } from "./generated/protocol.js";
/** How long a UI event waits for the agent's answer by default, in ms (LiveKit's own default). */
export const EVENT_TIMEOUT_MS = 10_000;

/**
 * Why an event was not taken: the worker's `EventRefusalReason`, or what the page found itself (no
 * agent in the room; the RPC failed on the way: timeout, disconnect).
 */
export type UiEventErrorReason = EventRefusalReason | "no_agent" | "failed";

/** An event the agent did not take (or that never reached it); the conversation goes on. */
export class UiEventError extends Error {
  override readonly name = "UiEventError";

  constructor(
    readonly reason: UiEventErrorReason,
    message: string,
    /** LiveKit's RPC error code, when the RPC failed. */
    readonly code?: number,
  ) {
    super(message);
  }
}

/** The part of a livekit-client `Room` sending UI events uses. */
export interface UiEventRoom {
  readonly localParticipant: Pick<Room["localParticipant"], "performRpc">;
  readonly remoteParticipants: ReadonlyMap<string, Pick<Participant, "identity" | "kind">>;
}

export interface SendEventOptions {
  /** How long to wait for the agent's answer (ms). */
  responseTimeoutMs?: number;
  /** The payload's schema (or a precompiled validator), checked before sending. */
  schema?: JsonSchema | SchemaValidator;
}

export interface EventSenderOptions<P extends object> {
  /** Payload schemas by event name (the generated `EVENT_SCHEMAS`), checked before sending. */
  schemas?: { readonly [N in keyof P]?: JsonSchema };
  /** Precompiled validators by event name (`EVENT_VALIDATORS`), used instead of compiling `schemas`. */
  validators?: { readonly [N in keyof P]?: SchemaValidator };
  /** How long to wait for the agent's answer (ms). */
  responseTimeoutMs?: number;
}

/** Sends the events of payload map `P` (the generated `EventPayloads`), typed by name. */
export type EventSender<P extends object> = <N extends keyof P & string>(
  name: N,
  payload: P[N],
  options?: { responseTimeoutMs?: number },
) => Promise<UiEventReply>;

/**
 * A sender of the events `P` declares (payload types by event name; use the `EventPayloads` that
 * `python -m worker roles types` generates from the app's roles). Each call resolves with what the agent
 * does with the event (`respond`), or throws `UiEventError` when it is refused or cannot be sent.
 */
export function createEventSender<P extends object>(
  room: UiEventRoom,
  options: EventSenderOptions<P> = {},
): EventSender<P> {
  const schemas = (options.schemas ?? {}) as Readonly<Record<string, JsonSchema | undefined>>;
  const validators = (options.validators ?? {}) as Readonly<Record<string, SchemaValidator | undefined>>;
  return (name, payload, callOptions = {}) => {
    const schema = validators[name] ?? schemas[name];
    return sendUiEvent(room, name, payload as unknown as Record<string, unknown>, {
      responseTimeoutMs: callOptions.responseTimeoutMs ?? options.responseTimeoutMs,
      ...(schema === undefined ? {} : { schema }),
    });
  };
}

/** A UI event without generated types: any name, any JSON object (checked against `schema` if given). */
export async function sendUiEvent(
  room: UiEventRoom,
  name: string,
  payload: Record<string, unknown>,
  options: SendEventOptions = {},
): Promise<UiEventReply> {
  if (options.schema !== undefined) {
    const problems = validate(options.schema, payload);
    if (problems.length > 0) {
      throw new UiEventError("invalid_payload", `invalid payload for ${name}: ${problems.join("; ")}`);
    }
  }
  const agent = [...room.remoteParticipants.values()].find((p) => p.kind === ParticipantKind.AGENT);
  if (agent === undefined) throw new UiEventError("no_agent", `${name}: the agent is not in the room`);
  const request: UiEventRequest = { name, payload };
  let reply: string;
  try {
    reply = await room.localParticipant.performRpc({
      destinationIdentity: agent.identity,
      method: EVENT_METHOD,
      payload: JSON.stringify(request),
      responseTimeout: options.responseTimeoutMs ?? EVENT_TIMEOUT_MS,
    });
  } catch (error) {
    if (error instanceof RpcError) {
      const reason = (EVENT_REFUSAL_REASON_VALUES as readonly string[]).includes(error.data ?? "")
        ? (error.data as EventRefusalReason)
        : "failed";
      throw new UiEventError(reason, error.message, error.code);
    }
    throw new UiEventError("failed", `${name}: ${describeError(error)}`);
  }
  return parseReply(name, reply);
}

function parseReply(name: string, text: string): UiEventReply {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null) {
      const { name: answered, respond } = value as Record<string, unknown>;
      if (typeof answered === "string" && (EVENT_RESPONSE_VALUES as readonly unknown[]).includes(respond)) {
        return { name: answered, respond: respond as UiEventReply["respond"] };
      }
    }
  } catch {
    // reported below
  }
  throw new UiEventError("failed", `${name}: the agent's answer could not be read`);
}
