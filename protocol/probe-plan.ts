/**
 * Committed probe plans (docs/protocol.md, "Committed probe plans"): every random choice of a
 * fisherman's probe round (which traffic shapes, which prompt, sampling settings and seed, each
 * host's order and timing) is drawn from a secret 32-byte plan seed, the round number and the host,
 * so a fisherman committed to the seed at session open cannot pick its probes after seeing answers.
 * At session end the seed is revealed; anyone recomputes the probes with `planRound` and checks the
 * published samples against them with `checkProbePlan`. No platform imports.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { type Hex, toHex } from "./hex.js";
import { encodeWords } from "./merkle.js";
import { PROMPT_CORPUS, reanchor, SAMPLING_CORPUS, type TrafficShape } from "./probe-shapes.js";
import { type ProbeSample, samplesHash } from "./quality.js";
import { QUORUM_PROBE_PREFIX } from "./relay-policy.js";

/** The derivation below; in the commitment, so a verifier knows which derivation to run. */
export const PROBE_PLAN_VERSION = 1;
/** Traffic-shaped probes per host in a round that has the session's traffic to imitate. */
export const TRAFFIC_PROBES_PER_ROUND = 4;
/** With traffic to imitate, rounds 0, 4, 8, ... also check the chain id (when the traffic does not). */
export const IDENTITY_EVERY_ROUNDS = 4;
/** Share of inference rounds that send a fresh sampling seed. */
const SEEDED_CHAT_SHARE = 0.75;

/** The commitment a session record carries from its opening: keccak256(abi.encode(version, planSeed, sessionSeed)). */
export function probePlanCommitment(planSeed: Hex, sessionSeed: Hex, version = PROBE_PLAN_VERSION): Hex {
  return toHex(keccak_256(encodeWords([BigInt(version), planSeed, sessionSeed])));
}

