/**
 * The relay engine (docs/protocol.md, "The relay engine"): failover, hedging and quorum reads as
 * one loop over a relay's candidate hosts, used by JSON-RPC and HTTP relays (and by anything
 * else that relays a request and waits for one answer). Breakers and `Retry-After` act before
 * it: they order and filter the candidates (`workers/relay/session-lease.ts`); the engine's
 * observations feed them back.
 *
 * - **Failover.** One attempt at a time, each with its own timeout, within the relay's deadline;
 *   a failure moves on to the next candidate (`maxAttempts` in all).
 * - **Hedging.** When the request may be sent twice (reads only) and the first host has not
 *   answered by the hedge delay (its recent latency's percentile in this isolate, never below a
 *   floor), the next candidate is sent the same request; the first good answer wins and the other
 *   attempt is cancelled (its `AbortController`). Hedges draw on a per-isolate, per-service token
 *   bucket, so at most the budget's share of relays is hedged.
 * - **Quorum.** `size` candidates are asked at once; an answer is returned only when a majority
 *   (`floor(size / 2) + 1`) give the same one (compared canonically by `key`). A host that fails
 *   is replaced by the next candidate. Hosts whose answers differ from the majority's are the
 *   minority (the caller samples them); no majority is an error, never a guess.
 *
 * Everything a call creates (timers, controllers, fetches) belongs to the request that made it;
 * the only state shared between requests is plain numbers (latency samples, hedge tokens).
 */
import type { SessionHost } from "../sessions/plan-session.js";
import type { HostObservation } from "../sessions/session-messages.js";

export interface AttemptFailure {
  hostId: string;
  reason:
    | "connect_error"
    | "timeout"
    | "server_error"
    | "rate_limited"
    | "redirect"
    | "bad_response"
    | "host_error"
    | "too_large"
    | "wrong_answer";
  status?: number;
  /** From a 429's `Retry-After`, in milliseconds. */
  retryAfterMs?: number;
}

/** A failure as the attempt loop records it, with how long the attempt took. */
export type TimedFailure = AttemptFailure & { latencyMs: number };

export interface AttemptBudget {
  candidates: readonly SessionHost[];
  maxAttempts: number;
  attemptTimeoutMs: number;
  /** Unix milliseconds by which the relay must have an answer. */
  deadline: number;
}

/** What one attempt decided: an answer to return, or a failure to fail over from. */
export type AttemptOutcome<T> = { ok: true; value: T } | { ok: false; failure: AttemptFailure };

/** A relay's attempts as callers before the engine saw them (an `EngineResult` is one). */
export type AttemptsResult<T> =
  | { ok: true; host: SessionHost; value: T; attempts: number; latencyMs: number; failures: TimedFailure[] }
  | { ok: false; attempts: number; failures: TimedFailure[]; lastHost: SessionHost | null };

/** What the engine did for one relay: response headers and the receipt are made from it. */
export interface EngineReport {
  /** Attempts started (cancelled ones included): the receipt's `attempts`. */
  attempts: number;
  /** Attempts that failed (a failover followed each, when a candidate was left). */
  failovers: number;
  /** A hedge was sent; `hedgeWon` when its answer was the one returned. */
  hedged: boolean;
  hedgeWon: boolean;
  /** Attempts stopped because another answer won (neither credited nor counted as failures). */
  cancelled: { hostId: string; latencyMs: number }[];
  /** For a quorum read: hosts asked, hosts that agreed on the answer, and those that answered otherwise. */
  quorum?: {
    size: number;
    asked: number;
    agreed: number;
    /** Hosts that gave the majority's answer, the winner excepted. */
    concurring: { hostId: string; latencyMs: number }[];
    /** Hosts whose answer differed from the majority's and counts against them (`QuorumPlan.accusable`). */
    minority: { hostId: string; latencyMs: number }[];
  };
}

