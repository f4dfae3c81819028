import { useLocalParticipant, useTranscriptions, useVoiceAssistant } from "@livekit/components-react";
import { useEffect, useRef, useState, type FormEvent } from "react";

import { initials } from "../persona";

/**
 * Lines the page adds to the transcript itself: what the user typed, what the agent did on screen, and
 * what the user did on screen by hand (told to the agent as a UI event).
 */
export type LocalLine =
  | { kind: "typed"; id: string; at: number; text: string }
  | { kind: "tool"; id: string; at: number; method: string; ok: boolean; detail: string | undefined }
  | { kind: "hand"; id: string; at: number; text: string };

interface Line {
  id: string;
  at: number;
  speaker: "agent" | "user" | "tool";
  text: string;
  ok?: boolean;
  method?: string;
}

const ACTIONS: Record<string, string> = {
  show_recipe: "Put a recipe on screen",
  highlight_step: "Moved to a step",
  check_ingredient: "Ticked an ingredient",
  start_timer: "Started a timer",
  cancel_timer: "Stopped a timer",
  show_markdown: "Put a note on screen",
};

const STATE_LABEL: Record<string, string> = {
  listening: "Listening",
  thinking: "Thinking",
  speaking: "Speaking",
  initializing: "Joining…",
  connecting: "Joining…",
  idle: "Waiting",
  disconnected: "Not connected",
  failed: "Unavailable",
  "pre-connect-buffering": "Listening",
};

export interface ConversationProps {
  connected: boolean;
  persona: { name: string | undefined; title: string };
  lines: LocalLine[];
  onSend: (text: string) => Promise<void>;
}

export function Conversation({ connected, persona, lines, onSend }: ConversationProps) {
  const { state, agent } = useVoiceAssistant();
  const transcriptions = useTranscriptions();
  const { localParticipant } = useLocalParticipant();
  const [draft, setDraft] = useState("");
  const scroller = useRef<HTMLOListElement>(null);
  // Who said each line is the persona speaking when it first appeared (it changes on handoff).
  const speakers = useRef(new Map<string, string>());

  const me = localParticipant.identity;
  const all: Line[] = [
    ...transcriptions
      .filter((t) => t.text.trim())
      .map((t) => ({
        id: t.streamInfo.id,
        at: t.streamInfo.timestamp,
        speaker: t.participantInfo.identity === me ? ("user" as const) : ("agent" as const),
        text: t.text,
      })),
    ...lines.map((l) =>
      l.kind === "typed"
        ? { id: l.id, at: l.at, speaker: "user" as const, text: l.text }
        : l.kind === "hand"
          ? { id: l.id, at: l.at, speaker: "tool" as const, text: l.text, ok: true }
          : {
              id: l.id,
              at: l.at,
              speaker: "tool" as const,
              text: l.ok ? (ACTIONS[l.method] ?? l.method) : (l.detail ?? `${l.method} failed`),
              ok: l.ok,
              method: l.method,
            },
    ),
  ].sort((a, b) => a.at - b.at);

  useEffect(() => {
    scroller.current?.scrollTo({ top: scroller.current.scrollHeight, behavior: "smooth" });
  }, [all.length, all[all.length - 1]?.text]);

  const speakerOf = (id: string): string => {
    const known = speakers.current.get(id);
    if (known !== undefined) return known;
    speakers.current.set(id, persona.title);
    return persona.title;
  };

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    const text = draft.trim();
    if (!text || !connected) return;
    setDraft("");
    void onSend(text);
  };

  const shownState = connected ? (agent ? state : "connecting") : "disconnected";
  return (
    <aside className="conversation" aria-label="Conversation">
      <div className={`agent-card state-${shownState}`} data-testid="agent-state" data-state={shownState}>
        <div className="orb" aria-hidden="true">
          <span className="orb-ring" />
          <span className="orb-core">{initials(persona.title)}</span>
        </div>
        <div>
          <div className="agent-name">{persona.title}</div>
          <div className="agent-state">
            <span className="state-dot" aria-hidden="true" />
            {STATE_LABEL[shownState] ?? shownState}
          </div>
        </div>
      </div>
      <ol className="transcript" ref={scroller} aria-live="polite" data-testid="transcript">
        {all.length === 0 && (
          <li className="transcript-empty">
            {connected ? "Say hello, or type below. Try “I'd like to cook pasta tonight”." : "The conversation will appear here."}
          </li>
        )}
        {all.map((line) => (
          <li
            key={line.id}
            className={`line line-${line.speaker} ${line.ok === false ? "line-failed" : ""}`}
            data-testid="transcript-line"
            data-speaker={line.speaker}
            {...(line.method ? { "data-method": line.method, "data-ok": String(line.ok) } : {})}
          >
            {line.speaker === "tool" ? (
              <span className="tool-chip">
                <span aria-hidden="true">{line.ok ? "✓" : "⚠"}</span> {line.text}
              </span>
            ) : (
              <>
                <span className="line-who">{line.speaker === "user" ? "You" : speakerOf(line.id)}</span>
                <span className="line-text">{line.text}</span>
              </>
            )}
          </li>
        ))}
      </ol>
      <form className="composer" onSubmit={submit}>
        <input
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          placeholder={connected ? `Message the ${persona.title}…` : "Connect to start talking"}
          disabled={!connected}
          aria-label="Type a message to the agent"
          data-testid="chat-input"
          maxLength={2000}
        />
        <button className="button button-primary" type="submit" disabled={!connected || !draft.trim()} data-testid="chat-send">
          Send
        </button>
      </form>
    </aside>
  );
}
