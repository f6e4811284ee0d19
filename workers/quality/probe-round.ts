/**
 * One round of fisherman probes over a set of hosts (docs/protocol.md, "Quality"). Probes go through the
 * relays' own forwarding code (`forwardJsonRpc`, `forwardHttp`), so a host receives them exactly
 * as it receives relays: same headers, same body shape, no marker.
 *
 * - `jsonrpc` (EVM): `eth_blockNumber` (freshness: lag behind the best head), `eth_chainId`
 *   (identity), and a known-answer canary: the hash of a block `CANARY_DEPTH` below the best head,
 *   checked against the hash most hosts agree on.
 * - `http` (inference): `GET /models` (identity: the declared model is served) and a
 *   deterministic streamed chat completion (temperature 0, fixed seed) whose text is checked
 *   against the text most hosts agree on, timing the first token and the whole answer.
 *
 * The reference head is the highest head a strict majority of the answering hosts reach
 * (`referenceHead`), and the canary's answer is the one a strict majority give, "no such block"
 * counting as an answer (`agreedAnswer`): colluders short of a majority cannot move either, and a
 * head ahead of the reference loses freshness like one behind it.
 *
 * Every probe is bounded: the whole round ends within `PROBE_TIMEOUT_MS` (a host that answers
 * with a stream of heartbeats cannot hold it), and every answer is read up to a size cap.
 */
import type { JsonRpcCall } from "../../protocol/jsonrpc.js";
import { agreedAnswer, headScore, majority, type ProbeSample, referenceHead } from "../../protocol/quality.js";
import type { GatewayConfig } from "../config.js";
import type { AttemptBudget } from "../relay/attempts.js";
import { forwardHttp } from "../relay/http-forward.js";
import { forwardJsonRpc } from "../relay/jsonrpc-forward.js";
import { observeStream } from "../relay/observed-stream.js";
import { readTextCapped } from "../relay/read-capped.js";
import type { SessionHost, SessionService } from "../sessions/plan-session.js";

export const CANARY_DEPTH = 8;
export const FRESHNESS_TOLERANCE_BLOCKS = 2;
export const PROBE_PROMPT = "Reply with one short sentence about relays.";
const PROBE_SEED = 7;
/** Largest probe answer read, in bytes: probes ask for small things. */
export const PROBE_MAX_RESPONSE_BYTES = 1024 * 1024;

export interface ProbeRoundInput {
  service: SessionService;
  hosts: readonly SessionHost[];
  config: GatewayConfig;
  /** JSON-RPC ids for the probes, like a client's counter. */
  nextId: () => number;
}

/** A probe round's inputs with the moment by which all of it must be over. */
type BoundedRound = ProbeRoundInput & { deadline: number };

/** UTF-8 bytes of a probe's body (a fresh buffer of its own, as fetch takes). */
const utf8 = (text: string) => new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>;

/** One attempt at one host, ending by the round's deadline. */
const single = (host: SessionHost, round: BoundedRound): AttemptBudget => ({
  candidates: [host],
  maxAttempts: 1,
  attemptTimeoutMs: Math.max(1, Math.min(round.config.attemptTimeoutMs, round.deadline - Date.now())),
  deadline: round.deadline,
});

interface CallResult {
  ok: boolean;
  latencyMs: number;
  result?: unknown;
}

async function rpcCall(input: BoundedRound, host: SessionHost, method: string, params: unknown[]): Promise<CallResult> {
  const call: JsonRpcCall = { jsonrpc: "2.0", id: input.nextId(), method, params };
  const began = Date.now();
  const result = await forwardJsonRpc(single(host, input), {
    body: utf8(JSON.stringify(call)),
    calls: [call],
    batch: false,
    maxResponseBytes: PROBE_MAX_RESPONSE_BYTES,
  });
  const latencyMs = Date.now() - began;
  if (!result.ok || result.value.status >= 400) return { ok: false, latencyMs };
  const answer = JSON.parse(result.value.body) as { result?: unknown; error?: unknown };
  return answer.error === undefined ? { ok: true, latencyMs, result: answer.result } : { ok: false, latencyMs };
}

const sample = (hostId: string, probe: string, call: CallResult, checks: Record<string, number> = {}): ProbeSample => ({
  hostId,
  at: Date.now(),
  probe,
  ok: call.ok,
  latencyMs: call.latencyMs,
  checks: call.ok ? checks : {},
});

async function probeJsonRpc(input: BoundedRound): Promise<ProbeSample[]> {
  const { hosts, service } = input;
  const [heads, chainIds] = await Promise.all([
    Promise.all(hosts.map((h) => rpcCall(input, h, "eth_blockNumber", []))),
    Promise.all(hosts.map((h) => rpcCall(input, h, "eth_chainId", []))),
  ]);
  const headOf = (c: CallResult) => (c.ok && typeof c.result === "string" ? Number.parseInt(c.result, 16) : null);
  const bestHead = referenceHead(heads.map(headOf)) ?? 0;
  const canaryBlock = Math.max(0, bestHead - CANARY_DEPTH);
  const canaries = await Promise.all(
    hosts.map((h) => rpcCall(input, h, "eth_getBlockByNumber", [`0x${canaryBlock.toString(16)}`, false])),
  );
  // A usable answer of `null` (no such block) is a vote; a failed call is not.
  const hashOf = (c: CallResult) => (c.ok ? ((c.result as { hash?: string } | null)?.hash ?? null) : undefined);
  const agreed = agreedAnswer(canaries.map(hashOf));

  return hosts.flatMap((host, i) => {
    const head = headOf(heads[i]);
    const chainId =
      chainIds[i].ok && typeof chainIds[i].result === "string" ? Number.parseInt(chainIds[i].result as string, 16) : null;
    const canaryHash = hashOf(canaries[i]);
    return [
      sample(
        host.id,
        "eth_blockNumber",
        { ...heads[i], ok: heads[i].ok && head !== null },
        head === null ? {} : { freshness: headScore(head, bestHead, FRESHNESS_TOLERANCE_BLOCKS) },
      ),
      sample(host.id, "eth_chainId", chainIds[i], service.chainId ? { chainId: chainId === service.chainId ? 1 : 0 } : {}),
      sample(host.id, "eth_getBlockByNumber", canaries[i], agreed ? { canary: canaryHash === agreed.value ? 1 : 0 } : {}),
    ];
  });
}

