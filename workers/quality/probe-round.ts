/**
 * One round of fisherman probes over a set of hosts (docs/protocol.md, "Quality"). Probes go through the
 * relays' own forwarding code (`forwardJsonRpc`, `forwardHttp`), so a host receives them exactly
 * as it receives relays: same headers, same body shape, no marker.
 *
 * - `jsonrpc` (EVM): `eth_blockNumber` (freshness against the reference head), then either the
 *   session's own read-only calls (`shapes`, re-anchored to the reference head - `CANARY_DEPTH`,
 *   judged by the answer a strict majority gives) or, with no traffic yet, `eth_chainId` and a
 *   canary block.
 * - `http` (inference): `GET /models` (identity) and a streamed chat completion drawn from the
 *   prompt and sampling corpus (`protocol/probe-shapes.ts`), judged against the text most hosts agree on.
 *
 * Each host's probes start at its own random offset and are spaced at random gaps within
 * `PROBE_SPREAD_MS`, so no host sees a burst and hosts are not probed together.
 *
 * Every choice (shapes, prompt, settings, seed, each host's order and timing) is drawn from the
 * round's plan seed (`protocol/probe-plan.ts`), so the samples can be checked against the plan
 * once the seed is revealed; each sample records its round, its position and the request sent.
 *
 * The reference head is the highest head a strict majority of the answering hosts reach
 * (`referenceHead`), and the canary's answer is the one a strict majority give, "no such block"
 * counting as an answer (`agreedAnswer`): colluders short of a majority cannot move either, and a
 * head ahead of the reference loses freshness like one behind it.
 *
 * Every probe is bounded: the whole round ends within `PROBE_TIMEOUT_MS` (a host that answers
 * with a stream of heartbeats cannot hold it), and every answer is read up to a size cap.
 */
import type { Hex } from "../../protocol/hex.js";
import type { JsonRpcCall } from "../../protocol/jsonrpc.js";
import {
  drawnShapeIndices,
  type PlanDraws,
  type PlannedRound,
  planDraws,
  planRound,
  type RevealedRound,
} from "../../protocol/probe-plan.js";
import type { TrafficShape } from "../../protocol/probe-shapes.js";
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
/** Largest probe answer read, in bytes: probes ask for small things. */
export const PROBE_MAX_RESPONSE_BYTES = 1024 * 1024;

export interface ProbeRoundInput {
  service: SessionService;
  hosts: readonly SessionHost[];
  config: GatewayConfig;
  /** JSON-RPC ids for the probes, like a client's counter. */
  nextId: () => number;
  /** The session's recent read-only call shapes (`RelaySession.recentShapes`); none: the reference probes. */
  shapes?: readonly TrafficShape[];
  /** The secret plan seed every choice of the round is drawn from (`protocol/probe-plan.ts`). */
  planSeed: Hex;
  /** The round's number in the session (0, 1, 2, ...). */
  round: number;
}

/** The samples of a round and what it revealed as its inputs. */
export interface ProbeRoundResult {
  samples: ProbeSample[];
  record: RevealedRound;
}

/** A probe round's inputs with the moment by which all of it must be over. */
type BoundedRound = ProbeRoundInput & { deadline: number; record: RevealedRound };

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

/** A call with the moment it was sent: each probe's sample carries its own time. */
type TimedCall = CallResult & { at: number };

async function timed(input: BoundedRound, host: SessionHost, method: string, params: unknown[]): Promise<TimedCall> {
  const at = Date.now();
  return { ...(await rpcCall(input, host, method, params)), at };
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

/** Where a sample sits in the plan: its round, its position in the host's order, the request sent. */
interface Placed {
  round: number;
  seq: number;
  request: string;
}

const sample = (
  hostId: string,
  placed: Placed,
  probe: string,
  call: CallResult & { at?: number },
  checks: Record<string, number> = {},
): ProbeSample => ({
  hostId,
  at: call.at ?? Date.now(),
  probe,
  ok: call.ok,
  latencyMs: call.latencyMs,
  checks: call.ok ? checks : {},
  ...placed,
});

/** Waits `ms`, but never past the round's deadline. */
const pause = (round: BoundedRound, ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, Math.min(ms, round.deadline - Date.now()))));
/** Each host's timing draws in the round (its offsets and gaps), from the plan seed. */
const timingOf = (round: BoundedRound, host: SessionHost) => planDraws(round.planSeed, round.round, host.id, "timing");

/**
 * Runs each host's probes at its own times: a random start within the first part of the spread,
 * then one probe after another at random gaps, never two to one host at once, never all hosts together.
 */
