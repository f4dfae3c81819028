/** The web backend's API (`python -m worker web`): roles, sessions, and bringing the agent back. */
import { RoleCallApiError } from "./errors.js";

/** A role as the role picker shows it. */
export interface RoleSummary {
  name: string;
  title: string;
  description: string;
}

/** What `POST /api/session` returns: where to connect, and as whom. */
export interface SessionInfo {
  /** LiveKit server URL (ws:// or wss://). */
  url: string;
  token: string;
  room: string;
  identity: string;
  role: string;
  /** When the token stops being accepted for joining (ISO 8601 or epoch seconds, as the backend sends it). */
  expires_at: string | number;
  /**
   * The role takes the user's first words before the agent joins (`model.pre_connect_audio`): enable the
   * microphone with `{ preConnectBuffer: true }` before `room.connect` (livekit-client sends the buffer
   * to the agent when it joins).
   */
  pre_connect_audio?: boolean;
}

/** The app's own token for `POST /api/session`: the JWT itself, or a function that gets a fresh one. */
export type AppToken = string | (() => string | Promise<string>);

export interface ApiClientOptions {
  /** Prefix for every path, e.g. `http://localhost:8080`; default: same origin. */
  baseUrl?: string;
  /**
   * For a backend with `ROLECALL_WEB_AUTH=jwt`: the JWT your app issued to the signed-in user, sent as
   * `Authorization: Bearer` when a session starts. A function is called before every start, so it can
   * return a fresh token. Leave it out for `none` (the demo). Never put an `api-key` key in a page.
   */
  appToken?: AppToken;
  /** A fetch implementation (a seam for tests); default: the global one. */
  fetch?: typeof fetch;
}

export interface ApiClient {
  listRoles(): Promise<RoleSummary[]>;
  createSession(role: string, vars?: Record<string, string | number | boolean>): Promise<SessionInfo>;
  /** Ask for a new agent in the session's room (after it failed to join or left); needs the session token. */
  redispatch(token: string): Promise<{ room: string; dispatched: boolean }>;
}

/**
 * A client for the web backend. Errors are `RoleCallApiError`s carrying the backend's code; a `429`
 * (`rate_limited`, `too_many_sessions`) also carries `retryAfterSeconds`.
 */
export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const base = (options.baseUrl ?? "").replace(/\/+$/, "");
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));

  async function request<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token !== undefined) headers["Authorization"] = `Bearer ${token}`;
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new RoleCallApiError("network_error", `Could not reach the server (${detail}).`, 0);
    }
    let data: unknown;
    try {
      data = await response.json();
    } catch {
      data = undefined;
    }
    if (!response.ok) {
      const error = (data as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const code = typeof error?.code === "string" ? error.code : `http_${response.status}`;
      const message = typeof error?.message === "string" ? error.message : `The server answered ${response.status}.`;
      throw new RoleCallApiError(code, message, response.status, retryAfter(response));
    }
    if (data === undefined) {
      throw new RoleCallApiError("bad_response", "The server's answer was not JSON.", response.status);
    }
    return data as T;
  }

  return {
    async listRoles() {
      const data = await request<{ roles: RoleSummary[] }>("GET", "/api/roles");
      return data.roles;
    },
    async createSession(role, vars) {
      const body = vars === undefined ? { role } : { role, vars };
      const appToken = typeof options.appToken === "function" ? await options.appToken() : options.appToken;
      return request<SessionInfo>("POST", "/api/session", body, appToken);
    },
    redispatch(token) {
      return request<{ room: string; dispatched: boolean }>("POST", "/api/session/redispatch", {}, token);
    },
  };
}

/** Seconds to wait from a 429's `Retry-After` (seconds or an HTTP date); undefined for other answers. */
function retryAfter(response: Response): number | undefined {
  if (response.status !== 429) return undefined;
  const header = response.headers.get("Retry-After")?.trim();
  if (!header) return undefined;
  if (/^\d+$/.test(header)) return Number(header);
  const when = Date.parse(header);
  return Number.isNaN(when) ? undefined : Math.max(0, Math.ceil((when - Date.now()) / 1000));
}
