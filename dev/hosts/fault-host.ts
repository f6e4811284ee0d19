// A host with fault knobs (docs/protocol.md, "Relays and failover"): serves EVM-style JSON-RPC at `/` and an
// OpenAI-compatible API under `/v1`, and misbehaves on command. Used by the tests and by
// `npm run dev` as the demo inference host.
//
// Control (JSON bodies, from the test or a person):
//   POST /__control        { mode, times?, delayMs?, status?, retryAfter?, chainId?, model?, head?, wrongAnswers? }
//   POST /__control/release  lets a held stream (mode "hold_stream") send its remaining chunks
//   POST /__control/reset    mode "ok" again and the request counters at zero (lasting knobs stay)
//   GET  /__control/stats    { requests, byMode, last, history } (requests as { method, path, headers, body })
// Modes: ok, status (answer `status`), rate_limit (429 + Retry-After), reset (destroy the
// socket), silent (never answer), slow (wait `delayMs`, then answer), slow_some (every `every`-th
// request waits `delayMs`, the others answer at once: a tail), garbage (200, not JSON),
// cut (half a body, then destroy), cut_stream (SSE: two chunks, then destroy), no_done (SSE
// ends without [DONE]), hold_stream (SSE: first chunk, then wait for /__control/release),
// raw (answer `status`, `contentType`, `headers` and the exact `body` given), heartbeat (SSE
// comments every `delayMs`, never an answer), huge (a valid JSON-RPC answer of `size` bytes),
// gzip_bomb (a valid JSON-RPC answer of `size` bytes, gzip-compressed, sent with
// content-encoding: gzip), inflate_usage (chat answers whose `usage` claims 1,000,000 prompt and
// completion tokens: a host trying to be paid more).
// Chat completions report `usage` (prompt: 5 tokens; completion: one token per chunk of the
// answer); a stream does only when asked (`stream_options.include_usage`), in a final chunk with
// no choices, as OpenAI does.
// `times: n` applies the mode to the next n requests, then returns to "ok". Lasting knobs:
// `chainId`, `model`, `head` (the block number it reports; far in the future for a colluder),
// `wrongAnswers` (block hashes of a fork of its own and a different chat answer), `spotProbes`
// (answers well only what looks like the old fisherman's probes: `eth_blockNumber`, `eth_chainId`,
// `eth_getBlockByNumber`, `GET /models`, the old fixed prompt or seed 7, or a request within
// `BURST_MS` of the one before; everything else gets a 503).
//
// WebSocket (docs/websocket.md): the host accepts WebSocket upgrades at `/` and serves the same
// JSON-RPC there, with `eth_subscribe` for newHeads, logs and newPendingTransactions. Its chain
// moves only when told: `POST /__control/mine { blocks? }` adds blocks (each with one log of
// `FAULT_LOG_ADDRESS` and one pending transaction before it) and notifies subscribers.
//   POST /__control/ws-drop   closes every WebSocket (the host dropping its clients)
//   `wsStall: true` (lasting)  the chain moves, but no notification is sent (a host falling behind)
//   `wsRefuse: true` (lasting) upgrades are refused with a 503
import { createHash } from "node:crypto";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo, Socket } from "node:net";
import { gzipSync } from "node:zlib";
import type { WebSocket, WebSocketServer as WebSocketServerType } from "ws";

// `ws` through require: vitest's module runner resolves its ESM entry to the browser stub.
const { WebSocketServer } = createRequire(import.meta.url)("ws") as { WebSocketServer: typeof WebSocketServerType };

/** How a fault host treats the requests it serves (each mode is described at the top of this file). */
export type FaultMode =
  | "ok"
  | "status"
  | "rate_limit"
  | "reset"
  | "silent"
  | "slow"
  | "slow_some"
  | "garbage"
  | "cut"
  | "cut_stream"
  | "no_done"
  | "hold_stream"
  | "raw"
  | "heartbeat"
  | "huge"
  | "gzip_bomb"
  | "inflate_usage";

