/**
 * Tool handlers as LiveKit RPC methods.
 *
 * `registerTools(room, handlers)` registers one RPC method per handler on the Room, before it connects,
 * plus `rolecall.tools`, which tells the worker which tools this page implements (the worker offers the
 * model only those). Every call is checked in order: the caller is the agent participant, the payload is
 * a JSON object, the arguments match the tool's JSON Schema; then the handler runs, and its result goes
 * back as JSON. Any failure becomes an RpcError with a readable message (at most `RPC_ERROR_MESSAGE_LIMIT`
 * bytes), which the worker hands to the model, so the conversation carries on.
 */
import { ParticipantKind, RpcError, type RpcInvocationData } from "livekit-client";

import {
  RPC_METHOD_LIMIT,
  RPC_PAYLOAD_LIMIT,
  describeError,
  rpcError,
  utf8Length,
} from "./errors.js";
import { DISCOVERY_METHOD, type DiscoveryReply } from "./generated/protocol.js";
import { validate, type JsonSchema, type SchemaValidator } from "./validate.js";

export { DISCOVERY_METHOD } from "./generated/protocol.js";
export type { JsonSchema, SchemaValidator } from "./validate.js";
/** How long a call from a participant the room does not know yet waits for it to appear, in ms. */
export const CALLER_GRACE_MS = 2_000;

const Code = RpcError.ErrorCode;

/** The part of a livekit-client `Room` the tool registry uses (a fake can stand in for it in tests). */
export interface RpcRoom {
  registerRpcMethod(method: string, handler: (data: RpcInvocationData) => Promise<string>): void;
  unregisterRpcMethod(method: string): void;
  readonly remoteParticipants: ReadonlyMap<string, { readonly identity: string; readonly kind: ParticipantKind }>;
}

/** One call, as a handler sees it besides its arguments. */
export interface ToolCall {
  method: string;
  callerIdentity: string;
  requestId: string;
  /** How long the agent waits for the answer, in ms. */
  responseTimeout: number;
}

/** Handles one tool: gets the validated arguments, returns anything JSON-serializable (or a Promise of it). */
export type ToolHandler<A> = (args: A, call: ToolCall) => unknown;

/** Handlers by RPC method; `M` maps each method to its arguments (e.g. the generated `ToolArgs`). */
export type ToolHandlers<M> = { [K in keyof M]?: ToolHandler<M[K]> };

/** What happened to one call (for logs and dev tools). */
export interface ToolCallEvent {
  method: string;
  callerIdentity: string;
  args: unknown;
  ok: boolean;
  /** The JSON sent back, when ok. */
  result?: string;
  /** The RpcError sent back, when not ok. */
  error?: RpcError;
}

export interface RegisterToolsOptions<M> {
  /**
   * JSON Schema per method (e.g. the generated `TOOL_SCHEMAS`); arguments of a method with neither a
   * schema nor a validator are only checked to be a JSON object.
   */
  schemas?: { readonly [K in keyof M]?: JsonSchema };
  /**
   * Precompiled validators per method (Ajv standalone code), used instead of compiling `schemas` at run
   * time, which a strict Content-Security-Policy forbids.
   */
  validators?: { readonly [K in keyof M]?: SchemaValidator };
  /** Who may call; by default only participants of kind AGENT. */
  isAllowedCaller?: (participant: { identity: string; kind: ParticipantKind }) => boolean;
  /** Called after every call, answered or refused. */
  onCall?: (event: ToolCallEvent) => void;
}

/** The methods registered by one `registerTools` call; `unregister()` removes them. */
export interface ToolRegistry {
  readonly methods: readonly string[];
  unregister(): void;
}

interface RoomTools {
  methods: Set<string>;
  isAllowedCaller: (participant: { identity: string; kind: ParticipantKind }) => boolean;
}

// One discovery method per room answers for every registration on it.
const rooms = new WeakMap<RpcRoom, RoomTools>();

const isAgent = (participant: { kind: ParticipantKind }): boolean => participant.kind === ParticipantKind.AGENT;

/**
 * Register `handlers` as RPC methods on `room` (do it before `room.connect()`), and answer the worker's
 * tool discovery with their names. Throws when a method name is over `RPC_METHOD_LIMIT` bytes or already
 * registered.
 */
