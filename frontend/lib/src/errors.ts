/**
 * Errors and limits.
 *
 *   RpcError (livekit-client)  what a tool handler's failure becomes on the wire; the worker turns its
 *                              message into a sentence the model can speak about
 *     1500 APPLICATION_ERROR           caller is not the agent, bad JSON, invalid arguments, handler threw
 *     1504 RESPONSE_PAYLOAD_TOO_LARGE  the handler's result is over RPC_PAYLOAD_LIMIT bytes
 *   RoleCallApiError           the web backend answered `{"error": {code, message}}` (or not at all)
 */
import { RpcError } from "livekit-client";

import { RPC_ERROR_MESSAGE_LIMIT } from "./generated/protocol.js";

// The limits are part of the page protocol (worker/protocol.py): one source for both sides.
export { RPC_ERROR_MESSAGE_LIMIT, RPC_METHOD_LIMIT, RPC_PAYLOAD_LIMIT } from "./generated/protocol.js";

const encoder = new TextEncoder();

/** The UTF-8 length of `text`, in bytes. */
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes, ending with "…" when cut. Never splits a code point
 * (a surrogate pair stays whole or goes whole).
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Length(text) <= maxBytes) return text;
  const ellipsis = "…";
  const budget = maxBytes - utf8Length(ellipsis);
  if (budget <= 0) return "";
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    // for..of walks code points, so a pair is measured (and kept or dropped) as one
    const size = utf8Length(char);
    if (bytes + size > budget) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end).trimEnd() + ellipsis;
}

/** An RpcError whose message fits LiveKit's limit (`RPC_ERROR_MESSAGE_LIMIT` bytes). */
export function rpcError(code: number, message: string): RpcError {
  return new RpcError(code, truncateUtf8(message, RPC_ERROR_MESSAGE_LIMIT));
}

/** A readable message for anything a handler may throw. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** The web backend refused a request; `code` is its stable error code (e.g. `unknown_role`). */
export class RoleCallApiError extends Error {
  override readonly name = "RoleCallApiError";

  constructor(
    /** Stable machine-readable code from the backend, or `network_error` / `bad_response`. */
    readonly code: string,
    message: string,
    /** HTTP status, 0 when the request never got an answer. */
    readonly status: number,
    /** For a 429 (`rate_limited`, `too_many_sessions`): seconds to wait before asking again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}
