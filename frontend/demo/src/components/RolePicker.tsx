import type { RoleSummary } from "@rolecall/client";
import type { CSSProperties } from "react";

import { accentFor, initials } from "../persona";

export interface RolePickerProps {
  roles: RoleSummary[] | undefined;
  error: string | undefined;
  selected: string | undefined;
  onSelect: (name: string) => void;
  onStart: () => void;
  connecting: boolean;
  joinMuted: boolean;
  onJoinMutedChange: (muted: boolean) => void;
}

export function RolePicker(props: RolePickerProps) {
  const { roles, error, selected, onSelect, onStart, connecting, joinMuted, onJoinMutedChange } = props;
  const chosen = roles?.find((r) => r.name === selected);
  return (
    <div className="picker">
      <div className="hero">
        <p className="eyebrow">Voice cooking companion</p>
        <h1>Cook something good tonight, hands free.</h1>
        <p className="lede">
          Pick who you'd like to talk to. They'll find a recipe with you, put it on screen, tick off
          ingredients, walk you through the steps and keep your timers.
        </p>
      </div>
      {error !== undefined && (
        <p className="picker-error" role="alert">
          Could not load the guides: {error}
        </p>
      )}
      {roles === undefined && error === undefined && <p className="muted">Loading guides…</p>}
      {roles !== undefined && (
        <div className="role-grid" role="radiogroup" aria-label="Choose a guide">
          {roles.map((role) => (
            <button
              key={role.name}
              role="radio"
              aria-checked={role.name === selected}
              className={`role-card ${role.name === selected ? "selected" : ""}`}
              style={{ "--card-accent": accentFor(role.name) } as CSSProperties}
              onClick={() => onSelect(role.name)}
              data-testid={`role-${role.name}`}
            >
              <span className="avatar avatar-lg" aria-hidden="true">
                {initials(role.title)}
              </span>
              <span className="role-title">{role.title}</span>
              <span className="role-description">{role.description}</span>
            </button>
          ))}
        </div>
      )}
      <div className="picker-actions">
        <button
          className="button button-primary button-lg"
          disabled={chosen === undefined || connecting}
          onClick={onStart}
          data-testid="connect"
        >
          {connecting ? "Connecting…" : chosen ? `Start talking with the ${chosen.title}` : "Start"}
        </button>
        <label className="muted small join-muted">
          <input
            type="checkbox"
            checked={joinMuted}
            onChange={(e) => onJoinMutedChange(e.target.checked)}
            data-testid="join-muted"
          />
          Join with my microphone off (type, or unmute later)
        </label>
      </div>
    </div>
  );
}
