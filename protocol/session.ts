/**
 * Deterministic sessions (docs/protocol.md, "Sessions"). Anyone with a snapshot of the host registry can
 * recompute a session with these functions and get the gateway's answer.
 */
import { type Hex, sha256Hex } from "./hex.js";
import { DEFAULT_REPUTATION } from "./quality.js";

/** Names the selection algorithm; bumped whenever its output could change. */
export const SELECTION_ALGORITHM = "wrh-fmix32-v3";

/** One host as seen by session selection: the registry fields that decide eligibility and weight. */
export interface SelectableHost {
  id: string;
  /** Stake in DB-CPTM minor units; zero-stake hosts are never chosen. */
  stake: bigint;
  /** Unix milliseconds from which the host counts as active. */
  activeSince: number;
  /** Unix milliseconds at which the host left, or null while it serves. */
  leftAt: number | null;
  /** Reputation as of the epoch (`reputationAsOf`); absent means the neutral prior. */
  reputation?: number;
  /** Jailed for this epoch: never chosen. */
  jailed?: boolean;
}

/** Reputation below this still weighs this much, so a recovering host is not starved forever. */
export const REPUTATION_FLOOR = 0.05;

/** Selection weight: stake x reputation, the reputation floored at `REPUTATION_FLOOR`. */
export function selectionWeight(host: SelectableHost): number {
  return Number(host.stake) * Math.max(REPUTATION_FLOOR, host.reputation ?? DEFAULT_REPUTATION.prior);
}

export interface SessionCoordinates {
  requestorId: string;
  serviceId: string;
  epoch: number;
  /**
   * The requestor's selection requirements in canonical form (`protocol/market.ts`
   * `canonicalRequirements`); absent or "" for none. A non-empty one makes another session, with
   * seed input version 2 (`sessionSeedFor`).
   */
  requirements?: string;
}

/** The epoch containing `nowMs`. */
export function sessionEpoch(nowMs: number, sessionSeconds: number): number {
  return Math.floor(nowMs / 1000 / sessionSeconds);
}

/** Unix milliseconds at which `epoch` starts. */
export function epochStartMs(epoch: number, sessionSeconds: number): number {
  return epoch * sessionSeconds * 1000;
}

/** The session seed: SHA-256 over the algorithm tag, requestor, service and epoch. */
export function sessionSeed({ requestorId, serviceId, epoch }: SessionCoordinates): Hex {
  return sha256Hex(`conductor-session-v1|${requestorId}|${serviceId}|${epoch}`);
}

/** The session id: a readable prefix plus the first 128 bits of the seed. */
export function sessionIdFromSeed(seed: Hex): string {
  return `ses_${seed.slice(2, 34)}`;
}

/**
 * A host is eligible for an epoch when it has stake, is not jailed for the epoch, was active
 * before the epoch began and had not left by then. Using only the epoch's start keeps the answer stable for the whole epoch.
 */
export function isEligible(host: SelectableHost, epochStart: number): boolean {
  return host.stake > 0n && !host.jailed && host.activeSince <= epochStart && (host.leftAt === null || host.leftAt > epochStart);
}