function staggered<T>(
  round: BoundedRound,
  timings: readonly PlanDraws[],
  startWithin: [number, number],
  each: (host: SessionHost, index: number) => Promise<T>,
): Promise<T[]> {
  const spread = round.config.probeSpreadMs;
  return Promise.all(
    round.hosts.map(async (host, i) => {
      await pause(round, timings[i].between(spread * startWithin[0], spread * startWithin[1]));
      return each(host, i);
    }),
  );
}

/** The gap between two probes to one host. */
const gap = (round: BoundedRound, timing: PlanDraws) =>
  pause(round, timing.between(round.config.probeSpreadMs / 16, round.config.probeSpreadMs / 8));

/** The round's probes once its anchor is known (JSON-RPC) or at once (inference). */
function plannedRound(round: BoundedRound, anchor: number): PlannedRound {
  const shapes = round.shapes ?? [];
  round.record.anchor = anchor;
  round.record.shapeCount = shapes.length;
  for (const index of drawnShapeIndices(round.planSeed, round.round, shapes.length)) {
    round.record.shapes[String(index)] = shapes[index];
  }
  return planRound(round.planSeed, round.round, {
    kind: round.service.kind,
    hostIds: round.hosts.map((h) => h.id),
    shapeCount: shapes.length,
    shapeAt: (index) => shapes[index],
    anchor,
    model: round.service.model,
  });
}