export type EngineResult<T> =
  | {
      ok: true;
      host: SessionHost;
      value: T;
      attempts: number;
      latencyMs: number;
      failures: TimedFailure[];
      engine: EngineReport;
    }
  | {
      ok: false;
      attempts: number;
      failures: TimedFailure[];
      lastHost: SessionHost | null;
      engine: EngineReport;
      /** Set when hosts answered but no majority agreed (`disagreement`) or too few answered (`too_few`). */
      quorumFailure?: "disagreement" | "too_few";
    };

export interface HedgePlan {
  /** Hedge budget of this service in this isolate. */
  bucket: HedgeBucket;
  percentile: number;
  minDelayMs: number;
}

export interface QuorumPlan<T> {
  size: number;
  /** The canonical form of an answer: answers with the same key agree. */
  key: (value: T) => string;
  /**
   * Whether an answer that differs from the majority's counts against its host (default: yes).
   * "I do not know" (a null result, an error such as an unknown block from a host a block behind)
   * is not a wrong answer, so a caller cannot smear a lagging host with calls at the newest block.
   */
  accusable?: (value: T) => boolean;
}

export interface EnginePlan<T> {
  /** Hedge when the request may be sent twice; absent: never. */
  hedge?: HedgePlan | null;
  /** Ask a quorum; absent: one answer suffices. */
  quorum?: QuorumPlan<T> | null;
  /** Called with an answer that lost (an HTTP body to cancel). */
  discard?: (value: T) => void;
}

// ---------------------------------------------------------------------------------------------
// Per-isolate state: recent latencies per host and hedge tokens per service.

const LATENCY_WINDOW = 64;
/** Fewer samples than this and the hedge delay is the floor. */
const MIN_LATENCY_SAMPLES = 8;

/** Recent attempt latencies of one host in this isolate (a ring of `LATENCY_WINDOW`). */
class LatencyWindow {
  private readonly samples = new Float64Array(LATENCY_WINDOW);
  private count = 0;
  add(ms: number): void {
    this.samples[this.count % LATENCY_WINDOW] = ms;
    this.count += 1;
  }
  percentile(p: number): number | null {
    const n = Math.min(this.count, LATENCY_WINDOW);
    if (n < MIN_LATENCY_SAMPLES) return null;
    const sorted = this.samples.slice(0, n).sort();
    return sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)];
  }
}

const latencies = new Map<string, LatencyWindow>();
const MAX_TRACKED_HOSTS = 10_000;

/** Records how long an attempt at a host took (a lower bound for a cancelled one). */
export function recordLatency(hostId: string, ms: number): void {
  let window = latencies.get(hostId);
  if (!window) {
    if (latencies.size >= MAX_TRACKED_HOSTS) latencies.clear();
    window = new LatencyWindow();
    latencies.set(hostId, window);
  }
  window.add(ms);
}

/** The delay after which a relay to `hostId` is hedged: the percentile of its recent latencies, at least the floor. */
export function hedgeDelayMs(hostId: string, percentile: number, minDelayMs: number): number {
  const observed = latencies.get(hostId)?.percentile(percentile) ?? null;
  return Math.max(minDelayMs, observed ?? minDelayMs);
}

/**
 * A token bucket bounding hedges to `percent` of relays: every hedge-eligible relay adds
 * `percent / 100` of a token (up to one), a hedge takes a whole one. So over any run of relays at
 * most `1 + percent / 100 x relays` are hedged.
 */
