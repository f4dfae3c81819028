/**
 * @rolecall/client: the page side of a RoleCall voice agent, over livekit-client.
 *
 *   import { EVENT_SCHEMAS, TOOL_SCHEMAS, type EventPayloads, type ToolArgs } from "./rolecall/roles";
 *   // (generated from the app's own roles by `python -m worker roles types`)
 *
 *   const room = new Room();
 *   registerTools<ToolArgs>(room, {
 *     show_recipe: async ({ recipe_id }) => ({ shown: await showRecipe(recipe_id) }),
 *   }, { schemas: TOOL_SCHEMAS });                // before connecting
 *   watchActiveRole(room, (role) => setPersona(role));
 *   watchAgentErrors(room, (error) => setBanner(error));
 *   trackToolActivity(room, (running) => setBusy(running));   // tool calls in flight
 *   const sendEvent = createEventSender<EventPayloads>(room, { schemas: EVENT_SCHEMAS });
 *   const session = await createApiClient().createSession("cooking-guide");
 *   await room.connect(session.url, session.token);
 *   await sendEvent("ingredient_checked", { ingredient: "eggs", checked: true });   // the user did it
 *
 * React hooks over the same core live in `@rolecall/client/react`; the whole page protocol (generated
 * from `worker/protocol.py`) in `@rolecall/client/protocol`; the types of RoleCall's starter roles
 * (the demo's) in `@rolecall/client/roles`.
 */
import { CHAT_TOPIC } from "./generated/protocol.js";

export {
  nextRunning,
  onToolActivity,
  trackToolActivity,
  type RunningTool,
  type TrackToolActivityOptions,
} from "./activity.js";
export {
  ATTR_ERROR,
  ATTR_ROLE,
  ATTR_ROLE_TITLE,
  DEFAULT_JOIN_TIMEOUT_MS,
  EVENTS_TOPIC,
  errorFromAttributes,
  findAgent,
  onRoleCallEvent,
  parseEvent,
  roleFromAttributes,
  watchActiveRole,
  watchAgentErrors,
  type ActiveRole,
  type AgentError,
  type AgentErrorWatch,
  type EventRoom,
  type RoleCallEvent,
  type WatchAgentErrorsOptions,
} from "./agent.js";
export {
  createApiClient,
  type ApiClient,
  type ApiClientOptions,
  type RoleSummary,
  type SessionInfo,
} from "./api.js";
export {
  RPC_ERROR_MESSAGE_LIMIT,
  RPC_METHOD_LIMIT,
  RPC_PAYLOAD_LIMIT,
  RoleCallApiError,
  describeError,
  truncateUtf8,
  utf8Length,
} from "./errors.js";
export {
  EVENT_METHOD,
  EVENT_TIMEOUT_MS,
  UiEventError,
  createEventSender,
  sendUiEvent,
  type EventSender,
  type EventSenderOptions,
  type SendEventOptions,
  type UiEventErrorReason,
  type UiEventRoom,
} from "./events.js";
export {
  AGENT_ERROR_CODE_VALUES,
  CHAT_BURST,
  CHAT_REFILL_S,
  CHAT_TOPIC,
  EVENT_REFUSAL_REASON_VALUES,
  EVENT_RESPONSE_VALUES,
  MAX_CHAT_CHARS,
  PAGE_ERROR_CODE_VALUES,
  REFUSAL_REASON_VALUES,
  TIME_LIMIT_VALUES,
  TOOL_MODE_VALUES,
  TOOL_STATUS_VALUES,
  type AgentErrorCode,
  type BudgetLimitEvent,
  type DiscoveryReply,
  type ErrorAttribute,
  type ErrorEvent,
  type EventRefusalReason,
  type EventResponse,
  type InputRefusedEvent,
  type PageErrorCode,
  type PageEvent,
  type RefusalReason,
  type RoleEvent,
  type SessionLimitEvent,
  type TimeLimit,
  type TimeLimitEvent,
  type ToolActivityEvent,
  type ToolMode,
  type ToolStatus,
  type UiEventReply,
} from "./generated/protocol.js";
export {
  CALLER_GRACE_MS,
  DISCOVERY_METHOD,
  parseArguments,
  registerTools,
  serializeResult,
  type JsonSchema,
  type RegisterToolsOptions,
  type RpcRoom,
  type SchemaValidator,
  type ToolCall,
  type ToolCallEvent,
  type ToolHandler,
  type ToolHandlers,
  type ToolRegistry,
} from "./tools.js";

/**
 * Send typed text to the agent, as the user's turn (the `lk.chat` text stream topic). The agent takes at
 * most `MAX_CHAT_CHARS` characters a message by default, a burst of `CHAT_BURST` messages and then one
 * every `CHAT_REFILL_S` seconds; it answers others with an `input_refused` event.
 */
export async function sendChat(
  room: { localParticipant: { sendText(text: string, options: { topic: string }): Promise<unknown> } },
  text: string,
): Promise<void> {
  await room.localParticipant.sendText(text, { topic: CHAT_TOPIC });
}
