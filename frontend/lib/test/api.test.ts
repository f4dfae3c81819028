import { describe, expect, it } from "vitest";

import { createApiClient } from "../src/api";
import { RoleCallApiError } from "../src/errors";

interface Seen {
  url: string;
  init: RequestInit | undefined;
}

function fakeFetch(
  status: number,
  body: unknown,
  seen: Seen[] = [],
  headers: Record<string, string> = {},
): typeof fetch {
  return async (input, init) => {
    seen.push({ url: String(input), init });
    const text = typeof body === "string" ? body : JSON.stringify(body);
    return new Response(text, { status, headers: { "Content-Type": "application/json", ...headers } });
  };
}

function authorization(seen: Seen | undefined): string | undefined {
  return (seen?.init?.headers as Record<string, string> | undefined)?.["Authorization"];
}

const SESSION = { url: "ws://x", token: "t", room: "r", identity: "u", role: "sommelier", expires_at: 1 };

describe("createApiClient", () => {
  it("lists roles", async () => {
    const seen: Seen[] = [];
    const roles = [{ name: "sommelier", title: "Sommelier", description: "Wine." }];
    const api = createApiClient({ baseUrl: "http://h:8080/", fetch: fakeFetch(200, { roles }, seen) });
    expect(await api.listRoles()).toEqual(roles);
    expect(seen[0]?.url).toBe("http://h:8080/api/roles");
    expect(seen[0]?.init?.method).toBe("GET");
  });

  it("creates a session with the role and vars", async () => {
    const seen: Seen[] = [];
    const session = { url: "ws://x", token: "t", room: "r", identity: "u", role: "sommelier", expires_at: 1 };
    const api = createApiClient({ fetch: fakeFetch(200, session, seen) });
    expect(await api.createSession("sommelier", { user_name: "Ana" })).toEqual(session);
    expect(seen[0]?.url).toBe("/api/session");
    expect(JSON.parse(String(seen[0]?.init?.body))).toEqual({ role: "sommelier", vars: { user_name: "Ana" } });
  });

  it("re-dispatches with the session token as a bearer token", async () => {
    const seen: Seen[] = [];
    const api = createApiClient({ fetch: fakeFetch(200, { room: "r", dispatched: true }, seen) });
    expect(await api.redispatch("tok")).toEqual({ room: "r", dispatched: true });
    expect(seen[0]?.url).toBe("/api/session/redispatch");
    expect((seen[0]?.init?.headers as Record<string, string>)["Authorization"]).toBe("Bearer tok");
  });

  it("turns the backend's error body into a RoleCallApiError", async () => {
    const api = createApiClient({
      fetch: fakeFetch(404, { error: { code: "unknown_role", message: "No role named 'x'." } }),
    });
    const error = await api.createSession("x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoleCallApiError);
    expect(error).toMatchObject({ code: "unknown_role", message: "No role named 'x'.", status: 404 });
  });

  it("sends no credential in the demo's none mode", async () => {
    const seen: Seen[] = [];
    await createApiClient({ fetch: fakeFetch(200, SESSION, seen) }).createSession("sommelier");
    expect(authorization(seen[0])).toBeUndefined();
  });

  it("sends the app's JWT when a session starts, and only then", async () => {
    const seen: Seen[] = [];
    const api = createApiClient({ appToken: "app.jwt.token", fetch: fakeFetch(200, SESSION, seen) });
    await api.createSession("sommelier");
    expect(authorization(seen[0])).toBe("Bearer app.jwt.token");
    await api.listRoles().catch(() => undefined);
    expect(authorization(seen[1])).toBeUndefined();
  });

  it("asks a token function for a fresh token before every start", async () => {
    const seen: Seen[] = [];
    let issued = 0;
    const api = createApiClient({
      appToken: async () => `jwt-${++issued}`,
      fetch: fakeFetch(200, SESSION, seen),
    });
    await api.createSession("sommelier");
    await api.createSession("sommelier", { user_name: "Ana" });
    expect(seen.map(authorization)).toEqual(["Bearer jwt-1", "Bearer jwt-2"]);
  });

  it("surfaces a 429 with how long to wait", async () => {
    const body = { error: { code: "rate_limited", message: "too many sessions; try again in 7 s", retry_after_s: 7 } };
    const api = createApiClient({ fetch: fakeFetch(429, body, [], { "Retry-After": "7" }) });
    const error = await api.createSession("sommelier").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RoleCallApiError);
    expect(error).toMatchObject({ code: "rate_limited", status: 429, retryAfterSeconds: 7 });
    expect((error as Error).message).toBe("too many sessions; try again in 7 s");

    const at = new Date(Date.now() + 30_000).toUTCString();
    const dated = createApiClient({ fetch: fakeFetch(429, body, [], { "Retry-After": at }) });
    const later = (await dated.redispatch("tok").catch((e: unknown) => e)) as RoleCallApiError;
    expect(later.retryAfterSeconds).toBeGreaterThanOrEqual(28);
    expect(later.retryAfterSeconds).toBeLessThanOrEqual(30);

    const other = createApiClient({ fetch: fakeFetch(401, { error: { code: "invalid_token", message: "m" } }) });
    const refused = (await other.createSession("x").catch((e: unknown) => e)) as RoleCallApiError;
    expect(refused.retryAfterSeconds).toBeUndefined();
  });

  it("reports non-JSON answers and unreachable servers", async () => {
    const html = createApiClient({ fetch: fakeFetch(502, "<html>") });
    await expect(html.listRoles()).rejects.toMatchObject({ code: "http_502", status: 502 });
    const odd = createApiClient({ fetch: fakeFetch(200, "<html>") });
    await expect(odd.listRoles()).rejects.toMatchObject({ code: "bad_response" });
    const down = createApiClient({
      fetch: async () => {
        throw new TypeError("Failed to fetch");
      },
    });
    await expect(down.listRoles()).rejects.toMatchObject({
      code: "network_error",
      message: "Could not reach the server (Failed to fetch).",
      status: 0,
    });
  });
});
