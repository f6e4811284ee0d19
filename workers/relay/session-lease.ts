/**
 * The isolate's side of a session (docs/architecture.md, "Leases"): relays are admitted against
 * a lease taken from the session's `RelaySession` object (a range of relay indexes and a slice of
 * the quota), their receipts are kept here and reported to the object in batches, and the
 * object's live routing state (host quality, breakers) is followed locally between leases. In
 * steady state a relay makes no call to the object: one lease and one report serve hundreds.
 *
 * - A lease is sized to last about `LEASE_WINDOW_MS` at the rate this isolate sees (16 to 8,192
 *   relays); concurrent relays waiting for a lease share one request for it.
 * - Receipts are reported within `RECEIPT_REPORT_MS` of a relay's end (at once when
 *   `REPORT_BATCH` wait), with the attempts' observations; a lease nobody uses any more (idle for
 *   a report interval, or expired) goes back with the same report, so its unused indexes and quota
 *   return to the session.
 * - Reports are idempotent by relay index: a report that failed is sent again with the next one.
 *   An isolate that dies before reporting leaves its leased indexes `unreported` at close.
 */
import { admitThrough, type BreakerParameters } from "../../protocol/breaker.js";
import type { GeoPoint } from "../../protocol/geo.js";
import { DEFAULT_PRIORITY, type SelectionRequirement } from "../../protocol/market.js";
import { MAX_KEPT_SHAPES, MAX_REPORTED_SHAPES, shapeKey, type TrafficShape } from "../../protocol/probe-shapes.js";
import { DEFAULT_LATENCY_PROFILES } from "../../protocol/quality.js";
import { availableNow, type LiveHost, observeHost, rankHosts } from "../../protocol/routing.js";
import type { SessionCoordinates } from "../../protocol/session.js";
import type { GatewayConfig } from "../config.js";
import { PriorityQueue } from "../market/priority-queue.js";
import type { SessionHost, SessionService } from "../sessions/plan-session.js";
import {
  type HostObservation,
  type HostRouting,
  LEASE_IDLE_MS,
  type Lease,
  type LeaseResult,
  type LeaseReturn,
  type ReceiptReport,
  type ReportedReceipt,
} from "../sessions/session-messages.js";
import { relaySessionStub } from "../sessions/session-stub.js";

/**
 * Where the caller is, asked only when a relay's hosts must be ranked by distance (a session of
 * one host needs no ranking, and reading `request.cf` costs a parse of the whole object).
 */
export type CallerLocation = () => GeoPoint | null;

type GrantedLease = Extract<LeaseResult, { ok: true }>;

/** A lease aims to last this long at the rate its isolate sees. */
const LEASE_WINDOW_MS = 2_000;
const MIN_LEASE_RELAYS = 16;
const MAX_LEASE_RELAYS = 8_192;
/** Follow-up reports one request's context carries before leaving them to relays in flight. */
const MAX_CHAINED_REPORTS = 2;
/** Receipts waiting that make a report go at once, without waiting for the interval. */
export const REPORT_BATCH = 256;
/** Most receipts held back when the object cannot be reached (older ones are dropped: they end `unreported`). */
const MAX_HELD_RECEIPTS = 20_000;
/** Longest a relay waits for a slot under the in-flight limit before 429 `session_busy`. */
const QUEUE_WAIT_MS = 2_000;

export interface SessionRef extends SessionCoordinates {
  sessionId: string;
}

export type Admission =
  | {
      ok: true;
      sessionId: string;
      relayIndex: number;
      leaseId: string;
      computeUnits: number;
      candidates: SessionHost[];
      service: SessionService;
    }
  | { ok: false; reason: "quota_exhausted" | "busy"; retryAfterSeconds: number }
  | { ok: false; reason: "session_closed" | "too_many_requirement_sets" }
  | { ok: false; reason: "no_hosts"; excludedBy?: SelectionRequirement };

