import { ParticipantKind } from "livekit-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import {
  ATTR_ERROR,
  ATTR_ROLE,
  ATTR_ROLE_TITLE,
  EVENTS_TOPIC,
  onRoleCallEvent,
  parseEvent,
  watchActiveRole,
  watchAgentErrors,
  type ActiveRole,
  type AgentError,
} from "../src/agent";
import { FakeRoom } from "./fakeRoom";

describe("parseEvent", () => {
  it("reads the worker's events", () => {
    expect(parseEvent('{"type":"role","name":"sommelier","title":"Sommelier"}')).toEqual({
      type: "role",
      name: "sommelier",
      title: "Sommelier",
    });
    expect(parseEvent('{"type":"error","code":"model_unavailable","message":"down"}')).toEqual({
      type: "error",
      code: "model_unavailable",
      message: "down",
    });
    expect(parseEvent('{"type":"session_limit","limit_s":600}')).toEqual({
      type: "session_limit",
      limit: "max_duration",
      limit_s: 600,
    });
    expect(parseEvent('{"type":"session_limit","limit":"idle","limit_s":120}')).toEqual({
      type: "session_limit",
      limit: "idle",
      limit_s: 120,
    });
    expect(parseEvent('{"type":"session_limit","limit":"budget","limit_usd":0.5}')).toEqual({
      type: "session_limit",
      limit: "budget",
      limit_usd: 0.5,
    });
    expect(parseEvent('{"type":"input_refused","reason":"too_long","message":"shorter please"}')).toEqual({
      type: "input_refused",
      reason: "too_long",
      message: "shorter please",
    });
  });

  it.each(["nope", "[]", "null", '{"type":"role"}', '{"type":"other"}', '{"type":"session_limit","limit_s":"x"}', '{"type":"session_limit","limit":"budget"}', '{"type":"input_refused"}'])(
    "ignores %s",
    (text) => expect(parseEvent(text)).toBeUndefined(),
  );
});

describe("onRoleCallEvent", () => {
  it("shares one text stream handler per room and believes only the agent", async () => {
    const room = new FakeRoom();
    room.join("agent", ParticipantKind.AGENT);
    room.join("user2");
    const a: unknown[] = [];
    const b: unknown[] = [];
    const offA = onRoleCallEvent(room.asEventRoom, (e) => a.push(e));
    const offB = onRoleCallEvent(room.asEventRoom, (e) => b.push(e));
    await room.sendText(EVENTS_TOPIC, '{"type":"role","name":"x","title":"X"}', "agent");
    await room.sendText(EVENTS_TOPIC, '{"type":"role","name":"fake","title":"Fake"}', "user2");
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    offA();
    expect(room.textHandlers.has(EVENTS_TOPIC)).toBe(true);
    offB();
    expect(room.textHandlers.has(EVENTS_TOPIC)).toBe(false);
  });
});

describe("watchActiveRole", () => {
  it("follows the agent's attributes and role events", async () => {
    const room = new FakeRoom();
    const seen: (ActiveRole | undefined)[] = [];
    const stop = watchActiveRole(room.asEventRoom, (role) => seen.push(role));
    room.connect();
    room.join("agent", ParticipantKind.AGENT, { [ATTR_ROLE]: "cooking-guide", [ATTR_ROLE_TITLE]: "Cooking Guide" });
    await room.sendText(EVENTS_TOPIC, '{"type":"role","name":"cooking-guide","title":"Cooking Guide"}');
    room.setAttributes("agent", { [ATTR_ROLE]: "sommelier", [ATTR_ROLE_TITLE]: "Sommelier" });
    await room.sendText(EVENTS_TOPIC, '{"type":"role","name":"concierge","title":"Concierge"}');
    room.join("someone", ParticipantKind.STANDARD, { [ATTR_ROLE]: "impostor" });
    room.disconnect();
    stop();
    expect(seen).toEqual([
      undefined,
      { name: "cooking-guide", title: "Cooking Guide" },
      { name: "sommelier", title: "Sommelier" },
      { name: "concierge", title: "Concierge" },
      undefined,
    ]);
  });

  it("reads the role of an agent already in the room", () => {
    const room = new FakeRoom();
    room.join("agent", ParticipantKind.AGENT, { [ATTR_ROLE]: "sommelier" });
    let role: ActiveRole | undefined;
    watchActiveRole(room.asEventRoom, (r) => (role = r));
    expect(role).toEqual({ name: "sommelier", title: "sommelier" });
  });
});

