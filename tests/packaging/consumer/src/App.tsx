// The React hooks, with the Room from `@livekit/components-react`'s RoomContext or passed explicitly.
import { RoomContext } from "@livekit/components-react";
import { useActiveRole, useAgentErrors, useRoleCallTools } from "@rolecall/client/react";
import { Room } from "livekit-client";
import { useMemo, useState } from "react";

import { TOOL_SCHEMAS, type ToolArgs } from "./roles.js";

function Bouquet() {
  const [flowers, setFlowers] = useState<string[]>([]);
  // No `room`: the hooks find it in the RoomContext.
  useRoleCallTools<ToolArgs>(
    { show_bouquet: ({ flowers: picked }) => void setFlowers(picked) },
    { schemas: TOOL_SCHEMAS },
  );
  const role = useActiveRole();
  const { error, reset } = useAgentErrors({ joinTimeoutMs: 20_000 });
  return (
    <section>
      <h1>{role?.title ?? "Florist"}</h1>
      <ul>{flowers.map((flower) => <li key={flower}>{flower}</li>)}</ul>
      {error ? <button onClick={reset}>{error.message}</button> : null}
    </section>
  );
}

export function App() {
  const room = useMemo(() => new Room(), []);
  // @ts-expect-error handlers are typed by ToolArgs: `stems` is a number
  useRoleCallTools<ToolArgs>({ show_bouquet: ({ stems }: { stems: string }) => stems }, { room });
  return (
    <RoomContext.Provider value={room}>
      <Bouquet />
    </RoomContext.Provider>
  );
}