/** One session's lease, buffered receipts and routing state in this isolate. */
class SessionLeases {
  private lease: Lease | null = null;
  private next = 0;
  private budget = 0;
  private hosts: SessionHost[] = [];
  private service: SessionService | null = null;
  private endsAt = 0;
  private live = new Map<string, LiveHost>();
  private inFlight = 0;
  /** Relays waiting for a slot under the in-flight limit, highest priority first (docs/market.md). */
  private queue: PriorityQueue;
  /** Slots handed to woken waiters that have not taken them yet. */
  private handedOff = 0;
  private acquiring: Promise<LeaseResult> | null = null;
  /** The next lease, taken while the current one still has room, so no relay waits for one. */
  private spare: GrantedLease | null = null;
  private renewing: Promise<void> | null = null;
  /** No renewal before this (after one was refused or failed). */
  private renewAfter = 0;
  /** Admissions that waited for a lease from the object (steady state: none). */
  waitedForLease = 0;
  /** Leases given back because no relay came for a whole report interval. */
  idleReturns = 0;
  private receipts: ReportedReceipt[] = [];
  private observations: HostObservation[] = [];
  /** Read-only call shapes since the last report, for the fisherman's incognito probes. */
  private shapes: TrafficShape[] = [];
  /** Shapes this isolate has reported: each goes to the object once (a session repeats a few calls). */
  private shapeKeys = new Set<string>();
  private returned: LeaseReturn[] = [];
  private reporting: Promise<void> | null = null;
  /** The next report, not yet sent: it takes every receipt waiting when it fires. */
  private scheduled: Promise<void> | null = null;
  private lastAdmittedAt = 0;
  private leaseGrantedAt = 0;
  private usedOfLease = 0;
  private wantRelays = MIN_LEASE_RELAYS;
  private costEstimate = 1;

  constructor(
    readonly session: SessionRef,
    private readonly config: GatewayConfig,
  ) {
    this.queue = new PriorityQueue(config.sessionMaxInFlight);
  }

  /** Relays waiting for a slot under the in-flight limit. */
  get waiting(): number {
    return this.queue.size;
  }

  /** True once the session is over and nothing is left to report (the holder can be forgotten). */
  finished(now: number): boolean {
    const grace = this.config.rolloverGraceSeconds * 1000;
    return (
      this.endsAt > 0 &&
      now > this.endsAt + grace &&
      this.inFlight === 0 &&
      this.queue.size === 0 &&
      this.receipts.length === 0 &&
      this.returned.length === 0 &&
      this.lease === null &&
      this.spare === null &&
      !this.renewing &&
      !this.reporting
    );
  }

  private usable(now: number, cost: number): boolean {
    return this.lease !== null && now < this.lease.expiresAt && this.next < this.lease.end && this.budget >= cost;
  }

  /**
   * Admits one relay of `cost` compute units: locally when the lease has room, else from the
   * spare lease taken ahead, else after taking a new lease. `keepAlive` receives the renewal this
   * admission starts, if any (for `waitUntil`).
   */
  async admit(
    env: Env,
    requestorStake: bigint,
    cost: number,
    caller: CallerLocation,
    now: number,
    keepAlive: (work: Promise<void>) => void,
    priority = DEFAULT_PRIORITY,
  ): Promise<Admission> {
    let at = now;
    if (this.inFlight + this.handedOff >= this.config.sessionMaxInFlight) {
      // At the limit, wait for a slot: the highest priority gets the next one (bounded by half the relay deadline).
      const waitMs = Math.min(QUEUE_WAIT_MS, this.config.relayDeadlineMs / 2);
      if (!(await this.queue.wait(priority, waitMs))) return { ok: false, reason: "busy", retryAfterSeconds: 1 };
      this.handedOff -= 1;
      at = Math.max(now, Date.now());
    }
    const admission = await this.admitNow(env, requestorStake, cost, caller, at, keepAlive);
    // A slot this relay did not take goes to the next waiter.
    if (!admission.ok && this.inFlight + this.handedOff < this.config.sessionMaxInFlight && this.queue.wake())
      this.handedOff += 1;
    return admission;
  }

