import { ParticipantKind } from "livekit-client";
import { afterEach, describe, expect, it, vi } from "vitest";

import { nextRunning, trackToolActivity, type RunningTool } from "../src/activity";
import { EVENTS_TOPIC } from "../src/agent";
import type { ToolActivityEvent } from "../src/generated/protocol";
import { FakeRoom } from "./fakeRoom";

const event = (status: ToolActivityEvent["status"], extra: Partial<ToolActivityEvent> = {}): ToolActivityEvent => ({
  type: "tool",
  call_id: "call_1",
  name: "find_recipes",
  kind: "http",
  mode: "foreground",
  status,
  duration_ms: status === "started" ? null : 40,
  message: null,
  arguments: null,
  ...extra,
});

describe("nextRunning", () => {
  it("adds a started call, keeps its progress message, drops it when it answers or fails", () => {
    const started = nextRunning([], event("started", { arguments: { query: "pasta" } }), 1000);
    expect(started).toEqual([
      {
        callId: "call_1",
        name: "find_recipes",
        kind: "http",
        mode: "foreground",
        startedAt: 1000,
        message: undefined,
        arguments: { query: "pasta" },
      },
    ]);
    const progress = nextRunning(started, event("progress", { message: "Still looking." }));
    expect(progress[0]?.message).toBe("Still looking.");
    expect(progress[0]?.startedAt).toBe(1000);
    expect(nextRunning(progress, event("done"))).toEqual([]);
    expect(nextRunning(progress, event("failed"))).toEqual([]);
    expect(nextRunning([], event("failed"))).toEqual([]); // refused before it started
  });
});

describe("trackToolActivity", () => {
  it("follows the agent's tool events, and only the agent's", async () => {
    const room = new FakeRoom();
    room.join("agent", ParticipantKind.AGENT);
    room.join("user2");
    const seen: (readonly RunningTool[])[] = [];
    const stop = trackToolActivity(room.asEventRoom, (running) => seen.push(running));
    await room.sendText(EVENTS_TOPIC, JSON.stringify(event("started")), "agent");
    await room.sendText(EVENTS_TOPIC, JSON.stringify(event("started", { call_id: "forged" })), "user2");
    await room.sendText(EVENTS_TOPIC, JSON.stringify(event("done")), "agent");
    stop();
    expect(seen.map((running) => running.map((call) => call.callId))).toEqual([[], ["call_1"], []]);
    expect(room.textHandlers.has(EVENTS_TOPIC)).toBe(false);
  });
});

describe("trackToolActivity with minVisibleMs", () => {
  afterEach(() => vi.useRealTimers());

  it("keeps a call that ended at once listed, marked ended, until it has been seen long enough", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const room = new FakeRoom();
    room.join("agent", ParticipantKind.AGENT);
    const seen: (readonly RunningTool[])[] = [];
    const stop = trackToolActivity(room.asEventRoom, (running) => seen.push(running), { minVisibleMs: 900 });
    await room.sendText(EVENTS_TOPIC, JSON.stringify(event("started")), "agent");
    await room.sendText(EVENTS_TOPIC, JSON.stringify(event("done")), "agent");
    expect(seen.map((r) => r.map((c) => c.ended ?? "running"))).toEqual([[], ["running"], ["done"]]);
    vi.advanceTimersByTime(899);
    expect(seen).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(seen.at(-1)).toEqual([]);
    // a call that ran longer than that goes as soon as it ends
    await room.sendText(EVENTS_TOPIC, JSON.stringify(event("started", { call_id: "call_2" })), "agent");
    vi.advanceTimersByTime(1000);
    await room.sendText(EVENTS_TOPIC, JSON.stringify(event("failed", { call_id: "call_2" })), "agent");
    expect(seen.at(-1)).toEqual([]);
    stop();
  });
});
