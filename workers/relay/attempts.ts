/**
 * One attempt at one host (docs/protocol.md, "Relays and failover"): what it can end in, and the
 * fetch every relay attempt makes. A connection error, timeout, 5xx, 429, redirect or unusable
 * answer is a failure the engine (`workers/relay/engine.ts`) fails over from. Redirects are never
 * followed: a host must not be able to point the gateway at another address.
 */
import type { SessionHost } from "../sessions/plan-session.js";
import {
  type AttemptBudget,
  type AttemptFailure,
  type AttemptOutcome,
  type EngineResult,
  engineObservations,
  runEngine,
} from "./engine.js";

export type {
  AttemptBudget,
  AttemptFailure,
  AttemptOutcome,
  AttemptsResult,
  TimedFailure,
} from "./engine.js";

/**
 * Tries the candidates in order until one answers: the engine with failover alone (no hedge, no
 * quorum). Kept for callers written before the engine; new code calls `runEngine` or the entry
 * points in `engine-relay.ts`.
 */
export function tryHosts<T>(
  budget: AttemptBudget,
  attempt: (host: SessionHost, signal: AbortSignal) => Promise<AttemptOutcome<T>>,
): Promise<EngineResult<T>> {
  return runEngine(budget, attempt);
}

/** Every attempt of a finished relay as host observations (see `engineObservations`, which this is). */
export const observationsOf = (result: EngineResult<unknown>) => engineObservations(result);

/** Seconds or an HTTP date in `Retry-After`, as milliseconds from now (capped at ten minutes). */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.min(600_000, Math.max(0, seconds * 1000)) : undefined;
}

/** Classifies a host's HTTP answer: null when it is an answer, else the failure it counts as. */
export function statusFailure(hostId: string, response: Response): AttemptFailure | null {
  const status = response.status;
  if (status >= 500) return { hostId, reason: "server_error", status };
  if (status === 429)
    return { hostId, reason: "rate_limited", status, retryAfterMs: retryAfterMs(response.headers.get("retry-after")) };
  if (status >= 300 && status < 400) return { hostId, reason: "redirect", status };
  return null;
}

/**
 * Fetches from a host without following redirects; a status that counts as a failure (5xx, 429,
 * 3xx) becomes one, with its body discarded.
 */
export async function fetchFromHost(
  hostId: string,
  url: string,
  init: { method: string; headers: HeadersInit; body: BodyInit | null },
  signal: AbortSignal,
): Promise<AttemptOutcome<Response>> {
  const response = await fetch(url, { method: init.method, headers: init.headers, body: init.body, redirect: "manual", signal });
  const failure = statusFailure(hostId, response);
  if (failure) {
    await response.body?.cancel();
    return { ok: false, failure };
  }
  return { ok: true, value: response };
}