export function registerTools<M extends object>(
  room: RpcRoom,
  handlers: ToolHandlers<M>,
  options: RegisterToolsOptions<M> = {},
): ToolRegistry {
  const entries = Object.entries(handlers as Record<string, ToolHandler<unknown> | undefined>).filter(
    (entry): entry is [string, ToolHandler<unknown>] => typeof entry[1] === "function",
  );
  const schemas = (options.schemas ?? {}) as Readonly<Record<string, JsonSchema | undefined>>;
  const validators = (options.validators ?? {}) as Readonly<Record<string, SchemaValidator | undefined>>;
  const allowed = options.isAllowedCaller ?? isAgent;
  let state = rooms.get(room);
  for (const [method] of entries) {
    if (utf8Length(method) > RPC_METHOD_LIMIT) {
      throw new Error(`RPC method name "${method}" is over LiveKit's limit of ${RPC_METHOD_LIMIT} bytes`);
    }
    if (method === DISCOVERY_METHOD || state?.methods.has(method)) {
      throw new Error(`RPC method "${method}" is already registered on this room`);
    }
  }
  if (state === undefined) {
    const fresh: RoomTools = { methods: new Set(), isAllowedCaller: allowed };
    room.registerRpcMethod(DISCOVERY_METHOD, async (data) => {
      await checkCaller(room, data, DISCOVERY_METHOD, fresh.isAllowedCaller);
      const reply: DiscoveryReply = { tools: [...fresh.methods] };
      return JSON.stringify(reply);
    });
    rooms.set(room, fresh);
    state = fresh;
  }
  const roomTools = state;
  const methods: string[] = [];
  for (const [method, handler] of entries) {
    room.registerRpcMethod(method, (data) =>
      invoke(room, method, handler, validators[method] ?? schemas[method], data, allowed, options.onCall),
    );
    roomTools.methods.add(method);
    methods.push(method);
  }
  let active = true;
  return {
    methods,
    unregister() {
      if (!active) return;
      active = false;
      for (const method of methods) {
        room.unregisterRpcMethod(method);
        roomTools.methods.delete(method);
      }
      if (roomTools.methods.size === 0) {
        room.unregisterRpcMethod(DISCOVERY_METHOD);
        rooms.delete(room);
      }
    },
  };
}

async function invoke(
  room: RpcRoom,
  method: string,
  handler: ToolHandler<unknown>,
  schema: JsonSchema | SchemaValidator | undefined,
  data: RpcInvocationData,
  allowed: (participant: { identity: string; kind: ParticipantKind }) => boolean,
  onCall: ((event: ToolCallEvent) => void) | undefined,
): Promise<string> {
  let args: unknown;
  try {
    await checkCaller(room, data, method, allowed);
    args = parseArguments(method, data.payload, schema);
    const call: ToolCall = {
      method,
      callerIdentity: data.callerIdentity,
      requestId: data.requestId,
      responseTimeout: data.responseTimeout,
    };
    let result: unknown;
    try {
      result = await handler(args, call);
    } catch (error) {
      throw error instanceof RpcError
        ? rpcError(error.code, error.message)
        : rpcError(Code.APPLICATION_ERROR, `${method} failed: ${describeError(error)}`);
    }
    const text = serializeResult(method, result);
    onCall?.({ method, callerIdentity: data.callerIdentity, args, ok: true, result: text });
    return text;
  } catch (error) {
    const rpc = error instanceof RpcError ? error : rpcError(Code.APPLICATION_ERROR, describeError(error));
    onCall?.({ method, callerIdentity: data.callerIdentity, args, ok: false, error: rpc });
    throw rpc;
  }
}

async function checkCaller(
  room: RpcRoom,
  data: RpcInvocationData,
  method: string,
  allowed: (participant: { identity: string; kind: ParticipantKind }) => boolean,
): Promise<void> {
  // The RPC packet can overtake the signalling update announcing its sender: give it a moment.
  let caller = room.remoteParticipants.get(data.callerIdentity);
  for (let waited = 0; caller === undefined && waited < CALLER_GRACE_MS; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    caller = room.remoteParticipants.get(data.callerIdentity);
  }
  if (caller === undefined || !allowed(caller)) {
    throw rpcError(Code.APPLICATION_ERROR, `${method}: only the agent may call this method`);
  }
}

/**
 * The arguments in an RPC payload: a JSON object (empty payload: `{}`), valid against `schema` (a JSON
 * Schema or a precompiled validator).
 */
export function parseArguments(
  method: string,
  payload: string,
  schema: JsonSchema | SchemaValidator | undefined,
): unknown {
  let args: unknown;
  if (payload.trim() === "") {
    args = {};
  } else {
    try {
      args = JSON.parse(payload);
    } catch (error) {
      throw rpcError(Code.APPLICATION_ERROR, `${method}: the arguments are not valid JSON (${describeError(error)})`);
    }
  }
  if (typeof args !== "object" || args === null || Array.isArray(args)) {
    throw rpcError(Code.APPLICATION_ERROR, `${method}: the arguments must be a JSON object`);
  }
  if (schema !== undefined) {
    const problems = validate(schema, args);
    if (problems.length > 0) {
      throw rpcError(Code.APPLICATION_ERROR, `${method}: invalid arguments: ${problems.join("; ")}`);
    }
  }
  return args;
}

/** A handler's result as the JSON reply: `undefined` becomes `{"ok":true}`; over the payload limit fails. */
export function serializeResult(method: string, result: unknown): string {
  let text: string | undefined;
  try {
    text = result === undefined ? '{"ok":true}' : JSON.stringify(result);
  } catch (error) {
    throw rpcError(Code.APPLICATION_ERROR, `${method}: the result is not JSON-serializable (${describeError(error)})`);
  }
  if (text === undefined) {
    throw rpcError(Code.APPLICATION_ERROR, `${method}: the result is not JSON-serializable (${typeof result})`);
  }
  const size = utf8Length(text);
  if (size > RPC_PAYLOAD_LIMIT) {
    throw rpcError(
      Code.RESPONSE_PAYLOAD_TOO_LARGE,
      `${method}: the result is ${size} bytes, over LiveKit's RPC limit of ${RPC_PAYLOAD_LIMIT} bytes`,
    );
  }
  return text;
}