  private async admitNow(
    env: Env,
    requestorStake: bigint,
    cost: number,
    caller: CallerLocation,
    now: number,
    keepAlive: (work: Promise<void>) => void,
  ): Promise<Admission> {
    for (let tries = 0; tries < 4; tries++) {
      if (this.usable(now, cost)) {
        const admission = this.take(cost, caller, now);
        const renewal = this.renewIfLow(env, requestorStake, cost, now);
        if (renewal) keepAlive(renewal);
        return admission;
      }
      if (this.adoptSpare(now)) continue;
      if (tries === 0) this.waitedForLease += 1;
      if (this.renewing) {
        await this.renewing;
        continue;
      }
      const result = await this.acquire(env, requestorStake, cost, now);
      if (!result.ok) return result;
    }
    // Other relays kept taking the room each new lease made: the session is busy in this isolate.
    return { ok: false, reason: "busy", retryAfterSeconds: 1 };
  }

  /**
   * Takes the next lease in the background once half the current one's indexes or compute units
   * are used, or three quarters of its time: at a steady rate it arrives long before the current
   * one runs out, so in production no relay pays the round trip to the session's object (which may
   * be on another continent). Returns the renewal's promise when this call started one.
   */
  private renewIfLow(env: Env, requestorStake: bigint, cost: number, now: number): Promise<void> | null {
    const lease = this.lease;
    if (!lease || this.spare || this.renewing || this.acquiring || now < this.renewAfter) return null;
    const halfUsed = (lease.end - this.next) * 2 <= lease.end - lease.first || this.budget * 2 <= lease.computeUnits;
    const aging = (now - this.leaseGrantedAt) * 4 >= (lease.expiresAt - this.leaseGrantedAt) * 3;
    if (!halfUsed && !aging) return null;
    this.renewing = this.requestLease(env, requestorStake, cost, now, { renewal: true })
      .then(
        (result) => {
          if (result.ok && this.lease) this.spare = result;
          else if (result.ok) {
            // The isolate fell idle and gave its lease back meanwhile: this one goes back too.
            this.returnLease(result.lease.id, result.lease.first, result.lease.computeUnits);
            return this.scheduleReport(env) ?? undefined;
          } else this.renewAfter = Date.now() + 1_000;
        },
        (error: unknown) => {
          console.error("lease renewal failed; the next relay takes one", this.session.sessionId, String(error));
          this.renewAfter = Date.now() + 1_000;
        },
      )
      .finally(() => {
        this.renewing = null;
      });
    return this.renewing;
  }

  async renewalSettled(): Promise<void> {
    await this.renewing;
  }

  /** Moves to the spare lease (the current one's unused tail goes back); false when there is none usable. */
  private adoptSpare(now: number): boolean {
    const spare = this.spare;
    if (!spare) return false;
    this.spare = null;
    if (now >= spare.lease.expiresAt) {
      this.returnLease(spare.lease.id, spare.lease.first, spare.lease.computeUnits);
      return false;
    }
    this.giveBack();
    this.adoptLease(spare, now);
    return true;
  }

  private take(cost: number, caller: CallerLocation, now: number): Admission {
    const lease = this.lease as Lease;
    const relayIndex = this.next++;
    this.budget -= cost;
    this.inFlight += 1;
    this.lastAdmittedAt = now;
    this.usedOfLease += 1;
    this.costEstimate = 0.9 * this.costEstimate + 0.1 * cost;
    return {
      ok: true,
      sessionId: this.session.sessionId,
      relayIndex,
      leaseId: lease.id,
      computeUnits: cost,
      candidates: this.candidates(caller, relayIndex, now),
      service: this.service as SessionService,
    };
  }

  /** Hosts for one relay, best first, from this isolate's view of their live state. */
  private candidates(caller: CallerLocation, relayIndex: number, now: number): SessionHost[] {
    if (this.hosts.length === 1) {
      const only = this.live.get(this.hosts[0].id) as LiveHost;
      if (only.breaker.state !== "closed" && availableNow(only.breaker, now)) admitThrough(only.breaker, now);
      return this.hosts;
    }
    const routable = this.hosts.map((host) => {
      const live = this.live.get(host.id) as LiveHost;
      return { ...host, quality: live.quality, available: availableNow(live.breaker, now) };
    });
    const ranked = rankHosts(routable, caller(), relayIndex);
    // The first choice is the one that will be tried: if its breaker is recovering, this is its trial.
    const first = ranked[0] && this.live.get(ranked[0].id);
    if (first && ranked[0].available && first.breaker.state !== "closed") admitThrough(first.breaker, now);
    return ranked.map(({ quality: _q, available: _a, ...host }) => host);
  }