export class HedgeBucket {
  private tokens = 1;
  constructor(private percent: number) {}
  setPercent(percent: number): void {
    this.percent = percent;
  }
  /** One more relay that could be hedged. */
  credit(): void {
    this.tokens = Math.min(1, this.tokens + this.percent / 100);
  }
  take(): boolean {
    if (this.percent <= 0 || this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

const buckets = new Map<string, HedgeBucket>();
const hedgeCounts = { eligible: 0, hedged: 0 };

/** The hedge bucket of a service in this isolate, credited for one relay. */
export function hedgeBucketFor(serviceId: string, percent: number): HedgeBucket {
  let bucket = buckets.get(serviceId);
  if (!bucket) {
    if (buckets.size >= 10_000) buckets.clear();
    bucket = new HedgeBucket(percent);
    buckets.set(serviceId, bucket);
  }
  bucket.setPercent(percent);
  bucket.credit();
  hedgeCounts.eligible += 1;
  return bucket;
}

/** Hedge-eligible relays and hedges sent in this isolate (for benchmarks and tests). */
export function hedgeStats(): { eligible: number; hedged: number } {
  return { ...hedgeCounts };
}

// ---------------------------------------------------------------------------------------------

/** JSON with object keys sorted: two answers agree when their canonical forms are equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** An attempt's abort controller, aborted with a `TimeoutError` after `ms` (the timer is the caller's to clear). */
function attemptTimeout(ms: number): { controller: AbortController; timer: ReturnType<typeof setTimeout> } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("attempt timed out", "TimeoutError")), ms);
  return { controller, timer };
}

type FailedOutcome = { ok: false; failure: AttemptFailure } | { ok: false; thrown: unknown };

/** A failed attempt as the failure it counts as: its own, or a timeout / connection error when it threw. */
function failureOf(host: SessionHost, controller: AbortController, outcome: FailedOutcome, latencyMs: number): TimedFailure {
  if ("failure" in outcome) return { ...outcome.failure, latencyMs };
  const timedOut = controller.signal.aborted;
  if (!timedOut) console.warn("relay attempt failed", host.id, String(outcome.thrown));
  return { hostId: host.id, reason: timedOut ? "timeout" : "connect_error", latencyMs };
}

interface Running {
  index: number;
  host: SessionHost;
  began: number;
  controller: AbortController;
  timer: ReturnType<typeof setTimeout>;
  hedge: boolean;
}

type Event<T> =
  | { kind: "hedge" }
  | { kind: "settled"; run: Running; outcome: AttemptOutcome<T> | { ok: false; thrown: unknown } };

/**
 * Runs a relay through the engine: `attempt` is one try at one host (it gets an abort signal that
 * fires at its timeout or when another answer wins). Returns the winning answer, or every failure.
 */
