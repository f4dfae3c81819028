/**
 * UI events: tell the agent what the user did on the page (ticked an ingredient, picked a card), as
 * context for the model, never as the user's words.
 *
 *   await sendEvent(room, "ingredient_checked", { ingredient: "spaghetti", checked: true });
 *
 * The events are the ones the roles declare (`events:` in the role files); names and payload types are
 * generated from them (`EventPayloads`), so a renamed event or a changed field is a compile error. The
 * payload is checked against the event's schema here first, then by the worker, which also checks the
 * caller is the session's user and the event's rate limit; what the agent does with it (`respond`) is
 * the role's. A refusal throws a `UiEventError` whose `reason` says why; the session goes on.
 */
import { ParticipantKind, RpcError, type Participant, type Room } from "livekit-client";

import { describeError } from "./errors";
import {
  EVENT_METHOD,
  EVENT_REFUSAL_REASON_VALUES,
  EVENT_RESPONSE_VALUES,
  type EventRefusalReason,
  type UiEventReply,
  type UiEventRequest,
} from "./generated/protocol";
import { EVENT_SCHEMAS, type EventName, type EventPayloads, type JsonSchema } from "./generated/roles";
import { validate } from "./validate";

export { EVENT_METHOD } from "./generated/protocol";
/** How long `sendEvent` waits for the agent's answer by default, in ms (LiveKit's own default). */
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

/** The part of a livekit-client `Room` `sendEvent` uses. */
export interface UiEventRoom {
  readonly localParticipant: Pick<Room["localParticipant"], "performRpc">;
  readonly remoteParticipants: ReadonlyMap<string, Pick<Participant, "identity" | "kind">>;
}

export interface SendEventOptions {
  /** How long to wait for the agent's answer (ms). */
  responseTimeoutMs?: number;
  /** The payload's schema, for an event the generated types do not know (default: the role files'). */
  schema?: JsonSchema;
}

/**
 * Send UI event `name` to the agent (typed by the role files). Resolves with what the agent does with
 * it (`respond`); throws `UiEventError` when it is refused or cannot be sent.
 */
export async function sendEvent<N extends EventName>(
  room: UiEventRoom,
  name: N,
  payload: EventPayloads[N],
  options: SendEventOptions = {},
): Promise<UiEventReply> {
  return sendUiEvent(room, name, payload as unknown as Record<string, unknown>, {
    schema: EVENT_SCHEMAS[name],
    ...options,
  });
}

/** `sendEvent` without the generated types: any name, any JSON object (checked against `schema` if given). */
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
