import {
  RoomAudioRenderer,
  RoomContext,
  useConnectionState,
} from "@livekit/components-react";
import {
  RoleCallApiError,
  UiEventError,
  createApiClient,
  describeError,
  onRoleCallEvent,
  sendChat,
  type RoleSummary,
  type SessionInfo,
  type ToolCallEvent,
} from "@rolecall/client";
import {
  useActiveRole,
  useAgentErrors,
  useRoleCallTools,
  useSendEvent,
  useToolActivity,
} from "@rolecall/client/react";
// The starter roles' generated types and precompiled validators (the backend's CSP forbids compiling
// schemas in the page); an app with roles of its own generates these with `python -m worker roles types`.
import { TOOL_SCHEMAS, type EventPayloads, type ToolArgs } from "@rolecall/client/roles";
import { EVENT_VALIDATORS, VALIDATORS } from "@rolecall/client/roles/validators";
import { ConnectionState, Room } from "livekit-client";
import { useCallback, useEffect, useMemo, useState, useSyncExternalStore, type CSSProperties } from "react";

import { Banner } from "./components/Banner";
import { Conversation, type LocalLine } from "./components/Conversation";
import { Header } from "./components/Header";
import { RolePicker } from "./components/RolePicker";
import { Workspace, type HandActions } from "./components/Workspace";
import { CookingStore, cookingHandlers } from "./cooking";
import { accentFor } from "./persona";

const api = createApiClient();

