/**
 * @rolecall/client: the page side of a RoleCall voice agent, over livekit-client.
 *
 *   const room = new Room();
 *   const tools = createToolRegistry(room, {
 *     show_recipe: async ({ recipe_id }) => ({ shown: await showRecipe(recipe_id) }),
 *   });                                          // before connecting
 *   watchActiveRole(room, (role) => setPersona(role));
 *   watchAgentErrors(room, (error) => setBanner(error));
 *   trackToolActivity(room, (running) => setBusy(running));   // tool calls in flight
 *   const session = await createApiClient().createSession("cooking-guide");
 *   await room.connect(session.url, session.token);
 *   await sendEvent(room, "ingredient_checked", { ingredient: "eggs", checked: true });
 *
 * React hooks over the same core live in `@rolecall/client/react`; the generated role types in
 * `@rolecall/client/roles`; the whole page protocol (generated from `worker/protocol.py`) in
 * `@rolecall/client/protocol`.
 */
import { CHAT_TOPIC } from "./generated/protocol";

export {
  nextRunning,
  onToolActivity,
  trackToolActivity,
  type RunningTool,
  type TrackToolActivityOptions,
} from "./activity";
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
} from "./agent";
export {
  createApiClient,
  type ApiClient,
  type ApiClientOptions,
  type RoleSummary,
  type SessionInfo,
} from "./api";
export {
  RPC_ERROR_MESSAGE_LIMIT,
  RPC_METHOD_LIMIT,
  RPC_PAYLOAD_LIMIT,
  RoleCallApiError,
  describeError,
  truncateUtf8,
  utf8Length,
} from "./errors";
export {
  EVENT_METHOD,
  EVENT_TIMEOUT_MS,
  UiEventError,
  sendEvent,
  sendUiEvent,
  type SendEventOptions,
  type UiEventErrorReason,
  type UiEventRoom,
} from "./events";
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
} from "./generated/protocol";
export type {
  EventName,
  EventPayloads,
  JsonSchema,
  RoleEventPayloads,
  RoleName,
  RoleToolArgs,
  ToolArgs,
  ToolMethod,
} from "./generated/roles";
export {
  CALLER_GRACE_MS,
  DISCOVERY_METHOD,
  createToolRegistry,
  parseArguments,
  registerTools,
  serializeResult,
  type RegisterToolsOptions,
  type RpcRoom,
  type ToolCall,
  type ToolCallEvent,
  type ToolHandler,
  type ToolHandlers,
  type ToolRegistry,
} from "./tools";

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