  /** Takes a new lease (shared by every relay waiting for one), returning the current one's unused tail. */
  private acquire(env: Env, requestorStake: bigint, cost: number, now: number): Promise<LeaseResult> {
    if (this.acquiring) return this.acquiring;
    this.acquiring = this.requestLease(env, requestorStake, cost, now).finally(() => {
      this.acquiring = null;
    });
    return this.acquiring;
  }

  private async requestLease(
    env: Env,
    requestorStake: bigint,
    cost: number,
    now: number,
    { renewal = false } = {},
  ): Promise<LeaseResult> {
    // A lease used up quickly asks for more next time; one left mostly unused asks for less.
    const elapsed = Math.max(1, now - this.leaseGrantedAt);
    if (this.lease) {
      const rate = (this.usedOfLease * 1000) / elapsed;
      // A renewal is asked for halfway through the lease: it covers the rest of this window and the next.
      const window = renewal ? LEASE_WINDOW_MS * 1.5 : LEASE_WINDOW_MS;
      this.wantRelays = Math.ceil(Math.min(MAX_LEASE_RELAYS, Math.max(MIN_LEASE_RELAYS, (rate * window) / 1000)));
      if (!renewal) this.giveBack();
    }
    const relays = this.wantRelays;
    const computeUnits = Math.max(cost, Math.ceil(relays * Math.max(cost, this.costEstimate)));
    const report = this.takeReport();
    let result: LeaseResult;
    try {
      result = await relaySessionStub(env, this.session.sessionId).lease({
        coordinates: {
          requestorId: this.session.requestorId,
          serviceId: this.session.serviceId,
          epoch: this.session.epoch,
          ...(this.session.requirements ? { requirements: this.session.requirements } : {}),
        },
        requestorStake,
        relays,
        computeUnits,
        minimumComputeUnits: cost,
        now,
        report,
      });
    } catch (error) {
      this.restoreReport(report);
      throw error;
    }
    if (result.ok && !renewal) this.adoptLease(result, now);
    return result;
  }

  private adoptLease(result: GrantedLease, now: number): void {
    const { lease } = result;
    this.lease = lease;
    this.next = lease.first;
    this.budget = lease.computeUnits;
    this.leaseGrantedAt = now;
    this.usedOfLease = 0;
    this.hosts = result.hosts;
    this.service = result.service;
    this.endsAt = result.endsAt;
    this.adoptRouting(result.routing);
  }

  /** The object's view of the hosts replaces this isolate's (it merges every isolate's reports and the probes). */
  private adoptRouting(routing: HostRouting[]): void {
    for (const h of routing) this.live.set(h.id, { quality: h.quality, breaker: { ...h.breaker } });
  }

  /** Puts the current lease's unused tail in the next report, and drops the lease. */
  private giveBack(): void {
    if (!this.lease) return;
    this.returnLease(this.lease.id, this.next, Math.max(0, this.budget));
    this.lease = null;
    this.budget = 0;
  }

  /** Gives the current lease and the spare back (an idle isolate, or one shutting down). */
  private giveBackAll(): void {
    this.giveBack();
    if (this.spare) this.returnLease(this.spare.lease.id, this.spare.lease.first, this.spare.lease.computeUnits);
    this.spare = null;
  }

  private returnLease(leaseId: string, from: number, unusedComputeUnits: number): void {
    this.returned.push({ leaseId, from, unusedComputeUnits });
  }

  private breakerParameters(): BreakerParameters {
    return {
      threshold: this.config.breakerThreshold,
      cooldownMs: this.config.breakerCooldownMs,
      maxCooldownMs: this.config.breakerCooldownMs * 12,
    };
  }

