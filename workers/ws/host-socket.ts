/**
 * A WebSocket from the gateway to one host of the session (docs/websocket.md): JSON-RPC calls
 * with their answers, and the host's `eth_subscription` notifications. A host serves WebSocket
 * at its registered endpoint (anvil, geth and reth do, on their HTTP port); the socket is opened
 * by `fetch` with `Upgrade: websocket`, so the endpoint's SSRF rules (checked at registration)
 * hold for it too, and redirects are never followed.
 */
import type { SessionHost } from "../sessions/plan-session.js";

/** What a host's socket tells its owner. */
export interface HostSocketEvents {
  /** A notification of the host's subscription `upstreamId`. */
  notification(from: HostSocket, upstreamId: string, result: unknown): void;
  /** The socket is gone (closed by the host, an error, or a frame that is not JSON-RPC). */
  closed(from: HostSocket, reason: string): void;
}

/** A host answered a call with an error object (not a transport failure). */
export class HostCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "HostCallError";
  }
}

interface Waiting {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Largest frame read from a host; a larger one counts as host trouble and drops the socket. */
const MAX_HOST_FRAME_CHARS = 4 * 1024 * 1024;

export class HostSocket {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private done = false;

  private constructor(
    readonly host: SessionHost,
    private readonly socket: WebSocket,
    private readonly events: HostSocketEvents,
  ) {
    socket.addEventListener("message", (event) => this.onMessage(event.data));
    socket.addEventListener("close", (event) => this.finish(`closed by the host (${event.code})`));
    socket.addEventListener("error", () => this.finish("socket error"));
  }

  /** Opens a socket to `host`; throws when the host does not accept the upgrade. */
  static async open(host: SessionHost, events: HostSocketEvents, signal: AbortSignal): Promise<HostSocket> {
    const response = await fetch(host.endpoint, { headers: { upgrade: "websocket" }, redirect: "manual", signal });
    const socket = response.webSocket;
    if (!socket) {
      await response.body?.cancel();
      throw new Error(`no WebSocket upgrade (HTTP ${response.status})`);
    }
    socket.accept();
    return new HostSocket(host, socket, events);
  }

  get open(): boolean {
    return !this.done;
  }

  /** Calls `method` on the host; rejects on an error answer (`HostCallError`), a timeout or a closed socket. */
  call(method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
    if (this.done) return Promise.reject(new Error("the host's socket is closed"));
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new DOMException(`${method} timed out`, "TimeoutError"));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      try {
        this.socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      } catch (error) {
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Closes the socket without telling the owner (it chose to). */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.rejectAll("the socket was closed");
    try {
      this.socket.close(1000, "moving on");
    } catch {} // already closing
  }

  private finish(reason: string): void {
    if (this.done) return;
    this.done = true;
    this.rejectAll(reason);
    try {
      this.socket.close(1011, "host trouble");
    } catch {}
    this.events.closed(this, reason);
  }

  private rejectAll(reason: string): void {
    for (const waiting of this.waiting.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new Error(reason));
    }
    this.waiting.clear();
  }

  private onMessage(data: unknown): void {
    if (this.done) return;
    if (typeof data !== "string" || data.length > MAX_HOST_FRAME_CHARS) {
      this.finish("a frame that is not JSON-RPC text");
      return;
    }
    let message: {
      id?: unknown;
      result?: unknown;
      error?: { code?: unknown; message?: unknown };
      method?: unknown;
      params?: unknown;
    };
    try {
      message = JSON.parse(data);
    } catch {
      this.finish("a frame that is not JSON");
      return;
    }
    if (typeof message !== "object" || message === null) {
      this.finish("a frame that is not a JSON-RPC message");
      return;
    }
    if (typeof message.id === "number") {
      const waiting = this.waiting.get(message.id);
      if (!waiting) return;
      this.waiting.delete(message.id);
      clearTimeout(waiting.timer);
      if (message.error) {
        const code = typeof message.error.code === "number" ? message.error.code : -32603;
        waiting.reject(new HostCallError(code, String(message.error.message ?? "error")));
      } else waiting.resolve(message.result);
      return;
    }
    const params = message.params as { subscription?: unknown; result?: unknown } | undefined;
    if (message.method === "eth_subscription" && typeof params?.subscription === "string" && params.result !== undefined) {
      this.events.notification(this, params.subscription, params.result);
      return;
    }
    this.finish("a frame that is neither an answer nor a notification");
  }
}
