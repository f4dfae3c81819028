import { useLocalParticipant } from "@livekit/components-react";
import { ConnectionState } from "livekit-client";

import { initials } from "../persona";

export interface HeaderProps {
  persona: { name: string | undefined; title: string };
  connection: ConnectionState;
  onDisconnect: () => void;
}

const STATUS: Record<ConnectionState, string> = {
  [ConnectionState.Disconnected]: "Not connected",
  [ConnectionState.Connecting]: "Connecting…",
  [ConnectionState.Connected]: "Live",
  [ConnectionState.Reconnecting]: "Reconnecting…",
  [ConnectionState.SignalReconnecting]: "Reconnecting…",
};

export function Header({ persona, connection, onDisconnect }: HeaderProps) {
  const { localParticipant, isMicrophoneEnabled } = useLocalParticipant();
  const live = connection === ConnectionState.Connected || connection === ConnectionState.Reconnecting;
  return (
    <header className="topbar">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true" />
        <span className="brand-name">RoleCall</span>
        <span className="brand-sub">Kitchen</span>
      </div>
      <div className="persona" data-testid="persona" data-role={persona.name ?? ""}>
        <span className="avatar" aria-hidden="true" data-testid="persona-initials">
          {initials(persona.title)}
        </span>
        <span className="persona-text">
          <span className="persona-label">{live ? "You're talking with" : "Your guide"}</span>
          <span className="persona-title" data-testid="persona-title">
            {persona.title}
          </span>
        </span>
      </div>
      <div className="controls">
        <span className={`status status-${connection}`} data-testid="connection">
          <span className="status-dot" aria-hidden="true" />
          {STATUS[connection]}
        </span>
        {live && (
          <>
            <button
              className={`button ${isMicrophoneEnabled ? "" : "button-muted"}`}
              onClick={() => void localParticipant.setMicrophoneEnabled(!isMicrophoneEnabled)}
              aria-pressed={!isMicrophoneEnabled}
              data-testid="mic-toggle"
            >
              <MicIcon off={!isMicrophoneEnabled} />
              {isMicrophoneEnabled ? "Mute" : "Unmute"}
            </button>
            <button className="button button-danger" onClick={onDisconnect} data-testid="disconnect">
              End call
            </button>
          </>
        )}
      </div>
    </header>
  );
}

function MicIcon({ off }: { off: boolean }) {
  return (
    <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
      <rect x="9" y="3" width="6" height="11" rx="3" />
      <path d="M5 11a7 7 0 0 0 14 0M12 18v3" />
      {off && <path d="M4 4l16 16" />}
    </svg>
  );
}
