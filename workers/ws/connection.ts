/**
 * One client's WebSocket relay (docs/websocket.md), run by its `WebSocketRelay` object.
 *
 * - A request frame is a relay like an HTTP one: admitted against the session's lease
 *   (`workers/relay/session-lease.ts`), forwarded over HTTP with the same attempts and failover
 *   (the relay engine, with the service's policy), one receipt.
 * - `eth_subscribe` is a relay too; its subscription lives on a WebSocket to one host of the
 *   session, shared by all of the connection's subscriptions. Every notification delivered is a
 *   relay of its own (the service's `eth_subscription` price), with its receipt; when the quota is
 *   spent the subscriptions end with an error notification.
 * - When the host's socket drops, when it falls `WS_MAX_LAG_BLOCKS` behind another host of the
 *   session, or when the session moves on without it, the subscriptions move to another host;
 *   what the client already has is neither sent again nor skipped (`subscription-trails.ts`).
 *
 * Work that touches subscriptions runs one step at a time (`enqueue`), so notifications keep
 * their order and a move never interleaves with a delivery.
 */

import { sha256Hex } from "../../protocol/hex.js";
import {
  computeUnitsFor,
  computeUnitsOf,
  type JsonRpcCall,
  jsonRpcError,
  parseJsonRpc,
  refusedMethods,
} from "../../protocol/jsonrpc.js";
import { readVar, type VarRecord } from "../../protocol/vars.js";
import { GATEWAY_VARS, type GatewayConfig } from "../config.js";
import { database } from "../db/database.js";
import type { Service } from "../db/services.js";
import { type ApiError, apiError, quotaExhausted, sessionBusy } from "../errors.js";
import { type AttemptsResult, observationsOf, tryHosts } from "../relay/attempts.js";
import { engineObservations } from "../relay/engine.js";
import { relayJsonRpc } from "../relay/engine-relay.js";
import { recordQuorumMinority } from "../relay/engine-samples.js";
import { forwardJsonRpc } from "../relay/jsonrpc-forward.js";
import { cachedService } from "../relay/service-cache.js";
import { type Admission, admitRelay, completeRelay } from "../relay/session-lease.js";
import type { SessionHost } from "../sessions/plan-session.js";
import type { HostObservation, ReportedReceipt } from "../sessions/session-messages.js";
import { sessionForRequest } from "../sessions/session-stub.js";
import type { ConnectionInfo } from "./connect.js";
import { HostCallError, HostSocket, type HostSocketEvents } from "./host-socket.js";
import { HeadTrail, headerOf, headFields, LogTrail, logFields, SeenHashes } from "./subscription-trails.js";

type Admitted = Extract<Admission, { ok: true }>;
type SubscriptionKind = "newHeads" | "logs" | "newPendingTransactions";
const KINDS: ReadonlySet<string> = new Set(["newHeads", "logs", "newPendingTransactions"]);

interface Subscription {
  /** What the client knows it by (the host's own id changes when the subscription moves). */
  id: string;
  kind: SubscriptionKind;
  params: unknown[];
  upstreamId: string | null;
  heads: HeadTrail;
  logs: LogTrail;
  pending: SeenHashes;
}

/** What a lag check found (for tests and logs). */
export interface LagCheck {
  host: string | null;
  hostHead: number;
  peerHead: number;
  moved: boolean;
}

/** The WebSocket relays' own vars (meanings in `GATEWAY_VARS`). */
export interface WsConfig {
  maxFrameBytes: number;
  maxSubscriptions: number;
  lagCheckMs: number;
  maxLagBlocks: number;
  maxBackfillBlocks: number;
}

export function wsConfig(env: Env): WsConfig {
  const vars = env as unknown as VarRecord;
  return {
    maxFrameBytes: readVar(vars, GATEWAY_VARS.wsMaxFrameBytes),
    maxSubscriptions: readVar(vars, GATEWAY_VARS.wsMaxSubscriptions),
    lagCheckMs: readVar(vars, GATEWAY_VARS.wsLagCheckMs),
    maxLagBlocks: readVar(vars, GATEWAY_VARS.wsMaxLagBlocks),
    maxBackfillBlocks: readVar(vars, GATEWAY_VARS.wsMaxBackfillBlocks),
  };
}

