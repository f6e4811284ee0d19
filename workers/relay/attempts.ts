/**
 * Trying a relay's candidate hosts in order (DESIGN.md step 4): each attempt has its own
 * timeout, the whole relay a deadline, and a connection error, timeout, 5xx, 429, redirect or
 * unusable answer moves on to the next host. Redirects are never followed: a host must not be
 * able to point the gateway at another address.
 */
import type { SessionHost } from "../sessions/plan-session.js";

export interface AttemptFailure {
  hostId: string;
  reason: "connect_error" | "timeout" | "server_error" | "rate_limited" | "redirect" | "bad_response" | "cut_stream";
  status?: number;
}

export interface AttemptBudget {
  candidates: readonly SessionHost[];
  maxAttempts: number;
  attemptTimeoutMs: number;
  /** Unix milliseconds by which the relay must have an answer. */
  deadline: number;
}

/** What one attempt decided: an answer to return, or a failure to fail over from. */
export type AttemptOutcome<T> = { ok: true; value: T } | { ok: false; failure: AttemptFailure };

export type AttemptsResult<T> =
  | { ok: true; host: SessionHost; value: T; attempts: number; failures: AttemptFailure[] }
  | { ok: false; attempts: number; failures: AttemptFailure[]; lastHost: SessionHost | null };

/** Classifies a host's HTTP status: null when it is an answer, else the failure it counts as. */
export function statusFailure(hostId: string, status: number): AttemptFailure | null {
  if (status >= 500) return { hostId, reason: "server_error", status };
  if (status === 429) return { hostId, reason: "rate_limited", status };
  if (status >= 300 && status < 400) return { hostId, reason: "redirect", status };
  return null;
}

/**
 * Runs `attempt` against candidates in order until one returns an answer. `attempt` receives an
 * abort signal that fires at its timeout; the timer stops when the attempt returns, so a stream
 * it hands over is watched by the stream's own idle timeout from then on.
 */
export async function tryHosts<T>(
  budget: AttemptBudget,
  attempt: (host: SessionHost, signal: AbortSignal) => Promise<AttemptOutcome<T>>,
): Promise<AttemptsResult<T>> {
  const failures: AttemptFailure[] = [];
  let attempts = 0;
  let lastHost: SessionHost | null = null;
  for (const host of budget.candidates.slice(0, budget.maxAttempts)) {
    const remaining = budget.deadline - Date.now();
    if (remaining <= 0) break;
    attempts += 1;
    lastHost = host;
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException("attempt timed out", "TimeoutError")),
      Math.min(budget.attemptTimeoutMs, remaining),
    );
    try {
      const outcome = await attempt(host, controller.signal);
      if (outcome.ok) return { ok: true, host, value: outcome.value, attempts, failures };
      failures.push(outcome.failure);
    } catch (error) {
      failures.push({ hostId: host.id, reason: controller.signal.aborted ? "timeout" : "connect_error" });
      if (!controller.signal.aborted) console.warn("relay attempt failed", host.id, String(error));
    } finally {
      clearTimeout(timer);
    }
  }
  return { ok: false, attempts, failures, lastHost };
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
  const response = await fetch(url, { ...init, redirect: "manual", signal });
  const failure = statusFailure(hostId, response.status);
  if (failure) {
    await response.body?.cancel();
    return { ok: false, failure };
  }
  return { ok: true, value: response };
}
