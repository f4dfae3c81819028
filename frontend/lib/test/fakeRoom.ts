/**
 * A stand-in for livekit-client's Room with the same method signatures for what the library uses:
 * RPC registration, text stream handlers, remote participants, events and connection state. Calls and
 * streams are delivered the way livekit-client delivers them (unknown method → UNSUPPORTED_METHOD).
 * The real Room is covered by the browser tests.
 */
import {
  ConnectionState,
  ParticipantKind,
  RoomEvent,
  RpcError,
  type Room,
  type RpcInvocationData,
  type TextStreamHandler,
  type TextStreamReader,
} from "livekit-client";

import type { EventRoom } from "../src/agent";
import type { RpcRoom } from "../src/tools";

export interface FakeParticipant {
  identity: string;
  kind: ParticipantKind;
  attributes: Record<string, string>;
}

type Listener = (...args: never[]) => void;

export class FakeRoom {
  private listeners = new Map<string, Set<Listener>>();
  state: ConnectionState = ConnectionState.Disconnected;
  readonly remoteParticipants = new Map<string, FakeParticipant>();
  readonly rpcHandlers = new Map<string, (data: RpcInvocationData) => Promise<string>>();
  readonly textHandlers = new Map<string, TextStreamHandler>();
  private requests = 0;

  on(event: string, listener: Listener): this {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener);
    this.listeners.set(event, set);
    return this;
  }

  off(event: string, listener: Listener): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  emit(event: string, ...args: unknown[]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) (listener as (...a: unknown[]) => void)(...args);
  }

  registerRpcMethod(method: string, handler: (data: RpcInvocationData) => Promise<string>): void {
    if (this.rpcHandlers.has(method)) throw new Error(`RPC handler already registered for method ${method}`);
    this.rpcHandlers.set(method, handler);
  }

  unregisterRpcMethod(method: string): void {
    this.rpcHandlers.delete(method);
  }

  registerTextStreamHandler(topic: string, handler: TextStreamHandler): void {
    if (this.textHandlers.has(topic)) throw new Error(`A text stream handler for topic "${topic}" has already been set.`);
    this.textHandlers.set(topic, handler);
  }

  unregisterTextStreamHandler(topic: string): void {
    this.textHandlers.delete(topic);
  }

  /** The room as the library's seams type it. */
  get asRpcRoom(): RpcRoom {
    return this;
  }

  get asEventRoom(): EventRoom {
    return this as unknown as EventRoom;
  }

  get asRoom(): Room {
    return this as unknown as Room;
  }

  // --- driving it from a test ----------------------------------------------------------------

  connect(): void {
    this.state = ConnectionState.Connected;
    this.emit(RoomEvent.Connected);
  }

  disconnect(): void {
    this.state = ConnectionState.Disconnected;
    this.emit(RoomEvent.Disconnected);
  }

  join(identity: string, kind: ParticipantKind = ParticipantKind.STANDARD, attributes: Record<string, string> = {}): FakeParticipant {
    const participant = { identity, kind, attributes };
    this.remoteParticipants.set(identity, participant);
    this.emit(RoomEvent.ParticipantConnected, participant);
    return participant;
  }

  leave(identity: string): void {
    const participant = this.remoteParticipants.get(identity);
    if (participant === undefined) return;
    this.remoteParticipants.delete(identity);
    this.emit(RoomEvent.ParticipantDisconnected, participant);
  }

  setAttributes(identity: string, changed: Record<string, string>): void {
    const participant = this.remoteParticipants.get(identity);
    if (participant === undefined) throw new Error(`no participant ${identity}`);
    participant.attributes = { ...participant.attributes, ...changed };
    this.emit(RoomEvent.ParticipantAttributesChanged, changed, participant);
  }

  /** Invoke `method` as `caller` would over RPC; resolves to the reply, rejects with the RpcError. */
  async call(method: string, payload: string | object, caller = "agent"): Promise<string> {
    const handler = this.rpcHandlers.get(method);
    if (handler === undefined) throw RpcError.builtIn("UNSUPPORTED_METHOD");
    return handler({
      requestId: `req-${++this.requests}`,
      callerIdentity: caller,
      payload: typeof payload === "string" ? payload : JSON.stringify(payload),
      responseTimeout: 10_000,
    });
  }

  /** Deliver a text stream on `topic` from `identity`; resolves once its reader has been read. */
  async sendText(topic: string, text: string, identity = "agent"): Promise<void> {
    const handler = this.textHandlers.get(topic);
    if (handler === undefined) return;
    let read!: () => void;
    const done = new Promise<void>((resolve) => (read = resolve));
    const reader = {
      readAll: async () => {
        queueMicrotask(read);
        return text;
      },
    } as unknown as TextStreamReader;
    handler(reader, { identity });
    await done;
    await Promise.resolve();
  }
}