  /**
   * Records a finished relay's receipt and its attempts; the receipt goes to the object with the
   * next report. What was `reserved` at admission and not charged (all of it for a failed relay,
   * the rest of a token-metered relay's bound) goes back: to this lease's budget, or through the
   * object when the isolate has moved to another lease meanwhile.
   */
  complete(
    receipt: ReportedReceipt,
    reserved: number,
    leaseId: string,
    observations: HostObservation[],
    now: number,
    shapes: readonly TrafficShape[] = [],
  ): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (this.queue.wake()) this.handedOff += 1;
    for (const shape of shapes) {
      const key = shapeKey(shape);
      if (this.shapes.length >= MAX_REPORTED_SHAPES || this.shapeKeys.has(key) || this.shapeKeys.size >= 4 * MAX_KEPT_SHAPES)
        continue;
      this.shapeKeys.add(key);
      this.shapes.push(shape);
    }
    const unused = receipt.outcome === "failed" ? reserved : reserved - receipt.computeUnits;
    if (unused > 0) {
      if (this.lease?.id === leaseId) this.budget += unused;
      else receipt.releasedComputeUnits = unused;
    }
    this.receipts.push(receipt);
    const profile = this.service ? DEFAULT_LATENCY_PROFILES[this.service.kind] : DEFAULT_LATENCY_PROFILES.jsonrpc;
    const breaker = this.breakerParameters();
    for (const o of observations) {
      const live = this.live.get(o.hostId);
      if (live) observeHost(live, o, now, profile, breaker);
      this.observations.push(o);
    }
  }

  /**
   * Reports within `RECEIPT_REPORT_MS` (at once when a batch waits). Returns the promise of that
   * report when this call scheduled it, for the caller's `waitUntil` (it settles when the report
   * has reached the object); null when a report already scheduled will carry the receipt. So one
   * request's context per report is kept alive, not every request's, and none for long.
   */
  scheduleReport(env: Env, chained = 0): Promise<void> | null {
    // A full batch goes from this request's context: the timer of the scheduled report belongs to
    // the request that set it, and another request's context may not touch it.
    if (this.receipts.length >= REPORT_BATCH) return this.reportNow(env, Date.now(), { chained });
    if (this.scheduled) return null;
    this.scheduled = new Promise<void>((resolve) => setTimeout(resolve, this.config.receiptReportMs)).then(() => {
      this.scheduled = null;
      return this.reportNow(env, Date.now(), { chained });
    });
    return this.scheduled;
  }

  /**
   * Sends what waits now; a lease idle for `LEASE_IDLE_MS`, or expired, goes back with it. While
   * a lease is still held and no report is scheduled, another report follows an interval later, so
   * the lease goes back once its isolate falls idle (else its unused indexes would end the session
   * `unreported`). A request's context carries at most `MAX_CHAINED_REPORTS` of those unless
   * nothing else is in flight to schedule the next one.
   */
  async reportNow(env: Env, now: number, { giveBackLease = false, chained = 0 } = {}): Promise<void> {
    if (this.reporting) await this.reporting;
    if (giveBackLease && this.renewing) await this.renewing;
    const idle = this.inFlight === 0 && now - this.lastAdmittedAt >= LEASE_IDLE_MS;
    if (idle && this.lease && !giveBackLease) this.idleReturns += 1;
    if (giveBackLease || idle) this.giveBackAll();
    else if (this.lease && now >= this.lease.expiresAt) this.giveBack();
    const report = this.takeReport();
    if (report) {
      this.reporting = relaySessionStub(env, this.session.sessionId)
        .report(report, now)
        .then(
          (answer: { routing: HostRouting[] }) => {
            // Between leases, the isolate follows what the object learned from everyone else.
            if (this.inFlight === 0) this.adoptRouting(answer.routing);
          },
          (error: unknown) => {
            console.error("receipt report failed; sent again with the next one", this.session.sessionId, String(error));
            this.restoreReport(report);
          },
        )
        .finally(() => {
          this.reporting = null;
        });
      await this.reporting;
    }
    if (!this.lease || giveBackLease || this.scheduled) return;
    // Relays in flight schedule the next report when they finish; otherwise this context does.
    if (chained >= MAX_CHAINED_REPORTS && this.inFlight > 0) return;
    await this.scheduleReport(env, chained + 1);
  }

  private takeReport(): ReceiptReport | undefined {
    if (this.receipts.length === 0 && this.observations.length === 0 && this.returned.length === 0) return undefined;
    const report: ReceiptReport = {
      receipts: this.receipts,
      observations: this.observations.slice(-10_000),
      returned: this.returned,
      ...(this.shapes.length ? { shapes: this.shapes } : {}),
    };
    this.shapes = [];
    this.receipts = [];
    this.observations = [];
    this.returned = [];
    return report;
  }

  private restoreReport(report: ReceiptReport | undefined): void {
    if (!report) return;
    this.receipts = [...report.receipts, ...this.receipts].slice(-MAX_HELD_RECEIPTS);
    this.observations = [...report.observations, ...this.observations].slice(-10_000);
    this.returned = [...report.returned, ...this.returned];
  }
}

