export interface BannerProps {
  tone: "error" | "warning" | "info";
  title: string;
  message: string;
  action?: { label: string; onClick: () => void; busy?: boolean } | undefined;
  onClose?: () => void;
}

export function Banner({ tone, title, message, action, onClose }: BannerProps) {
  return (
    <div className={`banner banner-${tone}`} role={tone === "error" ? "alert" : "status"} data-testid="banner">
      <span className="banner-icon" aria-hidden="true">
        {tone === "info" ? "i" : "!"}
      </span>
      <div className="banner-text">
        <strong>{title}</strong>
        <span data-testid="banner-message">{message}</span>
      </div>
      {action && (
        <button className="button button-primary" onClick={action.onClick} disabled={action.busy} data-testid="bring-back">
          {action.label}
        </button>
      )}
      {onClose && (
        <button className="icon-button" onClick={onClose} aria-label="Dismiss">
          ×
        </button>
      )}
    </div>
  );
}
