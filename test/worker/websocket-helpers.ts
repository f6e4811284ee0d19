/** A WebSocket client of the gateway for workerd tests: frames in order, waited for by predicate (no sleeps). */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { gatewayConfig } from "../../workers/config.js";
import type { Receipt } from "../../workers/sessions/session-messages.js";
import { sessionForRequest } from "../../workers/sessions/session-stub.js";
import { BASE, call, type FaultHost, type Location } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: frames are whatever JSON the gateway sends.
export type Frame = any;

export interface TestSocket {
  connectionId: string;
  frames: Frame[];
  send(frame: unknown): void;
  /** Sends a call and resolves with the answer of the same id. */
  request(method: string, params?: unknown[]): Promise<Frame>;
  /** Resolves once `count` frames match `match` (all of them, in arrival order). */
  waitFor(match: (frame: Frame) => boolean, count?: number): Promise<Frame[]>;
  notifications(subscription: string): Frame[];
  close(): void;
  /** The connection's object: where its subscriptions are served from, lag checks, receipts reported. */
  relay: ReturnType<typeof env.WS_RELAY.getByName>;
}

let nextId = 1000;

/** Opens a WebSocket relay to `service` with `key` (bearer, or in the URL), the caller at `from`. */
export async function connect(service: string, key: string, from?: Location, { inUrl = false } = {}): Promise<TestSocket> {
  const path = inUrl ? `/k/${key}/v1/${service}` : `/v1/${service}`;
  const res = await call(path, {
    headers: { upgrade: "websocket", ...(inUrl ? {} : { authorization: `Bearer ${key}` }) },
    cf: from ? { latitude: String(from.latitude), longitude: String(from.longitude) } : undefined,
  });
  const socket = res.webSocket;
  if (!socket) throw new Error(`no upgrade: ${res.status} ${await res.text()}`);
  socket.accept();
  const frames: Frame[] = [];
  const waiters: Array<() => void> = [];
  socket.addEventListener("message", (event) => {
    frames.push(JSON.parse(event.data as string));
    for (const wake of waiters.splice(0)) wake();
  });
  const waitFor = (match: (frame: Frame) => boolean, count = 1) =>
    new Promise<Frame[]>((resolve) => {
      const check = () => {
        const found = frames.filter(match);
        if (found.length >= count) resolve(found);
        else waiters.push(check);
      };
      check();
    });
  const connectionId = res.headers.get("x-conductor-connection") as string;
  return {
    connectionId,
    frames,
    send: (frame) => socket.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    async request(method, params = []) {
      const id = nextId++;
      socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      return (await waitFor((f) => f.id === id))[0];
    },
    waitFor,
    notifications: (subscription) =>
      frames.filter((f) => f.method === "eth_subscription" && f.params.subscription === subscription),
    close: () => socket.close(1000, "done"),
    relay: env.WS_RELAY.getByName(connectionId),
  };
}

/** The session a requestor's relays to `service` go to now. */
export const sessionOf = (requestorId: string, service: string) =>
  sessionForRequest(gatewayConfig(env), requestorId, service, Date.now(), undefined).sessionId;

/** A session's receipts, after the connection's object reported what it holds. */
export async function wsReceipts(socket: TestSocket, sessionId: string): Promise<Receipt[]> {
  await socket.relay.flushReceipts();
  const all: Receipt[] = [];
  for (let after = -1; ; ) {
    const res = await call(`/v1/sessions/${sessionId}/receipts?after=${after}&limit=200`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { receipts: Receipt[]; next: number | null };
    all.push(...page.receipts);
    if (page.next === null) return all;
    after = page.next;
  }
}

/** Adds `blocks` blocks to each fault host's chain (each notifies its subscribers unless stalled). */
export async function mine(hosts: FaultHost[], blocks = 1): Promise<void> {
  for (const host of hosts) {
    const res = await fetch(`${host.url}/__control/mine`, { method: "POST", body: JSON.stringify({ blocks }) });
    await res.text();
  }
}

/** Closes every WebSocket the fault host holds. */
export async function dropSockets(host: FaultHost): Promise<void> {
  await (await fetch(`${host.url}/__control/ws-drop`, { method: "POST", body: "{}" })).text();
}

export { BASE };
