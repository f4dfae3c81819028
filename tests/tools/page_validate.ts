/**
 * The page's own argument check (frontend/lib/src/validate.ts: Ajv + ajv-formats) over a batch of cases,
 * for tests/tools/test_format_parity.py. Reads `[{schema, value}, ...]` as JSON on standard input and
 * prints `[problems, ...]` (an empty list: the page accepts the value).
 *
 *   cd frontend/lib && ../node_modules/.bin/vite-node ../../tests/tools/page_validate.ts < cases.json
 */
import { readFileSync } from "node:fs";

import { validate } from "../../frontend/lib/src/validate";

type Case = { schema: Parameters<typeof validate>[0]; value: unknown };

const cases = JSON.parse(readFileSync(0, "utf8")) as Case[];
process.stdout.write(JSON.stringify(cases.map((c) => validate(c.schema, c.value))));
