// Verify what a RoleCall worker sends your Node backend. Copy this file; it needs only node:crypto.
//
//   // An http tool's request (Express: path = req.originalUrl; raw body: express.raw({type: "*/*"})):
//   const key = verifyToolCall(TOOL_SECRET, {method: req.method, path: req.originalUrl, headers: req.headers, body: req.body});
//   const answer = await calls.answer(key, () => doTheWork(JSON.parse(req.body)));   // once per call
//
//   // The session webhook (Standard Webhooks; the `standardwebhooks` npm package does the same:
//   // new Webhook(secret) for whsec_ secrets, new Webhook(secret, {format: "raw"}) for raw ones):
//   const event = verifyWebhook(WEBHOOK_SECRET, req.headers, req.body);
//   if (!alreadySeen(event.id)) store(event.data);                                  // dedupe on the event id
//
// Both need the raw body bytes as received, before any JSON parsing.
//
// Run as a script, it reads test cases (JSON) on stdin and prints what each gives (tests/worker/test_verify_examples.py).

import { createHmac, timingSafeEqual } from "node:crypto";

export const MAX_AGE_S = 300; // the replay window

export class Refused extends Error {}

function header(headers, name) {
  const found = Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase());
  if (!found) throw new Refused(`missing ${name} header`);
  return Array.isArray(found[1]) ? found[1][0] : found[1];
}

function sameBytes(a, b) {
  return a.length === b.length && timingSafeEqual(a, b);
}

// Check an http tool's X-RoleCall-Signature (v2); return the call's Idempotency-Key.
// v2 = hex HMAC-SHA256(secret, `${t}.${METHOD}.${path}.${key}.` + body), path with its query as sent.
export function verifyToolCall(secret, { method, path, headers, body }, now = Date.now() / 1000) {
  const key = header(headers, "Idempotency-Key");
  const fields = header(headers, "X-RoleCall-Signature").split(",").map((p) => p.trim().split("="));
  const stamps = fields.filter(([k]) => k === "t").map(([, v]) => v);
  const digests = fields.filter(([k]) => k === "v2").map(([, v]) => v ?? "");
  if (stamps.length !== 1 || !/^[0-9]{1,12}$/.test(stamps[0]) || digests.length === 0) {
    throw new Refused("malformed X-RoleCall-Signature");
  }
  const t = Number(stamps[0]);
  if (Math.abs(now - t) > MAX_AGE_S) throw new Refused("stale signature");
  const expected = createHmac("sha256", secret)
    .update(`${t}.${method.toUpperCase()}.${path}.${key}.`)
    .update(Buffer.from(body))
    .digest("hex");
  if (!digests.some((d) => sameBytes(Buffer.from(expected), Buffer.from(d)))) {
    throw new Refused("signature does not match this request");
  }
  return key;
}

// Answers each tool call once: a retry (the same Idempotency-Key) gets the stored answer. Keep keys
// at least MAX_AGE_S; with several processes, use a shared store (a table with a unique key).
export class Calls {
  constructor(keepS = 24 * 3600) {
    this.keepS = keepS;
    this.answers = new Map();
  }
  async answer(key, work) {
    const now = Date.now() / 1000;
    for (const [k, [at]] of this.answers) if (now - at >= this.keepS) this.answers.delete(k);
    if (!this.answers.has(key)) this.answers.set(key, [now, await work()]);
    return this.answers.get(key)[1];
  }
}

// The session.ended event, if its Standard Webhooks signature is good (else Refused). `secret` is
// ROLECALL_WEBHOOK_SECRET as the worker has it: whsec_... (base64 key bytes) or raw text (its bytes).
export function verifyWebhook(secret, headers, body, now = Date.now() / 1000) {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  if (!/^[0-9]{1,12}$/.test(timestamp) || Math.abs(now - Number(timestamp)) > MAX_AGE_S) {
    throw new Refused("stale or malformed webhook-timestamp");
  }
  const key = secret.startsWith("whsec_") ? Buffer.from(secret.slice(6), "base64") : Buffer.from(secret);
  const expected = createHmac("sha256", key)
    .update(`${id}.${timestamp}.`)
    .update(Buffer.from(body))
    .digest();
  const given = header(headers, "webhook-signature")
    .split(" ")
    .map((s) => s.split(","))
    .filter(([version]) => version === "v1")
    .map(([, sig]) => Buffer.from(sig ?? "", "base64"));
  if (!given.some((sig) => sameBytes(expected, sig))) throw new Refused("no matching signature");
  return JSON.parse(Buffer.from(body).toString("utf8"));
}

// As a script: [{kind: "tool"|"webhook", secret, method?, path?, headers, body (base64)}] on stdin,
// one result per case on stdout: {ok: true, value} or {ok: false, error}.
if (import.meta.url === `file://${process.argv[1]}`) {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const calls = new Calls();
  const results = [];
  for (const c of JSON.parse(input)) {
    const body = Buffer.from(c.body, "base64");
    try {
      if (c.kind === "tool") {
        const key = verifyToolCall(c.secret, { method: c.method, path: c.path, headers: c.headers, body });
        let worked = 0;
        const answer = await calls.answer(key, () => ++worked);
        results.push({ ok: true, value: { key, worked, answer } });
      } else {
        results.push({ ok: true, value: verifyWebhook(c.secret, c.headers, body).id });
      }
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      results.push({ ok: false, error: error.message });
    }
  }
  process.stdout.write(JSON.stringify(results));
}
