/**
 * Per-host circuit breaker for live routing (docs/protocol.md, "Relays and failover"). Closed: traffic flows. After
 * `threshold` consecutive failures it opens for a cooldown; then one trial relay is let through
 * (half-open): success closes it, failure opens it again for twice as long (capped). A host that
 * answered 429 with `Retry-After` is skipped until then. A successful probe while open moves the
 * breaker to half-open, so a healed host gets its trial without waiting for the cooldown.
 */

export interface BreakerParameters {
  threshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
}

export const DEFAULT_BREAKER: BreakerParameters = { threshold: 3, cooldownMs: 10_000, maxCooldownMs: 120_000 };

export interface BreakerState {
  state: "closed" | "open" | "half_open";
  consecutiveFailures: number;
  openUntil: number;
  cooldownMs: number;
  /** A half-open trial is out; no other relay goes to this host until it reports. */
  trialInFlight: boolean;
  /** Unix milliseconds before which the host asked not to be called (429 Retry-After). */
  retryAfterUntil: number;
}

export function newBreaker(params: BreakerParameters = DEFAULT_BREAKER): BreakerState {
  return {
    state: "closed",
    consecutiveFailures: 0,
    openUntil: 0,
    cooldownMs: params.cooldownMs,
    trialInFlight: false,
    retryAfterUntil: 0,
  };
}

/** Whether a relay may go to this host now; taking a half-open trial marks it in flight. */
export function admitThrough(b: BreakerState, now: number): boolean {
  if (now < b.retryAfterUntil) return false;
  if (b.state === "closed") return true;
  if (b.state === "open" && now < b.openUntil) return false;
  if (b.trialInFlight) return false;
  b.state = "half_open";
  b.trialInFlight = true;
  return true;
}

export function recordSuccess(b: BreakerState, params: BreakerParameters = DEFAULT_BREAKER): void {
  b.state = "closed";
  b.consecutiveFailures = 0;
  b.cooldownMs = params.cooldownMs;
  b.trialInFlight = false;
}

export function recordFailure(
  b: BreakerState,
  now: number,
  params: BreakerParameters = DEFAULT_BREAKER,
  retryAfterMs?: number,
): void {
  b.consecutiveFailures += 1;
  if (retryAfterMs !== undefined) b.retryAfterUntil = Math.max(b.retryAfterUntil, now + retryAfterMs);
  if (b.state === "half_open") {
    b.cooldownMs = Math.min(params.maxCooldownMs, b.cooldownMs * 2);
    b.state = "open";
    b.openUntil = now + b.cooldownMs;
  } else if (b.state === "closed" && b.consecutiveFailures >= params.threshold) {
    b.state = "open";
    b.openUntil = now + b.cooldownMs;
  }
  b.trialInFlight = false;
}

/** A probe answered well: an open breaker may send its trial now. */
export function recordProbeSuccess(b: BreakerState): void {
  if (b.state === "open") b.openUntil = 0;
}
