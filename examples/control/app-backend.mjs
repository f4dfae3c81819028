// An app backend in control of RoleCall sessions, with Node's standard library only (Node 18+).
//
// It receives the worker's live events (ROLECALL_EVENTS_URL=http://HOST:PORT/events), verifies each one
// (Standard Webhooks, with the worker's ROLECALL_WEBHOOK_SECRET), and acts on what it sees: when the
// agent starts a timer (`tool.completed` of `start_timer`), it tells the agent through the control API
// once the timer has run out, as the demo's web backend does.
//
//   ROLECALL_API_URL=http://127.0.0.1:8080 ROLECALL_API_KEY=... ROLECALL_WEBHOOK_SECRET=... \
//       node examples/control/app-backend.mjs 9000

import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";

const API_URL = (process.env.ROLECALL_API_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const API_KEY = process.env.ROLECALL_API_KEY;
const SECRET = process.env.ROLECALL_WEBHOOK_SECRET;
const MAX_AGE_S = 300;
const seen = new Set();

// POST one command (say, context, respond, handoff, end); the answer holds its command_id.
export async function control(room, command, body) {
  const resp = await fetch(`${API_URL}/api/sessions/${encodeURIComponent(room)}/${command}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${API_KEY}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await resp.json();
  if (resp.status !== 202) throw new Error(`${answer.error.code}: ${answer.error.message}`);
  return answer;
}

// The event, if its Standard Webhooks signature is good and fresh; throws otherwise.
function verify(headers, body) {
  const id = headers["webhook-id"];
  const stamp = headers["webhook-timestamp"];
  if (Math.abs(Date.now() / 1000 - Number(stamp)) > MAX_AGE_S) throw new Error("stale event");
  const key = SECRET.startsWith("whsec_") ? Buffer.from(SECRET.slice(6), "base64") : Buffer.from(SECRET);
  const mac = createHmac("sha256", key).update(`${id}.${stamp}.`).update(body).digest("base64");
  const expected = Buffer.from(`v1,${mac}`);
  const ok = (headers["webhook-signature"] ?? "")
    .split(" ")
    .some((s) => s.length === expected.length && timingSafeEqual(Buffer.from(s), expected));
  if (!ok) throw new Error("bad signature");
  return JSON.parse(body.toString());
}

// What this app does with the events it gets.
function onEvent(event) {
  const data = event.data;
  if (event.type === "tool.completed" && data.name === "start_timer" && data.arguments) {
    const { seconds, label } = data.arguments;
    const text = `The user's timer "${label}" (${seconds} s) has just finished.`;
    setTimeout(() => control(event.room, "context", { text }).catch(console.error), seconds * 1000);
  } else if (event.type === "control.failed") {
    console.error(`command ${data.command_id} failed: ${data.detail}`);
  }
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let event;
    try {
      event = verify(req.headers, Buffer.concat(chunks));
    } catch {
      res.writeHead(401).end();
      return;
    }
    if (!seen.has(event.id)) {
      seen.add(event.id); // a retry of an event already handled is answered, not handled again
      onEvent(event);
    }
    res.writeHead(204).end();
  });
});
server.listen(Number(process.argv[2]), "127.0.0.1", () => console.log("listening"));