async function probeJsonRpc(input: BoundedRound): Promise<ProbeSample[]> {
  const { hosts, service } = input;
  const timings = hosts.map((h) => timingOf(input, h));
  const headOf = (c: CallResult) => (c.ok && typeof c.result === "string" ? Number.parseInt(c.result, 16) : null);
  const chainIdOf = (c: CallResult) => (c.ok && typeof c.result === "string" ? Number.parseInt(c.result, 16) : null);
  const heads = await staggered(input, timings, [0, 0.5], (h) => timed(input, h, "eth_blockNumber", []));
  const bestHead = referenceHead(heads.map(headOf)) ?? 0;
  const plan = plannedRound(input, Math.max(0, bestHead - CANARY_DEPTH));
  const placed = (i: number, seq: number): Placed => ({ round: input.round, seq, request: plan.hosts[i].probes[seq].request });
  const headSample = (host: SessionHost, i: number) => {
    const head = headOf(heads[i]);
    return sample(
      host.id,
      placed(i, 0),
      "eth_blockNumber",
      { ...heads[i], ok: heads[i].ok && head !== null },
      head === null ? {} : { freshness: headScore(head, bestHead, FRESHNESS_TOLERANCE_BLOCKS) },
    );
  };
  // Every host gets the same calls (so their answers can be compared), each in its planned order.
  const answers = await staggered(input, timings, [1 / 16, 1 / 4], async (h, i) => {
    const out: TimedCall[] = new Array(plan.calls.length);
    for (const [k, slot] of plan.hosts[i].order.entries()) {
      if (k > 0) await gap(input, timings[i]);
      out[slot] = await timed(input, h, plan.calls[slot].method, plan.calls[slot].params);
    }
    return out;
  });
  const seqOf = (i: number, slot: number) => 1 + plan.hosts[i].order.indexOf(slot);
  const identitySample = (host: SessionHost, i: number, slot: number) => {
    const call = answers[i][slot];
    return sample(
      host.id,
      placed(i, seqOf(i, slot)),
      "eth_chainId",
      call,
      service.chainId ? { chainId: chainIdOf(call) === service.chainId ? 1 : 0 } : {},
    );
  };

  if ((input.shapes ?? []).length === 0) {
    // No traffic to imitate yet: the chain id and a canary block. A usable answer of `null` (no
    // such block) is a vote; a failed call is not.
    const hashOf = (c: CallResult) => (c.ok ? ((c.result as { hash?: string } | null)?.hash ?? null) : undefined);
    const agreed = agreedAnswer(answers.map((a) => hashOf(a[1])));
    return hosts.flatMap((host, i) => [
      headSample(host, i),
      identitySample(host, i, 0),
      sample(
        host.id,
        placed(i, seqOf(i, 1)),
        "eth_getBlockByNumber",
        answers[i][1],
        agreed ? { canary: hashOf(answers[i][1]) === agreed.value ? 1 : 0 } : {},
      ),
    ]);
  }

  // The session's own read-only calls, re-anchored to a block every honest host has.
  const answerOf = (c: CallResult) => (c.ok ? JSON.stringify(c.result ?? null) : undefined);
  const agreedBySlot = plan.calls.map((_, slot) => agreedAnswer(answers.map((a) => answerOf(a[slot]))));
  return hosts.flatMap((host, i) => [
    headSample(host, i),
    ...plan.calls.map((pick, slot) => {
      const call = answers[i][slot];
      if (pick.method === "eth_chainId") return identitySample(host, i, slot);
      if (pick.method === "eth_blockNumber") {
        const head = headOf(call);
        return sample(
          host.id,
          placed(i, seqOf(i, slot)),
          pick.method,
          call,
          head === null ? {} : { freshness: headScore(head, bestHead, FRESHNESS_TOLERANCE_BLOCKS) },
        );
      }
      const agreed = agreedBySlot[slot];
      // A host that gave no usable answer gave no right answer either: the check counts it.
      return {
        ...sample(host.id, placed(i, seqOf(i, slot)), pick.method, call),
        checks: agreed ? { answer: answerOf(call) === agreed.value ? 1 : 0 } : {},
      };
    }),
  ]);
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
  const timings = hosts.map((h) => timingOf(input, h));
  // One prompt, one set of sampling settings and (in most rounds) a fresh seed, drawn from the
  // plan, the same for every host so their answers can be compared.
  const plan = plannedRound(input, 0);
  const prompt = plan.chat;
  const listModels = async (host: SessionHost) => {
    const at = Date.now();
    try {
      const result = await httpCall(input, host, "GET", "/models", null);
      if (!result.ok || result.value.status >= 400) return { ok: false, at, latencyMs: Date.now() - at };
      const text = await readTextCapped(result.value, PROBE_MAX_RESPONSE_BYTES, input.deadline);
      const listed = (JSON.parse(text) as { data?: { id?: string }[] }).data?.map((m) => m.id) ?? [];
      return { ok: true, at, latencyMs: Date.now() - at, result: listed };
    } catch {
      return { ok: false, at, latencyMs: Date.now() - at };
    }
  };
  const chatWith = async (host: SessionHost) => {
    const at = Date.now();
    try {
      const result = await httpCall(input, host, "POST", "/chat/completions", prompt);
      if (!result.ok || result.value.status >= 400) return { ok: false, at, latencyMs: Date.now() - at, text: "" };
      const read = await readChatStream(result.value, at, input);
      return { ok: read.complete, at, latencyMs: Date.now() - at, firstByteMs: read.firstByteMs, text: read.text };
    } catch {
      return { ok: false, at, latencyMs: Date.now() - at, text: "" };
    }
  };
  const both = await staggered(input, timings, [0, 0.5], async (host, i) => {
    if (plan.hosts[i].probes[0].probe === "models") {
      const models = await listModels(host);
      await gap(input, timings[i]);
      return { models, chat: await chatWith(host) };
    }
    const chat = await chatWith(host);
    await gap(input, timings[i]);
    return { models: await listModels(host), chat };
  });
  const models = both.map((b) => b.models);
  const chats = both.map((b) => b.chat);
  const agreed = majority(chats.filter((c) => c.ok).map((c) => c.text));
  const placed = (i: number, probe: string): Placed => {
    const seq = plan.hosts[i].probes.findIndex((p) => p.probe === probe);
    return { round: input.round, seq, request: plan.hosts[i].probes[seq].request };
  };
  return hosts.flatMap((host, i) => [
    sample(
      host.id,
      placed(i, "models"),
      "models",
      models[i],
      service.model ? { model: (models[i].result as string[] | undefined)?.includes(service.model) ? 1 : 0 } : {},
    ),
    {
      // A failed answer is not the agreed one either.
      ...sample(host.id, placed(i, "chat"), "chat", chats[i]),
      checks: agreed === null ? {} : { prompt: chats[i].ok && chats[i].text === agreed ? 1 : 0 },
      firstByteMs: chats[i].firstByteMs,
    },
  ]);
}

/**
 * Probes every host once with the plan for the service's kind; over within `config.probeTimeoutMs`.
 * Returns the samples and the round's record (its inputs, revealed with the plan seed).
 */
export async function probeRound(input: ProbeRoundInput): Promise<ProbeRoundResult> {
  const at = Date.now();
  const record: RevealedRound = { round: input.round, at, anchor: 0, shapeCount: 0, shapes: {} };
  const round = { ...input, deadline: at + input.config.probeSpreadMs + input.config.probeTimeoutMs, record };
  const samples = await (input.service.kind === "jsonrpc" ? probeJsonRpc(round) : probeHttp(round));
  return { samples, record };
}