export async function runEngine<T>(
  budget: AttemptBudget,
  attempt: (host: SessionHost, signal: AbortSignal) => Promise<AttemptOutcome<T>>,
  plan: EnginePlan<T> = {},
): Promise<EngineResult<T>> {
  const { candidates, attemptTimeoutMs, deadline } = budget;
  const quorum = plan.quorum ?? null;
  const hedge = quorum ? null : (plan.hedge ?? null);
  if (!quorum && !hedge) return failover(budget, attempt);
  const limit = Math.min(candidates.length, quorum ? budget.maxAttempts + quorum.size - 1 : budget.maxAttempts);
  const report: EngineReport = { attempts: 0, failovers: 0, hedged: false, hedgeWon: false, cancelled: [] };
  const failures: TimedFailure[] = [];
  const running = new Map<number, Running>();
  let next = 0;
  let lastHost: SessionHost | null = null;

  const queue: Event<T>[] = [];
  let wake: (() => void) | null = null;
  const push = (event: Event<T>) => {
    queue.push(event);
    wake?.();
  };
  const nextEvent = async (): Promise<Event<T>> => {
    while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
    return queue.shift() as Event<T>;
  };

  const launch = (asHedge = false): boolean => {
    const remaining = deadline - Date.now();
    if (next >= limit || remaining <= 0) return false;
    const index = next++;
    const host = candidates[index];
    lastHost = host;
    report.attempts += 1;
    const { controller, timer } = attemptTimeout(Math.min(attemptTimeoutMs, remaining));
    const run: Running = { index, host, began: Date.now(), controller, timer, hedge: asHedge };
    running.set(index, run);
    attempt(host, controller.signal).then(
      (outcome) => push({ kind: "settled", run, outcome }),
      (thrown: unknown) => push({ kind: "settled", run, outcome: { ok: false, thrown } }),
    );
    return true;
  };

  let hedgeTimer: ReturnType<typeof setTimeout> | null = null;
  let winner: { run: Running; value: T; latencyMs: number } | null = null;
  /** Quorum answers so far, by canonical key. */
  const groups = new Map<string, { run: Running; value: T; latencyMs: number }[]>();
  const majority = quorum ? Math.floor(quorum.size / 2) + 1 : 1;

  const initial = quorum ? Math.min(quorum.size, limit) : 1;
  for (let i = 0; i < initial; i++) launch();
  if (hedge && running.size === 1 && limit > 1) {
    const first = candidates[0];
    const delay = hedgeDelayMs(first.id, hedge.percentile, hedge.minDelayMs);
    if (delay < Math.min(attemptTimeoutMs, deadline - Date.now())) {
      hedgeTimer = setTimeout(() => push({ kind: "hedge" }), delay);
    }
  }

  while (running.size > 0) {
    const event = await nextEvent();
    if (event.kind === "hedge") {
      hedgeTimer = null;
      if (winner || running.size !== 1 || !hedge) continue;
      if (hedge.bucket.take() && launch(true)) {
        report.hedged = true;
        hedgeCounts.hedged += 1;
      }
      continue;
    }
    const { run, outcome } = event;
    if (!running.has(run.index)) continue;
    running.delete(run.index);
    clearTimeout(run.timer);
    const latencyMs = Date.now() - run.began;
    if (outcome.ok) {
      recordLatency(run.host.id, latencyMs);
      if (!quorum) {
        winner = { run, value: outcome.value, latencyMs };
        break;
      }
      let key: string;
      try {
        key = quorum.key(outcome.value);
      } catch {
        // An answer the comparison cannot read counts as the host's bad answer.
        failures.push({ hostId: run.host.id, reason: "bad_response", latencyMs });
        report.failovers += 1;
        launch();
        continue;
      }
      const group = groups.get(key) ?? [];
      group.push({ run, value: outcome.value, latencyMs });
      groups.set(key, group);
      if (group.length >= majority) {
        winner = group[0];
        break;
      }
      continue;
    }
    const failure = failureOf(run.host, run.controller, outcome, latencyMs);
    failures.push(failure);
    report.failovers += 1;
    // A failed quorum member is replaced; a failed lone attempt fails over (a running hedge carries on).
    if (quorum || running.size === 0) launch();
  }

  if (hedgeTimer) clearTimeout(hedgeTimer);
  for (const run of running.values()) {
    clearTimeout(run.timer);
    run.controller.abort(new DOMException("another host answered first", "AbortError"));
    const latencyMs = Date.now() - run.began;
    report.cancelled.push({ hostId: run.host.id, latencyMs });
    recordLatency(run.host.id, latencyMs);
  }
  // Late answers of cancelled attempts are dropped (their bodies cancelled); nothing else waits on them.
  if (running.size > 0) {
    const late = running;
    const drain = async () => {
      while (late.size > 0) {
        const event = await nextEvent();
        if (event.kind !== "settled" || !late.has(event.run.index)) continue;
        late.delete(event.run.index);
        if (event.outcome.ok) plan.discard?.(event.outcome.value);
      }
    };
    drain().catch(() => undefined);
  }

  if (quorum) {
    const answered = [...groups.values()].reduce((n, g) => n + g.length, 0);
    const winningKey = winner ? quorum.key(winner.value) : null;
    const timed = (a: { run: Running; latencyMs: number }) => ({ hostId: a.run.host.id, latencyMs: a.latencyMs });
    const majorityGroup = winningKey === null ? [] : (groups.get(winningKey) ?? []);
    report.quorum = {
      size: quorum.size,
      asked: report.attempts,
      agreed: majorityGroup.length,
      concurring: majorityGroup.filter((a) => a !== winner).map(timed),
      minority: winner
        ? [...groups.entries()]
            .filter(([key]) => key !== winningKey)
            .flatMap(([, g]) => g.filter((a) => quorum.accusable?.(a.value) ?? true).map(timed))
        : [],
    };
    for (const group of groups.values()) for (const a of group) if (a !== winner) plan.discard?.(a.value);
    if (!winner) {
      return {
        ok: false,
        attempts: report.attempts,
        failures,
        lastHost,
        engine: report,
        quorumFailure: groups.size > 1 ? "disagreement" : answered > 0 ? "too_few" : undefined,
      };
    }
  }
  if (!winner) return { ok: false, attempts: report.attempts, failures, lastHost, engine: report };
  report.hedgeWon = winner.run.hedge;
  return {
    ok: true,
    host: winner.run.host,
    value: winner.value,
    attempts: report.attempts,
    latencyMs: winner.latencyMs,
    failures,
    engine: report,
  };
}

