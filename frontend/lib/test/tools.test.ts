import { ParticipantKind, RpcError } from "livekit-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { RPC_ERROR_MESSAGE_LIMIT, RPC_PAYLOAD_LIMIT, utf8Length } from "../src/errors";
import { TOOL_SCHEMAS, type ToolArgs } from "../src/generated/roles";
import { VALIDATORS } from "../src/generated/validators";
import { CALLER_GRACE_MS, DISCOVERY_METHOD, registerTools, type ToolCallEvent } from "../src/tools";
import { FakeRoom } from "./fakeRoom";

const Code = RpcError.ErrorCode;

/** The RpcError a call was rejected with. */
async function rejection(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RpcError);
    return error as RpcError;
  }
  throw new Error("expected the call to fail");
}

let room: FakeRoom;

beforeEach(() => {
  room = new FakeRoom();
  room.join("agent", ParticipantKind.AGENT);
  room.join("mallory", ParticipantKind.STANDARD);
});

describe("registration", () => {
  it("registers every handler and the discovery method on the room before any connection", () => {
    const fresh = new FakeRoom();
    const registry = registerTools(fresh, { a: () => 1, b: () => 2 });
    expect(fresh.state).toBe("disconnected");
    expect([...fresh.rpcHandlers.keys()].sort()).toEqual(["a", "b", DISCOVERY_METHOD]);
    expect(registry.methods).toEqual(["a", "b"]);
  });

  it("answers discovery with the handled method names, across registrations", async () => {
    const first = registerTools(room, { show_recipe: () => "ok", start_timer: () => "ok" });
    registerTools(room, { show_markdown: () => "ok" });
    expect(JSON.parse(await room.call(DISCOVERY_METHOD, "{}"))).toEqual({
      tools: ["show_recipe", "start_timer", "show_markdown"],
    });
    first.unregister();
    expect(JSON.parse(await room.call(DISCOVERY_METHOD, "{}"))).toEqual({ tools: ["show_markdown"] });
  });

  it("unregisters its methods, and discovery with the last registration", () => {
    const registry = registerTools(room, { a: () => 1 });
    registry.unregister();
    registry.unregister(); // twice is harmless
    expect(room.rpcHandlers.size).toBe(0);
  });

  it("skips entries that are not functions", () => {
    const registry = registerTools<{ a: object; b: object }>(room, { a: () => 1, b: undefined });
    expect(registry.methods).toEqual(["a"]);
  });

  it("refuses method names over 64 bytes and duplicates", () => {
    expect(() => registerTools(room, { ["é".repeat(33)]: () => 1 })).toThrow(/over LiveKit's limit of 64 bytes/);
    registerTools(room, { a: () => 1 });
    expect(() => registerTools(room, { a: () => 2 })).toThrow(/already registered/);
    expect(() => registerTools(room, { [DISCOVERY_METHOD]: () => 2 })).toThrow(/already registered/);
  });
});

describe("caller check", () => {
  it("accepts the agent and rejects any other participant", async () => {
    const handler = vi.fn(() => "done");
    registerTools(room, { a: handler });
    expect(await room.call("a", {}, "agent")).toBe('"done"');
    const error = await rejection(room.call("a", {}, "mallory"));
    expect(error.code).toBe(Code.APPLICATION_ERROR);
    expect(error.message).toBe("a: only the agent may call this method");
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it("guards discovery too", async () => {
    registerTools(room, { a: () => 1 });
    expect((await rejection(room.call(DISCOVERY_METHOD, "{}", "mallory"))).message).toMatch(/only the agent/);
  });

  it("honours a custom isAllowedCaller", async () => {
    registerTools(room, { a: () => 1 }, { isAllowedCaller: (p) => p.identity === "mallory" });
    expect(await room.call("a", {}, "mallory")).toBe("1");
    await rejection(room.call("a", {}, "agent"));
  });

  describe("a caller the room does not know yet", () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it("is accepted when it appears within the grace period", async () => {
      registerTools(room, { a: () => "hi" });
      const reply = room.call("a", {}, "late-agent");
      await vi.advanceTimersByTimeAsync(200);
      room.join("late-agent", ParticipantKind.AGENT);
      await vi.advanceTimersByTimeAsync(100);
      expect(await reply).toBe('"hi"');
    });

    it("is rejected when it never appears", async () => {
      registerTools(room, { a: () => "hi" });
      const reply = rejection(room.call("a", {}, "ghost"));
      await vi.advanceTimersByTimeAsync(CALLER_GRACE_MS + 100);
      expect((await reply).message).toMatch(/only the agent/);
    });
  });
});

describe("payload parsing and validation", () => {
  const schema = {
    type: "object",
    properties: {
      label: { type: "string", maxLength: 5 },
      seconds: { type: "integer", minimum: 1 },
      unit: { type: "string", enum: ["s", "min"] },
    },
    required: ["label", "seconds"],
    additionalProperties: false,
  } as const;

  it("hands the handler the parsed arguments and the call details", async () => {
    const handler = vi.fn((args: { label: string; seconds: number }) => ({ started: args.label }));
    registerTools<{ t: { label: string; seconds: number } }>(room, { t: handler }, { schemas: { t: schema } });
    expect(await room.call("t", { label: "eggs", seconds: 30 })).toBe('{"started":"eggs"}');
    expect(handler).toHaveBeenCalledWith(
      { label: "eggs", seconds: 30 },
      expect.objectContaining({ method: "t", callerIdentity: "agent", responseTimeout: 10_000 }),
    );
  });

  it("reads an empty payload as {}", async () => {
    const handler = vi.fn(() => "ok");
    registerTools(room, { a: handler });
    await room.call("a", "");
    expect(handler).toHaveBeenCalledWith({}, expect.anything());
  });

  it.each([
    ["{not json", /^t: the arguments are not valid JSON \(/],
    ["[1, 2]", /^t: the arguments must be a JSON object$/],
    ["null", /^t: the arguments must be a JSON object$/],
    ['"text"', /^t: the arguments must be a JSON object$/],
    ['{"label": "eggs"}', /^t: invalid arguments: arguments: must have required property 'seconds'$/],
    ['{"label": "eggs", "seconds": 0}', /^t: invalid arguments: seconds: must be >= 1$/],
    ['{"label": "eggs", "seconds": 1.5}', /^t: invalid arguments: seconds: must be integer$/],
    ['{"label": "too long", "seconds": 1}', /^t: invalid arguments: label: must NOT have more than 5 characters$/],
    ['{"label": "e", "seconds": 1, "unit": "h"}', /^t: invalid arguments: unit: must be one of "s", "min"$/],
    ['{"label": "e", "seconds": 1, "extra": true}', /^t: invalid arguments: arguments: unexpected property 'extra'$/],
    ['{"label": 5, "seconds": "x"}', /^t: invalid arguments: label: must be string; seconds: must be integer$/],
  ])("rejects %s", async (payload, message) => {
    const handler = vi.fn();
    registerTools(room, { t: handler }, { schemas: { t: schema } });
    const error = await rejection(room.call("t", payload));
    expect(error.code).toBe(Code.APPLICATION_ERROR);
    expect(error.message).toMatch(message);
    expect(handler).not.toHaveBeenCalled();
  });

  it("checks only for an object when a method has no schema", async () => {
    registerTools(room, { free: (args: unknown) => args });
    expect(await room.call("free", { anything: [1] })).toBe('{"anything":[1]}');
  });

  it("validates against the schemas generated from the role files", async () => {
    const started: string[] = [];
    registerTools<ToolArgs>(room, { start_timer: ({ label }) => void started.push(label) }, { schemas: TOOL_SCHEMAS });
    expect(await room.call("start_timer", { label: "eggs", seconds: 30 })).toBe('{"ok":true}');
    const error = await rejection(room.call("start_timer", { label: "eggs", seconds: 0 }));
    expect(error.message).toBe("start_timer: invalid arguments: seconds: must be >= 1");
    expect(started).toEqual(["eggs"]);
  });

  it("uses a precompiled validator instead of compiling the schema", async () => {
    // A schema Ajv cannot compile: only the validator can be what answers.
    const broken = { type: "no-such-type" };
    registerTools(room, { start_timer: () => "ok" }, { schemas: { start_timer: broken }, validators: VALIDATORS });
    expect(await room.call("start_timer", { label: "eggs", seconds: 30 })).toBe('"ok"');
    const error = await rejection(room.call("start_timer", { label: "eggs", seconds: 0 }));
    expect(error.message).toBe("start_timer: invalid arguments: seconds: must be >= 1");
  });
});

describe("handler errors", () => {
  it("turns a thrown Error into an RpcError with a readable message", async () => {
    registerTools(room, {
      show_recipe: () => {
        throw new Error('No recipe with id "nope"');
      },
    });
    const error = await rejection(room.call("show_recipe", {}));
    expect(error.code).toBe(Code.APPLICATION_ERROR);
    expect(error.message).toBe('show_recipe failed: No recipe with id "nope"');
  });

  it("handles async rejections and non-Error throws", async () => {
    registerTools(room, {
      a: async () => Promise.reject(new TypeError("bad")),
      b: () => {
        throw "plain text"; // eslint-disable-line no-throw-literal
      },
      c: () => {
        throw { reason: "object" };
      },
    });
    expect((await rejection(room.call("a", {}))).message).toBe("a failed: bad");
    expect((await rejection(room.call("b", {}))).message).toBe("b failed: plain text");
    expect((await rejection(room.call("c", {}))).message).toBe('c failed: {"reason":"object"}');
  });

  it("truncates long messages to 256 UTF-8 bytes without splitting characters", async () => {
    const long = "Zutaten fehlen: " + "🍝 Spätzle ".repeat(60);
    registerTools(room, {
      a: () => {
        throw new Error(long);
      },
    });
    const error = await rejection(room.call("a", {}));
    expect(utf8Length(error.message)).toBeLessThanOrEqual(RPC_ERROR_MESSAGE_LIMIT);
    expect(error.message.endsWith("…")).toBe(true);
    expect(error.message).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/); // no lone high surrogate
    expect(error.message.startsWith("a failed: Zutaten fehlen: 🍝 Spätzle")).toBe(true);
  });

  it("passes a thrown RpcError's code through", async () => {
    registerTools(room, {
      a: () => {
        throw new RpcError(42, "custom");
      },
    });
    const error = await rejection(room.call("a", {}));
    expect([error.code, error.message]).toEqual([42, "custom"]);
  });

  it("reports each call to onCall", async () => {
    const events: ToolCallEvent[] = [];
    registerTools(room, { ok: () => 1, bad: () => Promise.reject(new Error("x")) }, { onCall: (e) => events.push(e) });
    await room.call("ok", { a: 1 });
    await rejection(room.call("bad", {}));
    await rejection(room.call("ok", {}, "mallory"));
    expect(events.map((e) => [e.method, e.ok, e.result ?? e.error?.message])).toEqual([
      ["ok", true, "1"],
      ["bad", false, "bad failed: x"],
      ["ok", false, "ok: only the agent may call this method"],
    ]);
  });
});

describe("results", () => {
  it("serializes results as JSON; undefined becomes {\"ok\":true}", async () => {
    registerTools(room, { none: () => undefined, text: () => "é", obj: async () => ({ n: 1, list: [true, null] }) });
    expect(await room.call("none", {})).toBe('{"ok":true}');
    expect(await room.call("text", {})).toBe('"é"');
    expect(await room.call("obj", {})).toBe('{"n":1,"list":[true,null]}');
  });

  it("rejects a result over the payload limit with RESPONSE_PAYLOAD_TOO_LARGE", async () => {
    registerTools(room, { fits: () => "x".repeat(RPC_PAYLOAD_LIMIT - 2), big: () => "é".repeat(RPC_PAYLOAD_LIMIT / 2) });
    expect(utf8Length(await room.call("fits", {}))).toBe(RPC_PAYLOAD_LIMIT);
    const error = await rejection(room.call("big", {}));
    expect(error.code).toBe(Code.RESPONSE_PAYLOAD_TOO_LARGE);
    expect(error.message).toBe("big: the result is 15362 bytes, over LiveKit's RPC limit of 15360 bytes");
  });

  it("rejects results that are not JSON", async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    registerTools(room, { big: () => 10n, cyc: () => cyclic, fn: () => () => 1 });
    expect((await rejection(room.call("big", {}))).message).toMatch(/^big: the result is not JSON-serializable/);
    expect((await rejection(room.call("cyc", {}))).message).toMatch(/^cyc: the result is not JSON-serializable/);
    expect((await rejection(room.call("fn", {}))).message).toBe("fn: the result is not JSON-serializable (function)");
  });
});

describe("types from the role files", () => {
  it("are enforced at compile time", () => {
    registerTools<ToolArgs>(room, {
      show_recipe: ({ recipe_id }) => recipe_id.toUpperCase(),
      start_timer: ({ seconds }) => seconds + 1,
      // @ts-expect-error a tool no role declares
      show_recepe: () => 1,
    });
    registerTools<ToolArgs>(new FakeRoom(), {
      // @ts-expect-error `seconds` is a number, not a string
      start_timer: ({ seconds }: { label: string; seconds: string }) => seconds,
    });
    // @ts-expect-error a schema for a method ToolArgs does not have
    registerTools<ToolArgs>(new FakeRoom(), {}, { schemas: { show_recepe: {} } });
    expect(true).toBe(true);
  });
});
