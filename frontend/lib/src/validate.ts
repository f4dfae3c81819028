/**
 * Arguments checked against a tool's JSON Schema (Draft 2020-12, like the worker), with short messages.
 *
 * The role files' schemas are precompiled (`generated/validators.ts`, Ajv standalone code), because a
 * page with a strict Content-Security-Policy may not compile code at run time. Other schemas (passed
 * to `registerTools`) are compiled here with Ajv, which needs `'unsafe-eval'` under a CSP.
 */
import Ajv2020, { type ErrorObject } from "ajv/dist/2020";
import addFormats from "ajv-formats";

import type { JsonSchema } from "./generated/roles";
import { PRECOMPILED } from "./generated/validators";

type Validator = { (data: unknown): boolean; errors?: unknown };

let ajv: Ajv2020 | undefined;
const compiled = new WeakMap<object, Validator>();

function validatorFor(schema: JsonSchema): Validator {
  const ready = PRECOMPILED.get(schema) ?? compiled.get(schema);
  if (ready !== undefined) return ready;
  if (ajv === undefined) {
    // The role loader already checked every schema; strict mode would only repeat that, noisily.
    ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
  }
  let check: Validator;
  try {
    check = ajv.compile(schema as object);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot compile the tool's JSON Schema here (${reason}); under a Content-Security-Policy, ` +
        "precompile it (see scripts/validators.ts)",
    );
  }
  compiled.set(schema, check);
  return check;
}

/** The problems with `value` against `schema`, as short lines (empty when valid). */
export function validate(schema: JsonSchema, value: unknown): string[] {
  const check = validatorFor(schema);
  return check(value) ? [] : ((check.errors as ErrorObject[] | null | undefined) ?? []).map(describe);
}

function describe(error: ErrorObject): string {
  const where = error.instancePath ? error.instancePath.slice(1).replaceAll("/", ".") : "arguments";
  if (error.keyword === "additionalProperties") {
    return `${where}: unexpected property '${String(error.params["additionalProperty"])}'`;
  }
  if (error.keyword === "enum") {
    const allowed = (error.params["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ");
    return `${where}: must be one of ${allowed}`;
  }
  return `${where}: ${error.message ?? "is invalid"}`;
}
