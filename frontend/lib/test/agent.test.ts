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
import {
  AGENT_ERROR_CODE_VALUES,
  REFUSAL_REASON_VALUES,
  TIME_LIMIT_VALUES,
  TOOL_MODE_VALUES,
  TOOL_STATUS_VALUES,
  type PageEvent,
  type TimeLimitEvent,
  type ToolActivityEvent,
} from "../src/generated/protocol";
import { FakeRoom } from "./fakeRoom";

// One wire sample per variant of the protocol's PageEvent, every code, reason and limit included. Typed
// against the generated union: a new variant in worker/protocol.py fails the typecheck until it has one.
const SAMPLES = {
  role: [{ type: "role", name: "sommelier", title: "Sommelier" }],
  error: AGENT_ERROR_CODE_VALUES.map((code) => ({ type: "error", code, message: `Because: ${code}.` })),
  session_limit: [
    ...TIME_LIMIT_VALUES.map((limit): TimeLimitEvent => ({ type: "session_limit", limit, limit_s: 600 })),
    { type: "session_limit", limit: "budget", limit_usd: 0.5 },
  ],
  input_refused: REFUSAL_REASON_VALUES.map((reason) => ({ type: "input_refused", reason, message: "Shorter, please." })),
  tool: [
    ...TOOL_STATUS_VALUES.flatMap((status) =>
      TOOL_MODE_VALUES.map(
        (mode): ToolActivityEvent => ({
          type: "tool",
          call_id: `call_${status}_${mode}`,
          name: "find_recipes",
          kind: "http",
          mode,
          status,
          duration_ms: 12.5,
          message: "Still looking.",
          arguments: { query: "pasta" },
        }),
      ),
    ),
    { type: "tool", call_id: "c", name: "t", kind: "frontend", mode: "foreground", status: "started", duration_ms: null, message: null, arguments: null },
  ],
} as const satisfies { readonly [T in PageEvent["type"]]: readonly Extract<PageEvent, { type: T }>[] };

const ALL: readonly PageEvent[] = Object.values(SAMPLES).flat();
const label = (event: PageEvent): string => JSON.stringify(event);
/** Fields the protocol lets be null (but never missing). */
const NULLABLE = new Set(["duration_ms", "message", "arguments"]);

describe("parseEvent", () => {
  it("has a sample of every variant, code, reason and limit", () => {
    expect(ALL).toHaveLength(
      1 +
        AGENT_ERROR_CODE_VALUES.length +
        TIME_LIMIT_VALUES.length +
        1 +
        REFUSAL_REASON_VALUES.length +
        TOOL_STATUS_VALUES.length * TOOL_MODE_VALUES.length +
        1,
    );
    expect(new Set(ALL.filter((e) => e.type === "session_limit").map((e) => e.limit))).toEqual(
      new Set([...TIME_LIMIT_VALUES, "budget"]),
    );
  });

  it.each(ALL.map((event) => [label(event), event] as const))("reads %s", (text, event) => {
    expect(parseEvent(text)).toEqual(event);
  });

  it.each(ALL.map((event) => [label(event), event] as const))("drops fields it does not know in %s", (_text, event) => {
    expect(parseEvent(JSON.stringify({ ...event, later: "a newer worker's field" }))).toEqual(event);
  });

  it.each(ALL.flatMap((event) => Object.keys(event).map((key) => [key, label(event), event] as const)))(
    "refuses a missing %s in %s",
    (key, _text, event) => {
      const fields: Record<string, unknown> = { ...event };
      delete fields[key];
      expect(parseEvent(JSON.stringify(fields))).toBeUndefined();
    },
  );

  it.each(ALL.flatMap((event) => Object.keys(event).map((key) => [key, label(event), event] as const)))(
    "refuses a %s of the wrong type in %s",
    (key, _text, event) => {
      const fields: Record<string, unknown> = { ...event };
      const value = fields[key];
      const wrong = typeof value === "string" ? 1 : value === null ? [] : String(value);
      expect(parseEvent(JSON.stringify({ ...event, [key]: wrong }))).toBeUndefined();
      if (!(event.type === "tool" && NULLABLE.has(key))) {
        expect(parseEvent(JSON.stringify({ ...event, [key]: null }))).toBeUndefined();
      }
    },
  );

  it.each([
    "nope",
    "[]",
    "null",
    "1",
    '"role"',
    '{"type":"other"}',
    '{"type":"constructor"}',
    '{"type":"__proto__"}',
    '{"type":"toString","name":"x","title":"y"}',
    '{"type":"error","code":"not_a_code","message":"m"}',
    '{"type":"input_refused","reason":"not_a_reason","message":"m"}',
    '{"type":"session_limit","limit":"forever","limit_s":1}',
    '{"type":"session_limit","limit":"hasOwnProperty","limit_s":1}',
    '{"type":"session_limit","limit_s":600}',
    '{"type":"session_limit","limit":"idle","limit_s":1e999}',
    '{"type":"session_limit","limit":"budget","limit_s":0.5}',
    '{"type":"tool","call_id":"c","name":"t","kind":"http","mode":"sideways","status":"done","duration_ms":1,"message":null,"arguments":null}',
    '{"type":"tool","call_id":"c","name":"t","kind":"http","mode":"background","status":"lost","duration_ms":1,"message":null,"arguments":null}',
    '{"type":"tool","call_id":"c","name":"t","kind":"http","mode":"background","status":"done","duration_ms":1,"message":null,"arguments":[1]}',
  ])("ignores %s", (text) => expect(parseEvent(text)).toBeUndefined());
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

  it.each([
    ['{"code":"new_code","message":"Something new broke."}', "Something new broke."],
    ['{"code":"model_unavailable"}', '{"code":"model_unavailable"}'],
    ['["model_unavailable"]', '["model_unavailable"]'],
  ])("reads the error attribute %s, which the protocol does not allow, as agent_error", (raw, message) => {
    room.join("agent", ParticipantKind.AGENT, { [ATTR_ERROR]: raw });
    const watch = watchAgentErrors(room.asEventRoom, (e) => seen.push(e));
    expect(watch.current).toEqual({ code: "agent_error", message, source: "agent" });
  });
});
