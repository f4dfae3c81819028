/**
 * Tool activity: the worker tells the page as every tool call starts, makes progress, answers or fails
 * (`tool` events on `rolecall.events`, any kind: frontend, http, handoff, builtin). A page shows what
 * the agent is doing while it is quiet ("Searching recipes…").
 *
 *   const stop = trackToolActivity(room, (running) => render(running));   // calls in flight
 *   onToolActivity(room, (event) => log(event.name, event.status, event.duration_ms));
 *
 * Arguments come only for tools whose role says `show_arguments: true`.
 */
import { onRoleCallEvent, type EventRoom } from "./agent.js";
import type { ToolActivityEvent, ToolMode } from "./generated/protocol.js";

/** A tool call in flight, as the page knows it. */
export interface RunningTool {
  callId: string;
  name: string;
  /** The tool's kind: `frontend`, `http`, `handoff`, `builtin`, ... */
  kind: string;
  mode: ToolMode;
  /** `Date.now()` when the page heard it start. */
  startedAt: number;
  /** The latest thing the agent said about it (a progress message), if any. */
  message: string | undefined;
  /** Its arguments, when the role shows them. */
  arguments: Readonly<Record<string, unknown>> | undefined;
  /** Set once it answered or failed, while `minVisibleMs` keeps it listed. */
  ended: "done" | "failed" | undefined;
}

export interface TrackToolActivityOptions {
  /**
   * Keep a call listed at least this long after it started (ms), so that a fast call still shows
   * instead of flashing (or never rendering at all). Default 0.
   */
  minVisibleMs?: number;
}

/** Call `listener` for every tool activity event from the agent. Returns the unsubscribe function. */
export function onToolActivity(room: EventRoom, listener: (event: ToolActivityEvent) => void): () => void {
  return onRoleCallEvent(room, (event) => {
    if (event.type === "tool") listener(event);
  });
}

/** The calls in flight after `event`, given those before it (a new array when something changed). */
export function nextRunning(
  running: readonly RunningTool[],
  event: ToolActivityEvent,
  now: number = Date.now(),
): readonly RunningTool[] {
  const index = running.findIndex((call) => call.callId === event.call_id);
  if (event.status === "done" || event.status === "failed") {
    return index < 0 ? running : running.filter((_, i) => i !== index);
  }
  if (index < 0) {
    return [
      ...running,
      {
        callId: event.call_id,
        name: event.name,
        kind: event.kind,
        mode: event.mode,
        startedAt: now,
        message: event.message ?? undefined,
        arguments: event.arguments ?? undefined,
        ended: undefined,
      },
    ];
  }
  const current = running[index] as RunningTool;
  const updated: RunningTool = { ...current, message: event.message ?? current.message };
  return running.map((call, i) => (i === index ? updated : call));
}

/**
 * Follow the tool calls in flight: calls `onChange` at once (nothing is running) and on every change.
 * Returns the unsubscribe function.
 */
export function trackToolActivity(
  room: EventRoom,
  onChange: (running: readonly RunningTool[]) => void,
  options: TrackToolActivityOptions = {},
): () => void {
  const minVisibleMs = options.minVisibleMs ?? 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let running: readonly RunningTool[] = [];
  const set = (next: readonly RunningTool[]): void => {
    if (next === running) return;
    running = next;
    onChange(running);
  };
  onChange(running);
  const off = onToolActivity(room, (event) => {
    const call = running.find((c) => c.callId === event.call_id);
    const ended = event.status === "done" || event.status === "failed";
    const left = call === undefined ? 0 : call.startedAt + minVisibleMs - Date.now();
    if (!ended || call === undefined || left <= 0) {
      set(nextRunning(running, event));
      return;
    }
    // Ended too soon to be seen: mark it, and let it go once it has been listed long enough.
    set(running.map((c) => (c.callId === event.call_id ? { ...c, ended: event.status as "done" | "failed" } : c)));
    const timer = setTimeout(() => {
      timers.delete(timer);
      set(nextRunning(running, event));
    }, left);
    timers.add(timer);
  });
  return () => {
    off();
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  };
}
