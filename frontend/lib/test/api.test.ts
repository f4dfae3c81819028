import { describe, expect, it } from "vitest";

import { createApiClient } from "../src/api";
import { RoleCallApiError } from "../src/errors";

interface Seen {
  url: string;
  init: RequestInit | undefined;
}

function fakeFetch(status: number, body: unknown, seen: Seen[] = []): typeof fetch {
  return async (input, init) => {
    seen.push({ url: String(input), init });
    const text = typeof body === "string" ? body : JSON.stringify(body);
    return new Response(text, { status, headers: { "Content-Type": "application/json" } });
  };
}

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