/**
 * Failover alone (no hedge, no quorum: every relay of a service without a `relayPolicy`): the
 * same attempts, timeouts, failures and report as the loop in `runEngine`, one attempt at a time
 * without its event queue, which allocated a tenth of a relay's garbage for what a plain loop does.
 */
async function failover<T>(
  budget: AttemptBudget,
  attempt: (host: SessionHost, signal: AbortSignal) => Promise<AttemptOutcome<T>>,
): Promise<EngineResult<T>> {
  const { candidates, attemptTimeoutMs, deadline } = budget;
  const limit = Math.min(candidates.length, budget.maxAttempts);
  const report: EngineReport = { attempts: 0, failovers: 0, hedged: false, hedgeWon: false, cancelled: [] };
  const failures: TimedFailure[] = [];
  let lastHost: SessionHost | null = null;
  for (let index = 0; index < limit; index++) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    const host = candidates[index];
    lastHost = host;
    report.attempts += 1;
    const { controller, timer } = attemptTimeout(Math.min(attemptTimeoutMs, remaining));
    const began = Date.now();
    let outcome: AttemptOutcome<T> | { ok: false; thrown: unknown };
    try {
      outcome = await attempt(host, controller.signal);
    } catch (thrown) {
      outcome = { ok: false, thrown };
    }
    clearTimeout(timer);
    const latencyMs = Date.now() - began;
    if (outcome.ok) {
      recordLatency(host.id, latencyMs);
      return { ok: true, host, value: outcome.value, attempts: report.attempts, latencyMs, failures, engine: report };
    }
    failures.push(failureOf(host, controller, outcome, latencyMs));
    report.failovers += 1;
  }
  return { ok: false, attempts: report.attempts, failures, lastHost, engine: report };
}

/**
 * Every attempt of a finished relay as host observations for breakers and live quality: failures,
 * the minority of a quorum (a wrong answer), then the answer. Cancelled attempts are neither.
 */
export function engineObservations(result: EngineResult<unknown>): HostObservation[] {
  if (result.ok && result.failures.length === 0 && !result.engine.quorum) {
    return [{ hostId: result.host.id, ok: true, latencyMs: result.latencyMs }]; // most relays: one attempt, answered
  }
  const failed = result.failures.map((f) => ({
    hostId: f.hostId,
    ok: false,
    latencyMs: f.latencyMs,
    retryAfterMs: f.retryAfterMs,
  }));
  const minority = (result.engine.quorum?.minority ?? []).map((m) => ({ hostId: m.hostId, ok: false, latencyMs: m.latencyMs }));
  const concurring = (result.engine.quorum?.concurring ?? []).map((m) => ({
    hostId: m.hostId,
    ok: true,
    latencyMs: m.latencyMs,
  }));
  return result.ok
    ? [...failed, ...minority, ...concurring, { hostId: result.host.id, ok: true, latencyMs: result.latencyMs }]
    : [...failed, ...minority];
}
