/**
 * React hooks over the @rolecall/client core. Each takes the Room explicitly or finds it in
 * `@livekit/components-react`'s RoomContext (`<LiveKitRoom>` / `<RoomContext.Provider>`).
 *
 *   const room = useMemo(() => new Room(), []);
 *   useRoleCallTools<ToolArgs>(                 // ToolArgs, TOOL_SCHEMAS: python -m worker roles types
 *     { start_timer: ({ label, seconds }) => timers.start(label, seconds) },
 *     { room, schemas: TOOL_SCHEMAS },
 *   );
 *   const role = useActiveRole(room);
 *   const { error, reset } = useAgentErrors({ room });
 *   const running = useToolActivity({ room });        // tool calls in flight ("Searching recipes…")
 *   const send = useSendEvent<EventPayloads>({ room, schemas: EVENT_SCHEMAS });   // send("ingredient_checked", {...})
 *
 * Mount `useRoleCallTools` before connecting the room: the worker asks which tools the page has as
 * soon as it joins.
 */
import { useMaybeRoomContext } from "@livekit/components-react";
import type { Room } from "livekit-client";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { trackToolActivity, type RunningTool, type TrackToolActivityOptions } from "./activity.js";
import {
  watchActiveRole,
  watchAgentErrors,
  type ActiveRole,
  type AgentError,
  type AgentErrorWatch,
} from "./agent.js";
import { createEventSender, type EventSender, type EventSenderOptions } from "./events.js";
import {
  registerTools,
  type RegisterToolsOptions,
  type ToolHandler,
  type ToolHandlers,
} from "./tools.js";

function useRoom(room: Room | undefined, hook: string): Room {
  const fromContext = useMaybeRoomContext();
  const found = room ?? fromContext;
  if (found === undefined) {
    throw new Error(`${hook} needs a Room: pass { room } or render it inside a RoomContext provider`);
  }
  return found;
}

export interface UseRoleCallToolsOptions<M> extends RegisterToolsOptions<M> {
  room?: Room;
}

/**
 * Register tool handlers on the room for as long as the component is mounted. Handlers may change on
 * every render (the latest one runs); the set of method names is what gets registered. Pass the
 * generated `TOOL_SCHEMAS` as `schemas` (and `ToolArgs` as `M`) so arguments are typed and validated.
 */
export function useRoleCallTools<M extends object>(
  handlers: ToolHandlers<M>,
  options: UseRoleCallToolsOptions<M> = {},
): void {
  const room = useRoom(options.room, "useRoleCallTools");
  const latest = useRef(handlers);
  latest.current = handlers;
  const onCall = useRef(options.onCall);
  onCall.current = options.onCall;
  const { schemas, validators, isAllowedCaller } = options;
  const methods = Object.keys(handlers)
    .filter((key) => typeof (handlers as Record<string, unknown>)[key] === "function")
    .sort()
    .join("\n");
  useEffect(() => {
    const stable: Record<string, ToolHandler<unknown>> = {};
    for (const method of methods ? methods.split("\n") : []) {
      stable[method] = (args, call) => {
        const handler = (latest.current as Record<string, ToolHandler<unknown> | undefined>)[method];
        if (handler === undefined) throw new Error(`${method} is not available right now`);
        return handler(args, call);
      };
    }
    const registry = registerTools<M>(room, stable as ToolHandlers<M>, {
      onCall: (event) => onCall.current?.(event),
      ...(schemas ? { schemas } : {}),
      ...(validators ? { validators } : {}),
      ...(isAllowedCaller ? { isAllowedCaller } : {}),
    });
    return () => registry.unregister();
  }, [room, methods, schemas, validators, isAllowedCaller]);
}

/** The persona speaking now (changes on handoff); undefined until the agent has announced one. */
export function useActiveRole(room?: Room): ActiveRole | undefined {
  const resolved = useRoom(room, "useActiveRole");
  const [role, setRole] = useState<ActiveRole | undefined>(undefined);
  useEffect(() => watchActiveRole(resolved, setRole), [resolved]);
  return role;
}

export interface UseAgentErrorsOptions {
  room?: Room;
  /** Report `agent_did_not_join` this long after connecting without an agent (default 20 s). */
  joinTimeoutMs?: number;
}

/**
 * What stops the conversation now (the worker's error, the agent not joining or leaving), and `reset`
 * to call after bringing the agent back.
 */
export function useAgentErrors(options: UseAgentErrorsOptions = {}): {
  error: AgentError | undefined;
  reset: () => void;
} {
  const room = useRoom(options.room, "useAgentErrors");
  const [error, setError] = useState<AgentError | undefined>(undefined);
  const watch = useRef<AgentErrorWatch | undefined>(undefined);
  const { joinTimeoutMs } = options;
  useEffect(() => {
    const current = watchAgentErrors(room, setError, joinTimeoutMs === undefined ? {} : { joinTimeoutMs });
    watch.current = current;
    return () => {
      current.stop();
      watch.current = undefined;
    };
  }, [room, joinTimeoutMs]);
  const reset = useCallback(() => watch.current?.reset(), []);
  return { error, reset };
}

export interface UseToolActivityOptions extends TrackToolActivityOptions {
  room?: Room;
}

/**
 * The tool calls in flight (started, not yet answered or failed), in the order they started; with
 * `minVisibleMs`, a fast call stays listed that long (marked `ended`) so that it shows at all.
 */
export function useToolActivity(options: UseToolActivityOptions = {}): readonly RunningTool[] {
  const resolved = useRoom(options.room, "useToolActivity");
  const [running, setRunning] = useState<readonly RunningTool[]>([]);
  const { minVisibleMs } = options;
  useEffect(
    () => trackToolActivity(resolved, setRunning, minVisibleMs === undefined ? {} : { minVisibleMs }),
    [resolved, minVisibleMs],
  );
  return running;
}

export interface UseSendEventOptions<P extends object> extends EventSenderOptions<P> {
  room?: Room;
}

/**
 * A stable function sending the UI events `P` declares (the generated `EventPayloads`), typed by name;
 * pass the generated `EVENT_SCHEMAS` as `schemas` (or `EVENT_VALIDATORS` as `validators`) to check
 * payloads before sending.
 */
export function useSendEvent<P extends object>(options: UseSendEventOptions<P> = {}): EventSender<P> {
  const resolved = useRoom(options.room, "useSendEvent");
  const { schemas, validators, responseTimeoutMs } = options;
  return useMemo(
    () =>
      createEventSender<P>(resolved, {
        ...(schemas ? { schemas } : {}),
        ...(validators ? { validators } : {}),
        ...(responseTimeoutMs === undefined ? {} : { responseTimeoutMs }),
      }),
    [resolved, schemas, validators, responseTimeoutMs],
  );
}

export type { RunningTool } from "./activity.js";
export type { ActiveRole, AgentError } from "./agent.js";
