/**
 * WebSocketRelay: one object per client WebSocket connection (docs/websocket.md). The client's
 * socket is accepted with the hibernation API (`ctx.acceptWebSocket`), so a connection that
 * only sends requests now and then costs nothing between them: the object is evicted and wakes
 * for the next frame, its connection details kept in the socket's attachment. While the
 * connection holds subscriptions, the object keeps a socket to a host of the session and stays
 * awake. What a frame does is `workers/ws/connection.ts`.
 */
import { DurableObject } from "cloudflare:workers";
import { gatewayConfig } from "../workers/config.js";
import { reportAllReceipts } from "../workers/relay/session-lease.js";
import type { ConnectionInfo } from "../workers/ws/connect.js";
import { CONNECTION_HEADER, readConnectionInfo } from "../workers/ws/connect.js";
import { type LagCheck, WebSocketConnection } from "../workers/ws/connection.js";

export class WebSocketRelay extends DurableObject<Env> {
  private connection: WebSocketConnection | null = null;

  /** The upgrade, from the Worker after it authenticated the key (the connection's details in a header). */
  override async fetch(request: Request): Promise<Response> {
    const info = readConnectionInfo(request.headers.get(CONNECTION_HEADER));
    if (!info || request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade from the gateway", { status: 400 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment(info);
    this.connection = this.connectionOf(server, info);
    return new Response(null, { status: 101, webSocket: client, headers: { "x-conductor-connection": info.connectionId } });
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.connectionFor(socket).receive(message);
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    this.connection?.shutdown();
    this.connection = null;
    try {
      socket.close(code === 1005 ? 1000 : code, reason);
    } catch {} // already closed
  }

  override async webSocketError(): Promise<void> {
    this.connection?.shutdown();
    this.connection = null;
  }

  /** Where the connection's subscriptions are served from (for tests and operators). */
  status(): ReturnType<WebSocketConnection["status"]> | null {
    return this.connection?.status() ?? null;
  }

  /** Runs a lag check now (the `WS_LAG_CHECK_MS` timer's step; a deterministic trigger for tests). */
  async checkLag(): Promise<LagCheck | null> {
    return this.connection ? this.connection.lagCheck() : null;
  }

  /** Waits for the connection's queued work, then reports this isolate's receipts to their sessions now. */
  async flushReceipts(): Promise<void> {
    await this.connection?.settled();
    await reportAllReceipts(this.env, Date.now(), { giveBackLease: false });
  }

  private connectionFor(socket: WebSocket): WebSocketConnection {
    // After hibernation the object is new: the connection is rebuilt from the socket's attachment.
    this.connection ??= this.connectionOf(socket, socket.deserializeAttachment() as ConnectionInfo);
    return this.connection;
  }

  private connectionOf(socket: WebSocket, info: ConnectionInfo): WebSocketConnection {
    return new WebSocketConnection(
      this.env,
      gatewayConfig(this.env),
      info,
      (frame) => socket.send(frame),
      (work) => this.ctx.waitUntil(work),
    );
  }
}
