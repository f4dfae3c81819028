// Property tests (fast-check) of the RPC payload handling: whatever the agent's payload or the handler's
// result, a call either answers JSON within LiveKit's limits or fails with an RpcError whose message fits
// in 256 UTF-8 bytes; the handler only ever sees a JSON object that passed its schema; and nobody but
// the agent gets a handler to run.
import fc from "fast-check";
import { ParticipantKind, RpcError } from "livekit-client";
import { beforeEach, describe, expect, it } from "vitest";

import { RPC_ERROR_MESSAGE_LIMIT, RPC_PAYLOAD_LIMIT, truncateUtf8, utf8Length } from "../src/errors";
import { parseArguments, registerTools, serializeResult, type JsonSchema } from "../src/tools";
import { FakeRoom } from "./fakeRoom";

const SCHEMA = {
  type: "object",
  properties: {
    label: { type: "string", maxLength: 40 },
    seconds: { type: "integer", minimum: 1 },
  },
  required: ["label", "seconds"],
  additionalProperties: false,
} as unknown as JsonSchema;

const json = fc.jsonValue({ maxDepth: 4 });
// Payloads: JSON text of anything, objects close to the schema, or arbitrary (often broken) text.
const payloads = fc.oneof(
  json.map((v) => JSON.stringify(v)),
  fc
    .record(
      { label: fc.oneof(fc.string({ maxLength: 50 }), json), seconds: fc.oneof(fc.integer(), json), extra: json },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.string({ unit: "binary", maxLength: 200 }),
);

function isValid(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  return (
    keys.every((k) => k === "label" || k === "seconds") &&
    typeof o.label === "string" &&
    [...o.label].length <= 40 &&
    typeof o.seconds === "number" &&
    Number.isInteger(o.seconds) &&
    o.seconds >= 1
  );
}

function expectRpcError(error: unknown): RpcError {
  expect(error).toBeInstanceOf(RpcError);
  const rpc = error as RpcError;
  expect(utf8Length(rpc.message)).toBeLessThanOrEqual(RPC_ERROR_MESSAGE_LIMIT);
  return rpc;
}

describe("parseArguments", () => {
  it("returns a schema-valid object or throws a short RpcError", () => {
    fc.assert(
      fc.property(payloads, (payload) => {
        try {
          const args = parseArguments("start_timer", payload, SCHEMA);
          expect(isValid(args)).toBe(true);
        } catch (error) {
          expectRpcError(error);
          let parsed: unknown = undefined;
          try {
            parsed = payload.trim() === "" ? {} : JSON.parse(payload);
          } catch {
            return; // not JSON: refused, as it should be
          }
          expect(isValid(parsed)).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("serializeResult", () => {
  it("answers JSON within the payload limit or throws a short RpcError", () => {
    const results = fc.oneof(
      json,
      fc.string({ maxLength: 20_000 }),
      fc.array(fc.string({ unit: "grapheme", maxLength: 200 }), { maxLength: 200 }),
      fc.constantFrom(undefined, () => 1, Symbol("s"), 10n),
    );
    fc.assert(
      fc.property(results, (result) => {
        try {
          const text = serializeResult("show", result);
          expect(utf8Length(text)).toBeLessThanOrEqual(RPC_PAYLOAD_LIMIT);
          expect(() => JSON.parse(text)).not.toThrow();
        } catch (error) {
          expectRpcError(error);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("truncateUtf8", () => {
  it("never exceeds the byte budget and never splits a code point", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), fc.integer({ min: 0, max: 300 }), (text, max) => {
        const out = truncateUtf8(text, max);
        expect(utf8Length(out)).toBeLessThanOrEqual(Math.max(max, 0));
        expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u);
      }),
      { numRuns: 500 },
    );
  });
});

describe("a registered handler", () => {
  let room: FakeRoom;
  beforeEach(() => {
    room = new FakeRoom();
    room.join("agent", ParticipantKind.AGENT);
    room.join("mallory", ParticipantKind.STANDARD);
  });

  it("runs only for the agent, only with valid arguments, and always answers within the limits", async () => {
    const seen: unknown[] = [];
    registerTools(
      room,
      {
        start_timer: (args: unknown) => {
          seen.push(args);
          const { label } = args as { label: string };
          if (label.startsWith("!")) throw new Error(label.repeat(100));
          return { echo: label.repeat(500) };
        },
      },
      { schemas: { start_timer: SCHEMA } },
    );
    await fc.assert(
      fc.asyncProperty(payloads, fc.constantFrom("agent", "mallory"), async (payload, caller) => {
        const before = seen.length;
        try {
          const reply = await room.call("start_timer", payload, caller);
          expect(caller).toBe("agent");
          expect(utf8Length(reply)).toBeLessThanOrEqual(RPC_PAYLOAD_LIMIT);
        } catch (error) {
          expectRpcError(error);
        }
        if (caller === "mallory") expect(seen.length).toBe(before);
        for (const args of seen.slice(before)) expect(isValid(args)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