const toHex = (n: number) => `0x${n.toString(16)}`;
const utf8 = (text: string) => new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;

function admissionError(result: Exclude<Admission, { ok: true }>): ApiError {
  if (result.reason === "quota_exhausted") return quotaExhausted(result.retryAfterSeconds);
  if (result.reason === "busy") return sessionBusy(result.retryAfterSeconds);
  if (result.reason === "no_hosts") return apiError("no_host_available", "No host serves this service in the current session");
  return apiError("session_closed");
}

const errorFrame = (id: JsonRpcCall["id"], error: ApiError) =>
  JSON.stringify(jsonRpcError(id, error.rpcCode, error.message, { code: error.code }));

function randomSubscriptionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `0x${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export class WebSocketConnection {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly byUpstream = new Map<string, Subscription>();
  private upstream: HostSocket | null = null;
  /** The host's `newHeads` subscription the gateway keeps for itself, to know how far the host is. */
  private watchId: string | null = null;
  private hostHead = -1;
  /** The session's hosts, best first, as the latest admission ranked them. */
  private candidates: SessionHost[] = [];
  /** Attempts of host sockets not yet in a receipt: they go with the next one. */
  private observations: HostObservation[] = [];
  private queue: Promise<void> = Promise.resolve();
  private lagTimer: ReturnType<typeof setInterval> | null = null;
  private closed = false;
  private readonly hostEvents: HostSocketEvents = {
    notification: (from, upstreamId, result) => this.enqueue(() => this.onNotification(from, upstreamId, result)),
    closed: (from, reason) =>
      this.enqueue(async () => {
        if (from === this.upstream) await this.move(`${from.host.id} dropped: ${reason}`);
      }),
  };

  constructor(
    private readonly env: Env,
    private readonly config: GatewayConfig,
    readonly info: ConnectionInfo,
    private readonly send: (frame: string) => void,
    private readonly keepAlive: (work: Promise<unknown>) => void,
    private readonly ws: WsConfig = wsConfig(env),
  ) {}

  /** The host serving the subscriptions, how many there are and how far that host is. */
  status(): { host: string | null; subscriptions: number; hostHead: number } {
    return { host: this.upstream?.host.id ?? null, subscriptions: this.subscriptions.size, hostHead: this.hostHead };
  }

  /** One frame from the client: answered (now or when its relay ends), never left without an answer. */
  async receive(frame: string | ArrayBuffer): Promise<void> {
    if (typeof frame !== "string") {
      return this.sendToClient(errorFrame(null, apiError("invalid_request", "Send JSON-RPC as text frames, not binary")));
    }
    const size = frame.length * 3 <= this.ws.maxFrameBytes ? frame.length : new TextEncoder().encode(frame).byteLength;
    if (size > this.ws.maxFrameBytes) {
      const limit = this.ws.maxFrameBytes;
      return this.sendToClient(
        errorFrame(null, apiError("frame_too_large", `A frame may carry at most ${limit} bytes; this one has ${size}`)),
      );
    }
    const parsed = parseJsonRpc(frame);
    if (!parsed.ok) {
      return this.sendToClient(
        errorFrame(null, apiError(parsed.code === -32700 ? "malformed_json" : "invalid_request", parsed.message)),
      );
    }
    const service = await cachedService(database(this.env), this.info.serviceId, Date.now());
    if (!service) return this.sendToClient(errorFrame(null, apiError("unknown_service", `No service "${this.info.serviceId}"`)));
    const first = parsed.calls[0];
    const id = parsed.batch ? null : (first.id ?? null);
    const special = parsed.calls.some((c) => c.method === "eth_subscribe" || c.method === "eth_unsubscribe");
    if (special && parsed.batch) {
      return this.sendToClient(
        errorFrame(null, apiError("invalid_params", "Send eth_subscribe and eth_unsubscribe on their own, not in a batch")),
      );
    }
    const refused = refusedMethods(parsed.calls, service.allowedMethods);
    if (refused.length) {
      const message = `This service does not relay ${refused.join(", ")}: admin, debugging, node-account and state-changing methods are refused unless the service's allow list names them`;
      return this.sendToClient(errorFrame(id, apiError("rpc_method_not_allowed", message)));
    }
    if (first.method === "eth_subscribe" && !parsed.batch) return this.subscribe(service, first, frame);
    if (first.method === "eth_unsubscribe" && !parsed.batch) return this.unsubscribe(first);
    return this.relayRequest(service, frame, parsed.calls, parsed.batch);
  }

  /** The client went away: nothing more is sent, the host's socket closes. */
  shutdown(): void {
    this.closed = true;
    this.stopLagChecks();
    this.upstream?.close();
    this.upstream = null;
    this.subscriptions.clear();
    this.byUpstream.clear();
  }

  private admit(cost: number): Promise<Admission> {
    const now = Date.now();
    const session = sessionForRequest(this.config, this.info.requestorId, this.info.serviceId, now, undefined);
    return admitRelay(
      this.env,
      this.config,
      session,
      BigInt(this.info.stake),
      cost,
      () => this.info.location,
      now,
      (work) => this.keepAlive(work),
    );
  }

  private receipt(
    admitted: Admitted,
    started: number,
    fields: Pick<ReportedReceipt, "hostId" | "requestDigest" | "responseDigest" | "outcome"> & {
      attempts?: number;
      status?: number;
    },
    observations: HostObservation[] = [],
  ): void {
    const now = Date.now();
    const receipt: ReportedReceipt = {
      relayIndex: admitted.relayIndex,
      latencyMs: now - started,
      computeUnits: admitted.computeUnits,
      createdAt: started,
      completedAt: now,
      status: fields.status ?? (fields.outcome === "ok" ? 200 : 503),
      attempts: fields.attempts ?? 1,
      hostId: fields.hostId,
      requestDigest: fields.requestDigest,
      responseDigest: fields.responseDigest,
      outcome: fields.outcome,
    };
    const held = this.observations.splice(0);
    const reporting = completeRelay(this.env, admitted, receipt, [...held, ...observations], now);
    if (reporting) this.keepAlive(reporting);
  }

  private sendToClient(frame: string): void {
    if (this.closed) return;
    try {
      this.send(frame);
    } catch {
      this.shutdown(); // the client is gone
    }
  }

  /** A request frame (single or batch): a relay over HTTP through the same attempts as `POST /v1/{service}`. */
  private async relayRequest(service: Service, frame: string, calls: JsonRpcCall[], batch: boolean): Promise<void> {
    const started = Date.now();
    const id = batch ? null : (calls[0].id ?? null);
    const admitted = await this.admit(computeUnitsFor(calls, service.computeUnits));
    if (!admitted.ok) return this.sendToClient(errorFrame(id, admissionError(admitted)));
    this.candidates = admitted.candidates;
    const requestDigest = sha256Hex(frame);
    // Through the relay engine with the service's policy, as `POST /v1/{service}` (hedging, quorum reads).
    const result = await relayJsonRpc(this.config, service.id, service.relayPolicy, admitted.candidates, started, {
      body: utf8(frame),
      calls,
      batch,
      maxResponseBytes: this.config.maxResponseBytes,
      expectedChainId: service.chainId,
    });
    const minority = recordQuorumMinority(this.env, admitted.sessionId, calls[0], result, Date.now());
    if (minority) this.keepAlive(minority);
    if (!result.ok) {
      const failures = result.failures.map((f) => `${f.hostId}: ${f.reason}`).join("; ") || "no host was tried";
      const answer = errorFrame(id, apiError("no_host_available", `No host of this session answered: ${failures}`));
      this.receipt(
        admitted,
        started,
        {
          hostId: result.lastHost?.id ?? null,
          requestDigest,
          responseDigest: sha256Hex(answer),
          outcome: "failed",
          attempts: result.attempts,
        },
        engineObservations(result),
      );
      return this.sendToClient(answer);
    }
    this.receipt(
      admitted,
      started,
      {
        hostId: result.host.id,
        requestDigest,
        responseDigest: sha256Hex(result.value.body),
        outcome: "ok",
        attempts: result.attempts,
      },
      engineObservations(result),
    );
    this.sendToClient(result.value.body);
  }

  private enqueue(step: () => Promise<void>): void {
    this.queue = this.queue.then(step).catch((error: unknown) => {
      console.error("websocket relay step failed", this.info.connectionId, String(error));
    });
  }

  /** Runs after every step queued so far (a deterministic point for callers that must wait for the queue). */
  settled(): Promise<void> {
    return this.queue;
  }

  private subscriptionParams(call: JsonRpcCall): { kind: SubscriptionKind; params: unknown[] } | ApiError {
    const params = Array.isArray(call.params) ? call.params : null;
    const kind = params?.[0];
    if (!params || typeof kind !== "string" || !KINDS.has(kind)) {
      return apiError("invalid_params", 'eth_subscribe takes ["newHeads"], ["logs", filter?] or ["newPendingTransactions"]');
    }
    if (
      kind === "logs" &&
      params.length > 1 &&
      (typeof params[1] !== "object" || params[1] === null || Array.isArray(params[1]))
    ) {
      return apiError("invalid_params", "A logs subscription's filter is an object: { address?, topics? }");
    }
    if (params.length > 2) return apiError("invalid_params", "eth_subscribe takes at most two parameters");
    return { kind: kind as SubscriptionKind, params };
  }

  private async subscribe(service: Service, call: JsonRpcCall, frame: string): Promise<void> {
    const id = call.id ?? null;
    const checked = this.subscriptionParams(call);
    if (!("kind" in checked)) return this.sendToClient(errorFrame(id, checked));
    if (this.subscriptions.size >= this.ws.maxSubscriptions) {
      const limit = this.ws.maxSubscriptions;
      return this.sendToClient(
        errorFrame(id, apiError("too_many_subscriptions", `A connection may hold ${limit} subscriptions`)),
      );
    }
    const started = Date.now();
    const admitted = await this.admit(computeUnitsOf("eth_subscribe", service.computeUnits));
    if (!admitted.ok) return this.sendToClient(errorFrame(id, admissionError(admitted)));
    this.candidates = admitted.candidates;
    const requestDigest = sha256Hex(frame);
    this.enqueue(async () => {
      const subscription: Subscription = {
        id: randomSubscriptionId(),
        kind: checked.kind,
        params: checked.params,
        upstreamId: null,
        heads: new HeadTrail(),
        logs: new LogTrail(Number.MAX_SAFE_INTEGER),
        pending: new SeenHashes(),
      };
      let answer: string;
      let hostId: string | null = null;
      let outcome: ReportedReceipt["outcome"] = "ok";
      try {
        const upstream = await this.connectedHost();
        hostId = upstream.host.id;
        subscription.upstreamId = String(await upstream.call("eth_subscribe", subscription.params, this.config.attemptTimeoutMs));
        if (subscription.kind === "logs") subscription.logs.cursor = await this.blockNumberOf(upstream);
        this.subscriptions.set(subscription.id, subscription);
        this.byUpstream.set(subscription.upstreamId, subscription);
        this.startLagChecks();
        answer = JSON.stringify({ jsonrpc: "2.0", id, result: subscription.id });
      } catch (error) {
        if (error instanceof HostCallError) {
          answer = JSON.stringify(jsonRpcError(id, error.code, error.message)); // the host's own answer (a bad filter)
        } else {
          outcome = "failed";
          answer = errorFrame(id, apiError("no_host_available", `No host of this session took the subscription: ${error}`));
        }
      }
      this.receipt(admitted, started, { hostId, requestDigest, responseDigest: sha256Hex(answer), outcome });
      this.sendToClient(answer);
    });
  }

  private unsubscribe(call: JsonRpcCall): void {
    const id = call.id ?? null;
    const subscriptionId = Array.isArray(call.params) ? call.params[0] : undefined;
    if (typeof subscriptionId !== "string") {
      this.sendToClient(errorFrame(id, apiError("invalid_params", "eth_unsubscribe takes [subscriptionId]")));
      return;
    }
    // Not a relay: no host is asked (the gateway holds the subscription), nothing is charged.
    this.enqueue(async () => {
      const subscription = this.subscriptions.get(subscriptionId);
      if (subscription) this.drop(subscription);
      this.sendToClient(JSON.stringify({ jsonrpc: "2.0", id, result: subscription !== undefined }));
    });
  }

  private drop(subscription: Subscription): void {
    this.subscriptions.delete(subscription.id);
    if (subscription.upstreamId) {
      this.byUpstream.delete(subscription.upstreamId);
      this.upstream?.call("eth_unsubscribe", [subscription.upstreamId], this.config.attemptTimeoutMs).catch(() => {});
    }
    if (this.subscriptions.size === 0) {
      this.stopLagChecks();
      this.upstream?.close();
      this.upstream = null;
    }
  }

  private async blockNumberOf(upstream: HostSocket): Promise<number> {
    const result = await upstream.call("eth_blockNumber", [], this.config.attemptTimeoutMs);
    const number = typeof result === "string" ? Number.parseInt(result, 16) : Number.NaN;
    if (!Number.isSafeInteger(number)) throw new Error("eth_blockNumber answered something other than a number");
    return number;
  }

  /** The host socket the subscriptions use, opened (with failover) when there is none. */
  private async connectedHost(): Promise<HostSocket> {
    if (this.upstream?.open) return this.upstream;
    const result = await this.openHostSocket(this.candidates);
    if (!result.ok) throw new Error("every host refused a WebSocket");
    return result.value;
  }

  /**
   * Opens a socket to the first candidate that takes it and subscribes there everything the
   * connection holds (the same attempt loop, timeouts and deadline as HTTP relays).
   */
  private async openHostSocket(candidates: readonly SessionHost[]): Promise<AttemptsResult<HostSocket>> {
    const result = await tryHosts(
      {
        candidates,
        maxAttempts: candidates.length,
        attemptTimeoutMs: this.config.attemptTimeoutMs,
        deadline: Date.now() + this.config.relayDeadlineMs,
      },
      async (host, signal) => {
        const socket = await HostSocket.open(host, this.hostEvents, signal);
        try {
          const timeout = this.config.attemptTimeoutMs;
          const subscribed = new Map<Subscription, string>();
          for (const subscription of this.subscriptions.values()) {
            subscribed.set(subscription, String(await socket.call("eth_subscribe", subscription.params, timeout)));
          }
          const watchId = String(await socket.call("eth_subscribe", ["newHeads"], timeout));
          const head = await this.blockNumberOf(socket);
          this.byUpstream.clear();
          for (const [subscription, upstreamId] of subscribed) {
            subscription.upstreamId = upstreamId;
            this.byUpstream.set(upstreamId, subscription);
          }
          this.watchId = watchId;
          this.hostHead = head;
          this.upstream = socket;
          return { ok: true as const, value: socket };
        } catch {
          socket.close();
          return { ok: false as const, failure: { hostId: host.id, reason: "bad_response" as const, status: undefined } };
        }
      },
    );
    this.observations.push(...observationsOf(result));
    return result;
  }

  /**
   * Moves every subscription to another host (the one named first, else the session's best other
   * than the one being left), then brings each up to date from the new host.
   */
  private async move(reason: string, preferred: SessionHost | null = null): Promise<void> {
    if (this.closed) return;
    const leaving = this.upstream;
    this.upstream = null;
    leaving?.close();
    if (this.subscriptions.size === 0) return;
    const others = this.candidates.filter((h) => h.id !== leaving?.host.id && h.id !== preferred?.id);
    const order = [...(preferred ? [preferred] : []), ...others, ...(leaving ? [leaving.host] : [])];
    console.warn("moving subscriptions", this.info.connectionId, reason);
    const result = await this.openHostSocket(order);
    if (!result.ok) {
      const failures = result.failures.map((f) => `${f.hostId}: ${f.reason}`).join("; ");
      return this.endSubscriptions(
        apiError("no_host_available", `The subscriptions' host was lost and no other took them: ${failures}`),
      );
    }
    for (const subscription of [...this.subscriptions.values()]) {
      if (!this.subscriptions.has(subscription.id)) continue; // ended by the quota meanwhile
      await this.catchUp(subscription, result.value);
    }
  }

  /** After a move: what the client missed while no host served it, and what the new host's chain undoes. */
  private async catchUp(subscription: Subscription, upstream: HostSocket): Promise<void> {
    const timeout = this.config.attemptTimeoutMs;
    if (subscription.kind === "newHeads" && subscription.heads.last) {
      const latest = await upstream.call("eth_getBlockByNumber", ["latest", false], timeout);
      if (latest && typeof latest === "object")
        await this.onHead(subscription, headerOf(latest as Record<string, unknown>), upstream);
    } else if (subscription.kind === "logs") {
      let from = subscription.logs.cursor;
      for (const block of subscription.logs.blocks()) {
        const now = await upstream.call("eth_getBlockByNumber", [toHex(block.number), false], timeout);
        const hash = (now as { hash?: string } | null)?.hash?.toLowerCase();
        if (hash === block.hash) continue;
        from = Math.min(from, block.number);
        for (const removal of subscription.logs.removalsOf(block.hash)) {
          if (!(await this.onLog(subscription, removal, upstream))) return;
        }
      }
      const filter = (subscription.params[1] ?? {}) as Record<string, unknown>;
      const logs = await upstream.call("eth_getLogs", [{ ...filter, fromBlock: toHex(from), toBlock: "latest" }], timeout);
      if (!Array.isArray(logs)) return;
      for (const log of logs) if (!(await this.onLog(subscription, log, upstream))) return;
    }
  }

  private async onNotification(from: HostSocket, upstreamId: string, result: unknown): Promise<void> {
    if (from !== this.upstream) return;
    if (upstreamId === this.watchId) {
      const head = headFields(result);
      if (head) this.hostHead = Math.max(this.hostHead, head.number);
      return;
    }
    const subscription = this.byUpstream.get(upstreamId);
    if (!subscription) return;
    if (subscription.kind === "newHeads") {
      if (typeof result === "object" && result !== null) await this.onHead(subscription, result as Record<string, unknown>, from);
    } else if (subscription.kind === "logs") await this.onLog(subscription, result, from);
    else if (typeof result === "string" || (typeof result === "object" && result !== null)) {
      const hash = typeof result === "string" ? result : String((result as { hash?: unknown }).hash);
      if (subscription.pending.first(hash)) await this.deliver(subscription, result, from.host.id);
    }
  }

  /**
   * A head from the host: dropped when delivered already; else delivered after the blocks that
   * must come before it (a gap after the last delivered head, or the new branch of a reorg),
   * fetched from the same host by number and checked against each child's parent hash.
   */
  private async onHead(subscription: Subscription, header: Record<string, unknown>, from: HostSocket): Promise<void> {
    const head = headFields(header);
    if (!head) return;
    this.hostHead = Math.max(this.hostHead, head.number);
    const trail = subscription.heads;
    if (trail.delivered(head) || !trail.acceptable(head)) return;
    const chain = [{ head, header }];
    for (let missing = trail.missingParent(head); missing; missing = trail.missingParent(chain[0].head)) {
      if (chain.length > this.ws.maxBackfillBlocks) break;
      let block = await from.call("eth_getBlockByNumber", [toHex(missing.number), false], this.config.attemptTimeoutMs);
      if (headFields(block)?.hash !== missing.hash) {
        block = await from.call("eth_getBlockByHash", [missing.hash, false], this.config.attemptTimeoutMs);
      }
      const fields = headFields(block);
      if (!fields || fields.hash !== missing.hash) break;
      chain.unshift({ head: fields, header: headerOf(block as Record<string, unknown>) });
    }
    for (const link of chain) {
      if (trail.delivered(link.head)) continue;
      if (!(await this.deliver(subscription, link.header, from.host.id))) return;
      trail.deliver(link.head);
    }
  }

  /** A log (or a removal): delivered when the client lacks it. Returns false when the subscriptions ended. */
  private async onLog(subscription: Subscription, result: unknown, from: HostSocket): Promise<boolean> {
    const log = logFields(result);
    if (!log || !subscription.logs.accept(log)) return true;
    if (!(await this.deliver(subscription, result, from.host.id))) return false;
    subscription.logs.record(log, result as Record<string, unknown>);
    return true;
  }

  /**
   * Sends one notification as a relay of its own: admitted against the quota at the service's
   * `eth_subscription` price, with its receipt. When it cannot be admitted, every subscription
   * ends with the reason; returns false then.
   */
  private async deliver(subscription: Subscription, result: unknown, hostId: string): Promise<boolean> {
    if (this.closed || !this.subscriptions.has(subscription.id)) return false;
    const started = Date.now();
    const service = await cachedService(database(this.env), this.info.serviceId, started);
    if (!service) {
      await this.endSubscriptions(apiError("unknown_service", `The service "${this.info.serviceId}" no longer exists`));
      return false;
    }
    const admitted = await this.admit(computeUnitsOf("eth_subscription", service.computeUnits));
    if (!admitted.ok) {
      await this.endSubscriptions(admissionError(admitted));
      return false;
    }
    this.candidates = admitted.candidates;
    const frame = JSON.stringify({
      jsonrpc: "2.0",
      method: "eth_subscription",
      params: { subscription: subscription.id, result },
    });
    this.sendToClient(frame);
    const requestDigest = sha256Hex(`eth_subscription ${subscription.id} ${sha256Hex(JSON.stringify(result))}`);
    this.receipt(admitted, started, { hostId, requestDigest, responseDigest: sha256Hex(frame), outcome: "ok" });
    // A new session without this host (the epoch turned): the subscriptions follow the session.
    if (this.upstream && !admitted.candidates.some((h) => h.id === this.upstream?.host.id)) {
      this.enqueue(() => this.move("the session moved on without the host"));
    }
    return true;
  }

  /** Ends every subscription with `error` as a last notification of each; the connection stays open for requests. */
  private async endSubscriptions(error: ApiError): Promise<void> {
    const ended = [...this.subscriptions.values()];
    this.subscriptions.clear();
    this.byUpstream.clear();
    this.stopLagChecks();
    this.upstream?.close();
    this.upstream = null;
    const rpcError = { code: error.rpcCode, message: error.message, data: { code: error.code } };
    for (const subscription of ended) {
      // The error at the top too: viem hands a subscription frame with `error` to the watcher's onError.
      this.sendToClient(
        JSON.stringify({
          jsonrpc: "2.0",
          method: "eth_subscription",
          params: { subscription: subscription.id, error: rpcError },
          error: rpcError,
        }),
      );
    }
  }

  private startLagChecks(): void {
    if (this.lagTimer) return;
    this.lagTimer = setInterval(() => this.enqueue(async () => void (await this.checkLag())), this.ws.lagCheckMs);
  }

  private stopLagChecks(): void {
    if (this.lagTimer) clearInterval(this.lagTimer);
    this.lagTimer = null;
  }

  /** Queues a lag check and answers what it found. */
  lagCheck(): Promise<LagCheck> {
    return new Promise<LagCheck>((resolve) => this.enqueue(async () => resolve(await this.checkLag())));
  }

  /**
   * Compares the subscriptions' host with the session's other hosts (one `eth_blockNumber` each,
   * through the relays' attempts); more than `WS_MAX_LAG_BLOCKS` behind the best of them, the
   * subscriptions move there.
   */
  private async checkLag(): Promise<LagCheck> {
    const upstream = this.upstream;
    const found: LagCheck = { host: upstream?.host.id ?? null, hostHead: this.hostHead, peerHead: -1, moved: false };
    if (!upstream || this.subscriptions.size === 0) return found;
    let best: SessionHost | null = null;
    for (const peer of this.candidates.filter((h) => h.id !== upstream.host.id).slice(0, 2)) {
      const call: JsonRpcCall = { jsonrpc: "2.0", id: 1, method: "eth_blockNumber" };
      const result = await forwardJsonRpc(
        {
          candidates: [peer],
          maxAttempts: 1,
          attemptTimeoutMs: this.config.attemptTimeoutMs,
          deadline: Date.now() + this.config.attemptTimeoutMs,
        },
        { body: utf8(JSON.stringify(call)), calls: [call], batch: false, maxResponseBytes: 4096 },
      );
      if (!result.ok) continue;
      const answer = JSON.parse(result.value.body) as { result?: unknown };
      const head = typeof answer.result === "string" ? Number.parseInt(answer.result, 16) : Number.NaN;
      if (Number.isSafeInteger(head) && head > found.peerHead) {
        found.peerHead = head;
        best = peer;
      }
    }
    if (best && found.peerHead - this.hostHead > this.ws.maxLagBlocks && upstream === this.upstream) {
      await this.move(`${upstream.host.id} is ${found.peerHead - this.hostHead} blocks behind ${best.id}`, best);
      found.moved = this.upstream !== null;
    }
    return found;
  }
}