/** A stream of uniform draws, fixed by (seed, round, subject, purpose). */
export interface PlanDraws {
  /** A draw in [0, 1) with 53 bits. */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** A draw in [lo, hi). */
  between(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
}

/**
 * Draws in counter mode: draw i is the top 53 bits of keccak256(seed || JSON([round, subject,
 * purpose, i])). The subject is a host id ("" for what the round shares); the purpose names the choice.
 */
export function planDraws(planSeed: Hex, round: number, subject: string, purpose: string): PlanDraws {
  const seed = hexToBytes(planSeed.slice(2));
  if (seed.length !== 32) throw new Error("planDraws: the plan seed is not 32 bytes");
  let counter = 0;
  const next = () => {
    const tail = utf8ToBytes(JSON.stringify([round, subject, purpose, counter++]));
    const message = new Uint8Array(32 + tail.length);
    message.set(seed, 0);
    message.set(tail, 32);
    const h = new DataView(keccak_256(message).buffer);
    return (h.getUint32(0) * 2 ** 21 + (h.getUint32(4) >>> 11)) / 2 ** 53;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    between: (lo, hi) => lo + next() * Math.max(0, hi - lo),
    chance: (p) => next() < p,
  };
}

/** `items` in an order drawn from `draws` (Fisher-Yates). */
function shuffled<T>(items: readonly T[], draws: PlanDraws): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = draws.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** One probe as sent: its sample name and the request, canonical (`JSON([method, params])`, `GET /models`, or the chat body). */
export interface PlannedProbe {
  probe: string;
  request: string;
}

/** What a round needs besides the seed; everything here is revealed with the seed. */
export interface RoundInputs {
  kind: "jsonrpc" | "http";
  /** The session's hosts, in the session's order. */
  hostIds: readonly string[];
  /** JSON-RPC: how many traffic shapes the round drew from (0: the reference probes). */
  shapeCount: number;
  /** The shape at a drawn index. */
  shapeAt: (index: number) => TrafficShape | undefined;
  /** JSON-RPC: the block every call is re-anchored to (the round's reference head - 8). */
  anchor: number;
  /** Inference: the service's model. */
  model: string | null;
}

/** A round's probes: what every host is sent, in its order. */
export interface PlannedRound {
  /** JSON-RPC with traffic: the calls every host gets (slot order); the reference probes otherwise. */
  calls: TrafficShape[];
  /** Inference: the chat request every host gets. */
  chat: Record<string, unknown> | null;
  /** Per host (session order): the slots of `calls` in sending order, then the full sequence. */
  hosts: { hostId: string; order: number[]; probes: PlannedProbe[] }[];
}

const rpcProbe = (call: TrafficShape): PlannedProbe => ({
  probe: call.method,
  request: JSON.stringify([call.method, call.params]),
});
const HEAD: TrafficShape = { method: "eth_blockNumber", params: [] };
const CHAIN_ID: TrafficShape = { method: "eth_chainId", params: [] };

/** The indices of the session's traffic shapes a round draws (the same for every host). */
export function drawnShapeIndices(planSeed: Hex, round: number, shapeCount: number): number[] {
  if (shapeCount === 0) return [];
  const draws = planDraws(planSeed, round, "", "shapes");
  return Array.from({ length: TRAFFIC_PROBES_PER_ROUND }, () => draws.int(shapeCount));
}

/** The probes of round `round`: a pure function of the seed and the inputs, so anyone can recompute them. */
export function planRound(planSeed: Hex, round: number, inputs: RoundInputs): PlannedRound {
  const orderOf = (hostId: string) => planDraws(planSeed, round, hostId, "order");
  if (inputs.kind === "http") {
    const draws = planDraws(planSeed, round, "", "chat");
    const sampling = SAMPLING_CORPUS[draws.int(SAMPLING_CORPUS.length)];
    const seeded = draws.chance(SEEDED_CHAT_SHARE);
    const seed = 1 + draws.int(2 ** 31);
    const chat = {
      model: inputs.model,
      stream: true,
      ...sampling,
      ...(seeded ? { seed } : {}),
      messages: [{ role: "user", content: PROMPT_CORPUS[draws.int(PROMPT_CORPUS.length)] }],
    };
    const models = { probe: "models", request: "GET /models" };
    const chatProbe = { probe: "chat", request: JSON.stringify(chat) };
    return {
      calls: [],
      chat,
      hosts: inputs.hostIds.map((hostId) => {
        const modelsFirst = orderOf(hostId).chance(0.5);
        return { hostId, order: [], probes: modelsFirst ? [models, chatProbe] : [chatProbe, models] };
      }),
    };
  }
  let calls: TrafficShape[];
  if (inputs.shapeCount === 0) {
    // No traffic to imitate yet: the chain id and a canary block.
    calls = [CHAIN_ID, { method: "eth_getBlockByNumber", params: [`0x${inputs.anchor.toString(16)}`, false] }];
  } else {
    calls = drawnShapeIndices(planSeed, round, inputs.shapeCount).map((index) => {
      const shape = inputs.shapeAt(index);
      if (!shape) throw new Error(`round ${round} draws traffic shape ${index}, which is not given`);
      return reanchor(shape, inputs.anchor);
    });
    if (round % IDENTITY_EVERY_ROUNDS === 0 && !calls.some((c) => c.method === CHAIN_ID.method)) calls[0] = CHAIN_ID;
  }
  return {
    calls,
    chat: null,
    hosts: inputs.hostIds.map((hostId) => {
      const order = shuffled(
        calls.map((_, slot) => slot),
        orderOf(hostId),
      );
      return { hostId, order, probes: [rpcProbe(HEAD), ...order.map((slot) => rpcProbe(calls[slot]))] };
    }),
  };
}

/** A round as the fisherman recorded it and reveals it. */
export interface RevealedRound {
  round: number;
  /** Unix milliseconds when the round began. */
  at: number;
  anchor: number;
  shapeCount: number;
  /** The drawn shapes only, by index (the rest of the session's traffic stays private). */
  shapes: Record<string, TrafficShape>;
}

/** Everything a verifier needs besides the session's public record. */
export interface ProbePlanReveal {
  version: number;
  commitment: Hex;
  seed: Hex;
  kind: "jsonrpc" | "http";
  model: string | null;
  hostIds: readonly string[];
  rounds: readonly RevealedRound[];
  samples: readonly ProbeSample[];
}

/**
 * Checks a revealed plan against its commitment and the samples against the plan: the seed
 * hashes to the commitment, rounds are numbered 0, 1, 2, ... and every host's samples of a round
 * are exactly the planned probes, in the planned order, at non-decreasing times. Returns the
 * first difference as a sentence, or null. `cards` (host id to `samplesHash`), when given, must
 * hash the revealed samples.
 */
export function checkProbePlan(
  sessionSeed: Hex,
  reveal: ProbePlanReveal,
  cards?: ReadonlyMap<string, { samples: number; samplesHash: string }>,
): string | null {
  if (reveal.version !== PROBE_PLAN_VERSION) return `unknown probe plan version ${reveal.version}`;
  if (!/^0x[0-9a-f]{64}$/.test(reveal.seed)) return "the revealed seed is not 32 bytes of hex";
  const recomputed = probePlanCommitment(reveal.seed, sessionSeed, reveal.version);
  if (recomputed !== reveal.commitment) {
    return `the revealed seed hashes to ${recomputed}, not to the committed ${reveal.commitment}`;
  }
  const byRoundAndHost = new Map<string, ProbeSample[]>();
  const hosts = new Set(reveal.hostIds);
  let accounted = 0;
  for (const s of reveal.samples) {
    if (!hosts.has(s.hostId)) return `a sample of host ${s.hostId}, which is not a host of the session`;
    // A quorum read's minority sample: recorded by the relay path, outside every round.
    if ((s.round === undefined || s.round === null) && s.probe.startsWith(QUORUM_PROBE_PREFIX)) {
      accounted += 1;
      continue;
    }
    const key = `${s.round}|${s.hostId}`;
    byRoundAndHost.set(key, [...(byRoundAndHost.get(key) ?? []), s]);
  }
  for (const [i, r] of reveal.rounds.entries()) {
    if (r.round !== i) return `round ${i} is missing (found round ${r.round} in its place)`;
    let planned: PlannedRound;
    try {
      planned = planRound(reveal.seed, r.round, {
        kind: reveal.kind,
        hostIds: reveal.hostIds,
        shapeCount: r.shapeCount,
        shapeAt: (index) => r.shapes[String(index)],
        anchor: r.anchor,
        model: reveal.model,
      });
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
    for (const host of planned.hosts) {
      const got = [...(byRoundAndHost.get(`${r.round}|${host.hostId}`) ?? [])].sort((a, b) => (a.seq ?? -1) - (b.seq ?? -1));
      accounted += got.length;
      if (got.length !== host.probes.length) {
        return `round ${r.round}: host ${host.hostId} has ${got.length} samples where the plan has ${host.probes.length} probes`;
      }
      for (const [k, want] of host.probes.entries()) {
        const s = got[k];
        if (s.seq !== k) return `round ${r.round}: host ${host.hostId} has no probe ${k} (sequence ${s.seq})`;
        if (s.probe !== want.probe || s.request !== want.request) {
          return `round ${r.round}: host ${host.hostId} probe ${k} was ${s.probe} ${s.request ?? "(no request)"} where the plan derives ${want.probe} ${want.request}`;
        }
        if (k > 0 && s.at < got[k - 1].at)
          return `round ${r.round}: host ${host.hostId} probe ${k} was sent before probe ${k - 1}`;
      }
    }
  }
  if (accounted !== reveal.samples.length) {
    return `${reveal.samples.length - accounted} samples belong to no revealed round`;
  }
  for (const [hostId, card] of cards ?? []) {
    const own = reveal.samples.filter((s) => s.hostId === hostId);
    const hash = samplesHash(own);
    if (own.length !== card.samples || hash !== card.samplesHash) {
      return `the report card of ${hostId} commits to ${card.samples} samples hashing to ${card.samplesHash}, the revealed ones are ${own.length} hashing to ${hash}`;
    }
  }
  return null;
}