/** The misbehaviour applied to requests: a mode, for the next `times` requests or until changed, and its parameters. */
interface RequestFault {
  mode: FaultMode;
  times?: number;
  /** For modes "slow" and "slow_some" (the wait) and "heartbeat" (between comments). */
  delayMs?: number;
  /** For mode "slow_some": one request in this many waits `delayMs` (default 20). */
  every?: number;
  /** For modes "status" and "raw". */
  status?: number;
  /** For mode "rate_limit": the Retry-After header, in seconds. */
  retryAfter?: number;
  /** For mode "raw": the exact body, its content type and extra headers. */
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** For modes "huge" and "gzip_bomb": bytes of the (decompressed) body. */
  size?: number;
}

/**
 * Knobs of a fault host, the body of `POST /__control`: a mode (optionally for the next `times`
 * requests) and its parameters, and lasting settings that only change when named. Tests in
 * workerd import it as a type (`test/worker/helpers.ts`).
 */
export interface Fault extends RequestFault {
  chainId?: number;
  model?: string;
  /** The block number the host reports. */
  head?: number;
  /** Wrong block hashes and a different chat answer. */
  wrongAnswers?: boolean;
  /** Serve only requests that look like the old probes well, everything else with a 503. */
  spotProbes?: boolean;
  /** The chain moves but no WebSocket notification is sent (a host falling behind). */
  wsStall?: boolean;
  /** WebSocket upgrades are refused with a 503. */
  wsRefuse?: boolean;
}

/** The contract every mined block of a fault host has one log of (topic `FAULT_LOG_TOPIC`, data = the block number). */
export const FAULT_LOG_ADDRESS = "0x00000000000000000000000000000000c0ffee00";
export const FAULT_LOG_TOPIC = `0x${createHash("sha256").update("Ping(uint256)").digest("hex")}`;

/** Two requests closer than this look like a fisherman's burst to a probe-spotting host. */
export const BURST_MS = 20;
/** The fingerprints of the fisherman before issue 15: its three methods, its prompt and its seed. */
const OLD_PROBE_METHODS = new Set(["eth_blockNumber", "eth_chainId", "eth_getBlockByNumber"]);
const OLD_PROBE_PROMPT = "Reply with one short sentence about relays.";

/** Whether a request looks like one of the old fisherman's probes (see `spotProbes`). */
function looksLikeProbe(method: string | undefined, path: string | undefined, body: string, sinceLastMs: number): boolean {
  if (sinceLastMs < BURST_MS) return true;
  if (method === "GET" && path === "/v1/models") return true;
  try {
    const parsed = JSON.parse(body) as { method?: string; seed?: number; messages?: { content?: string }[] };
    if (typeof parsed.method === "string" && OLD_PROBE_METHODS.has(parsed.method)) return true;
    if (parsed.seed === 7 || parsed.messages?.some((m) => m.content === OLD_PROBE_PROMPT)) return true;
  } catch {
    return false;
  }
  return false;
}

/** How to start a fault host: its name (in its answers), chain id, model and port (default: any free one). */
export interface FaultHostOptions {
  name: string;
  chainId?: number;
  model?: string;
  port?: number;
}

/** A running fault host: where it listens, and `close()`, which releases held streams and drops every connection. */
export interface FaultHostServer {
  name: string;
  port: number;
  url: string;
  close: () => Promise<void>;
}