/** murmur3's 32-bit finaliser: every input bit flips about half the output bits. */
function fmix32(x: number): number {
  let h = x;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The keyed hash of (seed, host id) is a uniform `u` in (0, 1]: two FNV-1a words of the host id,
 * each mixed with a 32-bit word of the seed through fmix32, give 53 bits (`a`, then 21 bits of `b`).
 * As unpredictable as the seed, which is a SHA-256.
 */
function uniformFromWords(a: number, b: number): number {
  return (a * 2 ** 21 + (b >>> 11) + 0.5) / 2 ** 53;
}

/** Bits of `a` (the high word of `u`) that pick a bucket of `NEG_LOG_BOUNDS`. */
const BUCKET_BITS = 12;

/**
 * A lower bound on `-Math.log(u)` for each bucket k = `a >>> (32 - BUCKET_BITS)`, where `u` is at
 * most (k + 1) / 2^BUCKET_BITS, shaved by 2^-20: far more than the rounding of `Math.log`, of the
 * division and of the product it is compared through. So a host with `weight < worstScore x bound`
 * cannot beat the worst host kept, whatever `b` is, and almost every host is ruled out before its
 * second word and its logarithm. The last bucket's bound is 0: it rules nothing out.
 */
const NEG_LOG_BOUNDS = Float64Array.from(
  { length: 2 ** BUCKET_BITS },
  (_, k) => -Math.log((k + 1) / 2 ** BUCKET_BITS) * (1 - 2 ** -20),
);

/**
 * The bound is used only while the worst kept score is in [2^-1000, Infinity): below, the product
 * could be subnormal and lose the margin; at Infinity a finite weight can still overflow to a tie.
 * A positive stake weighs at least 0.05, so real registries are always in range.
 */
const SMALLEST_BOUNDED_SCORE = 2 ** -1000;

export interface SelectSessionHostsParameters {
  seed: Hex;
  hosts: readonly SelectableHost[];
  /** Unix milliseconds at which the session's epoch began. */
  epochStart: number;
  /** How many hosts to keep. */
  count: number;
}

/**
 * Picks a session's hosts: weighted rendezvous hashing over (seed, host id) with weight
 * `selectionWeight` (stake x reputation, floored), top `count` kept, best first. Ties
 * (practically impossible) fall back to the host id.
 *
 * @example
 * const seed = sessionSeed({ requestorId: "req_1", serviceId: "eth", epoch: 2_900_000 });
 * const hosts = selectSessionHosts({ seed, hosts: registry, epochStart, count: 24 });
 */
export function selectSessionHosts({ seed, hosts, epochStart, count }: SelectSessionHostsParameters): string[] {
  const seedHigh = Number.parseInt(seed.slice(2, 10), 16);
  const seedLow = Number.parseInt(seed.slice(10, 18), 16);
  // Keep only the best `count` (weighted rendezvous: score = weight / -ln(u)), without sorting all hosts.
  const best: { id: string; score: number }[] = [];
  let worst = 0; // index of the lowest score in `best` once it is full
  const before = (a: { id: string; score: number }, b: { id: string; score: number }) =>
    a.score > b.score || (a.score === b.score && a.id < b.id);
  for (const host of hosts) {
    if (!isEligible(host, epochStart)) continue;
    const weight = selectionWeight(host);
    const id = host.id;
    // Two FNV-1a words of the host id (different offset bases), in one pass over its UTF-16 code units.
    let h1 = 0x811c9dc5;
    let h2 = 0x050c5d1f;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x01000193);
    }
    const a = fmix32((h1 ^ seedHigh) >>> 0);
    if (best.length >= count) {
      // Rule the host out early when it provably cannot beat the worst one kept (NEG_LOG_BOUNDS).
      const worstScore = best[worst].score;
      const bound = NEG_LOG_BOUNDS[a >>> (32 - BUCKET_BITS)];
      if (worstScore >= SMALLEST_BOUNDED_SCORE && worstScore < Number.POSITIVE_INFINITY && weight < worstScore * bound) continue;
    }
    const b = fmix32((h2 ^ seedLow ^ Math.imul(a, 0x9e3779b1)) >>> 0);
    const score = weight / -Math.log(uniformFromWords(a, b));
    if (best.length < count) {
      best.push({ id, score });
      if (best.length === count) worst = indexOfWorst(best, before);
    } else if (score >= best[worst].score && before({ id, score }, best[worst])) {
      best[worst] = { id, score };
      worst = indexOfWorst(best, before);
    }
  }
  return best.sort((a, b) => (before(a, b) ? -1 : 1)).map((e) => e.id);
}

function indexOfWorst<T>(items: T[], before: (a: T, b: T) => boolean): number {
  let worst = 0;
  for (let i = 1; i < items.length; i++) if (before(items[worst], items[i])) worst = i;
  return worst;
}
