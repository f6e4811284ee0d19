/**
 * The relay hot path (docs/protocol.md): `/v1/{service}[/...]` with a bearer key, or
 * `/k/{key}/v1/{service}[/...]` for clients that only take a URL (wallets, viem's `http(url)`).
 *
 * Order of work: service and key (cached per isolate), body (capped), parse, method policy and
 * price, admit against this isolate's lease of the session (`workers/relay/session-lease.ts`: no
 * call to the session's object per relay), forward with failover, record the receipt (reported to
 * the object in batches).
 */
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { Hono, type Context as HonoContext } from "hono";
import { sha256Hex } from "../../protocol/hex.js";
import { computeUnitsFor, type JsonRpcCall, parseJsonRpc, refusedMethods } from "../../protocol/jsonrpc.js";
import { type TrafficShape, trafficShapeOf } from "../../protocol/probe-shapes.js";
import {
  chargedComputeUnits,
  meteredTokens,
  type TokenBound,
  TokenMeter,
  tokenReservation,
} from "../../protocol/token-metering.js";
import type { AppEnv } from "../app-env.js";
import { authenticateKey, bearerToken } from "../auth.js";
import { type GatewayConfig, gatewayConfig } from "../config.js";
import { type Database, database } from "../db/database.js";
import type { Service } from "../db/services.js";
import { type ApiError, apiError, quotaExhausted, sessionBusy } from "../errors.js";
import { readBodyCapped, UTF8 } from "../http/body.js";
import { answerableError, CORS_ANSWER_HEADERS, errorAnswer } from "../http/error-response.js";
import { relayRequirements } from "../market/requirements.js";
import type { AttemptFailure } from "../relay/attempts.js";
import { callerLocation } from "../relay/caller-location.js";
import { type EngineResult, engineObservations } from "../relay/engine.js";
import { relayHttp as engineHttp, relayJsonRpc as engineJsonRpc } from "../relay/engine-relay.js";
import { recordQuorumMinority } from "../relay/engine-samples.js";
import { isEventStream, observeStream } from "../relay/observed-stream.js";
import { engineHeaders, relayedResponseHeaders } from "../relay/response-headers.js";
import { cachedService } from "../relay/service-cache.js";
import { type Admission, admitRelay, completeRelay } from "../relay/session-lease.js";
import type { ReportedReceipt } from "../sessions/session-messages.js";
import { sessionForRequest } from "../sessions/session-stub.js";
import { connectWebSocket, isWebSocketUpgrade } from "../ws/connect.js";
import { RESERVED_SERVICE_IDS } from "./services.js";