/** A request as `GET /__control/stats` reports it. */
interface ReceivedRequest {
  method: string | undefined;
  path: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One JSON-RPC call as the host reads it (a test double: it trusts the shape it is sent). */
interface RpcCall {
  id?: string | number | null;
  method?: string;
  params?: unknown[];
}

const CHAT_WORDS = ["Conductor", " relays", " your", " request", " to", " the", " nearest", " host", "."];
const WRONG_WORDS = ["Something", " else", " entirely", "."];
const DEFAULT_HEAD = 64;

/** Every healthy fault host serves the same chain: block hashes depend on the number only. */
const blockHash = (n: number, salt: string) =>
  `0x${createHash("sha256").update(`conductor-fault-chain:${n}${salt}`).digest("hex")}`;

const bombs = new Map<number, Buffer>();
/**
 * A well-formed JSON-RPC answer of `size` bytes (a result of "0x000…"), gzip-compressed to about
 * a thousandth of that; made once per size.
 */
function gzipBomb(size: number): Buffer {
  let bomb = bombs.get(size);
  if (!bomb) {
    const head = '{"jsonrpc":"2.0","id":1,"result":"0x';
    const tail = '"}';
    const zeros = Buffer.alloc(16 * 1024 * 1024, "0");
    const parts = [gzipSync(head)];
    for (let left = size - head.length - tail.length; left > 0; left -= zeros.length) {
      parts.push(gzipSync(zeros.subarray(0, Math.min(left, zeros.length))));
    }
    parts.push(gzipSync(tail));
    bomb = Buffer.concat(parts); // concatenated gzip members decode as one stream
    bombs.set(size, bomb);
  }
  return bomb;
}

/** A well-formed JSON-RPC answer of about `size` bytes, written in 64 KiB chunks. */
function sendHuge(res: http.ServerResponse, size: number): void {
  res.writeHead(200, { "content-type": "application/json" });
  res.write('{"jsonrpc":"2.0","id":1,"result":"');
  const chunk = "a".repeat(64 * 1024);
  let left = size;
  const pump = () => {
    while (left > 0) {
      left -= chunk.length;
      if (!res.write(chunk)) {
        res.once("drain", pump);
        return;
      }
    }
    res.end('"}');
  };
  pump();
}

/**
 * Starts a fault host on 127.0.0.1, serving correctly (mode "ok") until told otherwise through
 * `/__control`.
 *
 * @example
 * const host = await startFaultHost({ name: "inference-paris", model: "conductor-demo-1" });
 * await fetch(`${host.url}/__control`, { method: "POST", body: JSON.stringify({ mode: "slow", delayMs: 2000, times: 1 }) });
 * await host.close();
 */
export async function startFaultHost({
  name,
  chainId = 31337,
  model = "conductor-demo-1",
  port = 0,
}: FaultHostOptions): Promise<FaultHostServer> {
  let fault: RequestFault = { mode: "ok" };
  let requests = 0;
  let head = DEFAULT_HEAD;
  let wrongAnswers = false;
  let spotProbes = false;
  let wsStall = false;
  let wsRefuse = false;
  /** Open WebSockets and their subscriptions (id to kind). */
  const webSockets = new Map<WebSocket, Map<string, string>>();
  let subscriptionCount = 0;
  let lastRequestAt = 0;
  /** Requests seen in mode "slow_some" (every `every`-th one waits). */
  let slowSomeSeen = 0;
  /** Requests served per mode (any string a control request named). */
  const byMode: Record<string, number> = {};
  let last: ReceivedRequest | null = null;
  /** The last 50 requests, oldest first. */
  let history: ReceivedRequest[] = [];
  let releases: Array<() => void> = [];
  const sockets = new Set<Socket>();

  const takeFault = () => {
    const current = fault;
    if (current.times !== undefined) {
      current.times -= 1;
      if (current.times <= 0) fault = { mode: "ok" };
    }
    return current;
  };

  const json = (res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
    const body = JSON.stringify(value);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers });
    res.end(body);
  };

  const salt = () => (wrongAnswers ? "-forked" : "");
  const block = (n: number) => ({
    number: `0x${n.toString(16)}`,
    hash: blockHash(n, salt()),
    parentHash: blockHash(n - 1, wrongAnswers ? salt() : ""),
    transactions: [],
  });
  const logOf = (n: number) => ({
    address: FAULT_LOG_ADDRESS,
    topics: [FAULT_LOG_TOPIC],
    data: `0x${n.toString(16).padStart(64, "0")}`,
    blockNumber: `0x${n.toString(16)}`,
    blockHash: blockHash(n, salt()),
    transactionHash: blockHash(n, "-tx"),
    transactionIndex: "0x0",
    logIndex: "0x0",
    removed: false,
  });
  const blockNumberOf = (tag: unknown) =>
    typeof tag === "string" && tag.startsWith("0x") ? Number.parseInt(tag, 16) : tag === "earliest" ? 0 : head;

  const rpcResult = (call: RpcCall) => {
    switch (call.method) {
      case "eth_chainId":
        return `0x${chainId.toString(16)}`;
      case "net_version":
        return String(chainId);
      case "eth_blockNumber":
        return `0x${head.toString(16)}`;
      case "eth_getBlockByNumber": {
        const n = blockNumberOf(call.params?.[0] ?? "0x0");
        if (n > head) return null;
        return block(n);
      }
      case "eth_getBlockByHash": {
        const wanted = String(call.params?.[0] ?? "");
        for (let n = head; n >= 0; n--) if (blockHash(n, salt()) === wanted) return block(n);
        return null;
      }
      case "eth_getLogs": {
        const filter = (call.params?.[0] ?? {}) as { fromBlock?: unknown; toBlock?: unknown; address?: unknown };
        if (filter.address !== undefined && String(filter.address).toLowerCase() !== FAULT_LOG_ADDRESS) return [];
        const from = Math.max(DEFAULT_HEAD + 1, blockNumberOf(filter.fromBlock ?? "latest"));
        const to = Math.min(head, blockNumberOf(filter.toBlock ?? "latest"));
        const logs = [];
        for (let n = from; n <= to; n++) logs.push(logOf(n));
        return logs;
      }
      case "eth_getBalance":
      case "eth_getTransactionCount":
      case "eth_getCode":
      case "eth_call": {
        // State at a block: the same on every honest host, absent above the head, forked when wrong.
        // A caller may send anything as params (the fuzz suite does): never throw on it.
        const params: unknown[] = Array.isArray(call.params) ? call.params : [];
        const tag = String(params[params.length - 1] ?? "latest");
        const n = tag.startsWith("0x") ? Number.parseInt(tag, 16) : head;
        if (n > head) return null;
        const state = JSON.stringify([call.method, params.slice(0, -1), n, wrongAnswers ? "-forked" : ""]);
        return `0x${createHash("sha256").update(state).digest("hex").slice(0, 16)}`;
      }
      case "web3_clientVersion":
        return `fault-host/${name}`;
      default:
        return null;
    }
  };

  const answerRpc = (res: http.ServerResponse, body: string) => {
    let request: RpcCall | RpcCall[];
    try {
      request = JSON.parse(body);
    } catch {
      return json(res, 400, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
    }
    const answer = (call: RpcCall) => ({ jsonrpc: "2.0", id: call.id ?? null, result: rpcResult(call) });
    return json(res, 200, Array.isArray(request) ? request.map(answer) : answer(request));
  };

  const words = () => (wrongAnswers ? WRONG_WORDS : CHAT_WORDS);
  const sseChunk = (index: number) =>
    `data: ${JSON.stringify({ id: "chatcmpl-demo", object: "chat.completion.chunk", model, choices: [{ index: 0, delta: { content: words()[index] }, finish_reason: null }] })}\n\n`;

  const usageOf = (current: RequestFault) => {
    const [prompt, completion] = current.mode === "inflate_usage" ? [1_000_000, 1_000_000] : [5, words().length];
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  };

  const answerChat = async (res: http.ServerResponse, body: string, current: RequestFault) => {
    let request: { stream?: boolean; stream_options?: { include_usage?: boolean } } = {};
    try {
      request = JSON.parse(body);
    } catch {
      return json(res, 400, { error: { message: "body is not JSON", type: "invalid_request_error" } });
    }
    if (!request.stream) {
      return json(res, 200, {
        id: "chatcmpl-demo",
        object: "chat.completion",
        created: 0,
        model,
        choices: [{ index: 0, message: { role: "assistant", content: words().join("") }, finish_reason: "stop" }],
        usage: usageOf(current),
      });
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.flushHeaders();
    if (current.mode === "hold_stream") {
      res.write(sseChunk(0));
      await new Promise<void>((resolve) => releases.push(resolve));
      for (let i = 1; i < words().length; i++) res.write(sseChunk(i));
      return res.end("data: [DONE]\n\n");
    }
    if (current.mode === "cut_stream") {
      res.write(sseChunk(0));
      res.write(sseChunk(1));
      return setTimeout(() => res.socket?.destroy(), 5);
    }
    for (let i = 0; i < words().length; i++) res.write(sseChunk(i));
    if (request.stream_options?.include_usage) {
      res.write(
        `data: ${JSON.stringify({ id: "chatcmpl-demo", object: "chat.completion.chunk", model, choices: [], usage: usageOf(current) })}\n\n`,
      );
    }
    if (current.mode === "no_done") return res.end();
    return res.end("data: [DONE]\n\n");
  };

  const control = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => {
    if (req.url === "/__control/stats") return json(res, 200, { name, requests, byMode, last, history });
    if (req.url === "/__control/release") {
      const waiting = releases;
      releases = [];
      for (const release of waiting) release();
      return json(res, 200, { released: waiting.length });
    }
    if (req.url === "/__control/mine") {
      const { blocks = 1 } = JSON.parse(body || "{}") as { blocks?: number };
      for (let i = 0; i < blocks; i++) {
        notify("newPendingTransactions", blockHash(head + 1, "-tx"));
        head += 1;
        notify("newHeads", block(head));
        notify("logs", logOf(head));
      }
      return json(res, 200, { head });
    }
    if (req.url === "/__control/ws-drop") {
      const dropped = webSockets.size;
      for (const ws of webSockets.keys()) ws.terminate();
      return json(res, 200, { dropped });
    }
    if (req.url === "/__control/reset") {
      fault = { mode: "ok" };
      requests = 0;
      for (const key of Object.keys(byMode)) delete byMode[key];
      return json(res, 200, { ok: true });
    }
    const next: Partial<Fault> = JSON.parse(body || "{}");
    if (next.chainId !== undefined) chainId = next.chainId;
    if (next.model !== undefined) model = next.model;
    if (next.head !== undefined) head = next.head;
    if (next.wrongAnswers !== undefined) wrongAnswers = next.wrongAnswers;
    if (next.spotProbes !== undefined) spotProbes = next.spotProbes;
    if (next.wsStall !== undefined) wsStall = next.wsStall;
    if (next.wsRefuse !== undefined) wsRefuse = next.wsRefuse;
    fault = {
      mode: next.mode ?? "ok",
      times: next.times,
      delayMs: next.delayMs,
      status: next.status,
      retryAfter: next.retryAfter,
      body: next.body,
      contentType: next.contentType,
      headers: next.headers,
      size: next.size,
      every: next.every,
    };
    return json(res, 200, { ok: true, fault });
  };

  function notify(kind: string, result: unknown): void {
    if (wsStall) return;
    for (const [ws, subscriptions] of webSockets) {
      for (const [id, subscribed] of subscriptions) {
        if (subscribed === kind)
          ws.send(JSON.stringify({ jsonrpc: "2.0", method: "eth_subscription", params: { subscription: id, result } }));
      }
    }
  }

  const answerSocket = (ws: WebSocket, subscriptions: Map<string, string>, data: string) => {
    let call: RpcCall;
    try {
      call = JSON.parse(data);
    } catch {
      return ws.send(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } }));
    }
    requests += 1;
    last = { method: "WS", path: "/", headers: {}, body: data };
    history = [...history.slice(-49), last];
    const answer = (result: unknown) => ws.send(JSON.stringify({ jsonrpc: "2.0", id: call.id ?? null, result }));
    if (call.method === "eth_subscribe") {
      const kind = String(call.params?.[0]);
      if (!["newHeads", "logs", "newPendingTransactions"].includes(kind)) {
        return ws.send(JSON.stringify({ jsonrpc: "2.0", id: call.id ?? null, error: { code: -32602, message: "unknown kind" } }));
      }
      subscriptionCount += 1;
      const id = `0x${createHash("sha256").update(`${name}:${subscriptionCount}`).digest("hex").slice(0, 32)}`;
      subscriptions.set(id, kind);
      return answer(id);
    }
    if (call.method === "eth_unsubscribe") return answer(subscriptions.delete(String(call.params?.[0])));
    return answer(rpcResult(call));
  };

  const webSocketServer = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 * 1024 });
  webSocketServer.on("connection", (ws) => {
    const subscriptions = new Map<string, string>();
    webSockets.set(ws, subscriptions);
    ws.on("message", (data) => answerSocket(ws, subscriptions, data.toString()));
    ws.on("close", () => webSockets.delete(ws));
    ws.on("error", () => webSockets.delete(ws));
  });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      if (req.url?.startsWith("/__control")) return control(req, res, body);
      requests += 1;
      last = { method: req.method, path: req.url, headers: req.headers, body };
      history = [...history.slice(-49), last];
      const now = Date.now();
      const sinceLastMs = now - lastRequestAt;
      lastRequestAt = now;
      if (spotProbes && !looksLikeProbe(req.method, req.url, body, sinceLastMs)) {
        byMode.spotted_caller = (byMode.spotted_caller ?? 0) + 1;
        return json(res, 503, { error: { message: "busy" } });
      }
      const current = takeFault();
      byMode[current.mode] = (byMode[current.mode] ?? 0) + 1;
      switch (current.mode) {
        case "status":
          return json(res, current.status ?? 500, { error: { message: `injected ${current.status ?? 500}` } });
        case "rate_limit":
          return json(res, 429, { error: { message: "slow down" } }, { "retry-after": String(current.retryAfter ?? 1) });
        case "reset":
          return req.socket.destroy();
        case "silent":
          return; // holds the connection open and never answers
        case "slow":
          await new Promise((resolve) => setTimeout(resolve, current.delayMs ?? 5000));
          break;
        case "slow_some":
          slowSomeSeen += 1;
          if (slowSomeSeen % (current.every ?? 20) === 0) {
            await new Promise((resolve) => setTimeout(resolve, current.delayMs ?? 200));
          }
          break;
        case "garbage":
          res.writeHead(200, { "content-type": "application/json" });
          return res.end("<html>502 Bad Gateway</html>");
        case "cut":
          res.writeHead(200, { "content-type": "application/json", "content-length": "400" });
          res.write('{"jsonrpc":"2.0","id":1,"res');
          return setTimeout(() => res.socket?.destroy(), 5);
        case "raw":
          res.writeHead(current.status ?? 200, {
            "content-type": current.contentType ?? "application/json",
            ...(current.headers ?? {}),
          });
          return res.end(current.body ?? "");
        case "heartbeat": {
          res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
          res.flushHeaders();
          const beat = setInterval(() => res.write(": keep-alive\n\n"), current.delayMs ?? 1000);
          res.on("close", () => clearInterval(beat));
          return;
        }
        case "huge":
          return sendHuge(res, current.size ?? 32 * 1024 * 1024);
        case "gzip_bomb":
          res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
          return res.end(gzipBomb(current.size ?? 512 * 1024 * 1024));
      }
      if (req.url === "/v1/models" && req.method === "GET") {
        return json(res, 200, { object: "list", data: [{ id: model, object: "model", created: 0, owned_by: name }] });
      }
      if (req.url === "/v1/chat/completions" && req.method === "POST") return answerChat(res, body, current);
      if (req.method === "POST" && (req.url === "/" || req.url === "")) return answerRpc(res, body);
      return json(res, 404, { error: { message: `fault host ${name}: no route ${req.method} ${req.url}` } });
    });
  });
  server.on("upgrade", (req, socket, upgradeHead) => {
    if (wsRefuse) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
      return;
    }
    webSocketServer.handleUpgrade(req, socket, upgradeHead, (ws) => webSocketServer.emit("connection", ws, req));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    name,
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const release of releases) release();
        for (const ws of webSockets.keys()) ws.terminate();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
