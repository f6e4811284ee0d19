/**
 * The Worker's side of a WebSocket relay (docs/websocket.md): `GET /v1/{service}` (or the
 * key-in-URL form) with `Upgrade: websocket` is authenticated like any relay, then handed to a
 * `WebSocketRelay` object of its own, which accepts the socket.
 */
import type { GeoPoint } from "../../protocol/geo.js";

/** Who is on the other end of a connection, fixed when the Worker accepted the upgrade. */
export interface ConnectionInfo {
  connectionId: string;
  requestorId: string;
  serviceId: string;
  /** The requestor's stake when it connected (decimal), which sets its session quota. */
  stake: string;
  location: GeoPoint | null;
}

/** The header carrying the connection's details from the Worker to its object (never from a client). */
export const CONNECTION_HEADER = "x-conductor-ws-connection";

export function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

export function readConnectionInfo(header: string | null): ConnectionInfo | null {
  if (!header) return null;
  try {
    const info = JSON.parse(header) as ConnectionInfo;
    return typeof info.connectionId === "string" && typeof info.requestorId === "string" ? info : null;
  } catch {
    return null;
  }
}

/**
 * Hands an authenticated upgrade to a new `WebSocketRelay` object. The answer (101) names the
 * connection in `X-Conductor-Connection`: the object's name, for operators and tests.
 */
export function connectWebSocket(env: Env, info: Omit<ConnectionInfo, "connectionId">): Promise<Response> {
  const connectionId = crypto.randomUUID();
  const full: ConnectionInfo = { ...info, connectionId };
  return env.WS_RELAY.getByName(connectionId).fetch("https://websocket-relay/connect", {
    headers: { upgrade: "websocket", [CONNECTION_HEADER]: JSON.stringify(full) },
  });
}
