import { ParticipantKind, RpcError } from "livekit-client";
import { describe, expect, it } from "vitest";

import { EVENT_METHOD, UiEventError, createEventSender, sendUiEvent, type UiEventRoom } from "../src/events";
import { EVENT_SCHEMAS, type EventPayloads } from "../src/generated/roles";
import { EVENT_VALIDATORS } from "../src/generated/validators";

/** The starter roles' events, typed and checked as an app's generated ones would be. */
const sendEvent = (room: UiEventRoom) => createEventSender<EventPayloads>(room, { schemas: EVENT_SCHEMAS });

interface Sent {
  destinationIdentity: string;
  method: string;
  payload: string;
  responseTimeout?: number;
}

/** A room whose agent answers EVENT_METHOD with `answer` (a reply text, or an error to throw). */
function roomWith(answer: string | Error, agent = true): { room: UiEventRoom; sent: Sent[] } {
  const sent: Sent[] = [];
  const participants = new Map([["user-1", { identity: "user-1", kind: ParticipantKind.STANDARD }]]);
  if (agent) participants.set("agent-1", { identity: "agent-1", kind: ParticipantKind.AGENT });
  const room = {
    remoteParticipants: participants,
    localParticipant: {
      performRpc: async (params: Sent): Promise<string> => {
        sent.push(params);
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
  } as unknown as UiEventRoom;
  return { room, sent };
}

describe("createEventSender", () => {
  it("checks payloads with precompiled validators when given them", async () => {
    const { room, sent } = roomWith("{}");
    const send = createEventSender<EventPayloads>(room, { validators: EVENT_VALIDATORS });
    const bad = { ingredient: 5, checked: true } as unknown as { ingredient: string; checked: boolean };
    const error = (await send("ingredient_checked", bad).catch((e: unknown) => e)) as UiEventError;
    expect(error.reason).toBe("invalid_payload");
    expect(sent).toHaveLength(0);
  });

  it("sends the event to the agent on EVENT_METHOD and returns what it does", async () => {
    const { room, sent } = roomWith('{"name":"ingredient_checked","respond":"now"}');
    const reply = await sendEvent(room)("ingredient_checked", { ingredient: "spaghetti", checked: true });
    expect(reply).toEqual({ name: "ingredient_checked", respond: "now" });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.destinationIdentity).toBe("agent-1");
    expect(sent[0]?.method).toBe(EVENT_METHOD);
    expect(JSON.parse(sent[0]?.payload ?? "")).toEqual({
      name: "ingredient_checked",
      payload: { ingredient: "spaghetti", checked: true },
    });
  });

  it("refuses a payload its schema refuses, before sending anything", async () => {
    const { room, sent } = roomWith("{}");
    const bad = { ingredient: "spaghetti", checked: "yes" } as unknown as { ingredient: string; checked: boolean };
    const error = await sendEvent(room)("ingredient_checked", bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UiEventError);
    expect((error as UiEventError).reason).toBe("invalid_payload");
    expect((error as UiEventError).message).toMatch(/invalid payload for ingredient_checked: checked: must be boolean/);
    expect(sent).toHaveLength(0);
  });

  it("turns the worker's refusal into a UiEventError with its reason", async () => {
    const refusal = new RpcError(1500, "too many ingredient_checked events: wait 1.0 s before sending another", "too_fast");
    const { room } = roomWith(refusal);
    const error = (await sendEvent(room)("ingredient_checked", { ingredient: "eggs", checked: false }).catch(
      (e: unknown) => e,
    )) as UiEventError;
    expect(error).toBeInstanceOf(UiEventError);
    expect([error.reason, error.code]).toEqual(["too_fast", 1500]);
    expect(error.message).toContain("wait 1.0 s");
  });

  it("says when there is no agent, or the RPC itself failed", async () => {
    const alone = roomWith("{}", false).room;
    await expect(sendUiEvent(alone, "step_selected", { step: 2 })).rejects.toMatchObject({ reason: "no_agent" });
    const timeout = roomWith(RpcError.builtIn("RESPONSE_TIMEOUT")).room;
    await expect(sendUiEvent(timeout, "step_selected", { step: 2 })).rejects.toMatchObject({ reason: "failed", code: 1502 });
    const garbled = roomWith("not json").room;
    await expect(sendUiEvent(garbled, "step_selected", { step: 2 })).rejects.toMatchObject({ reason: "failed" });
  });
});
