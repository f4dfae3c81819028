import { readFileSync } from "node:fs";

import { describe, expect, it } from "vitest";

import { OUTPUT, generateValidators } from "../scripts/validators";
import { EVENT_NAMES, EVENT_SCHEMAS, TOOL_METHODS, TOOL_SCHEMAS, type JsonSchema } from "../src/generated/roles";
import { EVENT_VALIDATORS, VALIDATORS } from "../src/generated/validators";
import { validate } from "../src/validate";

describe("precompiled validators", () => {
  it("are fresh (regenerate: npm run generate --workspace lib)", () => {
    expect(readFileSync(OUTPUT, "utf8")).toBe(generateValidators(TOOL_SCHEMAS, EVENT_SCHEMAS));
  });

  it("cover every generated tool schema and agree with Ajv compiled at run time", () => {
    expect(Object.keys(VALIDATORS).sort()).toEqual([...TOOL_METHODS]);
    for (const method of TOOL_METHODS) {
      const schema = TOOL_SCHEMAS[method];
      const copy = JSON.parse(JSON.stringify(schema)) as JsonSchema; // compiled now
      for (const value of [{}, { label: "x", seconds: 0 }, { recipe_id: 1 }, { title: "t", markdown: "m" }]) {
        expect(validate(VALIDATORS[method], value)).toEqual(validate(copy, value));
      }
    }
  });

  it("cover every UI event's payload schema", () => {
    expect(Object.keys(EVENT_VALIDATORS).sort()).toEqual([...EVENT_NAMES].sort());
    for (const name of EVENT_NAMES) {
      const copy = JSON.parse(JSON.stringify(EVENT_SCHEMAS[name])) as JsonSchema;
      for (const value of [{}, { ingredient: "eggs", checked: true }, { step: 0 }, { step: 2, extra: 1 }]) {
        expect(validate(EVENT_VALIDATORS[name], value)).toEqual(validate(copy, value));
      }
    }
  });
});