/** The sessions this isolate serves, by session id. */
const sessions = new Map<string, SessionLeases>();

function leasesFor(session: SessionRef, config: GatewayConfig, now: number): SessionLeases {
  let leases = sessions.get(session.sessionId);
  if (!leases) {
    for (const [id, s] of sessions) if (s.finished(now)) sessions.delete(id);
    leases = new SessionLeases(session, config);
    sessions.set(session.sessionId, leases);
  }
  return leases;
}

/**
 * Admits a relay of `cost` compute units to its session in this isolate. The answer says which
 * relay index it has and which hosts to try, best first.
 */
export function admitRelay(
  env: Env,
  config: GatewayConfig,
  session: SessionRef,
  requestorStake: bigint,
  cost: number,
  caller: CallerLocation,
  now: number,
  keepAlive: (work: Promise<void>) => void,
  priority = DEFAULT_PRIORITY,
): Promise<Admission> {
  return leasesFor(session, config, now).admit(env, requestorStake, cost, caller, now, keepAlive, priority);
}

/**
 * By session in this isolate: admissions that waited for a lease from the session's object, and
 * leases given back because the isolate fell idle (after which the next relay waits). For tests.
 */
export function leaseStats(): Record<string, { waited: number; idleReturns: number }> {
  return Object.fromEntries([...sessions].map(([id, s]) => [id, { waited: s.waitedForLease, idleReturns: s.idleReturns }]));
}

/** Relays of a session waiting for a slot in this isolate (docs/market.md, "Priority"). For tests. */
export function waitingRelays(sessionId: string): number {
  return sessions.get(sessionId)?.waiting ?? 0;
}

/** Settles once every lease renewal under way in this isolate has (a deterministic trigger for tests). */
export async function leaseRenewalsSettled(): Promise<void> {
  await Promise.all([...sessions.values()].map((s) => s.renewalSettled()));
}

/**
 * Records a finished relay's receipt. Returns the promise of the report that will carry it when
 * this call scheduled that report (give it to `waitUntil`, so the receipt reaches the session's
 * object within `RECEIPT_REPORT_MS` even after the answer is sent), or null when an earlier
 * request's report will carry it.
 */
export function completeRelay(
  env: Env,
  admitted: Extract<Admission, { ok: true }>,
  receipt: ReportedReceipt,
  observations: HostObservation[],
  now: number,
  shapes: readonly TrafficShape[] = [],
): Promise<void> | null {
  const leases = sessions.get(admitted.sessionId);
  if (!leases) return null;
  leases.complete(receipt, admitted.computeUnits, admitted.leaseId, observations, now, shapes);
  return leases.scheduleReport(env);
}

/**
 * Reports every waiting receipt of every session now and gives every lease back, as an isolate
 * that falls idle does (a deterministic trigger for tests and for a graceful shutdown; in
 * production the report interval does it). With `giveBackLease: false` it is the report timer's
 * own step at `now`: leases go back only when idle for `LEASE_IDLE_MS` or expired.
 */
export async function reportAllReceipts(env: Env, now = Date.now(), { giveBackLease = true } = {}): Promise<void> {
  await Promise.all([...sessions.values()].map((s) => s.reportNow(env, now, { giveBackLease })));
}

/** Forgets every lease and waiting receipt without reporting them: what an isolate that dies does (tests simulate it). */
export function dropAllLeases(): void {
  sessions.clear();
}