export function App() {
  // One Room for the page's lifetime: tool handlers are registered on it before any connection.
  const room = useMemo(() => new Room({ adaptiveStream: false, dynacast: false }), []);
  const store = useMemo(() => new CookingStore(), []);
  const cooking = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const [lines, setLines] = useState<LocalLine[]>([]);

  const onCall = useCallback((event: ToolCallEvent) => {
    const detail = event.ok ? undefined : event.error?.message;
    setLines((all) => [
      ...all,
      { kind: "tool", id: `t${all.length}-${Date.now()}`, at: Date.now(), method: event.method, ok: event.ok, detail },
    ]);
  }, []);
  const handlers = useMemo(() => cookingHandlers(store), [store]);
  useRoleCallTools<ToolArgs>(handlers, { room, onCall, schemas: TOOL_SCHEMAS, validators: VALIDATORS });

  const [roles, setRoles] = useState<RoleSummary[] | undefined>(undefined);
  const [rolesError, setRolesError] = useState<string | undefined>(undefined);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [session, setSession] = useState<SessionInfo | undefined>(undefined);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [bringingBack, setBringingBack] = useState(false);
  // A typed message the agent refused (too long, too many): say why; the conversation goes on.
  useEffect(
    () => onRoleCallEvent(room, (event) => {
      if (event.type === "input_refused") setProblem(event.message);
    }),
    [room],
  );
  const [joinMuted, setJoinMuted] = useState(false);

  // What the user does by hand reaches the agent as context (UI events), so it follows along.
  const sendEvent = useSendEvent<EventPayloads>({ room, validators: EVENT_VALIDATORS });
  // A fast search still shows its card for a moment instead of flashing.
  const running = useToolActivity({ room, minVisibleMs: 900 });
  const hand = useMemo((): HandActions => {
    const told = (sent: Promise<unknown>): void => {
      sent.catch((error: unknown) => {
        if (error instanceof UiEventError && error.reason === "no_agent") return; // nobody to tell
        setProblem(`Your guide did not hear about that: ${describeError(error)}`);
      });
    };
    const note = (text: string): void =>
      setLines((all) => [...all, { kind: "hand", id: `h${all.length}-${Date.now()}`, at: Date.now(), text }]);
    return {
      ingredientToggled: (ingredient, checked) => {
        note(`You ${checked ? "ticked" : "unticked"} ${ingredient}`);
        told(sendEvent("ingredient_checked", { ingredient, checked }));
      },
      stepSelected: (step) => {
        note(`You moved to step ${step}`);
        told(sendEvent("step_selected", { step }));
      },
    };
  }, [sendEvent]);

  useEffect(() => {
    api.listRoles().then(
      (list) => {
        setRoles(list);
        setSelected((current) => current ?? (list.find((r) => r.name === "cooking-guide") ?? list[0])?.name);
      },
      (error: unknown) => setRolesError(describeError(error)),
    );
  }, []);

  const connection = useConnectionState(room);
  const connected = connection === ConnectionState.Connected || connection === ConnectionState.Reconnecting;
  const active = useActiveRole(room);
  // After DEFAULT_JOIN_TIMEOUT_MS (20 s) without an agent, the banner offers to bring it back.
  const { error: agentError, reset } = useAgentErrors({ room });

  const requested = roles?.find((r) => r.name === (session?.role ?? selected));
  const persona = connected
    ? { name: active?.name ?? requested?.name, title: active?.title ?? requested?.title ?? "Agent" }
    : { name: requested?.name, title: requested?.title ?? "RoleCall" };

  const connect = async (): Promise<void> => {
    if (selected === undefined) return;
    setProblem(undefined);
    setLines([]);
    store.reset();
    try {
      const info = await api.createSession(selected);
      setSession(info);
      const micProblem = (error: unknown): void =>
        setProblem(`Your microphone is not available (${describeError(error)}). You can still type.`);
      // A role with pre-connect audio hears the user's first words while its agent is still joining.
      const early = !joinMuted && info.pre_connect_audio === true;
      if (early) {
        await room.localParticipant.setMicrophoneEnabled(true, undefined, { preConnectBuffer: true }).catch(micProblem);
      }
      await room.connect(info.url, info.token);
      await room.startAudio().catch(() => undefined);
      if (!joinMuted && !early) {
        await room.localParticipant.setMicrophoneEnabled(true).catch(micProblem);
      }
    } catch (error) {
      setProblem(`Could not start the conversation: ${describeError(error)}`);
      await room.disconnect();
    }
  };

  const disconnect = async (): Promise<void> => {
    await room.disconnect();
    setSession(undefined);
  };

  const bringBack = async (): Promise<void> => {
    if (session === undefined) return;
    setBringingBack(true);
    try {
      await api.redispatch(session.token);
      reset();
      setProblem(undefined);
    } catch (error) {
      setProblem(
        error instanceof RoleCallApiError && error.code === "agent_present"
          ? "The agent is already here."
          : `Could not bring the agent back: ${describeError(error)}`,
      );
    } finally {
      setBringingBack(false);
    }
  };

  const send = async (text: string): Promise<void> => {
    setLines((all) => [...all, { kind: "typed", id: `m${all.length}-${Date.now()}`, at: Date.now(), text }]);
    await sendChat(room, text);
  };

  const style = { "--accent": accentFor(persona.name) } as CSSProperties;

  return (
    <RoomContext.Provider value={room}>
      <div className="app" style={style} data-role={persona.name ?? ""}>
        <Header
          persona={persona}
          connection={connection}
          onDisconnect={() => void disconnect()}
        />
        {connected && agentError !== undefined && (
          <Banner
            tone={agentError.code === "session_limit" ? "info" : "error"}
            title={agentError.code === "agent_left" ? "The agent dropped out" : "The agent is not here"}
            message={agentError.message}
            action={
              agentError.code === "session_limit"
                ? undefined
                : { label: bringingBack ? "Calling the agent…" : "Bring the agent back", onClick: () => void bringBack(), busy: bringingBack }
            }
          />
        )}
        {problem !== undefined && <Banner tone="warning" title="Heads up" message={problem} onClose={() => setProblem(undefined)} />}
        <main className="layout">
          <Conversation connected={connected} persona={persona} lines={lines} onSend={send} />
          <section className="workspace" aria-label="Kitchen">
            {!connected && (
              <RolePicker
                roles={roles}
                error={rolesError}
                selected={selected}
                onSelect={setSelected}
                onStart={() => void connect()}
                connecting={connection === ConnectionState.Connecting}
                joinMuted={joinMuted}
                onJoinMutedChange={setJoinMuted}
              />
            )}
            {(connected || cooking.recipe !== undefined) && <Workspace state={cooking} store={store} connected={connected} running={running} hand={hand} />}
          </section>
        </main>
        <RoomAudioRenderer />
      </div>
    </RoomContext.Provider>
  );
}