async function httpCall(round: BoundedRound, host: SessionHost, method: string, subpath: string, body: unknown) {
  const headers = new Headers({ accept: body ? "text/event-stream" : "application/json" });
  if (body) headers.set("content-type", "application/json");
  const encoded = body ? utf8(JSON.stringify(body)) : null;
  return forwardHttp(single(host, round), { method, subpath, search: "", headers, body: encoded });
}

/**
 * Reads an OpenAI-shaped SSE answer through the relays' own stream observer (`observeStream`),
 * so a probe judges a cut, idle or unfinished stream exactly as a relay does, ending it at the
 * round's deadline or past the size cap; returns the text, the time to the first chunk and
 * whether the stream ended cleanly.
 */
async function readChatStream(response: Response, began: number, round: BoundedRound) {
  let clean = false;
  const observed = observeStream(response.body as ReadableStream<Uint8Array>, {
    sse: true,
    idleTimeoutMs: round.config.streamIdleTimeoutMs,
    maxDurationMs: Math.max(0, round.deadline - Date.now()),
    onEnd: async (end) => {
      clean = end.ok;
    },
  });
  const reader = observed.stream.getReader();
  const decoder = new TextDecoder();
  let raw = "";
  let bytes = 0;
  let firstByteMs: number | undefined;
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      firstByteMs ??= Date.now() - began;
      bytes += chunk.value.byteLength;
      if (bytes > PROBE_MAX_RESPONSE_BYTES) {
        await reader.cancel("probe answer too large");
        return { complete: false, text: "", firstByteMs };
      }
      raw += decoder.decode(chunk.value, { stream: true });
    }
  } catch {
    return { complete: false, text: "", firstByteMs };
  }
  let text = "";
  for (const line of raw.split("\n")) {
    if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
    try {
      text += (JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content ?? "";
    } catch {
      return { complete: false, text: "", firstByteMs };
    }
  }
  return { complete: clean, text, firstByteMs };
}

async function probeHttp(input: BoundedRound): Promise<ProbeSample[]> {
  const { hosts, service } = input;
  const models = await Promise.all(
    hosts.map(async (host) => {
      const began = Date.now();
      try {
        const result = await httpCall(input, host, "GET", "/models", null);
        if (!result.ok || result.value.status >= 400) return { ok: false, latencyMs: Date.now() - began };
        const text = await readTextCapped(result.value, PROBE_MAX_RESPONSE_BYTES, input.deadline);
        const listed = (JSON.parse(text) as { data?: { id?: string }[] }).data?.map((m) => m.id) ?? [];
        return { ok: true, latencyMs: Date.now() - began, result: listed };
      } catch {
        return { ok: false, latencyMs: Date.now() - began };
      }
    }),
  );
  const prompt = {
    model: service.model,
    stream: true,
    temperature: 0,
    seed: PROBE_SEED,
    messages: [{ role: "user", content: PROBE_PROMPT }],
  };
  const chats = await Promise.all(
    hosts.map(async (host) => {
      const began = Date.now();
      try {
        const result = await httpCall(input, host, "POST", "/chat/completions", prompt);
        if (!result.ok || result.value.status >= 400) return { ok: false, latencyMs: Date.now() - began, text: "" };
        const read = await readChatStream(result.value, began, input);
        return { ok: read.complete, latencyMs: Date.now() - began, firstByteMs: read.firstByteMs, text: read.text };
      } catch {
        return { ok: false, latencyMs: Date.now() - began, text: "" };
      }
    }),
  );
  const agreed = majority(chats.filter((c) => c.ok).map((c) => c.text));
  return hosts.flatMap((host, i) => [
    sample(
      host.id,
      "models",
      models[i],
      service.model ? { model: (models[i].result as string[] | undefined)?.includes(service.model) ? 1 : 0 } : {},
    ),
    {
      ...sample(host.id, "chat", chats[i], agreed === null ? {} : { prompt: chats[i].text === agreed ? 1 : 0 }),
      firstByteMs: chats[i].firstByteMs,
    },
  ]);
}

/** Probes every host once with the plan for the service's kind; over within `config.probeTimeoutMs`. */
export function probeRound(input: ProbeRoundInput): Promise<ProbeSample[]> {
  const round = { ...input, deadline: Date.now() + input.config.probeTimeoutMs };
  return input.service.kind === "jsonrpc" ? probeJsonRpc(round) : probeHttp(round);
}
