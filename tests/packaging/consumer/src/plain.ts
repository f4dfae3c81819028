// The library without React: every entry point a plain app uses, typed by the app's own roles
// (src/roles.ts, written by `python -m worker roles types roles -o src/roles.ts`).
import {
  CHAT_TOPIC,
  RoleCallApiError,
  createApiClient,
  describeError,
  parseEvent,
  registerTools,
  sendChat,
  watchActiveRole,
  watchAgentErrors,
  type ActiveRole,
  type AgentError,
  type RoleSummary,
  type SchemaValidator,
  type ToolCallEvent,
} from "@rolecall/client";
import { DISCOVERY_METHOD, type PageEvent } from "@rolecall/client/protocol";
import { Room } from "livekit-client";

import { TOOL_SCHEMAS, type ShowBouquetArgs, type ToolArgs } from "./roles.js";

const room = new Room();
const shown: ShowBouquetArgs[] = [];
const calls: ToolCallEvent[] = [];

const registry = registerTools<ToolArgs>(
  room,
  {
    show_bouquet: ({ flowers, wrapping, stems }) => {
      shown.push({ flowers, wrapping, ...(stems === undefined ? {} : { stems }) });
      return { shown: flowers.length, wrapping };
    },
  },
  { schemas: TOOL_SCHEMAS, onCall: (event) => void calls.push(event) },
);

// The declarations are real types, not `any`: each line below must be a compile error.
// @ts-expect-error a tool none of the app's roles declares
registerTools<ToolArgs>(room, { show_bouqet: () => 1 });
// @ts-expect-error `wrapping` is one of "paper" | "ribbon" | "none"
registerTools<ToolArgs>(room, { show_bouquet: ({ wrapping }: { flowers: string[]; wrapping: number }) => wrapping });
// @ts-expect-error a validator is a function of the data
const notAValidator: SchemaValidator = { errors: [] };

const stopRole = watchActiveRole(room, (role: ActiveRole | undefined) => {
  document.title = role?.title ?? "no agent yet";
});
const errors = watchAgentErrors(room, (error: AgentError | undefined) => console.log(error?.code));
const api = createApiClient({ baseUrl: "" });

export async function start(role: RoleSummary["name"]): Promise<void> {
  try {
    const session = await api.createSession(role);
    await room.connect(session.url, session.token);
    await sendChat(room, "hello");
  } catch (error) {
    const detail = error instanceof RoleCallApiError ? `${error.status} ${error.code}` : describeError(error);
    console.log(detail);
  }
}

const event: PageEvent | undefined = parseEvent('{"type":"role","role":"florist","title":"Florist"}');
console.log(CHAT_TOPIC, DISCOVERY_METHOD, event?.type, registry.methods, notAValidator);

export function stop(): void {
  registry.unregister();
  stopRole();
  errors.stop();
}
