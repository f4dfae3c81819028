/**
 * Arguments checked against a tool's JSON Schema (Draft 2020-12, like the worker), with short messages.
 *
 * A schema is compiled here with Ajv the first time it is used, which a page under a strict
 * Content-Security-Policy (`script-src 'self'`, as `python -m worker web` sends) may not do: Ajv compiles
 * with `new Function`. Such a page passes precompiled validators instead (Ajv standalone code, plain
 * module code; see `scripts/validators.ts` and `@rolecall/client/roles/validators`).
 */
import Ajv2020, { type ErrorObject } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

/** A JSON Schema, as written in a role file's tool `parameters`. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** A validator compiled ahead of time (Ajv standalone code): true when valid, Ajv's `errors` when not. */
export type SchemaValidator = { (data: unknown): boolean; errors?: unknown };

let ajv: Ajv2020 | undefined;
const compiled = new WeakMap<object, SchemaValidator>();

function compile(schema: JsonSchema): SchemaValidator {
  const ready = compiled.get(schema);
  if (ready !== undefined) return ready;
  if (ajv === undefined) {
    // The role loader already checked every schema; strict mode would only repeat that, noisily.
    ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
  }
  let check: SchemaValidator;
  try {
    check = ajv.compile(schema as object);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot compile the tool's JSON Schema here (${reason}); under a Content-Security-Policy, ` +
        "pass precompiled validators (registerTools' `validators` option)",
    );
  }
  compiled.set(schema, check);
  return check;
}

/** The problems with `value` against a schema or a precompiled validator, as short lines (empty when valid). */
export function validate(schema: JsonSchema | SchemaValidator, value: unknown): string[] {
  const check = typeof schema === "function" ? schema : compile(schema);
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