/** The part of the Worker's execution context a relay uses. */
interface WaitUntil {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * What a relay reads of its request, in the shape of the part of Hono's context it uses. The
 * relay path builds it itself (`serveRelay`): Hono's routing, middleware and context cost about a
 * tenth of a relay's CPU, and a relay needs none of them.
 */
interface RelayContext {
  env: Env;
  executionCtx: WaitUntil;
  var: { config: GatewayConfig; db: Database };
  req: {
    raw: Request;
    method: string;
    url: string;
    header(name: string): string | undefined;
    /** The key when it came in the URL (`/k/{key}/...`). */
    param(name: "key"): string | undefined;
  };
  /** Set on JSON-RPC relays so errors are answered as JSON-RPC error objects. */
  set(name: "jsonRpcId", id: JsonRpcCall["id"]): void;
}
type Admitted = Extract<Admission, { ok: true }>;
type AttemptsFailed = Extract<EngineResult<unknown>, { ok: false }>;

function admissionError(result: Exclude<Admission, { ok: true }>): ApiError {
  if (result.reason === "quota_exhausted") return quotaExhausted(result.retryAfterSeconds);
  if (result.reason === "busy") return sessionBusy(result.retryAfterSeconds);
  if (result.reason === "no_hosts" && result.excludedBy) {
    const header = REQUIREMENT_HEADERS[result.excludedBy];
    return apiError(
      "requirements_unsatisfiable",
      `No host of this service meets the requirement "${result.excludedBy}" (${header}, or the key's standing requirements) together with the ones before it; relax it`,
      { "X-Conductor-Excluded-By": result.excludedBy },
    );
  }
  if (result.reason === "too_many_requirement_sets") return apiError("too_many_requirement_sets");
  if (result.reason === "no_hosts") return apiError("no_host_available", "No host serves this service in the current session");
  return apiError("session_closed");
}

const REQUIREMENT_HEADERS = {
  regions: "X-Conductor-Region",
  model: "X-Conductor-Model",
  minScore: "X-Conductor-Min-Score",
  maxPrice: "X-Conductor-Max-Price",
} as const;

function relayHeaders(
  sessionId: string,
  relayIndex: number,
  hostId: string | null,
  result: EngineResult<unknown>,
): Record<string, string> {
  return {
    "x-conductor-session": sessionId,
    "x-conductor-relay": String(relayIndex),
    "x-conductor-host": hostId ?? "none",
    "x-conductor-attempts": String(result.attempts),
    ...engineHeaders(result.engine),
    ...CORS_ANSWER_HEADERS,
  };
}

function describeFailures(failures: AttemptFailure[]): string {
  if (failures.length === 0) return "the relay deadline passed before any host was tried";
  return failures.map((f) => `${f.hostId}: ${f.reason}${f.status ? ` ${f.status}` : ""}`).join("; ");
}

async function relay(c: RelayContext, serviceId: string, key: string | null, subpath: string): Promise<Response> {
  const started = Date.now();
  const config = c.var.config;
  const db = c.var.db;
  const service = await cachedService(db, serviceId, started);
  if (!service) throw apiError("unknown_service", `No service "${serviceId}"; GET /v1/services lists them`);
  if (isWebSocketUpgrade(c.req.raw)) return relayWebSocket(c, service, key, subpath);
  if (service.kind === "jsonrpc") {
    c.set("jsonRpcId", null);
    if (subpath !== "" && subpath !== "/") throw apiError("not_found", "JSON-RPC services take POST at the service root");
    if (c.req.method !== "POST") throw apiError("method_not_allowed", undefined, { Allow: "POST" });
  }
  const holder = await authenticateKey(db, key, { scope: "relay", inUrl: c.req.param("key") !== undefined });
  const { requestor } = holder;
  const wanted = relayRequirements(holder.requirements, c.req.raw.headers);
  const body = await readBodyCapped(c.req.raw, config.maxRequestBytes);
  const session = sessionForRequest(
    config,
    requestor.id,
    serviceId,
    started,
    c.req.header("x-conductor-session"),
    wanted.canonical,
  );
  const admit = (computeUnits: number) =>
    admitRelay(
      c.env,
      config,
      session,
      requestor.stake,
      computeUnits,
      () => callerLocation(c.req.raw, config.devMode),
      started,
      (work) => c.executionCtx.waitUntil(work),
      wanted.priority,
    );
  return service.kind === "jsonrpc"
    ? relayJsonRpc(c, config, { service, body, admit, started })
    : relayHttp(c, config, { service, body, admit, started, subpath });
}

/** A WebSocket upgrade: authenticated here, then served by a `WebSocketRelay` object of its own (workers/ws/). */
async function relayWebSocket(c: RelayContext, service: Service, key: string | null, subpath: string): Promise<Response> {
  if (service.kind !== "jsonrpc" || (subpath !== "" && subpath !== "/")) {
    throw apiError("websocket_only", "WebSocket relays are for JSON-RPC services, at the service root");
  }
  c.set("jsonRpcId", null);
  const { requestor } = await authenticateKey(c.var.db, key, { scope: "relay", inUrl: c.req.param("key") !== undefined });
  return connectWebSocket(c.env, {
    requestorId: requestor.id,
    serviceId: service.id,
    stake: requestor.stake.toString(),
    location: callerLocation(c.req.raw, c.var.config.devMode),
  });
}

interface RelayParts {
  service: Service;
  body: Uint8Array<ArrayBuffer>;
  admit: (computeUnits: number) => Promise<Admission>;
  started: number;
}

/**
 * Records the relay's receipt in this isolate (reported to the session's object within
 * `RECEIPT_REPORT_MS`; the request that schedules a report keeps it alive with `waitUntil`);
 * latency and completion time are taken now.
 */
function completeReceipt(
  c: RelayContext,
  { started }: RelayParts,
  admitted: Admitted,
  requestDigest: string,
  result: EngineResult<unknown>,
  fields: Pick<ReportedReceipt, "hostId" | "responseDigest" | "status" | "outcome"> &
    Partial<Pick<ReportedReceipt, "computeUnits" | "promptTokens" | "completionTokens">>,
  shapes: readonly TrafficShape[] = [],
): void {
  const now = Date.now();
  const receipt: ReportedReceipt = {
    relayIndex: admitted.relayIndex,
    requestDigest,
    latencyMs: now - started,
    computeUnits: admitted.computeUnits,
    attempts: result.attempts,
    createdAt: started,
    completedAt: now,
    ...fields,
  };
  const reporting = completeRelay(c.env, admitted, receipt, engineObservations(result), now, shapes);
  if (reporting) c.executionCtx.waitUntil(reporting);
}

/** Every attempted host failed: the receipt says so (returning the quota) and the caller gets 503. */
function allHostsFailed(
  c: RelayContext,
  parts: RelayParts,
  admitted: Admitted,
  requestDigest: string,
  result: AttemptsFailed,
  tokens: Partial<Pick<ReportedReceipt, "promptTokens" | "completionTokens">> = {},
): never {
  const error =
    result.quorumFailure === "disagreement"
      ? apiError("quorum_disagreement", `The hosts asked disagree and no majority formed (${result.attempts} asked)`)
      : result.quorumFailure === "too_few"
        ? apiError(
            "quorum_unavailable",
            `Too few hosts answered to form a majority of ${result.engine.quorum?.size}: ${describeFailures(result.failures)}`,
          )
        : apiError("no_host_available", `No host of this session answered: ${describeFailures(result.failures)}`);
  const hostId = result.lastHost?.id ?? null;
  completeReceipt(c, parts, admitted, requestDigest, result, {
    hostId,
    responseDigest: sha256Hex(error.message),
    status: error.status,
    outcome: "failed",
    ...tokens,
  });
  const headers = relayHeaders(admitted.sessionId, admitted.relayIndex, hostId, result);
  throw apiError(error.code, error.message, headers);
}

async function relayJsonRpc(c: RelayContext, config: GatewayConfig, parts: RelayParts): Promise<Response> {
  const { service, body, admit, started } = parts;
  const parsed = parseJsonRpc(UTF8.decode(body));
  if (!parsed.ok) {
    throw apiError(parsed.code === -32700 ? "malformed_json" : "invalid_request", parsed.message);
  }
  if (!parsed.batch) c.set("jsonRpcId", parsed.calls[0].id ?? null);
  const refused = refusedMethods(parsed.calls, service.allowedMethods);
  if (parsed.calls.some((call) => call.method === "eth_subscribe" || call.method === "eth_unsubscribe")) {
    throw apiError("websocket_only", "eth_subscribe and eth_unsubscribe need a WebSocket: connect to wss://…/v1/{service}");
  }
  if (refused.length) {
    throw apiError(
      "rpc_method_not_allowed",
      `This service does not relay ${refused.join(", ")}: admin, debugging, node-account and state-changing methods are refused unless the service's allow list names them`,
    );
  }
  const requestDigest = sha256Hex(body);
  const admitted = await admit(computeUnitsFor(parsed.calls, service.computeUnits));
  if (!admitted.ok) throw admissionError(admitted);

  const result = await engineJsonRpc(config, service.id, service.relayPolicy, admitted.candidates, started, {
    body,
    calls: parsed.calls,
    batch: parsed.batch,
    maxResponseBytes: config.maxResponseBytes,
    expectedChainId: service.chainId,
  });
  // Hosts whose answer differed from a quorum's majority: a correctness sample against each.
  const minority = recordQuorumMinority(c.env, admitted.sessionId, parsed.calls[0], result, Date.now());
  if (minority) c.executionCtx.waitUntil(minority);
  if (!result.ok) return allHostsFailed(c, parts, admitted, requestDigest, result);
  const headers = relayHeaders(admitted.sessionId, admitted.relayIndex, result.host.id, result);
  completeReceipt(
    c,
    parts,
    admitted,
    requestDigest,
    result,
    {
      hostId: result.host.id,
      responseDigest: sha256Hex(result.value.body),
      status: result.value.status,
      outcome: "ok",
    },
    // What the session's callers read, so the fisherman's probes can look the same.
    parsed.calls.map(trafficShapeOf).filter((shape) => shape !== null),
  );
  headers["content-type"] = "application/json";
  return new Response(result.value.body, { status: result.value.status, headers });
}

async function relayHttp(c: RelayContext, config: GatewayConfig, parts: RelayParts & { subpath: string }): Promise<Response> {
  const { body, admit, service, subpath, started } = parts;
  const method = c.req.method;
  const hasBody = method !== "GET" && method !== "HEAD";
  const search = new URL(c.req.url).search;
  const requestDigest = sha256Hex(`${method} ${subpath}${search}\n${UTF8.decode(body)}`);
  // A token-metered service reserves its relay's token bound now and charges its tokens at the end.
  const metering = service.tokensPerComputeUnit > 0 ? reserveTokens(config, service, body) : null;
  const admitted = await admit(metering?.computeUnits ?? service.computeUnits.default);
  if (!admitted.ok) throw admissionError(admitted);
  const settle = (meter: TokenMeter | null, charged: boolean) => {
    if (!metering) return {};
    if (!meter || !charged) return { promptTokens: 0, completionTokens: 0 };
    const tokens = meteredTokens(meter.finish(), metering.bound);
    return {
      promptTokens: tokens.promptTokens,
      completionTokens: tokens.completionTokens,
      computeUnits: chargedComputeUnits(tokens, service.tokensPerComputeUnit, admitted.computeUnits),
    };
  };

  const result = await engineHttp(config, service.id, service.relayPolicy, admitted.candidates, started, {
    method,
    subpath,
    search,
    headers: c.req.raw.headers,
    body: hasBody ? body : null,
  });
  if (!result.ok) return allHostsFailed(c, parts, admitted, requestDigest, result, settle(null, false));

  const upstream = result.value;
  const sse = isEventStream(upstream.headers.get("content-type"));
  const meter = metering ? new TokenMeter(sse) : null;
  const headers = relayedResponseHeaders(
    upstream.headers,
    relayHeaders(admitted.sessionId, admitted.relayIndex, result.host.id, result),
  );
  if (!upstream.body) {
    completeReceipt(c, parts, admitted, requestDigest, result, {
      hostId: result.host.id,
      responseDigest: sha256Hex(""),
      status: upstream.status,
      outcome: "ok",
      ...settle(meter, true),
    });
    return new Response(null, { status: upstream.status, headers });
  }
  const observed = observeStream(upstream.body, {
    sse,
    idleTimeoutMs: config.streamIdleTimeoutMs,
    maxDurationMs: config.streamMaxMs,
    onChunk: meter ? (chunk) => meter.push(chunk) : undefined,
    onEnd: async (end) => {
      // A caller that hangs up after data flowed was served: charged, and the host credited.
      const outcome = end.ok ? "ok" : end.error === "caller_cancelled" && end.bytes > 0 ? "cancelled" : "failed";
      completeReceipt(c, parts, admitted, requestDigest, result, {
        hostId: result.host.id,
        responseDigest: end.responseDigest,
        status: outcome === "failed" ? 502 : upstream.status,
        outcome,
        ...settle(meter, outcome !== "failed"),
      });
    },
  });
  // Covers a caller that hangs up mid-stream: the receipt is still completed.
  c.executionCtx.waitUntil(observed.ended);
  return new Response(observed.stream, { status: upstream.status, headers });
}

/**
 * A token-metered relay's bound and the compute units reserved for it (docs/market.md, "Token
 * metering"); a `max_tokens` that is not a positive integer is refused before anything is reserved.
 */
function reserveTokens(config: GatewayConfig, service: Service, body: Uint8Array): { bound: TokenBound; computeUnits: number } {
  const reservation = tokenReservation(body, service.tokensPerComputeUnit, config.inferenceDefaultMaxTokens);
  if (!reservation.ok) {
    throw apiError("invalid_max_tokens", `${reservation.field} must be a positive integer (at most 2147483647)`);
  }
  return reservation;
}

/** A relay's place in the URL: `/v1/{service}[/...]` or `/k/{key}/v1/{service}[/...]`. */
export interface RelayRoute {
  serviceId: string;
  /** The key when it came in the URL. */
  urlKey: string | null;
  /** The path after `/v1/{service}` (`/chat/completions`), as sent. */
  subpath: string;
}

const decodedSegment = (segment: string): string | null => {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
};

/**
 * The relay a request URL names, or null when it names something else (a resource under
 * `/v1/<reserved name>`, a document, a malformed segment): those go to the Hono app.
 */
export function relayRouteOf(url: string): RelayRoute | null {
  const pathStart = url.indexOf("/", url.indexOf("://") + 3);
  if (pathStart < 0) return null;
  const query = url.indexOf("?", pathStart);
  let path = query < 0 ? url.slice(pathStart) : url.slice(pathStart, query);
  let urlKey: string | null = null;
  if (path.startsWith("/k/")) {
    const slash = path.indexOf("/", 3);
    if (slash < 0) return null;
    urlKey = decodedSegment(path.slice(3, slash));
    if (!urlKey) return null;
    path = path.slice(slash);
  }
  if (!path.startsWith("/v1/")) return null;
  const slash = path.indexOf("/", 4);
  const serviceId = decodedSegment(slash < 0 ? path.slice(4) : path.slice(4, slash));
  if (!serviceId || (urlKey === null && RESERVED_SERVICE_IDS.has(serviceId))) return null;
  return { serviceId, urlKey, subpath: slash < 0 ? "" : path.slice(slash) };
}

/**
 * Serves a relay without Hono (workers/index.ts sends every relay URL here; the Hono routes below
 * do the same for requests that reach the app): errors are answered in the app's one error shape,
 * and every answer carries the app's CORS headers.
 */
export async function serveRelay(request: Request, env: Env, executionCtx: WaitUntil, route: RelayRoute): Promise<Response> {
  let rpcId: JsonRpcCall["id"] | undefined;
  const c: RelayContext = {
    env,
    executionCtx,
    var: { config: gatewayConfig(env), db: database(env) },
    req: {
      raw: request,
      method: request.method,
      url: request.url,
      header: (name) => request.headers.get(name) ?? undefined,
      param: () => route.urlKey ?? undefined,
    },
    set: (_name, id) => {
      rpcId = id;
    },
  };
  try {
    const key = route.urlKey ?? bearerToken(request.headers.get("authorization") ?? undefined);
    return await relay(c, route.serviceId, key, route.subpath);
  } catch (thrown) {
    return errorAnswer(answerableError(thrown, request.method, new URL(request.url).pathname), rpcId, true);
  }
}

const servedByHono = (c: HonoContext<AppEnv>) => {
  const route = relayRouteOf(c.req.url);
  if (!route) throw apiError("not_found", "Not a relay URL");
  return serveRelay(c.req.raw, c.env, c.executionCtx, route);
};

export const relayApp = new Hono<AppEnv>()
  .all("/v1/:service", servedByHono)
  .all("/v1/:service/*", servedByHono)
  .all("/k/:key/v1/:service", servedByHono)
  .all("/k/:key/v1/:service/*", servedByHono);

/** The relay routes as the OpenAPI document shows them (registered, never validated: the body goes to hosts as it came). */
export function registerRelayPaths(registry: OpenAPIHono["openAPIRegistry"]): void {
  const service = z.string().openapi({ param: { name: "service", in: "path" }, example: "eth-mainnet" });
  const key = z.string().openapi({ param: { name: "key", in: "path" }, description: "A key with the relay scope" });
  const path = z.string().openapi({
    param: { name: "path", in: "path" },
    description: "The rest of the path, slashes included (`chat/completions`)",
  });
  const jsonRpc = z.union([z.object({}).passthrough(), z.array(z.object({}).passthrough())]).openapi("JsonRpcRequest", {
    description: "A JSON-RPC 2.0 call or batch, forwarded as sent",
  });
  const answered = {
    200: {
      description:
        "The host's answer, with `X-Conductor-Session`, `X-Conductor-Relay`, `X-Conductor-Host`, `X-Conductor-Attempts`, and what the relay engine did: `X-Conductor-Failovers` (failed attempts before the answer), `X-Conductor-Hedged` (`first` or `hedge`, when a hedge was sent: whose answer this is), `X-Conductor-Quorum` (`agreed/asked`, for a quorum read). The service's `relayPolicy` (GET /v1/services/{id}) says what the engine may do",
      headers: z.object({
        "X-Conductor-Session": z.string().openapi({ description: "The session's id" }),
        "X-Conductor-Relay": z.string().openapi({ description: "The relay's index in the session" }),
        "X-Conductor-Host": z.string().openapi({ description: "The host whose answer this is" }),
        "X-Conductor-Attempts": z.string().openapi({ description: "Attempts started (hedges and quorum members included)" }),
        "X-Conductor-Failovers": z.string().openapi({ description: "Attempts that failed before the answer" }),
        "X-Conductor-Hedged": z.enum(["first", "hedge"]).optional().openapi({
          description: "Sent when a hedge was sent: `first` when the first host's answer won, `hedge` when the hedge's did",
        }),
        "X-Conductor-Quorum": z
          .string()
          .optional()
          .openapi({ description: "For a quorum read: hosts that agreed / hosts asked, e.g. `2/3`" }),
      }),
      content: { "application/json": { schema: z.unknown() }, "text/event-stream": { schema: z.string() } },
    },
    default: {
      description: "An error: `{error}` on HTTP services, a JSON-RPC error object on JSON-RPC services (docs/errors.md)",
      content: { "application/json": { schema: z.object({}).passthrough() } },
    },
  };
  const bearer = [{ bearer: [] }];
  for (const prefix of ["", "/k/{key}"]) {
    const params = prefix ? { key, service } : { service };
    const security = prefix ? [] : bearer;
    const tags = ["relay"];
    registry.registerPath({
      method: "post",
      path: `${prefix}/v1/{service}`,
      tags,
      security,
      summary: "Relay a JSON-RPC call or batch (JSON-RPC services), or a request to an HTTP service's root",
      request: { params: z.object(params), body: { content: { "application/json": { schema: jsonRpc } } } },
      responses: answered,
    });
    registry.registerPath({
      method: "get",
      path: `${prefix}/v1/{service}`,
      tags,
      security,
      summary:
        "Relay to an HTTP service's root; with `Upgrade: websocket`, open a WebSocket relay to a JSON-RPC service (without it, JSON-RPC services answer 405)",
      description:
        "A WebSocket relay (docs/websocket.md) carries JSON-RPC calls and batches and `eth_subscribe` / `eth_unsubscribe` for `newHeads`, `logs` and `newPendingTransactions`. Every call, subscription and notification is a relay with a receipt; notifications are priced at the service's `eth_subscription` compute units; subscriptions move to another host of the session when theirs drops or falls behind, without duplicates or gaps.",
      request: {
        params: z.object(params),
        headers: z.object({
          upgrade: z.literal("websocket").optional().openapi({ description: "`websocket` opens a WebSocket relay" }),
        }),
      },
      responses: {
        101: {
          description:
            "Switching Protocols: the WebSocket relay is open; `X-Conductor-Connection` names its connection. Frames are JSON-RPC text, at most `WS_MAX_FRAME_BYTES`",
          headers: z.object({ "x-conductor-connection": z.string().uuid() }),
        },
        ...answered,
      },
    });
    for (const method of ["get", "post", "put", "patch", "delete"] as const) {
      registry.registerPath({
        method,
        path: `${prefix}/v1/{service}/{path}`,
        tags,
        security,
        summary: "Relay to an HTTP service (the OpenAPI path shape: `chat/completions`, `models`); SSE streamed",
        description:
          "On a service with `tokensPerComputeUnit > 0` the relay is charged by tokens (docs/market.md, \"Token metering\"): the body's bytes plus `max_completion_tokens` / `max_tokens` (else `INFERENCE_DEFAULT_MAX_TOKENS`) are reserved before a host is asked (429 `quota_exhausted` when they do not fit; 400 `invalid_max_tokens`), and the host's `usage`, clamped, or the gateway's count is charged when the answer ends; the receipt records `promptTokens` and `completionTokens`.",
        request: { params: z.object({ ...params, path }) },
        responses: answered,
      });
    }
  }
}