describe("watchAgentErrors", () => {
  let room: FakeRoom;
  let seen: (AgentError | undefined)[];

  beforeEach(() => {
    vi.useFakeTimers();
    room = new FakeRoom();
    seen = [];
  });
  afterEach(() => vi.useRealTimers());

  const codes = (): (string | undefined)[] => seen.map((e) => e?.code);

  it("reports an agent that does not join in time, and clears it when the agent comes", () => {
    watchAgentErrors(room.asEventRoom, (e) => seen.push(e), { joinTimeoutMs: 20_000 });
    room.connect();
    vi.advanceTimersByTime(19_999);
    expect(seen).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([
      { code: "agent_did_not_join", message: "The agent did not join within 20 s.", source: "page" },
    ]);
    room.join("agent", ParticipantKind.AGENT);
    expect(codes()).toEqual(["agent_did_not_join", undefined]);
  });

  it("does not time out when the agent joins first, or other people join", () => {
    watchAgentErrors(room.asEventRoom, (e) => seen.push(e), { joinTimeoutMs: 1_000 });
    room.connect();
    room.join("friend");
    room.join("agent", ParticipantKind.AGENT);
    vi.advanceTimersByTime(5_000);
    expect(seen).toEqual([]);
  });

  it("reports an agent that leaves, but not when the page itself disconnects", () => {
    watchAgentErrors(room.asEventRoom, (e) => seen.push(e));
    room.connect();
    room.join("agent", ParticipantKind.AGENT);
    room.leave("agent");
    expect(codes()).toEqual(["agent_left"]);
    room.disconnect();
    expect(codes()).toEqual(["agent_left", undefined]);
    room.leave("nobody");
    expect(codes()).toEqual(["agent_left", undefined]);
  });

  it("shows the worker's error (attribute or event) and keeps it when the agent then leaves", async () => {
    watchAgentErrors(room.asEventRoom, (e) => seen.push(e));
    room.connect();
    room.join("agent", ParticipantKind.AGENT);
    room.setAttributes("agent", { [ATTR_ERROR]: '{"code":"model_unavailable","message":"The model is down."}' });
    await room.sendText(EVENTS_TOPIC, '{"type":"error","code":"model_unavailable","message":"The model is down."}');
    room.leave("agent");
    expect(seen).toEqual([{ code: "model_unavailable", message: "The model is down.", source: "agent" }]);
  });

  it("reports the session limit", async () => {
    watchAgentErrors(room.asEventRoom, (e) => seen.push(e));
    room.connect();
    room.join("agent", ParticipantKind.AGENT);
    await room.sendText(EVENTS_TOPIC, '{"type":"session_limit","limit":"max_duration","limit_s":600}');
    expect(seen).toEqual([
      { code: "session_limit", message: "The session reached its time limit of 10 minutes.", source: "agent" },
    ]);
  });

  it("says when the session reached its spending limit", async () => {
    watchAgentErrors(room.asEventRoom, (e) => seen.push(e));
    room.connect();
    room.join("agent", ParticipantKind.AGENT);
    await room.sendText(EVENTS_TOPIC, '{"type":"session_limit","limit":"budget","limit_usd":0.25}');
    expect(seen).toEqual([{ code: "session_limit", message: "The session reached its spending limit.", source: "agent" }]);
  });

  it("says when the session ended for silence", async () => {
    watchAgentErrors(room.asEventRoom, (e) => seen.push(e));
    room.connect();
    room.join("agent", ParticipantKind.AGENT);
    await room.sendText(EVENTS_TOPIC, '{"type":"session_limit","limit":"idle","limit_s":120}');
    expect(seen).toEqual([
      { code: "session_limit", message: "The session ended after 2 minutes without hearing from you.", source: "agent" },
    ]);
  });

  it("reset() clears the error and waits for the agent again", () => {
    const watch = watchAgentErrors(room.asEventRoom, (e) => seen.push(e), { joinTimeoutMs: 1_000 });
    room.connect();
    room.join("agent", ParticipantKind.AGENT);
    room.leave("agent");
    watch.reset();
    expect(watch.current).toBeUndefined();
    vi.advanceTimersByTime(1_000);
    expect(codes()).toEqual(["agent_left", undefined, "agent_did_not_join"]);
    watch.stop();
    room.join("agent", ParticipantKind.AGENT);
    expect(seen).toHaveLength(3);
  });

  it("reads a malformed error attribute as a plain message", () => {
    room.join("agent", ParticipantKind.AGENT, { [ATTR_ERROR]: "something broke" });
    const watch = watchAgentErrors(room.asEventRoom, (e) => seen.push(e));
    expect(watch.current).toEqual({ code: "agent_error", message: "something broke", source: "agent" });
  });
});
