/**
 * Ordering a session's hosts for one relay (docs/protocol.md, "Relays and failover"): nearest first, with quality
 * counted as distance so that among near hosts the better one wins, hosts the breaker keeps out
 * last (tried only when every other host failed), and a small probation share for low-quality
 * hosts so they can show they recovered.
 */
import { type BreakerParameters, type BreakerState, recordFailure, recordProbeSuccess, recordSuccess } from "./breaker.js";
import { type GeoPoint, haversineKm } from "./geo.js";
import { type LatencyProfile, latencyScore } from "./quality.js";

export interface RoutableHost extends GeoPoint {
  id: string;
  /** Live quality in [0, 1]. */
  quality: number;
  /** False when the circuit breaker or a 429 keeps traffic away now. */
  available: boolean;
}

export interface RoutingParameters {
  /** A host of quality q is treated as `(1 - q) * qualityPenaltyKm` farther away. */
  qualityPenaltyKm: number;
  /** Below this quality a host is on probation. */
  probationQuality: number;
  /** One relay in this many goes first to the nearest available host on probation. */
  probationEvery: number;
}

export const DEFAULT_ROUTING: RoutingParameters = { qualityPenaltyKm: 2_000, probationQuality: 0.5, probationEvery: 20 };

/**
 * Candidates for relay number `relayIndex`, best first. Without a caller location, distance is 0
 * for all and quality alone orders them (ties keep the session's rendezvous order).
 */
export function rankHosts<T extends RoutableHost>(
  hosts: readonly T[],
  caller: GeoPoint | null,
  relayIndex: number,
  params: RoutingParameters = DEFAULT_ROUTING,
): T[] {
  const scored = hosts.map((host, index) => {
    const km = caller ? haversineKm(caller, host) : 0;
    return { host, index, km, cost: km + (1 - host.quality) * params.qualityPenaltyKm };
  });
  const byCost = (a: (typeof scored)[number], b: (typeof scored)[number]) => a.cost - b.cost || a.index - b.index;
  const available = scored.filter((s) => s.host.available).sort(byCost);
  const unavailable = scored.filter((s) => !s.host.available).sort((a, b) => a.km - b.km || a.index - b.index);
  if (relayIndex % params.probationEvery === params.probationEvery - 1) {
    const onProbation = available.filter((s) => s.host.quality < params.probationQuality).sort((a, b) => a.km - b.km);
    if (onProbation.length && onProbation.length < available.length) {
      const chosen = onProbation[0];
      available.splice(available.indexOf(chosen), 1);
      available.unshift(chosen);
    }
  }
  return [...available, ...unavailable].map((s) => s.host);
}

/** Moves live quality towards one observation: `latencyScore` for a good answer, 0 for a failure. */
export function updateQuality(quality: number, observation: number, weight = 0.2): number {
  return (1 - weight) * quality + weight * observation;
}

/** A host's live routing state: its quality and its circuit breaker. */
export interface LiveHost {
  quality: number;
  breaker: BreakerState;
}

/**
 * Applies one attempt's outcome to a host's live state: quality moves towards the attempt's
 * latency score (0 for a failure), and the breaker records it. A probe's success only lets an
 * open breaker try again at once (`recordProbeSuccess`); a relay's closes it.
 */
export function observeHost(
  live: LiveHost,
  observation: { ok: boolean; latencyMs: number; retryAfterMs?: number },
  now: number,
  profile: LatencyProfile,
  breaker: BreakerParameters,
  probe = false,
): void {
  live.quality = updateQuality(live.quality, observation.ok ? latencyScore(observation.latencyMs, profile) : 0);
  if (observation.ok && probe) recordProbeSuccess(live.breaker);
  else if (observation.ok) recordSuccess(live.breaker, breaker);
  else recordFailure(live.breaker, now, breaker, observation.retryAfterMs);
}

/** Whether a host may take a relay now: not asked to back off, and its breaker closed or due for a trial. */
export function availableNow(b: BreakerState, now: number): boolean {
  return now >= b.retryAfterUntil && (b.state === "closed" || (!b.trialInFlight && now >= b.openUntil));
}
