/**
 * Deterministic sessions (DESIGN.md step 2). Anyone with a snapshot of the host registry can
 * recompute a session with these functions and get the gateway's answer.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { type Hex, sha256Hex } from "./hex.js";
import { DEFAULT_REPUTATION } from "./quality.js";

/** Names the selection algorithm; bumped whenever its output could change. */
export const SELECTION_ALGORITHM = "wrh-sha256-v2";

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

const TWO_POW_53 = 2 ** 53;

/**
 * Weighted rendezvous score: `weight / -ln(u)`, with `u` in (0, 1) drawn from the keyed hash of
 * (seed, host id). Taking the top N scores is a weighted sample without replacement.
 */
function rendezvousScore(seedState: ReturnType<typeof sha256.create>, hostId: string, weight: number): number {
  const digest = seedState.clone().update(utf8ToBytes(hostId)).digest();
  const high = BigInt(`0x${bytesToHex(digest.subarray(0, 7))}`) >> 3n; // 53 bits
  const u = (Number(high) + 0.5) / TWO_POW_53;
  return weight / -Math.log(u);
}

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
 * `selectionWeight` (stake x reputation, floored), top `count` kept, best first. Ties (practically impossible) fall back to the host id.
 *
 * @example
 * const seed = sessionSeed({ requestorId: "req_1", serviceId: "eth", epoch: 2_900_000 });
 * const hosts = selectSessionHosts({ seed, hosts: registry, epochStart, count: 24 });
 */
export function selectSessionHosts({ seed, hosts, epochStart, count }: SelectSessionHostsParameters): string[] {
  const seedState = sha256.create().update(utf8ToBytes(`${seed}|`));
  const scored: { id: string; score: number }[] = [];
  for (const host of hosts) {
    if (!isEligible(host, epochStart)) continue;
    scored.push({ id: host.id, score: rendezvousScore(seedState, host.id, selectionWeight(host)) });
  }
  scored.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return scored.slice(0, count).map((s) => s.id);
}
